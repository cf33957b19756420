#!/usr/bin/env bash
# Upload + verification over loopback, against the manual check release managers do today
# (`sha512sum -c` then `gpg --verify`), on the same file in the same run. Prints hyperfine's
# table and the ratio. Usage: scripts/bench-upload.sh [SIZE_MIB]   (default 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${1:-1024}
command -v hyperfine >/dev/null || { SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo; $SUDO apt-get install -y -qq hyperfine; }
cargo build --release --bin trs -q
TRS=$PWD/target/release/trs

WORK=$(mktemp -d /tmp/trsbench.XXXX)
export GNUPGHOME=$WORK/g
mkdir -m 700 "$GNUPGHOME"
cleanup() { kill "${SERVE_PID:-}" 2>/dev/null || true; gpgconf --kill all 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

gpg --batch --quiet --passphrase '' --quick-gen-key 'Bench RM <rm@example.org>' ed25519 sign never
gpg --batch --quiet --export --armor rm@example.org > "$WORK/rm.asc"
"$TRS" admin bootstrap --data "$WORK/data" rm "$WORK/rm.asc" >/dev/null
"$TRS" serve --data "$WORK/data" --listen 127.0.0.1:0 2> "$WORK/serve.log" &
SERVE_PID=$!
for _ in $(seq 100); do grep -q "trs serving on" "$WORK/serve.log" && break; sleep 0.1; done
export TRS_URL=$(sed -n 's/^trs serving on \([^ ]*\).*/\1/p' "$WORK/serve.log")
export TRS_GPG_KEY=rm@example.org
"$TRS" project create bench --members rm --release-managers rm >/dev/null

F=$WORK/bench-1.0.bin
head -c "$((SIZE_MIB << 20))" /dev/urandom > "$F"
(cd "$WORK" && sha512sum bench-1.0.bin > bench-1.0.bin.sha512)
gpg --batch --quiet --detach-sign --armor --local-user rm@example.org "$F"

# Before each trs run (untimed): new first bytes, new checksum and signature, so the check
# cache never answers; and a new version, so nothing is refused as a duplicate.
cat > "$WORK/prepare" <<PREP
set -e
head -c 16 /dev/urandom | dd of=$F bs=16 count=1 conv=notrunc status=none
cd $WORK && sha512sum bench-1.0.bin > bench-1.0.bin.sha512
rm -f $F.asc && gpg --batch --quiet --detach-sign --armor --local-user rm@example.org $F
PREP
echo 0 > "$WORK/n"
hyperfine --warmup 1 --runs 5 --export-json "$WORK/h.json" \
  -n 'manual: sha512sum -c + gpg --verify' "cd $WORK && sha512sum -c --quiet bench-1.0.bin.sha512 && gpg --batch --quiet --verify bench-1.0.bin.asc bench-1.0.bin" \
  --prepare "bash $WORK/prepare" \
  -n 'trs upload + verify (loopback)' "n=\$((\$(cat $WORK/n)+1)); echo \$n > $WORK/n; $TRS upload bench 1.0.\$n $F $F.asc $F.sha512 >/dev/null"
python3 - "$WORK/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
manual, trs = r[0]["mean"], r[1]["mean"]
print(f"trs upload+verify / manual check = {trs / manual:.2f}x time (lower is better; target <= 1.0)")
PY
