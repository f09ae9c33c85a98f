"""A local identity provider for labsync's OAuth end-to-end tests.

It speaks, over HTTPS on loopback, the parts of two real protocols that
oauthenticator 17 uses (read from its source, gitlab.py / azuread.py /
oauth2.py):

GitLab (GitLabOAuthenticator, gitlab_url = https://127.0.0.1:PORT):
  GET  /oauth/authorize          authorization code grant (response_type=code)
  POST /oauth/token              code -> access token (client secret checked)
  GET  /api/v4/user              the user (id, username, ...)
  GET  /api/v4/version           member_api_variant: "all/" from 12.4 on
  GET  /api/v4/groups/G/members/all/ID   200 when a member, else 404

Azure AD v2.0 (AzureAdOAuthenticator, graph_url = https://127.0.0.1:PORT):
  GET  /{tenant}/v2.0/.well-known/openid-configuration
  GET  /{tenant}/oauth2/v2.0/authorize
  POST /{tenant}/oauth2/v2.0/token        id_token signed RS256 with a test key (joserfc, authlib's JOSE library)
  GET  /{tenant}/discovery/v2.0/keys      the JWKS

Who is logged in is a cookie, set by GET /login?provider=gitlab&user=NAME
(what a person does on the provider's login page); consent is then given
automatically. Users, groups and claims come from users.json. The client's
secret is read from --client-secret-file at each token request, so a test can
rotate it. The certificate comes from a CA made for this run (trustme); its
PEM is written to --ca-file for the test to trust.

Tokens, codes and keys live in memory: nothing outlives the process.
"""

import argparse
import base64
import hmac
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import trustme
from authlib.common.security import generate_token
from joserfc import jwt
from joserfc.jwk import RSAKey


class State:
    def __init__(self, args):
        with open(args.users, encoding="utf-8") as f:
            self.users = json.load(f)
        self.client_id = args.client_id
        self.secret_file = args.client_secret_file
        self.redirect_uri = args.redirect_uri
        self.tenant = args.tenant
        self.codes = {}  # code -> (provider, user, redirect_uri, nonce)
        self.tokens = {}  # access token -> (provider, user)
        self.lock = threading.Lock()
        self.jwk = RSAKey.generate_key(2048, parameters={"kid": "labsync-test-1", "use": "sig", "alg": "RS256"})
        self.log = open(args.log, "a", encoding="utf-8") if args.log else sys.stderr

    def secret(self):
        with open(self.secret_file, encoding="utf-8") as f:
            return f.read().strip()

    def user(self, provider, login):
        for u in self.users[provider]["users"]:
            if u.get("login", u.get("username")) == login:
                return u
        return None


class Handler(BaseHTTPRequestHandler):
    server_version = "labsync-test-idp/1"
    state: State = None
    base = ""

    def log_message(self, fmt, *args):
        # Request lines only: query strings carry codes, never secrets.
        self.state.log.write("idp: %s\n" % (fmt % args))
        self.state.log.flush()

    # -- helpers --

    def send(self, code, body, content_type="application/json", headers=None):
        data = body if isinstance(body, bytes) else (json.dumps(body) if content_type == "application/json" else body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def redirect(self, location, headers=None):
        self.send(302, b"", "text/plain", dict(headers or {}, Location=location))

    def form(self):
        length = int(self.headers.get("Content-Length") or 0)
        return dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))

    def logged_in(self, provider):
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        morsel = cookie.get("idp_" + provider)
        return self.state.user(provider, morsel.value) if morsel else None

    def bearer(self):
        auth = self.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        with self.state.lock:
            return self.state.tokens.get(token)

    def client_ok(self, params):
        """Basic auth (oauthenticator's default) or client_id/client_secret in the body."""
        auth = self.headers.get("Authorization", "")
        client_id, secret = params.get("client_id"), params.get("client_secret")
        if auth.startswith("Basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        return client_id == self.state.client_id and hmac.compare_digest(secret or "", self.state.secret())

    # -- routes --

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        path = url.path
        t = "/" + self.state.tenant
        if path == "/login":
            provider, user = q.get("provider", ""), q.get("user", "")
            if provider not in ("gitlab", "azuread") or not self.state.user(provider, user):
                return self.send(404, {"error": "no such user"})
            return self.send(200, "logged in as %s\n" % user, "text/plain",
                             {"Set-Cookie": "idp_%s=%s; Path=/; Secure; HttpOnly" % (provider, user)})
        if path == "/oauth/authorize":
            return self.authorize("gitlab", q)
        if path == t + "/oauth2/v2.0/authorize":
            return self.authorize("azuread", q)
        if path == "/api/v4/user":
            found = self.bearer()
            if not found or found[0] != "gitlab":
                return self.send(401, {"message": "401 Unauthorized"})
            u = found[1]
            return self.send(200, {"id": u["id"], "username": u["username"], "name": u["name"], "email": u["email"],
                                   "state": "active"})
        if path == "/api/v4/version":
            if not self.bearer():
                return self.send(401, {"message": "401 Unauthorized"})
            return self.send(200, {"version": "17.5.0-ee", "revision": "labsync"})
        if path.startswith("/api/v4/groups/"):
            found = self.bearer()
            if not found:
                return self.send(401, {"message": "401 Unauthorized"})
            # /api/v4/groups/<url-encoded full path>/members/all/<id>
            rest = path[len("/api/v4/groups/"):]
            group, _, tail = rest.partition("/members/")
            group = urllib.parse.unquote(group)
            user_id = tail.rsplit("/", 1)[-1]
            member = next((u for u in self.state.users["gitlab"]["users"]
                           if str(u["id"]) == user_id and group in u["groups"]), None)
            if member:
                return self.send(200, {"id": member["id"], "username": member["username"], "access_level": 30})
            return self.send(404, {"message": "404 Not found"})
        if path == t + "/v2.0/.well-known/openid-configuration":
            issuer = "%s%s/v2.0" % (self.base, t)
            return self.send(200, {
                "issuer": issuer,
                "authorization_endpoint": "%s%s/oauth2/v2.0/authorize" % (self.base, t),
                "token_endpoint": "%s%s/oauth2/v2.0/token" % (self.base, t),
                "jwks_uri": "%s%s/discovery/v2.0/keys" % (self.base, t),
                "response_types_supported": ["code"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "name", "oid", "preferred_username", "email"],
            })
        if path == t + "/discovery/v2.0/keys":
            return self.send(200, {"keys": [self.state.jwk.as_dict(private=False)]})
        return self.send(404, {"error": "not found", "path": path})

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/oauth/token":
            return self.token("gitlab")
        if path == "/" + self.state.tenant + "/oauth2/v2.0/token":
            return self.token("azuread")
        return self.send(404, {"error": "not found"})

    def authorize(self, provider, q):
        # The checks a real provider makes before it shows anything: a wrong
        # client or callback URL is an error page, never a redirect.
        if q.get("client_id") != self.state.client_id:
            return self.send(400, "unknown client_id\n", "text/plain")
        if q.get("redirect_uri") != self.state.redirect_uri:
            return self.send(400, "The redirect URI included is not valid (redirect_uri mismatch)\n", "text/plain")
        if q.get("response_type") != "code":
            return self.send(400, "unsupported response_type\n", "text/plain")
        if provider == "azuread" and "openid" not in q.get("scope", "").split():
            return self.send(400, "AADSTS: the scope must include openid for an id_token\n", "text/plain")
        user = self.logged_in(provider)
        if not user:
            return self.send(401, "<html><body><form>Sign in first (GET /login)</form></body></html>", "text/html")
        code = generate_token(32)
        with self.state.lock:
            self.state.codes[code] = (provider, user, q["redirect_uri"], q.get("nonce"))
        sep = "&" if "?" in q["redirect_uri"] else "?"
        params = {"code": code}
        if "state" in q:
            params["state"] = q["state"]
        self.redirect(q["redirect_uri"] + sep + urllib.parse.urlencode(params))

    def token(self, provider):
        params = self.form()
        if not self.client_ok(params):
            return self.send(401, {"error": "invalid_client",
                                   "error_description": "Client authentication failed"})
        if params.get("grant_type") != "authorization_code":
            return self.send(400, {"error": "unsupported_grant_type"})
        with self.state.lock:
            found = self.state.codes.pop(params.get("code", ""), None)
        if not found or found[0] != provider or found[2] != params.get("redirect_uri"):
            return self.send(400, {"error": "invalid_grant"})
        _, user, _, nonce = found
        access = generate_token(40)
        with self.state.lock:
            self.state.tokens[access] = (provider, user)
        body = {"access_token": access, "token_type": "Bearer", "expires_in": 3600}
        if provider == "gitlab":
            body["scope"] = "read_user"
            body["created_at"] = int(time.time())
        else:
            now = int(time.time())
            claims = {"iss": "%s/%s/v2.0" % (self.base, self.state.tenant), "aud": self.state.client_id,
                      "iat": now, "nbf": now, "exp": now + 3600, "sub": "sub-" + user["oid"], "tid": self.state.tenant,
                      "ver": "2.0"}
            for k in ("oid", "preferred_username", "upn", "name", "email", "groups"):
                if k in user:
                    claims[k] = user[k]
            if nonce:
                claims["nonce"] = nonce
            header = {"alg": "RS256", "kid": "labsync-test-1", "typ": "JWT"}
            body["id_token"] = jwt.encode(header, claims, self.state.jwk)
            body["scope"] = "openid profile email"
        self.send(200, body)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--users", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "users.json"))
    p.add_argument("--client-id", required=True)
    p.add_argument("--client-secret-file", required=True)
    p.add_argument("--redirect-uri", required=True)
    p.add_argument("--tenant", default="labsync-test-tenant")
    p.add_argument("--ca-file", required=True, help="where to write the test CA's certificate (PEM)")
    p.add_argument("--port-file", required=True, help="written with the port once listening")
    p.add_argument("--log")
    args = p.parse_args()

    ca = trustme.CA(organization_name="labsync test identity provider CA")
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)

    Handler.state = State(args)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    Handler.base = "https://127.0.0.1:%d" % port
    ca.cert_pem.write_to_path(args.ca_file)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
