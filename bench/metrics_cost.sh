#!/usr/bin/env bash
# What serving and scraping /metrics costs `vigil run`: the demo config over
# the same pre-written log with node.http off, and with it on and scraped
# every second (as Prometheus would, but 15 times as often as its default),
# alternated, RUNS times each. Prints lines/s per run and the ratio of the
# medians.
#
#   bench/metrics_cost.sh build/vigil [LINES] [RUNS]
set -euo pipefail
vigil=$(realpath "${1:?usage: $0 VIGIL [LINES] [RUNS]}")
lines=${2:-5000000}
runs=${3:-3}
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/vigil-metrics-cost-XXXXXX)
trap 'rm -rf "$work"' EXIT
port=$((24000 + RANDOM % 4000))

rate=5000
"$vigil" gen access --no-pace --rate "$rate" --duration "$(( lines / rate ))s" --seed 1 \
  --start 2024-01-01T00:00:00Z --format combined_rt --inject scan,bruteforce,5xx,latency \
  -o "$work/access.log" 2>/dev/null
count=$(wc -l < "$work/access.log")
for mode in off on; do
  http='""'
  [ "$mode" = on ] && http="\"127.0.0.1:$port\""
  sed -e "s#var/demo/#$work/#g" -e "s#config/networks.csv#$src/config/networks.csv#" \
      -e "s#^http = .*#http = $http#" "$src/config/demo.toml" > "$work/$mode.toml"
done
echo "log: $count lines; config: config/demo.toml; scraping http://127.0.0.1:$port/metrics every second when on"

run() {  # mode -> lines/s
  local mode=$1
  rm -rf "$work"/*.jsonl "$work/state"
  local start end
  start=$(date +%s.%N)
  "$vigil" run -c "$work/$mode.toml" --once > /dev/null 2>&1 &
  local pid=$!
  if [ "$mode" = on ]; then
    ( while kill -0 "$pid" 2>/dev/null; do curl -s -o /dev/null "http://127.0.0.1:$port/metrics" || true; sleep 1; done ) &
  fi
  wait "$pid"
  end=$(date +%s.%N)
  awk -v n="$count" -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", n / (b - a) }'
}

declare -a off on
for i in $(seq "$runs"); do
  off+=("$(run off)"); on+=("$(run on)")
  echo "run $i: off ${off[-1]} lines/s, on and scraped ${on[-1]} lines/s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
m_off=$(median "${off[@]}"); m_on=$(median "${on[@]}")
echo "median: off $m_off lines/s, on and scraped $m_on lines/s, ratio $(awk -v a="$m_on" -v b="$m_off" 'BEGIN { printf "%.3f", a / b }')"
