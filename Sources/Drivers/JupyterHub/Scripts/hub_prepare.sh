#!/bin/sh
set -e
umask 077
mkdir -p "$HUB_SECRETS" "$HUB_STATE"
chmod 755 "$(dirname "$HUB_CONFIG_DIR")" "$HUB_CONFIG_DIR" 2>/dev/null || true
chmod 700 "$HUB_SECRETS" "$HUB_STATE"
for name in cookie_secret proxy_auth_token api_token; do
  f="$HUB_SECRETS"/$name
  if [ ! -s "$f" ]; then
    od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$f.tmp"
    chmod 600 "$f.tmp"
    mv -f "$f.tmp" "$f"
  fi
done
if [ "$1" != oauth ]; then rm -f "$HUB_OAUTH_ENV" "$HUB_SECRETS/oauth.fingerprint"; fi
