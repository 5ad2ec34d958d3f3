package io.panllm.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes a file through a temporary one beside it, renamed over the target only once everything
 * was written and forced to disk: a reader never sees a half-written file, and a failure leaves the
 * target as it was and no temporary behind. The temporary, {@code .NAME.PID-N.partial}, is deleted
 * on every exit path that runs code: an exception, System.exit, SIGINT or SIGTERM
 * ({@link TemporaryFiles}). After a SIGKILL or a power cut nothing can run, so each write first
 * removes the partials of the same target whose process is gone (the PID in the name), and
 * unnamed older ones left before this process started. Errors name the target, not the temporary.
 */
public final class AtomicFile implements AutoCloseable {
    private static final String SUFFIX = ".partial";

    private final Path target;
    private final Path temporary;
    private final FileChannel channel;
    private boolean committed;

    private AtomicFile(Path target) throws IOException {
        this.target = target;
        Path dir = target.toAbsolutePath().getParent();
        try {
            Files.createDirectories(dir);
            removeStalePartials(target);
            long pid = ProcessHandle.current().pid();
            Path tmp;
            do {
                tmp = dir.resolve("." + target.getFileName() + "." + pid + "-" + ThreadLocalRandom.current().nextInt(1 << 30) + SUFFIX);
            } while (Files.exists(tmp));
            temporary = tmp;
            TemporaryFiles.register(temporary);
            channel = FileChannel.open(temporary, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw aboutTarget(e);
        }
    }

    /** Starts writing {@code target}: write through {@link #channel()}, then {@link #commit()}; close without a commit discards. */
    public static AtomicFile create(Path target) throws IOException {
        return new AtomicFile(target);
    }

    public FileChannel channel() {
        return channel;
    }

    /** The file being written, beside the target (for tests). */
    public Path temporary() {
        return temporary;
    }

    /** Forces the data to disk and renames the temporary over the target. */
    public void commit() throws IOException {
        try {
            channel.force(false);
            channel.close();
            readableByAll(temporary);
            Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            committed = true;
            TemporaryFiles.deregister(temporary);
        } catch (IOException e) {
            throw aboutTarget(e);
        }
    }

    /** Deletes the temporary unless it was committed. */
    @Override
    public void close() throws IOException {
        if (!committed) {
            try {
                channel.close();
                Files.deleteIfExists(temporary);
            } finally {
                TemporaryFiles.deregister(temporary);
            }
        }
    }

    /** Writes the content through the channel it is given. */
    @FunctionalInterface
    public interface Body {
        void write(FileChannel out) throws IOException;
    }

    public static void write(Path target, Body body) throws IOException {
        try (AtomicFile file = create(target)) {
            try {
                body.write(file.channel);
            } catch (IOException e) {
                // The body also reads its inputs: only the errors of the output are renamed.
                throw writingTheChannel(e) ? file.aboutTarget(e) : e;
            }
            file.commit();
        }
    }

    public static void write(Path target, byte[] content) throws IOException {
        write(target, out -> writeFully(out, ByteBuffer.wrap(content)));
    }

    /** Writes every remaining byte of the buffer (a channel may take fewer per call). */
    public static void writeFully(FileChannel out, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            out.write(buffer);
        }
    }

    /** Whether {@code e} came from a write to the file (a full disk), not from the data's source. */
    private static boolean writingTheChannel(IOException e) {
        if (e instanceof FileSystemException f) {
            return f.getFile() != null && f.getFile().endsWith(SUFFIX);
        }
        StackTraceElement[] frames = e.getStackTrace();
        for (int i = 0; i < Math.min(frames.length, 8); i++) {
            if (frames[i].getClassName().startsWith("sun.nio.ch.")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The error of a write, naming the target: the temporary's name means nothing to the user. An
     * error about another file (an input read while writing) passes as it is.
     */
    public IOException aboutTarget(IOException e) {
        return aboutTarget(e, target);
    }

    private static IOException aboutTarget(IOException e, Path target) {
        if (e instanceof FileSystemException f && f.getFile() != null && !f.getFile().endsWith(SUFFIX)
                && !Path.of(f.getFile()).equals(target.toAbsolutePath().getParent())) {
            return e;
        }
        String reason = e instanceof FileSystemException f ? f.getReason() : e.getMessage();
        if (e instanceof AccessDeniedException) {
            return new AccessDeniedException(target.toString(), null, reason);
        }
        if (e instanceof NoSuchFileException) {
            return new NoSuchFileException(target.toString(), null, "no such directory");
        }
        return new IOException("cannot write " + target + (reason == null ? "" : ": " + reason), e);
    }

    private static final Pattern PARTIAL = Pattern.compile("\\.(?:(\\d{1,18})-)?\\d+" + Pattern.quote(SUFFIX));

    /**
     * Deletes the partials of {@code target} that no running writer owns: the process of the PID
     * in the name is gone, or (names without a PID, from older versions) the file predates this
     * process.
     */
    static void removeStalePartials(Path target) {
        Path dir = target.toAbsolutePath().getParent();
        String prefix = "." + target.getFileName();
        Instant started = ProcessHandle.current().info().startInstant().orElse(Instant.EPOCH);
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, prefix + ".*" + SUFFIX)) {
            for (Path p : entries) {
                Matcher m = PARTIAL.matcher(p.getFileName().toString().substring(prefix.length()));
                if (!m.matches()) {
                    continue;
                }
                Instant modified = Files.getLastModifiedTime(p).toInstant();
                boolean stale = m.group(1) != null
                        ? ProcessHandle.of(Long.parseLong(m.group(1))).filter(ProcessHandle::isAlive)
                                // a PID reused by a process that started after the file was last written is not its writer
                                .map(h -> h.info().startInstant().map(s -> s.isAfter(modified)).orElse(false)).orElse(true)
                        : modified.isBefore(started);
                if (stale) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException | RuntimeException e) {
            // Litter that cannot be removed must not stop the write.
        }
    }

    /** Files are created owner-only; model files and reports are for whoever reads the folder. */
    private static void readableByAll(Path file) throws IOException {
        if (Files.getFileStore(file).supportsFileAttributeView("posix")) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        }
    }
}
