#!/usr/bin/env bash
# Runs SwiftMesh's benchmarks (the separate package in Benchmarks/) in release and prints results.
#
#   scripts/bench.sh               package-benchmark: CA signing and xDS push tables
#   scripts/bench.sh --plain       the plain runner: one line per result (also what to profile)
#   scripts/bench.sh --plain xds   only the xDS scenario (or: ca)
#
# Environment: MESH_BENCH_SCRATCH (build folder, default .build-bench at the repository root),
# MESH_BENCH_CLIENTS (xDS clients, default 1000), MESH_BENCH_XDS_CLIENT (wire: load-test delta
# clients that ACK without unpacking resources, as Istio's pilot-load, speaking gRPC's wire
# protocol on SwiftNIO's HTTP/2 with no gRPC library; lean: the same clients on grpc-swift, which
# cost about twice the CPU per message; full: MeshXDS's XDSClient, decoding every resource;
# default wire). With --plain, pass `--client lean` (or full) after `xds` instead. The clients
# share the machine's cores with the server they measure, so the cheaper they are, the more the
# figures are the server's.
# An incremental push is reported three ways: until the server had written it to every stream
# (its longest pilot_xds_push_time), until every load-test client had received it (the issue's
# "until all have it"), and until the server had read every ACK. The "written spread" line gives the percentiles of the
# server's per-stream write times: evenly spread writes mean the push is paced by the cost per
# stream, not held up before the first write.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/Benchmarks"
scratch="${MESH_BENCH_SCRATCH:-$root/.build-bench}"

# The xDS clients run in their own process so that the server's memory is measured alone.
swift build -c release --scratch-path "$scratch" --product xds-load-clients
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)"
export MESH_BENCH_LOAD_CLIENTS="$bin/xds-load-clients"

if [[ "${1:-}" == "--plain" ]]; then
    shift
    swift build -c release --scratch-path "$scratch" --product mesh-bench
    clients=()
    if [[ -n "${MESH_BENCH_CLIENTS:-}" ]]; then clients=(--clients "$MESH_BENCH_CLIENTS"); fi
    exec "$bin/mesh-bench" "${1:-all}" "${clients[@]}" "${@:2}"
fi

swift package --scratch-path "$scratch" benchmark --no-progress "$@"
