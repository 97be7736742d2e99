#!/usr/bin/env bash
# JMH micro-benchmarks (the benchmarks module, benchmarks/src/main/java/io/meshwork/benchmarks): WireGuard handshakes
# and transport crypto.
# Usage: bench/jmh.sh [REGEX] [JMH OPTIONS...]   default options: -f 1 -wi 3 -w 2s -i 5 -r 2s
set -euo pipefail
root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
. "$root/bin/jdk.sh"
"$root/bin/meshwork" --version >/dev/null   # builds the project when needed (benchmarks included)
classpath="$root/benchmarks/target/classes:$(cat "$root/benchmarks/target/classpath.txt")"
pattern="${1:-WireGuard}"
shift || true
[ $# -gt 0 ] || set -- -f 1 -wi 3 -w 2s -i 5 -r 2s
exec "$JAVA_HOME/bin/java" -cp "$classpath" org.openjdk.jmh.Main "$pattern" "$@"
