"""A Moodle-like CLIENT of an external backpack: the request sequences Moodle 4.5 performs when a
learner connects their badge backpack and sends a badge to it, replayed over real HTTP.

Facts, read in Moodle's own code (moodle/moodle, 4.5 line; read, not copied):
- "Open Badges v2.0" mode (Badgr's API): badges/classes/backpack_api.php (mappings `user`,
  `collections`, `importbadge`), badges/classes/backpack_api_mapping.php (`get_url`, `request`,
  `oauth_token_response`), badges/backpack-add.php (the push: `import_badge_assertion($assertion['id'])`),
  badges/classes/external/assertion_exporter.php (`map_external_data`).
  * login: POST `<scheme>://<host>/o/token` — the API URL's PATH and PORT are dropped
    (`[SCHEME]://[HOST]/o/token`, parse_url's host has no port) — form body `username=&password=`,
    no grant_type, no client id, headers `Accept: application/json` and an empty `Expect:`;
    the answer must hold `access_token` AND `refresh_token`; `expires_in` defaults to 15 min;
    `error_description` is what Moodle shows when the login fails. Moodle never refreshes here.
  * every JSON answer: `result` is unwrapped when present; a single-object call then does
    `count($response)` (a TypeError in PHP 8 for anything but an array) and takes `[0]`.
  * connect: `GET [URL]/backpack/collections`; push: `POST [URL]/backpack/import` `{"url": …}`.
- "Open Badges v2.1" mode (Badge Connect): lib/classes/oauth2/discovery/imsbadgeconnect.php
  (discovery: the LAST `badgeConnectAPI` element, every key ending in `Url` becomes an endpoint,
  `scopesOffered` joined by spaces; `register()`: the registration body), badges/classes/oauth2/
  client.php (`get_login_url`: the first scope is left out — see `moodle_scopes`; PKCE S256;
  `upgrade_token`: HTTP Basic for the code, client id/secret IN THE FORM for the refresh; HTTP 200
  and `access_token`, `expires_in`, `refresh_token`, `scope` are needed), badges/classes/
  backpack_api2p1.php (`put_assertions`: `{"assertion": <the hosted assertion JSON>}`; success is
  `status.statusCode == 200` after `result` was unwrapped), backpack_api2p1_mapping.php.

Test knob, not Moodle: the real Moodle drops the port of the backpack URL; a loopback wallet has
one, so `token_port` puts it back into the token URL (and only there). Tests also assert that the
wallet's token endpoint is at the root path, which is what the real Moodle needs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

MOODLE_VERSION = "2024100700"  # $CFG->version of Moodle 4.5.0
# Moodle's curl class turns a params array into a query string; libcurl then sends it with this type.
FORM = "application/x-www-form-urlencoded"


class MoodleError(Exception):
    """What the real Moodle would show as an error (or die of)."""


@dataclass
class Sent:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int
    answer: bytes


@dataclass
class _Http:
    sent: list[Sent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.session = requests.Session()
        self.session.trust_env = False

    def call(self, method: str, url: str, *, headers: dict[str, str], data: bytes | str | None = None,
             auth: tuple[str, str] | None = None) -> requests.Response:
        response = self.session.request(method, url, headers=headers, data=data, auth=auth, timeout=30,
                                        allow_redirects=True)
        request = response.request
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        self.sent.append(Sent(method, url, dict(request.headers), body, response.status_code, response.content))
        return response


def _decode(response: requests.Response) -> Any:
    """PHP's json_decode: null for anything that is not JSON."""
    try:
        return json.loads(response.content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _unwrap(answer: Any) -> Any:
    if isinstance(answer, dict) and "result" in answer and answer["result"] is not None:
        return answer["result"]
    return answer


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def base64url(data: bytes) -> str:
    return base64.b64encode(data).decode().strip("=").translate(str.maketrans("+/", "-_"))


def moodle_scopes(scopes_supported: str) -> str:
    """get_login_url(): for each of 'profile' and 'openid', `$key = array_search(...)` is false when
    the scope is absent, `isset($key)` is still true, and `unset($scopes[false])` unsets key 0: the
    FIRST offered scope is dropped (once; the second unset finds key 0 gone)."""
    items = dict(enumerate(scopes_supported.split(" ")))  # a PHP array keeps its keys
    for excluded in ("profile", "openid"):
        key = next((k for k, v in items.items() if v == excluded), False)
        items.pop(0 if key is False else key, None)
    return " ".join(items.values())


# --- "Open Badges v2.0" mode: Badgr's v2 API with the learner's email and (app) password ----------

@dataclass
class Ob20Backpack:
    api_url: str                 # the backpack API URL the admin typed, e.g. https://wallet.example/v2
    email: str
    password: str
    token_port: int | None = None  # TEST KNOB: the real Moodle drops the port (see module docstring)
    http: _Http = field(default_factory=_Http)
    access_token: str | None = None
    refresh_token: str | None = None
    expires: float = 0.0
    authentication_error: str = ""

    def token_url(self) -> str:
        parts = urlsplit(self.api_url)
        host = parts.hostname + (f":{self.token_port}" if self.token_port else "")
        return f"{parts.scheme}://{host}/o/token"

    def _headers(self, json_body: bool) -> dict[str, str]:
        headers = {"Accept": "application/json", "Expect": ""}
        if json_body:
            headers["Content-type"] = "application/json"
        if self.access_token:
            headers["Authorization"] = "Bearer " + self.access_token
        return headers

    def authenticate(self, now: float | None = None) -> bool:
        """backpack_api::authenticate(): reuse a token that has not expired, else log in."""
        moment = time.time() if now is None else now
        if self.access_token and self.expires > moment:
            return True
        response = self.http.call("POST", self.token_url(), headers={"Accept": "application/json", "Expect": "",
                                                                     "Content-Type": FORM},
                                  data=urlencode({"username": self.email, "password": self.password}))
        answer = _decode(response)
        if isinstance(answer, dict) and "access_token" in answer and "refresh_token" in answer:
            self.access_token, self.refresh_token = answer["access_token"], answer["refresh_token"]
            self.expires = moment + int(answer.get("expires_in") or 15 * 60)
            return True
        self.authentication_error = answer.get("error_description", "") if isinstance(answer, dict) else ""
        return False

    def collections(self) -> list:
        """The connection check after Moodle's own e-mail verification: a list (maybe empty)."""
        if not self.authenticate():
            raise MoodleError(self.authentication_error or "authentication failed")
        response = self.http.call("GET", self.api_url + "/backpack/collections", headers=self._headers(True))
        result = _unwrap(_decode(response))
        if not result:
            return []
        if not isinstance(result, list):
            raise MoodleError("collections: result is not a list")
        return [{"id": item.get("entityId", item.get("id"))} for item in result]

    def import_badge(self, assertion_url: str) -> dict:
        """backpack-add.php: import_badge_assertion(<hosted assertion URL>) → the mapped assertion.
        Raises MoodleError with the messages Moodle shows (DUPLICATE_BADGE → "already there")."""
        if not self.authenticate():
            raise MoodleError(self.authentication_error or "authentication failed")
        response = self.http.call("POST", self.api_url + "/backpack/import", headers=self._headers(True),
                                  data=json.dumps({"url": assertion_url}))
        raw = response.content.decode("utf-8", "replace")
        result = _unwrap(_decode(response))
        if result is not None and not isinstance(result, list):
            raise MoodleError("TypeError: count(): Argument #1 ($value) must be of type Countable|array")
        if not result:
            if "DUPLICATE_BADGE" in raw:
                raise MoodleError("existsinbackpack")
            raise MoodleError("cannotsendtobackpack: " + raw[:500])
        first = result[0]
        mapped = {"type": first.get("entityType", first.get("type")),
                  "id": first.get("entityId", first.get("id")), "issuedOn": first.get("issuedOn")}
        if not _is_url(mapped["id"]):
            mapped["id"] = ""  # PARAM_URL cleaning
        return mapped


# --- "Open Badges v2.1" mode: Badge Connect ---------------------------------------------------------

@dataclass
class Ob21Backpack:
    web_url: str                 # the backpack URL the admin typed (the OAuth 2 issuer's base URL)
    wwwroot: str                 # this Moodle's own root URL
    site_name: str = "Centre de formation Exemple"
    http: _Http = field(default_factory=_Http)
    endpoints: dict[str, str] = field(default_factory=dict)
    api_base: str = ""
    scopes_supported: str = ""
    client_id: str = ""
    client_secret: str = ""
    state: str = ""
    code_verifier: str = ""
    token: dict[str, Any] = field(default_factory=dict)

    @property
    def callback_url(self) -> str:
        return self.wwwroot.rstrip("/") + "/admin/oauth2callback.php"

    def discover(self) -> dict:
        url = self.web_url.rstrip("/") + "/.well-known/badgeconnect.json"
        info = _decode(self.http.call("GET", url, headers={"Accept": "application/json"}))
        if not isinstance(info, dict) or not isinstance(info.get("badgeConnectAPI"), list):
            raise MoodleError("discovery: no badgeConnectAPI")
        element = info["badgeConnectAPI"][-1]  # array_pop()
        for key, value in element.items():
            if key.endswith("Url") and value:
                self.endpoints[key[: -len("Url")].lower() + "_endpoint"] = value
            elif key == "scopesOffered":
                self.scopes_supported = " ".join(value)
        self.api_base = element.get("apiBase", "")
        return element

    def register(self) -> dict:
        host = self.wwwroot.rstrip("/") + "/"
        body = {"client_name": self.site_name, "client_uri": host, "logo_uri": host + "pix/f/moodle-256.png",
                "tos_uri": host, "policy_uri": host, "software_id": "moodle", "software_version": MOODLE_VERSION,
                "redirect_uris": [host + "admin/oauth2callback.php"],
                "token_endpoint_auth_method": "client_secret_basic",
                "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
                "scope": self.scopes_supported.replace("\r", " ")}
        response = self.http.call("POST", self.endpoints["registration_endpoint"],
                                  headers={"Content-type": "application/json", "Accept": "application/json"},
                                  data=json.dumps(body))
        answer = _decode(response)
        if not isinstance(answer, dict) or "client_id" not in answer:
            raise MoodleError("Could not self-register identity issuer. Invalid response " + response.text[:300])
        self.client_id, self.client_secret = answer["client_id"], answer["client_secret"]
        return answer

    def login_url(self) -> str:
        self.state = secrets.token_urlsafe(8)[:10]  # sesskey()
        self.code_verifier = base64url(secrets.token_bytes(43))
        challenge = base64url(hashlib.sha256(self.code_verifier.encode()).digest())
        params = {"client_id": self.client_id, "response_type": "code", "redirect_uri": self.callback_url,
                  "state": self.state, "scope": moodle_scopes(self.scopes_supported),
                  "code_challenge": challenge, "code_challenge_method": "S256"}
        return self.endpoints["authorization_endpoint"] + "?" + urlencode(params)

    def code_from(self, location: str) -> str:
        """admin/oauth2callback.php: the code back from the backpack (state checked)."""
        parts = urlsplit(location)
        if parts.scheme + "://" + parts.netloc + parts.path != self.callback_url:
            raise MoodleError("redirected elsewhere: " + location)
        query = parse_qs(parts.query)
        if query.get("state") != [self.state]:
            raise MoodleError("state mismatch")
        if "error" in query:
            raise MoodleError("authorization refused: " + query["error"][0])
        return query["code"][0]

    def _token_request(self, params: dict[str, str | None], basic: bool, now: float | None) -> dict:
        data = urlencode({key: value for key, value in params.items() if value is not None})
        auth = (self.client_id, self.client_secret) if basic else None
        response = self.http.call("POST", self.endpoints["token_endpoint"], headers={"Content-Type": FORM},
                                  data=data, auth=auth)
        if response.status_code != 200:
            raise MoodleError(f"oauth2refreshtokenerror {response.status_code} {response.text[:300]}")
        answer = _decode(response)
        if answer is None:
            raise MoodleError("Could not decode JSON token response")
        if answer.get("error"):
            raise MoodleError(answer["error"] + " " + str(answer.get("error_description")))
        for name in ("access_token", "expires_in", "refresh_token", "scope"):
            if name not in answer:
                raise MoodleError(f"token answer without {name}")
        moment = time.time() if now is None else now
        self.token = {"token": answer["access_token"], "expires": moment + int(answer["expires_in"]) - 10,
                      "refreshtoken": answer["refresh_token"], "scope": answer["scope"]}
        return answer

    def upgrade_token(self, code: str, now: float | None = None) -> dict:
        scope = self.token.get("scope")  # get_scopes(): no grant scope, no stored token yet → null
        return self._token_request({"code": code, "grant_type": "authorization_code",
                                    "redirect_uri": self.callback_url, "scope": scope,
                                    "code_verifier": self.code_verifier}, True, now)

    def refresh(self, now: float | None = None) -> dict:
        return self._token_request({"refresh_token": self.token["refreshtoken"], "grant_type": "refresh_token",
                                    "scope": self.token.get("scope"), "client_id": self.client_id,
                                    "client_secret": self.client_secret}, False, now)

    def is_logged_in(self, now: float | None = None) -> bool:
        moment = time.time() if now is None else now
        if self.token.get("expires") is not None and moment >= self.token["expires"]:
            self.refresh(now)
        return bool(self.token.get("token") and self.token.get("scope"))

    def export(self, assertion: dict, now: float | None = None) -> dict:
        """put_assertions(): the full hosted assertion; a dict {"ok", "error", "answer"}."""
        if not self.is_logged_in(now):
            raise MoodleError("backpackexporterror")
        headers = {"Authorization": "Bearer " + self.token["token"], "Content-type": "application/json",
                   "Accept": "application/json", "Expect": ""}
        response = self.http.call("POST", self.api_base + "/assertions", headers=headers,
                                  data=json.dumps({"assertion": assertion}))
        answer = _unwrap(_decode(response))
        status = answer.get("status") if isinstance(answer, dict) else None
        if isinstance(status, dict) and status.get("statusCode") == 200:
            return {"ok": True, "error": None, "answer": answer}
        error = status.get("error") if isinstance(status, dict) else (answer or {}).get("error", "Empty response")
        return {"ok": False, "error": error, "answer": answer}
