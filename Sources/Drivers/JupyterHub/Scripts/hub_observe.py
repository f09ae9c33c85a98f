# The JupyterHub driver's observe fragment: labsync's hub on this host.
# Every path comes from the request (`layout`, built from HubLayout.swift, where
# each path is defined once). `observe(request)` returns HubObservation's JSON.
# Helpers (os, read_text, sha256_file, marker, distributions, pyvenv_version,
# default_python3) come from observe_lib.py.
HUB_VENV = HUB_CONFIG_DIR = HUB_SECRETS = HUB_STATE = HUB_PIDFILE = HUB_UNIT = HUB_UNIT_NAME = HUB_KERNELS = None
KERNEL_KEY = "labsync"


def on_path(command):
    # What the apply script's shell would find (shutil costs an import).
    path = os.environ.get("PATH") or "/usr/bin:/bin"
    return any(os.access(os.path.join(d, command), os.X_OK) for d in path.split(":") if d)


def hub_running():
    if os.path.isdir("/run/systemd/system") and os.path.exists(HUB_UNIT):
        try:
            done = subprocess.run(["systemctl", "is-active", "--quiet", HUB_UNIT_NAME],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, timeout=20, check=False)
            return done.returncode == 0
        except (OSError, subprocess.SubprocessError):
            return False
    text = read_text(HUB_PIDFILE)
    if not text or not text.strip().isdigit():
        return False
    pid = int(text.strip())
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # A recycled pid is not the hub: check its command line.
    cmdline = read_text("/proc/%d/cmdline" % pid) or ""
    return "jupyterhub" in cmdline


def hub_users(path):
    if not os.path.exists(path):
        return [], None
    try:
        import sqlite3
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
        try:
            rows = db.execute("SELECT name, admin FROM users ORDER BY name").fetchall()
        finally:
            db.close()
        return [{"name": r[0], "admin": bool(r[1])} for r in rows], None
    except Exception as e:  # a locked or foreign database: report, do not fail
        return [], "cannot read %s: %s" % (path, e)


def accounts(names):
    import hashlib
    import pwd
    shadow = {}
    try:
        with open("/etc/shadow", encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.rstrip("\n").split(":")
                if len(parts) > 1:
                    shadow[parts[0]] = parts[1]
    except OSError:
        pass
    found = []
    for name in sorted(set(names)):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        field = shadow.get(name, "")
        locked = field.startswith("!")
        hashed = field.lstrip("!")
        mode = None
        try:
            mode = "0%o" % (os.stat(entry.pw_dir).st_mode & 0o777)
        except OSError:
            pass
        found.append({"name": name, "uid": entry.pw_uid, "home": entry.pw_dir, "homeMode": mode,
                      "locked": locked,
                      "passwordSHA256": hashlib.sha256(hashed.encode()).hexdigest()
                      if hashed.startswith("$") else None})
    return found


def kernels(directory):
    found = []
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return found
    for name in names:
        try:
            with open(os.path.join(directory, name, "kernel.json"), encoding="utf-8") as f:
                spec = json.load(f)
        except (OSError, ValueError):
            continue
        meta = spec.get("metadata") if isinstance(spec.get("metadata"), dict) else {}
        labsync = meta.get(KERNEL_KEY) if isinstance(meta.get(KERNEL_KEY), dict) else {}
        argv = spec.get("argv") if isinstance(spec.get("argv"), list) else []
        found.append({"name": name, "displayName": str(spec.get("display_name", "")),
                      "argv": [str(a) for a in argv],
                      "environment": labsync.get("environment") if isinstance(labsync.get("environment"), str) else None})
    return found


def certificate(path):
    if not path:
        return None
    facts = {"path": path, "exists": os.path.isfile(path), "dnsNames": []}
    if facts["exists"]:
        try:
            import ssl
            decoded = ssl._ssl._test_decode_cert(path)  # stdlib's own PEM reader
            for rdn in decoded.get("subject", ()):
                for key, value in rdn:
                    if key == "commonName":
                        facts["commonName"] = value
            facts["dnsNames"] = sorted(v for k, v in decoded.get("subjectAltName", ()) if k == "DNS")
            facts["notAfter"] = decoded.get("notAfter")
        except Exception:
            pass
    return facts


def observe(request):
    global HUB_VENV, HUB_CONFIG_DIR, HUB_SECRETS, HUB_STATE, HUB_PIDFILE, HUB_UNIT, HUB_UNIT_NAME, HUB_KERNELS, KERNEL_KEY
    layout = request["layout"]
    HUB_VENV, HUB_CONFIG_DIR, HUB_SECRETS = layout["venv"], layout["configDirectory"], layout["secrets"]
    HUB_STATE, HUB_PIDFILE, HUB_UNIT = layout["state"], layout["pidFile"], layout["unit"]
    HUB_KERNELS, HUB_UNIT_NAME, KERNEL_KEY = layout["kernels"], layout["unitName"], layout["kernelMetadataKey"]
    venv = HUB_VENV
    installed = os.path.isfile(os.path.join(venv, "pyvenv.cfg"))
    mark, _ = marker(venv) if installed else (None, None)
    managed = [line.strip() for line in (read_text(layout["accounts"]) or "").splitlines() if line.strip()]
    users, users_error = hub_users(layout["database"])
    try:
        secrets = sorted(os.listdir(HUB_SECRETS))
    except OSError:
        secrets = []
    running_identity = read_text(layout["runningIdentity"])
    python3 = default_python3()
    facts = {
        "installed": installed,
        "python": pyvenv_version(venv) if installed else "",
        "python3": python3["version"],
        "python3Path": python3["path"],
        "python3Venv": python3["venv"],
        "distributions": distributions(venv) if installed else [],
        "marker": mark,
        "markerSHA256": sha256_file(os.path.join(venv, ".labsync.json")),
        "configSHA256": sha256_file(layout["config"]),
        "runningIdentity": running_identity.strip() if running_identity else None,
        "running": hub_running(),
        "proxy": os.access(layout["proxy"], os.X_OK),
        "openssl": on_path("openssl"),
        "secrets": secrets,
        # A salted HMAC of the OAuth client secret, never the secret (see
        # Drivers/Core/SecretFingerprint.swift): how a plan sees a rotation.
        "oauthFingerprint": (read_text(os.path.join(HUB_SECRETS, "oauth.fingerprint")) or "").strip() or None,
        "unit": os.path.exists(HUB_UNIT),
        "hubUsers": users,
        "accounts": accounts(list(request.get("accounts", [])) + managed),
        "managedAccounts": sorted(set(managed)),
        "kernels": kernels(HUB_KERNELS),
        "leftovers": [p for p in (HUB_CONFIG_DIR, HUB_STATE, HUB_PIDFILE) if os.path.exists(p)],
    }
    if users_error:
        facts["hubUsersError"] = users_error
    cert = certificate(request.get("certFile"))
    if cert:
        facts["certificate"] = cert
    return facts
