package io.panllm.kernels;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Finds and loads the CUDA driver ({@code libcuda.so.1}) and cuBLAS ({@code libcublas.so.13}, else
 * {@code .12}) by absolute path with {@link System#load}. The jextract bindings are generated
 * without {@code --library} and resolve symbols through the class loader's lookup, so one of these
 * methods must run before the first call into {@code cuda_h} or {@code cublas_h}.
 *
 * <p>Searched, in order: {@code LD_LIBRARY_PATH}, the directories of {@code /etc/ld.so.conf} (and
 * its includes), the usual system library directories, the NVIDIA container driver directory,
 * {@code /usr/local/cuda*}/lib64 and /targets/{arch}/lib, and pip's {@code site-packages/nvidia/}{pkg}/lib.
 * A missing library is a {@link CudaUnavailableException} naming every directory searched.
 */
public final class NativeLibraries {
    private static boolean driverLoaded;
    private static boolean cublasLoaded;

    private NativeLibraries() {
    }

    /** Loads libcuda.so.1 once; later calls return at once. */
    public static synchronized void loadDriver() {
        if (!driverLoaded) {
            load("CUDA driver", List.of("libcuda.so.1", "libcuda.so"), searchDirectories());
            driverLoaded = true;
        }
    }

    /** Loads libcublas (13, else 12) once, after the driver. */
    public static synchronized void loadCublas() {
        loadDriver();
        if (!cublasLoaded) {
            load("cuBLAS", List.of("libcublas.so.13", "libcublas.so.12"), searchDirectories());
            cublasLoaded = true;
        }
    }

    /** Loads the first of {@code fileNames} found in {@code directories} (names in order of preference). */
    static Path load(String what, List<String> fileNames, List<Path> directories) {
        Path found = find(what, fileNames, directories);
        if (!isElfFile(found)) {
            throw new CudaUnavailableException("no " + what + " found: " + found + " exists but could not be loaded: "
                    + "it is not an ELF shared library");
        }
        try {
            System.load(found.toString());
        } catch (UnsatisfiedLinkError e) {
            throw new CudaUnavailableException("no " + what + " found: " + found + " exists but could not be loaded: "
                    + e.getMessage(), e);
        }
        return found;
    }

    private static boolean isElfFile(Path file) {
        try (var in = Files.newInputStream(file)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 0x7F && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
        } catch (IOException e) {
            return false;
        }
    }

    static Path find(String what, List<String> fileNames, List<Path> directories) {
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
            throw new CudaUnavailableException("no " + what + " found: only Linux is supported, this is "
                    + System.getProperty("os.name"));
        }
        for (String fileName : fileNames) {
            for (Path directory : directories) {
                Path candidate = directory.resolve(fileName);
                if (Files.isRegularFile(candidate)) {
                    return candidate;
                }
            }
        }
        throw new CudaUnavailableException("no " + what + " found: none of " + fileNames + " in " + directories);
    }

    /** Every directory that may hold the CUDA libraries, existing ones only, without duplicates. */
    static List<Path> searchDirectories() {
        Set<Path> directories = new LinkedHashSet<>();
        String ldLibraryPath = System.getenv("LD_LIBRARY_PATH");
        if (ldLibraryPath != null) {
            for (String entry : ldLibraryPath.split(":")) {
                if (!entry.isBlank()) {
                    directories.add(Path.of(entry));
                }
            }
        }
        directories.addAll(ldSoConfDirectories(Path.of("/etc/ld.so.conf"), 0));
        for (String system : List.of("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64",
                "/lib", "/usr/lib", "/usr/local/nvidia/lib64", "/usr/lib/wsl/lib")) {
            directories.add(Path.of(system));
        }
        for (Path cuda : glob(Path.of("/usr/local"), "cuda*")) {
            directories.add(cuda.resolve("lib64"));
            directories.addAll(glob(cuda.resolve("targets"), "*").stream().map(t -> t.resolve("lib")).toList());
        }
        for (Path sitePackages : sitePackages()) {
            directories.addAll(glob(sitePackages.resolve("nvidia"), "*").stream().map(p -> p.resolve("lib")).toList());
        }
        return directories.stream().filter(Files::isDirectory).toList();
    }

    /** The directories listed in an ld.so.conf file, following its {@code include} lines (a glob each). */
    private static List<Path> ldSoConfDirectories(Path confFile, int depth) {
        List<Path> directories = new ArrayList<>();
        if (depth > 4 || !Files.isRegularFile(confFile)) {
            return directories;
        }
        try {
            for (String line : Files.readAllLines(confFile)) {
                String entry = line.strip();
                if (entry.isEmpty() || entry.startsWith("#")) {
                    continue;
                }
                if (entry.startsWith("include ")) {
                    Path pattern = Path.of(entry.substring("include ".length()).strip());
                    Path parent = pattern.isAbsolute() ? pattern.getParent() : confFile.getParent().resolve(pattern).getParent();
                    for (Path included : glob(parent, pattern.getFileName().toString())) {
                        directories.addAll(ldSoConfDirectories(included, depth + 1));
                    }
                } else if (entry.startsWith("/")) {
                    directories.add(Path.of(entry));
                }
            }
        } catch (IOException | RuntimeException e) {
            // An unreadable ld.so.conf only narrows the search; the other directories still count.
        }
        return directories;
    }

    private static List<Path> sitePackages() {
        List<Path> found = new ArrayList<>();
        for (String root : List.of("/usr/lib", "/usr/local/lib", System.getProperty("user.home") + "/.local/lib", "/opt")) {
            for (Path python : glob(Path.of(root), "python3*")) {
                found.add(python.resolve("site-packages"));
                found.add(python.resolve("dist-packages"));
            }
            // virtual environments under /opt (e.g. /opt/torch/.venv/lib/python3.12/site-packages)
            for (Path venv : glob(Path.of(root), "*")) {
                for (Path python : glob(venv.resolve(".venv/lib"), "python3*")) {
                    found.add(python.resolve("site-packages"));
                }
            }
        }
        return found;
    }

    private static List<Path> glob(Path directory, String pattern) {
        List<Path> matches = new ArrayList<>();
        if (directory == null || !Files.isDirectory(directory)) {
            return matches;
        }
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory, pattern)) {
            stream.forEach(matches::add);
        } catch (IOException | RuntimeException e) {
            // unreadable directory: nothing found there
        }
        matches.sort(null);
        return matches;
    }
}
