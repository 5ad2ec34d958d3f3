package io.panllm.runtime.chat.jinja;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.InterpreterFactory;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;

/** Jinjava's interpreter printing values as Jinja2 does ({@code True}, {@code ['a', None]}: {@link PyRepr}). */
final class PyInterpreter extends JinjavaInterpreter {

    static final InterpreterFactory FACTORY = new InterpreterFactory() {
        @Override
        public JinjavaInterpreter newInstance(JinjavaInterpreter orig) {
            return new PyInterpreter(orig);
        }

        @Override
        public JinjavaInterpreter newInstance(Jinjava application, Context context, JinjavaConfig config) {
            return new PyInterpreter(application, context, config);
        }
    };

    private PyInterpreter(Jinjava application, Context context, JinjavaConfig config) {
        super(application, context, config);
    }

    private PyInterpreter(JinjavaInterpreter orig) {
        super(orig);
    }

    @Override
    public String getAsString(Object object) {
        return PyRepr.str(object);
    }
}
