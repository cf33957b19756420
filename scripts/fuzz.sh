#!/usr/bin/env bash
# A coverage-guided fuzzing campaign of one target of fuzz/ under AFL++ (cargo-afl, stable
# toolchain; no nightly flags).
#   scripts/fuzz.sh TARGET [SECONDS]   run TARGET (default 600 s) from fuzz/corpus/TARGET
#   scripts/fuzz.sh TARGET --execs N   run TARGET until about N executions (AFL++'s -E)
#   scripts/fuzz.sh build              only build the instrumented binary
#   scripts/fuzz.sh merge TARGET       add the campaign's new queue entries to the corpus,
#                                      minimised with afl-cmin (then commit fuzz/corpus)
# Needs: cargo install cargo-afl (it builds its AFL++ runtime on first use: cargo afl config
# --build). Findings land in target/fuzz/out/TARGET/default/{crashes,hangs}; copy each into
# fuzz/corpus/TARGET once fixed, so the replay tests keep it fixed.
# The instrumented build has its own target dir (it rebuilds every crate with coverage).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="$PWD/target/fuzz"
bin="$CARGO_TARGET_DIR/release/trs-fuzz-afl"

build() {
  if ! cargo afl --version >/dev/null 2>&1; then
    echo "cargo-afl is missing: cargo install --locked cargo-afl" >&2
    exit 2
  fi
  cargo afl build --release --features afl --bin trs-fuzz-afl --manifest-path fuzz/Cargo.toml
}

case "${1:-}" in
  build) build ;;
  merge)
    target="${2:?usage: scripts/fuzz.sh merge TARGET}"
    queue="$CARGO_TARGET_DIR/out/$target/default/queue"
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    mkdir "$tmp/all"
    cp fuzz/corpus/"$target"/* "$tmp/all/"
    for f in "$queue"/id:*; do cp "$f" "$tmp/all/q-$(sha256sum "$f" | cut -c1-16)"; done
    # afl-cmin runs each input through afl-showmap, which needs the map size as the fuzzer does
    # (below). No fuzzing here, so the persistent-mode check is skipped; a campaign must not
    # skip it (with AFL_SKIP_BIN_CHECK afl-fuzz does not know the binary loops, and every
    # input times out).
    AFL_MAP_SIZE="$(AFL_DUMP_MAP_SIZE=1 "$bin" "$target" || true)" AFL_SKIP_BIN_CHECK=1 \
      cargo afl cmin -i "$tmp/all" -o "$tmp/min" -- "$bin" "$target" >/dev/null
    # Seeds stay (they document the hostile inputs); new minimal entries are added.
    for f in "$tmp/min"/q-*; do [ -e "$f" ] && cp "$f" fuzz/corpus/"$target"/; done
    ls fuzz/corpus/"$target" | wc -l
    ;;
  ""|-h|--help)
    sed -n '2,12p' "$0"
    ;;
  *)
    target="$1"
    # How long: `-V SECONDS`, or `-E N` executions (a campaign's bar is a count, not a time).
    if [ "${2:-}" = "--execs" ]; then
      limit=(-E "${3:?usage: scripts/fuzz.sh TARGET --execs N}")
    else
      limit=(-V "${2:-600}")
    fi
    [ -d "fuzz/corpus/$target" ] || { echo "no target $target (fuzz/corpus/)" >&2; exit 2; }
    build
    out="$CARGO_TARGET_DIR/out/$target"
    mkdir -p "$out"
    # Resume a previous campaign of the target if there is one.
    input="fuzz/corpus/$target"
    [ -d "$out/default/queue" ] && input="-"
    # One binary holds every target, so its coverage map is large (about 525,000 edges): AFL++
    # refuses to start until told the size, which the instrumented binary reports.
    # (It exits non-zero after printing the size.)
    AFL_MAP_SIZE="$(AFL_DUMP_MAP_SIZE=1 "$bin" "$target" || true)"
    export AFL_MAP_SIZE
    # No core-dump handler or CPU governor is changed: the machine is shared.
    AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 \
      cargo afl fuzz "${limit[@]}" -i "$input" -o "$out" -t 2000 -- "$bin" "$target"
    grep -E 'execs_done|run_time|saved_crashes|saved_hangs|corpus_count' "$out/default/fuzzer_stats"
    ;;
esac
