#!/usr/bin/env bash
# The node's resolver under dnsperf (Debian package dnsperf): queries per second and p99 latency for mesh names
# (answered from the zone) and for upstream names (answered from the cache after the first query). The resolver
# runs alone (DnsBenchServer: the node's own classes, 1000 mesh names, an upstream on loopback) in a network
# namespace on 100.100.100.100, as on a node; dnsperf runs in the same namespace. Per kind of name: one run at
# full speed (throughput), then one at a fixed rate with every latency recorded (p99 at that load).
# Usage: sudo bench/dns.sh [SECONDS] [RATE_QPS]      (defaults: 20 20000)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
rate="${2:-20000}"
[ "$(id -u)" = 0 ] || { echo "bench/dns.sh needs root (a network namespace)" >&2; exit 1; }
command -v dnsperf >/dev/null || { echo "bench/dns.sh needs dnsperf (apt-get install dnsperf)" >&2; exit 1; }
. bin/jdk.sh
mvn -B -q -o -pl node -am test-compile dependency:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile=target/bench.classpath >/dev/null
classpath="node/target/test-classes:node/target/classes:protocol/target/classes:$(cat node/target/bench.classpath)"
java="${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}/bin/java"

ns=mwbdns
work="$(mktemp -d /tmp/meshwork-bench-dns.XXXXXX)"
cleanup() {
    if [ -n "${server:-}" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
ip netns del "$ns" 2>/dev/null || true
ip netns add "$ns"
ip -n "$ns" link set lo up
# A TUN device nobody reads, as the node's mesh interface is: the resolver's address is local on it.
ip -n "$ns" tuntap add dev mw0 mode tun
ip -n "$ns" addr add 100.100.100.100/32 dev mw0
ip -n "$ns" link set mw0 up

ip netns exec "$ns" "$java" --enable-native-access=ALL-UNNAMED -Xmx512m -cp "$classpath" \
    io.meshwork.node.dns.DnsBenchServer 100.100.100.100 1000 >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do grep -q ready "$work/server.log" && break; sleep 0.2; done
grep ready "$work/server.log"

for i in $(seq 1 1000); do echo "dev-$i.meshwork.internal A"; done >"$work/mesh.txt"
for i in $(seq 1 1000); do echo "www-$i.upstream.example A"; done >"$work/upstream.txt"
# Warm up the JIT and fill the cache with every upstream name.
ip netns exec "$ns" dnsperf -s 100.100.100.100 -d "$work/mesh.txt" -l 5 -c 8 -q 200 >/dev/null
ip netns exec "$ns" dnsperf -s 100.100.100.100 -d "$work/upstream.txt" -l 5 -c 8 -q 200 >/dev/null

run() { # KIND FILE
    local kind="$1" file="$2"
    local full
    full="$(ip netns exec "$ns" dnsperf -s 100.100.100.100 -d "$file" -l "$seconds" -c 8 -q 500 -T 1)"
    local qps lost
    qps="$(awk '/Queries per second/ {print $4}' <<<"$full")"
    lost="$(awk '/Queries lost/ {print $3, $4}' <<<"$full")"
    # At the fixed rate, every answer's latency (-v prints "> RCODE NAME TYPE SECONDS").
    ip netns exec "$ns" dnsperf -s 100.100.100.100 -d "$file" -l "$seconds" -c 8 -q 500 -T 1 -Q "$rate" -v \
        >"$work/latency.txt"
    local stats
    stats="$(awk '/^> NOERROR/ {print $NF}' "$work/latency.txt" | sort -g | awk '
        { v[NR] = $1 } END {
            if (NR == 0) { print "no answers"; exit }
            printf "answers %d, p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, max %.3f ms",
                NR, v[int(NR*0.50)]*1000, v[int(NR*0.99)]*1000, v[int(NR*0.999)]*1000, v[NR]*1000 }')"
    local achieved
    achieved="$(awk '/Queries per second/ {print $4}' "$work/latency.txt")"
    printf '%-15s full speed: %s queries/s (lost %s) | at %s/s (achieved %s): %s\n' "$kind" "$qps" "$lost" "$rate" \
        "$achieved" "$stats"
}
echo "dnsperf ${seconds} s per run, 8 clients, 500 outstanding, on $(nproc) cores:"
run "mesh names" "$work/mesh.txt"
run "upstream names" "$work/upstream.txt"
kill "$server"; wait "$server" 2>/dev/null || true; server=
grep "resolver counters" "$work/server.log" || true
