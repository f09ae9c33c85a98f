// The observe script and the command that runs it. One SSH round trip per host:
// the sh wrapper picks a python3 and pipes the script (on stdin) into it; a host
// without python3 still answers, with OS facts only, so the planner can plan the
// `ensure-python` step that installs it.

import Foundation
import Remote

/// What the observe script is asked to look at on one host.
public struct ObservationRequest: Sendable, Hashable, Codable {
    /// Directories whose immediate subdirectories are checked for venvs.
    public var roots: [String]
    /// Pythons the specs want here: "latest" and/or minor versions ("3.12"). APT is
    /// queried only when one of them is not installed (apt-cache can take seconds).
    public var pythons: [String]
    /// labsync's uv; reported when it exists.
    public var uv: String
    /// Hub facts (JupyterHubDriver); nil: the script reports no `hub`.
    public var hub: HubObservationRequest?

    public init(roots: [String], pythons: [String] = [], uv: String = PipDriver.uvToolPath,
                hub: HubObservationRequest? = nil) {
        self.roots = roots
        self.pythons = pythons
        self.uv = uv
        self.hub = hub
    }
}

/// The command that observes a host: `/bin/sh -c WRAPPER labsync-observe REQUEST_JSON`,
/// with the Python script on stdin.
public func observeCommand(_ request: ObservationRequest, become: Become) -> RemoteCommand {
    RemoteCommand("/bin/sh", ["-c", ObserveScript.wrapper, "labsync-observe", request.json],
                  stdin: Array(ObserveScript.python.utf8), become: become)
}

/// Convenience for `observeCommand(ObservationRequest(roots:), become:)`.
public func observeCommand(roots: [String], become: Become) -> RemoteCommand {
    observeCommand(ObservationRequest(roots: roots), become: become)
}

extension ObservationRequest {
    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings and string arrays cannot fail.
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }
}

public struct ObservationError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable { case notJSON, unexpectedShape }
    public var kind: Kind
    public var message: String
    public var description: String { message }
}

/// Parses what the observe command printed: the script's JSON document, or the
/// wrapper's fallback (`labsync-observe-fallback 1`, then `systemd=0|1`, then the
/// contents of /etc/os-release) from a host without python3.
public func decodeObservation(_ bytes: [UInt8]) throws(ObservationError) -> HostObservation {
    let text = String(decoding: bytes, as: UTF8.self)
    if text.hasPrefix(ObserveScript.fallbackHeader) {
        return ObserveScript.decodeFallback(text)
    }
    do {
        return try JSONDecoder().decode(HostObservation.self, from: Data(bytes))
    } catch let error as DecodingError {
        let snippet = String(text.prefix(200))
        throw ObservationError(kind: text.hasPrefix("{") ? .unexpectedShape : .notJSON,
                               message: "the observe script printed something labsync cannot read (\(error.shortDescription)): \(snippet)")
    } catch {
        throw ObservationError(kind: .notJSON, message: "cannot read the observation: \(error)")
    }
}

extension DecodingError {
    var shortDescription: String {
        switch self {
        case .dataCorrupted(let c): "invalid JSON at \(c.codingPath.pathText): \(c.debugDescription)"
        case .keyNotFound(let key, let c): "missing \(c.codingPath.pathText).\(key.stringValue)"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): "wrong type at \(c.codingPath.pathText)"
        @unknown default: "\(self)"
        }
    }
}

extension [any CodingKey] {
    var pathText: String { map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".") }
}

public enum ObserveScript {
    static let fallbackHeader = "labsync-observe-fallback 1\n"

    /// POSIX sh. Prefers /usr/bin/python3 (a real VM's; also skips slow pyenv shims),
    /// then python3 on PATH. Without one: the fallback lines (see `decodeObservation`).
    public static let wrapper = """
        if [ -x /usr/bin/python3 ]; then exec /usr/bin/python3 - "$@"; fi
        if command -v python3 >/dev/null 2>&1; then exec python3 - "$@"; fi
        echo 'labsync-observe-fallback 1'
        if [ -d /run/systemd/system ]; then echo systemd=1; else echo systemd=0; fi
        echo "machine=$(uname -m 2>/dev/null)"
        cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null || true
        """

    static func decodeFallback(_ text: String) -> HostObservation {
        var os = HostObservation.OperatingSystem(id: "", versionId: "", prettyName: "")
        var systemd = false
        for line in text.split(separator: "\n").dropFirst() {
            if line == "systemd=1" { systemd = true; continue }
            if line.hasPrefix("machine=") { os.machine = String(line.dropFirst(8)); continue }
            guard let eq = line.firstIndex(of: "=") else { continue }
            var value = line[line.index(after: eq)...]
            if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q {
                value = value.dropFirst().dropLast()
            }
            switch line[..<eq] {
            case "ID": os.id = String(value)
            case "VERSION_ID": os.versionId = String(value)
            case "PRETTY_NAME": os.prettyName = String(value)
            default: break
            }
        }
        return HostObservation(os: os, systemd: systemd)
    }

    /// The script itself (Python 3, standard library only). Its output is
    /// `HostObservation`'s JSON encoding.
    public static let python = #"""
# labsync observe script: prints ONE JSON document describing the host.
# Shipped inside labsync (ObserveScript.swift embeds this file verbatim; a test keeps
# them equal) and run as `python3 - REQUEST_JSON` with the script on stdin, so a
# whole host costs one SSH round trip. Standard library only; never imports a
# venv's python (reading METADATA files is ~10x faster than importlib in each venv).
# Robust by design: a missing root, an unreadable directory or a broken file is
# skipped or reported, never fatal.
import json
import os
import platform
import re
import subprocess
import sys

MINOR_PY = re.compile(r"^python3\.(\d+)$")
REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def os_release():
    facts = {"id": "", "versionId": "", "prettyName": "", "machine": platform.machine()}
    keys = {"ID": "id", "VERSION_ID": "versionId", "PRETTY_NAME": "prettyName"}
    for path in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    key, sep, value = line.strip().partition("=")
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


def marker(venv):
    """(marker, error): a marker only when the file has the expected shape."""
    path = os.path.join(venv, ".labsync.json")
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
          and isinstance(data.get("writtenAt", ""), (str, type(None))))
    if not ok:
        return None, "%s does not look like a labsync marker" % path
    return {"spec": data["spec"], "packages": data["packages"], "python": data.get("python", ""),
            "writtenAt": data.get("writtenAt")}, None


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


# ---- JupyterHub (JupyterHubDriver): one round trip for the hub too. ----
HUB_VENV = "/opt/labsync/hub"
HUB_CONFIG_DIR = "/etc/labsync/hub"
HUB_STATE = "/var/lib/labsync/hub"
HUB_PIDFILE = "/run/labsync/hub.pid"
HUB_UNIT = "/etc/systemd/system/labsync-hub.service"


def sha256_file(path):
    import hashlib
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


def hub_running():
    if os.path.isdir("/run/systemd/system") and os.path.exists(HUB_UNIT):
        try:
            done = subprocess.run(["systemctl", "is-active", "--quiet", "labsync-hub.service"],
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
        labsync = meta.get("labsync") if isinstance(meta.get("labsync"), dict) else {}
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


def hub_facts(request):
    venv = HUB_VENV
    installed = os.path.isfile(os.path.join(venv, "pyvenv.cfg"))
    mark, _ = marker(venv) if installed else (None, None)
    managed = [l.strip() for l in (read_text(os.path.join(HUB_STATE, "accounts")) or "").splitlines() if l.strip()]
    users, users_error = hub_users(os.path.join(HUB_STATE, "jupyterhub.sqlite"))
    try:
        secrets = sorted(os.listdir(os.path.join(HUB_CONFIG_DIR, "secrets")))
    except OSError:
        secrets = []
    running_identity = read_text(os.path.join(HUB_STATE, "running"))
    facts = {
        "installed": installed,
        "python": pyvenv_version(venv) if installed else "",
        "distributions": distributions(venv) if installed else [],
        "marker": mark,
        "markerSHA256": sha256_file(os.path.join(venv, ".labsync.json")),
        "configSHA256": sha256_file(os.path.join(HUB_CONFIG_DIR, "jupyterhub_config.py")),
        "runningIdentity": running_identity.strip() if running_identity else None,
        "running": hub_running(),
        "proxy": os.access("/usr/bin/configurable-http-proxy", os.X_OK),
        "secrets": secrets,
        "unit": os.path.exists(HUB_UNIT),
        "hubUsers": users,
        "accounts": accounts(list(request.get("accounts", [])) + managed),
        "managedAccounts": sorted(set(managed)),
        "kernels": kernels(os.path.join(venv, "share", "jupyter", "kernels")),
        "leftovers": [p for p in (HUB_CONFIG_DIR, HUB_STATE, HUB_PIDFILE) if os.path.exists(p)],
    }
    if users_error:
        facts["hubUsersError"] = users_error
    cert = certificate(request.get("certFile"))
    if cert:
        facts["certificate"] = cert
    return facts


def main():
    request = json.loads(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] else {}
    roots = request.get("roots", [])
    wanted = request.get("pythons", [])
    uv = request.get("uv")

    default = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
    installed = pythons()
    minors = {p["version"].rsplit(".", 1)[0] for p in installed}
    need_apt = any(w == "latest" or w not in minors for w in wanted)
    result = {
        "os": os_release(),
        "systemd": os.path.isdir("/run/systemd/system"),
        "python3": interpreter_version(default),
        "python3Path": default,
        "pythons": installed,
        "aptPythons": apt_pythons() if need_apt else [],
        "uv": uv if uv and os.access(uv, os.X_OK) else None,
        "environments": environments(roots),
    }
    if request.get("hub") is not None:
        result["hub"] = hub_facts(request["hub"])
    sys.stdout.write(json.dumps(result, sort_keys=True) + "\n")


main()
"""#
}
