#!/usr/bin/env bash
# WireGuard data-plane throughput: TCP iperf3 between two network namespaces joined by a veth, in one run, for raw
# veth, wireguard-go <-> wireguard-go, meshwork <-> meshwork (with its offloads and without them, as a baseline from
# the same run), meshwork <-> wireguard-go both ways, and the same with 4 parallel streams (iperf3 -P 4).
# Prints a table with each result's ratio to wireguard-go <-> wireguard-go of the same stream count, and the CPU the
# two tunnel processes used per Gbit/s: their user + system time over the measured run, in CPU seconds per second
# (cores) divided by the Gbit/s (lower is better; the kernel's work for iperf3 and the veth is not in it).
#
# Usage (root): bench/wireguard-throughput.sh [SECONDS]        default 10 s per measurement
#   MESHWORK_BENCH_ROWS="veth gg mm-plain mm mg gm gg4 mm4 mm4-plain"   the rows to run (default: all of them)
# Every tunnel gets one unmeasured run of the same length first (JIT warm-up for meshwork; the same for all).
# "meshwork (no offloads)" runs meshwork with -Dmeshwork.tun.offload=false -Dmeshwork.udp.offload=false.
# Run it on an otherwise idle machine: on 2 cores any other load shows in the numbers.
# Needs: iproute2, iperf3, wireguard-go, wireguard-tools, and the project built (bin/meshwork builds it).
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
seconds="${1:-10}"
rows="${MESHWORK_BENCH_ROWS:-veth gg mm-plain mm mg gm gg4 mm4 mm4-plain}"
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
        meshwork-plain) MESHWORK_JAVA_OPTS="${MESHWORK_JAVA_OPTS:-} -Dmeshwork.tun.offload=false -Dmeshwork.udp.offload=false" \
            ip netns exec "$1" "$root/bin/meshwork" wg-device "$3" ;;
        wireguard-go) ip netns exec "$1" wireguard-go "$3" >/dev/null 2>&1 ;;
    esac
}

configure() { # ns ifname side peer-side overlay peer-overlay peer-ip
    ip netns exec "$1" wg set "$2" private-key "$work/$3.key" listen-port 51820 \
        peer "$(cat "$work/$4.pub")" allowed-ips "$6/32" endpoint "$7:51820"
    ip -n "$1" addr add "$5/24" dev "$2"
    ip -n "$1" link set "$2" up
}

tunnel_cpu_ticks() { # -> user + system clock ticks of the tunnel processes in both namespaces
    local total=0 pid comm
    for pid in $(ip netns pids $a; ip netns pids $b); do
        comm="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
        case "$comm" in
            java|wireguard-go) total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0))) ;;
        esac
    done
    echo "$total"
}

iperf() { # server-ns client-ns address streams -> Gbit/s
    ip netns exec "$1" iperf3 -s -1 -D -p 5201 >/dev/null
    sleep 0.5
    ip netns exec "$2" iperf3 -c "$3" -p 5201 -t "$seconds" -P "${4:-1}" -J \
        | awk -F: '/"sum_received"/ {found=1} found && /"bits_per_second"/ {gsub(/[ ,]/, "", $2); printf "%.3f", $2 / 1e9; exit}'
}

measure() { # impl-a impl-b streams -> "Gbit/s cpu-seconds-per-second"
    local ifa ifb
    case "$1" in meshwork*) ifa=mwbma ;; *) ifa=mwbga ;; esac
    case "$2" in meshwork*) ifb=mwbmb ;; *) ifb=mwbgb ;; esac
    start_device $a "$1" $ifa
    start_device $b "$2" $ifb
    configure $a $ifa a b 10.88.0.1 10.88.0.2 198.18.0.2
    configure $b $ifb b a 10.88.0.2 10.88.0.1 198.18.0.1
    ip netns exec $a ping -c 1 -W 5 10.88.0.2 >/dev/null
    iperf $b $a 10.88.0.2 "$3" >/dev/null   # warm-up: lets the JIT compile the data path before measuring
    local result before after
    before="$(tunnel_cpu_ticks)"
    result="$(iperf $b $a 10.88.0.2 "$3")"
    after="$(tunnel_cpu_ticks)"
    pkill -f "wg-device $ifa" 2>/dev/null || true
    pkill -f "wg-device $ifb" 2>/dev/null || true
    pkill -f "wireguard-go $ifa" 2>/dev/null || true
    pkill -f "wireguard-go $ifb" 2>/dev/null || true
    sleep 1
    echo "$result $(awk -v t=$((after - before)) -v hz="$(getconf CLK_TCK)" -v s="$seconds" 'BEGIN { printf "%.3f", t / hz / s }')"
}

wants() { case " $rows " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

echo "TCP iperf3, ${seconds} s each, $(nproc) cores, java: $(. "$root/bin/jdk.sh"; "${JAVA_HOME}/bin/java" -version 2>&1 | head -1), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '\n%-40s %10s %10s %14s\n' "path (sender -> receiver)" "Gbit/s" "vs wg-go" "CPU s/Gbit"
row() { # label "gbit cpu" reference
    local gbit="${2% *}" cpu="${2#* }"
    printf '%-40s %10s %10s %14s\n' "$1" "$gbit" \
        "$(awk -v x="$gbit" -v r="${3:-0}" 'BEGIN { if (r > 0) printf "%.2fx", x / r; else print "-" }')" \
        "$(awk -v c="$cpu" -v x="$gbit" 'BEGIN { if (c != "" && c != x && x > 0) printf "%.2f", c / x; else print "-" }')"
}
gogo=0
gogo4=0
if wants gg; then r="$(measure wireguard-go wireguard-go 1)"; gogo="${r% *}"; fi
if wants veth; then row "raw veth" "$(iperf $b $a 198.18.0.2 1)" "$gogo"; fi
if wants gg; then row "wireguard-go -> wireguard-go" "$r" "$gogo"; fi
if wants mm-plain; then row "meshwork -> meshwork (no offloads)" "$(measure meshwork-plain meshwork-plain 1)" "$gogo"; fi
if wants mm; then row "meshwork -> meshwork" "$(measure meshwork meshwork 1)" "$gogo"; fi
if wants mg; then row "meshwork -> wireguard-go" "$(measure meshwork wireguard-go 1)" "$gogo"; fi
if wants gm; then row "wireguard-go -> meshwork" "$(measure wireguard-go meshwork 1)" "$gogo"; fi
if wants gg4; then r="$(measure wireguard-go wireguard-go 4)"; gogo4="${r% *}"; row "wireguard-go -> wireguard-go, -P 4" "$r" "$gogo4"; fi
if wants mm4; then row "meshwork -> meshwork, -P 4" "$(measure meshwork meshwork 4)" "$gogo4"; fi
if wants mm4-plain; then row "meshwork -> meshwork (no offloads), -P 4" "$(measure meshwork-plain meshwork-plain 4)" "$gogo4"; fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
