#!/bin/sh
set -e
name=$1
accounts="$HUB_ACCOUNTS"
if [ "$2" = 1 ]; then
  "$HUB_VENV/bin/python" -c '
import sys, urllib.error, urllib.parse, urllib.request
with open(sys.argv[2]) as f:
    token = f.read().strip()
url = sys.argv[3] + "/users/" + urllib.parse.quote(sys.argv[1], safe="")
request = urllib.request.Request(url, method="DELETE", headers={"Authorization": "token " + token})
try:
    urllib.request.urlopen(request, timeout=60)
    print("labsync: deleted %s from the hub" % sys.argv[1])
except urllib.error.HTTPError as e:
    if e.code != 404:
        sys.exit("labsync: the hub refused to delete %s: HTTP %d %s" % (sys.argv[1], e.code, e.read()[:200]))
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
