#!/usr/bin/env python3
"""A small package index on loopback, for tests and `make bench`.

Serves a directory tree in which every page exists in two forms,
`index.json` (PEP 691) and `index.html` (PEP 503), and picks one by the
request's Accept header, like a real index. With `--html-only` it ignores
Accept and always serves HTML (an index that predates PEP 691).

Conditional requests: every page has an ETag (a hash of the body) and a
Last-Modified date (the file's mtime); If-None-Match / If-Modified-Since
answer 304. `--no-etag` leaves ETags out, so clients must use the date.
Each request is logged to `--log` as `PATH STATUS FORMAT` lines.

A request naming a file under ROOT (not a directory) gets that file: the
wheels of an index written by --write-wheel-index. With --tls-cert and
--tls-key it serves HTTPS (a test index whose CA only the host trusts).

Generators (write a tree, then exit):
  --write-fixture DIR   the small test index the Swift tests use
  --write-names DIR N   a project list of N generated names (deterministic)
  --write-wheel-index DIR WHEELS   an installable index of the wheels in WHEELS

Usage: index-server.py ROOT --port-file FILE [--log FILE] [--html-only] [--no-etag]
                       [--tls-cert FILE --tls-key FILE]
"""

import argparse
import email.utils
import hashlib
import html
import json
import os
import random
import re
import shutil
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def write_page(directory, json_doc, html_text):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "index.json"), "w") as f:
        json.dump(json_doc, f, separators=(",", ":"))
    with open(os.path.join(directory, "index.html"), "w") as f:
        f.write(html_text)


def write_project_list(root, names):
    doc = {"meta": {"api-version": "1.0"}, "projects": [{"name": n} for n in names]}
    body = "".join(f'<a href="/simple/{normalize(n)}/">{html.escape(n)}</a>\n' for n in names)
    write_page(os.path.join(root, "simple"), doc, f"<!DOCTYPE html><html><body>\n{body}</body></html>\n")


def write_project(root, name, files):
    """files: (filename, requires_python or None, yanked: False/True/str)."""
    entries = []
    anchors = []
    for filename, requires_python, yanked in files:
        url = f"../../files/{filename}#sha256={hashlib.sha256(filename.encode()).hexdigest()}"
        entry = {"filename": filename, "url": url, "hashes": {"sha256": hashlib.sha256(filename.encode()).hexdigest()}}
        attrs = f'href="{html.escape(url)}"'
        if requires_python is not None:
            entry["requires-python"] = requires_python
            attrs += f' data-requires-python="{html.escape(requires_python)}"'
        if yanked:
            entry["yanked"] = yanked
            attrs += " data-yanked" if yanked is True else f' data-yanked="{html.escape(yanked)}"'
        # Ignorable PEP 658/714 attributes, as real indexes send them.
        attrs += ' data-dist-info-metadata="sha256=00" data-core-metadata="sha256=00"'
        entries.append(entry)
        anchors.append(f"<a {attrs}>{html.escape(filename)}</a><br/>")
    doc = {"meta": {"api-version": "1.0"}, "name": normalize(name), "files": entries}
    write_page(os.path.join(root, "simple", normalize(name)), doc,
               "<!DOCTYPE html><html><body>\n" + "\n".join(anchors) + "\n</body></html>\n")


# The test index: every rule of `labsync packages versions` has a project here.
FIXTURE = {
    "numpy": [
        ("numpy-1.21.0-cp38-cp38-manylinux_2_12_x86_64.manylinux2010_x86_64.whl", ">=3.7,<3.11", False),
        ("numpy-1.21.0-cp39-cp39-manylinux1_x86_64.whl", ">=3.7,<3.11", False),
        ("numpy-1.21.0.zip", ">=3.7,<3.11", False),
        ("numpy-2.1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", ">=3.10", False),
        ("numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", ">=3.10", False),
        ("numpy-2.1.0-cp313-cp313-musllinux_1_2_x86_64.whl", ">=3.10", False),
        ("numpy-2.1.0-cp313-cp313-macosx_14_0_arm64.whl", ">=3.10", False),
        ("numpy-2.2.0-cp313-cp313-manylinux_2_17_x86_64.whl", ">=3.10", "broken build"),
        ("numpy-2.2.0.tar.gz", ">=3.10", True),
        ("numpy-2.3.0rc1-cp313-cp313-manylinux_2_28_x86_64.whl", ">=3.11", False),
    ],
    "cp312-only": [
        ("cp312_only-1.0-cp312-cp312-manylinux_2_28_x86_64.whl", None, False),
    ],
    "abi3-pkg": [
        ("abi3_pkg-44.0-cp39-abi3-manylinux_2_28_x86_64.whl", ">=3.9", False),
        ("abi3_pkg-43.0-cp37-abi3-manylinux2014_aarch64.whl", ">=3.7", False),
        ("abi3_pkg-42.0-cp313-abi3-manylinux_2_17_x86_64.whl", None, False),
    ],
    "Pure_Lib": [
        ("pure_lib-0.9-py2-none-any.whl", None, False),
        ("pure_lib-1.0-py3-none-any.whl", None, False),
        ("pure_lib-2.0.tar.gz", ">=3.12", False),
        ("pure_lib-2.1-py3-none-any.whl", ">=3.12.4", False),
    ],
    "macos-only": [
        ("macos_only-1.0-cp313-cp313-macosx_14_0_arm64.whl", None, False),
    ],
    "musl-only": [
        ("musl_only-1.0-cp312-cp312-musllinux_1_2_x86_64.whl", None, False),
    ],
    "odd-requires": [
        ("odd_requires-1.0-py3-none-any.whl", "not a specifier", False),
    ],
    "scikit-learn": [("scikit_learn-1.5.0.tar.gz", ">=3.9", False)],
    "scikit-image": [("scikit_image-0.24.0.tar.gz", ">=3.9", False)],
    "scipy": [("scipy-1.14.0.tar.gz", ">=3.10", False)],
    "Django": [("django-5.1.tar.gz", ">=3.10", False), ("Django-5.1-py3-none-any.whl", ">=3.10", False)],
}


def write_fixture(root):
    write_project_list(root, sorted(FIXTURE))
    for name, files in FIXTURE.items():
        write_project(root, name, files)


SYLLABLES = ("py dj ang o flask num sci kit learn data tensor flow torch vision net web http json yaml "
             "tool util s ify core lib io aws cloud test mock auth api client server log ging cli pars er "
             "ml ai graph plot lab note book jupyter ext sql alchemy redis mongo fast async ui qt gtk image "
             "audio text nlp geo time zone crypto hash ssl x z q v k").split()


def write_wheel_index(root, wheels):
    """simple/<project>/ pages linking to files/<wheel>, for pip and uv to install from."""
    files = os.path.join(root, "files")
    os.makedirs(files, exist_ok=True)
    projects = {}
    for wheel in sorted(os.listdir(wheels)):
        if wheel.endswith(".whl"):
            shutil.copy(os.path.join(wheels, wheel), files)
            projects.setdefault(normalize(wheel.split("-")[0]), []).append(wheel)
    for name, names in projects.items():
        doc = {"meta": {"api-version": "1.0"}, "name": name,
               "files": [{"filename": w, "url": f"/files/{w}", "hashes": {}} for w in names]}
        body = "".join(f'<a href="/files/{html.escape(w)}">{html.escape(w)}</a>\n' for w in names)
        write_page(os.path.join(root, "simple", name), doc, f"<!DOCTYPE html><html><body>\n{body}</body></html>\n")
    write_project_list(root, sorted(projects))


def generated_names(count):
    """`count` distinct names shaped like real ones (separators, case, digits)."""
    rng = random.Random(7)
    seen = set()
    names = []
    while len(names) < count:
        parts = [rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4))]
        name = parts[0]
        for part in parts[1:]:
            name += rng.choice(("-", "_", ".", "")) + part
        if rng.random() < 0.4:
            name += str(rng.randint(0, 9999))
        if rng.random() < 0.1:
            name = name.capitalize()
        key = normalize(name)
        if key not in seen:
            seen.add(key)
            names.append(name)
    return names


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self, status, form):
        if self.server.log_path:
            with open(self.server.log_path, "a") as f:
                f.write(f"{self.path} {status} {form}\n")

    def do_GET(self):
        path = self.path.split("?")[0].split("#")[0]
        parts = [p for p in path.split("/") if p]
        if not parts or ".." in parts:
            return self.finish_with(404, b"not found", "text/plain", "-")
        directory = os.path.join(self.server.root, *parts)
        if os.path.isfile(directory):
            with open(directory, "rb") as f:
                return self.finish_with(200, f.read(), "application/octet-stream", "file")
        wants_json = JSON_TYPE in self.headers.get("Accept", "") and not self.server.html_only
        name = "index.json" if wants_json else "index.html"
        page = os.path.join(directory, name)
        if not os.path.isfile(page):
            return self.finish_with(404, b"not found", "text/plain", "-")
        with open(page, "rb") as f:
            body = f.read()
        content_type = JSON_TYPE if wants_json else "text/html; charset=utf-8"
        form = "json" if wants_json else "html"
        mtime = int(os.stat(page).st_mtime)
        headers = {"Last-Modified": email.utils.formatdate(mtime, usegmt=True)}
        etag = None
        if not self.server.no_etag:
            etag = '"' + hashlib.sha256(body + content_type.encode()).hexdigest()[:32] + '"'
            headers["ETag"] = etag
        if etag and self.headers.get("If-None-Match") == etag:
            return self.finish_with(304, b"", None, form, headers)
        since = self.headers.get("If-Modified-Since")
        if since and not self.headers.get("If-None-Match"):
            try:
                if mtime <= email.utils.parsedate_to_datetime(since).timestamp():
                    return self.finish_with(304, b"", None, form, headers)
            except (TypeError, ValueError):
                pass
        self.finish_with(200, body, content_type, form, headers)

    def do_HEAD(self):
        # uv asks for a wheel's headers first (range support); same answer, no body.
        self.do_GET()

    def finish_with(self, status, body, content_type, form, headers=None):
        # Logged before answering: a client that has its answer finds it logged.
        self.record(status, form)
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("root", nargs="?")
    parser.add_argument("--port-file")
    parser.add_argument("--log")
    parser.add_argument("--html-only", action="store_true")
    parser.add_argument("--no-etag", action="store_true")
    parser.add_argument("--write-fixture")
    parser.add_argument("--write-names", nargs=2, metavar=("DIR", "COUNT"))
    parser.add_argument("--write-wheel-index", nargs=2, metavar=("DIR", "WHEELS"))
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    args = parser.parse_args()
    if args.write_fixture:
        write_fixture(args.write_fixture)
        return
    if args.write_names:
        write_project_list(args.write_names[0], generated_names(int(args.write_names[1])))
        return
    if args.write_wheel_index:
        write_wheel_index(*args.write_wheel_index)
        return
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.root = args.root
    server.log_path = args.log
    server.html_only = args.html_only
    server.no_etag = args.no_etag
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    # Port file written last and atomically: its presence means "ready".
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
