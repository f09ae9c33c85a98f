#!/usr/bin/env bash
# The multi-distribution tier (`make test-distros`): for each Debian release, a
# root (debootstrap, cached under .cache/distros/SUITE-ssh; each run works on a
# copy) with python3 and openssh-server, whose sshd runs chrooted on its own
# loopback port with a generated root key and its host key pinned. Then this
# checkout's labsync drives it over SSH (scripts/distro-scenarios.py):
#   - the pip lifecycle: create → converge, a second plan with nothing to do,
#     a bumped pin is one install step, a dropped package one uninstall,
#     `state: absent` removes the venv;
#   - the same with `installer: uv` (labsync installs its uv tool venv first);
#   - a JupyterHub with PAM users, logged into through its real HTTPS form,
#     its user's server started and reached through the proxy.
# labsync installs what it needs with the release's own package names
# (python3-venv, node-configurable-http-proxy): the root has only python3 and
# openssh-server, and the test checks those steps happened. Debian 11 has no
# node-configurable-http-proxy: there the hub runs the pure-Python proxy from
# its venv, and the test checks that instead.
#
# Wheels come from a loopback HTTP server on this machine (the chroot shares its
# network): tiny generated wheels for the lifecycle, uv, and a hub wheelhouse
# per Python version (pip download --python-version, cached).
#
# A derivative is run as its base's root with the derivative's os-release,
# which is all labsync reads to choose package names and the hub's proxy
# (AptPackageNames): `raspbian-bullseye` is Debian 11 calling itself Raspbian
# 11, whose own archive has no node-configurable-http-proxy either.
#
# Ubuntu: its archives are not reachable from these machines, so no Ubuntu root
# is tested. labsync's package names are the ones Debian and Ubuntu share (see
# the "Package names" comments in PipDriver.swift and JupyterHubDriver.swift).
#
#   scripts/test-distros.sh [--prepare] [SUITE...]   default: bullseye bookworm trixie raspbian-bullseye
#   (--prepare only builds the cached roots and wheelhouses)
#   LABSYNC=path/to/labsync                default: .build/release/labsync
#
# Needs root (debootstrap, chroot, mount). Hub logins take the same machine lock
# as the hub end-to-end test (the hub's API port 8081 is machine-wide).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "test-distros: needs root (debootstrap, chroot, mount)" >&2; exit 1; }
prepare_only=0
if [ "${1:-}" = --prepare ]; then prepare_only=1; shift; fi
[ $# -gt 0 ] || set -- bullseye bookworm trixie raspbian-bullseye
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
labsync=$(realpath -m "${LABSYNC:-.build/release/labsync}")
[ "$prepare_only" = 1 ] || [ -x "$labsync" ] || { echo "test-distros: no labsync at $labsync (make release)" >&2; exit 1; }
cache=.cache/distros
wheels=$cache/wheels
tools_python=.tools/venv/bin/python
mkdir -p "$cache" "$wheels/pip"

# The lifecycle's wheels (as Tests' Wheels.swift makes them) and uv's own wheel.
/usr/bin/python3 - "$wheels/pip" <<'PY'
import sys, zipfile
out = sys.argv[1]
for spec in ["alpha:1.0", "alpha:2.0:beta", "beta:1.0", "gamma:1.0"]:
    name, version, *requires = spec.split(":")
    dist = "%s-%s.dist-info" % (name, version)
    with zipfile.ZipFile("%s/%s-%s-py3-none-any.whl" % (out, name, version), "w") as z:
        meta = "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version)
        meta += "".join("Requires-Dist: %s\n" % r for r in requires)
        files = {"%s/__init__.py" % name: "VERSION = %r\n" % version, dist + "/METADATA": meta,
                 dist + "/WHEEL": "Wheel-Version: 1.0\nGenerator: labsync-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
        files[dist + "/RECORD"] = "".join("%s,,\n" % f for f in list(files) + [dist + "/RECORD"])
        for path, text in files.items():
            z.writestr(path, text)
PY
ls "$wheels"/pip/uv-*.whl > /dev/null 2>&1 \
  || "$tools_python" -m pip download -q --disable-pip-version-check --only-binary :all: --no-deps -d "$wheels/pip" uv

# One HTTP server for every wheel directory, stopped on exit.
http_port_file=$(mktemp)
/usr/bin/python3 -c '
import functools, http.server, sys
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=sys.argv[1]))
open(sys.argv[2], "w").write(str(server.server_address[1]))
server.serve_forever()' "$wheels" "$http_port_file" &
http_pid=$!
for _ in $(seq 50); do [ -s "$http_port_file" ] && break; sleep 0.1; done
http_port=$(cat "$http_port_file"); rm -f "$http_port_file"

# Mounts, the chrooted sshd and every process left in the run root: undone on exit.
mounts=() run_root="" sshd_pid=""
kill_root_processes() {
  # Only processes whose root directory is this run's root: the hub, its proxy,
  # anything a session started. Nothing else on the machine is touched.
  local target pid
  [ -n "$run_root" ] || return 0
  target=$(realpath "$run_root")
  for pid in /proc/[0-9]*; do
    if [ "$(readlink "$pid/root" 2>/dev/null)" = "$target" ]; then kill -KILL "${pid#/proc/}" 2>/dev/null || true; fi
  done
}
cleanup_root() {
  [ -z "$sshd_pid" ] || kill "$sshd_pid" 2>/dev/null || true
  sshd_pid=""
  kill_root_processes
  sleep 0.5
  for ((i=${#mounts[@]}-1; i>=0; i--)); do umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null || true; done
  mounts=()
}
cleanup() { cleanup_root; kill "$http_pid" 2>/dev/null || true; }
trap cleanup EXIT

# A root with python3 and sshd, cached. openssl too: the hub driver's
# self-signed certificate step runs `openssl req`, and labsync does not install
# openssl (a minimal Debian has none; a gap this tier found, see README).
# The packages labsync itself installs
# (python3-venv, node-configurable-http-proxy) are only DOWNLOADED into apt's
# cache, so labsync's apt steps run with the release's real package names
# without fetching the same .debs on every run.
ssh_root() {
  local suite=$1 base=$cache/$1-ssh
  if [ ! -e "$base/.labsync-ssh" ]; then
    echo "== $suite: root with python3 and sshd (cached in $base)"
    rm -rf "$base.tmp"
    if [ -e "$cache/$suite/.labsync-base" ]; then
      cp -a "$cache/$suite" "$base.tmp"
    else
      debootstrap --variant=minbase "$suite" "$base.tmp" "$mirror" > "$cache/$suite-ssh.log" 2>&1 \
        || { tail -20 "$cache/$suite-ssh.log" >&2; exit 1; }
    fi
    cp /etc/resolv.conf "$base.tmp/etc/resolv.conf"
    chroot "$base.tmp" env DEBIAN_FRONTEND=noninteractive sh -c '
      apt-get update -qq &&
      apt-get install -y -qq --no-install-recommends python3 openssh-server ca-certificates openssl &&
      apt-get install -y -qq --no-install-recommends --download-only python3-venv &&
      { apt-get install -y -qq --no-install-recommends --download-only node-configurable-http-proxy ||
        echo "no node-configurable-http-proxy in this release"; }' \
      >> "$cache/$suite-ssh.log" 2>&1 || { tail -20 "$cache/$suite-ssh.log" >&2; exit 1; }
    touch "$base.tmp/.labsync-ssh"
    rm -rf "$base"; mv "$base.tmp" "$base"
  fi
}

# jupyterhub and jupyterlab (and the pure-Python proxy, which a release without
# node-configurable-http-proxy runs: the same range as HubProxy.pythonRequirement)
# for the root's Python, as binary wheels for its glibc. pip download evaluates
# environment markers for the Python it runs on, not for --python-version, so
# Debian 11's Python 3.9 would miss importlib-metadata and the like: uv (from
# the lifecycle's wheel) resolves for the target, pip downloads that list.
hub_wheels() {
  local pyver=$1 glibc=$2 full=$3 dir=$wheels/hub-$1 uv=$cache/uv/bin/uv
  if [ ! -e "$dir/.done-resolved" ]; then
    echo "== hub wheelhouse for Python $full (manylinux_${glibc}_x86_64)" >&2
    rm -rf "$dir"; mkdir -p "$dir"
    # Called from `if run_suite`, where set -e does not apply: every step checked.
    [ -x "$uv" ] || { /usr/bin/python3 -m venv "$cache/uv" && "$cache/uv/bin/pip" install -q --no-index "$wheels"/pip/uv-*.whl; } >&2 \
      || return 1
    # The full version: "3.9" would mean 3.9.0, which cryptography's
    # Requires-Python (!=3.9.0,!=3.9.1) excludes.
    # uv names manylinux targets up to 2_40 (0.13.9); a newer glibc runs those wheels too.
    local target=${glibc#2_}; [ "$target" -le 40 ] || target=40
    printf '%s\n' 'jupyterhub>=5,<6' jupyterlab 'configurable-http-proxy>=0.4,<0.5' \
      | "$uv" pip compile --quiet --no-header --no-annotate --python-version "$full" \
          --python-platform "x86_64-manylinux_2_$target" --only-binary :all: - > "$dir/requirements.txt" || return 1
    # pip takes a custom --platform literally: every manylinux tag the root's glibc runs.
    local platforms=() minor
    for ((minor = 5; minor <= ${glibc#2_}; minor++)); do platforms+=(--platform "manylinux_2_${minor}_x86_64"); done
    "$tools_python" -m pip download -q --disable-pip-version-check --only-binary :all: --no-deps \
      --python-version "$full" --implementation cp "${platforms[@]}" --platform manylinux2014_x86_64 \
      --platform manylinux2010_x86_64 --platform manylinux1_x86_64 -d "$dir" -r "$dir/requirements.txt" >&2 \
      || return 1
    touch "$dir/.done-resolved"
  fi
  echo "hub-$pyver"
}

# The Debian release a suite runs on: itself, or a derivative's base.
base_of() { case $1 in raspbian-bullseye) echo bullseye ;; *) echo "$1" ;; esac; }

# The derivative's /etc/os-release, from the unit tests' samples (Debian's is
# a link to /usr/lib/os-release, replaced here by a file, as on the real system).
write_os_release() {
  local file
  case $1 in raspbian-bullseye) file=Tests/DriversTests/Fixtures/os-release/raspbian-11 ;; *) return 0 ;; esac
  rm -f "$2/etc/os-release"
  install -m 0644 "$file" "$2/etc/os-release"
}

run_suite() {
  local suite=$1 base work
  base=$(base_of "$suite")
  ssh_root "$base"
  run_root=$cache/$suite-srun
  work=$(mktemp -d "/tmp/labsync-distro-$suite.XXXXXX")
  rm -rf "$run_root"; cp -a "$cache/$base-ssh" "$run_root"
  write_os_release "$suite" "$run_root"
  mount -t proc proc "$run_root/proc"; mounts+=("$run_root/proc")
  for d in /dev /dev/pts /dev/shm; do mount --bind "$d" "$run_root$d"; mounts+=("$run_root$d"); done
  # 0755 as on a booted system: a tmpfs is 1777 by default, and labsync refuses
  # to create /run/labsync under a directory others may write in.
  mount -t tmpfs -o mode=0755 tmpfs "$run_root/run"; mounts+=("$run_root/run")
  mkdir -p "$run_root/run/sshd"
  # The root shares this machine's hostname (UTS namespace); an installed
  # system resolves its own name through /etc/hosts (the hub connects to it
  # when it binds all addresses), which debootstrap does not write.
  printf '127.0.0.1 localhost\n127.0.1.1 %s\n' "$(hostname)" > "$run_root/etc/hosts"

  local pyver glibc port
  pyver=$(python_of "$run_root")
  glibc=$(glibc_of "$run_root")
  local hubdir; hubdir=$(hub_wheels "$pyver" "$glibc" "$(python_full_of "$run_root")") || { cleanup_root; return 1; }

  ssh-keygen -q -t ed25519 -N "" -C "labsync-distros" -f "$work/id_ed25519"
  install -m 0600 "$work/id_ed25519.pub" "$run_root/etc/ssh/labsync_authorized_keys"
  port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  cat > "$run_root/etc/ssh/sshd_config_labsync" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile none
AuthorizedKeysFile /etc/ssh/labsync_authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
MaxStartups 100
MaxSessions 100
Subsystem sftp internal-sftp
EOF
  chroot "$run_root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config_labsync 2> "$work/sshd.log" &
  sshd_pid=$!
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

  echo "== $suite: $(sed -n 's/^PRETTY_NAME="\(.*\)"$/\1/p' "$run_root/etc/os-release") on Debian $(cat "$run_root/etc/debian_version"), Python $pyver, sshd on 127.0.0.1:$port"
  local status=0 hub_flags=()
  # Debian 11 (and so Raspbian 11) has no node-configurable-http-proxy: the
  # scenario then checks that the hub runs the pure-Python proxy from its venv
  # instead.
  chroot "$run_root" apt-cache show node-configurable-http-proxy > /dev/null 2>&1 || hub_flags+=(--no-proxy-package)
  /usr/bin/python3 scripts/distro-scenarios.py --labsync "$labsync" --suite "$suite" --work "$work" \
    --root "$run_root" --port "$port" --identity "$work/id_ed25519" \
    --host-key "$(cut -d' ' -f1,2 "$run_root/etc/ssh/ssh_host_ed25519_key.pub")" \
    --find-links "http://127.0.0.1:$http_port/pip/" --hub-find-links "http://127.0.0.1:$http_port/$hubdir/" \
    "${hub_flags[@]}" || status=$?
  [ "$status" = 0 ] || { echo "-- sshd log:"; tail -20 "$work/sshd.log"; }
  cleanup_root
  rm -rf "$run_root" "$work"
  return "$status"
}

# The root's Python version ("3.9") and glibc ("2_31", for manylinux tags).
python_of() { chroot "$1" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }
python_full_of() { chroot "$1" python3 -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])'; }
glibc_of() { chroot "$1" python3 -c 'import os; print(os.confstr("CS_GNU_LIBC_VERSION").split()[1].replace(".", "_"))'; }

if [ "$prepare_only" = 1 ]; then
  for suite in "$@"; do
    base=$(base_of "$suite")
    ssh_root "$base"
    hub_wheels "$(python_of "$cache/$base-ssh")" "$(glibc_of "$cache/$base-ssh")" \
      "$(python_full_of "$cache/$base-ssh")" > /dev/null
  done
  exit 0
fi

failed=()
for suite in "$@"; do
  start=$SECONDS
  if run_suite "$suite"; then result=ok; else result=FAILED; failed+=("$suite"); fi
  echo "== $suite: $result ($((SECONDS - start)) s)"
done
[ ${#failed[@]} = 0 ] || { echo "test-distros: FAILED on ${failed[*]}" >&2; exit 1; }
echo "test-distros: ok ($*)"
