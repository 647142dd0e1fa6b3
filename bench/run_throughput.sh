#!/usr/bin/env bash
# Sustained throughput of `vigil run` over a pre-written log, start_at =
# beginning, with the demo's windows, rules, dimension table and sinks
# (config/demo.toml, paths moved to a scratch directory).
#
#   bench/run_throughput.sh build/vigil [LINES] [RUNS]
#
# Prints lines/s, MB/s and peak RSS per run, and the best run.
set -euo pipefail
vigil=$(realpath "${1:?usage: $0 VIGIL [LINES] [RUNS]}")
lines=${2:-5000000}
runs=${3:-3}
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/vigil-throughput-XXXXXX)
trap 'rm -rf "$work"' EXIT

# 100 seconds of log per 500k lines keeps the demo's 5k lines/s shape.
rate=5000
duration=$(( lines / rate ))s
"$vigil" gen access --no-pace --rate "$rate" --duration "$duration" --seed 1 \
  --start 2024-01-01T00:00:00Z --format combined_rt --inject scan,bruteforce,5xx,latency \
  -o "$work/access.log" 2>/dev/null
bytes=$(stat -c %s "$work/access.log")
count=$(wc -l < "$work/access.log")
sed -e "s#var/demo/#$work/#g" -e "s#config/networks.csv#$src/config/networks.csv#" \
  "$src/config/demo.toml" > "$work/bench.toml"
echo "log: $count lines, $((bytes / 1000000)) MB; config: config/demo.toml"

best=""
for i in $(seq "$runs"); do
  rm -rf "$work"/*.jsonl "$work/state"
  /usr/bin/time -f "%e %M" -o "$work/time" "$vigil" run -c "$work/bench.toml" --once > /dev/null 2>&1
  read -r secs rss_kb < "$work/time"
  lps=$(awk -v n="$count" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
  mbs=$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.1f", b / s / 1e6 }')
  alerts=$(wc -l < "$work/alerts.jsonl")
  echo "run $i: ${secs} s, ${lps} lines/s, ${mbs} MB/s, peak RSS $((rss_kb / 1024)) MiB, $alerts alert lines"
  if [ -z "$best" ] || awk -v a="$secs" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$secs; fi
done
echo "best: ${best} s = $(awk -v n="$count" -v s="$best" 'BEGIN { printf "%.0f", n / s }') lines/s," \
     "$(awk -v b="$bytes" -v s="$best" 'BEGIN { printf "%.1f", b / s / 1e6 }') MB/s"
