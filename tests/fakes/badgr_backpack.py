"""A Badgr-like partner backpack on 127.0.0.1: badgr-server's Badge Connect side, as the wallet
meets it when a learner's badges sit on Badgr (PROTOCOLS.md §9.3).

Follows concentricsky/badgr-server at commit 2344c612223ff98984271620e6aff5f5746808dd (2021-01-25;
read, not copied): `apps/backpack/badge_connect_api.py` (manifest, redirect, pagination, assertion
list, profile), `apps/backpack/serializers_bcv1.py` (envelopes, assertion and profile shapes),
`apps/mainsite/oauth2_api.py` (RegistrationSerializer, TokenView), `apps/entity/views.py` and
`apps/entity/serializers.py` (the rfc7591 and bcv1 error bodies), `apps/mainsite/settings.py`
(scopes, 86400 s access tokens, STATIC_URL = HTTP_ORIGIN + "/static/"), `apps/mainsite/urls.py`.

    with BadgrBackpack() as badgr:                       # the API host; badgr.front is the web UI
        badgr.award("Premiers secours", "ana@example.org")   # a badge the learner holds there
        badgr.auto_approve = True                        # the UI's consent page redirects at once
        badgr.consent(authorization_url)                 # what the browser does: → callback URL

What it does as badgr-server does:
- `GET /.well-known/badgeconnect.json` → 302 → `/bcv1/manifest/<UI host>`: the `v1p0` draft
  manifest, `@context` https://w3id.org/openbadges/badgeconnect/v1, `apiBase` <API origin>/bcv1,
  `image` under STATIC_URL (hence its double slash), `registrationUrl` and `tokenUrl` on the API
  origin, `authorizationUrl` on the web front end (a SECOND loopback server, `badgr.front`), no
  `tokenRevocationUrl`; `/bcv1/manifest/<other host>` is 404.
- `POST /o/register` (RFC 7591 through a DRF serializer): every field required but the optional
  ones, `scope` made only of the three Badge Connect scopes (anything else, `offline_access`
  included, refuses the whole request: "Scope … not valid for automatic application registration.
  Badge Connect Scopes only"), client_secret_basic only, grant types among authorization_code and
  refresh_token, response_types exactly ["code"], one host for every URI; errors 400 as
  `{"error": "<field>: <message>", "error_description": "…; …"}`; 201 echoes the serializer's
  fields (grant_types comes back as its default ["authorization_code"], logo_uri as ""), with
  client_secret_expires_at 0. A refresh token is issued later only when refresh_token was among
  the registered grant types.
- The authorization page lives on the front end (`/auth/oauth2/authorize`); the scopes asked must
  be scopes the server knows; the redirect back carries code, state and `scope` (set_url_query_params
  in AuthorizationApiView), no `iss` (django-oauth-toolkit 1.3.2 has no RFC 9207). PKCE is verified
  when a challenge was sent (DOT's PKCE_REQUIRED is off by default).
- `POST /o/token`: form body, Basic client authentication; a scope not allowed for the client →
  400 `{"error": "invalid scope requested"}`; access tokens last 86400 s.
- `GET /bcv1/assertions?limit=&offset=&since=`: `{"status": {"error": null, "statusCode": 200,
  "statusText": "OK"}, "results": [ … ]}` (newest update first, `since` inclusive), each result the
  bcv1 serialization (badge as a URL, no `verification`), a `Link` header joined by "," with next,
  first, last and prev as BadgeConnectPagination computes them, no X-Total-Count; without a valid
  token 401 `{"status": {"error": null, "statusCode": 401, "statusText": "UNAUTHENTICATED"}}`.
- `GET /bcv1/profile` → `{"status": …, "results": [{"name", "email", "@context"}]}`.
- Each award is also served as badgr-server's public documents on the API origin
  (`/public/assertions/<id>`, `/public/badges/<id>`, `/public/issuers/<id>`, hosted OB 2.0).

Where it departs from badgr-server, for loopback: `http://` is accepted wherever Badgr demands
https, but only for 127.0.0.1 / localhost (the wallet under test lives at http://127.0.0.1); the
manifest's authorizationUrl is `http://` for the same reason (Badgr writes `https://<domain>`); the
client's logo is not downloaded at registration (badgr-server fetches it; "" is what it echoes when
that fails); badgr-server's own `/o/revoke_token/` (django-oauth-toolkit, never announced) is not
served.

Knobs: `auto_approve`, `refresh_tokens` (False: never a refresh token, whatever was registered),
`allowed_registration_scopes` (what registration accepts; an empty set refuses every scope),
`results_key` (rename "results" to test an unknown envelope), `expire_access_tokens()`,
`fail_page(offset, status, retry_after)` (from FakePartner).
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from werkzeug.wrappers import Request, Response

from tests.fakes.issuer_base import iso, publish_ob2
from tests.fakes.partner import OB2_READ, Client, FakePartner, Held
from tests.fakes.server import FakeServer
from wallet.openbadges.identity import hash_identity

BADGE_CONNECT_SCOPES = [
    OB2_READ,
    "https://purl.imsglobal.org/spec/ob/v2p1/scope/assertion.create",
    "https://purl.imsglobal.org/spec/ob/v2p1/scope/profile.readonly",
]
# OAUTH2_PROVIDER["SCOPES"] in settings.py: what an authorization request may name at all.
KNOWN_SCOPES = {"r:profile", "rw:profile", "r:backpack", "rw:backpack", "rw:issuer", "rw:issuer:*",
                "rw:serverAdmin", "r:assertions", *BADGE_CONNECT_SCOPES}
ACCESS_TOKEN_SECONDS = 86400
API = "/bcv1"
FRONT_AUTHORIZE = "/auth/oauth2/authorize"
CONTEXT_OB2 = "https://w3id.org/openbadges/v2"
_ALNUM = string.ascii_letters + string.digits  # DOT's client id / secret alphabet


@dataclass
class Award:
    entity_id: str
    email: str
    salt: str
    name: str
    issued_on: datetime
    updated_at: datetime


@dataclass
class BadgrBackpack(FakePartner):
    protocol: str = "ob21"
    name: str = "Badgr"

    PKCE_REQUIRED = False

    def __post_init__(self) -> None:
        super().__post_init__()
        self.front = FakeServer()
        self.expires_in = ACCESS_TOKEN_SECONDS
        self.iss = None
        self.refresh_tokens_enabled = True
        self.allowed_registration_scopes: set[str] = set(BADGE_CONNECT_SCOPES)
        self.results_key = "results"
        self.awards: list[Award] = []
        self.profile = {"name": "Ana Martin", "email": "ana@example.org"}
        self.route("/static//images/logo.png", _png((40, 90, 200)), content_type="image/png")
        self.route("/image.png", _png((0, 120, 60)), content_type="image/png")
        self.handler("/.well-known/badgeconnect.json", self._manifest_redirect)
        self.handler(self.manifest_path, self._manifest)
        self.handler("/o/register", self._register)
        self.handler(API + "/assertions", self._assertions)
        self.handler(API + "/profile", self._profile)
        self.front.handler(FRONT_AUTHORIZE, self._front_authorize)

    # --- lifecycle: two servers -------------------------------------------------------------
    def start(self):
        self.front.start()
        return super().start()

    def stop(self) -> None:
        super().stop()
        self.front.stop()

    @property
    def manifest_path(self) -> str:
        return f"{API}/manifest/{self.front.authority}"

    # --- what the learner holds there -----------------------------------------------------
    def award(self, name: str, email: str = "ana@example.org", *, issued_on: datetime | None = None) -> str:
        """Award a badge on this Badgr: its public documents are served, the learner's list shows
        it. Returns the assertion's id (its public URL)."""
        entity_id = "".join(secrets.choice(_ALNUM) for _ in range(22))
        badge_entity = "".join(secrets.choice(_ALNUM) for _ in range(22))
        salt = secrets.token_hex(16)
        moment = issued_on or datetime.now(UTC)
        url = publish_ob2(self, issuer_path="/public/issuers/ISSUER0000000000000001", issuer_name="Organisme (Badgr)",
                          badge_path=f"/public/badges/{badge_entity}", badge_name=name,
                          assertion_path=f"/public/assertions/{entity_id}", email=email, salt=salt,
                          issued_on=moment)
        award = Award(entity_id, email.strip().lower(), salt, name, moment, datetime.now(UTC))
        self.awards.append(award)
        self.held.append(Held(award.updated_at, self._bc_assertion(award, self.url(f"/public/badges/{badge_entity}"))))
        return url

    def _bc_assertion(self, award: Award, badge_url: str) -> dict:
        """BadgeConnectAssertionSerializer: fields in its order, then @context."""
        return {
            "id": self.url(f"/public/assertions/{award.entity_id}"),
            "badge": badge_url,
            "image": self.url(f"/media/uploads/badges/assertion-{award.entity_id}.png"),
            "recipient": {"identity": hash_identity(award.email, award.salt), "hashed": True, "type": "email",
                          "plaintextIdentity": award.email, "salt": award.salt},
            "issuedOn": iso(award.issued_on),
            "narrative": None,
            "evidence": [],
            "revoked": False,
            "revocationReason": None,
            "expires": None,
            "type": "Assertion",
            "@context": CONTEXT_OB2,
        }

    # --- the browser's side of the consent -------------------------------------------------
    def consent(self, authorization_url: str) -> str:
        """GET the authorization URL on the front end (auto-approve) like a browser: the absolute
        URL it sends the learner back to."""
        self.auto_approve = True
        parts = urlsplit(authorization_url)
        assert f"{parts.hostname}:{parts.port}" == self.front.authority, authorization_url
        response = self.front_client_get(parts.path + "?" + parts.query)
        assert response.status_code == 302, response.get_data(as_text=True)
        return response.headers["Location"]

    def front_client_get(self, path: str):
        from werkzeug.test import Client as TestClient

        return TestClient(self.front._app).get(path)

    # --- hooks of FakePartner ---------------------------------------------------------------
    def gives_refresh_token(self, client: Client, scope: str | None) -> bool:
        # TokenView drops refresh_token unless the application registered that grant type.
        return self.refresh_tokens_enabled and bool(client.metadata.get("issue_refresh_token"))

    def refuse_token_request(self, req) -> Response | None:
        if req.args:
            return _json({"error": "Token grant parameters must be sent in post body, not query parameters"}, 400)
        client = self.clients.get(_basic_client_id(req.headers.get("Authorization", "")) or "")
        if client is None:
            return _json({"error": "invalid client_id"}, 400)
        requested = [s for s in req.form.get("scope", "").split() if s]
        allowed = set(client.metadata.get("scope", "").split())
        if len(set(requested) & allowed) < len(requested):
            return _json({"error": "invalid scope requested"}, 400)
        return None

    # --- manifest ---------------------------------------------------------------------------
    def _manifest_redirect(self, request: Request) -> Response:
        return Response("", status=302, headers={"Location": self.url(self.manifest_path)})

    def manifest_document(self) -> dict:
        o = self.origin
        api = {
            "name": self.name,
            "image": f"{o}/static//images/logo.png",
            "apiBase": o + API,
            "version": "v1p0",
            "termsOfServiceUrl": "https://badgr.com/terms-of-service.html",
            "privacyPolicyUrl": "https://badgr.com/privacy-policy.html",
            "scopesOffered": BADGE_CONNECT_SCOPES,
            "registrationUrl": o + "/o/register",
            "authorizationUrl": self.front.url(FRONT_AUTHORIZE),
            "tokenUrl": o + "/o/token",
        }
        return {"id": o + self.manifest_path, "badgeConnectAPI": [api],
                "@context": "https://w3id.org/openbadges/badgeconnect/v1"}

    def _manifest(self, request: Request) -> Response:
        return _json(self.manifest_document())

    # --- registration -----------------------------------------------------------------------
    def _register(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            body = None
        self.registrations.append(body if isinstance(body, dict) else {})
        if not isinstance(body, dict):
            return _rfc7591({"non_field_errors": ["Invalid data. Expected a dictionary."]})
        errors = _registration_errors(body, self.allowed_registration_scopes)
        if errors:
            return _rfc7591(errors)
        client_id = "".join(secrets.choice(_ALNUM) for _ in range(40))
        secret = "".join(secrets.choice(_ALNUM) for _ in range(128))
        grant_types = body.get("grant_types") or ["authorization_code"]
        scope = body.get("scope") or " ".join(BADGE_CONNECT_SCOPES)
        self.clients[client_id] = Client(client_id, secret, {
            "redirect_uris": list(body["redirect_uris"]), "scope": scope,
            "grant_types": ["authorization_code", "refresh_token"],  # DOT: refresh allowed for code apps
            "client_name": body["client_name"], "issue_refresh_token": "refresh_token" in grant_types})
        answer = {
            "client_name": body["client_name"], "client_uri": body["client_uri"], "logo_uri": "",
            "tos_uri": body["tos_uri"], "policy_uri": body["policy_uri"], "software_id": body["software_id"],
            "software_version": body["software_version"], "redirect_uris": list(body["redirect_uris"]),
            "token_endpoint_auth_method": "client_secret_basic", "grant_types": ["authorization_code"],
            "response_types": ["code"], "scope": scope, "client_id": client_id, "client_secret": secret,
            "client_id_issued_at": int(datetime.now(UTC).timestamp()), "client_secret_expires_at": 0,
        }
        return _json(answer, 201)

    # --- the web front end: consent, then back to the client ---------------------------------
    def _front_authorize(self, request: Request) -> Response:
        query = list(request.args.items(multi=True))
        unknown = [s for s in request.args.get("scope", "").split() if s not in KNOWN_SCOPES]
        if unknown:
            return Response(f"<h1>Erreur</h1><p>invalid_scope: {unknown[0]}</p>", status=400, content_type="text/html")
        api = self.flask.test_client()  # the UI calls the API's /o/authorize with the learner's session
        if request.method == "POST":
            answer = api.post("/o/authorize?" + urlencode(query), data={"confirm": request.form.get("confirm", "no")})
        elif self.auto_approve:
            answer = api.get("/o/authorize?" + urlencode(query))
        else:
            answer = api.get("/o/authorize?" + urlencode(query))
            if answer.status_code != 200:
                return Response(answer.get_data(), status=answer.status_code, content_type="text/html")
            client = self.clients[request.args["client_id"]]
            page = CONSENT.format(name=self.name, client=_escape(client.metadata["client_name"]),
                                  action=_escape(FRONT_AUTHORIZE + "?" + urlencode(query)))
            return Response(page, content_type="text/html")
        if answer.status_code != 302:
            return Response(answer.get_data(), status=answer.status_code, content_type="text/html")
        # AuthorizationApiView.get_authorization_redirect_url adds the granted scope to the URL.
        return Response("", status=302, headers={"Location": _with_param(
            answer.headers["Location"], "scope", request.args.get("scope", ""))})

    # --- Badge Connect API ------------------------------------------------------------------
    def _authorized(self, request: Request, scopes: tuple[str, ...]) -> bool:
        header = request.headers.get("Authorization", "")
        return any(self._bearer(scope, header) is not None for scope in scopes)

    def _assertions(self, request: Request) -> Response:
        if not self._authorized(request, (OB2_READ, "r:backpack", "rw:backpack")):
            return _bc_status(401, "UNAUTHENTICATED")
        limit = _positive(request.args.get("limit"), 100)  # REST_FRAMEWORK PAGE_SIZE
        offset = _positive(request.args.get("offset"), 0, zero=True)
        failure = self._page_failures.get(offset)
        if failure is not None:
            status, retry_after = failure
            response = _bc_status(status, "BAD_REQUEST")
            if retry_after is not None:
                response.headers["Retry-After"] = retry_after
            return response
        held = sorted(self.held, key=lambda h: h.added_at, reverse=True)  # order_by('-updated_at')
        since = request.args.get("since")
        if since:
            moment = datetime.fromisoformat(since)
            held = [h for h in held if h.added_at >= moment]
        count = len(held)
        body = {"status": {"error": None, "statusCode": 200, "statusText": "OK"},
                self.results_key: [h.item for h in held[offset:offset + limit]]}
        response = _json(body)
        response.headers["Link"] = _bc_links(request.url, count, limit, offset)
        return response

    def _profile(self, request: Request) -> Response:
        if not self._authorized(request, ("https://purl.imsglobal.org/spec/ob/v2p1/scope/profile.readonly",
                                          "r:backpack", "rw:backpack")):
            return _bc_status(401, "UNAUTHENTICATED")
        return _json({"status": {"error": None, "statusCode": 200, "statusText": "OK"},
                      "results": [{**self.profile, "@context": CONTEXT_OB2}]})


CONSENT = """<!doctype html><html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{name}</title></head>
<body><main><h1>{name}</h1>
<p>{client} demande à lire vos badges.</p>
<form method="post" action="{action}">
<button type="submit" name="confirm" value="yes">Autoriser</button>
<button type="submit" name="confirm" value="no">Refuser</button>
</form></main></body></html>"""


# --- RegistrationSerializer, field by field -----------------------------------------------------

REQUIRED = ("client_name", "client_uri", "logo_uri", "tos_uri", "policy_uri", "software_id", "software_version",
            "redirect_uris")
HTTPS_URIS = ("client_uri", "logo_uri", "tos_uri", "policy_uri")
SCOPE_REFUSED = "Scope {} not valid for automatic application registration. Badge Connect Scopes only"


def _https(value: Any) -> str | None:
    """URLField + httpsUrlValidator (http tolerated for loopback hosts only: see the docstring)."""
    if not isinstance(value, str) or not value:
        return "This field may not be blank."
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return "Enter a valid URL."
    if parts.scheme != "https" and parts.hostname not in ("127.0.0.1", "localhost"):
        return "Must be a valid HTTPS URI"
    return None


def _registration_errors(body: dict, allowed_scopes: set[str]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name in REQUIRED:
        if body.get(name) in (None, ""):
            errors[name] = ["This field is required."]
    for name in HTTPS_URIS:
        if name not in errors and (problem := _https(body[name])):
            errors[name] = [problem]
    uris = body.get("redirect_uris")
    if "redirect_uris" not in errors:
        if not isinstance(uris, list):
            errors["redirect_uris"] = ['Expected a list of items but got type "str".']
        elif any(_https(u) for u in uris):
            errors["redirect_uris"] = [next(p for u in uris if (p := _https(u)))]
    if body.get("token_endpoint_auth_method", "client_secret_basic") != "client_secret_basic":
        errors["token_endpoint_auth_method"] = ["Invalid token authentication method. Only client_secret_basic allowed."]
    grants = body.get("grant_types", ["authorization_code"])
    if "authorization_code" not in grants:
        errors["grant_types"] = ["Missing authorization_code grant type"]
    elif any(g not in ("authorization_code", "refresh_token") for g in grants):
        errors["grant_types"] = ["Invalid grant types. Only authorization_code and refresh_token supported"]
    if body.get("response_types", ["code"]) != ["code"]:
        errors["response_types"] = ["Invalid response type"]
    scope = body.get("scope")
    if scope:
        for item in str(scope).split(" "):
            if item not in BADGE_CONNECT_SCOPES or item not in allowed_scopes:
                errors["scope"] = [SCOPE_REFUSED.format(item)]
                break
    elif not allowed_scopes:  # the knob: this server grants nothing at all
        errors["scope"] = [SCOPE_REFUSED.format("")]
    if not errors:  # RegistrationSerializer.validate: one host for every URI
        hosts = {urlsplit(body[n]).netloc for n in HTTPS_URIS} | {urlsplit(u).netloc for u in uris}
        if len(hosts) > 1:
            errors["non_field_errors"] = ["client_uri, logo_uri, tos_uri, policy_uri, redirect_uris do not match domain."]
    # DRF keeps the serializer's field order.
    order = [*REQUIRED, "token_endpoint_auth_method", "grant_types", "response_types", "scope", "non_field_errors"]
    return {name: errors[name] for name in order if name in errors}


def _rfc7591(field_errors: dict[str, list[str]]) -> Response:
    """Rfc7591ErrorSerializer: the first error, and all of them joined."""
    errors = [f"{name}: {messages[0]}" for name, messages in field_errors.items()]
    return _json({"error": errors[0], "error_description": "; ".join(errors)}, 400)


# --- helpers ------------------------------------------------------------------------------------

def _json(doc: Any, status: int = 200) -> Response:
    return Response(json.dumps(doc), status=status, content_type="application/json")


def _bc_status(status: int, text: str) -> Response:
    return _json({"status": {"error": None, "statusCode": status, "statusText": text}}, status)


def _basic_client_id(header: str) -> str | None:
    import base64

    kind, _, value = header.partition(" ")
    if kind != "Basic":
        return None
    try:
        return base64.b64decode(value.encode("ascii")).decode("ascii").split(":")[0]
    except (ValueError, UnicodeError):
        return None


def _positive(value: str | None, default: int, zero: bool = False) -> int:
    """DRF's _positive_int with a fallback to the default, as LimitOffsetPagination does."""
    try:
        number = int(value or "")
    except ValueError:
        return default
    return number if number > 0 or (zero and number == 0) else default


def _with_param(url: str, key: str, value: str) -> str:
    """DRF's replace_query_param: the parameter replaced, the query sorted."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query[key] = value
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(sorted(query.items())), parts.fragment))


def _bc_links(url: str, count: int, limit: int, offset: int) -> str:
    """BadgeConnectPagination.get_paginated_response, quirks included (last, prev)."""
    def at(value: int) -> str:
        return _with_param(_with_param(url, "limit", str(limit)), "offset", str(value))

    links = []
    if offset + limit < count:
        links.append(f'<{at(offset + limit)}>; rel="next"')
    links.append(f'<{at(0)}>; rel="first"')
    last = count // limit
    if last != 0 and count % (last * limit) == 0:
        last -= 1
    links.append(f'<{at(last * limit)}>; rel="last"')
    if offset > 0:
        links.append(f'<{at(offset - limit)}>; rel="prev"')
    return ",".join(links)


def _png(color: tuple[int, int, int]) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 32), color).save(out, format="PNG")
    return out.getvalue()


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))
