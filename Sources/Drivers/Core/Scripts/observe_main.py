# labsync observe script: prints ONE JSON document describing the host.
# Composed by ObserveScript.swift: `LIB` (observe_lib.py) and `FRAGMENTS` (each
# driver's observe fragment, by driver name) are defined above this text, and
# the whole program arrives on python3's stdin with the request as argv[1], so
# a host costs one SSH round trip however many drivers look at it.
# Each fragment runs in a namespace of its own (the helpers of LIB, then its
# own definitions) and a fragment that raises costs only its own part.
import json
import sys

LIB_SOURCE = globals().get("LIB", "")
FRAGMENT_SOURCES = globals().get("FRAGMENTS", {})


def generation():
    """The token the last apply script wrote beside the host lock (HostScript):
    the same directory it picks for the same user."""
    import os
    if os.geteuid() == 0:
        directory = "/var/lock/labsync"
    else:
        directory = (os.environ.get("XDG_RUNTIME_DIR") or os.path.expanduser("~/.cache")) + "/labsync"
    try:
        with open(os.path.join(directory, "generation")) as f:
            return f.read().strip()
    except OSError:
        return ""


def path_problem(path, owned):
    """The apply script's verdict on PATH as the host stands (labsync_safe_dir in
    safe_dir.sh, whose comment gives the rules and why): None when nothing on it
    is refused yet, else the reason the script would give. A missing component
    ends the check: steps before the one that checks PATH may create it, so only
    the apply script judges what is missing. SafeDirectoryScriptTests runs both
    on the same directory trees."""
    import os
    import pwd
    import stat

    if not path.startswith("/"):
        return "unsafe path '%s': not an absolute path" % path
    if path != "/" and ("//" in path + "/" or "/./" in path + "/" or "/../" in path + "/"):
        return "unsafe path %s: not a normalized path" % path
    me = os.geteuid()
    components = ["/"]
    for part in path.strip("/").split("/") if path != "/" else []:
        components.append(components[-1].rstrip("/") + "/" + part)
    for index, directory in enumerate(components):
        below = len(components) - 1 - index
        try:
            info = os.lstat(directory)
        except OSError:
            return None
        if stat.S_ISLNK(info.st_mode):
            return "unsafe path %s: %s is a symbolic link" % (path, directory)
        if not stat.S_ISDIR(info.st_mode):
            # As `stat -c %F` names it in the C locale.
            kind = ("regular empty file" if info.st_size == 0 else "regular file") if stat.S_ISREG(info.st_mode) \
                else "fifo" if stat.S_ISFIFO(info.st_mode) else "socket" if stat.S_ISSOCK(info.st_mode) \
                else "character special file" if stat.S_ISCHR(info.st_mode) else "block special file"
            return "unsafe path %s: %s is not a directory (%s)" % (path, directory, kind)
        if below == 0 and owned:
            continue
        if info.st_uid not in (0, me):
            try:
                who = "%s (uid %d)" % (pwd.getpwuid(info.st_uid).pw_name, info.st_uid)
            except KeyError:
                who = "uid %d" % info.st_uid
            return "unsafe path %s: %s is owned by %s, not root" % (path, directory, who)
        writable = info.st_mode & 0o022
        # A root-owned sticky directory may be on the way, never the path itself.
        if writable and not (info.st_mode & stat.S_ISVTX and info.st_uid == 0 and below != 0):
            who = {0o022: "group and others", 0o020: "group"}.get(writable, "others")
            return "unsafe path %s: %s is writable by %s (mode %o)" % (path, directory, who,
                                                                    stat.S_IMODE(info.st_mode))
    return None


def unsafe_paths(requested):
    found = []
    for item in requested:
        problem = path_problem(item["path"], item.get("owned", False))
        if problem:
            found.append(dict(item, problem=problem))
    return found


def main():
    request = json.loads(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] else {}
    lib = {"__name__": "labsync_observe_lib"}
    exec(compile(LIB_SOURCE, "observe_lib.py", "exec"), lib)
    result = {"os": lib["os_release"](), "systemd": lib["systemd_running"](), "drivers": {}}
    errors = {}
    for name, driver_request in sorted(request.get("drivers", {}).items()):
        source = FRAGMENT_SOURCES.get(name)
        if source is None:
            errors[name] = "no observe fragment named %s was sent" % name
            continue
        namespace = dict(lib)
        namespace["__name__"] = "labsync_fragment_" + name
        try:
            exec(compile(source, "%s observe fragment" % name, "exec"), namespace)
            result["drivers"][name] = namespace["observe"](driver_request)
        except Exception:  # noqa: BLE001 - one driver's failure must not hide the others'
            import traceback  # only now: importing it costs more than observing 20 venvs
            errors[name] = traceback.format_exc(limit=3).strip()
    if errors:
        result["driverErrors"] = errors
    unsafe = unsafe_paths(request.get("paths", []))
    if unsafe:
        result["unsafePaths"] = unsafe
    result["generation"] = generation()
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")


# Run as the program python3 reads on stdin; a test may exec this text under
# another name to call path_problem alone.
if __name__ == "__main__":
    main()
