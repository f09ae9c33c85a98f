"""Runs code in a running Jupyter kernel over its websocket, as a browser tab does.

Used by the hub end-to-end test (Tests/labsyncTests/HubEndToEndTests.swift):

    kernel-execute.py WSS_URL COOKIE_JAR < code

WSS_URL is a user server's /api/kernels/<id>/channels; COOKIE_JAR is curl's
cookie jar after the login form, so the websocket is authenticated by the same
cookies a browser sends (JupyterHub allows cookie-authenticated websockets by
default, and asks no XSRF token on them). The code is read from stdin; the
outcome is printed as one JSON object: stdout, stderr, results (text/plain of
each execute_result) and errors ("ename: evalue"), plus the reply's status.

Needs tornado (the .tools/hubcheck venv has it, through jupyterhub). The hub's
certificate is self-signed: verification is off; use on loopback only.
"""

import asyncio
import datetime
import json
import sys
import uuid
from urllib.parse import urlsplit

from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

TIMEOUT = 180  # seconds: an R kernel's first start, on a busy machine


def cookie_header(jar_path, url):
    """The Cookie header curl would send to url, from its Netscape-format jar."""
    parts = urlsplit(url)
    path = parts.path or "/"
    pairs = []
    with open(jar_path, encoding="utf-8") as jar:
        for line in jar:
            line = line.rstrip("\n")
            # curl marks HttpOnly cookies with this prefix; other '#' lines are comments.
            if line.startswith("#HttpOnly_"):
                line = line[len("#HttpOnly_"):]
            elif line.startswith("#") or not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) != 7:
                continue
            domain, _, cookie_path, _, _, name, value = fields
            if domain.lstrip(".") != parts.hostname:
                continue
            if not (path == cookie_path or path.startswith(cookie_path.rstrip("/") + "/")):
                continue
            pairs.append((len(cookie_path), f"{name}={value}"))
    # The most specific path first, as RFC 6265 recommends.
    return "; ".join(pair for _, pair in sorted(pairs, key=lambda p: -p[0]))


def execute_request(code, session):
    msg_id = uuid.uuid4().hex
    header = {
        "msg_id": msg_id,
        "username": "labsync-e2e",
        "session": session,
        "msg_type": "execute_request",
        "version": "5.3",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
    }
    content = {
        "code": code,
        "silent": False,
        "store_history": False,
        "user_expressions": {},
        "allow_stdin": False,
        "stop_on_error": True,
    }
    message = {"header": header, "parent_header": {}, "metadata": {}, "content": content,
               "channel": "shell", "buffers": []}
    return msg_id, json.dumps(message)


async def run(url, jar_path, code):
    session = uuid.uuid4().hex
    http_url = "https" + url[len("wss"):] if url.startswith("wss") else "http" + url[len("ws"):]
    request = HTTPRequest(f"{url}?session_id={session}", validate_cert=False,
                          headers={"Cookie": cookie_header(jar_path, http_url)})
    connection = await websocket_connect(request)
    msg_id, text = execute_request(code, session)
    await connection.write_message(text)
    outcome = {"stdout": "", "stderr": "", "results": [], "errors": [], "status": None}
    idle = False
    while not (idle and outcome["status"] is not None):
        raw = await connection.read_message()
        if raw is None:
            raise RuntimeError(f"the websocket closed before the reply: {outcome}")
        if isinstance(raw, bytes):
            continue  # binary frames carry buffers; execute output is JSON text
        message = json.loads(raw)
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = message["header"]["msg_type"]
        content = message["content"]
        if kind == "stream":
            outcome[content["name"]] += content["text"]
        elif kind in ("execute_result", "display_data"):
            outcome["results"].append(content["data"].get("text/plain", ""))
        elif kind == "error":
            outcome["errors"].append(f"{content['ename']}: {content['evalue']}")
        elif kind == "status" and content["execution_state"] == "idle":
            idle = True
        elif kind == "execute_reply":
            outcome["status"] = content["status"]
    connection.close()
    return outcome


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: kernel-execute.py WSS_URL COOKIE_JAR < code")
    code = sys.stdin.read()
    outcome = asyncio.run(asyncio.wait_for(run(sys.argv[1], sys.argv[2], code), TIMEOUT))
    print(json.dumps(outcome))


if __name__ == "__main__":
    main()
