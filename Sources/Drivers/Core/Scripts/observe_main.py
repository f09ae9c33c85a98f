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
    result["generation"] = generation()
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")


main()
