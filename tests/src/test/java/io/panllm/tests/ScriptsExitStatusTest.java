package io.panllm.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scripts around Maven (bin/test, .ci/run, the launcher's build step) pass Maven's exit status
 * on and report what they promise. Each runs from a copy of bin/ and .ci/ with a stand-in
 * {@code mvn} first on the PATH, so nothing is built.
 */
class ScriptsExitStatusTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path root;

    @TempDir
    Path scratch;

    /** A copy of the repository's scripts in {@code root}, and an mvn that runs {@code body}. */
    private Map<String, String> scriptsWithMaven(String body) throws Exception {
        for (String script : List.of("bin/panllm", "bin/test", "bin/jdk.sh", ".ci/run")) {
            Path copy = root.resolve(script);
            Files.createDirectories(copy.getParent());
            Files.copy(LauncherTest.HOME.resolve(script), copy, StandardCopyOption.REPLACE_EXISTING);
        }
        Path bin = Files.createDirectories(scratch.resolve("fake-bin"));
        Path mvn = bin.resolve("mvn");
        Files.writeString(mvn, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(mvn, PosixFilePermissions.fromString("rwxr-xr-x"));
        return Map.of("PATH", bin + ":" + System.getenv("PATH"));
    }

    private Processes.Result run(Map<String, String> env, String script, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(root.resolve(script).toString()));
        command.addAll(List.of(args));
        return Processes.run(root, scratch, command, null, env, TIMEOUT);
    }

    @Test
    void binTestAndCiRunExitWithMavensStatusAndShowEachSkipReasonOnce() throws Exception {
        String report = "<testcase name=\"a\"><skipped type=\"org.opentest4j.TestAbortedException\"><![CDATA["
                + "org.opentest4j.TestAbortedException: Assumption failed: no CUDA driver: libcuda.so.1 not found\n"
                + "\tat x.y(Z.java:1)\n]]></skipped></testcase>\n";
        Map<String, String> env = scriptsWithMaven("mkdir -p kernels/target/surefire-reports\n"
                + "printf '%s%s' '" + report + "' '" + report + "' > kernels/target/surefire-reports/TEST-x.xml\n"
                + "echo \"mvn $*\"\nexit ${FAKE_MVN_STATUS:-0}");
        Processes.Result ok = run(env, "bin/test", "-q");
        assertThat(ok.exitCode()).as(ok.toString()).isZero();
        assertThat(ok.out()).contains("mvn -B -ntp install -q")
                .containsOnlyOnce("Skipped 2 test(s): no CUDA driver: libcuda.so.1 not found");

        Map<String, String> failing = new java.util.HashMap<>(env);
        failing.put("FAKE_MVN_STATUS", "7");
        assertThat(run(failing, "bin/test").exitCode()).isEqualTo(7);
        assertThat(run(failing, ".ci/run").exitCode()).isEqualTo(7);
    }

    @Test
    void launcherReportsAFailedBuildAndNotASilentOne() throws Exception {
        Files.createDirectories(root.resolve("cli/src/main/java"));
        Files.writeString(root.resolve("cli/src/main/java/A.java"), "class A {}");
        Processes.Result failed = run(scriptsWithMaven("echo '[ERROR] compilation failed'\nexit 1"), "bin/panllm", "--version");
        assertThat(failed.exitCode()).as(failed.toString()).isEqualTo(1);
        assertThat(failed.err()).contains("[ERROR] compilation failed").contains("panllm: build failed");

        // A quiet build that succeeds (nothing left on its output after the filter) is not a failure:
        // this one "builds" by copying the real jar and its libraries.
        Path target = LauncherTest.HOME.resolve("cli/target");
        assumeTrue(Files.isRegularFile(target.resolve("panllm-cli.jar")), "cli/target/panllm-cli.jar is not built (run bin/test)");
        Processes.Result quiet = run(scriptsWithMaven("mkdir -p cli/target && cp -r '" + target.resolve("panllm-cli.jar") + "' '"
                + target.resolve("lib") + "' cli/target/"), "bin/panllm", "--version");
        assertThat(quiet.exitCode()).as(quiet.toString()).isZero();
        assertThat(quiet.out()).startsWith("panllm ");
    }
}
