#!/usr/bin/env bash
# The README's cluster demo as an operator runs it: deploy/start-cluster.sh
# --demo starts the three nodes of deploy/cluster.toml as processes on
# loopback and writes live traffic into both agents' logs, among it a
# scanner that probes each web server 3 times (the rule wants 5). The
# script exits 0 only once the fleet's alert for that scanner fired; here
# we also want both agents to have joined the aggregator's session.
#
#   start_cluster_demo_test.sh SOURCE_DIR VIGIL
set -euo pipefail
src=$1 vigil=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"  # the example config's paths are relative: var/cluster/...

fail() { echo "FAILED: $*" >&2; tail -n 20 var/cluster/*.out >&2 || true; exit 1; }

# The example config as it stands but for its ports, so that this test
# and someone's demo (or a second test run) on one machine do not meet.
base=$((20000 + RANDOM % 12000))
sed -e "s/127.0.0.1:7100/127.0.0.1:$base/; s/127.0.0.1:7101/127.0.0.1:$((base + 1))/" \
    -e "s/127.0.0.1:7102/127.0.0.1:$((base + 2))/; s/127.0.0.1:9464/127.0.0.1:$((base + 3))/" \
    -e "s/127.0.0.1:9465/127.0.0.1:$((base + 4))/; s/127.0.0.1:9466/127.0.0.1:$((base + 5))/" \
    "$src/deploy/cluster.toml" >cluster.toml
! grep -qE "127\.0\.0\.1:(710[0-2]|946[4-6])\b" cluster.toml || fail "a port of the example config was left as is"

out=$("$src/deploy/start-cluster.sh" --demo --seconds 30 --vigil "$vigil" --config cluster.toml 2>&1) \
  || { echo "$out"; fail "start-cluster.sh --demo exited non-zero"; }
echo "$out"
grep -q "3 probes on agent-1, 3 on agent-2" <<<"$out" || fail "the scanner's probes were not split 3 and 3"
grep -q "caught by the fleet" <<<"$out" || fail "the split scanner was not caught"
for agent in agent-1 agent-2; do
  grep -q "joined session" "var/cluster/$agent.out" || fail "$agent never joined a session"
done
echo "ok: three nodes; the scanner split across the agents was caught"
