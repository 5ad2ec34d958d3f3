package io.panllm.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Maps a whole file read-only into a shared arena and hands it to a parser, which takes over
 * the arena (closing it closes the mapping). If opening or parsing fails, the arena is closed
 * here and the failure is reported through the format's own exception type.
 */
public final class MappedFile {
    private MappedFile() {
    }

    /**
     * @param parse builds the reader from (arena, mapping); it owns the arena from then on
     * @param error makes the format's exception from a one-line message
     */
    public static <T> T open(Path path, BiFunction<Arena, MemorySegment, T> parse, Function<String, RuntimeException> error) {
        Arena arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment mapping = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size(), arena);
            return parse.apply(arena, mapping);
        } catch (NoSuchFileException e) {
            arena.close();
            throw error.apply(path + ": no such file");
        } catch (IOException e) {
            arena.close();
            throw error.apply(path + ": cannot read: " + e.getMessage());
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }
}
