# labsync's launcher for the pure-Python configurable-http-proxy (PyPI
# `configurable-http-proxy` 0.4, Corridor), used where the release packages no
# Node proxy (Debian 11). It is passed to the hub as `python -c <this file>`,
# inside jupyterhub_config.py, so the config's sha256 covers it.
#
# JupyterHub starts the proxy with --ip, --port, --api-ip, --api-port,
# --error-target, --log-level and, with HTTPS, --ssl-key and --ssl-cert
# (jupyterhub.proxy.ConfigurableHTTPProxy.start, JupyterHub 5.5); the token is
# CONFIGPROXY_AUTH_TOKEN in its environment. The port implements the routes
# and their REST API but refuses every --ssl-* option, so tornado terminates
# TLS here, with the port's own handlers behind it.
import argparse
import logging
import os
import ssl

from configurable_http_proxy.configproxy import PythonProxy
from configurable_http_proxy.handlers import ProxyHandler
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.web import Application


class ForwardedProtoHandler(ProxyHandler):
    # The port derives X-Forwarded-Proto from the request's path, which never
    # starts with "https:", so it always tells the hub "http". Behind TLS the
    # hub must see "https" (it sets its cookies Secure only then).
    def _get_proxy_request(self, url):
        request = super()._get_proxy_request(url)
        request.headers["X-Forwarded-Proto"] = self.request.protocol
        return request


def main():
    parser = argparse.ArgumentParser(prog="labsync-proxy")
    parser.add_argument("--ip", default="")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--api-ip", default="127.0.0.1")
    parser.add_argument("--api-port", type=int)
    parser.add_argument("--error-target")
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--ssl-key")
    parser.add_argument("--ssl-cert")
    # Anything else JupyterHub could pass (internal SSL, host routing) labsync
    # never configures; argparse refuses it, so the hub says the proxy failed.
    args = parser.parse_args()

    logging.basicConfig(format="%(asctime)s %(levelname)s proxy: %(message)s")
    log = logging.getLogger("configurable_http_proxy")
    log.setLevel(args.log_level.upper())

    tls = None
    if args.ssl_cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.ssl_cert, args.ssl_key)

    proxy = PythonProxy({"log": log, "auth_token": os.environ.get("CONFIGPROXY_AUTH_TOKEN"),
                         "error_target": args.error_target})
    public = Application([(r"/(.*)", ForwardedProtoHandler, {"proxy": proxy})])
    HTTPServer(public, ssl_options=tls).listen(args.port, args.ip)
    HTTPServer(proxy.api_app).listen(args.api_port or args.port + 1, args.api_ip)
    log.info("labsync proxy: %s://%s:%d, API at %s:%d", "https" if tls else "http", args.ip or "*", args.port,
             args.api_ip, args.api_port or args.port + 1)
    IOLoop.current().start()


main()
