#!/usr/bin/env bash
# What detectors cost `vigil run`: the demo config without its detector,
# with one on the ungrouped minute window, and as shipped (one per route
# on route_10s), alternated over the same pre-written log.
#
#   bench/detector_cost.sh build/vigil [LINES] [RUNS]
#
# Prints each run's lines/s and the median of each config.
set -euo pipefail
vigil=$(realpath "${1:?usage: $0 VIGIL [LINES] [RUNS]}")
lines=${2:-3000000}
runs=${3:-3}
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/vigil-detector-cost-XXXXXX)
trap 'rm -rf "$work"' EXIT

rate=5000
"$vigil" gen access --no-pace --rate "$rate" --duration "$(( lines / rate ))s" --seed 1 \
  --start 2024-01-01T00:00:00Z --format combined_rt --inject scan,bruteforce,5xx,latency,surge \
  -o "$work/access.log" 2>/dev/null
count=$(wc -l < "$work/access.log")
sed -e "s#var/demo/#$work/#g" -e "s#config/networks.csv#$src/config/networks.csv#" \
  "$src/config/demo.toml" > "$work/grouped.toml"
# The [[detector]] block runs to the next blank line.
awk '/^\[\[detector\]\]/ { skip = 1 } skip && /^$/ { skip = 0; next } !skip' "$work/grouped.toml" > "$work/none.toml"
cp "$work/none.toml" "$work/ungrouped.toml"
printf '\n[[detector]]\nname = "traffic"\nwindow = "minute"\nmetric = "requests"\nlearn = 5\n' >> "$work/ungrouped.toml"
echo "log: $count lines; configs: config/demo.toml without its detector (none), with one on the minute window (ungrouped), as shipped (grouped)"

declare -A all
for i in $(seq "$runs"); do
  for c in none ungrouped grouped; do
    rm -rf "$work"/*.jsonl "$work/state"
    /usr/bin/time -f "%e %M" -o "$work/time" "$vigil" run -c "$work/$c.toml" --once > /dev/null 2>&1
    read -r secs rss_kb < "$work/time"
    lps=$(awk -v n="$count" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
    detected=$(grep -c '"rule":"\(traffic\|route_traffic\)"' "$work/alerts.jsonl" || true)
    echo "run $i $c: ${secs} s, $lps lines/s, peak RSS $((rss_kb / 1024)) MiB, $detected detector alert lines"
    all[$c]+="$lps "
  done
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
none=$(echo "${all[none]}" | median)
for c in none ungrouped grouped; do
  m=$(echo "${all[$c]}" | median)
  echo "median $c: $m lines/s ($(awk -v a="$m" -v b="$none" 'BEGIN { printf "%.3f", a / b }') of none)"
done
