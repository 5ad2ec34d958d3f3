package io.panllm.runtime.tokenizer;

import java.util.List;

/** Splits text into the words that byte-level BPE encodes one at a time. */
interface PreTokenizer {
    List<String> split(String text);
}
