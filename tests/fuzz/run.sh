#!/usr/bin/env bash
# The long run of the model fuzzer (tests/src/test/java/io/panllm/tests/fuzz/ModelFuzzer.java):
#   tests/fuzz/run.sh [CASES [SEED [FIRST]]]      (default 100000 cases, seed 20261203)
# Builds the project and the test classes when needed, runs niced with a 1 GiB heap (so that an
# allocation a file's sizes should have prevented shows as OutOfMemoryError), prints one line per
# failure with the --seed/--case that reproduces it, then the counts per seed. Exit status 1 when a
# case failed. PANLLM_FUZZ_OPTS adds JVM options (-Dpanllm.fuzz.trace=true prints stack traces).
set -euo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
. "$ROOT/bin/jdk.sh"
panllm_find_jdk
if [ ! -d "$ROOT/tests/target/test-classes/io/panllm/tests/fuzz" ] || [ ! -f "$ROOT/cli/target/panllm-cli.jar" ] \
   || [ -n "$(find "$ROOT" -path "$ROOT/*/src/*" -newer "$ROOT/tests/target/test-classes/io/panllm/tests/fuzz/ModelFuzzer.class" -print -quit 2>/dev/null)" ]; then
  (cd "$ROOT" && JAVA_HOME="$PANLLM_JAVA_HOME" mvn -q -B -DskipTests package >&2)
fi
nice -n 10 "$PANLLM_JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -Xmx1g -Xss4m ${PANLLM_FUZZ_OPTS:-} -Dpanllm.data="$ROOT/../shared/data" \
  -cp "$ROOT/tests/target/test-classes:$ROOT/cli/target/panllm-cli.jar:$ROOT/cli/target/lib/*" \
  io.panllm.tests.fuzz.ModelFuzzer "${1:-100000}" "${2:-20261203}" "${3:-0}" 2>&1 | grep -a --line-buffered -v '^WARNING: Using incubator modules'
exit "${PIPESTATUS[0]}"
