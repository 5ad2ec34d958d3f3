package io.panllm.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.panllm.gguf.GgufFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** panllm imatrix and convert --imatrix through the CLI, on the trained stories260K model. */
class ImatrixCliTest {

    @Test
    void imatrixInBothFormatsThenConvertWithEach(@TempDir Path dir) throws Exception {
        Path f32 = dir.resolve("stories-f32.gguf");
        Cli.Result c = Cli.run("convert", Cli.home("models/stories260K/stories260K_q80.bin").toString(), "--type", "f32", "-o", f32.toString());
        assertThat(c.exitCode()).as(c.err()).isZero();
        Path text = dir.resolve("calib.txt");
        Files.writeString(text, Files.readString(Cli.data("wikitext-2/wiki.test.raw")).substring(0, 3000));

        Path gguf = dir.resolve("imatrix.gguf");
        Cli.Result g = Cli.run("imatrix", "-m", f32.toString(), "-f", text.toString(), "-o", gguf.toString(), "-c", "64", "--chunks", "2", "-t", "1");
        assertThat(g.exitCode()).as(g.err()).isZero();
        assertThat(g.out()).contains("35 tensors, 2 chunks of 64 tokens");
        try (GgufFile f = GgufFile.open(gguf)) {
            assertThat(f.metadata().getString("general.type")).isEqualTo("imatrix");
        }
        Path dat = dir.resolve("imatrix.dat");
        Cli.Result d = Cli.run("imatrix", "-m", f32.toString(), "-f", text.toString(), "-o", dat.toString(), "-c", "64", "--chunks", "2", "-t", "1");
        assertThat(d.exitCode()).as(d.err()).isZero();
        assertThat(d.out()).contains("legacy .dat");

        for (Path imatrix : new Path[] {gguf, dat}) {
            Path out = dir.resolve("q4_0-" + imatrix.getFileName() + ".gguf");
            Cli.Result q = Cli.run("convert", f32.toString(), "q4_0", "--imatrix", imatrix.toString(), "-o", out.toString());
            assertThat(q.exitCode()).as(q.err()).isZero();
            assertThat(q.out()).contains("30 tensors quantized with importance weights");
        }
        // the two formats hold the same importance (up to the .dat's float rounding), so mostly the same bytes
        assertThat(Files.size(dir.resolve("q4_0-imatrix.gguf.gguf"))).isEqualTo(Files.size(dir.resolve("q4_0-imatrix.dat.gguf")));
    }

    @Test
    void badInputsGiveOneLineAndTheDocumentedExitCode(@TempDir Path dir) throws Exception {
        Path text = dir.resolve("calib.txt");
        Files.writeString(text, "Once upon a time");
        Cli.Result zero = Cli.run("imatrix", "-m", "x.gguf", "-f", text.toString(), "-c", "0");
        assertThat(zero.exitCode()).isEqualTo(2);
        assertThat(zero.err()).contains("-c");
        Cli.Result self = Cli.run("imatrix", "-m", text.toString(), "-f", text.toString(), "-o", text.toString());
        assertThat(self.exitCode()).isEqualTo(2);
        assertThat(self.err()).contains("is the input");
        Cli.Result notGguf = Cli.run("imatrix", "-m", text.toString(), "-f", text.toString(), "-o", dir.resolve("o.gguf").toString());
        assertThat(notGguf.exitCode()).isEqualTo(1);
        assertThat(notGguf.err().lines().count()).isEqualTo(1);
        assertThat(dir.resolve("o.gguf")).doesNotExist();

        Path garbage = dir.resolve("garbage.dat");
        Files.write(garbage, new byte[] {1, 0, 0, 0, 100, 0, 0, 0});
        Cli.Result conv = Cli.run("convert", "--random-init", "tiny", "--type", "q4_0", "--imatrix", garbage.toString(),
                "-o", dir.resolve("t.gguf").toString());
        assertThat(conv.exitCode()).isEqualTo(1);
        assertThat(conv.err()).contains("garbage.dat");
        assertThat(dir.resolve("t.gguf")).doesNotExist();
    }
}
