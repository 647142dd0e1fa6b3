#!/usr/bin/env bash
# What attack detection costs `vigil analyze`: a benign generated log, and
# the same log with every other line an attack from the CRS-derived set
# (tests/attacks/crs_to_log.py over ../shared/data/crs-regression, or the
# fixture slice tests/attacks/crs_slice.log when that is absent), and that
# log again with a unique `n=I&` put first in every query ("unique"), so no
# query repeats and vigil's per-query cache never hits: each read
# RUNS times by every VIGIL given, alternated. Prints seconds per run and
# the median per binary and log: compare two builds in the same run.
#
#   bench/attack_speed.sh VIGIL [VIGIL_BEFORE] [LINES] [RUNS]
set -euo pipefail
usage="usage: $0 VIGIL [VIGIL_BEFORE] [LINES] [RUNS]"
binaries=("$(realpath "${1:?$usage}")")
if [ $# -ge 2 ] && [ -x "$2" ]; then binaries+=("$(realpath "$2")"); shift; fi
lines=${2:-2000000}
runs=${3:-3}
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/vigil-attack-speed-XXXXXX)
trap 'rm -rf "$work"' EXIT

rate=20000
"${binaries[0]}" gen access --no-pace --rate "$rate" --duration "$(( lines / rate ))s" --seed 1 \
  --start 2024-01-01T00:00:00Z -o "$work/benign.log" 2>/dev/null
crs="$src/../shared/data/crs-regression/tests/regression/tests"
if [ -d "$crs" ]; then
  python3 "$src/tests/attacks/crs_to_log.py" "$crs" "$work/crs" > /dev/null
  attacks="$work/crs/attacks.log"
else
  attacks="$src/tests/attacks/crs_slice.log"
fi
python3 - "$work/benign.log" "$attacks" "$work/half.log" "$work/unique.log" <<'PY'
import sys
benign, attacks, out, unique = sys.argv[1:]
a = open(attacks).read().splitlines()
with open(benign) as b, open(out, "w") as o, open(unique, "w") as u:
    for i, line in enumerate(b):
        line = line if i % 2 == 0 else a[i % len(a)] + "\n"
        o.write(line)
        # The request's target is after the first '"' and its method.
        q = line.find('"')
        space = line.find(" ", q)
        end = line.find(" ", space + 1)
        mark = line.find("?", space, end)
        if space < 0 or end < 0:
            u.write(line)
        elif mark >= 0:
            u.write(line[:mark + 1] + "n=%d&" % i + line[mark + 1:])
        else:
            u.write(line[:end] + "?n=%d" % i + line[end:])
PY
echo "logs: $(wc -l < "$work/benign.log") lines benign, $(wc -l < "$work/half.log") half attacks from $attacks"
# Seconds per run in $work/LOG.I, I the binary's place in the arguments.
for run in $(seq "$runs"); do
  for log in benign half unique; do
    for i in "${!binaries[@]}"; do
      bin=${binaries[$i]}
      key="$work/$log.$i"
      start=$(date +%s.%N)
      "$bin" analyze -f combined --no-progress "$work/$log.log" > /dev/null
      end=$(date +%s.%N)
      awk -v a="$start" -v b="$end" 'BEGIN { print b - a }' >> "$key"
      printf '  run %d  %-6s %-40s %.3f s\n' "$run" "$log" "$bin" "$(tail -1 "$key")"
    done
  done
done
for log in benign half unique; do
  for i in "${!binaries[@]}"; do
    bin=${binaries[$i]}
    key="$work/$log.$i"
    median=$(sort -n "$key" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    mb=$(du -m "$work/$log.log" | cut -f1)
    printf 'median %-6s %-40s %.3f s  %.0f MB/s\n' "$log" "$bin" "$median" "$(awk -v m="$mb" -v s="$median" 'BEGIN { print m / s }')"
  done
done
