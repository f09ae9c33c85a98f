#!/bin/sh
set -e
name=$1; mode=$2
accounts="$HUB_ACCOUNTS"
mkdir -p "$HUB_STATE" && chmod 700 "$HUB_STATE"
if uid=$(id -u "$name" 2>/dev/null); then
  if [ "$uid" -lt 1000 ]; then echo "labsync: $name is a system account (uid $uid); not touched" >&2; exit 3; fi
else
  useradd --create-home --user-group --shell /bin/bash "$name"
  grep -qx -- "$name" "$accounts" 2>/dev/null || printf '%s\n' "$name" >> "$accounts"
fi
home=$(getent passwd "$name" | cut -d: -f6)
[ -d "$home" ] || { mkdir -p "$home"; chown "$name:" "$home"; }
chmod "$mode" "$home"
if [ "$3" = hash ]; then
  chpasswd -e
  # A user who was removed (locked, expired) and is back in the spec.
  usermod -e '' "$name"
fi
