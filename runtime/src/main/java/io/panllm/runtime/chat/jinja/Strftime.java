package io.panllm.runtime.chat.jinja;

import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.TextStyle;
import java.time.temporal.ChronoField;
import java.util.Locale;

/** Python's {@code datetime.strftime} for the C locale, the directives chat templates use. */
final class Strftime {
    private Strftime() {
    }

    static String format(LocalDateTime t, String pattern) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c != '%' || i + 1 == pattern.length()) {
                out.append(c);
                continue;
            }
            char d = pattern.charAt(++i);
            out.append(switch (d) {
                case 'd' -> two(t.getDayOfMonth());
                case 'e' -> String.format("%2d", t.getDayOfMonth());
                case 'm' -> two(t.getMonthValue());
                case 'Y' -> Integer.toString(t.getYear());
                case 'y' -> two(t.getYear() % 100);
                case 'H' -> two(t.getHour());
                case 'I' -> two((t.getHour() + 11) % 12 + 1);
                case 'M' -> two(t.getMinute());
                case 'S' -> two(t.getSecond());
                case 'p' -> t.getHour() < 12 ? "AM" : "PM";
                case 'j' -> String.format("%03d", t.getDayOfYear());
                case 'f' -> String.format("%06d", t.get(ChronoField.MICRO_OF_SECOND));
                case 'b', 'h' -> t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
                case 'B' -> t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
                case 'a' -> t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
                case 'A' -> t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
                case 'w' -> Integer.toString(t.getDayOfWeek().getValue() % 7);
                case 'F' -> t.format(DateTimeFormatter.ISO_LOCAL_DATE);
                case 'T' -> t.format(DateTimeFormatter.ofPattern("HH:mm:ss"));
                case '%' -> "%";
                default -> "%" + d;
            });
        }
        return out.toString();
    }

    private static String two(int n) {
        return String.format("%02d", n);
    }
}
