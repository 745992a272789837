#!/usr/bin/env bash
# Installs the pinned CometBFT (chain-bridge/cometbft.version) into the project, once, and prints
# the binary's path:   chain-bridge/tools/cometbft.sh            -> .tools/cometbft-vX/cometbft
#                      chain-bridge/tools/cometbft.sh --source   -> its Go module directory (the .proto files)
#                      chain-bridge/tools/cometbft.sh --abci-cli -> .tools/cometbft-vX/abci-cli (its kvstore as an
#                                                                   external app, for benchmarks/run.sh chain)
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
version=$(tr -d '[:space:]' < "$root/chain-bridge/cometbft.version")
module=github.com/cometbft/cometbft
dir="$root/.tools/cometbft-$version"
command -v go >/dev/null || { echo "cometbft: Go is needed to install CometBFT $version (https://go.dev/dl/)" >&2; exit 1; }
export GOFLAGS=-mod=mod GOTOOLCHAIN=local
if [ "${1:-}" = --source ]; then
  src=$(cd "$(mktemp -d)" && go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$src" ] && [ -d "$src/proto" ] || { echo "cometbft: go mod download $module@$version failed" >&2; exit 1; }
  echo "$src"
  exit 0
fi
# installs $module/$2@$version as $dir/$1 unless it is there, and prints its path
install() {
  if [ ! -x "$dir/$1" ]; then
    echo "installing $1 $version (go install, about a minute, once)..." >&2
    mkdir -p "$dir"
    GOBIN="$dir" go install "$module/$2@$version" >"$dir/install-$1.log" 2>&1 || { cat "$dir/install-$1.log" >&2; exit 1; }
  fi
  echo "$dir/$1"
}
if [ "${1:-}" = --abci-cli ]; then
  install abci-cli abci/cmd/abci-cli
else
  install cometbft cmd/cometbft
fi
