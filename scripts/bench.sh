#!/usr/bin/env bash
# `make bench`: labsync against a loopback host with 1, 5 and 20 environments.
#
# For each size: the cold apply (creates and fills every venv), the no-op
# plan (median of 5), and a lower bound — one plain `ssh` call that lists
# every environment's distributions, the least any tool must do to know the
# state (median of 5). Also counts the SSH connections a no-op plan opens
# (from the sshd log: it must be one per host).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${LABSYNC_BIN_DIR:-.build/release}
sizes=${BENCH_SIZES:-1 5 20}
runs=5

work=$(mktemp -d /tmp/labsync-bench.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/host"
"$bin/labsync-testhost" --build-wheels "$work/wheels" alpha:1.0 beta:1.0 gamma:1.0:beta
"$bin/labsync-testhost" "$work/host" --find-links "$work/wheels" > "$work/testhost.log" 2>&1 &
host_pid=$!
trap 'kill $host_pid 2>/dev/null || true; wait $host_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -f "$work/host/host.yaml" ] && break; sleep 0.1; done
read -r port key < <(.tools/venv/bin/python - "$work/host/host.yaml" "$work/known_hosts" <<'PY'
import sys, yaml
spec = yaml.safe_load(open(sys.argv[1]))["spec"]
with open(sys.argv[2], "w") as known:
    for line in spec["hostKeys"]:
        known.write("[127.0.0.1]:%s %s\n" % (spec["port"], line))
print(spec["port"], spec["identityFile"])
PY
)
log=$(sed -n 's/^log: //p' "$work/testhost.log")

now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '\n%-6s %12s %14s %14s %8s %12s\n' envs "cold apply" "no-op plan" "lower bound" ratio connections
for n in $sizes; do
  specs="$work/specs-$n"
  mkdir -p "$specs"
  cp "$work/host/host.yaml" "$specs/"
  for i in $(seq "$n"); do
    cat >> "$specs/envs.yaml" <<YAML
---
apiVersion: labsync/v1
kind: PythonEnvironment
metadata: {name: env-$i}
spec: {host: loopback, root: $work/envs-$n, packages: ["alpha==1.0", gamma]}
YAML
  done
  labsync=("$bin/labsync")
  t0=$(now); "${labsync[@]}" apply --repo "$specs" --state-dir "$work/state" --yes > "$work/apply-$n.log" 2>&1 \
    || { cat "$work/apply-$n.log"; exit 1; }; t1=$(now)
  cold=$(ms "$t0" "$t1")

  before=$(grep -c "Accepted publickey" "$log" || true)
  plan_times=$(for _ in $(seq $runs); do
    t0=$(now); "${labsync[@]}" plan --repo "$specs" --state-dir "$work/state" --detailed-exitcode > /dev/null \
      || { echo "no-op plan was not empty" >&2; exit 1; }; t1=$(now); ms "$t0" "$t1"
  done)
  after=$(grep -c "Accepted publickey" "$log" || true)
  plan=$(echo "$plan_times" | median)
  connections=$(( (after - before) / runs ))

  lower_times=$(for _ in $(seq $runs); do
    t0=$(now)
    ssh -q -i "$key" -p "$port" -o BatchMode=yes -o UserKnownHostsFile="$work/known_hosts" \
      -o StrictHostKeyChecking=yes labsync-test@127.0.0.1 \
      "for d in $work/envs-$n/*/; do ls \"\$d\"lib/python3*/site-packages; done" > /dev/null
    t1=$(now); ms "$t0" "$t1"
  done)
  lower=$(echo "$lower_times" | median)
  ratio=$(awk -v a="$plan" -v b="$lower" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
  printf '%-6s %10s ms %12s ms %12s ms %8s %12s\n' "$n" "$cold" "$plan" "$lower" "$ratio" "$connections"
done
