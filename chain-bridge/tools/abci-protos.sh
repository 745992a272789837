#!/usr/bin/env bash
# Copies CometBFT's ABCI .proto files (and what they import) from the Go module cache into OUT,
# with the gogoproto options removed, so protoc can generate Java from them at build time.
#   chain-bridge/tools/abci-protos.sh OUT
set -euo pipefail
out=${1:?usage: abci-protos.sh OUT}
src=$("$(dirname "$(readlink -f "$0")")/cometbft.sh" --source)
files="tendermint/abci/types.proto tendermint/crypto/proof.proto tendermint/crypto/keys.proto
tendermint/types/params.proto tendermint/types/validator.proto tendermint/types/types.proto
tendermint/version/types.proto tendermint/types/canonical.proto"
rm -rf "$out"
for f in $files; do
  mkdir -p "$out/$(dirname "$f")"
  # gogoproto: the import, the options inside messages, and the [(gogoproto.x) = y, ...] field
  # options (which may span lines)
  python3 - "$src/proto/$f" "$out/$f" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
text = re.sub(r'^\s*import "gogoproto/gogo.proto";\n', '', text, flags=re.M)
text = re.sub(r'^\s*option \(gogoproto\.[a-z_]+\)[^;]*;\n', '', text, flags=re.M)
opt = r'\(gogoproto\.[a-z_]+\)\s*=\s*(?:"[^"]*"|[^,\]\s]+)'
text = re.sub(r'\s*\[\s*' + opt + r'(?:\s*,\s*' + opt + r')*\s*\]', '', text)
if re.search(r'\(gogoproto\.', re.sub(r'//.*', '', text)):
    sys.exit("gogoproto options left in " + sys.argv[1])
open(sys.argv[2], 'w').write(text)
PY
  # Java names: one outer class per file
  cls=$(echo "$f" | sed -E 's#tendermint/##; s#/types\.proto#Types#; s#/##g; s#\.proto##; s#(^|_)([a-z])#\U\2#g')
  sed -i -E "s#^(package [a-z.]+;)#\1\noption java_package = \"io.oecloud.chain.abci\";\noption java_outer_classname = \"${cls}Proto\";#" "$out/$f"
done
