#!/usr/bin/env python3
"""The scenarios of `make test-distros` against one Debian root's sshd.

scripts/test-distros.sh prepares the root (a chroot with its own sshd on a
loopback port) and calls this with where things are. This drives the REAL
labsync binary over SSH, as a user would, and checks the results by reading
the root's files (the venvs' dist-info directories, labsync's markers):

  pip   create → converge; second plan exits 0; alpha==1.0 → 2.0 is exactly one
        install step; gamma leaves the spec → one uninstall; state: absent
        removes the venv.
  uv    the same environment with `installer: uv` (labsync's ensure-uv step
        installs uv into its tool venv from the same index first).
  hub   a JupyterHub with one PAM user: apply, a login through the real HTTPS
        login form (GET for the _xsrf field and cookie, POST, 302 to the hub),
        the user's server started and reached through the proxy (Debian 11:
        the Python proxy from the hub venv, as it packages no Node one),
        a wrong password refused, a second plan exits 0, then state: absent.

Exit status 0 when every check passed; each failed check is printed.
"""

import argparse
import fcntl
import glob
import http.cookiejar
import json
import os
import re
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

failures = []


def check(condition, what, detail=""):
    mark = "ok" if condition else "FAIL"
    print(f"   {mark}: {what}" + (f"\n{detail}" if detail and not condition else ""), flush=True)
    if not condition:
        failures.append(what)
    return condition


class World:
    def __init__(self, args):
        self.args = args
        self.repo = os.path.join(args.work, "repo")
        self.state = os.path.join(args.work, "state")
        os.makedirs(self.repo, exist_ok=True)
        # Inside the root: envs under /opt (the root is a throwaway copy).
        self.env_root = "/opt/labsync-distros/envs"

    def write(self, name, text):
        with open(os.path.join(self.repo, name), "w") as f:
            f.write(text)

    def remove(self, name):
        os.remove(os.path.join(self.repo, name))

    def host_spec(self):
        a = self.args
        return f"""apiVersion: labsync/v1
kind: Host
metadata: {{name: distro}}
spec:
  address: 127.0.0.1
  port: {a.port}
  user: root
  identityFile: {a.identity}
  hostKeys: ["{a.host_key}"]
  index: {{noIndex: true, findLinks: ["{a.find_links}", "{a.hub_find_links}"]}}
"""

    def environment(self, name, packages, installer="pip", extra=()):
        items = ", ".join(f'"{p}"' for p in packages)
        lines = "".join(f"  {e}\n" for e in extra)
        return f"""apiVersion: labsync/v1
kind: PythonEnvironment
metadata: {{name: {name}}}
spec:
  host: distro
  root: {self.env_root}
  installer: {installer}
  packages: [{items}]
{lines}"""

    def labsync(self, command, *arguments, timeout=900):
        argv = [self.args.labsync, command, "--repo", self.repo, "--state-dir", self.state, *arguments]
        started = time.monotonic()
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        result.seconds = time.monotonic() - started
        return result

    def plan(self):
        r = self.labsync("plan", "--format", "json", "--detailed-exitcode")
        if r.returncode not in (0, 2):
            raise RuntimeError(f"plan exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
        return r.returncode, json.loads(r.stdout)

    def apply(self, what):
        r = self.labsync("apply", "--yes")
        out = r.stdout + r.stderr
        steps = [line.strip() for line in out.splitlines() if ": done in" in line or "FAILED" in line]
        print(f"   apply ({what}): exit {r.returncode}, {r.seconds:.0f} s; " + "; ".join(steps), flush=True)
        check(r.returncode == 0, f"apply ({what}) succeeds", out[-4000:])
        return out

    # What is installed, read from the root's files (not through labsync).
    def in_root(self, path):
        return os.path.join(self.args.root, path.lstrip("/"))

    def packages(self, env):
        lib = self.in_root(f"{self.env_root}/{env}/lib")
        found = {}
        for python in os.listdir(lib) if os.path.isdir(lib) else []:
            site = os.path.join(lib, python, "site-packages")
            for entry in os.listdir(site) if os.path.isdir(site) else []:
                if entry.endswith(".dist-info"):
                    name, _, version = entry[: -len(".dist-info")].rpartition("-")
                    name = name.lower().replace("_", "-")
                    # The venv's own tooling; Debian 11's python3-venv also
                    # seeds "pkg-resources 0.0.0" (a Debian packaging artefact,
                    # which labsync does not report as drift either).
                    if name not in ("pip", "setuptools", "wheel", "pkg-resources"):
                        found[name] = version
        return found


def summary(plan):
    return [f"{s['action']} {s['resource']} {s['packages']}" for s in plan["steps"]]


def lifecycle(w, installer):
    name = f"life-{installer}"
    resource = f"PythonEnvironment/{name}"
    print(f"-- {installer} lifecycle", flush=True)
    w.write(f"{name}.yaml", w.environment(name, ["alpha==1.0", "gamma"], installer))
    status, plan = w.plan()
    actions = [s["action"] for s in plan["steps"]]
    check(status == 2 and f"install {resource} ['alpha==1.0', 'gamma']" in summary(plan),
          f"first plan creates and installs {name}", json.dumps(summary(plan)))
    if installer == "uv":
        check("ensure-uv" in actions or w_has_uv(w), "the plan installs labsync's uv (or it is there)", str(actions))
    out = w.apply(f"{installer}: create")
    check(w.packages(name) == {"alpha": "1.0", "gamma": "1.0"}, f"{name} holds alpha 1.0 and gamma",
          str(w.packages(name)))
    check(os.path.exists(w.in_root(f"{w.env_root}/{name}/.labsync.json")), f"{name} carries labsync's marker")
    status, plan = w.plan()
    check(status == 0 and not plan["steps"] and not plan["drift"], "second plan: nothing to do (exit 0)",
          json.dumps(summary(plan) + plan["drift"]))

    w.write(f"{name}.yaml", w.environment(name, ["alpha==2.0", "gamma"], installer))
    status, plan = w.plan()
    check(status == 2 and summary(plan) == [f"install {resource} ['alpha==2.0']"],
          "alpha==1.0 → 2.0 is exactly one install step", json.dumps(summary(plan)))
    w.apply(f"{installer}: bump")
    check(w.packages(name) == {"alpha": "2.0", "beta": "1.0", "gamma": "1.0"}, "alpha 2.0 brought beta",
          str(w.packages(name)))
    check(w.plan()[0] == 0, "converged after the bump")

    w.write(f"{name}.yaml", w.environment(name, ["alpha==2.0"], installer))
    status, plan = w.plan()
    check(summary(plan) == [f"uninstall {resource} ['gamma']"], "gamma leaving the spec is one uninstall",
          json.dumps(summary(plan)))
    w.apply(f"{installer}: uninstall")
    check(w.packages(name) == {"alpha": "2.0", "beta": "1.0"}, "gamma is gone, beta stays", str(w.packages(name)))

    w.write(f"{name}.yaml", w.environment(name, ["alpha==2.0"], installer, ["state: absent"]))
    status, plan = w.plan()
    check(summary(plan) == [f"remove-env {resource} []"], "state: absent is one remove-env", json.dumps(summary(plan)))
    w.apply(f"{installer}: absent")
    check(not os.path.exists(w.in_root(f"{w.env_root}/{name}")), f"{name}'s venv is gone")
    check(os.path.exists(w.in_root("/usr/bin/python3")), "python3 itself stays")
    check(w.plan()[0] == 0, "converged after removal")
    w.remove(f"{name}.yaml")
    return out


def w_has_uv(w):
    return os.path.exists(w.in_root("/opt/labsync/tools/uv/bin/uv"))


def dpkg_installed(w, package):
    r = subprocess.run(["chroot", w.args.root, "dpkg-query", "-W", "-f=${Status}", package],
                       capture_output=True, text=True)
    return r.stdout == "install ok installed"


HUB_USER = "ls-distro-ann"
HUB_PASSWORD = "distro-pw-1"


def hub_spec(w, port, password_hash, absent=False):
    return f"""apiVersion: labsync/v1
kind: JupyterHub
metadata: {{name: distro-hub}}
spec:
  host: distro
  version: ">=5,<6"
  authentication:
    type: pam
    allowedUsers: [{HUB_USER}]
  users:
    - name: {HUB_USER}
      passwordHash: "{password_hash}"
  https:
    selfSigned: true
    hostname: localhost
    port: {port}
""" + ("  state: absent\n" if absent else "")


def log_in(base, user, password):
    """The real form: GET /hub/login (the _xsrf cookie and hidden field), POST it.
    Returns the POST's status (302 on success; redirects are not followed), its
    Location and the cookie jar."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE   # the hub's certificate is self-signed

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context),
                                         urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    page = opener.open(f"{base}/hub/login", timeout=60).read().decode()
    match = re.search(r'name="_xsrf" value="([^"]*)"', page)
    if not match:
        raise RuntimeError("no _xsrf field in the login form")
    body = urllib.parse.urlencode({"_xsrf": match.group(1), "username": user, "password": password}).encode()
    try:
        response = opener.open(urllib.request.Request(f"{base}/hub/login", data=body), timeout=60)
        return response.status, "", jar
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Location", ""), jar


def open_server(base, jar, user):
    """Starts the user's server (GET /hub/spawn with the login cookie) and waits
    until /user/NAME/api/status answers through the proxy: the hub added the
    route through the proxy's REST API, and the proxy forwards to the server."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context),
                                         urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/hub/spawn", timeout=120).read()
    last = ""
    for _ in range(90):
        try:
            # Redirects followed: the server's own OAuth round trip with the hub
            # ends at /user/NAME/lab with the server's cookie in the jar.
            lab = opener.open(f"{base}/user/{user}/lab", timeout=30)
            lab.read()
            if f"/user/{user}/lab" in lab.geturl():
                status = opener.open(f"{base}/user/{user}/api/status", timeout=30)
                body = status.read().decode()
                if status.status == 200 and "started" in body:
                    return True, body
                last = f"api/status {status.status} {body[:200]}"
            else:
                last = f"ended at {lab.geturl()}"
        except (OSError, urllib.error.HTTPError) as e:
            last = str(e)
        time.sleep(1)
    return False, last


def hub(w, proxy_package):
    """proxy_package: the release has node-configurable-http-proxy (Debian 12
    and later). Without it (Debian 11) the hub venv gets the pure-Python proxy
    from PyPI, started through labsync's TLS launcher."""
    kind = "node-configurable-http-proxy from APT" if proxy_package else "the Python proxy from the hub venv"
    print(f"-- JupyterHub (PAM) login, {kind}", flush=True)
    port = int(subprocess.check_output([sys.executable, "-c",
        "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"]).strip())
    password_hash = subprocess.check_output(["openssl", "passwd", "-6", HUB_PASSWORD], text=True).strip()
    w.write("hub.yaml", hub_spec(w, port, password_hash))
    status, plan = w.plan()
    actions = [s["action"] for s in plan["steps"]]
    check(status == 2 and "install-hub" in actions and "add-user" in actions, "the plan installs the hub and its user",
          json.dumps(summary(plan)))
    apt = [p for s in plan["steps"] if s["action"] == "ensure-proxy" for p in s["packages"]]
    install = [p for s in plan["steps"] if s["action"] == "install-hub" for p in s["packages"]]
    if proxy_package:
        check("node-configurable-http-proxy" in apt, "the plan installs the proxy with APT (node-configurable-http-proxy)",
              json.dumps(summary(plan)))
    else:
        check("node-configurable-http-proxy" not in apt and any(p.startswith("configurable-http-proxy") for p in install),
              "the plan puts the Python configurable-http-proxy in the hub venv, and asks APT for no Node one",
              json.dumps(summary(plan)))
    applied = w.apply("hub")
    if proxy_package:
        check(dpkg_installed(w, "node-configurable-http-proxy"), "node-configurable-http-proxy is installed in the root")
    else:
        site = glob.glob(w.in_root("/opt/labsync/hub/lib/python3*/site-packages/configurable_http_proxy"))
        check(bool(site) and not os.path.exists(w.in_root("/usr/bin/configurable-http-proxy")),
              "the Python proxy is in the hub venv, and no Node proxy was installed")
    base = f"https://127.0.0.1:{port}"
    code, location, jar = 0, "", None
    for _ in range(20 if code == 0 and "Not converged" in applied else 60):
        try:
            code, location, jar = log_in(base, HUB_USER, HUB_PASSWORD)
            break
        except (OSError, RuntimeError) as e:
            location = str(e)
            time.sleep(1)
    check(code == 302 and "/hub/" in location, f"{HUB_USER} logs in through the HTTPS form (302 → {location})",
          f"status {code} {location}\n{hub_log(w)}")
    try:
        bad, _, _ = log_in(base, HUB_USER, "wrong-password")
    except (OSError, RuntimeError) as e:
        bad = str(e)
    check(bad == 403, f"a wrong password is refused ({bad})")
    # The hub marks its cookies Secure only when the proxy tells it the client
    # came over HTTPS (X-Forwarded-Proto).
    secure = [c.name for c in jar or [] if c.name.startswith("jupyterhub") and c.secure]
    check(bool(secure), f"the hub's login cookie is Secure ({secure})")
    started, detail = open_server(base, jar or http.cookiejar.CookieJar(), HUB_USER)
    check(started, f"{HUB_USER}'s server starts and answers through the proxy", f"{detail}\n{hub_log(w)}")
    status, plan = w.plan()
    check(status == 0, "second plan: nothing to do (exit 0)", json.dumps(summary(plan)))
    w.write("hub.yaml", hub_spec(w, port, password_hash, absent=True))
    w.apply("hub absent")
    check(not os.path.exists(w.in_root("/opt/labsync/hub")), "state: absent removed the hub")


def hub_log(w):
    try:
        with open(w.in_root("/var/log/labsync/hub.log")) as f:
            return "".join(f.readlines()[-30:])
    except OSError:
        return "(no hub log)"


def main():
    p = argparse.ArgumentParser()
    for name in ("labsync", "suite", "work", "root", "identity", "host-key", "find-links", "hub-find-links"):
        p.add_argument("--" + name, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--skip-hub", action="store_true")
    p.add_argument("--no-proxy-package", action="store_true",
                   help="the release's APT has no node-configurable-http-proxy (Debian 11)")
    args = p.parse_args()
    w = World(args)
    w.write("host.yaml", w.host_spec())
    r = w.labsync("validate")
    if not check(r.returncode == 0, "labsync validate", r.stdout + r.stderr):
        return 1
    started = time.monotonic()
    had_venv = dpkg_installed(w, "python3-venv")
    lifecycle(w, "pip")
    check(had_venv or dpkg_installed(w, "python3-venv"), "labsync installed python3-venv with APT")
    print(f"   (pip: {time.monotonic() - started:.0f} s)", flush=True)
    started = time.monotonic()
    lifecycle(w, "uv")
    print(f"   (uv: {time.monotonic() - started:.0f} s)", flush=True)
    if not args.skip_hub:
        # One hub per machine at a time: its API port (8081) is the machine's.
        with open("/var/lock/labsync-hub-e2e.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            started = time.monotonic()
            hub(w, proxy_package=not args.no_proxy_package)
            print(f"   (hub: {time.monotonic() - started:.0f} s)", flush=True)
    if failures:
        print(f"{args.suite}: {len(failures)} check(s) failed: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
