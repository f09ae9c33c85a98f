# The R driver's observe fragment (see observe_lib.py for the helpers it uses:
# os, marker). `observe(request)` returns RObservation's JSON. Reads DESCRIPTION
# files only: starting R would cost a second per library.
DEP_NAME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9.]*)")  # noqa: F821 - re comes from observe_lib


def description(path):
    """The fields of a DESCRIPTION file (continuation lines joined), or None."""
    fields, key = {}, None
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line[:1] in (" ", "\t") and key:
                    fields[key] += " " + line.strip()
                    continue
                name, sep, value = line.partition(":")
                if sep:
                    key = name.strip()
                    fields[key] = value.strip()
    except OSError:
        return None
    return fields


def requires(fields):
    names = set()
    for field in ("Depends", "Imports", "LinkingTo"):
        for item in fields.get(field, "").split(","):
            m = DEP_NAME.match(item)
            if m and m.group(1) != "R":
                names.add(m.group(1))
    return sorted(names)


def packages(lib):
    found = []
    try:
        names = sorted(os.listdir(lib))
    except OSError:
        return found
    for name in names:
        fields = description(os.path.join(lib, name, "DESCRIPTION"))
        if not fields or not fields.get("Package") or not fields.get("Version"):
            continue
        package = {"name": fields["Package"], "version": fields["Version"], "requires": requires(fields)}
        if fields.get("Built"):
            package["built"] = fields["Built"]
        found.append(package)
    return found


def libraries(roots):
    found = []
    for root in sorted(set(roots)):
        try:
            names = sorted(os.listdir(root))
        except OSError:
            continue  # missing or unreadable root: nothing there yet
        for name in names:
            lib = os.path.join(root, name)
            if os.path.islink(lib) or not os.path.isdir(lib):
                continue
            mark, error = marker(lib)  # noqa: F821 - from observe_lib
            entry = {"path": lib, "packages": packages(lib), "marker": mark}
            if error:
                entry["markerError"] = error
            found.append(entry)
    return found


def observe(request):
    version, home = None, None
    for candidate in request.get("rHomes", []):
        fields = description(os.path.join(candidate, "library", "base", "DESCRIPTION"))
        if fields and fields.get("Version"):
            version, home = fields["Version"], candidate
            break
    # Only the packages asked about: a site library holds hundreds.
    system = {}
    for lib in request.get("systemLibraries", []):
        for name in request.get("systemPackages", []):
            fields = description(os.path.join(lib, name, "DESCRIPTION"))
            if name not in system and fields and fields.get("Version"):
                system[name] = fields["Version"]
    return {
        "r": version,
        "rHome": home,
        "rBinary": next((p for p in request.get("rBinaries", []) if os.access(p, os.X_OK)), None),
        "systemPackages": system,
        "buildTools": [p for p in request.get("buildTools", []) if os.path.exists(p)],
        "libraries": libraries(request.get("roots", [])),
    }
