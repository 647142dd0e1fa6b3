#!/usr/bin/env bash
# What a window group costs: `vigil run --once` over a log of CLIENTS
# distinct client IPs, all in one open 10-minute per-IP window with the
# scanner rule watching it, against the same run with the window not
# grouped (one group) and against `vigil analyze` over the same file. Prints
# lines/s, peak RSS, the groups and the bytes per group (the RSS the groups
# add, over their count). Runs alternated; medians.
#
#   bench/group_memory.sh build/vigil [LINES] [CLIENTS] [RUNS] [FORMAT]
# FORMAT: combined (default) or combined_rt (with request times: latency
# sketches per group).
set -euo pipefail
vigil=$(realpath "${1:?usage: $0 VIGIL [LINES] [CLIENTS] [RUNS] [FORMAT]}")
lines=${2:-2000000}
clients=${3:-1000000}
runs=${4:-3}
format=${5:-combined}
work=$(mktemp -d /tmp/vigil-groupmem-XXXXXX)
trap 'rm -rf "$work"' EXIT

# All lines within the first 10 minutes: one window instance holds them all.
rate=$(( lines / 500 ))
"$vigil" gen access --no-pace --rate "$rate" --duration 500s --clients "$clients" --seed 3 \
  --start 2024-01-01T00:00:00Z --format "$format" -o "$work/access.log" 2>/dev/null
count=$(wc -l < "$work/access.log")
bytes=$(stat -c %s "$work/access.log")
groups=$(awk '{ print $1 }' "$work/access.log" | sort -u | wc -l)

for kind in keyed single; do
  group_by='group_by = ["ip"]'
  [ "$kind" = single ] && group_by=''
  cat > "$work/$kind.toml" <<TOML
[node]
name = "groupmem"
state_dir = "$work/state-$kind"
http = ""
checkpoint_interval = "1s"

[[source]]
name = "in"
type = "file"
path = "$work/access.log"
format = "$format"

[[window]]
name = "ip_10m"
type = "tumbling"
size = "10m"
$group_by
max_groups = 20000000
max_state_bytes = "64GiB"

[[rule]]
name = "scanner"
window = "ip_10m"
when = "status_404 >= 20 || probes >= 5"
severity = "warning"

[[sink]]
name = "results"
type = "jsonl"
input = "window:ip_10m"
path = "$work/results-$kind.jsonl"
TOML
done

echo "== $count lines ($((bytes / 1000000)) MB, $format), $groups distinct IPs in one 10-minute window"
declare -A secs rss
for i in $(seq "$runs"); do
  for kind in keyed single analyze; do
    rm -rf "${work:?}/state-$kind" "$work/results-$kind.jsonl"
    if [ "$kind" = analyze ]; then
      cmd=("$vigil" analyze -f "$format" --no-progress --json "$work/report.json" "$work/access.log")
    else
      cmd=("$vigil" run -c "$work/$kind.toml" --once)
    fi
    /usr/bin/time -f "%e %M" -o "$work/time" "${cmd[@]}" > "$work/$kind.log" 2>&1
    read -r s kb < "$work/time"
    secs[$kind]+="$s "
    rss[$kind]+="$kb "
    printf "run %d %-8s %6.2f s %9.0f lines/s  peak RSS %5d MiB\n" "$i" "$kind" "$s" \
      "$(awk -v n="$count" -v s="$s" 'BEGIN { print n / s }')" $((kb / 1024))
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
k_s=$(echo "${secs[keyed]}" | median); k_kb=$(echo "${rss[keyed]}" | median)
s_kb=$(echo "${rss[single]}" | median); s_s=$(echo "${secs[single]}" | median)
a_s=$(echo "${secs[analyze]}" | median)
results=$(wc -l < "$work/results-keyed.jsonl")
awk -v n="$count" -v ks="$k_s" -v ss="$s_s" -v as="$a_s" -v kkb="$k_kb" -v skb="$s_kb" -v g="$groups" -v r="$results" 'BEGIN {
  printf "median: per-IP %.0f lines/s, peak RSS %.0f MiB; one group %.0f lines/s, %.0f MiB; analyze %.0f lines/s\n",
    n / ks, kkb / 1024, n / ss, skb / 1024, n / as
  printf "per-IP run --once takes %.2fx analyze; %d result lines for %d IPs; %.0f bytes per group\n",
    ks / as, r, g, (kkb - skb) * 1024 / g }'
