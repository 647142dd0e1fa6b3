#!/usr/bin/env bash
# Two agents -> one aggregator (or two, keys split between them) on
# loopback, against one node over the same two files, in the same sitting
# (runs alternated):
#   events/s into the aggregator (its first event to its exit, when every
#   window closed), MB/s, each process's CPU seconds and peak RSS.
# Agents pre-aggregate ("pre": each batch's windows as partial groups) or
# send every parsed, enriched event ("events"), runs alternated.
#
#   bench/cluster_bench.sh build/vigil [LINES_PER_AGENT] [RUNS] [CLIENTS] [AGGREGATORS]
# CLIENTS (default 20000) distinct client IPs: the per-IP window's groups.
# AGGREGATORS 1 (default) or 2: with 2, "agg cpu" and "agg RSS" are the
# leader's + the other's, and the rate is to the leader's exit (it exits
# last, once both closed their windows).
set -euo pipefail
vigil=$(realpath "${1:?usage: $0 VIGIL [LINES_PER_AGENT] [RUNS]}")
lines=${2:-1000000}
runs=${3:-3}
clients=${4:-20000}
aggregators=${5:-1}
[[ $aggregators == 1 || $aggregators == 2 ]] || { echo "AGGREGATORS: 1 or 2" >&2; exit 2; }
nodes="aggregator agent-1 agent-2"
[[ $aggregators == 1 ]] || nodes="aggregator aggregator-2 agent-1 agent-2"
work=$(mktemp -d /tmp/vigil-clbench-XXXXXX)
trap 'pkill -P $$ 2>/dev/null || true; rm -rf "$work"' EXIT

rate=5000
for a in 1 2; do
  mkdir -p "$work/agent-$a"
  "$vigil" gen access --no-pace --rate "$rate" --duration "$(( lines / rate ))s" --seed "$a" --clients "$clients" \
    --start 2024-01-01T00:00:00Z --format combined_rt --inject scan,5xx -o "$work/agent-$a/access.log" 2>/dev/null
done
count=$(cat "$work"/agent-*/access.log | wc -l)
mb=$(( $(cat "$work"/agent-*/access.log | wc -c) / 1000000 ))

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
shared='
[[window]]
name = "minute"
type = "tumbling"
size = "1m"
allowed_lateness = "10s"
[[window]]
name = "ip_minute"
type = "tumbling"
size = "1m"
group_by = ["ip"]
allowed_lateness = "10s"
[[rule]]
name = "scanner"
window = "ip_minute"
when = "probes >= 5"
[[sink]]
name = "alerts"
type = "jsonl"
input = "alerts"
path = "WORK/alerts.jsonl"
[[sink]]
name = "minute"
type = "jsonl"
input = "window:minute"
path = "WORK/minute.jsonl"'

cluster_config() {
  local out=$1 pre=$2
  {
    printf '[node]\ncheckpoint_interval = "1s"\nhttp = ""\n[cluster]\npre_aggregate = %s\n' "$pre"
    for n in $nodes; do
      printf '[[cluster.node]]\nname = "%s"\nrole = "%s"\nendpoint = "tcp://127.0.0.1:%s"\nstate_dir = "%s"\n' \
        "$n" "$([[ $n == aggregator* ]] && echo aggregator || echo agent)" "$(port)" "$out/state-$n"
      [[ $n != aggregator-2 ]] || printf '[[cluster.node.sink]]\nname = "alerts"\ntype = "jsonl"\ninput = "alerts"\npath = "%s/agg2-alerts.jsonl"\n' "$out"
      [[ $n == aggregator* ]] || printf '[[cluster.node.source]]\nname = "access"\ntype = "file"\npath = "%s/%s/access.log"\nformat = "combined_rt"\n' "$work" "$n"
    done
    echo "${shared//WORK/$out}"
  } > "$out/cluster.toml"
}
single_config() {
  local out=$1
  {
    printf '[node]\nname = "single"\ncheckpoint_interval = "1s"\nhttp = ""\nstate_dir = "%s/state"\n' "$out"
    for a in 1 2; do
      printf '[[source]]\nname = "a%s"\ntype = "file"\npath = "%s/agent-%s/access.log"\nformat = "combined_rt"\n' "$a" "$work" "$a"
    done
    echo "${shared//WORK/$out}"
  } > "$out/single.toml"
}

# Seconds from a node's first event to its exit: its wall time less the
# start-up it logs ("first events in, N ms after the process started").
span() {
  local wall startup
  wall=$(cut -d' ' -f1 "$1")
  startup=$(sed -n 's/.*first events in, \([0-9]*\) ms.*/\1/p' "$2" | head -n1)
  awk -v w="$wall" -v s="${startup:-0}" 'BEGIN { print w - s / 1000 }'
}

echo "== $count lines ($mb MB) in two files, $clients clients, $(nproc) cores, $aggregators aggregator(s); windows: minute, per-IP minute; 1 rule"
printf "%-9s %3s %12s %8s %10s %10s %10s %10s\n" run "#" "events/s" "MB/s" "agg cpu s" "agent cpu" "agg RSS MB" "agent RSS"
for i in $(seq "$runs"); do
 for pre in true false; do
  out="$work/cluster-$pre-$i"; mkdir -p "$out"; cluster_config "$out" "$pre"
  for n in $nodes; do
    /usr/bin/time -f "%e %U %S %M" -o "$out/$n.time" "$vigil" run -c "$out/cluster.toml" --node "$n" --once \
      > "$out/$n.log" 2>&1 &
  done
  wait
  secs=$(span "$out/aggregator.time" "$out/aggregator.log")
  read -r _ au as am < "$out/aggregator.time"
  if [[ $aggregators == 2 ]]; then
    read -r _ bu bs bm < "$out/aggregator-2.time"
    au="$au+$bu"; as="$as+$bs"; am="$am+$bm"
  fi
  read -r _ u1 s1 m1 < "$out/agent-1.time"
  read -r _ u2 s2 m2 < "$out/agent-2.time"
  awk -v n="$count" -v mb="$mb" -v s="$secs" -v ac="$au+$as" -v c1="$u1+$s1" -v c2="$u2+$s2" -v am="$am" -v m1="$m1" -v m2="$m2" -v i="$i" \
      -v name="$([[ $pre == true ]] && echo cl-pre || echo cl-events)" \
    'function sum(x,  p, k, t) { k = split(x, p, "+"); for (t = 0; k > 0; k--) t += p[k]; return t }
     function mbs(x,  p, k, o) { k = split(x, p, "+"); o = sprintf("%.0f", p[1] / 1000); for (j = 2; j <= k; j++) o = o "+" sprintf("%.0f", p[j] / 1000); return o }
     BEGIN { printf "%-9s %3d %12.0f %8.1f %10.2f %4.2f+%4.2f %10s %4.0f+%4.0f\n", name, i, n / s, mb / s, sum(ac), sum(c1), sum(c2), mbs(am), m1 / 1000, m2 / 1000 }'
  rollbacks=$(grep -c "rolling back" "$out/aggregator.log" || true)
  [[ $rollbacks == 0 ]] || echo "   (the cluster run rolled back $rollbacks times)"
 done
  out="$work/single-$i"; mkdir -p "$out"; single_config "$out"
  /usr/bin/time -f "%e %U %S %M" -o "$out/single.time" "$vigil" run -c "$out/single.toml" --once > "$out/single.log" 2>&1
  secs=$(span "$out/single.time" "$out/single.log")
  read -r _ su ss sm < "$out/single.time"
  awk -v n="$count" -v mb="$mb" -v s="$secs" -v c="$su+$ss" -v m="$sm" -v i="$i" \
    'function sum(x,  p) { split(x, p, "+"); return p[1] + p[2] }
     BEGIN { printf "%-9s %3d %12.0f %8.1f %10.2f %9s %10.0f %9s\n", "single", i, n / s, mb / s, sum(c), "-", m / 1000, "-" }'
  for pre in true false; do
    cmp -s <(sort "$work/cluster-$pre-$i/minute.jsonl") <(sort "$work/single-$i/minute.jsonl") \
      || echo "   (minute results differ between the cluster, pre_aggregate = $pre, and the single node!)"
  done
done
