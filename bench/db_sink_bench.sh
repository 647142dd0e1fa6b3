#!/usr/bin/env bash
# Rows/s into the database sinks (issue: database sinks), end to end:
# `vigil run --once` over pre-written orders (no duplicates or bad events,
# so every event is a record of about 200 bytes) through the schema, the
# transforms and the product lookup of config/orders.toml, into one sink,
# with checkpoints every second. Side by side in the same run:
#   - a JSONL file sink (the same records, no database): the pipeline's
#     own rate, the ceiling for any sink;
#   - SQLite (WAL, synchronous=FULL) and PostgreSQL (a server this script
#     starts on loopback, fsync on, defaults otherwise), plain inserts,
#     at batch_rows 1k, 10k and 100k;
#   - PostgreSQL with key = ["order_id"] (upsert through a staging table).
# Each figure is the best of RUNS; rows/s counts the rows the table holds.
#
#   bench/db_sink_bench.sh build/vigil [EVENTS] [RUNS]
set -euo pipefail
vigil=$(realpath "${1:?usage: $0 VIGIL [EVENTS] [RUNS]}")
events=${2:-1000000}
runs=${3:-3}
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/vigil-db-bench-XXXXXX)
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as=""
[ "$(id -u)" -eq 0 ] && as="runuser -u postgres --" && chown postgres "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() { $as "$pg_bin/pg_ctl" -D "$work/pg" -m fast -w stop > /dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

$as "$pg_bin/initdb" -D "$work/pg" -U postgres --auth=trust -E UTF8 --no-instructions > /dev/null
$as "$pg_bin/pg_ctl" -D "$work/pg" -l "$work/pg.log" -w -o "-p $port -k $work -c listen_addresses=127.0.0.1" start > /dev/null
dsn="host=127.0.0.1 port=$port dbname=postgres user=postgres"
psql_() { PGOPTIONS='-c client_min_messages=warning' psql -X -q -A -t -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "$1"; }

mkdir -p "$work/in"
"$vigil" gen events --kind orders --no-pace --rate 5000 --count "$events" --seed 1 --start 2024-01-01T00:00:00Z \
  --out-dir "$work/in" 2>/dev/null
bytes=$(stat -c %s "$work/in/orders.jsonl")
# config/orders.toml's record path (schema, transforms, lookup), without
# its windows, rules, sinks, dedup and HTTP port.
awk '/^\[\[(sink|window|rule)\]\]/ { skip = 1; next } /^\[\[/ { skip = 0 } !skip' "$src/config/orders.toml" \
  | sed -e 's#var/orders#'"$work"'/in#g' -e 's/^http = .*/http = ""/' -e '/^dedup_/d' -e 's#state_dir = .*#state_dir = "'"$work"'/state"#' \
  > "$work/base.toml"
echo "db sink bench: $events orders, $((bytes / 1000000)) MB of JSON, $(nproc) cores, checkpoints every 1s"

run() {  # NAME SINK_TOML COUNT_COMMAND RESET_COMMAND
  local name=$1 sink=$2 count=$3 reset=$4 best=""
  { cat "$work/base.toml"; printf '\n%s\n' "$sink"; } > "$work/run.toml"
  for i in $(seq "$runs"); do
    rm -rf "$work/state" "$work/out"
    eval "$reset"
    /usr/bin/time -f "%e %M" -o "$work/time" "$vigil" run -c "$work/run.toml" --once > "$work/run.log" 2>&1
    read -r secs rss_kb < "$work/time"
    rows=$(eval "$count")
    if [ "$rows" != "$events" ]; then echo "  $name: $rows rows, expected $events (see $work/run.log)"; cat "$work/run.log" | tail -5; exit 1; fi
    if [ -z "$best" ] || awk -v a="$secs" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$secs; best_rss=$rss_kb; fi
  done
  printf '  %-34s %9.0f rows/s  %6.1f MB/s of input  peak RSS %d MiB\n' "$name" \
    "$(awk -v n="$events" -v s="$best" 'BEGIN { print n / s }')" "$(awk -v b="$bytes" -v s="$best" 'BEGIN { print b / s / 1e6 }')" \
    $((best_rss / 1024))
}

run "jsonl file (no database)" \
  "$(printf '[[sink]]\nname = "records"\ntype = "jsonl"\ninput = "records"\npath = "%s/out/records.jsonl"' "$work")" \
  "wc -l < '$work/out/records.jsonl' | tr -d ' '" "true"
for batch in 1000 10000 100000; do
  run "sqlite, batch_rows $batch" \
    "$(printf '[[sink]]\nname = "db"\ntype = "sqlite"\ninput = "records"\npath = "%s/out/orders.db"\ntable = "orders"\nbatch_rows = %d' "$work" "$batch")" \
    "sqlite3 '$work/out/orders.db' 'SELECT count(*) FROM orders'" "true"
done
for batch in 1000 10000 100000; do
  run "postgres, batch_rows $batch" \
    "$(printf '[[sink]]\nname = "db"\ntype = "postgres"\ninput = "records"\ndsn = "%s"\ntable = "orders"\nbatch_rows = %d' "$dsn" "$batch")" \
    "psql_ 'SELECT count(*) FROM orders'" "psql_ 'DROP TABLE IF EXISTS orders; DROP TABLE IF EXISTS vigil_sink_progress'"
done
run "postgres upsert (key), batch 10000" \
  "$(printf '[[sink]]\nname = "db"\ntype = "postgres"\ninput = "records"\ndsn = "%s"\ntable = "orders"\nkey = ["order_id"]' "$dsn")" \
  "psql_ 'SELECT count(*) FROM orders'" "psql_ 'DROP TABLE IF EXISTS orders; DROP TABLE IF EXISTS vigil_sink_progress'"
