#!/usr/bin/env bash
# One large object through a real devnet (six `oe node` processes on loopback, RS(4,2), without
# OEChain: this measures storage), with curl
# as the client:
#   first object     one object of the same size on the fresh devnet, before anything else: the six
#                    JVMs compile their hot code while it runs (what a user sees right after start)
#   upload MB/s      curl -X POST -T object (streamed from disk) to node 0, after a warm-up of
#                    WARMUP (default 32) 256 MiB round trips: the steady state of a running network
#   download MB/s    curl from node 3 (a node that did not take the upload), bytes checked by SHA-256
#   peak heap        of node 0 (it took the uploads): the most heap left after any collection (from
#                    its GC log), and the most in use sampled from /metrics every 0.2 s; every node
#                    runs with -Xmx512m (--node-heap), so finishing at all shows the bound holds
#   node CPU         CPU seconds of the six node processes over the measured runs, and how many of
#                    them their JIT compilers took (six JVMs warming up on two cores)
#   repair           node 5 is killed -9, its store wiped and restarted (a replaced disk); every node
#                    is asked to repair now (POST /v1/repair) and the time until every segment has
#                    k + m healthy shards again is measured
#
#   benchmarks/devnet.sh [SIZE_MIB] [RUNS]      defaults: 1024 MiB, 3 runs (median reported)
#   WARMUP=0 benchmarks/devnet.sh               measures right after the first object instead
#   CHAIN=1 [PAID=0] benchmarks/devnet.sh       with OEChain: uploads buy contracts (PAID=0: they do not)
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../bin/env.sh"
size_mib=${1:-1024}
runs=${2:-3}
warmup=${WARMUP:-32}
cd "$OE_ROOT"
# CHAIN=1: with OEChain (4 super-nodes), uploads buying storage contracts; CHAIN=1 PAID=0: with
# OEChain but no contracts (the same processes, for the contracts' own cost)
chain_flags=--no-chain
if [ "${CHAIN:-0}" = 1 ]; then
  chain_flags=; [ "${PAID:-1}" = 0 ] && chain_flags=--no-paid-storage
fi

work=$(mktemp -d /tmp/oe-devnet-bench.XXXXXX)
devnet_pid=
cleanup() {
  local code=$?
  set +e
  [ -n "$devnet_pid" ] && kill "$devnet_pid" 2>/dev/null && wait "$devnet_pid" 2>/dev/null
  [ -n "${sampler:-}" ] && kill "$sampler" 2>/dev/null
  [ -n "${restarted:-}" ] && kill "$restarted" 2>/dev/null
  rm -rf "$work"
  exit "$code"
}
trap cleanup EXIT

bin/oe version >/dev/null # builds once, before anything is timed
echo "starting a 6-node devnet in $work ..." >&2
# GC log per node: the heap left after each collection is what the node really needs
OE_NODE_JAVA_OPTS="-Xlog:gc:file=$work/gc-%p.log" \
bin/oe devnet --data-dir "$work/devnet" --p2p-port 0 --api-port 0 --repair-interval 1h --node-heap 512m $chain_flags \
  > "$work/devnet.log" 2>&1 &
devnet_pid=$!
for _ in $(seq 1 600); do
  [ -f "$work/devnet/devnet.json" ] && break
  kill -0 "$devnet_pid" 2>/dev/null || { cat "$work/devnet.log" >&2; exit 1; }
  sleep 0.2
done
[ -f "$work/devnet/devnet.json" ] || { echo "devnet did not start" >&2; exit 1; }
node() { python3 -c "import json,sys; print(json.load(open('$work/devnet/devnet.json'))['nodes'][$1]['$2'])"; }
api0=$(node 0 api); api3=$(node 3 api)
# the API token of node $1 (devnet.json names the file, mode 0600): uploads, /metrics, repair and health need it
auth() { echo "Authorization: Bearer $(cat "$(node "$1" apiToken)")"; }
auth0=$(auth 0)

bytes=$((size_mib << 20))

heap_sample() { # max of the heap in use on node 0, sampled until killed
  local max=0
  while true; do
    v=$(curl -s -H "$auth0" "$api0/metrics" | awk '/^jvm_memory_used_bytes.area="heap"/ {s+=$NF} END {printf "%d", s}')
    [ "${v:-0}" -gt "$max" ] && max=$v && echo "$max" > "$work/heap.max"
    sleep 0.2
  done
}
echo 0 > "$work/heap.max"
heap_sample & sampler=$!

echo "first object on the fresh devnet..." >&2
head -c "$bytes" /dev/urandom > "$work/object.bin"
t=$(curl -sS -o "$work/up.json" -w '%{time_total}' -H "$auth0" -X POST -T "$work/object.bin" "$api0/v1/objects")
first_up=$(python3 -c "print(f'{$bytes / $t / 1e6:.0f}')")
cid=$(python3 -c "import json; print(json.load(open('$work/up.json'))['cid'])")
t=$(curl -sS -o /dev/null -w '%{time_total}' "$api3/v1/objects/$cid")
first_down=$(python3 -c "print(f'{$bytes / $t / 1e6:.0f}')")
echo "first object: upload $first_up MB/s, download $first_down MB/s" >&2
if [ "$warmup" -gt 0 ]; then
  echo "warm-up: $warmup round trips of 256 MiB (not counted)..." >&2
  for _ in $(seq 1 "$warmup"); do
    head -c $((256 << 20)) /dev/urandom > "$work/warm.bin" # new bytes: nothing is already stored
    wcid=$(curl -sS -H "$auth0" -X POST -T "$work/warm.bin" "$api0/v1/objects" | python3 -c "import json,sys; print(json.load(sys.stdin)['cid'])")
    curl -sS -o /dev/null "$api3/v1/objects/$wcid"
  done
fi
# CPU seconds of every node process, and of their JIT compiler threads: "total jit"
node_cpu() {
  python3 - "$work/devnet/devnet.json" <<'PY'
import json, os, sys
total = jit = 0.0
for n in json.load(open(sys.argv[1]))['nodes']:
    for t in os.listdir(f"/proc/{n['pid']}/task"):
        try:
            s = open(f"/proc/{n['pid']}/task/{t}/stat").read()
        except OSError:
            continue
        f = s[s.rindex(')') + 2:].split()
        cpu = (int(f[11]) + int(f[12])) / os.sysconf('SC_CLK_TCK')
        total += cpu
        jit += cpu if 'Compiler' in s[s.index('(') + 1:s.rindex(')')] else 0
print(f"{total:.1f} {jit:.1f}")
PY
}
read -r cpu_before jit_before < <(node_cpu)
ups=(); downs=(); cid=
for r in $(seq 1 "$runs"); do
  # new random bytes every run: an object already stored would only add pins
  head -c "$bytes" /dev/urandom > "$work/object.bin"
  t=$(curl -sS -o "$work/up.json" -w '%{time_total}' -H "$auth0" -X POST -T "$work/object.bin" "$api0/v1/objects")
  cid=$(python3 -c "import json; print(json.load(open('$work/up.json'))['cid'])")
  ups+=("$(python3 -c "print(f'{$bytes / $t / 1e6:.0f}')")")
  t=$(curl -sS -o /dev/null -w '%{time_total}' "$api3/v1/objects/$cid")
  downs+=("$(python3 -c "print(f'{$bytes / $t / 1e6:.0f}')")")
  echo "run $r: upload ${ups[-1]} MB/s, download ${downs[-1]} MB/s" >&2
done
read -r cpu_after jit_after < <(node_cpu)
kill "$sampler"; sampler=
want=$(sha256sum "$work/object.bin" | cut -d' ' -f1)
got=$(curl -sS "$api3/v1/objects/$cid" | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] || { echo "downloaded bytes differ from the upload" >&2; exit 1; }
heap_max=$(cat "$work/heap.max")
pid0=$(node 0 pid)
# "Pause Young (Normal) (G1 Evacuation Pause) 301M->45M(512M)": the largest after-collection figure
heap_after_gc=$(grep -o '[0-9]*M->[0-9]*M' "$work"/gc-"$pid0".log | sed 's/.*->//; s/M//' | sort -n | tail -1)

echo "repair: kill -9 node 5, wipe its store, restart it..." >&2
pid5=$(node 5 pid); dir5=$(node 5 dataDir)
kill -9 "$pid5"; while kill -0 "$pid5" 2>/dev/null; do sleep 0.1; done
rm -rf "$dir5/store"
mapfile -t cmd5 < <(python3 -c "import json; print('\n'.join(json.load(open('$work/devnet/devnet.json'))['nodes'][5]['cmd']))")
"${cmd5[@]}" > "$work/node5-again.log" 2>&1 & restarted=$!
for _ in $(seq 1 300); do grep -q '; ready' "$work/node5-again.log" && break; sleep 0.2; done
t0=$(date +%s.%N)
for i in 0 1 2 3 4 5; do curl -sS -H "$(auth $i)" -X POST "$(node $i api)/v1/repair" -o /dev/null & done
wait $(jobs -p | grep -v "^$devnet_pid\$" | grep -v "^$restarted\$") 2>/dev/null || true
weakest=0
for _ in $(seq 1 120); do
  weakest=$(curl -sS -H "$auth0" "$api0/v1/health/$cid" | python3 -c "import json,sys; print(json.load(sys.stdin)['weakest'])")
  [ "$weakest" = 6 ] && break
  sleep 0.5
done
t1=$(date +%s.%N)
repair_s=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
[ "$weakest" = 6 ] || echo "warning: weakest segment has $weakest of 6 healthy shards after repair" >&2

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
machine="$(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; $("$JAVA" -version 2>&1 | head -1)"
echo
echo "devnet, 6 nodes, RS(4,2), $size_mib MiB object, $runs runs ($machine)"
echo "first object on the fresh devnet: upload $first_up MB/s, download $first_down MB/s"
echo "after a warm-up of $warmup round trips of 256 MiB:"
echo "upload   MB/s: ${ups[*]}  -> median $(median "${ups[@]}")"
echo "download MB/s: ${downs[*]}  -> median $(median "${downs[@]}")"
echo "node 0 heap: at most ${heap_after_gc} MiB left after a collection (what it needs); in use at most $((heap_max >> 20)) MiB, garbage included (-Xmx512m)"
echo "node CPU in the measured runs: $(python3 -c "print(f'{$cpu_after - $cpu_before:.1f} s, of which JIT compiler threads {$jit_after - $jit_before:.1f} s ({100 * ($jit_after - $jit_before) / max(0.1, $cpu_after - $cpu_before):.0f} %)')")"
echo "repair of one wiped node (weakest segment back to $weakest of 6): $repair_s s"
