package io.panllm.kernels;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

class NativeLibrariesTest {
    @Test
    void missingLibraryIsATypedErrorNamingWhatWasSearched(@TempDir Path empty) {
        assertThatThrownBy(() -> NativeLibraries.find("CUDA driver", List.of("libcuda.so.1"), List.of(empty)))
                .isInstanceOf(CudaUnavailableException.class)
                .hasMessageStartingWith("no CUDA driver found: ")
                .hasMessageContaining("libcuda.so.1")
                .hasMessageContaining(empty.toString());
    }

    @Test
    void prefersTheFirstNameThenTheFirstDirectory(@TempDir Path root) throws IOException {
        Path first = Files.createDirectory(root.resolve("first"));
        Path second = Files.createDirectory(root.resolve("second"));
        Files.createFile(second.resolve("libcublas.so.13"));
        Files.createFile(first.resolve("libcublas.so.12"));
        Files.createFile(second.resolve("libcublas.so.12"));

        assertThat(NativeLibraries.find("cuBLAS", List.of("libcublas.so.13", "libcublas.so.12"), List.of(first, second)))
                .isEqualTo(second.resolve("libcublas.so.13"));
        assertThat(NativeLibraries.find("cuBLAS", List.of("libcublas.so.12"), List.of(first, second)))
                .isEqualTo(first.resolve("libcublas.so.12"));
    }

    @Test
    void aFileThatIsNoLibraryFailsCleanly(@TempDir Path root) throws IOException {
        Files.writeString(root.resolve("libcuda.so.1"), "not an ELF file");
        assertThatThrownBy(() -> NativeLibraries.load("CUDA driver", List.of("libcuda.so.1"), List.of(root)))
                .isInstanceOf(CudaUnavailableException.class)
                .hasMessageContaining("could not be loaded");
    }

    @Test
    void searchListsOnlyExistingDirectories() {
        assertThat(NativeLibraries.searchDirectories()).allMatch(Files::isDirectory).doesNotHaveDuplicates();
    }

    @Test
    void openingAContextEitherWorksOrSaysWhyNot() {
        // On a machine without a GPU this must be a CudaUnavailableException, never a linkage error or a crash.
        Throwable thrown = catchThrowable(() -> {
            try (CudaContext context = CudaContext.open(0)) {
                assertThat(context.device().name()).isNotBlank();
            }
        });
        if (thrown != null) {
            assertThat(thrown).isInstanceOf(CudaUnavailableException.class);
            assertThat(thrown.getMessage()).startsWith("no CUDA");
        }
    }
}
