#!/usr/bin/env bash
# Control-plane load: registrations/s with p50/p99 latency, endpoint-report rates without and with open peer
# streams, snapshot delivery to every stream, fan-out latency of one change to all streams, heap per device,
# journal size and the organization's recovery time after a restart. One control member, driven over HTTP from
# the same JVM (io.meshwork.control.bench.ControlLoadBench).
#
# Usage: bench/control-load.sh [DEVICES] [STREAMS] [REPORTERS] [IN_FLIGHT] [FAN_OUT_ROUNDS] [RESUMED_STREAMS]
#                              [STORM_STREAMS]
#        defaults: 10000 1000 2000 32 10 0 0
# RESUMED_STREAMS streams then open from the current revision (as reconnecting nodes do: no snapshots) and the
# fan-out is measured again over them, e.g. 10000 watchers: bench/control-load.sh 10000 1000 1000 32 5 9999
# (beyond MESHWORK_BENCH_LOCAL_STREAMS, default 4000, they are held by a second JVM: open-file limits).
# STORM_STREAMS streams, one per device, then reconnect at once twice, fresh (each needs a snapshot) and resuming
# from a revision 50 changes back, with registrations and endpoint reports meanwhile: the time until each is in
# sync, and those requests' rates, e.g. bench/control-load.sh 10000 1 100 32 1 0 10000.
# MESHWORK_BENCH_GZIP=1: every stream asks for gzip (Accept-Encoding) and inflates what it gets.
# MESHWORK_DATABASE=postgres runs on the PostgreSQL of bin/test-postgres (127.0.0.1:5432, role/db/password
# meshwork) instead of embedded H2. JAVA_HOME picks the JDK (default: Temurin 25 when present, else 17);
# MESHWORK_BENCH_HEAP the heap (default 2g); MESHWORK_BENCH_WARMUP registrations in another organization before
# measuring (default 3000, 0 for none: a cold member).
set -euo pipefail
cd "$(dirname "$0")/.."
# Each stream is a socket at both ends, in this one process.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "${MESHWORK_DATABASE:-h2}" = postgres ] && [ "$(id -u)" = 0 ]; then
    bin/test-postgres start >/dev/null
fi
exec bench/control-bench.sh io.meshwork.control.bench.ControlLoadBench "$@"
