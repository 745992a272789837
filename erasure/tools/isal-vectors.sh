#!/usr/bin/env bash
# Regenerates erasure/src/test/resources/isal-vectors.txt from ISA-L itself (Debian's libisal-dev).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -f /usr/include/isa-l/erasure_code.h ]; then
  echo "installing libisal-dev" >&2
  apt-get install -y -qq libisal-dev >/dev/null
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
gcc -O2 -o "$tmp/isal-vectors" "$here/isal-vectors.c" -lisal
"$tmp/isal-vectors" > "$here/../src/test/resources/isal-vectors.txt"
wc -l "$here/../src/test/resources/isal-vectors.txt"
