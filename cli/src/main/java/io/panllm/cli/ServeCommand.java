package io.panllm.cli;

import io.panllm.cli.serve.OpenAiServer;
import io.panllm.cli.serve.ServerSettings;
import io.panllm.runtime.LoadedModel;
import io.panllm.runtime.chat.ChatTemplate;
import io.panllm.runtime.chat.UnknownChatTemplateException;
import io.panllm.runtime.engine.Engine;
import io.panllm.runtime.engine.EngineConfig;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code panllm serve}: an OpenAI-compatible HTTP server with continuous batching. */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Serve the model over HTTP with OpenAI's API: /v1/chat/completions,",
                "/v1/completions, /v1/models, /health, /metrics. Up to --parallel requests",
                "are decoded in one batch. Ctrl-C or SIGTERM stops taking requests, finishes",
                "the running ones and exits. See docs/SERVING.md."},
        footer = {"", "Example:", "  panllm serve -m model.gguf --parallel 8 -c 16384",
                "  curl http://127.0.0.1:8080/v1/chat/completions -H 'Content-Type: application/json' \\",
                "    -d '{\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}]}'"})
final class ServeCommand implements Callable<Integer> {

    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--host", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "address to listen on (default: ${DEFAULT-VALUE}; 0.0.0.0 exposes the server to the network)")
    String host;

    @Option(names = "--port", paramLabel = "N", defaultValue = "8080", description = "TCP port, 0 = any free one (default: ${DEFAULT-VALUE})")
    @Range(min = 0, max = 65535)
    int port;

    @Option(names = {"-np", "--parallel"}, paramLabel = "N", defaultValue = "4",
            description = "requests decoded together, each in its own KV-cache slot (default: ${DEFAULT-VALUE})")
    @Range(min = 1, max = 4096)
    int parallel;

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", defaultValue = "0",
            description = "KV-cache positions shared by the slots (default: --parallel x the model's context, at most 4096 each)")
    @Range(min = 0)
    int contextSize;

    @Option(names = {"-b", "--batch-size"}, paramLabel = "N", defaultValue = "512",
            description = "most prompt tokens evaluated between two decode steps (default: ${DEFAULT-VALUE})")
    @Range(min = 1)
    int prefillChunk;

    @Option(names = "--queue", paramLabel = "N", defaultValue = "64",
            description = "requests that may wait for a slot; more get 429 (default: ${DEFAULT-VALUE})")
    @Range(min = 0)
    int queue;

    @Option(names = "--api-key", paramLabel = "KEY", description = "require 'Authorization: Bearer KEY' (all routes but /health)")
    String apiKey;

    @Option(names = "--alias", paramLabel = "NAME", description = "the model id clients see (default: the file name)")
    String alias;

    @Option(names = "--chat-template", paramLabel = "NAME", description = "llama3, llama2 or chatml (default: from the model)")
    String templateName;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "0",
            description = "largest max_tokens a request may ask for (default: a slot's context)")
    @Range(min = 0)
    int maxTokens;

    @Option(names = "--max-body", paramLabel = "BYTES", defaultValue = "4194304",
            description = "largest request body (default: ${DEFAULT-VALUE})")
    @Range(min = 1)
    int maxBody;

    @Option(names = "--timeout", paramLabel = "S", defaultValue = "600",
            description = "seconds a connection may stay silent, e.g. waiting for a long non-streamed answer (default: ${DEFAULT-VALUE})")
    @Range(min = 1)
    int idleSeconds;

    @Mixin
    SamplingOptions sampling;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        try (LoadedModel loaded = modelOptions.open()) {
            int context = contextSize > 0 ? contextSize : parallel * Math.min(4096, loaded.model().trainedContextLength());
            EngineConfig config = new EngineConfig(parallel, context, prefillChunk, queue);
            ChatTemplate template = null;
            String noTemplate = null;
            try {
                template = templateName != null ? ChatTemplate.forName(templateName)
                        : ChatTemplate.forVocabulary(loaded.tokenizer().vocabulary());
            } catch (UnknownChatTemplateException e) {
                if (templateName != null) {
                    throw e;
                }
                noTemplate = e.getMessage() + " (start the server with --chat-template)";
            }
            String name = alias != null ? alias : loaded.path().getFileName().toString();
            ServerSettings settings = new ServerSettings(host, port, apiKey, name, maxBody,
                    maxTokens > 0 ? maxTokens : config.slotContext(), sampling.config(), Duration.ofSeconds(idleSeconds));
            Engine engine = new Engine(loaded.model(), loaded.tokenizer(), config);
            OpenAiServer server = new OpenAiServer(engine, loaded.tokenizer(), template, noTemplate, settings);
            CountDownLatch stopped = new CountDownLatch(1);
            try {
                server.start();
            } catch (Exception e) {
                server.close();
                throw new BadInputException("cannot listen on " + host + ":" + port + ": " + ErrorHandler.describe(e));
            }
            Thread hook = new Thread(() -> {
                System.err.println("panllm serve: stopping (finishing running requests)");
                server.drainAndStop(Duration.ofSeconds(30));
                stopped.countDown();
            });
            Runtime.getRuntime().addShutdownHook(hook);
            err.printf("%s%npanllm serve: listening on http://%s:%d (model '%s', %d slots x %d positions, chat template %s)%n",
                    loaded.model().description(), host, server.port(), name, parallel, config.slotContext(),
                    template == null ? "none" : template.name());
            err.flush();
            stopped.await(); // until Ctrl-C / SIGTERM: the JVM runs the hook, which drains
        }
        return ExitCodes.OK;
    }
}
