#!/usr/bin/env bash
# Builds the .deb and tarball for another Debian release, inside a root of that
# release (debootstrap, cached under .cache/distros/SUITE-build), because the
# binary links the libgit2 of the release it is built on (Debian 12:
# libgit2-1.5, Debian 13: libgit2-1.9). The Swift toolchain (/opt/swift) and
# the package mirror (/opt/swift-packages) are bind-mounted read-only; the
# checkout is mounted at /src and built in its own scratch directory.
#
#   scripts/dist-in-root.sh SUITE    → dist/SUITE/labsync_<version>_amd64.deb, …tar.gz
set -euo pipefail
cd "$(dirname "$0")/.."
suite=${1:?usage: scripts/dist-in-root.sh SUITE}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
root=.cache/distros/$suite-build
[ "$(id -u)" = 0 ] || { echo "dist-in-root: needs root (debootstrap, chroot, mount)" >&2; exit 1; }
# What the toolchain and the build need: the -dev packages of Package.swift's
# system libraries, a C toolchain and binutils for the linker, dpkg-dev for
# dpkg-shlibdeps, and the toolchain's own shared libraries (curl, xml2, edit).
build_packages="ca-certificates git make binutils gcc g++ libc6-dev pkg-config dpkg-dev file
  libgit2-dev libssh2-1-dev libsqlite3-dev libyaml-dev zlib1g-dev libcurl4-openssl-dev libxml2-dev libedit-dev
  libncurses-dev uuid-dev python3"

if [ ! -e "$root/.labsync-build" ]; then
  echo "== debootstrap $suite build root (cached in $root)"
  rm -rf "$root.tmp"; mkdir -p .cache/distros
  if [ -e ".cache/distros/$suite/.labsync-base" ]; then
    cp -a ".cache/distros/$suite" "$root.tmp"    # the clean-system test's cached root
  else
    debootstrap --variant=minbase "$suite" "$root.tmp" "$mirror" > ".cache/distros/$suite-build.log" 2>&1 \
      || { tail -20 ".cache/distros/$suite-build.log" >&2; exit 1; }
  fi
  cp /etc/resolv.conf "$root.tmp/etc/resolv.conf"
  # shellcheck disable=SC2086
  chroot "$root.tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    $build_packages >> ".cache/distros/$suite-build.log" 2>&1 \
    || { tail -20 ".cache/distros/$suite-build.log" >&2; exit 1; }
  touch "$root.tmp/.labsync-build"
  rm -rf "$root"; mv "$root.tmp" "$root"
fi

mounts=()
cleanup() { for ((i=${#mounts[@]}-1; i>=0; i--)); do umount "${mounts[i]}" 2>/dev/null || true; done; }
trap cleanup EXIT
bind() { mkdir -p "$root$2"; mount --bind "$1" "$root$2"; mounts+=("$root$2"); [ "${3:-}" != ro ] || mount -o remount,bind,ro "$root$2"; }
mount -t proc proc "$root/proc"; mounts+=("$root/proc")
mount -t tmpfs tmpfs "$root/tmp"; mounts+=("$root/tmp")
bind /opt/swift /opt/swift ro
bind /opt/swift-packages /opt/swift-packages ro
bind "$PWD" /src
cp /etc/gitconfig "$root/etc/gitconfig" 2>/dev/null || true
# Stamped here: in a worktree, .git points outside the mounted checkout.
scripts/stamp-version.sh > /dev/null

chroot "$root" /usr/bin/env -i PATH=/opt/swift/usr/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root SUITE="$suite" \
  /bin/bash -euo pipefail -c '
    cd /src
    scratch=.build-$SUITE
    swift build --scratch-path "$scratch" -c release --static-swift-stdlib -Xswiftc -DLABSYNC_STAMPED --product labsync
    swift build --package-path "$scratch/checkouts/swift-argument-parser" --scratch-path "$scratch-manual" \
      -c release --product generate-manual
    DIST_DIR=dist/$SUITE scripts/make-dist.sh "$scratch/release/labsync" "$scratch-manual/release/generate-manual"
  '
