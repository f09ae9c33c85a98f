#!/usr/bin/env bash
# `make demo`: labsync end to end on this machine, nothing else needed.
#
# 1. downloads the quickstart's packages once into .cache/wheelhouse/quickstart
#    (the demo then installs from there with --no-index: fast and repeatable);
# 2. starts a throwaway sshd on loopback (the test harness's, labsync-testhost)
#    and writes a Host spec named `local` for it, with its host keys pinned;
# 3. validate → plan → apply → plan again (which must show no changes) →
#    status, on examples/quickstart's PythonEnvironment.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${LABSYNC_BIN_DIR:-.build/release}
py=.tools/venv/bin/python
wheelhouse=$PWD/.cache/wheelhouse/quickstart

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "wheelhouse (downloaded once)"
requirements=$($py - <<'PY'
import yaml
doc = yaml.safe_load(open("examples/quickstart/environment.yaml"))
print("\n".join(doc["spec"]["packages"]))
PY
)
if [ ! -f "$wheelhouse/.done" ]; then
  mkdir -p "$wheelhouse"
  # The tools venv runs /usr/bin/python3, the interpreter the demo's venv gets.
  printf '%s\n' "$requirements" > "$wheelhouse/requirements.txt"
  $py -m pip download --quiet --only-binary :all: --dest "$wheelhouse" -r "$wheelhouse/requirements.txt"
  chmod -R a+rX "$wheelhouse"
  touch "$wheelhouse/.done"
fi
find "$wheelhouse" -maxdepth 1 -name '*.whl' | wc -l | xargs printf '%s wheels\n'

work=$(mktemp -d /tmp/labsync-demo.XXXXXX)
chmod 755 "$work"
mkdir -p "$work/specs"
cp examples/quickstart/environment.yaml "$work/specs/"
"$bin/labsync-testhost" "$work/specs" --name local --find-links "$wheelhouse" > "$work/testhost.log" 2>&1 &
host_pid=$!
trap 'kill $host_pid 2>/dev/null || true; wait $host_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -f "$work/specs/host.yaml" ] && break; sleep 0.1; done
[ -f "$work/specs/host.yaml" ] || { cat "$work/testhost.log"; exit 1; }

labsync() { echo "\$ labsync $*"; "$bin/labsync" "$@" --state-dir "$work/state"; }

step "the specs"
cat "$work/specs/environment.yaml" "$work/specs/host.yaml"
step "validate"
labsync validate --repo "$work/specs"
step "plan"
labsync plan --repo "$work/specs"
step "apply"
labsync apply --repo "$work/specs" --yes
step "plan again: nothing left to do"
labsync plan --repo "$work/specs" --detailed-exitcode
step "status"
labsync status --repo "$work/specs"
echo
echo "The environment stays at /opt/labsync/envs/analysis; remove it with state: absent."
