# Sourced by bin/panllm and bin/test: sets PANLLM_JAVA_HOME to a JDK >= 22 (JDK 25 preferred).
# Looks at $PANLLM_JAVA_HOME, $JAVA_HOME, /usr/lib/jvm/*, /opt/java/*, then `java` on the PATH.
panllm_java_version() { # prints the feature version of $1/bin/java, or nothing
  # The JDK's release file says it without starting a JVM (seconds saved on every run of the launcher).
  if [ -f "$1/release" ] && grep -q '^JAVA_VERSION="[0-9]' "$1/release"; then
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" | head -1
    return
  fi
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p' | head -1
}
panllm_find_jdk() {
  local c v best="" bestv=0
  for c in "${PANLLM_JAVA_HOME:-}" "${JAVA_HOME:-}" /usr/lib/jvm/* /opt/java/* \
           "$(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")")"; do
    [ -n "$c" ] && [ -x "$c/bin/java" ] || continue
    v=$(panllm_java_version "$c"); v=${v:-0}
    if [ "$v" -ge 22 ] && [ "$v" -gt "$bestv" ]; then best=$c; bestv=$v; fi
  done
  if [ -z "$best" ]; then
    echo "panllm: no JDK 22 or newer found; install one (JDK 25 recommended) or set JAVA_HOME" >&2
    return 1
  fi
  PANLLM_JAVA_HOME=$best
}
