# labsync observe helpers: what more than one driver's observe fragment needs.
# Standard library only; never imports a venv's python (reading METADATA files
# is ~10x faster than importlib in each venv). Robust by design: a missing
# directory, an unreadable file or a broken one is skipped or reported, never fatal.
import json
import os
import platform
import re
import subprocess
import sys

REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def systemd_running():
    return os.path.isdir("/run/systemd/system")


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()

# os-release keys and their observation names. A derivative (Raspbian, Linux
# Mint, Devuan, ...) numbers its own releases; ID_LIKE and the codenames say
# which Debian or Ubuntu it is built on (AptPackageNames reads them).
OS_RELEASE_KEYS = {"ID": "id", "VERSION_ID": "versionId", "PRETTY_NAME": "prettyName", "ID_LIKE": "idLike",
                   "VERSION_CODENAME": "versionCodename", "UBUNTU_CODENAME": "ubuntuCodename",
                   "DEBIAN_CODENAME": "debianCodename"}


def os_release(paths=("/etc/os-release", "/usr/lib/os-release")):
    facts = {"id": "", "versionId": "", "prettyName": "", "machine": platform.machine()}
    keys = OS_RELEASE_KEYS
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    key, sep, value = line.strip().partition("=")
                    key = key.strip()
                    if not sep or key not in keys:
                        continue
                    value = value.strip()
                    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                        quote, value = value[0], value[1:-1]
                        if quote == '"':
                            value = re.sub(r"\\(.)", r"\1", value)
                    facts[keys[key]] = value
            return facts
        except OSError:
            continue
    return facts


def interpreter_version(path):
    if os.path.realpath(path) == os.path.realpath(sys.executable):
        return platform.python_version()
    try:
        done = subprocess.run(
            [path, "-c", "import platform; print(platform.python_version())"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            timeout=20, check=False)
        return done.stdout.decode().strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def has_ensurepip(path, minor):
    # /usr/bin/python3.11 -> /usr/lib/python3.11/ensurepip (Debian ships it in python3.11-venv).
    prefix = os.path.dirname(os.path.dirname(os.path.realpath(path)))
    return os.path.isfile(os.path.join(prefix, "lib", "python" + minor, "ensurepip", "__init__.py"))


def read_headers(path):
    """Name, Version and Requires-Dist from a METADATA/PKG-INFO header block."""
    name, version, requires = None, None, []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line in ("\n", "\r\n"):
                break  # the body (long description) follows: never read it
            key, sep, value = line.partition(":")
            if not sep or line[0] in " \t":
                continue
            value = value.strip()
            if key == "Name":
                name = value
            elif key == "Version":
                version = value
            elif key == "Requires-Dist":
                m = REQ_NAME.match(value)
                if m:
                    requires.append(normalize(m.group(1)))
    return name, version, sorted(set(requires))


def distributions(venv):
    found = {}
    lib = os.path.join(venv, "lib")
    try:
        libs = sorted(n for n in os.listdir(lib) if n.startswith("python"))
    except OSError:
        return []
    for pydir in libs:
        site = os.path.join(lib, pydir, "site-packages")
        try:
            entries = sorted(os.listdir(site))
        except OSError:
            continue
        for entry in entries:
            full = os.path.join(site, entry)
            if entry.endswith(".dist-info"):
                meta = os.path.join(full, "METADATA")
            elif entry.endswith(".egg-info"):
                meta = os.path.join(full, "PKG-INFO") if os.path.isdir(full) else full
            else:
                continue
            try:
                name, version, requires = read_headers(meta)
            except OSError:
                continue
            if not name or not version:
                continue
            found[normalize(name)] = {"name": normalize(name), "version": version, "requires": requires}
    return [found[k] for k in sorted(found)]


def pyvenv_version(venv):
    values = {}
    try:
        with open(os.path.join(venv, "pyvenv.cfg"), encoding="utf-8", errors="replace") as f:
            for line in f:
                key, sep, value = line.partition("=")
                if sep:
                    values[key.strip()] = value.strip()
    except OSError:
        return ""
    return values.get("version") or values.get("version_info") or ""


def marker(directory):
    """(marker, error): a marker only when the file has the expected shape."""
    path = os.path.join(directory, ".labsync.json")
    if not os.path.lexists(path):
        return None, None
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        return None, "cannot read %s: %s" % (path, e)
    ok = (isinstance(data, dict) and isinstance(data.get("spec"), str)
          and isinstance(data.get("packages"), list)
          and all(isinstance(p, str) for p in data["packages"])
          and isinstance(data.get("python", ""), str)
          and isinstance(data.get("writtenAt", ""), (str, type(None)))
          and isinstance(data.get("repository", ""), (str, type(None))))
    if not ok:
        return None, "%s does not look like a labsync marker" % path
    # "repository": the spec repository that wrote it (what --prune goes by).
    return {"spec": data["spec"], "packages": data["packages"], "python": data.get("python", ""),
            "writtenAt": data.get("writtenAt"), "repository": data.get("repository")}, None


def sha256_file(path):
    import hashlib  # only when a driver asks: its import is not free
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()
    except OSError:
        return None


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def default_python3():
    """The host's default python3 (/usr/bin/python3 first: a real VM's), its
    version, and whether it can make venvs with pip (ensurepip)."""
    path = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
    version = interpreter_version(path)
    venv = bool(version) and has_ensurepip(path, ".".join(version.split(".")[:2]))
    return {"path": path, "version": version, "venv": venv}
