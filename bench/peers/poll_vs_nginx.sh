#!/bin/bash
# poll_vs_nginx.sh — antrean's wait endpoint against nginx serving a static
# file of the same size, driven by the same `antrean-bench poll` run (same
# connections, duration, If-None-Match share), on this machine, in one run.
# Prints requests per server CPU-second for both and the ratio antrean/nginx
# (the project's target: >= 1.5).
#
# usage: bench/peers/poll_vs_nginx.sh [BUILD_DIR]
#   env: CONNS (50) DURATION (10) WARMUP (1) REPEAT (3) INM (0.5)
#        PORT_A (18181) PORT_N (18182)
# BUILD_DIR (default build-bench) is configured RelWithDebInfo and built when
# antrean-server or antrean-bench is missing. nginx (Debian package) is
# installed with apt-get when missing (needs root), and runs with a temporary
# config: 127.0.0.1 only, 1 worker, keep-alive, access_log off.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build-bench}
CONNS=${CONNS:-50}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-1}
REPEAT=${REPEAT:-3}
INM=${INM:-0.5}
PORT_A=${PORT_A:-18181}
PORT_N=${PORT_N:-18182}
WAIT_PATH=/v1/halls/mpp-demo/services/kk/wait

if [ ! -x "$BUILD/antrean-server" ] || [ ! -x "$BUILD/antrean-bench" ]; then
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    make -C "$BUILD" -j"$(nproc)" antrean-server antrean-bench >/dev/null
fi
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
    echo "nginx missing: apt-get install -y nginx" >&2
    apt-get install -y nginx >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for t in curl jq; do
    command -v $t >/dev/null || { echo "$0: needs $t" >&2; exit 1; }
done

TMP=$(mktemp -d /tmp/antrean-peer.XXXXXX)
APID= NPID=
cleanup() {
    [ -n "$APID" ] && kill "$APID" 2>/dev/null && wait "$APID" 2>/dev/null
    [ -n "$NPID" ] && kill "$NPID" 2>/dev/null && wait "$NPID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT

# antrean, release build, demo hall, no access log (nginx has none either)
"$BUILD/antrean-server" --demo --data "$TMP/data" --listen 127.0.0.1:$PORT_A \
    --no-access-log >"$TMP/antrean.log" 2>&1 &
APID=$!
for _ in $(seq 50); do
    curl -fs "http://127.0.0.1:$PORT_A/v1/health" >/dev/null 2>&1 && break
    sleep 0.1
done

# nginx serves a copy of the real wait reply (same bytes, same size)
mkdir -p "$TMP/www$(dirname $WAIT_PATH)" "$TMP/nginx-tmp"
curl -fs "http://127.0.0.1:$PORT_A$WAIT_PATH" >"$TMP/www$WAIT_PATH"
SIZE=$(stat -c %s "$TMP/www$WAIT_PATH")
USERLINE=""
[ "$(id -u)" = 0 ] && USERLINE="user $(id -un);"
cat >"$TMP/nginx.conf" <<CONF
$USERLINE
worker_processes 1;
daemon off;
pid $TMP/nginx.pid;
error_log $TMP/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_timeout 65;
    keepalive_requests 100000000;
    client_body_temp_path $TMP/nginx-tmp;
    proxy_temp_path $TMP/nginx-tmp;
    fastcgi_temp_path $TMP/nginx-tmp;
    uwsgi_temp_path $TMP/nginx-tmp;
    scgi_temp_path $TMP/nginx-tmp;
    default_type application/json;
    server {
        listen 127.0.0.1:$PORT_N;
        root $TMP/www;
        location / { add_header Cache-Control no-cache; }
    }
}
CONF
"$NGINX" -c "$TMP/nginx.conf" -p "$TMP" >/dev/null 2>&1 &
NPID=$!
for _ in $(seq 50); do
    curl -fs "http://127.0.0.1:$PORT_N$WAIT_PATH" >/dev/null 2>&1 && break
    sleep 0.1
done
NWORKER=$(pgrep -P "$NPID" | head -1)
[ -n "$NWORKER" ] || { echo "$0: nginx did not start" >&2; cat "$TMP/nginx-error.log" >&2; exit 1; }

echo "machine: $(nproc) CPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "reply: $SIZE bytes; antrean-bench poll --conns $CONNS --duration $DURATION --warmup $WARMUP --inm-ratio $INM; $REPEAT rounds"
BENCH=("$BUILD/antrean-bench" poll --conns "$CONNS" --duration "$DURATION" --warmup "$WARMUP"
       --inm-ratio "$INM" --path "$WAIT_PATH" --json)
: >"$TMP/a.txt"
: >"$TMP/n.txt"
for i in $(seq "$REPEAT"); do
    # alternate the order so neither server always runs on a warmer machine
    for who in $([ $((i % 2)) = 1 ] && echo "a n" || echo "n a"); do
        if [ $who = a ]; then port=$PORT_A pid=$APID; else port=$PORT_N pid=$NWORKER; fi
        out=$("${BENCH[@]}" --server 127.0.0.1:$port --server-pid $pid) || true
        echo "$out" | jq -r '[.requests_per_cpu_s // .server.requests_per_cpu_s, .throughput_rps,
            .server.cpu_s, .latency_us.p99, (.status|tostring), (.errors|tostring)] | @tsv' \
            >>"$TMP/$who.txt"
        printf '  round %d %-7s %s\n' "$i" "$([ $who = a ] && echo antrean || echo nginx)" \
            "$(tail -1 "$TMP/$who.txt")"
    done
done
med() { cut -f"$2" "$1" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
A=$(med "$TMP/a.txt" 1) N=$(med "$TMP/n.txt" 1)
AT=$(med "$TMP/a.txt" 2) NT=$(med "$TMP/n.txt" 2)
echo "columns: requests per server CPU-s, requests/s, server CPU s, p99 us, status, errors"
printf 'antrean: %.0f requests per server CPU-second (median), %.0f req/s\n' "$A" "$AT"
printf 'nginx:   %.0f requests per server CPU-second (median), %.0f req/s\n' "$N" "$NT"
awk -v a="$A" -v n="$N" 'BEGIN { if (n > 0) printf "ratio antrean/nginx: %.2f (target >= 1.5)\n", a / n }'
