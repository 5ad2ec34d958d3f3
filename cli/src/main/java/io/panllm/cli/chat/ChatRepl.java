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
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/**
 * The chat REPL. On a terminal: JLine line editing, persistent history, multi-line input (a
 * trailing backslash, or a bracketed paste), Ctrl-C stops the reply being generated (a second
 * Ctrl-C at an empty prompt, or Ctrl-D, exits). When stdin is not a terminal (a pipe, a test) it
 * reads one prompt per line and prints only the replies, one per line block.
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
            End a line with \\ to continue on the next line. Ctrl-C stops a reply.""";

    private final ChatEngine engine;
    private final AtomicBoolean cancel = new AtomicBoolean();

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
        StringBuilder pending = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) {
            if (line.endsWith("\\")) {
                pending.append(line, 0, line.length() - 1).append('\n');
                continue;
            }
            String input = pending.append(line).toString();
            pending.setLength(0);
            if (!handle(input, out, false)) {
                break;
            }
        }
        out.flush();
        return 0;
    }

    private int runTerminal() throws IOException {
        try (Terminal terminal = TerminalBuilder.builder().system(true).dumb(true).build()) {
            Path history = Path.of(System.getProperty("user.home"), ".panllm_history");
            LineReader reader = LineReaderBuilder.builder().terminal(terminal).appName("panllm")
                    .variable(LineReader.HISTORY_FILE, history)
                    .variable(LineReader.SECONDARY_PROMPT_PATTERN, "... ")
                    .build();
            PrintWriter out = terminal.writer();
            terminal.handle(Terminal.Signal.INT, signal -> cancel.set(true));
            out.println("panllm chat: type a message, /help for commands, Ctrl-D to quit.");
            out.flush();
            boolean interruptedOnce = false;
            while (true) {
                String input;
                try {
                    input = readMessage(reader);
                    interruptedOnce = false;
                } catch (UserInterruptException e) {
                    if (interruptedOnce || e.getPartialLine().isEmpty()) {
                        if (interruptedOnce) {
                            break;
                        }
                        out.println("(Ctrl-C again or Ctrl-D to quit)");
                        out.flush();
                        interruptedOnce = true;
                    }
                    continue;
                } catch (EndOfFileException e) {
                    break;
                }
                if (!handle(input, out, true)) {
                    break;
                }
            }
            try {
                reader.getHistory().save();
            } catch (IOException e) {
                // A history we cannot save is not worth failing the session over.
            }
        }
        return 0;
    }

    /** Reads one message: lines ending in a backslash continue it. */
    private static String readMessage(LineReader reader) {
        StringBuilder message = new StringBuilder();
        String prompt = "> ";
        while (true) {
            String line = reader.readLine(prompt);
            if (line.endsWith("\\")) {
                message.append(line, 0, line.length() - 1).append('\n');
                prompt = "... ";
                continue;
            }
            return message.append(line).toString();
        }
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
                out.println("[context full: " + engine.contextUsed() + "/" + engine.contextSize()
                        + " tokens. /reset to start over]");
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
