#!/usr/bin/env bash
# The ETL job's figures (issue: real-time ETL), each run from a pre-written
# stream with checkpoints every second, the best of RUNS:
#   1. orders: JSON -> schema (validate, coerce, dedup) -> 3 transforms ->
#      product lookup -> 2 windows of business metrics + 2 rules -> records
#      JSONL + purchases CSV + quarantine (config/orders.toml), then the
#      same without its dedup_key;
#   2. YSB: config/ysb.toml (filter views, project, join campaigns, count
#      per campaign per 10 s) over ad events;
#   3. YSB live: events paced at RATE/s with event time = now, and the time
#      from each window's end (+ its 1 s allowed lateness) to its result
#      line in the sink (build/bench/window_latency);
#   4. zmq: the orders job without dedup fed by a PUSH peer
#      (build/bench/zmq_push) over loopback TCP, 100 events a message and 1,
#      from the first message sent to the last record counted in /metrics.
#
#   bench/etl_bench.sh build/vigil [EVENTS] [RUNS] [RATE]
set -euo pipefail
vigil=$(realpath "${1:?usage: $0 VIGIL [EVENTS] [RUNS] [RATE]}")
events=${2:-2000000}
runs=${3:-3}
rate=${4:-50000}
src=$(cd "$(dirname "$0")/.." && pwd)
latency_bin="$(dirname "$vigil")/bench/window_latency"
work=$(mktemp -d /tmp/vigil-etl-bench-XXXXXX)
trap 'pkill -P $$ 2>/dev/null || true; rm -rf "$work"' EXIT

best_of() {  # NAME CONFIG INPUT DIR: runs `vigil run --once` RUNS times from DIR
  local name=$1 config=$2 input=$3 dir=$4 best=""
  local bytes count
  bytes=$(stat -c %s "$input")
  count=$(wc -l < "$input")
  echo "$name: $count events, $((bytes / 1000000)) MB"
  for i in $(seq "$runs"); do
    (cd "$dir" && find . -maxdepth 2 -name 'state' -prune -exec rm -rf {} + ; rm -f var/*/*results* ; true)
    rm -rf "$dir"/var/*/state "$dir"/state
    find "$dir" -name '*.jsonl' ! -name "$(basename "$input")" -delete
    find "$dir" -name 'purchases.csv' -delete
    find "$dir" -name '*.db' -o -name '*.db-wal' -o -name '*.db-shm' | xargs -r rm -f
    (cd "$dir" && /usr/bin/time -f "%e %M" -o "$work/time" "$vigil" run -c "$config" --once > /dev/null 2>&1)
    read -r secs rss_kb < "$work/time"
    echo "  run $i: ${secs} s, $(awk -v n="$count" -v s="$secs" 'BEGIN { printf "%.0f", n / s }') events/s," \
         "$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.1f", b / s / 1e6 }') MB/s, peak RSS $((rss_kb / 1024)) MiB"
    if [ -z "$best" ] || awk -v a="$secs" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$secs; fi
  done
  echo "  best: $(awk -v n="$count" -v s="$best" 'BEGIN { printf "%.0f", n / s }') events/s," \
       "$(awk -v b="$bytes" -v s="$best" 'BEGIN { printf "%.1f", b / s / 1e6 }') MB/s"
}

# 1. orders
mkdir -p "$work/orders/var/orders"
"$vigil" gen events --kind orders --no-pace --rate 5000 --count "$events" --seed 1 --start 2024-01-01T00:00:00Z \
  --inject bad,duplicates,schema_drift --bad-rate 0.01 --out-dir "$work/orders/var/orders" 2>/dev/null
sed -e 's/^http = .*/http = ""/' -e '/^\[\[sink\]\]$/{N;/name = "console"/{N;N;d}}' "$src/config/orders.toml" > "$work/orders/orders.toml"
best_of "orders (config/orders.toml)" "$work/orders/orders.toml" "$work/orders/var/orders/orders.jsonl" "$work/orders"
# The same without the dedup key: dedup needs one parse stage (duplicates
# must meet in one filter), without it the source's chunks spread over two.
sed -e '/^dedup_key/d' -e '/^dedup_horizon/d' "$work/orders/orders.toml" > "$work/orders/orders-nodedup.toml"
best_of "orders without dedup_key" "$work/orders/orders-nodedup.toml" "$work/orders/var/orders/orders.jsonl" "$work/orders"

# 2. YSB
mkdir -p "$work/ysb/var/ysb"
"$vigil" gen events --kind ysb --no-pace --rate 100000 --count "$((events * 2))" --seed 1 --start 2024-01-01T00:00:00Z \
  --out-dir "$work/ysb/var/ysb" 2>/dev/null
best_of "YSB (config/ysb.toml)" "$src/config/ysb.toml" "$work/ysb/var/ysb/ad_events.jsonl" "$work/ysb"
(cd "$work/ysb" && "$vigil" gen events --kind ysb --out-dir var/ysb --check var/ysb/campaign_10s.jsonl 2>&1 | head -1 | sed 's/^/  YSB check: /')

# 3. YSB live latency
if [ -x "$latency_bin" ]; then
  rm -rf "$work/live" && mkdir -p "$work/live/var/ysb"
  (cd "$work/live" && "$vigil" gen events --kind ysb --count 0 --rate 1 --duration 1s --out-dir var/ysb >/dev/null 2>&1; : > var/ysb/ad_events.jsonl)
  (cd "$work/live" && exec "$vigil" run -c "$src/config/ysb.toml" > "$work/live/run.log" 2>&1) &
  node=$!
  sleep 1
  (cd "$work/live" && exec "$vigil" gen events --kind ysb --rate "$rate" --duration 45s --out-dir var/ysb > /dev/null 2>&1) &
  gen=$!
  echo "YSB live at $rate events/s, 40 s:"
  "$latency_bin" "$work/live/var/ysb/campaign_10s.jsonl" 1000 40 | sed 's/^/  /'
  kill "$gen" 2>/dev/null || true
  kill -TERM "$node"; wait "$node" || true
fi

# 4. zmq source
push_bin="$(dirname "$vigil")/bench/zmq_push"
if [ -x "$push_bin" ]; then
  rm -rf "$work/zmq" && mkdir -p "$work/zmq/var/orders"
  zmq_events=$((events / 2))
  "$vigil" gen events --kind orders --no-pace --rate 5000 --count "$zmq_events" --seed 2 --start 2024-01-01T00:00:00Z \
    --out-dir "$work/zmq/var/orders" 2>/dev/null
  mv "$work/zmq/var/orders/orders.jsonl" "$work/zmq/input.jsonl"
  port=$((20000 + RANDOM % 10000)); http_port=$((port + 1))
  for per in 100 1; do
    rm -rf "$work/zmq/var/orders/state" "$work/zmq/var/orders/"*.jsonl "$work/zmq/var/orders/"*.csv
    sed -e "s|^http = .*|http = \"127.0.0.1:$http_port\"|" \
        -e 's|^type = "file"$|type = "zmq"|' -e "s|^path = \"var/orders/orders.jsonl\*\"$|endpoint = \"tcp://127.0.0.1:$port\"|" \
        -e '/^start_at/d' "$work/orders/orders-nodedup.toml" > "$work/zmq/zmq.toml"
    (cd "$work/zmq" && exec "$vigil" run -c zmq.toml > "$work/zmq/run.log" 2>&1) &
    node=$!
    until grep -q "taking PULL" "$work/zmq/run.log" 2>/dev/null; do sleep 0.1; done
    start=$(date +%s.%N)
    "$push_bin" "tcp://127.0.0.1:$port" "$work/zmq/input.jsonl" "$per" > "$work/zmq/push.txt"
    until [ "$(curl -s "http://127.0.0.1:$http_port/metrics" | awk '/^vigil_source_records_total/ { print $2 }')" = "$zmq_events" ]; do
      sleep 0.05
    done
    end=$(date +%s.%N)
    bytes=$(stat -c %s "$work/zmq/input.jsonl")
    rss_kb=$(awk '/^VmHWM/ { print $2 }' "/proc/$node/status")
    kill -TERM "$node"; wait "$node" || true
    echo "zmq source, $per events a message: $zmq_events events," \
         "$(awk -v n="$zmq_events" -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", n / (b - a) }') events/s," \
         "$(awk -v n="$bytes" -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", n / (b - a) / 1e6 }') MB/s," \
         "peak RSS $((rss_kb / 1024)) MiB ($(cat "$work/zmq/push.txt"))"
  done
fi
