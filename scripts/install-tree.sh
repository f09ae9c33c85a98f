#!/usr/bin/env bash
# Lays out labsync under DESTDIR/PREFIX: the binary, its man pages (made by
# swift-argument-parser's generate-manual tool from the binary's own help) and
# its bash, zsh and fish completions (`labsync --generate-completion-script`).
# Used by `make install` and by scripts/make-dist.sh, so both install the same.
#
#   scripts/install-tree.sh BINARY GENERATE_MANUAL DESTDIR PREFIX
set -euo pipefail
binary=$1 generate_manual=$2 destdir=$3 prefix=$4
root=$destdir$prefix

install -d "$root/bin" "$root/share/man/man1" "$root/share/bash-completion/completions" \
  "$root/share/zsh/vendor-completions" "$root/share/fish/vendor_completions.d"
install -m 0755 "$binary" "$root/bin/labsync"

# One page per command (labsync.1, labsync-plan.1, ...), gzipped without a
# timestamp so that two builds of one revision give the same bytes.
man_tmp=$(mktemp -d)
trap 'rm -rf "$man_tmp"' EXIT
"$generate_manual" "$root/bin/labsync" --output-directory "$man_tmp" --multi-page \
  --date "${LABSYNC_MAN_DATE:-$(git log -1 --format=%cs 2>/dev/null || date +%F)}" > /dev/null
# generate-manual names them labsync.plan.1; man's convention is labsync-plan.1.
for page in "$man_tmp"/*.1; do
  name=$(basename "$page" .1)
  gzip -9n < "$page" > "$root/share/man/man1/${name//./-}.1.gz"
  chmod 0644 "$root/share/man/man1/${name//./-}.1.gz"
done

"$root/bin/labsync" --generate-completion-script bash > "$root/share/bash-completion/completions/labsync"
"$root/bin/labsync" --generate-completion-script zsh > "$root/share/zsh/vendor-completions/_labsync"
"$root/bin/labsync" --generate-completion-script fish > "$root/share/fish/vendor_completions.d/labsync.fish"
chmod 0644 "$root/share/bash-completion/completions/labsync" "$root/share/zsh/vendor-completions/_labsync" \
  "$root/share/fish/vendor_completions.d/labsync.fish"
