// The shell scripts hub steps run on the host. Each is a fixed POSIX sh text
// passed as `sh -c SCRIPT NAME ARG…`: values arrive as positional parameters
// (quoted once, by ShellQuote), never spliced into the script, and anything
// secret arrives on stdin.

enum HubScripts {
    /// `$1` = "1" when systemd runs the hub. Stops the service (pidfile: TERM
    /// to the hub, which stops its proxy and services, then whatever is left in
    /// its session). Users' servers run in their own sessions and survive a
    /// restart (cleanup_servers = False).
    static let functions = #"""
        venv=/opt/labsync/hub
        cfg=/etc/labsync/hub/jupyterhub_config.py
        state=/var/lib/labsync/hub
        pidfile=/run/labsync/hub.pid
        log=/var/log/labsync/hub.log
        envfile=/etc/labsync/hub/secrets/oauth.env
        hub_pid() {
          [ -f "$pidfile" ] || return 1
          pid=$(cat "$pidfile" 2>/dev/null)
          [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q jupyterhub "/proc/$pid/cmdline" 2>/dev/null
        }
        stop_hub() {
          if [ "$1" = 1 ]; then systemctl stop labsync-hub.service 2>/dev/null; return 0; fi
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
            systemctl daemon-reload && systemctl enable labsync-hub.service >/dev/null 2>&1
            systemctl restart labsync-hub.service
            return
          fi
          mkdir -p /run/labsync /var/log/labsync "$state" && chmod 700 "$state" || return 1
          touch "$log" && chmod 600 "$log"
          cd "$state" || return 1
          # setsid: the hub leads its own session, so it outlives this SSH session
          # and stop_hub can signal everything it started.
          setsid /bin/sh -c 'if [ -f "$1" ]; then set -a; . "$1"; set +a; fi
            NODE_PATH=/usr/share/nodejs:/usr/lib/nodejs; PATH="$2/bin:$PATH"; export NODE_PATH PATH
            exec "$2/bin/jupyterhub" -f "$3"' labsync-hub "$envfile" "$venv" "$cfg" >> "$log" 2>&1 < /dev/null &
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
          if [ "$1" = 1 ]; then journalctl -u labsync-hub.service -n 25 --no-pager 2>/dev/null; else tail -n 25 "$log" 2>/dev/null; fi
        }
        """#

    /// restart-hub: `$1` systemd (1|0), `$2` the public URL. On failure puts the
    /// previous config back (kept by configure-hub), restarts it, says DEGRADED.
    static let restart = functions + "\n" + #"""
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
        """#

    /// configure-hub, first command: directories, and the secrets generated on
    /// this host once (never sent, never shown). `$1` = "oauth" to keep an OAuth
    /// environment file, else any stale one is removed.
    static let prepare = #"""
        set -e
        umask 077
        mkdir -p /etc/labsync/hub/secrets /var/lib/labsync/hub
        chmod 755 /etc/labsync /etc/labsync/hub 2>/dev/null || true
        chmod 700 /etc/labsync/hub/secrets /var/lib/labsync/hub
        for name in cookie_secret proxy_auth_token api_token; do
          f=/etc/labsync/hub/secrets/$name
          if [ ! -s "$f" ]; then
            od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$f.tmp"
            chmod 600 "$f.tmp"
            mv -f "$f.tmp" "$f"
          fi
        done
        if [ "$1" != oauth ]; then rm -f /etc/labsync/hub/secrets/oauth.env; fi
        """#

    /// configure-hub: the OAuth environment file from stdin (the secret is put
    /// there by the executor at apply time), 0600 root.
    static let writeSecretFile = #"""
        set -e
        umask 077
        cat > "$1.tmp"
        chmod 600 "$1.tmp"
        mv -f "$1.tmp" "$1"
        """#

    /// configure-hub: the config from stdin → `.new`; loaded by JupyterHub's own
    /// config loader (and the authenticator and spawner classes imported) before
    /// it replaces the current one, which is kept as `.prev` for restart-hub's
    /// rollback.
    static let installConfig = #"""
        set -e
        cfg=/etc/labsync/hub/jupyterhub_config.py
        # Ends in .py: traitlets drops the last extension and adds ".py", and
        # silently loads nothing when that file is missing.
        new=/etc/labsync/hub/jupyterhub_config.new.py
        umask 022
        cat > "$new"
        /opt/labsync/hub/bin/python -c '
        import os, sys
        from jupyterhub.app import JupyterHub
        app = JupyterHub()
        app.load_config_file(os.path.basename(sys.argv[1]), path=os.path.dirname(sys.argv[1]))
        if sys.argv[1] not in app.loaded_config_files:
            sys.exit("labsync: %s was not loaded" % sys.argv[1])
        print("labsync: config loads; authenticator", app.authenticator_class.__name__, "spawner", app.spawner_class.__name__)
        ' "$new" || { echo "labsync: the new config does not load; the current one stays" >&2; rm -f "$new"; exit 1; }
        if [ -f "$cfg" ]; then cp -f "$cfg" "$cfg.prev"; fi
        mv -f "$new" "$cfg"
        """#

    /// configure-hub under systemd: the unit file from stdin.
    static let installUnit = #"""
        set -e
        cat > "$1.tmp"
        chmod 644 "$1.tmp"
        mv -f "$1.tmp" "$1"
        systemctl daemon-reload
        """#

    /// create-certificate: `$1` hostname. Key 0600; CN and SAN = hostname.
    static let selfSigned = #"""
        set -e
        mkdir -p /etc/labsync/hub/tls
        chmod 700 /etc/labsync/hub/tls
        umask 077
        openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=$1" \
          -addext "subjectAltName=DNS:$1" -keyout /etc/labsync/hub/tls/key.pem.tmp \
          -out /etc/labsync/hub/tls/cert.pem.tmp 2>&1
        chmod 600 /etc/labsync/hub/tls/key.pem.tmp
        chmod 644 /etc/labsync/hub/tls/cert.pem.tmp
        mv -f /etc/labsync/hub/tls/key.pem.tmp /etc/labsync/hub/tls/key.pem
        mv -f /etc/labsync/hub/tls/cert.pem.tmp /etc/labsync/hub/tls/cert.pem
        """#

    /// add-user / update-user: `$1` name, `$2` home mode, `$3` "hash" when a
    /// `name:hash` line for `chpasswd -e` comes on stdin. Never touches uid < 1000.
    static let ensureAccount = #"""
        set -e
        name=$1; mode=$2
        accounts=/var/lib/labsync/hub/accounts
        mkdir -p /var/lib/labsync/hub && chmod 700 /var/lib/labsync/hub
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
        """#

    /// remove-user: `$1` name, `$2` "1" to delete them from the hub (REST API,
    /// labsync's service token, read here from its 0600 file), `$3` lock|delete|none
    /// for the system account (only one labsync created, uid ≥ 1000).
    static let removeUser = #"""
        set -e
        name=$1
        accounts=/var/lib/labsync/hub/accounts
        if [ "$2" = 1 ]; then
          /opt/labsync/hub/bin/python -c '
        import sys, urllib.error, urllib.parse, urllib.request
        with open("/etc/labsync/hub/secrets/api_token") as f:
            token = f.read().strip()
        url = "http://127.0.0.1:8081/hub/api/users/" + urllib.parse.quote(sys.argv[1], safe="")
        request = urllib.request.Request(url, method="DELETE", headers={"Authorization": "token " + token})
        try:
            urllib.request.urlopen(request, timeout=60)
            print("labsync: deleted %s from the hub" % sys.argv[1])
        except urllib.error.HTTPError as e:
            if e.code != 404:
                sys.exit("labsync: the hub refused to delete %s: HTTP %d %s" % (sys.argv[1], e.code, e.read()[:200]))
        ' "$name"
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
        """#

    /// register-kernel: `$1` the kernel directory; kernel.json on stdin.
    static let registerKernel = #"""
        set -e
        umask 022
        mkdir -p "$1"
        cat > "$1/kernel.json.tmp"
        mv -f "$1/kernel.json.tmp" "$1/kernel.json"
        """#

    /// unregister-kernel: `$1` the kernel directory, removed only while its
    /// kernel.json says labsync registered it.
    static let unregisterKernel = #"""
        if [ -f "$1/kernel.json" ] && grep -q '"labsync"' "$1/kernel.json"; then rm -rf -- "$1"; fi
        """#

    /// remove-hub (`state: absent`): `$1` systemd. Stops the hub, then any
    /// process still running a program of the hub venv (users' servers, a
    /// stray proxy), and removes the venv, config, secrets, TLS files, state,
    /// unit and pidfile. Environments, Python and accounts stay.
    static let removeHub = functions + "\n" + #"""
        systemd=$1
        stop_hub "$systemd"
        if [ "$systemd" = 1 ]; then systemctl disable labsync-hub.service >/dev/null 2>&1 || true; fi
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
        rm -rf -- "$venv" /etc/labsync/hub "$state" "$pidfile" /etc/systemd/system/labsync-hub.service
        if [ "$systemd" = 1 ]; then systemctl daemon-reload || true; fi
        echo "labsync: hub removed"
        """#

    /// ensure-proxy, after apt: the proxy must actually start under this node.
    static let checkProxy = #"""
        NODE_PATH=/usr/share/nodejs:/usr/lib/nodejs /usr/bin/configurable-http-proxy --version
        """#
}
