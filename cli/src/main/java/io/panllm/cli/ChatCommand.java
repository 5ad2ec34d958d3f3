package io.panllm.cli;

import io.panllm.cli.chat.ChatRepl;
import io.panllm.cli.chat.ConversationEngine;
import io.panllm.runtime.LoadedModel;
import io.panllm.runtime.chat.ChatTemplate;
import io.panllm.runtime.chat.Conversation;
import io.panllm.runtime.chat.UnknownChatTemplateException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code panllm chat}: the interactive REPL. */
@Command(name = "chat", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Chat with a model in a REPL: line editing, history (~/.panllm_history), multi-line input",
                "(end a line with \\, or a block between two lines of \"\"\"), text sent as typed, replies streamed as",
                "they are generated; Ctrl-C stops a reply, Ctrl-D quits. The conversation stays in the KV cache",
                "between turns; when the context is full the oldest turns are dropped (the system prompt stays).",
                "/help lists the slash commands. When stdin is not a terminal, reads one message per line (same",
                "continuation rules) and prints only the replies."})
final class ChatCommand implements Callable<Integer> {

    @Mixin
    ModelOptions modelOptions;

    @Option(names = {"-sys", "--system"}, paramLabel = "TEXT", description = "system prompt")
    String system;

    @Option(names = "--chat-template", paramLabel = "NAME", converter = TemplateName.class,
            description = "llama3, llama2 or chatml (default: from the model)")
    ChatTemplate template;

    /** An unknown template name is a usage error, refused before the model loads. */
    static final class TemplateName implements CommandLine.ITypeConverter<ChatTemplate> {
        @Override
        public ChatTemplate convert(String name) {
            try {
                return ChatTemplate.forName(name);
            } catch (UnknownChatTemplateException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    @Option(names = {"-c", "--ctx-size"}, paramLabel = "N", defaultValue = "0", description = "context size (default: the model's, at most 4096)")
    @Range(min = 0)
    int contextSize;

    @Option(names = {"-n", "--n-predict"}, paramLabel = "N", defaultValue = "-1", description = "most tokens per reply, -1 = until end of turn (default: ${DEFAULT-VALUE})")
    @Range(min = 0, also = -1)
    int maxTokens;

    @Mixin
    SamplingOptions sampling;

    @Override
    public Integer call() throws Exception {
        try (LoadedModel loaded = modelOptions.open()) {
            ChatTemplate template = this.template != null ? this.template
                    : ChatTemplate.forVocabulary(loaded.tokenizer().vocabulary());
            int context = contextSize > 0 ? contextSize : Math.min(4096, loaded.model().trainedContextLength());
            try (Conversation conversation = new Conversation(loaded.model(), loaded.tokenizer(), template, context,
                    sampling.config(), system)) {
                conversation.setMaxTokens(maxTokens);
                boolean interactive = System.console() != null;
                ChatRepl repl = new ChatRepl(new ConversationEngine(conversation));
                if (!interactive) { // on a terminal JLine delivers Ctrl-C to the REPL itself
                    Interrupts.install(repl::cancelCurrent);
                }
                return repl.run(interactive);
            }
        }
    }
}
