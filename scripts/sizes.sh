#!/usr/bin/env bash
# Prints the raw and gzip sizes of the release build in dist/ (wasm, JS glue,
# CSS) and the total over the wire with gzip. Run after `trunk build --release`
# (`./x sizes` does both).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

dist="${1:-dist}"
if [ ! -d "$dist" ]; then
  echo "sizes: no $dist/ directory; run \`trunk build --release\` first" >&2
  exit 1
fi

shopt -s nullglob
files=("$dist"/*.wasm "$dist"/*.js "$dist"/*.css)
if [ "${#files[@]}" -eq 0 ]; then
  echo "sizes: no wasm, js or css files in $dist/" >&2
  exit 1
fi

total_raw=0
total_gzip=0
printf '%-48s %10s %10s\n' "file" "raw" "gzip -9"
for file in "${files[@]}"; do
  raw=$(wc -c <"$file")
  gz=$(gzip -9 -c "$file" | wc -c)
  total_raw=$((total_raw + raw))
  total_gzip=$((total_gzip + gz))
  printf '%-48s %10d %10d\n' "${file#"$dist"/}" "$raw" "$gz"
done
printf '%-48s %10d %10d\n' "total" "$total_raw" "$total_gzip"
awk -v bytes="$total_gzip" 'BEGIN { printf "total over the wire (gzip): %.1f KiB\n", bytes / 1024 }'
