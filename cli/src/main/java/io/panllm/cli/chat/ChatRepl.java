package io.panllm.cli.chat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.Reference;
import org.jline.reader.UserInterruptException;
import org.jline.reader.impl.DefaultParser;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/**
 * The chat REPL. On a terminal: JLine line editing, persistent history, multi-line input (a
 * trailing backslash, a {@code """} block, or a bracketed paste), Ctrl-C stops the reply being
 * generated (a second Ctrl-C at an empty prompt, or Ctrl-D, exits). When stdin is not a terminal
 * (a pipe, a test) it reads one prompt per line, with the same continuation rules, and prints only
 * the replies. What the user typed reaches the model as typed: JLine's history expansion ({@code !!},
 * {@code !-1}) and backslash escapes are off.
 */
public final class ChatRepl {
    private static final String HELP = """
            Commands:
              /help                 this help
              /reset                forget the conversation (keeps the system prompt)
              /system TEXT          set the system prompt (and reset)
              /set NAME VALUE       sampling: temp, top-k, top-p, min-p, repeat-penalty, seed, n-predict
              /set                  show the sampling settings
              /stats                tokens, context used, speed of the last reply
              /save FILE            write the transcript to FILE
              /ppl FILE [-c N] [--chunks N]   perplexity of the loaded model on a text file (Ctrl-C stops)
              /exit                 quit (also Ctrl-D)
            Multi-line messages: end a line with \\ to continue on the next one, or put the text
            between two lines of three double quotes:
              \"""
              first line
              second line
              \"""
            Text is sent as typed (backslashes and ! included). When the context is full the oldest
            turns are dropped (the system prompt stays). Ctrl-C stops a reply.""";

    private final ChatEngine engine;
    private final AtomicBoolean cancel = new AtomicBoolean();
    private boolean toldAboutDroppedTurns;

    public ChatRepl(ChatEngine engine) {
        this.engine = engine;
    }

    /** Stops the reply being generated (from a signal handler); the REPL goes on. */
    public void cancelCurrent() {
        cancel.set(true);
    }

    /** Runs until /exit or end of input; returns the exit code. */
    public int run(boolean interactive) throws IOException {
        return interactive ? runTerminal() : runPipe();
    }

    private int runPipe() throws IOException {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        MultiLineInput lines = new MultiLineInput();
        String line;
        boolean going = true;
        while (going && (line = in.readLine()) != null) {
            String message = lines.accept(line);
            going = message == null || handle(message, out, false);
        }
        String last = lines.finish();
        if (going && last != null) {
            handle(last, out, false);
        }
        out.flush();
        return 0;
    }

    private int runTerminal() throws IOException {
        try (Terminal terminal = TerminalBuilder.builder().system(true).dumb(true).build()) {
            return run(terminal, Path.of(System.getProperty("user.home"), ".panllm_history"));
        }
    }

    /** Runs the REPL on {@code terminal}, keeping the history in {@code historyFile}. */
    int run(Terminal terminal, Path historyFile) {
        LineReader reader = lineReader(terminal, historyFile);
        PrintWriter out = terminal.writer();
        terminal.handle(Terminal.Signal.INT, signal -> cancel.set(true));
        out.println("panllm chat: type a message, /help for commands, Ctrl-D to quit.");
        out.flush();
        MultiLineInput lines = new MultiLineInput();
        boolean interruptedOnce = false;
        while (true) {
            String input;
            try {
                input = lines.accept(reader.readLine(lines.pending() ? "... " : "> "));
                interruptedOnce = false;
            } catch (UserInterruptException e) {
                boolean empty = e.getPartialLine().isEmpty() && !lines.pending();
                lines.reset();
                if (interruptedOnce || empty) {
                    if (interruptedOnce) {
                        break;
                    }
                    out.println("(Ctrl-C again or Ctrl-D to quit)");
                    out.flush();
                    interruptedOnce = true;
                }
                continue;
            } catch (EndOfFileException e) {
                String last = lines.finish();
                if (last != null) {
                    handle(last, out, true);
                }
                break;
            }
            if (input != null && !handle(input, out, true)) {
                break;
            }
        }
        try {
            reader.getHistory().save();
        } catch (IOException e) {
            // A history we cannot save is not worth failing the session over.
        }
        return 0;
    }

    /**
     * A line reader that hands over each line exactly as typed: no history expansion ({@code !!},
     * {@code !-1}, and the backslash escapes that come with it), no quote or escape parsing (which
     * would make JLine ask for more lines on its own; {@link MultiLineInput} does continuation), a
     * tab key that inserts a tab (there is nothing to complete). Bracketed paste stays on: a pasted
     * block arrives as one line.
     */
    static LineReader lineReader(Terminal terminal, Path historyFile) {
        DefaultParser parser = new DefaultParser();
        parser.setEscapeChars(new char[0]);
        parser.setQuoteChars(new char[0]);
        LineReader reader = LineReaderBuilder.builder().terminal(terminal).appName("panllm").parser(parser)
                .variable(LineReader.HISTORY_FILE, historyFile)
                .variable(LineReader.SECONDARY_PROMPT_PATTERN, "... ")
                .option(LineReader.Option.DISABLE_EVENT_EXPANSION, true)
                .option(LineReader.Option.BRACKETED_PASTE, true)
                .build();
        reader.getKeyMaps().get(LineReader.MAIN).bind(new Reference(LineReader.SELF_INSERT), "\t");
        return reader;
    }

    /** Handles one message or command; false to quit. */
    boolean handle(String input, PrintWriter out, boolean interactive) {
        String text = input.strip();
        if (text.isEmpty()) {
            return true;
        }
        if (text.startsWith("/")) {
            return command(text, out, interactive);
        }
        cancel.set(false);
        try {
            ChatEngine.ReplyStats stats = engine.reply(input, piece -> {
                out.print(piece);
                out.flush();
            }, cancel::get);
            out.println();
            if (cancel.get()) {
                out.println("[stopped]");
            } else if ("context full".equals(stats.stopReason())) {
                out.println("[context full (" + engine.contextSize() + " tokens): the reply was cut, no earlier turn is"
                        + " left to drop; a larger -c makes room]");
            }
            if (stats.turnsDropped() > 0 && !toldAboutDroppedTurns) {
                out.println("[context full: the oldest turns were dropped to make room (the system prompt stays);"
                        + " this goes on as the conversation grows, /reset starts over]");
                toldAboutDroppedTurns = true;
            }
        } catch (RuntimeException e) {
            out.println();
            out.println("error: " + e.getMessage());
        }
        out.flush();
        return true;
    }

    private boolean command(String text, PrintWriter out, boolean interactive) {
        String[] parts = text.split("\\s+", 2);
        String rest = parts.length > 1 ? parts[1].strip() : "";
        try {
            switch (parts[0]) {
                case "/exit", "/quit", "/bye" -> {
                    return false;
                }
                case "/help", "/?" -> out.println(HELP);
                case "/reset" -> {
                    engine.reset();
                    out.println("[conversation cleared]");
                }
                case "/system" -> {
                    engine.setSystemPrompt(rest);
                    out.println("[system prompt set; conversation cleared]");
                }
                case "/set" -> {
                    if (rest.isEmpty()) {
                        out.println(engine.settings());
                    } else {
                        String[] kv = rest.split("\\s+", 2);
                        if (kv.length < 2) {
                            out.println("usage: /set NAME VALUE");
                        } else {
                            engine.set(kv[0], kv[1]);
                            out.println("[" + kv[0] + " = " + kv[1] + "]");
                        }
                    }
                }
                case "/stats" -> out.println(engine.stats());
                case "/save" -> {
                    if (rest.isEmpty()) {
                        out.println("usage: /save FILE");
                    } else {
                        Files.writeString(Path.of(rest), engine.transcript(), StandardCharsets.UTF_8);
                        out.println("[saved to " + rest + "]");
                    }
                }
                case "/ppl" -> perplexity(rest, out, interactive);
                default -> out.println("unknown command " + parts[0] + " (/help lists them)");
            }
        } catch (IOException | RuntimeException e) {
            out.println("error: " + e.getMessage());
        }
        out.flush();
        return true;
    }

    private void perplexity(String args, PrintWriter out, boolean interactive) throws IOException {
        String[] a = args.isEmpty() ? new String[0] : args.split("\\s+");
        if (a.length == 0) {
            out.println("usage: /ppl FILE [-c N] [--chunks N]");
            return;
        }
        int context = 512;
        int chunks = -1;
        for (int i = 1; i < a.length; i++) {
            switch (a[i]) {
                case "-c", "--ctx-size" -> context = Integer.parseInt(a[++i]);
                case "--chunks" -> chunks = Integer.parseInt(a[++i]);
                default -> throw new IllegalArgumentException("unknown /ppl option " + a[i]);
            }
        }
        cancel.set(false);
        String result = engine.perplexity(Path.of(a[0]), context, chunks, line -> {
            if (interactive) {
                out.print("\r" + line);
            } else {
                out.println(line);
            }
            out.flush();
        }, cancel::get);
        if (interactive) {
            out.println();
        }
        out.println(cancel.get() ? "[stopped] " + result : result);
    }
}
