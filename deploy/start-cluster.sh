#!/usr/bin/env bash
# Starts the nodes of deploy/cluster.toml on this machine, one process each
# on loopback: two agents tailing var/cluster/agent-N/access.log* and the
# aggregator writing var/cluster/{alerts,minute,ip_minute}.jsonl. With
# --config deploy/cluster-two-aggregators.toml, a second aggregator writes
# its partition under var/cluster/aggregator-2/.
#
#   deploy/start-cluster.sh [--demo] [--vigil PATH] [--config FILE]
#
# --demo writes live traffic into both agents' logs for 90 s (a scanner
# that probes both web servers among it), then stops the cluster. Without
# it, the nodes run until Ctrl-C; append to the agents' logs meanwhile.
# Each node logs to var/cluster/NAME.out.
set -euo pipefail

vigil=build/vigil
config=deploy/cluster.toml
demo=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --demo) demo=1 ;;
    --vigil) vigil="$2"; shift ;;
    --config) config="$2"; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "start-cluster: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ -x "$vigil" ]] || { echo "start-cluster: $vigil not found: build first (make build)" >&2; exit 1; }
"$vigil" check-config -c "$config"

# Every [[cluster.node]]'s name, aggregators first.
nodes=$(awk '/^\[\[cluster\.node\]\]/ { entry = 1; next }
             entry && /^name *=/ { gsub(/^name *= *"|".*$/, ""); name = $0 }
             entry && /^role *=/ { role = $0; entry = 0; if (role ~ /aggregator/) agg = agg " " name; else ag = ag " " name }
             END { print agg ag }' "$config")
mkdir -p var/cluster/agent-1 var/cluster/agent-2 var/cluster/aggregator-2
touch var/cluster/agent-1/access.log var/cluster/agent-2/access.log
pids=()
stop() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM
for node in $nodes; do
  "$vigil" run -c "$config" --node "$node" >"var/cluster/$node.out" 2>&1 &
  pids+=($!)
  echo "started $node (pid $!), log var/cluster/$node.out"
done

if [[ $demo == 1 ]]; then
  # Two web servers' traffic; the scanner comes to both, so each agent sees
  # only part of its probes and only the aggregator sees them all.
  start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  "$vigil" gen access --rate 300 --duration 90s --seed 1 --start "$start" --inject scan,5xx \
    -o var/cluster/agent-1/access.log &
  gen1=$!
  "$vigil" gen access --rate 300 --duration 90s --seed 2 --start "$start" --inject scan,latency \
    -o var/cluster/agent-2/access.log &
  gen2=$!
  wait $gen1 $gen2
  sleep 3  # the last batches reach the aggregator; the newest minute stays open (checkpointed)
  echo
  echo "alerts: var/cluster/alerts.jsonl   minute windows: var/cluster/minute.jsonl"
  [[ $nodes == *aggregator-2* ]] && echo "aggregator-2's partition: var/cluster/aggregator-2/{alerts,ip_minute}.jsonl"
  exit 0
fi
echo "cluster running; Ctrl-C stops it"
wait
