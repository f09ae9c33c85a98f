#!/bin/sh
venv="$HUB_VENV"
cfg="$HUB_CONFIG"
state="$HUB_STATE"
pidfile="$HUB_PIDFILE"
log="$HUB_LOG"
envfile="$HUB_OAUTH_ENV"
hub_pid() {
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile" 2>/dev/null)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q jupyterhub "/proc/$pid/cmdline" 2>/dev/null
}
stop_hub() {
  if [ "$1" = 1 ]; then systemctl stop "$HUB_UNIT_NAME" 2>/dev/null; return 0; fi
  if hub_pid; then
    # The idle culler ignores the SIGINT the hub stops services with, which
    # costs 10 s per stop; it keeps no state, so it is ended first.
    pkill -TERM -P "$pid" -f jupyterhub_idle_culler 2>/dev/null
    kill -TERM "$pid" 2>/dev/null
    i=0
    # A zombie has an empty cmdline: gone, even where PID 1 is slow to reap it.
    while grep -q . "/proc/$pid/cmdline" 2>/dev/null && [ "$i" -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
    kill -TERM -- "-$pid" 2>/dev/null
    kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$pidfile"
}
start_hub() {
  if [ "$1" = 1 ]; then
    systemctl daemon-reload && systemctl enable "$HUB_UNIT_NAME" >/dev/null 2>&1
    systemctl restart "$HUB_UNIT_NAME"
    return
  fi
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$log")" "$state" && chmod 700 "$state" || return 1
  touch "$log" && chmod 600 "$log"
  cd "$state" || return 1
  # setsid: the hub leads its own session, so it outlives this SSH session
  # and stop_hub can signal everything it started. Its own script is
  # single-quoted on purpose: the values arrive as its positional parameters.
  # shellcheck disable=SC2016
  setsid /bin/sh -c 'if [ -f "$1" ]; then set -a; . "$1"; set +a; fi
    NODE_PATH=$4; PATH="$2/bin:$PATH"; export NODE_PATH PATH
    exec "$2/bin/jupyterhub" -f "$3"' labsync-hub "$envfile" "$venv" "$cfg" "$HUB_NODE_PATH" >> "$log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  cd / || true
}
# Waits until the public URL's /hub/api answers 200 (the proxy, TLS and the
# hub); gives up early when the hub process ($3, if given) has exited.
wait_ready() {
  "$venv/bin/python" -c '
import ssl, sys, time, urllib.request
url = sys.argv[1] + "/hub/api"
pid = sys.argv[3] if len(sys.argv) > 3 else ""


def alive():
    if not pid:
        return True
    try:
        with open("/proc/%s/cmdline" % pid, "rb") as f:
            return bool(f.read())  # a zombie has an empty cmdline
    except OSError:
        return False


ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE  # a self-signed certificate, checked on this host only
deadline = time.time() + float(sys.argv[2])
while time.time() < deadline:
    try:
        with urllib.request.urlopen(url, context=ctx, timeout=5) as r:
            if r.status == 200:
                sys.exit(0)
    except Exception:
        pass
    if not alive():
        print("labsync: the hub exited")
        sys.exit(1)
    time.sleep(0.5)
sys.exit(1)
' "$1" "$2" "$(if [ "$systemd" = 1 ]; then :; else cat "$pidfile" 2>/dev/null; fi)"
}
identity() {
  c=$(sha256sum < "$cfg" | cut -d" " -f1)
  m=$(sha256sum < "$venv/.labsync.json" 2>/dev/null | cut -d" " -f1)
  printf '%s %s\n' "$c" "$m"
}
show_log() {
  if [ "$1" = 1 ]; then journalctl -u "$HUB_UNIT_NAME" -n 25 --no-pager 2>/dev/null; else tail -n 25 "$log" 2>/dev/null; fi
}
