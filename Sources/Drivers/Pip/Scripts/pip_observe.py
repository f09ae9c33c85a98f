# The pip driver's observe fragment (see observe_lib.py for the helpers it uses:
# os, re, interpreter_version, has_ensurepip, pyvenv_version, marker,
# distributions). `observe(request)` returns PipObservation's JSON.
MINOR_PY = re.compile(r"^python3\.(\d+)$")  # noqa: F821 - re comes from observe_lib


def pythons():
    found, seen = [], set()
    for directory in ("/usr/local/bin", "/usr/bin"):
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            if not MINOR_PY.match(name):
                continue
            path = os.path.join(directory, name)
            real = os.path.realpath(path)
            if real in seen or not os.access(path, os.X_OK):
                continue
            seen.add(real)
            version = interpreter_version(path)
            if version:
                minor = ".".join(version.split(".")[:2])
                found.append({"version": version, "path": path, "venv": has_ensurepip(path, minor)})
    return found


def apt_pythons():
    # apt-cache rebuilds its cache when pkgcache.bin is absent (Docker images): seconds,
    # which is why this runs only when the request says a wanted python is missing.
    try:
        done = subprocess.run(["apt-cache", "pkgnames", "python3."], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120,
                              env=dict(os.environ, LC_ALL="C"), check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    minors = set()
    for line in done.stdout.decode(errors="replace").split():
        m = MINOR_PY.match(line)
        if m:
            minors.add(int(m.group(1)))
    return ["3.%d" % m for m in sorted(minors)]


def environments(roots):
    found = []
    for root in sorted(set(roots)):
        try:
            names = sorted(os.listdir(root))
        except OSError:
            continue  # missing or unreadable root: nothing there yet
        for name in names:
            venv = os.path.join(root, name)
            try:
                if os.path.islink(venv) or not os.path.isfile(os.path.join(venv, "pyvenv.cfg")):
                    continue
                mark, error = marker(venv)
                env = {"path": venv, "python": pyvenv_version(venv),
                       "distributions": distributions(venv), "marker": mark}
                if error:
                    env["markerError"] = error
                found.append(env)
            except OSError:
                continue
    return found


def uv_version(uv):
    # From the tool venv's dist-info (…/uv/bin/uv → …/uv): no process started.
    if not uv:
        return None
    venv = os.path.dirname(os.path.dirname(uv))
    return next((d["version"] for d in distributions(venv) if d["name"] == "uv"), None)


def observe(request):
    wanted = request.get("pythons", [])
    uv = request.get("uv")
    default = default_python3()
    installed = pythons()
    minors = {p["version"].rsplit(".", 1)[0] for p in installed}
    need_apt = any(w == "latest" or w not in minors for w in wanted)
    return {
        "python3": default["version"],
        "python3Path": default["path"],
        "pythons": installed,
        "aptPythons": apt_pythons() if need_apt else [],
        "uv": uv if uv and os.access(uv, os.X_OK) else None,
        "uvVersion": uv_version(uv),
        "environments": environments(request.get("roots", [])),
    }
