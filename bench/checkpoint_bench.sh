#!/usr/bin/env bash
# Checkpoint costs of `vigil run`:
#  1. overhead: the same log with checkpoint_interval = "1s" and "0s" (off),
#     runs alternated, as lines/s and the ratio of the medians;
#  2. checkpoint size and duration (the coordinator's debug lines);
#  3. restart: SIGKILL a node holding per-IP windows over many distinct
#     clients, restart it, and time process start -> first events processed.
#
#   bench/checkpoint_bench.sh build/vigil [LINES] [RUNS] [CLIENTS]
set -euo pipefail
vigil=$(realpath "${1:?usage: $0 VIGIL [LINES] [RUNS] [CLIENTS]}")
lines=${2:-2000000}
runs=${3:-3}
clients=${4:-1000000}
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/vigil-ckbench-XXXXXX)
trap 'rm -rf "$work"' EXIT

rate=5000
"$vigil" gen access --no-pace --rate "$rate" --duration "$(( lines / rate ))s" --seed 1 \
  --start 2024-01-01T00:00:00Z --format combined_rt --inject scan,bruteforce,5xx,latency \
  -o "$work/access.log" 2>/dev/null
count=$(wc -l < "$work/access.log")
bytes=$(stat -c %s "$work/access.log")
for interval in 1s 0s; do
  sed -e "s#var/demo/#$work/$interval/#g" -e "s#config/networks.csv#$src/config/networks.csv#" \
      -e "s#^checkpoint_interval = .*#checkpoint_interval = \"$interval\"#" \
      -e "s#$work/$interval/access.log#$work/access.log#" "$src/config/demo.toml" > "$work/$interval.toml"
  grep -q "checkpoint_interval = \"$interval\"" "$work/$interval.toml" \
    || sed -i "s#^\[node\]#[node]\ncheckpoint_interval = \"$interval\"#" "$work/$interval.toml"
done
echo "== overhead: $count lines, $((bytes / 1000000)) MB, config/demo.toml, checkpoints every 1s vs off"
declare -A all
for i in $(seq "$runs"); do
  for interval in 1s 0s; do
    rm -rf "${work:?}/$interval" && mkdir -p "$work/$interval"
    /usr/bin/time -f "%e %M" -o "$work/time" "$vigil" run -c "$work/$interval.toml" --once --log-level debug \
      > "$work/$interval.log" 2>&1
    read -r secs rss_kb < "$work/time"
    lps=$(awk -v n="$count" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
    cks=$(grep -c "checkpoint [0-9]*: " "$work/$interval.log" || true)
    echo "run $i, checkpoints $interval: ${secs} s, ${lps} lines/s, peak RSS $((rss_kb / 1024)) MiB, $cks checkpoints"
    all[$interval]+="$secs "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
on=$(echo "${all[1s]}" | median)
off=$(echo "${all[0s]}" | median)
awk -v on="$on" -v off="$off" -v n="$count" 'BEGIN {
  printf "median: on %.0f lines/s, off %.0f lines/s: checkpoints cost %.1f%% of throughput\n", n / on, n / off, (1 - off / on) * 100 }'
echo "== checkpoint size and duration (last run with checkpoints)"
grep -o "checkpoint [0-9]*: .*" "$work/1s.log" | tail -5 || true

echo "== restart: per-IP windows over $clients distinct clients"
mkdir -p "$work/restart"
"$vigil" gen access --no-pace --rate 20000 --duration "$(( clients / 20000 * 2 ))s" --clients "$clients" --seed 2 \
  --start 2024-01-01T00:00:00Z -o "$work/restart/access.log" 2>/dev/null
cat > "$work/restart/r.toml" <<TOML
[node]
name = "restart"
state_dir = "$work/restart/state"
http = ""
checkpoint_interval = "2s"

[[source]]
name = "in"
type = "file"
path = "$work/restart/access.log"
format = "combined"

[[window]]
name = "ip_hour"
type = "tumbling"
size = "1h"
group_by = ["ip"]
max_groups = 20000000
# Past the default 1 GiB bound (about 700,000 groups), so every client is a group.
max_state_bytes = "64GiB"

[[sink]]
name = "ips"
type = "jsonl"
input = "window:ip_hour"
path = "$work/restart/ips.jsonl"
TOML
# Read it all (two checkpoints in a row of the same size: nothing new came
# in between), stop gracefully (a final checkpoint), then restart and kill.
"$vigil" run -c "$work/restart/r.toml" --log-level debug > "$work/restart/run1.log" 2>&1 &
pid=$!
for _ in $(seq 1200); do
  sleep 0.5
  sizes=$(grep -o 'checkpoint [0-9]*: [0-9]* parts, [0-9]* bytes, all in' "$work/restart/run1.log" \
    | awk '{ print $5 }' | tail -2 | uniq | wc -l || true)
  [ "$(grep -c 'checkpoint [0-9]*: [0-9]* parts' "$work/restart/run1.log" || true)" -ge 2 ] && [ "$sizes" = 1 ] && break
done
kill -TERM $pid; wait $pid || true
grep -o "checkpoint [0-9]*: .*" "$work/restart/run1.log" | tail -2 || true
"$vigil" state inspect --state-dir "$work/restart/state" | sed -n '/^checkpoints/,/^newest/p' | tail -3
"$vigil" state inspect --state-dir "$work/restart/state" | grep -o "window ip_hour: .* groups,[^,]*" || true
du -sh "$work/restart/state" | awk '{ print "state dir on disk: " $1 }'
echo '1.2.3.4 - - [01/Jan/2024:00:30:00 +0000] "GET /restart-marker HTTP/1.1" 200 1 "-" "bench"' >> "$work/restart/access.log"
"$vigil" run -c "$work/restart/r.toml" > "$work/restart/run2.log" 2>&1 &
pid=$!
for _ in $(seq 1200); do
  sleep 0.1
  grep -q "first events in" "$work/restart/run2.log" && break
done
kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null || true
grep -o "resuming from checkpoint.*\|first events in.*" "$work/restart/run2.log"
