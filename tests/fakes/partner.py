"""A fake partner backpack on 127.0.0.1: a real OAuth 2.0 authorization server (authlib's server
side — it is the server, not a client) plus the OB 3.0 "Open Badges API" or the OB 2.1 "Badge
Connect" resource endpoints, in memory.

    with FakePartner(protocol="ob30") as partner:          # or "ob21"
        partner.add(credential_dict_or_compact_jws)       # what the learner holds there
        partner.auto_approve = True                       # GET /authorize redirects at once
        ...
        partner.refresh_calls, partner.revocations, partner.registrations

It is a `FakeServer` too: `partner.json(path, doc)` serves extra documents (hosted OB2 assertions,
issuer profiles, images) on the same origin, so `BadgeFactory(partner)` works.

Knobs: `fail_next_token(error="invalid_grant")`, `fail_page(offset, status=500, retry_after=None)`,
`expire_access_tokens()`, `expires_in`, `iss` (RFC 9207 value sent back, None = not sent),
`registration_scope` (reduce the granted scope), `discovery_patch` (dict merged into the discovery
document, or a callable document → document), `discovery_body` (raw bytes instead), `jws_key`
("compactJwsString" or "compactJwsStrings"), `hold_refresh` (an Event the refresh waits on) and
`refresh_started` (set when a refresh reaches the token endpoint).
"""

from __future__ import annotations

import hmac
import io
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9207 import IssuerParameter
from flask import Flask, jsonify, request
from markupsafe import escape
from werkzeug.wrappers import Request, Response

from tests.fakes.server import FakeServer, Seen

OB3_READ = "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly"
OB2_READ = "https://purl.imsglobal.org/spec/ob/v2p1/scope/assertion.readonly"
SCOPES = {
    "ob30": [OB3_READ, "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.upsert",
             "https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.readonly",
             "https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.update", "offline_access"],
    "ob21": [OB2_READ, "https://purl.imsglobal.org/spec/ob/v2p1/scope/assertion.create",
             "https://purl.imsglobal.org/spec/ob/v2p1/scope/profile.readonly", "offline_access"],
}
OB2_API = "/tenant/ims/ob/v2p1"  # not the default path: the client must read apiBase


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    metadata: dict

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.metadata["redirect_uris"][0]

    def get_allowed_scope(self, scope):
        allowed = set(str(self.metadata.get("scope", "")).split())
        return " ".join(s for s in str(scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.metadata.get("redirect_uris", [])

    def check_client_secret(self, client_secret):
        return hmac.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method == "client_secret_basic"

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in self.metadata.get("grant_types", ["authorization_code"])


@dataclass
class AuthCode(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: str
    code_challenge: str | None
    code_challenge_method: str | None

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return None

    def get_auth_time(self):
        return None


@dataclass
class Token(TokenMixin):
    access_token: str
    refresh_token: str | None
    client_id: str
    scope: str
    user: str
    expires_in: int
    issued_at: float = field(default_factory=time.time)
    access_revoked: bool = False
    refresh_revoked: bool = False
    expired: bool = False

    def check_client(self, client):
        return client.client_id == self.client_id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return self.expires_in

    def is_expired(self):
        return self.expired or time.time() > self.issued_at + self.expires_in

    def is_revoked(self):
        return self.access_revoked

    def get_user(self):
        return self.user

    def get_client(self):
        return None


@dataclass
class Held:
    added_at: datetime
    item: dict | str  # a JSON credential/assertion, or a compact JWS


@dataclass
class FakePartner(FakeServer):
    protocol: str = "ob30"
    name: str = "Partenaire Formation"

    PKCE_REQUIRED = True  # subclasses that follow a server where PKCE is optional say so
    def __post_init__(self) -> None:
        super().__post_init__()
        self.held: list[Held] = []
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, AuthCode] = {}
        self.access_tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, Token] = {}
        self.registrations: list[dict] = []
        self.revocations: list[dict] = []
        self.refresh_calls = 0
        self.token_calls = 0
        self.auto_approve = False
        self.expires_in = 3600
        self.iss: str | None = self.origin
        self.registration_scope: str | None = None
        self.discovery_patch: Any = None
        self.discovery_body: bytes | None = None
        self.jws_key = "compactJwsString"
        self.hold_refresh: threading.Event | None = None
        self.refresh_started = threading.Event()
        self._token_failures: list[tuple[int, str]] = []
        self._page_failures: dict[int, tuple[int, str | None]] = {}
        self._state_lock = threading.Lock()
        self.flask = self._build()

    # --- what the learner holds there -----------------------------------------------------
    def add(self, *items: dict | str) -> None:
        for item in items:
            self.held.append(Held(datetime.now(UTC), item))

    # --- knobs ------------------------------------------------------------------------------
    def fail_next_token(self, error: str = "invalid_grant", status: int = 400) -> None:
        self._token_failures.append((status, error))

    def fail_page(self, offset: int, status: int = 500, retry_after: str | None = None) -> None:
        self._page_failures[offset] = (status, retry_after)

    def heal_page(self, offset: int) -> None:
        self._page_failures.pop(offset, None)

    def expire_access_tokens(self) -> None:
        for token in self.access_tokens.values():
            token.expired = True

    def pages_requested(self) -> list[Seen]:
        path = "/ims/ob/v3p0/credentials" if self.protocol == "ob30" else OB2_API + "/assertions"
        return [seen for seen in self.requests if seen.path == path]

    # --- wsgi: extra documents first (FakeServer routes), then the OAuth/API app -------------
    def _app(self, environ, start_response):
        req = Request(environ)
        body = req.get_data()
        with self._lock:
            self.hits[req.path] += 1
            self.requests.append(Seen(req.method, req.path, req.query_string.decode(), dict(req.headers), body))
        fn = self.routes.get(req.path)
        if fn is not None:
            return fn(req)(environ, start_response)
        environ["wsgi.input"] = io.BytesIO(body)  # read above: give the Flask app its own copy
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.flask(environ, start_response)

    # --- documents ------------------------------------------------------------------------
    def discovery_document(self) -> dict:
        o = self.origin
        if self.protocol == "ob30":
            doc: dict[str, Any] = {
                "openapi": "3.0.1",
                "info": {"title": self.name, "version": "3.0", "termsOfService": o + "/tos",
                         "x-imssf-privacyPolicyUrl": o + "/privacy", "x-imssf-image": o + "/logo.png"},
                "servers": [{"url": o + "/ims/ob/v3p0"}],
                "paths": {},
                "components": {"securitySchemes": {"OAuth2ACG": {
                    "type": "oauth2", "x-imssf-registrationUrl": o + "/o/register",
                    "x-imssf-name": self.name, "x-imssf-privacyPolicyUrl": o + "/privacy",
                    "x-imssf-termsOfServiceUrl": o + "/tos",
                    "flows": {"authorizationCode": {
                        "authorizationUrl": o + "/o/authorize", "tokenUrl": o + "/o/token",
                        "refreshUrl": o + "/o/token",
                        "scopes": {s: s.rsplit("/", 1)[-1] for s in SCOPES["ob30"]}}}}},
                    "schemas": {}},
            }
            doc["components"]["securitySchemes"]["OAuth2ACG"]["x-imssf-revocationUrl"] = o + "/o/revoke"
        else:
            doc = {"@context": "https://purl.imsglobal.org/spec/ob/v2p1/ob_v2p1.jsonld",
                   "id": o + "/.well-known/badgeconnect.json",
                   "badgeConnectAPI": [{
                       "name": self.name, "image": o + "/logo.png", "apiBase": o + OB2_API, "version": "v2p1",
                       "termsOfServiceUrl": o + "/tos", "privacyPolicyUrl": o + "/privacy",
                       "scopesOffered": SCOPES["ob21"], "registrationUrl": o + "/o/register",
                       "authorizationUrl": o + "/o/authorize", "tokenUrl": o + "/o/token",
                       "tokenRevocationUrl": o + "/o/revoke"}]}
        patch = self.discovery_patch
        if callable(patch):
            doc = patch(doc)
        elif isinstance(patch, dict):
            doc = _merge(doc, patch)
        return doc

    # --- the Flask app --------------------------------------------------------------------
    def _build(self) -> Flask:
        partner = self
        app = Flask("fake_partner")
        app.config["SECRET_KEY"] = "fake-partner"
        server = AuthorizationServer(app, query_client=lambda cid: partner.clients.get(cid),
                                     save_token=self._save_token)

        def generate(grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True):
            token = {"token_type": "Bearer", "access_token": secrets.token_urlsafe(24),
                     "expires_in": partner.expires_in, "scope": scope or ""}
            if include_refresh_token and partner.gives_refresh_token(client, scope):
                token["refresh_token"] = secrets.token_urlsafe(32)
            return token

        server.register_token_generator("default", generate)

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic",)

            def save_authorization_code(self, code, req):
                partner.codes[code] = AuthCode(code, req.client.client_id, req.payload.redirect_uri,
                                               req.payload.scope, "learner",
                                               req.payload.data.get("code_challenge"),
                                               req.payload.data.get("code_challenge_method"))

            def query_authorization_code(self, code, client):
                found = partner.codes.get(code)
                return found if found and found.client_id == client.client_id else None

            def delete_authorization_code(self, authorization_code):
                partner.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code):
                return authorization_code.user

        class RefreshGrant(grants.RefreshTokenGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ("client_secret_basic",)
            INCLUDE_NEW_REFRESH_TOKEN = True  # rotation

            def authenticate_refresh_token(self, refresh_token):
                token = partner.refresh_tokens.get(refresh_token)
                return token if token and not token.refresh_revoked else None

            def authenticate_user(self, refresh_token):
                return refresh_token.user

            def revoke_old_credential(self, refresh_token):
                refresh_token.refresh_revoked = True
                refresh_token.access_revoked = True

        class Revocation(RevocationEndpoint):
            CLIENT_AUTH_METHODS = ("client_secret_basic",)

            def query_token(self, token_string, token_type_hint):
                return partner.access_tokens.get(token_string) or partner.refresh_tokens.get(token_string)

            def revoke_token(self, token, req):
                value = req.form.get("token")
                if value == token.refresh_token:
                    token.refresh_revoked = True
                token.access_revoked = True

        class Registration(ClientRegistrationEndpoint):
            def authenticate_token(self, req):
                return True  # open registration: no initial access token (OB 2.1/3.0)

            def get_server_metadata(self):
                return {"scopes_supported": SCOPES[partner.protocol],
                        "response_types_supported": ["code"],
                        "grant_types_supported": ["authorization_code", "refresh_token"],
                        "token_endpoint_auth_methods_supported": ["client_secret_basic"]}

            def extract_client_metadata(self, req):
                metadata = super().extract_client_metadata(req)
                if partner.registration_scope is not None:
                    metadata["scope"] = partner.registration_scope
                return metadata

            def save_client(self, client_info, client_metadata, req):
                client = Client(client_info["client_id"], client_info["client_secret"], dict(client_metadata))
                partner.clients[client.client_id] = client
                return client

        class Iss(IssuerParameter):
            def get_issuer(self):
                return partner.iss

        server.register_grant(CodeGrant, [CodeChallenge(required=self.PKCE_REQUIRED)])
        server.register_grant(RefreshGrant)
        server.register_endpoint(Revocation)
        server.register_endpoint(Registration)
        server.register_extension(Iss())

        @app.get("/ims/ob/v3p0/discovery")
        def ob3_discovery():
            if partner.protocol != "ob30":
                return _imsx(404, "not found")
            if partner.discovery_body is not None:
                return Response(partner.discovery_body, content_type="application/json")
            return jsonify(partner.discovery_document())

        @app.get("/.well-known/badgeconnect.json")
        def ob2_manifest():
            if partner.protocol != "ob21":
                return Response("not found", status=404)
            if partner.discovery_body is not None:
                return Response(partner.discovery_body, content_type="application/json")
            return jsonify(partner.discovery_document())

        @app.post("/o/register")
        def register():
            partner.registrations.append(json.loads(request.get_data() or b"{}"))
            return server.create_endpoint_response(Registration.ENDPOINT_NAME)

        @app.route("/o/authorize", methods=["GET", "POST"])
        def authorize():
            try:
                grant = server.get_consent_grant(end_user="learner")
            except OAuth2Error as error:
                return Response(f"<h1>Erreur</h1><p>{escape(error.error)}</p>", status=400,
                                content_type="text/html")
            if request.method == "POST":
                user = "learner" if request.form.get("confirm") == "yes" else None
                return server.create_authorization_response(grant_user=user)
            if partner.auto_approve:
                return server.create_authorization_response(grant_user="learner")
            client = grant.client
            action = "/o/authorize?" + urlencode(list(request.args.items(multi=True)))
            return Response(
                f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{escape(partner.name)}</title></head>
<body><main><h1>{escape(partner.name)}</h1>
<p>{escape(client.metadata.get("client_name", client.client_id))} demande à lire vos badges.</p>
<form method="post" action="{escape(action)}">
<button type="submit" name="confirm" value="yes">Autoriser</button>
<button type="submit" name="confirm" value="no">Refuser</button>
</form></main></body></html>""", content_type="text/html")

        @app.post("/o/token")
        def token():
            refreshing = request.form.get("grant_type") == "refresh_token"
            with partner._state_lock:
                partner.token_calls += 1
                if refreshing:
                    partner.refresh_calls += 1
                failure = partner._token_failures.pop(0) if partner._token_failures else None
            if refreshing:
                partner.refresh_started.set()
                if partner.hold_refresh is not None:
                    partner.hold_refresh.wait(10)
            if failure is not None:
                return jsonify({"error": failure[1]}), failure[0]
            refused = partner.refuse_token_request(request)
            if refused is not None:
                return refused
            return server.create_token_response()

        @app.post("/o/revoke")
        def revoke():
            partner.revocations.append(dict(request.form))
            return server.create_endpoint_response(Revocation.ENDPOINT_NAME)

        @app.get("/ims/ob/v3p0/credentials")
        def credentials():
            if partner.protocol != "ob30":
                return _imsx(404, "not found")
            return partner._page(OB3_READ, "/ims/ob/v3p0/credentials")

        @app.get(OB2_API + "/assertions")
        def assertions():
            if partner.protocol != "ob21":
                return Response("not found", status=404)
            return partner._page(OB2_READ, OB2_API + "/assertions")

        return app

    def _save_token(self, token: dict, req) -> None:
        saved = Token(token["access_token"], token.get("refresh_token"), req.client.client_id,
                      token.get("scope", ""), "learner", int(token.get("expires_in") or 3600))
        self.access_tokens[saved.access_token] = saved
        if saved.refresh_token:
            self.refresh_tokens[saved.refresh_token] = saved

    # --- hooks for partners that behave otherwise (tests/fakes/badgr_backpack.py) ----------------
    def gives_refresh_token(self, client: Client, scope: str | None) -> bool:
        """Whether a token response carries a refresh token: here, when offline_access was granted."""
        return "offline_access" in str(scope or "").split()

    def refuse_token_request(self, req) -> Response | None:
        """A response that refuses the token request before the OAuth server sees it, or None."""
        return None

    def _bearer(self, scope: str, header: str | None = None) -> Token | None:
        header = request.headers.get("Authorization", "") if header is None else header
        if not header.startswith("Bearer "):
            return None
        token = self.access_tokens.get(header[len("Bearer "):])
        if token is None or token.is_expired() or token.is_revoked() or scope not in token.scope.split():
            return None
        return token

    def _page(self, scope: str, path: str) -> Response:
        ob3 = self.protocol == "ob30"
        if self._bearer(scope) is None:
            if ob3:
                return _imsx(401, "unauthorised")
            return _ob2_status(401, "UNAUTHENTICATED")
        try:
            limit = max(1, min(int(request.args.get("limit", "50")), 100))
            offset = max(0, int(request.args.get("offset", "0")))
        except ValueError:
            return _imsx(400, "bad paging") if ob3 else _ob2_status(400, "REQUEST_VALIDATION_ERROR")
        failure = self._page_failures.get(offset)
        if failure is not None:
            status, retry_after = failure
            response = _imsx(status, "busy") if ob3 else _ob2_status(status, "BAD_REQUEST")
            if retry_after is not None:
                response.headers["Retry-After"] = retry_after
            return response
        held = self.held
        since = request.args.get("since")
        if since:
            moment = datetime.fromisoformat(since)
            held = [h for h in held if h.added_at > moment]
        total = len(held)
        chunk = [h.item for h in held[offset:offset + limit]]
        if ob3:
            body: dict[str, Any] = {"credential": [c for c in chunk if isinstance(c, dict)],
                                    self.jws_key: [c for c in chunk if isinstance(c, str)]}
        else:
            body = {"status": {"error": None, "statusCode": 200, "statusText": "OK"},
                    "assertions": [c for c in chunk if isinstance(c, dict)],
                    "signedAssertions": [c for c in chunk if isinstance(c, str)]}
        response = Response(json.dumps(body), content_type="application/ld+json" if ob3 else "application/json")
        response.headers["X-Total-Count"] = str(total)

        def link(at: int, rel: str) -> str:
            query = {"limit": str(limit), "offset": str(at)}
            if since:
                query["since"] = since
            return f'<{self.origin}{path}?{urlencode(query)}>; rel="{rel}"'

        links = [link(0, "first"), link(max(0, (total - 1) // limit * limit), "last")]
        if offset + limit < total:
            links.append(link(offset + limit, "next"))
        if offset > 0:
            links.append(link(max(0, offset - limit), "prev"))
        response.headers["Link"] = ", ".join(links)
        return response


def _imsx(status: int, description: str) -> Response:
    body = {"imsx_codeMajor": "failure", "imsx_severity": "error", "imsx_description": description}
    return Response(json.dumps(body), status=status, content_type="application/json")


def _ob2_status(status: int, text: str) -> Response:
    body = {"status": {"error": text.lower(), "statusCode": status, "statusText": text}}
    return Response(json.dumps(body), status=status, content_type="application/json")


def _merge(base: dict, patch: dict) -> dict:
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out
