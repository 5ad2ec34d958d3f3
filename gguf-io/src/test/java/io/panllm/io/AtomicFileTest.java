package io.panllm.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFileTest {

    private static long partials(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".partial")).count();
        }
    }

    @Test
    void failedWriteLeavesTheTargetAndNoPartial(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("x.gguf");
        Files.writeString(target, "old");
        assertThatThrownBy(() -> AtomicFile.write(target, out -> {
            out.write(java.nio.ByteBuffer.wrap(new byte[100]));
            throw new IllegalStateException("boom");
        })).hasMessage("boom");
        assertThat(Files.readString(target)).isEqualTo("old");
        assertThat(partials(dir)).isZero();
    }

    @Test
    void writeErrorsNameTheTargetNotTheTemporary(@TempDir Path dir) {
        Path target = dir.resolve("x.gguf");
        assertThatThrownBy(() -> AtomicFile.write(target, out -> {
            out.close(); // the channel fails as a full disk would
            out.write(java.nio.ByteBuffer.allocate(1));
        })).hasMessageContaining(target.toString()).hasMessageNotContaining(".partial");
        assertThatThrownBy(() -> AtomicFile.write(target, out -> {
            throw new IOException("input.gguf: truncated");
        })).as("errors of the inputs pass as they are").hasMessage("input.gguf: truncated");
        Path notADirectory = dir.resolve("file");
        assertThatThrownBy(() -> {
            Files.writeString(notADirectory, "");
            AtomicFile.write(notADirectory.resolve("y.gguf"), new byte[1]);
        }).hasMessageContaining("y.gguf").hasMessageNotContaining(".partial");
    }

    @Test
    void partialsOfDeadWritersAreRemovedAndLiveOnesKept(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("m.gguf");
        Process dead = new ProcessBuilder("true").start();
        dead.waitFor();
        Path ofDead = Files.writeString(dir.resolve(".m.gguf." + dead.pid() + "-123.partial"), "litter");
        Path legacy = Files.writeString(dir.resolve(".m.gguf.98765.partial"), "litter from an older version");
        Files.setLastModifiedTime(legacy, FileTime.from(Instant.parse("2020-01-01T00:00:00Z")));
        Path live = Files.writeString(dir.resolve(".m.gguf." + ProcessHandle.current().pid() + "-7.partial"), "being written");
        Path otherTarget = Files.writeString(dir.resolve(".other.gguf." + dead.pid() + "-1.partial"), "not ours");

        AtomicFile.write(target, new byte[] {1, 2, 3});

        assertThat(ofDead).doesNotExist();
        assertThat(legacy).doesNotExist();
        assertThat(live).exists();
        assertThat(otherTarget).exists();
        assertThat(Files.readAllBytes(target)).containsExactly(1, 2, 3);
    }

    @Test
    void uncommittedFilesAreRegisteredForTheShutdownHook(@TempDir Path dir) throws IOException {
        try (AtomicFile f = AtomicFile.create(dir.resolve("z.bin"))) {
            assertThat(f.temporary()).exists();
            assertThat(f.temporary().getFileName().toString()).startsWith(".z.bin." + ProcessHandle.current().pid() + "-");
            TemporaryFiles.deleteAll(); // what SIGINT's shutdown hook or a second Ctrl-C does
            assertThat(f.temporary()).doesNotExist();
        }
    }
}
