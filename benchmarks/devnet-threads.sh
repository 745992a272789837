#!/usr/bin/env bash
# CPU by thread name of the six nodes during 3 round trips of 1 GiB, after WARM (32) of 256 MiB.
# Usage: benchmarks/devnet-threads.sh OUT [--no-paid-storage]   (WARM=N warm-up round trips, default 32)
set -euo pipefail
out=$(realpath -m "$1"); shift
source "$(dirname "$(readlink -f "$0")")/../bin/env.sh"; cd "$OE_ROOT"
w=$(mktemp -d /tmp/oe-thr.XXXXXX)
bin/oe devnet --data-dir $w/d --p2p-port 0 --api-port 0 --repair-interval 1h --node-heap 512m "$@" > $w/devnet.log 2>&1 &
dp=$!
trap 'set +e; kill $dp 2>/dev/null; wait $dp 2>/dev/null; rm -rf "$w"' EXIT # set +e: a killed devnet's exit status must not stop the clean-up (20 GB a run)
for i in $(seq 1 300); do [ -f $w/d/devnet.json ] && break; sleep 0.5; done
api0=$(python3 -c "import json;print(json.load(open('$w/d/devnet.json'))['nodes'][0]['api'])")
api3=$(python3 -c "import json;print(json.load(open('$w/d/devnet.json'))['nodes'][3]['api'])")
tok=$(cat $w/d/node-0/api-token)
pids=$(python3 -c "import json;print(' '.join(str(n['pid']) for n in json.load(open('$w/d/devnet.json'))['nodes']))")
snap() {
  python3 - $pids <<'PY'
import os, sys, re, collections, json
c = collections.Counter()
for pid in sys.argv[1:]:
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            s = open(f"/proc/{pid}/task/{t}/stat").read()
        except OSError:
            continue
        name = re.sub(r'[-#]?\d+', '', s[s.index('(') + 1:s.rindex(')')])
        f = s[s.rindex(')') + 2:].split()
        c[name] += (int(f[11]) + int(f[12]))
print(json.dumps(c))
PY
}
for i in $(seq 1 ${WARM:-32}); do
  head -c $((256<<20)) /dev/urandom > $w/obj
  cid=$(curl -sS -H "Authorization: Bearer $tok" -X POST -T $w/obj "$api0/v1/objects" | python3 -c "import json,sys;print(json.load(sys.stdin)['cid'])")
  curl -sS -o /dev/null "$api3/v1/objects/$cid"
done
mkdir -p $out
snap > $out/before.json
for r in 1 2 3; do
  head -c $((1024<<20)) /dev/urandom > $w/obj
  t=$(curl -sS -o $w/up.json -w '%{time_total}' -H "Authorization: Bearer $tok" -X POST -T $w/obj "$api0/v1/objects")
  cid=$(python3 -c "import json;print(json.load(open('$w/up.json'))['cid'])")
  d=$(curl -sS -o /dev/null -w '%{time_total}' "$api3/v1/objects/$cid")
  echo "run $r: upload $t s, download $d s" | tee -a $out/runs.txt
done
snap > $out/after.json
python3 - $out <<'PY'
import json, sys
o = sys.argv[1]
b = json.load(open(o + '/before.json')); a = json.load(open(o + '/after.json'))
d = {k: (a.get(k, 0) - b.get(k, 0)) / 100 for k in a}
tot = sum(d.values())
print(f'total {tot:.1f} s')
for k, v in sorted(d.items(), key=lambda x: -x[1])[:30]:
    print(f'{v:7.2f} s  {k}')
PY
