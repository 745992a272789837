#!/usr/bin/env python3
"""Prints the summary table of a benchmarks/run.sh run: JMH JSON files, the ISA-L C baseline
(isal-*.txt) and `openssl speed` output (openssl-sha256-*.txt), with the targets as ratios."""
import argparse, json, os, re, statistics

p = argparse.ArgumentParser()
p.add_argument("--machine", default="")
p.add_argument("files", nargs="+")
a = p.parse_args()

jmh, isal, openssl = [], {}, None
for f in a.files:
    name = os.path.basename(f)
    if f.endswith(".json"):
        jmh += json.load(open(f))
    elif name.startswith("isal-"):
        for line in open(f):
            _, op, k, m, size, med, lo, hi = line.split()
            isal[(op, int(k), int(m), int(size))] = float(med)
    elif name.startswith("openssl-"):
        # "sha256   1803026.43k" : k = 1000 bytes per second
        m = re.search(r"([\d.]+)k\s*$", open(f).read().strip())
        openssl = float(m.group(1)) * 1000 / 1e9 if m else None

def median(r):
    return statistics.median(x for fork in r["primaryMetric"]["rawData"] for x in fork)

def alloc(r):
    s = r.get("secondaryMetrics", {}).get("gc.alloc.rate.norm")
    return s["score"] if s else float("nan")

print(f"machine: {a.machine}")
erasure = {}
rows = []
for r in jmh:
    bench = r["benchmark"].rsplit(".", 1)[1]
    prm = r.get("params", {})
    if "code" in prm:
        k, m = map(int, prm["code"].split("+"))
        size = int(prm["shardSize"])
        scale = k * size / 1e9  # ops/s -> GB/s of data bytes
        op = "encode" if bench == "encode" else "reconstruct2"
        gbs, err = median(r) * scale, r["primaryMetric"]["scoreError"] * scale
        erasure[(op, prm["backend"], prm["memory"], k, m, size)] = gbs
        rows.append((f"{op} RS({k},{m}) {size // 1024} KiB", f"{prm['backend']}/{prm['memory']}", gbs, err, alloc(r)))
    else:
        size = (8 if "8MiB" in bench else 1) * 2**20
        rows.append((bench, "", median(r) * size / 1e9, r["primaryMetric"]["scoreError"] * size / 1e9, alloc(r)))

if rows:
    print(f"\n{'benchmark':34} {'impl':16} {'GB/s (median)':>14} {'± error':>9} {'B/op':>10}")
    for name, impl, gbs, err, b in sorted(rows):
        print(f"{name:34} {impl:16} {gbs:14.3f} {err:9.3f} {b:10.1f}")
if isal:
    print(f"\n{'ISA-L C (ec_encode_data)':34} {'':16} {'GB/s (median)':>14}")
    for (op, k, m, size), v in sorted(isal.items()):
        print(f"{op + f' RS({k},{m}) {size // 1024} KiB':34} {'isal-c':16} {v:14.3f}")

def ratio_line(label, num, den, target):
    if num is None or den is None or den == 0:
        return
    r = num / den
    print(f"{label:70} {r:7.2f}  target {target:>6}  {'MET' if r >= float(target.rstrip('x')) else 'NOT MET'}")

print("\ntargets")
key = lambda op, be, mem: erasure.get((op, be, mem, 10, 4, 1048576))
if erasure:
    ratio_line("vector/heap encode RS(10,4) 1 MiB vs scalar", key("encode", "vector", "heap"), key("encode", "scalar", "heap"), "10x")
    ratio_line("vector/heap encode RS(10,4) 1 MiB vs ISA-L C", key("encode", "vector", "heap"), isal.get(("encode", 10, 4, 1048576)), "0.25x")
    ratio_line("vector/heap reconstruct 2 data vs its encode, RS(10,4) 1 MiB", key("reconstruct2", "vector", "heap"), key("encode", "vector", "heap"), "0.7x")
    ratio_line("isal/direct (FFM) encode RS(10,4) 1 MiB vs ISA-L C", key("encode", "isal", "direct"), isal.get(("encode", 10, 4, 1048576)), "0.9x")
    for k, m in [(4, 2), (10, 4), (17, 3)]:
        for size in (65536, 1048576):
            v = erasure.get(("encode", "vector", "heap", k, m, size))
            c = isal.get(("encode", k, m, size))
            if v and c:
                print(f"  vector/heap vs ISA-L C, encode RS({k},{m}) {size // 1024} KiB: {v / c:.2f}x"
                      f"   isal/direct vs C: {erasure.get(('encode', 'isal', 'direct', k, m, size), 0) / c:.2f}x")
sha = next((g for n, i, g, e, b in rows if n == "sha256_1MiB"), None)
if openssl is not None:
    print(f"openssl speed -evp sha256, 1 MiB: {openssl:.3f} GB/s")
    ratio_line("JDK SHA-256 1 MiB vs openssl", sha, openssl, "0.9x")
enc_alloc = [(n, b) for n, i, g, e, b in rows if n.startswith("encode") and i == "vector/heap"]
if enc_alloc:
    print("vector/heap encode allocation (gc.alloc.rate.norm; target 0 in steady state — JMH's own"
          " bookkeeping shows as a few bytes spread over the ops, one real object per op would be >= 16 B):")
    for n, b in enc_alloc:
        print(f"  {n:32} {b:8.1f} B/op")
