#!/usr/bin/env bash
# `make bench`, package index part: 700,000 generated project names served
# from loopback (scripts/index-server.py, deterministic generator).
#
# Prints: the refresh (download + index) time, rate, peak memory and index
# size; a second refresh (304, nothing to do); search latency over ≥ 1,000
# queries measured inside one process (p50/p99/max: the index's cost, the
# < 20 ms p99 target); and, for scale, whole `labsync packages search`
# processes (start-up included).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${LABSYNC_BIN_DIR:-.build/release}
count=${BENCH_PACKAGE_NAMES:-700000}
queries=${BENCH_SEARCH_QUERIES:-2000}

work=$(mktemp -d /tmp/labsync-bench-packages.XXXXXX)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }

python3 scripts/index-server.py --write-names "$work/tree" "$count"
python3 scripts/index-server.py "$work/tree" --port-file "$work/port" --log /dev/null &
server_pid=$!
for _ in $(seq 100); do [ -f "$work/port" ] && break; sleep 0.05; done
url="http://127.0.0.1:$(cat "$work/port")/simple/"
state="$work/state"

echo
echo "package index: $count generated names, $(du -h "$work/tree/simple/index.json" | cut -f1) of PEP 691 JSON from $url"
t0=$(now)
/usr/bin/time -f '%M' -o "$work/rss" "$bin/labsync" packages refresh --index "$url" --state-dir "$state" > "$work/refresh.out"
t1=$(now)
refresh_ms=$(ms "$t0" "$t1")
indexed=$(grep -o 'indexed [0-9]*' "$work/refresh.out" | cut -d' ' -f2)
printf 'refresh:        %6d ms  %8d names/s  peak RSS %d MB  index %s\n' "$refresh_ms" \
  $(( indexed * 1000 / (refresh_ms > 0 ? refresh_ms : 1) )) $(( $(cat "$work/rss") / 1024 )) \
  "$(du -h "$state/package-index/names.sqlite" | cut -f1)"

t0=$(now)
"$bin/labsync" packages refresh --index "$url" --state-dir "$state" | grep -q '^up to date' \
  || { echo "second refresh was not a 304" >&2; exit 1; }
t1=$(now)
printf 'refresh again:  %6d ms  (304 Not Modified, index kept)\n' "$(ms "$t0" "$t1")"

# Queries: prefixes (1–8 characters) and inner pieces (3–8) of random names,
# misspellings, and strings no name contains. Deterministic.
python3 - "$work/tree/simple/index.json" "$queries" > "$work/queries" <<'PY'
import json, random, re, sys
names = [re.sub(r"[-_.]+", "-", p["name"]).lower() for p in json.load(open(sys.argv[1]))["projects"]]
rng = random.Random(11)
for i in range(int(sys.argv[2])):
    name = rng.choice(names)
    kind = i % 4
    if kind == 0:
        print(name[:rng.randint(1, min(8, len(name)))])
    elif kind == 1 and len(name) > 4:
        start = rng.randint(1, len(name) - 3)
        print(name[start:start + rng.randint(3, 8)])
    elif kind == 2 and len(name) > 3:
        j = rng.randrange(len(name) - 1)
        print(name[:j] + name[j + 1] + name[j] + name[j + 2:])
    else:
        print("".join(rng.choice("qwxzjk0123456789") for _ in range(rng.randint(3, 6))))
PY
"$bin/labsync" packages bench-search "$work/queries" --state-dir "$state" --slowest "${BENCH_SHOW_SLOWEST:-0}"

runs=50
times=$(for q in $(head -n $runs "$work/queries"); do
  t0=$(now); "$bin/labsync" packages search --state-dir "$state" -- "$q" > /dev/null; t1=$(now); ms "$t0" "$t1"
done | sort -n)
printf 'search process: median %s ms, max %s ms over %d runs (start-up included)\n' \
  "$(echo "$times" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')" "$(echo "$times" | tail -1)" "$runs"
