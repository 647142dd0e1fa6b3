#!/usr/bin/env bash
# Starts the nodes of deploy/cluster.toml on this machine, one process each
# on loopback: two agents tailing var/cluster/agent-N/access.log* and the
# aggregator writing var/cluster/{alerts,minute,ip_minute}.jsonl. With
# --config deploy/cluster-two-aggregators.toml the same under
# var/cluster-two-aggregators/, where a second aggregator writes its
# partition under aggregator-2/ (each example config has its own
# directory: a state dir made for one set of aggregators refuses another).
#
#   deploy/start-cluster.sh [--demo [--seconds N]] [--vigil PATH] [--config FILE]
#
# --demo writes N seconds (90 unless --seconds says, 30 at least) of live
# traffic into both agents' logs, with a scanner that probes each web
# server 3 times (the rule wants 5), then stops the cluster and says
# whether the fleet caught it (exit 1 if not). Without --demo the nodes run
# until Ctrl-C; append to the agents' logs meanwhile.
# Each node logs to DIR/NAME.out; a node that exits stops the cluster.
set -euo pipefail

vigil=build/vigil
config=deploy/cluster.toml
demo=0
seconds=90
while [[ $# -gt 0 ]]; do
  case "$1" in
    --demo) demo=1 ;;
    --seconds) seconds="$2"; shift ;;
    --vigil) vigil="$2"; shift ;;
    --config) config="$2"; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "start-cluster: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $seconds =~ ^[0-9]+$ ]] && (( seconds >= 30 )) ||
  { echo "start-cluster: --seconds wants a whole number of seconds, 30 at least (the scanner needs them), not '$seconds'" >&2; exit 2; }
[[ -x "$vigil" ]] || { echo "start-cluster: $vigil not found: build first (make build)" >&2; exit 1; }
"$vigil" check-config -c "$config"

# Every [[cluster.node]]'s name, aggregators first.
nodes=$(awk '/^\[\[cluster\.node\]\]/ { entry = 1; next }
             entry && /^name *=/ { gsub(/^name *= *"|".*$/, ""); name = $0 }
             entry && /^role *=/ { role = $0; entry = 0; if (role ~ /aggregator/) agg = agg " " name; else ag = ag " " name }
             END { print agg ag }' "$config")
dir=var/$(basename "$config" .toml)  # where the example configs keep everything
mkdir -p "$dir/agent-1" "$dir/agent-2" "$dir/aggregator-2"
touch "$dir/agent-1/access.log" "$dir/agent-2/access.log"
pids=()
stop() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM
for node in $nodes; do
  "$vigil" run -c "$config" --node "$node" >"$dir/$node.out" 2>&1 &
  pids+=($!)
  echo "started $node (pid $!), log $dir/$node.out"
done
# A node that exits (a refused state dir, a port in use) ends the cluster
# with its last words rather than leaving the others waiting for it.
all_running() {
  local i=0 node
  for node in $nodes; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      echo "start-cluster: $node exited; the end of $dir/$node.out:" >&2
      tail -n 5 "$dir/$node.out" >&2
      return 1
    fi
    i=$((i + 1))
  done
}
sleep 2
all_running || exit 1

if [[ $demo == 1 ]]; then
  source "$(dirname "$0")/demo-traffic.sh"
  demo_traffic "$vigil" "$dir" "$seconds"
  sleep 3  # the last batches reach the aggregator; the newest minute stays open (checkpointed)
  echo
  all_running || exit 1
  echo "alerts: $dir/alerts.jsonl   minute windows: $dir/minute.jsonl"
  [[ $nodes == *aggregator-2* ]] && echo "aggregator-2's partition: $dir/aggregator-2/{alerts,ip_minute}.jsonl"
  demo_verdict "$dir" || exit 1
  exit 0
fi
echo "cluster running; Ctrl-C stops it"
wait
