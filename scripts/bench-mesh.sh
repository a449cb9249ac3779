#!/usr/bin/env bash
# ztunnel under HTTP load, in one run (issue 7's figures): builds the release binaries, starts
# `meshctl demo --keep-running`, then, for each repeat, drives the same open-loop load twice from
# the client pod's address 127.0.1.10 — baseline: straight to the echo app (127.0.2.10:8080), no
# mesh; mesh: through ztunnel-a's SOCKS5 (127.0.0.2:15080) to the service VIP 127.10.0.1:80, so
# ztunnel-a → HBONE/mTLS → ztunnel-b → echo — and prints both phases, the latency the ztunnel pair
# adds, each ztunnel's CPU (/proc/PID/stat over the measured window) and RSS, beside Istio's
# published ztunnel figures. The demo is stopped with SIGINT (SIGKILL after 20 s) on every exit.
#
#   scripts/bench-mesh.sh [--rate 1000] [--duration 30] [--warmup 5] [--connections 32] [--repeat 1]
#
# Requests are POSTs with a 1,024-byte body answered by 1,024 bytes (`?size=1024`), spread over a
# pool of keep-alive connections; see scripts/mesh_load.py for how latency is measured.
# Environment: MESH_BENCH_BUILD (build path, default .build-rel), MESH_BENCH_PYTHON (python3),
# MESH_BENCH_OUT (directory for the JSON results and the demo's logs; default a new /tmp dir),
# MESH_BENCH_BUILD_TIMEOUT (seconds, default 5400).
# This machine may be shared: the load average and the machine's busy share are printed with
# every phase because the numbers mean little without them.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${MESH_BENCH_BUILD:-.build-rel}"
PYTHON="${MESH_BENCH_PYTHON:-python3}"
LOAD="$ROOT/scripts/mesh_load.py"
RATE=1000 DURATION=30 WARMUP=5 CONNECTIONS=32 REPEAT=1 GRACE=10

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rate) RATE="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --repeat) REPEAT="$2"; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "unknown argument: $1" >&2; usage 2 >&2 ;;
  esac
done
for v in "$RATE" "$DURATION" "$WARMUP"; do [[ "$v" =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "not a number: $v" >&2; exit 2; }; done
for v in "$CONNECTIONS" "$REPEAT"; do [[ "$v" =~ ^[1-9][0-9]*$ ]] || { echo "not a positive integer: $v" >&2; exit 2; }; done
(( REPEAT <= 20 )) || { echo "--repeat is at most 20" >&2; exit 2; }

OUT="${MESH_BENCH_OUT:-$(mktemp -d /tmp/bench-mesh.XXXXXX)}"
mkdir -p "$OUT"
DEMO_PID=""
DEMO_CHILDREN=()
SCRATCH=""

echo "bench-mesh: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) CPUs; results in $OUT"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

alive() { # pid: running and not a zombie
  [[ -r "/proc/$1/stat" ]] && [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != "Z" ]]
}

stop_demo() {
  [[ -n "$DEMO_PID" ]] || return 0
  local pid="$DEMO_PID"
  DEMO_PID=""
  # meshctl deletes its scratch directory (and the logs in it) when it stops: keep a copy.
  if [[ -n "$SCRATCH" && -d "$SCRATCH/logs" ]]; then cp -r "$SCRATCH/logs" "$OUT/demo-logs" 2>/dev/null || true; fi
  if alive "$pid"; then
    echo "stopping the demo (SIGINT to meshctl $pid)…"
    kill -INT "$pid" 2>/dev/null || true
    local waited=0
    while alive "$pid" && (( waited < 200 )); do sleep 0.1; waited=$((waited + 1)); done
    if alive "$pid"; then
      echo "meshctl did not exit within 20 s of SIGINT: SIGKILL to it and its children ${DEMO_CHILDREN[*]}" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
  # Children meshctl could not stop (it was killed): only the PIDs it started, checked by name.
  for child in "${DEMO_CHILDREN[@]}"; do
    if alive "$child" && grep -qaE "/(istiod|ztunnel|echo)" "/proc/$child/cmdline" 2>/dev/null; then
      echo "killing left-over child $child: $(tr '\0' ' ' < "/proc/$child/cmdline" | cut -c1-80)" >&2
      kill -KILL "$child" 2>/dev/null || true
    fi
  done
  echo "demo output (last lines):"; tail -n 3 "$OUT/demo.log" | sed 's/^/  /'
}

finish() {
  local status=$?
  trap - EXIT INT TERM
  stop_demo
  echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "results (JSON per phase, demo log and ztunnel logs): $OUT"
  exit "$status"
}
trap finish EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

# 1. Release binaries (meshctl depends on istiod, ztunnel and echo, so they are built too).
cd "$ROOT"
echo "building (swift build -c release --build-path $BUILD --product meshctl)…"
build_started=$(date +%s)
if ! timeout "${MESH_BENCH_BUILD_TIMEOUT:-5400}" swift build -c release --build-path "$BUILD" --product meshctl \
    >"$OUT/build.log" 2>&1; then
  tail -n 40 "$OUT/build.log" >&2; echo "build failed or timed out (log: $OUT/build.log)" >&2; exit 1
fi
tail -n 1 "$OUT/build.log"
BIN="$(timeout 300 swift build -c release --build-path "$BUILD" --show-bin-path)"
for b in meshctl istiod ztunnel echo; do [[ -x "$BIN/$b" ]] || { echo "$BIN/$b is missing" >&2; exit 1; }; done
echo "built in $(( $(date +%s) - build_started )) s: $BIN"

# 2. The mesh. Refuse to start over another demo (its ports are fixed on these addresses).
port_open() { "$PYTHON" -c "import socket,sys; s=socket.socket(); s.settimeout(0.5); sys.exit(0 if s.connect_ex(('$1',$2))==0 else 1)"; }
for hp in 127.0.0.2:15080 127.0.0.3:15008 127.0.2.10:8080 127.0.2.10:15008; do
  if port_open "${hp%:*}" "${hp#*:}"; then echo "$hp is already in use: is another mesh demo running?" >&2; exit 1; fi
done
# meshctl's stdout is a file here, so fully buffered: stdbuf makes it line-buffered, or the
# "keeps running" line would only appear when it exits.
STDBUF=(); command -v stdbuf >/dev/null && STDBUF=(stdbuf -oL -eL)
"${STDBUF[@]}" "$BIN/meshctl" demo --keep-running --manifests "$ROOT/Examples/demo" >"$OUT/demo.log" 2>&1 &
DEMO_PID=$!
echo "meshctl demo --keep-running started (pid $DEMO_PID, log $OUT/demo.log); waiting for it…"
for ((i = 0; i < 600; i++)); do
  grep -q "keeps running" "$OUT/demo.log" && break
  alive "$DEMO_PID" || { echo "meshctl demo exited early:" >&2; tail -n 30 "$OUT/demo.log" >&2; exit 1; }
  sleep 0.5
done
grep -q "keeps running" "$OUT/demo.log" || { echo "the demo was not up within 300 s:" >&2; tail -n 30 "$OUT/demo.log" >&2; exit 1; }
SCRATCH="$(sed -n 's/.*scratch directory \(.*\)$/\1/p' "$OUT/demo.log" | head -n 1)"
[[ -n "$SCRATCH" ]] || SCRATCH="$(ls -d /tmp/meshctl-demo-"$DEMO_PID"-* 2>/dev/null | head -n 1)"
mapfile -t DEMO_CHILDREN < <(pgrep -P "$DEMO_PID" || true)
ZA="$(pgrep -P "$DEMO_PID" -f -- '--node-name node-a' || true)"
ZB="$(pgrep -P "$DEMO_PID" -f -- '--node-name node-b' || true)"
ECHO_PID="$(pgrep -P "$DEMO_PID" -f -- '--listen 127.0.2.10:8080' || true)"
for v in ZA ZB ECHO_PID; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { echo "could not find exactly one process for $v among meshctl's children: '${!v}'" >&2; exit 1; }
done
if grep -q "Demo FAILED\|UNEXPECTED" "$OUT/demo.log"; then
  echo "note: the demo's own calls did not all have the expected outcome (see $OUT/demo.log)" >&2
fi
echo "mesh up: ztunnel node-a pid $ZA, ztunnel node-b pid $ZB, echo pid $ECHO_PID"
declare -A LOG_LINES_AT_START=()  # what the ztunnels logged before the load (the demo's own calls)
for log in "$SCRATCH"/logs/ztunnel-*.log; do [[ -f "$log" ]] && LOG_LINES_AT_START["$log"]=$(wc -l <"$log"); done

# 3–4. The load, baseline then mesh, --repeat times; every phase bounded by `timeout`.
PHASE_LIMIT=$(awk -v w="$WARMUP" -v d="$DURATION" -v g="$GRACE" 'BEGIN { printf "%d", w + d + g + 60 }')
run_phase() { # run label args…
  local run="$1" label="$2"; shift 2
  alive "$DEMO_PID" || { echo "the demo stopped before run $run $label:" >&2; tail -n 20 "$OUT/demo.log" >&2; exit 1; }
  echo "run $run/$REPEAT, $label: ${RATE} rps for ${DURATION} s after ${WARMUP} s warm-up, $CONNECTIONS connections (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  timeout "$PHASE_LIMIT" "$PYTHON" "$LOAD" run --source 127.0.1.10 --rate "$RATE" --duration "$DURATION" \
    --warmup "$WARMUP" --connections "$CONNECTIONS" --grace "$GRACE" \
    --watch "ztunnel-a=$ZA" --watch "ztunnel-b=$ZB" --watch "echo=$ECHO_PID" \
    --label "$label" --run "$run" --out "$OUT/run$run-$label.json" "$@"
}
RESULTS=()
for ((run = 1; run <= REPEAT; run++)); do
  run_phase "$run" baseline --target 127.0.2.10:8080
  RESULTS+=("$OUT/run$run-baseline.json")
  sleep 2
  run_phase "$run" mesh --target 127.10.0.1:80 --socks 127.0.0.2:15080
  RESULTS+=("$OUT/run$run-mesh.json")
  sleep 2
done

# What the ztunnels counted, and what they logged, while the mesh is still up.
for node in 127.0.0.2 127.0.0.3; do
  curl -s --max-time 5 "http://$node:15020/stats/prometheus" >"$OUT/stats-$node.prom" 2>/dev/null || true
done
for log in "$SCRATCH"/logs/ztunnel-*.log; do
  [[ -f "$log" ]] || continue
  tail -n "+$(( ${LOG_LINES_AT_START["$log"]:-0} + 1 ))" "$log" >"$OUT/load-$(basename "$log")"
  n=$(grep -ciE ' (error|warning|critical) ' "$OUT/load-$(basename "$log")" || true)
  echo "$(basename "$log") during the load: $(wc -l <"$OUT/load-$(basename "$log")") lines, $n at error/warning level"
  [[ "$n" == 0 ]] || grep -iE ' (error|warning|critical) ' "$OUT/load-$(basename "$log")" | tail -n 5 | cut -c1-300 | sed 's/^/  /'
done

"$PYTHON" "$LOAD" report "${RESULTS[@]}" | tee "$OUT/report.txt"
