#!/usr/bin/env bash
# The CDN edge against nginx, on this machine in the same run (issue 26's targets):
#   hot 4 KiB      wrk, keep-alive, 32 connections, 10 s: requests/s and p99 latency of the edge
#                  (an object served from its memory tier) and of nginx (the same bytes as a static
#                  file: one worker, sendfile on, access log off)
#   hot 1 MiB      the same for a 1 MiB object: MB/s and p99
#   cold 1 MiB     time to first byte of a 1 MiB range of a 1 GiB object the edge has never seen
#                  (its manifest cached, the range's chunk not), several offsets
# The server under test (the edge's process, every thread; or nginx) is pinned to core 0 with
# taskset, wrk to core 1; the devnet's storage nodes stay idle during the hot runs. Runs alternate
# edge and nginx, ROUNDS times (default 3), and the summary gives each run and the medians.
#
#   benchmarks/edge.sh            needs wrk and nginx (installed with apt-get when missing, as root)
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../bin/env.sh"
rounds=${ROUNDS:-3}
cd "$OE_ROOT"
for tool in wrk nginx; do
  if ! command -v "$tool" >/dev/null && [ ! -x "/usr/sbin/$tool" ]; then
    echo "installing $tool..." >&2
    apt-get install -y -qq "$tool" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "$tool" >/dev/null; }
  fi
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d /tmp/oe-edge-bench.XXXXXX)
devnet_pid=
nginx_started=
cleanup() {
  local code=$?
  set +e
  [ -n "$nginx_started" ] && "$NGINX" -c "$work/nginx.conf" -s stop 2>/dev/null
  [ -n "$devnet_pid" ] && kill "$devnet_pid" 2>/dev/null && wait "$devnet_pid" 2>/dev/null
  rm -rf "$work"
  exit "$code"
}
trap cleanup EXIT

bin/oe version >/dev/null # builds once, before anything is timed
echo "starting a devnet (6 nodes, no chain) with its edge in $work ..." >&2
bin/oe devnet --data-dir "$work/devnet" --p2p-port 0 --api-port 0 --no-chain > "$work/devnet.log" 2>&1 &
devnet_pid=$!
for _ in $(seq 1 900); do
  [ -f "$work/devnet/devnet.json" ] && break
  kill -0 "$devnet_pid" 2>/dev/null || { cat "$work/devnet.log" >&2; exit 1; }
  sleep 0.2
done
[ -f "$work/devnet/devnet.json" ] || { echo "devnet did not start" >&2; exit 1; }
read -r api token_file edge edge_pid < <(python3 -c "
import json; d = json.load(open('$work/devnet/devnet.json'))
print(d['nodes'][0]['api'], d['nodes'][0]['apiToken'], d['edge']['url'], d['edge']['pid'])")
token=$(cat "$token_file")
mkdir -p "$work/www"
head -c 4096 /dev/urandom > "$work/www/4k.bin"
head -c 1048576 /dev/urandom > "$work/www/1m.bin"
head -c 1073741824 /dev/urandom > "$work/big.bin"
put() { curl -sf -H "Authorization: Bearer $token" -X POST -T "$1" "$api/v1/objects" | python3 -c 'import json,sys; print(json.load(sys.stdin)["cid"])'; }
cid4k=$(put "$work/www/4k.bin")
cid1m=$(put "$work/www/1m.bin")
echo "uploading 1 GiB for the cold ranges..." >&2
cidbig=$(put "$work/big.bin")
for c in "$cid4k" "$cid1m"; do curl -sf -o /dev/null "$edge/c/$c"; curl -sf -o /dev/null "$edge/c/$c"; done
curl -sf -o /dev/null -r 0-0 "$edge/c/$cidbig" # its manifest cached: the cold ranges time the chunks alone

nginx_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
daemon on;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  default_type application/octet-stream;
  client_body_temp_path $work/nginx-tmp; proxy_temp_path $work/nginx-tmp; fastcgi_temp_path $work/nginx-tmp;
  uwsgi_temp_path $work/nginx-tmp; scgi_temp_path $work/nginx-tmp;
  server { listen 127.0.0.1:$nginx_port; root $work/www; }
}
CONF
mkdir -p "$work/nginx-tmp"
chmod 755 "$work" "$work/www" && chmod 644 "$work"/www/* # nginx's worker runs as an unprivileged user
taskset -c 0 "$NGINX" -c "$work/nginx.conf"
nginx_started=1
sleep 0.5
taskset -a -p -c 0 "$edge_pid" >/dev/null # every thread of the edge's JVM on core 0
curl -sf -o /dev/null "http://127.0.0.1:$nginx_port/4k.bin"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=benchmarks/results/edge-$stamp.txt
machine="$(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; $("$JAVA" -version 2>&1 | head -1); $("$NGINX" -v 2>&1); $( (wrk -v 2>&1 || true) | head -1)"
run() { # name url -> "req/s MB/s p99"
  taskset -c 1 wrk -t1 -c32 -d10s --latency "$2" > "$work/wrk.txt" 2>&1
  python3 - "$work/wrk.txt" "$1" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
tr = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", t)
mb = float(tr.group(1)) * {"B": 1e-6, "KB": 1.024e-3, "MB": 1.048576, "GB": 1073.741824}[tr.group(2)]
p99 = re.search(r"99%\s+([\d.]+)(\w+)", t)
ms = float(p99.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[p99.group(2)]
errs = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
print(f"{sys.argv[2]} {rps:.0f} {mb:.1f} {ms:.2f} {errs.group(1) if errs else 0}")
PY
}
{
  echo "machine: $machine"
  echo "edge pinned to core 0 (taskset -a), nginx (1 worker, sendfile, access_log off) pinned to core 0, wrk -t1 -c32 -d10s on core 1"
  echo "run object server req/s MB/s p99_ms non2xx"
  for r in $(seq 1 "$rounds"); do
    for size in 4k 1m; do
      cid=$cid4k; [ "$size" = 1m ] && cid=$cid1m
      if [ $((r % 2)) = 1 ]; then order="edge nginx"; else order="nginx edge"; fi
      for server in $order; do
        if [ "$server" = edge ]; then url="$edge/c/$cid"; else url="http://127.0.0.1:$nginx_port/$size.bin"; fi
        echo "$r $size $(run "$server" "$url")"
      done
    done
  done
  echo "cold 1 MiB ranges of the 1 GiB object (time to first byte, s):"
  for off in 100 300 500 700 900; do
    from=$((off * 1048576 + 12345))
    curl -s -o /dev/null -r "$from-$((from + 1048575))" -w "offset ${off}MiB ttfb %{time_starttransfer} total %{time_total}\n" "$edge/c/$cidbig"
  done
} | tee "$out"
python3 - "$out" <<'PY' | tee -a "$out"
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l[:1].isdigit() and len(l.split()) == 7]
for size in ("4k", "1m"):
    e = [r for r in rows if r[1] == size and r[2] == "edge"]
    n = [r for r in rows if r[1] == size and r[2] == "nginx"]
    med = lambda rs, i: statistics.median(float(r[i]) for r in rs)
    print(f"median {size}: edge {med(e,3):.0f} req/s {med(e,4):.1f} MB/s p99 {med(e,5):.2f} ms; "
          f"nginx {med(n,3):.0f} req/s {med(n,4):.1f} MB/s p99 {med(n,5):.2f} ms; "
          f"ratio req/s {med(e,3)/med(n,3):.2f}x MB/s {med(e,4)/med(n,4):.2f}x")
PY
echo "results in $out" >&2
