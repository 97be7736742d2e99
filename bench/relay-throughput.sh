#!/usr/bin/env bash
# Relay forwarding throughput (frames/s, Mbit/s) on loopback for UDP and TCP clients, each printed beside the
# direct path measured the same way in the same run.
# Usage: bench/relay-throughput.sh [SECONDS_PER_CASE] [PAYLOAD_BYTES]     (defaults: 5 1280)
# JAVA_HOME picks the JDK (Temurin 25 is faster at crypto; the relay checks one HMAC-SHA256 tag per UDP datagram).
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -B -q -o -pl relay -am test-compile dependency:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath >/dev/null
classpath="relay/target/test-classes:relay/target/classes:node/target/classes:protocol/target/classes:$(cat relay/target/bench.classpath)"
java="${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}/bin/java"
exec "$java" --enable-native-access=ALL-UNNAMED -Xmx1g -cp "$classpath" io.meshwork.relay.bench.RelayThroughputBench "${1:-5}" "${2:-1280}"
