#!/usr/bin/env bash
# Peer maps trimmed by policy at scale: one organization with 100 tags and 200 security groups, every device with
# an open peer stream, on a control member's own feed and stream code (io.meshwork.control.http.PolicyFeedBench).
# For each size: (a) policy edits and (b) devices joining, with p50/p95/max from the delta's arrival at the member's
# feed until each affected stream has its lines, and (c) CPU per change of the feed and of the streams.
#
# Usage: bench/policy-load.sh [DEVICES...]   default: 1000 10000
# JAVA_HOME picks the JDK (default: Temurin 25 when present, else 17); MESHWORK_BENCH_HEAP the heap (default 2g).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -o -pl control -am test-compile dependency:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath >/dev/null
classpath="control/target/test-classes:control/target/classes:protocol/target/classes:$(cat control/target/bench.classpath)"
if [ -z "${JAVA_HOME:-}" ]; then
    for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/java-17-openjdk-amd64; do
        [ -x "$candidate/bin/java" ] && JAVA_HOME="$candidate" && break
    done
fi
java="${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}/bin/java"
exec "$java" -Xmx"${MESHWORK_BENCH_HEAP:-2g}" -cp "$classpath" io.meshwork.control.http.PolicyFeedBench "$@"
