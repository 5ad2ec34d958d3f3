package io.panllm.tests.serve;

import static org.assertj.core.api.Assertions.assertThat;

import io.panllm.tests.CliAccess;
import java.net.InetAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** {@code panllm serve}'s start-up errors: one line and the documented exit code. */
class ServeCliTest {

    @Test
    void aPortInUseIsOneLineAndExitCode1() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CliAccess.Result r = CliAccess.run("serve", "--device", "cpu", "--port", Integer.toString(taken.getLocalPort()));
            assertThat(r.exitCode()).isEqualTo(1);
            assertThat(r.err()).contains("panllm serve: error: cannot listen on 127.0.0.1:" + taken.getLocalPort());
            assertThat(r.err().lines().filter(l -> l.contains("error"))).hasSize(1);
            assertThat(r.err()).doesNotContain("\tat ");
        }
    }

    @Test
    void badFlagsAreUsageErrors() {
        assertThat(CliAccess.run("serve", "--device", "cpu", "--parallel", "0").exitCode()).isEqualTo(2);
        CliAccess.Result tooSmall = CliAccess.run("serve", "--device", "cpu", "--parallel", "8", "-c", "8");
        assertThat(tooSmall.exitCode()).isEqualTo(2);
        assertThat(tooSmall.err()).contains("positions per slot");
    }
}
