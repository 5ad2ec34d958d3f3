package io.panllm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code panllm} command: dispatches to the sub-commands and turns failures into exit codes. */
@Command(name = "panllm", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Quantized Llama-family models on the JVM: run, convert, evaluate and compare formats.",
        subcommands = {ChatCommand.class, GenerateCommand.class, PerplexityCommand.class, TokenizeCommand.class, TemplateCommand.class, BenchCommand.class, ConvertCommand.class, InfoCommand.class, CompareCommand.class, CommandLine.HelpCommand.class},
        footerHeading = "%nExit codes:%n",
        footer = {"  0  success", "  1  error in an input file or model, or while running", "  2  usage error (unknown option, bad value, prompt too long for -c)",
                "  3  GPU error (no device, out of memory)", "130  interrupted (Ctrl-C)"})
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code (tests call this instead of main). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler(new ErrorHandler());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        return cli.execute(args);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"panllm " + (v == null ? "dev" : v) + " (Java " + Runtime.version() + ")"};
        }
    }
}
