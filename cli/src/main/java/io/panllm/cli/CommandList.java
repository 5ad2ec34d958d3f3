package io.panllm.cli;

import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The "Commands:" section of {@code panllm --help}: each command with its header, or else the
 * whole first paragraph of its description, wrapped at spaces to the help's width. Picocli's own
 * list shows only the first line of a description, which cuts most of ours mid-sentence.
 */
final class CommandList implements CommandLine.IHelpSectionRenderer {

    @Override
    public String render(Help help) {
        Map<String, Help> commands = help.subcommands();
        if (commands.isEmpty()) {
            return "";
        }
        int indent = 2 + commands.keySet().stream().mapToInt(String::length).max().orElse(0) + 2;
        int width = help.commandSpec().usageMessage().width() - indent;
        StringBuilder out = new StringBuilder();
        commands.forEach((name, sub) -> {
            String first = "  " + name;
            StringBuilder line = new StringBuilder(first).append(" ".repeat(indent - first.length()));
            int used = 0;
            for (String word : summary(sub.commandSpec()).split(" ")) {
                if (used > 0 && used + 1 + word.length() > width) {
                    out.append(line).append(System.lineSeparator());
                    line = new StringBuilder(" ".repeat(indent));
                    used = 0;
                }
                if (used > 0) {
                    line.append(' ');
                    used++;
                }
                line.append(word);
                used += word.length();
            }
            out.append(line).append(System.lineSeparator());
        });
        return out.toString();
    }

    /** The header, or the description up to its first blank line, as one line of text. */
    static String summary(CommandSpec spec) {
        String[] header = spec.usageMessage().header();
        String text = String.join("\n", header.length > 0 ? header : spec.usageMessage().description())
                .replace("%n", "\n").replace("%%", "%").strip();
        int paragraphEnd = text.indexOf("\n\n");
        return (paragraphEnd < 0 ? text : text.substring(0, paragraphEnd)).replaceAll("\\s+", " ");
    }
}
