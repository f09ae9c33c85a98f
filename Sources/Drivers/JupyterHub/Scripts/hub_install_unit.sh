#!/bin/sh
set -e
cat > "$1.tmp"
chmod 644 "$1.tmp"
mv -f "$1.tmp" "$1"
systemctl daemon-reload
