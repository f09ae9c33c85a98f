#!/bin/sh
if [ -x /usr/bin/python3 ]; then exec /usr/bin/python3 - "$@"; fi
if command -v python3 >/dev/null 2>&1; then exec python3 - "$@"; fi
echo 'labsync-observe-fallback 1'
if [ -d /run/systemd/system ]; then echo systemd=1; else echo systemd=0; fi
echo "machine=$(uname -m 2>/dev/null)"
cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null || true
