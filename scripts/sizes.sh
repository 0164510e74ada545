#!/usr/bin/env bash
# Prints the raw and gzip sizes of the release builds (wasm, JS glue, CSS):
# the agent desktop in dist/ and the customer widget in dist/widget/, plus
# the embed loader, and checks the budgets (wasm + JS + CSS gzip: desktop
# ≤ 250 KB, widget ≤ 80 KB; loader ≤ 4 KB gzip; KB = 1000 bytes). Run after
# both trunk builds (`./x sizes` does them).
#
#   scripts/sizes.sh [dist]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

dist="${1:-dist}"
DESKTOP_BUDGET=$((250 * 1000))
WIDGET_BUDGET=$((80 * 1000))
LOADER_BUDGET=$((4 * 1000))

# report TITLE DIR: one line per file and a total; sets $total_gzip.
report() {
  local title="$1" dir="$2" raw gz file
  shopt -s nullglob
  local files=("$dir"/*.wasm "$dir"/*.js "$dir"/*.css)
  if [ "${#files[@]}" -eq 0 ]; then
    echo "sizes: no wasm, js or css files in $dir/; build it first" >&2
    exit 1
  fi
  local total_raw=0
  total_gzip=0
  printf '\n%s (%s/)\n' "$title" "$dir"
  printf '%-48s %10s %10s\n' "file" "raw" "gzip -9"
  for file in "${files[@]}"; do
    [ "$(basename "$file")" = loader.js ] && continue
    raw=$(wc -c <"$file")
    gz=$(gzip -9 -c "$file" | wc -c)
    total_raw=$((total_raw + raw))
    total_gzip=$((total_gzip + gz))
    printf '%-48s %10d %10d\n' "${file#"$dir"/}" "$raw" "$gz"
  done
  printf '%-48s %10d %10d\n' "total" "$total_raw" "$total_gzip"
  awk -v bytes="$total_gzip" 'BEGIN { printf "total over the wire (gzip): %.1f KiB\n", bytes / 1024 }'
}

report "Agent desktop" "$dist"
desktop_total=$total_gzip
report "Customer widget" "$dist/widget"
widget_total=$total_gzip

loader="$dist/widget/loader.js"
[ -f "$loader" ] || loader=www/loader.js
loader_raw=$(wc -c <"$loader")
loader_gzip=$(gzip -9 -c "$loader" | wc -c)
printf '\nEmbed loader (%s): %d raw, %d gzip -9\n' "$loader" "$loader_raw" "$loader_gzip"

printf '\nBudgets (gzip -9, KB = 1000 bytes): desktop %d of %d, widget %d of %d, loader %d of %d\n' \
  "$desktop_total" "$DESKTOP_BUDGET" "$widget_total" "$WIDGET_BUDGET" "$loader_gzip" "$LOADER_BUDGET"

status=0
if [ "$desktop_total" -gt "$DESKTOP_BUDGET" ]; then
  echo "over budget: the desktop is $desktop_total bytes gzip (budget $DESKTOP_BUDGET)" >&2
  status=1
fi
if [ "$widget_total" -gt "$WIDGET_BUDGET" ]; then
  echo "over budget: the widget is $widget_total bytes gzip (budget $WIDGET_BUDGET)" >&2
  status=1
fi
if [ "$loader_gzip" -gt "$LOADER_BUDGET" ]; then
  echo "over budget: the loader is $loader_gzip bytes gzip (budget $LOADER_BUDGET)" >&2
  status=1
fi
exit "$status"
