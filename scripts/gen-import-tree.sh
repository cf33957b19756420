#!/usr/bin/env bash
# Generates an Apache-style release tree for `trs import` (docs/import.md), with real GnuPG
# signatures: OUT/dist (current releases) and OUT/archive (every fourth release), PROJECTS
# project folders each with its KEYS, RELEASES releases spread over them. Half the releases are
# version folders (OUT/dist/projN/1.K.0/projN-1.K.0-bin.dat), half files that carry their
# version in the name (OUT/dist/projN/projN-1.K.0.dat; small data files, so the
# archive checks have nothing to open); each artifact has its .asc (one
# ed25519 key, made here, signs all: `Bulk Signer <signer@example.org>`) and .sha512.
# The key lives in OUT/gnupg; `trs import` registers it from the KEYS files.
#
#   scripts/gen-import-tree.sh OUT [PROJECTS=300] [RELEASES=20000]
set -euo pipefail
OUT=${1:?usage: gen-import-tree.sh OUT [PROJECTS] [RELEASES]}
PROJECTS=${2:-300}
RELEASES=${3:-20000}
mkdir -p "$OUT/dist" "$OUT/archive" "$OUT/gnupg"
chmod 700 "$OUT/gnupg"
export GNUPGHOME="$OUT/gnupg"
if ! gpg --batch --list-secret-keys signer@example.org >/dev/null 2>&1; then
  gpg --batch --passphrase '' --pinentry-mode loopback --quick-gen-key 'Bulk Signer <signer@example.org>' ed25519 sign never
fi
FPR=$(gpg --batch --with-colons --list-keys signer@example.org | awk -F: '/^fpr/ {print $10; exit}')

for ((p = 1; p <= PROJECTS; p++)); do
  mkdir -p "$OUT/dist/proj$p"
  gpg --batch --export --armor "$FPR" >"$OUT/dist/proj$p/KEYS"
done

# Files first (cheap), then one checksum and one signature per artifact.
list="$OUT/artifacts.txt"
: >"$list"
for ((i = 0; i < RELEASES; i++)); do
  p=$((i % PROJECTS + 1))
  v="1.$((i / PROJECTS)).0"
  tree=dist
  if ((i % 4 == 3)); then tree=archive; fi
  if ((i % 2 == 0)); then
    dir="$OUT/$tree/proj$p/$v"
    name="proj$p-$v-bin.dat"
  else
    dir="$OUT/$tree/proj$p"
    name="proj$p-$v.dat"
  fi
  mkdir -p "$dir"
  printf 'proj%s %s\n' "$p" "$v" >"$dir/$name"
  echo "$dir/$name" >>"$list"
done

# Checksums in the files' folders (bare names), signatures in bulk: one gpg per batch of files
# keeps the agent warm; two at a time on a 2-core machine.
xargs -P 2 -n 200 sh -c 'for f; do (cd "$(dirname "$f")" && sha512sum "$(basename "$f")" >"$f.sha512"); done' _ <"$list"
xargs -P 2 -n 200 sh -c 'for f; do gpg --batch --yes --armor --local-user "$0" --detach-sign "$f"; done' "$FPR" <"$list"
echo "$RELEASES releases in $PROJECTS projects under $OUT/dist and $OUT/archive; signed by $FPR"
