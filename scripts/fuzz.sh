#!/usr/bin/env bash
# A coverage-guided fuzzing campaign of one target of fuzz/ under AFL++ (cargo-afl, stable
# toolchain; no nightly flags).
#   scripts/fuzz.sh TARGET [SECONDS]   run TARGET (default 600 s) from fuzz/corpus/TARGET
#   scripts/fuzz.sh TARGET --execs N   run TARGET until about N executions (AFL++'s -E)
#   ... --max-len BYTES                inputs of at most BYTES (AFL++'s -G; a fresh campaign
#                                      starts from the corpus files no larger)
#   scripts/fuzz.sh build TARGET       only build TARGET's instrumented binary
#   scripts/fuzz.sh merge TARGET       add the campaign's new queue entries to the corpus,
#                                      minimised with afl-cmin (then commit fuzz/corpus)
# Needs: cargo install cargo-afl (it builds its AFL++ runtime on first use: cargo afl config
# --build). Findings land in target/fuzz/out/TARGET/default/{crashes,hangs}; copy each into
# fuzz/corpus/TARGET once fixed, so the replay tests keep it fixed.
# The instrumented build has its own target dir (it rebuilds every crate with coverage).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="$PWD/target/fuzz"

# Each target gets a binary of its own (TRS_FUZZ_TARGET, see fuzz/src/bin/afl.rs): its coverage
# map holds only the code that target reaches (11,605 edges for `identifiers` against 525,000
# for all targets in one binary), and AFL++ clears and scans the map on every execution, so
# this ran `identifiers` at 9,500 executions a second where the shared binary managed 1,600.
# Only the entry point is rebuilt per target; the instrumented crates are built once.
build() {
  local target="$1"
  if ! cargo afl --version >/dev/null 2>&1; then
    echo "cargo-afl is missing: cargo install --locked cargo-afl" >&2
    exit 2
  fi
  mkdir -p "$CARGO_TARGET_DIR/bin"
  # Two builds at once would overwrite each other's release/trs-fuzz-afl before the copy.
  (
    flock 9
    TRS_FUZZ_TARGET="$target" cargo afl build --release --features afl --bin trs-fuzz-afl \
      --manifest-path fuzz/Cargo.toml
    cp "$CARGO_TARGET_DIR/release/trs-fuzz-afl" "$CARGO_TARGET_DIR/bin/trs-fuzz-afl-$target.tmp"
    mv "$CARGO_TARGET_DIR/bin/trs-fuzz-afl-$target.tmp" "$CARGO_TARGET_DIR/bin/trs-fuzz-afl-$target"
  ) 9>"$CARGO_TARGET_DIR/bin/.build-lock"
}

# The coverage map size AFL++ is told: the instrumented binary reports its own, but AFL++'s
# runtime in the binary assumes at least its default of 65,536 entries, and a one-target binary
# told its exact, smaller size crashed on every input under afl-fuzz and recorded no coverage
# under afl-cmin. So the larger of the two.
map_size_env() {
  local size
  size="$(AFL_DUMP_MAP_SIZE=1 "$1" || true)"
  if [ -z "$size" ] || [ "$size" -lt 65536 ]; then
    size=65536
  fi
  export AFL_MAP_SIZE="$size"
}

target_dir() {
  [ -d "fuzz/corpus/$1" ] || { echo "no target $1 (fuzz/corpus/)" >&2; exit 2; }
}

case "${1:-}" in
  build)
    target="${2:?usage: scripts/fuzz.sh build TARGET}"
    target_dir "$target"
    build "$target"
    ;;
  merge)
    target="${2:?usage: scripts/fuzz.sh merge TARGET}"
    target_dir "$target"
    bin="$CARGO_TARGET_DIR/bin/trs-fuzz-afl-$target"
    [ -x "$bin" ] || build "$target"
    queue="$CARGO_TARGET_DIR/out/$target/default/queue"
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    mkdir "$tmp/all"
    cp fuzz/corpus/"$target"/* "$tmp/all/"
    for f in "$queue"/id:*; do cp "$f" "$tmp/all/q-$(sha256sum "$f" | cut -c1-16)"; done
    # No fuzzing here, so the persistent-mode check is skipped; a campaign must not skip it
    # (with AFL_SKIP_BIN_CHECK afl-fuzz does not know the binary loops, and every input times
    # out).
    map_size_env "$bin"
    AFL_SKIP_BIN_CHECK=1 cargo afl cmin -i "$tmp/all" -o "$tmp/min" -- "$bin" >/dev/null
    # Seeds stay (they document the hostile inputs); new minimal entries are added.
    for f in "$tmp/min"/q-*; do [ -e "$f" ] && cp "$f" fuzz/corpus/"$target"/; done
    ls fuzz/corpus/"$target" | wc -l
    ;;
  ""|-h|--help)
    # The comment block at the top, whatever its length.
    awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"
    ;;
  *)
    target="$1"
    target_dir "$target"
    shift
    # How long: `-V SECONDS`, or `-E N` executions (a campaign's bar is a count, not a time).
    limit=(-V 600)
    max_len=""
    while [ $# -gt 0 ]; do
      case "$1" in
        --execs) limit=(-E "${2:?usage: scripts/fuzz.sh TARGET --execs N}"); shift 2 ;;
        --max-len) max_len="${2:?usage: scripts/fuzz.sh TARGET --max-len BYTES}"; shift 2 ;;
        *) limit=(-V "$1"); shift ;;
      esac
    done
    build "$target"
    bin="$CARGO_TARGET_DIR/bin/trs-fuzz-afl-$target"
    out="$CARGO_TARGET_DIR/out/$target"
    mkdir -p "$out"
    # Resume a previous campaign of the target if there is one.
    input="fuzz/corpus/$target"
    [ -d "$out/default/queue" ] && input="-"
    # A bound on the input size, for targets whose cost grows with it while their coverage does
    # not (`identifiers` reads line by line: a long input is many short ones, and the corpus's
    # 33 KB entries held it to 500 executions a second).
    if [ -n "$max_len" ]; then
      limit+=(-G "$max_len")
      if [ "$input" != "-" ]; then
        input="$out/seeds"
        mkdir -p "$input"
        find "fuzz/corpus/$target" -type f -size -"$((max_len + 1))"c -exec cp {} "$input"/ \;
      fi
    fi
    map_size_env "$bin"
    # No core-dump handler or CPU governor is changed: the machine is shared.
    AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 \
      cargo afl fuzz "${limit[@]}" -i "$input" -o "$out" -t 2000 -- "$bin"
    grep -E 'execs_done|run_time|saved_crashes|saved_hangs|corpus_count' "$out/default/fuzzer_stats"
    ;;
esac
