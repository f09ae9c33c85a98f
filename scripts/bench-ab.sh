#!/usr/bin/env bash
# `make bench-ab OLD=DIR [NEW=DIR]`: the no-op plan for 20 environments, two
# builds compared on one loopback host. The runs alternate (old, new, old, …)
# so that a machine busy with other work slows both alike; `make bench` on a
# shared machine swings by ±40 % from run to run, which hides a 10 % change.
#
#   OLD, NEW: directories holding a release `labsync` (NEW defaults to
#   .build/release). Prints every time, then the median and minimum of each.
set -euo pipefail
cd "$(dirname "$0")/.."
old=${1:?usage: scripts/bench-ab.sh OLD_BIN_DIR [NEW_BIN_DIR]}/labsync
new=${2:-.build/release}/labsync
testhost=$(dirname "$new")/labsync-testhost
runs=${BENCH_RUNS:-21}

work=$(mktemp -d /tmp/labsync-bench-ab.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/host" "$work/specs"
"$testhost" --build-wheels "$work/wheels" alpha:1.0 beta:1.0 gamma:1.0:beta
"$testhost" "$work/host" --find-links "$work/wheels" > "$work/testhost.log" 2>&1 &
host_pid=$!
trap 'kill $host_pid 2>/dev/null || true; wait $host_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -f "$work/host/host.yaml" ] && break; sleep 0.1; done
cp "$work/host/host.yaml" "$work/specs/"
for i in $(seq 20); do
  printf -- '---\napiVersion: labsync/v1\nkind: PythonEnvironment\nmetadata: {name: env-%s}\nspec: {host: loopback, root: %s/envs, packages: ["alpha==1.0", gamma]}\n' \
    "$i" "$work" >> "$work/specs/envs.yaml"
done
"$new" apply --repo "$work/specs" --state-dir "$work/state-new" --yes > "$work/apply.log" 2>&1 \
  || { cat "$work/apply.log"; exit 1; }
# Each build must see a no-op (its own state directory: the journal's format may differ).
for b in old new; do
  bin=$new; [ $b = old ] && bin=$old
  "$bin" plan --repo "$work/specs" --state-dir "$work/state-$b" --detailed-exitcode > /dev/null 2>&1 \
    || { echo "bench-ab: the $b build's plan is not a no-op" >&2; exit 1; }
done

times() { grep "^$1 " "$work/times" | awk '{print $2}' | sort -n; }
for _ in $(seq "$runs"); do
  for b in old new; do
    bin=$new; [ $b = old ] && bin=$old
    t0=$(date +%s%N)
    "$bin" plan --repo "$work/specs" --state-dir "$work/state-$b" > /dev/null 2>&1
    t1=$(date +%s%N)
    echo "$b $(( (t1 - t0) / 1000000 ))" >> "$work/times"
  done
done
for b in old new; do
  echo "$b: $(times $b | tr '\n' ' ')"
done
median_old=$(times old | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
median_new=$(times new | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
printf 'no-op plan, 20 environments, %s runs each: old median %s ms (min %s), new median %s ms (min %s), new/old %s\n' \
  "$runs" "$median_old" "$(times old | head -1)" "$median_new" "$(times new | head -1)" \
  "$(awk -v a="$median_new" -v b="$median_old" 'BEGIN { printf "%.2f", a / b }')"
