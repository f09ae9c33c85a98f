#!/usr/bin/env bash
# Proves the .deb on clean systems: for each Debian suite, a fresh minbase root
# (debootstrap, cached under .cache/distros/SUITE; each run works on a copy),
# then inside it (chroot, /proc mounted): `apt-get install ./labsync_….deb`
# resolving the dependencies from Debian, `labsync --version`, `labsync
# validate` on every example, `man labsync`, the completions, the labsync user
# and /var/lib/labsync at 0700, and `ldd` finding nothing missing; finally a
# purge removes the state directory.
#
#   scripts/test-deb.sh [--prepare] DEB SUITE...
#
# --prepare only builds the cached roots. Needs root (debootstrap, chroot).
set -euo pipefail
cd "$(dirname "$0")/.."

prepare_only=0
if [ "${1:-}" = --prepare ]; then prepare_only=1; shift; fi
deb=${1:?usage: scripts/test-deb.sh [--prepare] DEB SUITE...}; shift
[ $# -gt 0 ] || set -- bookworm trixie
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=.cache/distros
version=$(tr -d '[:space:]' < VERSION)

[ "$(id -u)" = 0 ] || { echo "test-deb: needs root (debootstrap, chroot)" >&2; exit 1; }

base_root() {
  local suite=$1 base=$cache/$1
  if [ ! -e "$base/.labsync-base" ]; then
    echo "== debootstrap $suite (cached in $base)"
    rm -rf "$base.tmp"
    mkdir -p "$cache"
    debootstrap --variant=minbase "$suite" "$base.tmp" "$mirror" > "$cache/$suite.debootstrap.log" 2>&1 \
      || { tail -20 "$cache/$suite.debootstrap.log" >&2; exit 1; }
    # man is part of what the test checks; installed in the cached root once.
    chroot "$base.tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq man-db > /dev/null
    touch "$base.tmp/.labsync-base"
    rm -rf "$base"
    mv "$base.tmp" "$base"
  fi
}

mounted=""
cleanup() { [ -z "$mounted" ] || umount "$mounted" 2>/dev/null || true; }
trap cleanup EXIT

check_suite() {
  local suite=$1 root=$cache/$1-run
  base_root "$suite"
  [ "$prepare_only" = 1 ] && return 0
  echo "== $suite: install $(basename "$deb")"
  rm -rf "$root"
  cp -a "$cache/$suite" "$root"
  mount -t proc proc "$root/proc"; mounted=$root/proc
  cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  # As an installed system has them: the release, its updates and security.
  printf 'deb %s %s main\ndeb %s %s-updates main\ndeb %s %s-security main\n' \
    "$mirror" "$suite" "$mirror" "$suite" "${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}" "$suite" \
    > "$root/etc/apt/sources.list"
  mkdir -p "$root/tmp/labsync-test"
  cp "$deb" "$root/tmp/labsync-test/"
  # Only the spec examples: examples/systemd and examples/ci hold no specs.
  local examples=()
  for dir in examples/*/; do
    name=$(basename "$dir")
    case $name in systemd|ci) continue ;; esac
    cp -r "$dir" "$root/tmp/labsync-test/$name"
    examples+=("$name")
  done
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    EXPECT_VERSION="$version" DEB="$(basename "$deb")" EXAMPLES="${examples[*]}" \
    /bin/bash -euo pipefail -c '
      cd /tmp/labsync-test
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends "./$DEB" > apt.log || { cat apt.log; exit 1; }
      echo "   Depends: $(dpkg-query -W -f="\${Depends}" labsync)"
      out=$(labsync --version)
      echo "   labsync --version: $out"
      case $out in "labsync $EXPECT_VERSION ("*) ;; *) echo "FAIL: version is not $EXPECT_VERSION" >&2; exit 1 ;; esac
      missing=$(ldd /usr/bin/labsync | grep "not found" || true)
      [ -z "$missing" ] || { echo "FAIL: ldd: $missing" >&2; exit 1; }
      for example in $EXAMPLES; do
        labsync validate "$example" > validate.log 2>&1 || { echo "FAIL: validate $example" >&2; cat validate.log >&2; exit 1; }
        echo "   validate $example: ok"
      done
      man labsync 2>/dev/null | grep -q "labsync" || { echo "FAIL: man labsync" >&2; exit 1; }
      man labsync-plan 2>/dev/null | grep -q "detailed-exitcode" || { echo "FAIL: man labsync-plan" >&2; exit 1; }
      echo "   man labsync, man labsync-plan: ok"
      for f in /usr/share/bash-completion/completions/labsync /usr/share/zsh/vendor-completions/_labsync \
               /usr/share/fish/vendor_completions.d/labsync.fish /lib/systemd/system/labsync.service; do
        [ -s "$f" ] || { echo "FAIL: $f missing" >&2; exit 1; }
      done
      id labsync > /dev/null || { echo "FAIL: no labsync user" >&2; exit 1; }
      [ "$(stat -c "%a %U" /var/lib/labsync)" = "700 labsync" ] || { echo "FAIL: /var/lib/labsync is $(stat -c "%a %U" /var/lib/labsync)" >&2; exit 1; }
      echo "   completions, unit, user, /var/lib/labsync 0700: ok"
      apt-get purge -y -qq labsync > /dev/null
      [ ! -e /var/lib/labsync ] || { echo "FAIL: purge left /var/lib/labsync" >&2; exit 1; }
      echo "   purge: ok"
    '
  umount "$root/proc"; mounted=""
  rm -rf "$root"
  echo "== $suite: ok"
}

for suite in "$@"; do
  start=$SECONDS
  check_suite "$suite"
  echo "   ($suite: $((SECONDS - start)) s)"
done
