#!/bin/sh
# shellcheck source=hub_functions.sh
. ./hub_functions.sh  # labsync: replaced by the functions when embedded
systemd=$1
stop_hub "$systemd"
if [ "$systemd" = 1 ]; then systemctl disable "$HUB_UNIT_NAME" >/dev/null 2>&1 || true; fi
for p in /proc/[0-9]*; do
  pid=${p#/proc/}
  exe=$(readlink "$p/exe" 2>/dev/null) || continue
  args=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null) || continue
  case "$exe $args" in
    *"$venv/bin/"*) kill -TERM "$pid" 2>/dev/null && echo "labsync: stopped $pid ($args)" ;;
  esac
done
sleep 1
if [ -f "$state/proxy.pid" ]; then kill -TERM "$(cat "$state/proxy.pid")" 2>/dev/null || true; fi
rm -rf -- "$venv" "$HUB_CONFIG_DIR" "$state" "$pidfile" "$HUB_UNIT"
if [ "$systemd" = 1 ]; then systemctl daemon-reload || true; fi
echo "labsync: hub removed"
