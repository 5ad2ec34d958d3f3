package io.panllm.safetensors;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SafetensorsHostileInputTest {
    @TempDir
    Path dir;

    private Path file(long headerLength, String json, int dataBytes) throws Exception {
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(headerLength).put(header);
        Path f = dir.resolve("x.safetensors");
        Files.write(f, buf.array());
        return f;
    }

    private Path file(String json, int dataBytes) throws Exception {
        return file(json.getBytes(StandardCharsets.UTF_8).length, json, dataBytes);
    }

    private void assertRefused(Path f, String messagePart) {
        assertThatThrownBy(() -> SafetensorsFile.open(f).close())
                .isInstanceOf(SafetensorsException.class)
                .hasMessageContaining(f.toString())
                .hasMessageContaining(messagePart);
    }

    @Test
    void headerLengthLargerThanTheFile() throws Exception {
        assertRefused(file(1000, "{}", 0), "header length 1000");
    }

    @Test
    void headerLengthAbsurd() throws Exception {
        assertRefused(file(-1, "{}", 0), "header length 18446744073709551615");
        assertRefused(file(200_000_000L, "{}", 0), "limit");
    }

    @Test
    void fileTooShort() throws Exception {
        Path f = dir.resolve("short.safetensors");
        Files.write(f, new byte[] {1, 2, 3});
        assertRefused(f, "too short");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "{\"a\": |not valid JSON",
        "[1,2]|does not start with '{'",
        "{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,1]}}|unknown dtype 'Q4'",
        "{\"a\":{\"shape\":[1],\"data_offsets\":[0,1]}}|no dtype",
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,1]}}|not a non-negative integer",
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[1.5],\"data_offsets\":[0,1]}}|not a non-negative integer",
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}|data_offsets is not an array of 2",
        "{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}|overflows",
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}}|not a non-negative integer",
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,40]}}|outside the data area",
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,2]}}|outside the data area",
        "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,4]}}|needs 16",
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}|overlap",
        "{\"__metadata__\":{\"k\":1}}|not a string",
        "{\"__metadata__\":[]}|not an object",
        "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}|Duplicate field",
        "{\"a\":5}|not an object",
    })
    void malformedHeaders(String json, String message) throws Exception {
        assertRefused(file(json, 8), message);
    }

    @Test
    void invalidUtf8Header() throws Exception {
        Path f = dir.resolve("utf.safetensors");
        ByteBuffer buf = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putLong(4).put(new byte[] {'{', (byte) 0xC3, '}', ' '});
        Files.write(f, buf.array());
        assertRefused(f, "UTF-8");
    }

    @Test
    void missingFile() {
        assertRefused(dir.resolve("absent.safetensors"), "no such file");
    }
}
