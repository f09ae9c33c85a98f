#!/usr/bin/env bash
# Builds the .deb and tarball for another Debian release (Debian 13 "trixie"
# from this Debian 12 machine): the binary must link the libgit2 of the release
# it is for (Debian 12: libgit2-1.5, Debian 13: libgit2-1.9; the C API labsync
# uses is the same in both, the structs are not, so it is COMPILED against that
# release's headers too).
#
# 1. A root of the release (debootstrap, cached under .cache/distros/SUITE-build)
#    with libgit2-dev, dpkg-dev and binutils: it provides git2.h and
#    libgit2.so.N, and later the package tooling.
# 2. The release build runs HERE (host toolchain, scratch .build-SUITE) with a
#    pkg-config file naming only that root's git2 headers and libgit2.so; every
#    other library (libssh2.so.1, libsqlite3.so.0, libcurl.so.4, libc) has the
#    same soname on both releases, and glibc is older here, so the binary runs
#    there. The linker is told not to resolve libgit2's own dependencies
#    (--allow-shlib-undefined): they are the target's, newer than this host's.
# 3. scripts/make-dist.sh runs INSIDE the root (chroot): there the binary runs
#    (completions, man pages), and dpkg-shlibdeps maps its NEEDED libraries to
#    that release's packages (libgit2-1.9, libssh2-1t64, …) from its dpkg database.
#
# An earlier version ran the whole Swift build inside the root; that needed a
# second toolchain setup there and a full build from nothing (never finished in
# CI's time). This one reuses the host toolchain and takes one release build.
#
#   scripts/dist-in-root.sh [--prepare] SUITE  → dist/SUITE/labsync_<version>_amd64.deb, …tar.gz
#
# --prepare only makes the cached root and the SDK directory.
set -euo pipefail
cd "$(dirname "$0")/.."
prepare_only=0
if [ "${1:-}" = --prepare ]; then prepare_only=1; shift; fi
suite=${1:?usage: scripts/dist-in-root.sh [--prepare] SUITE}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
root=.cache/distros/$suite-build
sdk=.cache/distros/$suite-sdk
scratch=.build-$suite
generate_manual=${GENERATE_MANUAL:-.build-manual/release/generate-manual}
[ "$(id -u)" = 0 ] || { echo "dist-in-root: needs root (debootstrap, chroot, mount)" >&2; exit 1; }
start=$SECONDS

# What packaging needs inside the root: the headers and the library (libgit2-dev),
# dpkg-shlibdeps (dpkg-dev), strip and objdump (binutils), and the runtime
# libraries the binary links, so that dpkg-shlibdeps finds their packages.
# Package names are Debian's, as of trixie (t64 names are pulled in by the -dev packages).
root_packages="libgit2-dev dpkg-dev binutils libssh2-1-dev libsqlite3-dev libcurl4-openssl-dev zlib1g-dev"
if [ ! -e "$root/.labsync-build" ]; then
  echo "== $suite build root (cached in $root)"
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
    $root_packages >> ".cache/distros/$suite-build.log" 2>&1 \
    || { tail -20 ".cache/distros/$suite-build.log" >&2; exit 1; }
  touch "$root.tmp/.labsync-build"
  rm -rf "$root"; mv "$root.tmp" "$root"
fi

# The "SDK": only git2.h, git2/ and libgit2.so of the release, so that no other
# header or library of the root shadows the host's.
libdir=$root/usr/lib/x86_64-linux-gnu
soname=$(objdump -p "$(realpath "$libdir/libgit2.so")" | awk '$1 == "SONAME" {print $2}')
rm -rf "$sdk"; mkdir -p "$sdk/include" "$sdk/lib" "$sdk/pkgconfig"
cp -a "$root/usr/include/git2.h" "$root/usr/include/git2" "$sdk/include/"
cp -L "$libdir/libgit2.so" "$sdk/lib/$soname"
ln -s "$soname" "$sdk/lib/libgit2.so"
abs_sdk=$(realpath "$sdk")
printf 'Name: libgit2\nDescription: libgit2 of Debian %s\nVersion: %s\nCflags: -I%s/include\nLibs: -L%s/lib -lgit2\n' \
  "$suite" "$(chroot "$root" dpkg-query -W -f='${Version}' libgit2-dev)" "$abs_sdk" "$abs_sdk" > "$sdk/pkgconfig/libgit2.pc"
echo "== $suite: libgit2 $(PKG_CONFIG_PATH=$sdk/pkgconfig pkg-config --modversion libgit2) ($soname)"
[ "$prepare_only" = 0 ] || exit 0

scripts/stamp-version.sh > /dev/null
PKG_CONFIG_PATH=$abs_sdk/pkgconfig swift build --scratch-path "$scratch" -c release --static-swift-stdlib \
  -Xswiftc -DLABSYNC_STAMPED -Xlinker --allow-shlib-undefined --product labsync
binary=$scratch/release/labsync
needed=$(objdump -p "$binary" | awk '$1 == "NEEDED" {print $2}' | tr '\n' ' ')
case " $needed " in *" $soname "*) ;; *) echo "dist-in-root: $binary does not link $soname: $needed" >&2; exit 1 ;; esac
echo "== $suite: built in $((SECONDS - start)) s; NEEDED: $needed"

[ -x "$generate_manual" ] || { echo "dist-in-root: no $generate_manual (make $generate_manual)" >&2; exit 1; }
mounts=()
cleanup() { for ((i=${#mounts[@]}-1; i>=0; i--)); do umount "${mounts[i]}" 2>/dev/null || true; done; }
trap cleanup EXIT
bind() { mkdir -p "$root$2"; mount --bind "$1" "$root$2"; mounts+=("$root$2"); mount -o remount,bind,ro "$root$2"; }
mount -t proc proc "$root/proc"; mounts+=("$root/proc")
# generate-manual is a host build linking the toolchain's Swift runtime (its RUNPATH).
bind /opt/swift /opt/swift
mkdir -p "$root/src"; mount --bind "$PWD" "$root/src"; mounts+=("$root/src")
# The man pages' date: the commit's, as on the host (the root cannot read a worktree's .git).
man_date=$(git log -1 --format=%cs 2>/dev/null || date +%F)
chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LABSYNC_MAN_DATE="$man_date" \
  DIST_DIR="dist/$suite" /bin/bash -euo pipefail -c "cd /src && scripts/make-dist.sh '$binary' '$generate_manual'"
echo "== $suite: packaged in $((SECONDS - start)) s"
