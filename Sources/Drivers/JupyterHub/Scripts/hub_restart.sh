#!/bin/sh
# shellcheck source=hub_functions.sh
. ./hub_functions.sh  # labsync: replaced by the functions when embedded
systemd=$1; url=$2
stop_hub "$systemd"
start_hub "$systemd" || exit 1
if wait_ready "$url" 90; then
  identity > "$state/running"
  echo "labsync: the hub answers at $url/hub/api"
  exit 0
fi
rm -f "$state/running"
echo "labsync: the hub did not answer at $url/hub/api within 90 s; its log:"
show_log "$systemd"
if [ -f "$cfg.prev" ]; then
  cp -f "$cfg" "$cfg.failed"
  mv -f "$cfg.prev" "$cfg"
  stop_hub "$systemd"
  start_hub "$systemd"
  if wait_ready "$url" 90; then
    echo "labsync: DEGRADED: the previous configuration is back and answers; the new one is in $cfg.failed"
  else
    echo "labsync: DEGRADED: the hub does not answer with the previous configuration either"
  fi
else
  echo "labsync: DEGRADED: no previous configuration to go back to"
fi
exit 1
