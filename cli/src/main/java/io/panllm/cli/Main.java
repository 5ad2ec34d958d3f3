package io.panllm.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code panllm} command: dispatches to the sub-commands and turns failures into exit codes. */
@Command(name = "panllm", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Quantized Llama-family models on the JVM: run, convert, evaluate and compare formats.",
        subcommands = {
                ChatCommand.class,
                GenerateCommand.class,
                PerplexityCommand.class,
                TokenizeCommand.class,
                TemplateCommand.class,
                BenchCommand.class,
                ServeCommand.class,
                ConvertCommand.class,
                ImatrixCommand.class,
                InfoCommand.class,
                CompareCommand.class,
                CommandLine.HelpCommand.class},
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
        cli.setParameterExceptionHandler(Main::usageError);
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        cli.getHelpSectionMap().put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_COMMAND_LIST, new CommandList());
        cli.setExecutionStrategy(parsed -> {
            RangeCheck.check(parsed);
            return new CommandLine.RunLast().execute(parsed);
        });
        return cli.execute(args);
    }

    /** A usage error: one line naming what is wrong (picocli would print the whole usage help), exit 2. */
    private static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cli = e.getCommandLine();
        if (args.length == 0) { // a bare "panllm": show what it can do
            cli.usage(cli.getErr());
            return ExitCodes.USAGE;
        }
        String name = cli.getCommandSpec().qualifiedName();
        String hint = e instanceof CommandLine.UnmatchedArgumentException u && !u.getSuggestions().isEmpty()
                ? " (did you mean " + String.join(", ", u.getSuggestions()) + "?)" : "";
        cli.getErr().println(name + ": error: " + e.getMessage() + hint + "; see '" + name + " --help'");
        cli.getErr().flush();
        return ExitCodes.USAGE;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"panllm " + (v == null ? "dev" : v) + " (Java " + Runtime.version() + ")"};
        }
    }
}
