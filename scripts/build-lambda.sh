#!/usr/bin/env bash
# Builds the Lambda deployment artifacts infra/template.json expects: one zip per function,
# holding its binary renamed `bootstrap` (runtime provided.al2023), for the one architecture
# the template declares (x86_64: what this project builds and measures, with the host's own
# toolchain; no cross linker, no zig). The zips go to OUT/VERSION/<function>.zip, where
# VERSION is a hash of the binaries: a changed binary gets a new S3 key, so a stack update
# with the printed ArtifactVersion replaces the functions' code (an unchanged key would make
# CloudFormation see no change and keep the old code), and an unchanged build keeps its key.
#
# Usage: scripts/build-lambda.sh [OUT]            (OUT defaults to target/lambda-artifacts)
#        scripts/build-lambda.sh --no-build [OUT] (zip what target/lambda/ already holds)
# Then:  aws s3 cp --recursive OUT/VERSION s3://ARTIFACT-BUCKET/PREFIX/VERSION/
#        aws cloudformation deploy ... --parameter-overrides ArtifactVersion=VERSION ...
# crates/trs-lambda/tests/lambda/artifacts.rs checks that these names agree with the template.
set -euo pipefail
cd "$(dirname "$0")/.."

# The architecture of infra/template.json's functions: the host's (checked below).
ARCHITECTURE=x86_64
# Every function of the template: <function>.zip holds the binary trs-lambda-<function>.
FUNCTIONS="admin upload verify promote vote lifecycle stream publish-site"

build=true
if [ "${1:-}" = "--no-build" ]; then build=false; shift; fi
out="${1:-target/lambda-artifacts}"
target_dir="${CARGO_TARGET_DIR:-target}"

if $build; then
  if [ "$(uname -m)" != "$ARCHITECTURE" ]; then
    echo "this host is $(uname -m); the template's functions are $ARCHITECTURE (build them on such a host)" >&2
    exit 1
  fi
  # The host's glibc must not be newer than the runtime's (provided.al2023: 2.34); docs/lambda.md.
  cargo build --profile lambda -p trs-lambda --bins
fi
bin_dir="$target_dir/lambda"

binaries=()
for f in $FUNCTIONS; do binaries+=("$bin_dir/trs-lambda-$f"); done
for b in "${binaries[@]}"; do [ -x "$b" ] || { echo "missing $b (build first)" >&2; exit 1; }; done
# provided.al2023 need not carry OpenSSL: the functions hash with aws-lc, linked in statically
# (trs-sha512 without its system-openssl feature, which only the `trs` binary turns on). A
# binary built together with trs-cli (a workspace build) would have it unified on.
for b in "${binaries[@]}"; do
  if readelf -d "$b" 2>/dev/null | grep -E 'NEEDED.*lib(crypto|ssl)\.so' >/dev/null; then
    echo "$b links the system's OpenSSL (built with trs-cli?): build with -p trs-lambda alone" >&2
    exit 1
  fi
done

version=$(sha256sum "${binaries[@]}" | awk '{print $1}' | sha256sum | cut -c1-16)
dest="$out/$version"
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
for f in $FUNCTIONS; do
  d=$(mktemp -d)
  cp "$bin_dir/trs-lambda-$f" "$d/bootstrap"
  touch -d @315532800 "$d/bootstrap"   # 1980-01-01, zip's epoch: the same binary, the same zip
  rm -f "$dest/$f.zip"
  (cd "$d" && zip -q -X "$dest/$f.zip" bootstrap)
  rm -rf "$d"
done
echo "built $ARCHITECTURE artifacts in $dest"
echo "ArtifactVersion=$version"
