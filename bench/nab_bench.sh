#!/usr/bin/env bash
# Anomaly detectors on the Numenta Anomaly Benchmark: NAB's three profile
# scores of each method (bench/nab_score.py), and points/s of
# `vigil anomaly score` over the series repeated COPIES times (one core).
#
#   bench/nab_bench.sh build/vigil [NAB_DIR] [COPIES]
#
# NAB_DIR holds the series by category and windows.json (default:
# ../shared/data/nab-dev, the development part; not in the repository).
set -euo pipefail
vigil=$(realpath "${1:?usage: $0 VIGIL [NAB_DIR] [COPIES]}")
src=$(cd "$(dirname "$0")/.." && pwd)
data=${2:-$src/../shared/data/nab-dev}
copies=${3:-20}
if [ ! -f "$data/windows.json" ]; then
  echo "nab_bench: no NAB data at $data (a folder of category/series.csv and windows.json)" >&2
  exit 2
fi
work=$(mktemp -d /tmp/vigil-nab-XXXXXX)
trap 'rm -rf "$work"' EXIT
mapfile -t series < <(find "$data" -mindepth 2 -name '*.csv' | sort)
points=$(cat "${series[@]}" | grep -vc '^timestamp')
echo "NAB series: ${#series[@]} files, $points points ($data)"

for method in baseline gaussian; do
  "$vigil" anomaly score --detector "$method" --out-dir "$work/$method" "${series[@]}" 2>/dev/null
  echo "== $method"
  python3 "$src/bench/nab_score.py" --data "$data" --results "$work/$method" --detector "$method" | tail -n +2
done

# Throughput: every series COPIES times in one run (each file a fresh
# series), the command's own points/s, and the peak RSS.
args=()
for i in $(seq "$copies"); do args+=("${series[@]}"); done
for method in baseline gaussian; do
  /usr/bin/time -f "%e %M" -o "$work/time" "$vigil" anomaly score --detector "$method" --out-dir "$work/tp" \
    "${args[@]}" 2> "$work/err"
  read -r secs rss_kb < "$work/time"
  echo "$method throughput: $(grep -o '[0-9]* points/s' "$work/err") over $((points * copies)) points" \
       "($(grep -o '[0-9]* points,' "$work/err" | head -1) ${secs} s wall with the files' I/O, peak RSS $((rss_kb / 1024)) MiB)"
done
