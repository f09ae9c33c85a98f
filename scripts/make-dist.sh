#!/usr/bin/env bash
# Packages a release build (`make dist` builds it first):
#   dist/labsync_<version>_amd64.deb            /usr/bin/labsync, man pages, completions,
#                                               labsync.service, the labsync user, /var/lib/labsync 0700
#   dist/labsync-<version>-linux-x86_64.tar.gz  the same files under labsync-<version>/
# The .deb's Depends come from what the binary links (dpkg-shlibdeps reads its
# NEEDED entries and maps each library to its Debian package); the script then
# checks that every NEEDED library is covered and that libgit2, libssh2 and
# sqlite3 are among them. The binary links the libgit2 of the build machine's
# Debian release (libgit2-1.5 on Debian 12, libgit2-1.9 on 13): build the .deb
# on the release it is for.
#
#   [DIST_DIR=dist] scripts/make-dist.sh BINARY GENERATE_MANUAL
set -euo pipefail
cd "$(dirname "$0")/.."
binary=$1 generate_manual=$2
version=$(tr -d '[:space:]' < VERSION)
arch=$(dpkg --print-architecture)
[ "$arch" = amd64 ] || { echo "make-dist: built for amd64 only, this is $arch" >&2; exit 1; }

dist=${DIST_DIR:-dist}
mkdir -p "$dist"
work=$dist/.work
rm -rf "$work"
mkdir -p "$work"
deb_root=$work/deb

# The files, under /usr, as `make install PREFIX=/usr` lays them out.
stripped=$work/labsync
strip --strip-unneeded -o "$stripped" "$binary"
scripts/install-tree.sh "$stripped" "$generate_manual" "$deb_root" /usr
install -D -m 0644 packaging/labsync.service "$deb_root/lib/systemd/system/labsync.service"
install -D -m 0644 packaging/labsync.sysusers "$deb_root/usr/lib/sysusers.d/labsync.conf"
install -D -m 0644 packaging/labsync.default "$deb_root/etc/default/labsync"
install -D -m 0644 README.md "$deb_root/usr/share/doc/labsync/README.md"
install -D -m 0644 docs/ci.md "$deb_root/usr/share/doc/labsync/ci.md"
cp -r examples "$deb_root/usr/share/doc/labsync/examples"
chmod -R u=rwX,go=rX "$deb_root/usr/share/doc/labsync/examples"

# Depends, from the binary's NEEDED libraries.
shlib_dir=$work/shlibdeps
mkdir -p "$shlib_dir/debian"
printf 'Source: labsync\n\nPackage: labsync\nArchitecture: amd64\n' > "$shlib_dir/debian/control"
depends=$(cd "$shlib_dir" && dpkg-shlibdeps -O "$OLDPWD/$deb_root/usr/bin/labsync" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "make-dist: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
for lib in $(objdump -p "$deb_root/usr/bin/labsync" | awk '$1 == "NEEDED" {print $2}'); do
  # awk reads to the end rather than `exit` early: under pipefail, a writer
  # cut off mid-output dies of SIGPIPE and fails the script (ldconfig -p is
  # larger than a pipe's buffer on a machine with many libraries).
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ && !found {print $NF; found = 1}')
  [ -n "$path" ] || { echo "make-dist: $lib is not installed here" >&2; exit 1; }
  package=$(dpkg -S "$(realpath "$path")" 2>/dev/null | awk -F: 'NR == 1 {print $1}') \
    || package=$(dpkg -S "$path" | awk -F: 'NR == 1 {print $1}')
  case ", $depends" in *", $package "*|*", $package,"*|*", $package") ;;
    *) echo "make-dist: $lib ($package) is not in Depends: $depends" >&2; exit 1 ;; esac
done
for wanted in libgit2 libssh2 libsqlite3; do
  case $depends in *"$wanted"*) ;; *) echo "make-dist: Depends lacks $wanted: $depends" >&2; exit 1 ;; esac
done

install -d "$deb_root/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$deb_root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" -e "s/@DEPENDS@/$depends/" \
  packaging/debian/control.in > "$deb_root/DEBIAN/control"
install -m 0644 packaging/debian/conffiles "$deb_root/DEBIAN/conffiles"
for script in postinst prerm postrm; do
  install -m 0755 "packaging/debian/$script" "$deb_root/DEBIAN/$script"
done
deb=$dist/labsync_${version}_amd64.deb
dpkg-deb --root-owner-group -Zxz --build "$deb_root" "$deb" > /dev/null
echo "$deb  Depends: $depends"

# The tarball: the same files, relative, for people without dpkg.
tar_name=labsync-$version-linux-x86_64
tar_root=$work/$tar_name
scripts/install-tree.sh "$stripped" "$generate_manual" "$tar_root" ""
install -D -m 0644 packaging/labsync.service "$tar_root/share/labsync/labsync.service"
install -D -m 0644 README.md "$tar_root/share/doc/labsync/README.md"
tar --owner=0 --group=0 --sort=name -C "$work" -czf "$dist/$tar_name.tar.gz" "$tar_name"
echo "$dist/$tar_name.tar.gz"
rm -rf "$work"
