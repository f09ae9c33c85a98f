"""What JupyterHub needs from its configurable-http-proxy, checked against a
real proxy process. Run with a Python that has tornado (the hubcheck venv):

    proxy-contract.py -- COMMAND [ARG...]

starts COMMAND with the options JupyterHub itself appends
(jupyterhub.proxy.ConfigurableHTTPProxy.start, JupyterHub 5.5: --ip, --port,
--api-ip, --api-port, --error-target, --log-level, --ssl-key, --ssl-cert) and
the token in CONFIGPROXY_AUTH_TOKEN, with a fresh self-signed certificate,
then checks, against a backend of its own:
  - the REST API refuses a request without the token, adds, lists and deletes
    a route with it;
  - the public port speaks TLS only, and forwards a routed path to the backend
    with X-Forwarded-Proto "https" (the hub sets its cookies Secure only then);
  - a websocket (a kernel's channel) is proxied both ways;
  - a deleted route is no longer forwarded.
Prints one line per check and exits 1 if any failed. The same body runs
against Debian's Node proxy and labsync's launcher of the Python one
(Tests/DriversTests/HubProxyTests.swift), so both meet one contract.
"""

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.web import Application, RequestHandler
from tornado.websocket import WebSocketHandler, websocket_connect

TOKEN = "contract-token-0123456789"
failures = []


def check(condition, what, detail=""):
    print(("ok: " if condition else "FAIL: ") + what + ("" if condition or not detail else f"\n  {detail}"), flush=True)
    if not condition:
        failures.append(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Echo(RequestHandler):
    def get(self, _):
        self.write({"uri": self.request.uri, "proto": self.request.headers.get("X-Forwarded-Proto", "")})


class EchoSocket(WebSocketHandler):
    def on_message(self, message):
        self.write_message("echo:" + message)


async def wait_for_port(port, process):
    for _ in range(200):
        if process.poll() is not None:
            return False
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return True
        except OSError:
            await asyncio.sleep(0.05)
    return False


async def main(command):
    work = tempfile.mkdtemp(prefix="proxy-contract-")
    cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    backend_port, public, api = free_port(), free_port(), free_port()
    Application([(r"/user/ann/ws", EchoSocket), (r"(.*)", Echo)]).listen(backend_port, "127.0.0.1")
    backend = f"http://127.0.0.1:{backend_port}"
    log = open(os.path.join(work, "proxy.log"), "w")
    process = subprocess.Popen(
        command + ["--ip", "127.0.0.1", "--port", str(public), "--api-ip", "127.0.0.1", "--api-port", str(api),
                   "--error-target", "http://127.0.0.1:9/hub/error", "--log-level", "info",
                   "--ssl-key", key, "--ssl-cert", cert],
        env=dict(os.environ, CONFIGPROXY_AUTH_TOKEN=TOKEN), stdout=log, stderr=subprocess.STDOUT)
    try:
        up = await wait_for_port(api, process) and await wait_for_port(public, process)
        check(up, "the proxy listens on its public and API ports", open(log.name).read()[-2000:])
        if up:
            await contract(backend, public, api, cert)
    finally:
        process.terminate()
        process.wait(10)
    if failures:
        print("proxy log:\n" + open(log.name).read()[-3000:])


async def contract(backend, public, api, cert):
    client = AsyncHTTPClient()
    routes = f"http://127.0.0.1:{api}/api/routes"
    auth = {"Authorization": f"token {TOKEN}"}

    async def fetch(url, **kwargs):
        try:
            return await client.fetch(url, raise_error=False, **kwargs)
        except (OSError, HTTPClientError) as e:  # refused, TLS failure, stream closed
            return e

    r = await fetch(routes)
    check(getattr(r, "code", None) == 403, f"the API refuses a request without the token ({getattr(r, 'code', r)})")
    r = await fetch(routes + "/user/ann", method="POST", headers=auth, body=json.dumps({"target": backend}))
    check(getattr(r, "code", None) == 201, f"the API adds a route with the token ({getattr(r, 'code', r)})")
    r = await fetch(routes, headers=auth)
    listed = json.loads(r.body) if getattr(r, "code", None) == 200 else {}
    check("/user/ann" in listed, f"the API lists the route ({sorted(listed)})")

    secure = dict(ca_certs=cert, validate_cert=True)
    r = await fetch(HTTPRequest(f"https://localhost:{public}/user/ann/echo?x=1", **secure))
    seen = json.loads(r.body) if getattr(r, "code", None) == 200 else {}
    check(seen.get("uri") == "/user/ann/echo?x=1", f"HTTPS on the public port reaches the route's target ({seen or r})")
    proto = seen.get("proto", "").split(",")[-1].strip()
    check(proto == "https", f"the target sees X-Forwarded-Proto https ({seen.get('proto')!r})")
    r = await fetch(f"http://127.0.0.1:{public}/user/ann/echo")
    check(getattr(r, "code", None) != 200, "plain HTTP on the public port is not served")

    try:
        ws = await websocket_connect(HTTPRequest(f"wss://localhost:{public}/user/ann/ws", **secure))
        await ws.write_message("ping")
        answer = await asyncio.wait_for(ws.read_message(), 10)
        ws.close()
    except (OSError, HTTPClientError, asyncio.TimeoutError) as e:
        answer = repr(e)
    check(answer == "echo:ping", f"a websocket is proxied both ways over TLS ({answer!r})")

    r = await fetch(routes + "/user/ann", method="DELETE", headers=auth)
    check(getattr(r, "code", None) == 204, f"the API deletes the route ({getattr(r, 'code', r)})")
    r = await fetch(HTTPRequest(f"https://localhost:{public}/user/ann/echo", **secure))
    check(getattr(r, "code", None) != 200, f"a deleted route is not forwarded ({getattr(r, 'code', r)})")


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] != "--":
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[2:]))
    print("contract: " + ("FAILED: " + "; ".join(failures) if failures else "ok"))
    sys.exit(1 if failures else 0)
