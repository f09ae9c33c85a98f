#!/bin/sh
set -e
umask 077
cat > "$1.tmp"
chmod 600 "$1.tmp"
mv -f "$1.tmp" "$1"
