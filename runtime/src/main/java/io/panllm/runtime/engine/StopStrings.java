package io.panllm.runtime.engine;

import java.util.List;

/**
 * Finds stop strings in generated text that arrives in pieces. Text that could be the start of a
 * stop string is held back until the next pieces show whether it is one, so a stop string split
 * over several tokens is found and never sent to the client.
 */
final class StopStrings {
    private final List<String> stops;
    private final StringBuilder held = new StringBuilder();
    private boolean stopped;

    StopStrings(List<String> stops) {
        this.stops = stops;
    }

    /** Adds a piece of text and returns what can be released now (possibly empty). */
    String accept(String piece) {
        if (stopped) {
            return "";
        }
        held.append(piece);
        if (stops.isEmpty()) {
            return take(held.length());
        }
        int first = -1;
        for (String stop : stops) {
            int at = held.indexOf(stop);
            if (at >= 0 && (first < 0 || at < first)) {
                first = at;
            }
        }
        if (first >= 0) {
            stopped = true;
            String released = held.substring(0, first);
            held.setLength(0);
            return released;
        }
        return take(held.length() - longestPartialStop());
    }

    /** Whether a stop string was found; the text from it on is dropped. */
    boolean stopped() {
        return stopped;
    }

    /** The text still held back, released at the end of generation (an unfinished stop string is just text). */
    String flush() {
        return take(held.length());
    }

    /** Length of the longest suffix of the held text that is a proper prefix of a stop string. */
    private int longestPartialStop() {
        int longest = 0;
        String text = held.toString();
        for (String stop : stops) {
            for (int n = Math.min(stop.length() - 1, held.length()); n > longest; n--) {
                if (text.regionMatches(text.length() - n, stop, 0, n)) {
                    longest = n;
                    break;
                }
            }
        }
        return longest;
    }

    private String take(int count) {
        String out = held.substring(0, count);
        held.delete(0, count);
        return out;
    }
}
