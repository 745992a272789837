#!/usr/bin/env bash
# The devnet's S3 gateway against S3Proxy, on this machine in the same run (issue 27's targets):
#   large          one PUT of a 1 GiB object (AWS SDK v2 putObject from a file, new random bytes every
#                  round), then one GET of it (bytes drained and counted): MB/s of each
#   small          10,000 PUTs, then 10,000 GETs, of distinct 4 KiB objects by 32 threads sharing one
#                  SDK client: ops/s, p50 and p99 latency of each
# Servers: node 0's S3 gateway of a 6-node devnet (RS(4,2), without OEChain and without the CDN edge:
# this measures storage, as devnet.sh does; -Xmx512m per node, as devnet.sh), and S3Proxy 2.6.0
# (org.gaul:s3proxy from Maven Central, jclouds' filesystem backend in this run's directory,
# -Xmx512m). Unpinned, as devnet.sh: the six node JVMs, S3Proxy and the load generator
# (benchmarks/src/main/java/io/oecloud/bench/S3Load.java) share both cores; PIN=1 puts the servers
# on core 0 and the load generator on core 1, as edge.sh does (six JVMs on one core: slow).
# Each server first gets a warm-up (not counted): one 256 MiB object and 1,000 small round trips.
# The 1-minute load average is sampled every 10 s and reported (it counts this run's own threads too),
# and the busiest other processes at the end: other work on the machine shows.
# Runs alternate the servers, ROUNDS times (default 3); the summary gives each run, the medians and
# the ratios gateway/S3Proxy.
#
#   benchmarks/s3.sh                     ~15 min on 2 cores
#   ROUNDS=5 benchmarks/s3.sh            more rounds
#   S3LOAD_ARGS='--large-mib 64 --count 500' ROUNDS=1 benchmarks/s3.sh    a quick try (see S3Load's options)
#   CHECKSUMS=default benchmarks/s3.sh   the SDK's default checksums (aws-chunked + CRC32 trailer);
#                                        S3Proxy 2.6.0 answers those PUTs 400 XAmzContentSHA256Mismatch
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../bin/env.sh"
rounds=${ROUNDS:-3}
checksums=${CHECKSUMS:-when-required}
cd "$OE_ROOT"
if [ "${PIN:-0}" = 1 ]; then server_cpu=(taskset -c 0); client_cpu=(taskset -c 1); else server_cpu=(); client_cpu=(); fi

work=$(mktemp -d /tmp/oe-s3-bench.XXXXXX)
devnet_pid=
proxy_pid=
cleanup() {
  local code=$?
  set +e
  [ -n "${sampler:-}" ] && kill "$sampler" 2>/dev/null
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null
  [ -n "$devnet_pid" ] && kill "$devnet_pid" 2>/dev/null && wait "$devnet_pid" 2>/dev/null
  rm -rf "$work"
  exit "$code"
}
trap cleanup EXIT

echo "building the load generator (mvn package of benchmarks)..." >&2
mvn -B -q -DskipTests -pl benchmarks -am package
bin/oe version >/dev/null # builds the node once, before anything is timed

echo "resolving S3Proxy 2.6.0's classpath..." >&2
mkdir -p "$work/s3proxy/data"
cat > "$work/s3proxy/pom.xml" <<'POM'
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.bench</groupId>
  <artifactId>s3proxy-classpath</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.gaul</groupId><artifactId>s3proxy</artifactId><version>2.6.0</version></dependency>
  </dependencies>
  <build><plugins><plugin>
    <groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>3.11.0</version>
  </plugin></plugins></build>
</project>
POM
(cd "$work/s3proxy" && mvn -B -q dependency:build-classpath -Dmdep.outputFile=cp.txt -Dmdep.includeScope=runtime)
proxy_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
proxy_key=bench-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
proxy_secret=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
cat > "$work/s3proxy/s3proxy.conf" <<CONF
s3proxy.endpoint=http://127.0.0.1:$proxy_port
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$proxy_key
s3proxy.credential=$proxy_secret
jclouds.provider=filesystem
jclouds.filesystem.basedir=$work/s3proxy/data
CONF
# without a configuration logback logs at DEBUG (every Jetty event): that alone would be the benchmark
cat > "$work/s3proxy/logback.xml" <<'XML'
<configuration>
  <appender name="STDERR" class="ch.qos.logback.core.ConsoleAppender">
    <target>System.err</target>
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{36} - %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="STDERR"/></root>
</configuration>
XML

echo "starting a devnet (6 nodes, no chain, no edge) in $work ..." >&2
"${server_cpu[@]}" bin/oe devnet --data-dir "$work/devnet" --p2p-port 0 --api-port 0 --no-chain --no-edge \
  --repair-interval 1h --node-heap 512m > "$work/devnet.log" 2>&1 &
devnet_pid=$!
for _ in $(seq 1 900); do
  [ -f "$work/devnet/devnet.json" ] && break
  kill -0 "$devnet_pid" 2>/dev/null || { cat "$work/devnet.log" >&2; exit 1; }
  sleep 0.2
done
[ -f "$work/devnet/devnet.json" ] || { echo "devnet did not start" >&2; exit 1; }
read -r gw_url gw_keys < <(python3 -c "
import json; d = json.load(open('$work/devnet/devnet.json'))
print(d['s3']['url'], d['s3']['keys'])")
read -r gw_key gw_secret < <(python3 -c "
import json; k = json.load(open('$gw_keys'))['keys'][0]; print(k['accessKeyId'], k['secret'])")

echo "starting S3Proxy on 127.0.0.1:$proxy_port ..." >&2
"${server_cpu[@]}" "$JAVA" -Xmx512m -Dlogback.configurationFile="$work/s3proxy/logback.xml" \
  -cp "$(cat "$work/s3proxy/cp.txt")" org.gaul.s3proxy.Main --properties "$work/s3proxy/s3proxy.conf" \
  > "$work/s3proxy.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 1 300); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$proxy_port/" || true)" = 403 ] && break
  kill -0 "$proxy_pid" 2>/dev/null || { echo "S3Proxy exited:" >&2; cat "$work/s3proxy.log" >&2; exit 1; }
  sleep 0.2
done

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=benchmarks/results/s3-$stamp.txt
machine="$(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB; $("$JAVA" -version 2>&1 | head -1)"
{
  echo "machine: $machine"
  echo "commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "gateway: node 0 of a 6-node devnet, RS(4,2), --no-chain --no-edge, -Xmx512m per node; S3Proxy 2.6.0, filesystem backend, -Xmx512m"
  if [ ${#server_cpu[@]} -gt 0 ]; then echo "servers on core 0 (taskset), load generator on core 1"; else echo "unpinned"; fi
  echo "client: AWS SDK for Java v2 2.59.1, UrlConnectionHttpClient, path style, no retries, checksums: $checksums; large = 1 GiB putObject from a file, GET drained; small = 10,000 x 4 KiB, 32 threads"
  echo "rows: large ROUND SERVER put|get MB/s seconds bytes status | small ROUND SERVER put|get ops/s p50_ms p99_ms ok errors | error ROUND SERVER OP STATUS CODE COUNT"
} > "$out"
echo "running $rounds rounds (results in $out) ..." >&2
(while true; do cut -d' ' -f1 /proc/loadavg >> "$work/loadavg"; sleep 10; done) & sampler=$!
S3LOAD_A_KEY=$gw_key S3LOAD_A_SECRET=$gw_secret S3LOAD_B_KEY=$proxy_key S3LOAD_B_SECRET=$proxy_secret \
"${client_cpu[@]}" "$JAVA" -Xmx2g -cp 'benchmarks/target/oe-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*' \
  io.oecloud.bench.S3Load --a "gateway=$gw_url" --b "s3proxy=http://127.0.0.1:$proxy_port" --dir "$work" \
  --rounds "$rounds" --checksums "$checksums" --warmup-small 1000 ${S3LOAD_ARGS:-} 2> "$work/load.err" | tee -a "$out" || true
grep -v -e '^SLF4J' "$work/load.err" >> "$out" || true
kill "$sampler" 2>/dev/null; sampler=
{
  echo "1-minute load average over the run (every 10 s; it counts this run's own threads too): $(sort -n "$work/loadavg" | awk '{a[NR]=$1} END {print "min " a[1] ", median " a[int((NR+1)/2)] ", max " a[NR]}')"
  echo "other processes at the end (CPU% since start, top 5, ours excluded):"
  ps -eo pid,pcpu,etime,comm,args --sort=-pcpu | grep -v -e "$work" -e S3Load -e "ps -eo" | sed -n '2,6p' | cut -c1-160
} >> "$out"

# failures: what node 0 (the gateway) and S3Proxy logged about them
if grep -q -e '^error ' -e 'FAILED' "$out"; then
  {
    echo "gateway (node 0) log, WARN/ERROR lines (first 40):"
    grep -E 'WARN|ERROR|Exception' "$work/devnet/node-0/node.log" | head -40 || true
    echo "S3Proxy log (first 40 lines):"
    head -40 "$work/s3proxy.log" || true
  } >> "$out"
fi
python3 - "$out" <<'PY' | tee -a "$out"
import statistics, sys
large, small = {}, {}
for l in open(sys.argv[1]):
    f = l.split()
    if len(f) == 8 and f[0] == "large" and f[7] == "ok":
        large.setdefault((f[2], f[3]), []).append(float(f[4]))
    elif len(f) == 9 and f[0] == "small":
        small.setdefault((f[2], f[3]), []).append((float(f[4]), float(f[5]), float(f[6]), int(f[8])))
med = statistics.median
def ratio(a, b):
    return a / b if b else float("nan")
def m(rows, i):
    return med(r[i] for r in rows) if rows else float("nan")
print("medians:")
for op in ("put", "get"):
    g, p = large.get(("gateway", op), []), large.get(("s3proxy", op), [])
    gm, pm = (med(g) if g else float("nan")), (med(p) if p else float("nan"))
    print(f"large {op}: gateway {gm:.1f} MB/s ({len(g)} ok), s3proxy {pm:.1f} MB/s ({len(p)} ok); ratio {ratio(gm, pm):.2f}x")
for op in ("put", "get"):
    g, p = small.get(("gateway", op), []), small.get(("s3proxy", op), [])
    print(f"small {op}: gateway {m(g,0):.0f} ops/s p50 {m(g,1):.2f} ms p99 {m(g,2):.2f} ms ({sum(r[3] for r in g)} errors); "
          f"s3proxy {m(p,0):.0f} ops/s p50 {m(p,1):.2f} ms p99 {m(p,2):.2f} ms ({sum(r[3] for r in p)} errors); "
          f"ratio ops/s {ratio(m(g,0), m(p,0)):.2f}x")
print("targets (issue 27): large PUT >= 0.8x, large GET >= 0.5x, small ops/s >= 0.5x S3Proxy's")
PY
echo "results in $out" >&2
