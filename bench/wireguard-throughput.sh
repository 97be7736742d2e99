#!/usr/bin/env bash
# WireGuard data-plane throughput: single-stream TCP iperf3 between two network namespaces joined by a veth,
# in one run, for raw veth, wireguard-go <-> wireguard-go, meshwork <-> meshwork and meshwork <-> wireguard-go.
# Prints a table with each result's ratio to wireguard-go <-> wireguard-go.
#
# Usage (root): bench/wireguard-throughput.sh [SECONDS]        default 10 s per measurement
# Every tunnel gets one unmeasured run of the same length first (JIT warm-up for meshwork; the same for all).
# Run it on an otherwise idle machine: on 2 cores any other load shows in the numbers.
# Needs: iproute2, iperf3, wireguard-go, wireguard-tools, and the project built (bin/meshwork builds it).
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
seconds="${1:-10}"
a=mwbench-a
b=mwbench-b
work="$(mktemp -d)"

if [ "$(id -u)" != 0 ]; then
    echo "bench/wireguard-throughput.sh needs root (network namespaces, TUN devices)" >&2
    exit 1
fi
for tool in iperf3 wireguard-go wg ip; do
    command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install iperf3 wireguard-go wireguard-tools iproute2)" >&2; exit 1; }
done

cleanup() {
    pkill -f "wg-device mwbm" 2>/dev/null || true
    pkill -f "wireguard-go.*mwbg" 2>/dev/null || true
    for ns in $a $b; do
        ip netns pids $ns 2>/dev/null | xargs -r kill -9 2>/dev/null || true
        ip netns del $ns 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
cleanup
work="$(mktemp -d)"

ip netns add $a
ip netns add $b
ip link add name eth0 netns $a type veth peer name eth0 netns $b
ip -n $a addr add 198.18.0.1/24 dev eth0
ip -n $b addr add 198.18.0.2/24 dev eth0
for ns in $a $b; do ip -n $ns link set eth0 up; ip -n $ns link set lo up; done

"$root/bin/meshwork" --version >/dev/null   # builds the project if needed, before any timing

for side in a b; do
    (umask 077; wg genkey > "$work/$side.key")
    wg pubkey < "$work/$side.key" > "$work/$side.pub"
done

start_device() { # ns impl ifname
    case "$2" in
        meshwork) ip netns exec "$1" "$root/bin/meshwork" wg-device "$3" ;;
        wireguard-go) ip netns exec "$1" wireguard-go "$3" >/dev/null 2>&1 ;;
    esac
}

configure() { # ns ifname side peer-side overlay peer-overlay peer-ip
    ip netns exec "$1" wg set "$2" private-key "$work/$3.key" listen-port 51820 \
        peer "$(cat "$work/$4.pub")" allowed-ips "$6/32" endpoint "$7:51820"
    ip -n "$1" addr add "$5/24" dev "$2"
    ip -n "$1" link set "$2" up
}

iperf() { # server-ns client-ns address -> Gbit/s
    ip netns exec "$1" iperf3 -s -1 -D -p 5201 >/dev/null
    sleep 0.5
    ip netns exec "$2" iperf3 -c "$3" -p 5201 -t "$seconds" -J \
        | awk -F: '/"sum_received"/ {found=1} found && /"bits_per_second"/ {gsub(/[ ,]/, "", $2); printf "%.3f", $2 / 1e9; exit}'
}

measure() { # label impl-a impl-b
    local ifa=mwb${2:0:1}a ifb=mwb${3:0:1}b
    [ "$2" = meshwork ] && ifa=mwbma || ifa=mwbga
    [ "$3" = meshwork ] && ifb=mwbmb || ifb=mwbgb
    start_device $a "$2" $ifa
    start_device $b "$3" $ifb
    configure $a $ifa a b 10.88.0.1 10.88.0.2 198.18.0.2
    configure $b $ifb b a 10.88.0.2 10.88.0.1 198.18.0.1
    ip netns exec $a ping -c 1 -W 5 10.88.0.2 >/dev/null
    iperf $b $a 10.88.0.2 >/dev/null   # warm-up: lets the JIT compile the data path before measuring
    local result
    result="$(iperf $b $a 10.88.0.2)"
    pkill -f "wg-device $ifa" 2>/dev/null || true
    pkill -f "wg-device $ifb" 2>/dev/null || true
    pkill -f "wireguard-go $ifa" 2>/dev/null || true
    pkill -f "wireguard-go $ifb" 2>/dev/null || true
    sleep 1
    echo "$result"
}

echo "single-stream TCP, ${seconds} s each, $(nproc) cores, java: $(. "$root/bin/jdk.sh"; "${JAVA_HOME}/bin/java" -version 2>&1 | head -1)"
veth="$(iperf $b $a 198.18.0.2)"
gogo="$(measure "wireguard-go <-> wireguard-go" wireguard-go wireguard-go)"
mm="$(measure "meshwork <-> meshwork" meshwork meshwork)"
mg="$(measure "meshwork -> wireguard-go" meshwork wireguard-go)"
gm="$(measure "wireguard-go -> meshwork" wireguard-go meshwork)"

printf '\n%-34s %12s %14s\n' "path (sender -> receiver)" "Gbit/s" "vs wg-go"
row() { printf '%-34s %12s %14s\n' "$1" "$2" "$(awk -v x="$2" -v r="$gogo" 'BEGIN { printf "%.2fx", x / r }')"; }
row "raw veth" "$veth"
row "wireguard-go -> wireguard-go" "$gogo"
row "meshwork -> meshwork" "$mm"
row "meshwork -> wireguard-go" "$mg"
row "wireguard-go -> meshwork" "$gm"
