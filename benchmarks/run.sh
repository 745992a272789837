#!/usr/bin/env bash
# Runs the JMH benchmarks (and the native baselines they are compared with), writes the raw
# results under benchmarks/results/ and prints a summary table with the targets' ratios.
#
#   benchmarks/run.sh erasure [--quick]   Reed-Solomon: Java vector/scalar/ISA-L-through-FFM vs ISA-L's C
#   benchmarks/run.sh codec [--quick]     decoding a degraded segment: a codec kept per RS(k, m) vs one built per segment
#   benchmarks/run.sh hash [--quick]      SHA-256, BLAKE3 (ours and Bouncy Castle's), CIDs vs openssl speed
#   benchmarks/run.sh p2p [--quick]       libp2p host on loopback: one stream, 64 streams, dial and identify latency
#   benchmarks/run.sh dht [--quick]       the Kademlia DHT on 1,000 and 10,000 simulated nodes (hops, messages, churn)
#   benchmarks/run.sh store [--quick]     shard store layouts: RocksDB BlobDB vs files indexed by RocksDB
#   benchmarks/run.sh chain [--quick]     OEChain on 4 CometBFT validators vs CometBFT's kvstore: tx/s, commit latency
#   benchmarks/run.sh sig [--quick]       Ed25519 checks: Bouncy Castle vs OEChain's TxSignatures (libsodium); signing a transfer
#   benchmarks/run.sh ledger [--quick]    OEChain's ledger: one block of 100 transfers at 1,000 / 10,000 / 100,000 accounts; then settlement
#   benchmarks/run.sh settlement [--quick] paid storage: settling one period, and one block of held-list leaves, 1,000 nodes, 10,000 and 100,000 contracts
#   benchmarks/run.sh slice [--quick]     BLAKE3 verified slices of an 8 MiB shard: verify, prove (outboard vs content), outboard build vs hash
#   benchmarks/run.sh roots [--quick]     node roots: build over 100,000 entries, one inclusion proof, verify one, 32 challenges
#   benchmarks/run.sh beacon [--quick]    the chain's BLS beacon: a contribution, an extension's check, a block's beacon (4 and 21 validators)
#   benchmarks/run.sh prove [--quick]     a store's chunk proof from disk (outboard + 16 KiB groups) against a whole-shard read
#   benchmarks/run.sh proofs [--quick]    slice, roots, beacon and prove, one after the other
#   benchmarks/run.sh all [--quick]       erasure and hash (p2p, dht and store run on their own)
#
# --quick shortens warm-up and measurement (for trying things; record full runs only).
set -euo pipefail
source "$(dirname "$(readlink -f "$0")")/../bin/env.sh"
suite=${1:-all}
quick=${2:-}
case "$suite" in erasure|codec|hash|p2p|dht|store|chain|sig|ledger|settlement|slice|roots|beacon|prove|proofs|all) ;; *) echo "usage: benchmarks/run.sh erasure|codec|hash|p2p|dht|store|chain|sig|ledger|settlement|slice|roots|beacon|prove|proofs|all [--quick]" >&2; exit 2 ;; esac

cd "$OE_ROOT"
results=benchmarks/results
mkdir -p "$results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)

echo "building benchmarks (mvn package)..." >&2
mvn -B -q -DskipTests -pl benchmarks -am package

cp="benchmarks/target/oe-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*"
if [ "$quick" = --quick ]; then
  timing=(-f 1 -wi 1 -w 500ms -i 3 -r 500ms)
else
  timing=(-f 1 -wi 3 -w 1s -i 5 -r 1s)
fi
jmh() {
  "$JAVA" "${OE_JVM_FLAGS[@]}" -cp "$cp" org.openjdk.jmh.Main "${timing[@]}" \
    -jvmArgsAppend "${OE_JVM_FLAGS[*]}" "$@" 2> >(grep -v '^WARNING: Using incubator modules' >&2)
}

machine="$(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; $("$JAVA" -version 2>&1 | head -1)"
files=()

if [ "$suite" = erasure ] || [ "$suite" = all ]; then
  if [ ! -f /usr/include/isa-l/erasure_code.h ]; then
    echo "installing libisal-dev for the ISA-L baseline..." >&2
    if [ "$(id -u)" = 0 ]; then apt-get install -y -qq libisal-dev >/dev/null || { apt-get update -qq && apt-get install -y -qq libisal-dev >/dev/null; }
    else sudo apt-get install -y -qq libisal-dev >/dev/null; fi
  fi
  mkdir -p benchmarks/target/native
  gcc -O2 -o benchmarks/target/native/ec_bench benchmarks/isal/ec_bench.c -lisal
  echo "ISA-L C baseline..." >&2
  benchmarks/target/native/ec_bench | tee "$results/isal-$stamp.txt" >&2
  files+=("$results/isal-$stamp.txt")
  echo "JMH ErasureBenchmark (vector and isal, heap and direct; scalar on heap)..." >&2
  jmh ErasureBenchmark -p backend=vector,isal -prof gc -rf json -rff "$results/erasure-$stamp.json"
  jmh ErasureBenchmark -p backend=scalar -p memory=heap -prof gc -rf json -rff "$results/erasure-scalar-$stamp.json"
  files+=("$results/erasure-$stamp.json" "$results/erasure-scalar-$stamp.json")
fi

if [ "$suite" = hash ] || [ "$suite" = all ]; then
  echo "openssl speed -evp sha256 (1 MiB blocks, one core)..." >&2
  openssl speed -evp sha256 -bytes 1048576 -seconds 3 2>/dev/null | tail -1 | tee "$results/openssl-sha256-$stamp.txt" >&2
  files+=("$results/openssl-sha256-$stamp.txt")
  echo "JMH HashBenchmark..." >&2
  jmh HashBenchmark -prof gc -rf json -rff "$results/hash-$stamp.json"
  files+=("$results/hash-$stamp.json")
fi

if [ "$suite" = codec ]; then
  { echo "machine: $machine"
    jmh CodecReuseBenchmark -rf json -rff "$results/codec-$stamp.json" | sed -n '/^Benchmark/,$p'; } \
    | tee "$results/summary-codec-$stamp.txt"
  exit 0
fi

if [ "$suite" = sig ]; then
  { echo "machine: $machine"
    jmh SignatureBenchmark -rf json -rff "$results/sig-$stamp.json" \
      | sed -n 's/.*\(TxSignatures backend: .*\)/\1/p;/^Benchmark/,$p' | uniq; } \
    | tee "$results/summary-sig-$stamp.txt"
  exit 0
fi

if [ "$suite" = ledger ]; then
  { echo "machine: $machine"
    jmh LedgerBlockBenchmark -rf json -rff "$results/ledger-$stamp.json" | sed -n '/^Benchmark/,$p'; } \
    | tee "$results/summary-ledger-$stamp.txt"
fi

if [ "$suite" = ledger ] || [ "$suite" = settlement ]; then
  # the state is built once per contract count (100,000 CreateContract transactions: about a minute), then copied per settlement
  # one settlement (or one block's held-list leaves) per iteration (single shot: the copy and a collection before each are not measured), 40 of them
  if [ "$quick" = --quick ]; then shots=(-wi 2 -i 5); else shots=(-wi 10 -i 40); fi
  { echo "machine: $machine"
    "$JAVA" "${OE_JVM_FLAGS[@]}" -cp "$cp" org.openjdk.jmh.Main -f 1 "${shots[@]}" -bm ss -tu us -jvmArgsAppend "${OE_JVM_FLAGS[*]}" \
      SettlementBenchmark -rf json -rff "$results/settlement-$stamp.json" 2> >(grep -v '^WARNING: Using incubator modules' >&2) \
      | sed -n 's/.*\(state: .*\)/\1/p;/^Benchmark/,$p'; } \
    | tee "$results/summary-settlement-$stamp.txt"
  exit 0
fi

# the proofs of storage's pieces: one JMH class each, a summary per suite
proof_suite() { # NAME CLASS
  { echo "machine: $machine"
    jmh "$2" -prof gc -rf json -rff "$results/$1-$stamp.json" | sed -n '/^Benchmark/,$p'; } \
    | tee "$results/summary-$1-$stamp.txt"
}
case "$suite" in
  slice) proof_suite slice SliceBenchmark; exit 0 ;;
  roots) proof_suite roots NodeRootBenchmark; exit 0 ;;
  beacon) proof_suite beacon BeaconBenchmark; exit 0 ;;
  prove) proof_suite prove ShardStoreProveBenchmark; exit 0 ;;
  proofs) proof_suite slice SliceBenchmark; proof_suite roots NodeRootBenchmark
          proof_suite beacon BeaconBenchmark; proof_suite prove ShardStoreProveBenchmark; exit 0 ;;
esac

if [ "$suite" = p2p ]; then
  mib=2048; runs=5
  [ "$quick" = --quick ] && { mib=256; runs=2; }
  echo "libp2p host throughput on loopback ($runs runs of $mib MiB)..." >&2
  { echo "machine: $machine"; "$JAVA" "${OE_JVM_FLAGS[@]}" -cp "$cp" io.oecloud.benchmarks.HostThroughput "$mib" "$runs" 2> >(grep -v '^WARNING: Using incubator' >&2); } \
    | tee "$results/summary-p2p-$stamp.txt"
  exit 0
fi

if [ "$suite" = chain ]; then
  secs=20; [ "$quick" = --quick ] && secs=8
  bin=$(chain-bridge/tools/cometbft.sh)
  abcicli=$(chain-bridge/tools/cometbft.sh --abci-cli)
  rm -rf benchmarks/target/chain-bench
  { echo "machine: $machine"
    "$JAVA" "${OE_JVM_FLAGS[@]}" -cp "$cp" io.oecloud.benchmarks.ChainThroughput "$bin" benchmarks/target/chain-bench "$secs" "$abcicli" \
      2> >(grep -v '^WARNING: Using incubator' >&2); } | tee "$results/summary-chain-$stamp.txt"
  exit 0
fi

if [ "$suite" = store ]; then
  shards=512; [ "$quick" = --quick ] && shards=64
  { echo "machine: $machine, disk: $(df -h benchmarks | tail -1 | awk '{print $1}')"
    "$JAVA" "${OE_JVM_FLAGS[@]}" -cp "$cp" io.oecloud.benchmarks.ShardStoreLayouts benchmarks/target/store-bench "$shards" 1024 \
      2> >(grep -v '^WARNING: Using incubator' >&2); } | tee "$results/summary-store-$stamp.txt"
  exit 0
fi

if [ "$suite" = dht ]; then
  sizes=(1000 10000)
  [ "$quick" = --quick ] && sizes=(1000)
  { echo "machine: $machine"
    for n in "${sizes[@]}"; do
      keys=$(( n < 5000 ? 200 : 500 ))
      "$JAVA" -Xmx8g "${OE_JVM_FLAGS[@]}" -cp "$cp" io.oecloud.benchmarks.DhtSimulation "$n" "$keys" 2000 1 2> >(grep -v '^WARNING: Using incubator' >&2)
    done; } | tee "$results/summary-dht-$stamp.txt"
  exit 0
fi

python3 benchmarks/summarize.py --machine "$machine" "${files[@]}" | tee "$results/summary-$suite-$stamp.txt"
