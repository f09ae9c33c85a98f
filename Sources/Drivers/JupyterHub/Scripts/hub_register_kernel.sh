#!/bin/sh
set -e
umask 022
mkdir -p "$1"
cat > "$1/kernel.json.tmp"
mv -f "$1/kernel.json.tmp" "$1/kernel.json"
