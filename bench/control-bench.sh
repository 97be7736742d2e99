#!/usr/bin/env bash
# Runs one of control's benchmark mains (in control's test classes) on the test classpath:
#   bench/control-bench.sh MAIN_CLASS [ARGS...]
# Used by bench/control-load.sh and bench/policy-load.sh. JAVA_HOME picks the JDK (default: Temurin 25 when present,
# else 17); MESHWORK_BENCH_HEAP the heap (default 2g).
set -euo pipefail
cd "$(dirname "$0")/.."
main="$1"
shift
mvn -B -q -o -pl control -am test-compile dependency:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath >/dev/null
classpath="control/target/test-classes:control/target/classes:protocol/target/classes:$(cat control/target/bench.classpath)"
if [ -z "${JAVA_HOME:-}" ]; then
    for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-17-openjdk-amd64; do
        [ -x "$candidate/bin/java" ] && JAVA_HOME="$candidate" && break
    done
fi
java="${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}/bin/java"
exec "$java" -Xmx"${MESHWORK_BENCH_HEAP:-2g}" -cp "$classpath" "$main" "$@"
