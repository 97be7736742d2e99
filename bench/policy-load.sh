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
exec bench/control-bench.sh io.meshwork.control.http.PolicyFeedBench "$@"
