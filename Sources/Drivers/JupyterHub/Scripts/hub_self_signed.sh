#!/bin/sh
set -e
mkdir -p "$HUB_TLS"
chmod 700 "$HUB_TLS"
umask 077
openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=$1" \
  -addext "subjectAltName=DNS:$1" -keyout "$HUB_TLS_KEY.tmp" \
  -out "$HUB_TLS_CERT.tmp" 2>&1
chmod 600 "$HUB_TLS_KEY.tmp"
chmod 644 "$HUB_TLS_CERT.tmp"
mv -f "$HUB_TLS_KEY.tmp" "$HUB_TLS_KEY"
mv -f "$HUB_TLS_CERT.tmp" "$HUB_TLS_CERT"
