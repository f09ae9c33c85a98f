#!/bin/sh
set -e
name=$1
accounts="$HUB_ACCOUNTS"
if [ "$2" = 1 ]; then
  # A server being stopped right now (by the idle culler, or just after the
  # restart before this step) makes the hub answer 400 "in the process of
  # stopping" until the stop is over (seconds): wait for it, then delete.
  "$HUB_VENV/bin/python" -c '
import sys, time, urllib.error, urllib.parse, urllib.request
with open(sys.argv[2]) as f:
    token = f.read().strip()
url = sys.argv[3] + "/users/" + urllib.parse.quote(sys.argv[1], safe="")
deadline = time.monotonic() + 120
while True:
    request = urllib.request.Request(url, method="DELETE", headers={"Authorization": "token " + token})
    try:
        urllib.request.urlopen(request, timeout=60)
        print("labsync: deleted %s from the hub" % sys.argv[1])
    except urllib.error.HTTPError as e:
        body = e.read()[:200]
        if e.code == 400 and b"in the process of stopping" in body and time.monotonic() < deadline:
            time.sleep(1)
            continue
        if e.code != 404:
            sys.exit("labsync: the hub refused to delete %s: HTTP %d %s" % (sys.argv[1], e.code, body))
    break
' "$name" "$HUB_SECRETS/api_token" "$HUB_API"
fi
if [ "$3" != none ] && uid=$(id -u "$name" 2>/dev/null); then
  if [ "$uid" -lt 1000 ]; then echo "labsync: $name is a system account (uid $uid); not touched" >&2; exit 3; fi
  if ! grep -qx -- "$name" "$accounts" 2>/dev/null; then
    echo "labsync: $name was not created by labsync; account left alone"
  elif [ "$3" = delete ]; then
    pkill -KILL -u "$name" 2>/dev/null || true
    userdel --remove "$name" 2>&1 || userdel "$name"
    grep -vx -- "$name" "$accounts" > "$accounts.tmp" || true
    mv -f "$accounts.tmp" "$accounts"
    echo "labsync: deleted account $name"
  else
    usermod --lock --expiredate 1 "$name"
    echo "labsync: locked account $name (files kept)"
  fi
fi
