#!/usr/bin/env bash
# Starts deploy/cluster.toml as three hosts: each node in its own network
# namespace, joined by veth pairs to a bridge (10.77.0.0/24), talking over
# CurveZMQ with keys made here. Needs root (ip netns).
#
#   sudo deploy/start-cluster-netns.sh [--demo] [--vigil PATH]
#
# --demo writes 60 s of live traffic into both agents' logs, with a scanner
# that probes each web server 3 times (the rule wants 5), says whether the
# fleet caught it, and stops. Without it, the nodes run until Ctrl-C.
# Namespaces and bridge are removed on exit; var/cluster-netns (keys,
# state, logs NAME.out) is made afresh on each start.
set -euo pipefail

vigil=build/vigil
demo=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --demo) demo=1 ;;
    --vigil) vigil="$2"; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "start-cluster-netns: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $(id -u) == 0 ]] || { echo "start-cluster-netns: needs root for ip netns (try sudo)" >&2; exit 1; }
[[ -x "$vigil" ]] || { echo "start-cluster-netns: $vigil not found: build first (make build)" >&2; exit 1; }
vigil=$(realpath "$vigil")

dir=var/cluster-netns
rm -rf "$dir" && mkdir -p "$dir/keys"
declare -A address=([aggregator]=10.77.0.10 [agent-1]=10.77.0.11 [agent-2]=10.77.0.12)
nodes=(aggregator agent-1 agent-2)
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for n in "${nodes[@]}"; do ip netns del "vigil-$n" 2>/dev/null || true; done
  ip link del vigil-br0 2>/dev/null || true
}
trap cleanup EXIT INT TERM

ip link add vigil-br0 type bridge
ip link set vigil-br0 up
i=0
for n in "${nodes[@]}"; do
  ns="vigil-$n"
  ip netns add "$ns"
  ip link add "vgl$i" type veth peer name "vgl${i}p"
  ip link set "vgl${i}p" netns "$ns"
  ip link set "vgl$i" master vigil-br0 up
  ip -n "$ns" addr add "${address[$n]}/24" dev "vgl${i}p"
  ip -n "$ns" link set "vgl${i}p" up
  ip -n "$ns" link set lo up
  i=$((i + 1))
done

# The example config with each node at its own address, a key pair each,
# and its paths under $dir.
cp deploy/cluster.toml "$dir/cluster.toml"
for n in "${nodes[@]}"; do
  port=$(grep -A3 "name = \"$n\"" deploy/cluster.toml | sed -n 's/.*tcp:\/\/127.0.0.1:\([0-9]*\).*/\1/p')
  "$vigil" keygen --node "$n" --dir "$dir/keys" >/dev/null
  public=$(head -n1 "$dir/keys/$n.pub")
  public=${public//&/\\&}  # Z85 has '&', which sed reads as the match
  sed -i "s|endpoint = \"tcp://127.0.0.1:$port\"|endpoint = \"tcp://${address[$n]}:$port\"\npublic_key = \"$public\"\nsecret_key_file = \"$dir/keys/$n.key\"|" \
    "$dir/cluster.toml"
done
sed -i "s|var/cluster/|$dir/|g" "$dir/cluster.toml"
"$vigil" check-config -c "$dir/cluster.toml"

mkdir -p "$dir/agent-1" "$dir/agent-2"
touch "$dir/agent-1/access.log" "$dir/agent-2/access.log"
for n in "${nodes[@]}"; do
  ip netns exec "vigil-$n" "$vigil" run -c "$dir/cluster.toml" --node "$n" >"$dir/$n.out" 2>&1 &
  pids+=($!)
  echo "started $n at ${address[$n]} (pid $!), log $dir/$n.out"
done

if [[ $demo == 1 ]]; then
  source "$(dirname "$0")/demo-traffic.sh"
  demo_traffic "$vigil" "$dir" 60
  sleep 3
  echo
  grep -h "joined\|peer" "$dir/aggregator.out" || true
  echo "alerts: $dir/alerts.jsonl ($(wc -l <"$dir/alerts.jsonl") lines)   minute windows: $dir/minute.jsonl"
  demo_verdict "$dir" || exit 1
  exit 0
fi
echo "cluster running in namespaces vigil-aggregator, vigil-agent-1, vigil-agent-2; Ctrl-C stops it"
wait
