package io.panllm.cli.chat;

/**
 * Puts lines together into messages, the same way on a terminal and through a pipe: a line that
 * ends with a backslash continues on the next one (the backslash is dropped), and a block opened
 * by a line starting with {@code """} runs until a line ending with {@code """} (the quotes are
 * dropped, everything between is kept as typed, backslashes included). Nothing else in the text is
 * touched. A pasted line holding several lines counts as one line.
 */
final class MultiLineInput {
    private static final String BLOCK = "\"\"\"";

    private final StringBuilder pending = new StringBuilder();
    private boolean inBlock;
    private boolean continuing;

    /** Adds a line; returns the message it completes, or null while the message goes on. */
    String accept(String line) {
        if (inBlock) {
            if (line.endsWith(BLOCK)) {
                String last = line.substring(0, line.length() - BLOCK.length());
                if (last.isEmpty() && !pending.isEmpty()) { // a closing line of its own ends the previous line
                    pending.setLength(pending.length() - 1);
                }
                return take(last);
            }
            pending.append(line).append('\n');
            return null;
        }
        if (!continuing && line.startsWith(BLOCK)) {
            String rest = line.substring(BLOCK.length());
            if (rest.length() >= BLOCK.length() && rest.endsWith(BLOCK)) { // """one line"""
                return take(rest.substring(0, rest.length() - BLOCK.length()));
            }
            inBlock = true;
            if (!rest.isEmpty()) {
                pending.append(rest).append('\n');
            }
            return null;
        }
        if (line.endsWith("\\")) {
            continuing = true;
            pending.append(line, 0, line.length() - 1).append('\n');
            return null;
        }
        return take(line);
    }

    /** Whether a message is under way (the prompt shows it). */
    boolean pending() {
        return inBlock || continuing;
    }

    /** At the end of the input: what was under way, or null. */
    String finish() {
        if (!pending()) {
            return null;
        }
        String last = pending.toString();
        reset();
        return last.endsWith("\n") ? last.substring(0, last.length() - 1) : last;
    }

    /** Forgets a message under way (Ctrl-C at a continuation prompt). */
    void reset() {
        pending.setLength(0);
        inBlock = false;
        continuing = false;
    }

    private String take(String lastLine) {
        String message = pending.append(lastLine).toString();
        reset();
        return message;
    }
}
