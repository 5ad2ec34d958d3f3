package io.panllm.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsCheckpointTest {
    @TempDir
    Path dir;

    void shard(String file, String... names) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter().putMetadata("format", "pt");
        for (String name : names) {
            w.add(name, SafetensorsDtype.F32, new long[] {2}, SafetensorsWriter.floats(new float[] {name.length(), name.hashCode()}));
        }
        w.write(dir.resolve(file));
    }

    void index(String weightMapJson) throws IOException {
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE),
                "{\"metadata\": {\"total_size\": 32}, \"weight_map\": " + weightMapJson + "}");
    }

    @Test
    void shardedCheckpointIsOneView() throws IOException {
        shard("model-00001-of-00002.safetensors", "a.weight", "b.weight");
        shard("model-00002-of-00002.safetensors", "c.weight", "d.weight");
        index("{\"a.weight\": \"model-00001-of-00002.safetensors\", \"c.weight\": \"model-00002-of-00002.safetensors\","
                + " \"b.weight\": \"model-00001-of-00002.safetensors\", \"d.weight\": \"model-00002-of-00002.safetensors\"}");
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertThat(c.shards()).hasSize(2);
            assertThat(c.names()).containsExactly("a.weight", "c.weight", "b.weight", "d.weight");
            assertThat(c.tensor("d.weight").toFloats()).containsExactly(8f, (float) "d.weight".hashCode());
            assertThat(c.has("e.weight")).isFalse();
            assertThat(c.tensor("e.weight")).isNull();
            assertThat(c.metadata()).containsExactly(Map.entry("format", "pt"));
            assertThatThrownBy(() -> c.require("e.weight")).isInstanceOf(SafetensorsException.class)
                    .hasMessageContaining("'e.weight'").hasMessageContaining(SafetensorsCheckpoint.INDEX_FILE);
        }
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir.resolve(SafetensorsCheckpoint.INDEX_FILE))) {
            assertThat(c.names()).hasSize(4);
        }
    }

    @Test
    void singleFileCheckpoint() throws IOException {
        shard(SafetensorsCheckpoint.SINGLE_FILE, "x", "y");
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir)) {
            assertThat(c.names()).containsExactly("x", "y");
            assertThat(c.require("y").toFloats()[0]).isEqualTo(1f);
        }
        try (SafetensorsCheckpoint c = SafetensorsCheckpoint.open(dir.resolve(SafetensorsCheckpoint.SINGLE_FILE))) {
            assertThat(c.shards()).hasSize(1);
        }
    }

    @Test
    void badIndexesAreTypedErrors() throws IOException {
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("neither");
        shard("s1.safetensors", "a");
        index("{\"a\": \"s1.safetensors\", \"b\": \"s1.safetensors\"}");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("'b'").hasMessageContaining("does not hold it");
        index("{\"a\": \"../s1.safetensors\"}");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("not a file name");
        index("{\"a\": \"missing.safetensors\"}");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("no such file");
        index("{\"a\": 3}");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("not a file name");
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), "{\"weight_map\": ");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("malformed JSON");
        Files.writeString(dir.resolve(SafetensorsCheckpoint.INDEX_FILE), "{}");
        assertThatThrownBy(() -> SafetensorsCheckpoint.open(dir)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("no weight_map");
    }
}
