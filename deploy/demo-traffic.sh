# Demo traffic for the example clusters, sourced by start-cluster.sh and
# start-cluster-netns.sh: two web servers' live logs, and one scanner that
# probes each of them 3 times, so only the fleet sees the 5 its rule wants.

# demo_traffic VIGIL DIR SECONDS: appends SECONDS of traffic at 300 lines/s
# to DIR/agent-1/access.log and DIR/agent-2/access.log (each server with
# incidents of its own), the split scanner among it; returns when written.
# Sets split_scanner to the scanner's address.
demo_traffic() {
  local vigil=$1 dir=$2 seconds=$3 start gen1 gen2 i
  start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  "$vigil" gen access --rate 300 --duration "${seconds}s" --seed 1 --start "$start" --inject scan,5xx \
    -o "$dir/agent-1/access.log" &
  gen1=$!
  "$vigil" gen access --rate 300 --duration "${seconds}s" --seed 2 --start "$start" --inject scan,latency \
    -o "$dir/agent-2/access.log" &
  gen2=$!
  split_scanner=198.51.100.$((RANDOM % 250 + 1))  # new each run: earlier demos left their alerts
  sleep $((seconds / 4))
  while (( 10#$(date -u +%S) > 45 )); do sleep 1; done  # all 6 probes in one minute
  local probes=(/.env /wp-admin/ /.git/config /config.php /phpmyadmin/ /backup.sql)
  for i in "${!probes[@]}"; do
    # One write of a whole line: the generators' appends never cut into it.
    printf '%s - - [%s] "GET %s HTTP/1.1" 404 162 "-" "Mozilla/5.0"\n' "$split_scanner" \
      "$(LC_ALL=C date -u '+%d/%b/%Y:%H:%M:%S +0000')" "${probes[$i]}" \
      >>"$dir/agent-$((i % 2 + 1))/access.log"
    sleep 1
  done
  wait "$gen1" "$gen2"
}

# demo_verdict DIR: how the split scanner's probes fell on the agents, and
# whether an aggregator's alerts (DIR/alerts.jsonl, DIR/aggregator-2/...)
# caught it; returns 1 if not.
demo_verdict() {
  local dir=$1
  echo "scanner $split_scanner: $(grep -c "^$split_scanner " "$dir/agent-1/access.log") probes on agent-1," \
       "$(grep -c "^$split_scanner " "$dir/agent-2/access.log") on agent-2 (the rule wants 5)"
  if grep -qsF "\"ip\":\"$split_scanner\"" "$dir/alerts.jsonl" "$dir/aggregator-2/alerts.jsonl"; then
    echo "  caught by the fleet: the scanner alert fired"
  else
    echo "  NOT caught: see $dir/*.out" >&2
    return 1
  fi
}
