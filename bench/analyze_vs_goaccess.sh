#!/usr/bin/env bash
# vigil analyze vs GoAccess 1.7 vs mawk, on the same large combined log, in
# the same run. Prints lines/s, MB/s, peak RSS and the ratios.
#
#   bench/analyze_vs_goaccess.sh [VIGIL_BINARY] [COPIES]
#
# The log is COPIES (default 120: 1.2M lines, 285 MB) copies of the bundled
# real Apache log (tests/fixtures), each with the client IPs' first octet rotated, so that
# visitors, hosts and sessions grow with the size as in a real fleet.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
vigil=${1:-$here/../build/vigil}
copies=${2:-120}
src=${VIGIL_BENCH_SOURCE:-$here/../tests/fixtures/apache_combined_elastic_examples.log}
work=${VIGIL_BENCH_DIR:-/tmp/vigil-bench}
mkdir -p "$work"
log=$work/combined_${copies}.log

if [ ! -s "$log" ]; then
  echo "generating $log from $copies rotated copies of $(basename "$src") ..." >&2
  for i in $(seq 0 $((copies - 1))); do
    mawk -v k="$i" '{ split($1, a, "."); $1 = ((a[1] + k) % 256) "." a[2] "." a[3] "." a[4]; print }' "$src"
  done > "$log.tmp"
  mv "$log.tmp" "$log"
fi
lines=$(wc -l < "$log")
bytes=$(stat -c %s "$log")
cat "$log" > /dev/null  # warm the page cache: every tool reads from memory

# run NAME CMD...: best of 3 wall times, and the peak RSS of that run.
run() {
  local name=$1; shift
  local best="" rss=""
  for _ in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" > /dev/null 2> "$work/stderr.txt" || {
      echo "$name failed:" >&2; cat "$work/stderr.txt" >&2; exit 1; }
    read -r t m < "$work/time.txt"
    if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN{exit !(a < b)}'; then best=$t; rss=$m; fi
  done
  printf '%s %s %s\n' "$name" "$best" "$rss"
}

results=$(
  run vigil "$vigil" analyze "$log" --json "$work/vigil.json" --no-progress
  run goaccess goaccess "$log" --log-format=COMBINED -o "$work/goaccess.json"
  run mawk_status mawk '{ c[$9]++ } END { for (k in c) print k, c[k] }' "$log"
)

echo "input: $log  ($lines lines, $(awk -v b="$bytes" 'BEGIN{printf "%.1f", b/1e6}') MB, $(nproc) cores)"
printf '%-12s %9s %14s %10s %12s\n' tool seconds lines/s MB/s peak_RSS_MB
echo "$results" | while read -r name t m; do
  awk -v n="$name" -v t="$t" -v m="$m" -v l="$lines" -v b="$bytes" \
    'BEGIN{printf "%-12s %9.3f %14.0f %10.1f %12.1f\n", n, t, l/t, b/1e6/t, m/1024}'
done
vt=$(echo "$results" | awk '$1=="vigil"{print $2}')
gt=$(echo "$results" | awk '$1=="goaccess"{print $2}')
mt=$(echo "$results" | awk '$1=="mawk_status"{print $2}')
awk -v v="$vt" -v g="$gt" -v m="$mt" 'BEGIN{
  printf "vigil vs GoAccess (full report): %.1fx  (target >= 20x)\n", g/v;
  printf "vigil vs mawk (status codes only): %.2fx  (target > 1x)\n", m/v }'
