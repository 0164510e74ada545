#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer through libfuzzer-sys) of the parsers
# of untrusted input: the three endpoints' request decoders, the address
# parser, the target parser and the skill-expression evaluator (fuzz/).
#
#   scripts/fuzz.sh               every target for 10,000,000 executions
#   scripts/fuzz.sh --smoke       every target for 10 seconds (part of ./x test)
#   scripts/fuzz.sh --runs N      every target for N executions
#
# Built with the stable toolchain: the sanitizer-coverage instrumentation
# libFuzzer needs is passed as codegen flags, for the fuzzed crate only
# (`--target`, so build scripts stay uninstrumented). Corpora grow in
# target/fuzz-corpus/<target> (seeded from fuzz/seeds/<target>); a crash is
# written to fuzz/artifacts/<target>/ and fails the run — keep it as a seed
# in fuzz/seeds/<target>/ once fixed, so every later run replays it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

runs=10000000
seconds=""
case "${1:-}" in
  --smoke) seconds=10 ;;
  --runs) runs="${2:?--runs needs a number}" ;;
  "") ;;
  *) echo "usage: scripts/fuzz.sh [--smoke | --runs N]" >&2; exit 2 ;;
esac

triple="$(rustc -vV | awk '/^host:/ { print $2 }')"
target_dir="${CARGO_TARGET_DIR:-$PWD/target}/fuzz"
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
(cd fuzz && CARGO_TARGET_DIR="$target_dir" cargo build --release --bins --target "$triple")

targets=(agent_request customer_request supervisor_request address target skill_expression)
for name in "${targets[@]}"; do
  corpus="$target_dir/corpus/$name"
  artifacts="fuzz/artifacts/$name"
  mkdir -p "$corpus" "$artifacts"
  limit=(-runs="$runs")
  [ -n "$seconds" ] && limit=(-max_total_time="$seconds")
  printf '\n\033[1;34m==> fuzz %s (%s)\033[0m\n' "$name" "${limit[*]}"
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: an OOM.
  "$target_dir/$triple/release/$name" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 "$corpus" "fuzz/seeds/$name" 2>&1 |
    grep -E '^(#[0-9]+ *DONE|Done|stat::number_of_executed_units|==[0-9]+== ERROR|SUMMARY|INFO: Running with)' || true
  if [ -n "$(ls -A "$artifacts" 2>/dev/null)" ]; then
    echo "fuzz: $name found crashing inputs in $artifacts" >&2
    exit 1
  fi
done
