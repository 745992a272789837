#!/usr/bin/env bash
# What a storage node keeps on its heap, to compare two versions of the code: starts a devnet
# (six nodes, no chain, 512 MiB heaps) from the checkout TREE, puts and gets eight fresh
# 256 MiB objects through node 0, then writes to benchmarks/results/heap-histogram-STAMP-NAME.txt:
#   - node 0's class histogram after a full collection (jcmd GC.class_histogram): what is retained
#   - jcmd GC.heap_info
#   - the heap left after each collection during the run (its GC log): count, median, p90, max;
#     the maximum catches whatever segments are in flight at the pause, so compare medians
#
#   benchmarks/heap-histogram.sh TREE NAME      e.g. benchmarks/heap-histogram.sh ../old-checkout before
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: benchmarks/heap-histogram.sh TREE NAME" >&2; exit 2; }
tree=$(readlink -f "$1"); name=$2
here=$(dirname "$(readlink -f "$0")")
source "$here/../bin/env.sh"
out="$here/results/heap-histogram-$(date -u +%Y%m%dT%H%MZ)-$name.txt"
work=$(mktemp -d /tmp/oe-heap.XXXXXX)
devnet_pid=
cleanup() {
  if [ -n "$devnet_pid" ]; then
    kill "$devnet_pid" 2>/dev/null || true
    wait "$devnet_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

cd "$tree"
bin/oe version >/dev/null # builds once, before the devnet starts
OE_NODE_JAVA_OPTS="-Xlog:gc:file=$work/gc-%p.log" \
  bin/oe devnet --no-chain --node-heap 512m --repair-interval 1h --data-dir "$work/devnet" --api-port 0 --p2p-port 0 \
  > "$work/devnet.log" 2>&1 &
devnet_pid=$!
for _ in $(seq 1 600); do
  [ -f "$work/devnet/devnet.json" ] && break
  kill -0 "$devnet_pid" 2>/dev/null || { cat "$work/devnet.log" >&2; exit 1; }
  sleep 0.2
done
[ -f "$work/devnet/devnet.json" ] || { echo "devnet did not start" >&2; exit 1; }
node0() { python3 -c "import json; print(json.load(open('$work/devnet/devnet.json'))['nodes'][0]['$1'])"; }
api=$(node0 api); pid=$(node0 pid)
auth="Authorization: Bearer $(cat "$(node0 apiToken)")"
for i in 1 2 3 4 5 6 7 8; do
  head -c $((256 << 20)) /dev/urandom > "$work/object.bin"
  cid=$(curl -sS --max-time 300 -H "$auth" -X POST -T "$work/object.bin" "$api/v1/objects" \
    | python3 -c "import sys, json; print(json.load(sys.stdin)['cid'])")
  curl -sS --max-time 300 -o /dev/null "$api/v1/objects/$cid"
  echo "object $i of 8 put and got" >&2
done
{
  echo "code: $tree ($(git -C "$tree" rev-parse --short HEAD)); machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores"
  "$JAVA_HOME/bin/jcmd" "$pid" GC.class_histogram | head -30
  "$JAVA_HOME/bin/jcmd" "$pid" GC.heap_info
  echo "heap left after each collection during the run, MiB (count, median, p90, max):"
  grep -o '[0-9]*M->[0-9]*M' "$work/gc-$pid.log" | sed 's/.*->//; s/M//' | sort -n \
    | awk '{a[NR] = $1} END {print NR, a[int(NR / 2) + 1], a[int(NR * 0.9) + 1], a[NR]}'
} | tee "$out"
echo "written: $out" >&2
