"""RFC 7591 dynamic client registration for Badge Connect 2.1 (PROTOCOLS.md §5.1), on authlib's
ClientRegistrationEndpoint.

Registration is open, as the 2.1 profile says (no initial access token); what a client gets is
only the right to ask a learner. The rules: grant types `authorization_code` (+ `refresh_token`),
response type `code`, `client_secret_basic` at registration; `redirect_uris` required, all https
(plain http only for a host:port in WALLET_FETCH_ALLOW — tests and demos), no fragment, one host
name for all of them. A requested scope outside Badge Connect's is dropped, not refused (the client
copes with a reduced scope, §5.1). What Moodle 4.5 sends: lib/classes/oauth2/discovery/
imsbadgeconnect.php `register()` — client_name = the site's full name, every URI = wwwroot,
redirect_uris = [wwwroot + "admin/oauth2callback.php"], the offered scopes space-separated.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from authlib.oauth2.rfc7591 import (
    ClientRegistrationEndpoint,
    InvalidClientMetadataError,
    InvalidRedirectURIError,
)

from ...db import get_session
from ...http import parse_allow
from ...models import HostClient
from .common import BC_SCOPES, digest, new_secret, now

URI_FIELDS = ("client_uri", "logo_uri", "tos_uri", "policy_uri")
MAX_REDIRECT_URIS = 5


class Registration(ClientRegistrationEndpoint):
    def __init__(self, server, allow: str = "") -> None:
        super().__init__(server)
        self.allow = parse_allow(allow)

    def authenticate_token(self, request):
        return True  # Badge Connect 2.1: no initial access token

    def get_server_metadata(self):
        return {"grant_types_supported": ["authorization_code", "refresh_token"],
                "response_types_supported": ["code"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"]}

    def generate_client_id(self, request):
        return new_secret(24)

    def generate_client_secret(self, request):
        return new_secret(32)

    def extract_client_metadata(self, request):
        data = request.payload.data
        if not isinstance(data, dict):
            raise InvalidClientMetadataError("The registration must be a JSON object.")
        offered = [item for item in str(data.get("scope") or "").split() if item in BC_SCOPES]
        data["scope"] = " ".join(dict.fromkeys(offered)) or " ".join(BC_SCOPES)
        data.setdefault("grant_types", ["authorization_code"])
        data.setdefault("response_types", ["code"])
        metadata = super().extract_client_metadata(request)
        self._check_uris(metadata)
        return metadata

    def _allowed_url(self, url: object) -> bool:
        if not isinstance(url, str) or len(url) > 2048:
            return False
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return False
        if parts.fragment or parts.username or parts.password or not parts.hostname:
            return False
        if parts.scheme == "https":
            return True
        return parts.scheme == "http" and (parts.hostname, port or 80) in self.allow

    def _check_uris(self, metadata: dict) -> None:
        uris = metadata.get("redirect_uris")
        if not isinstance(uris, list) or not uris or len(uris) > MAX_REDIRECT_URIS:
            raise InvalidRedirectURIError("Give one to five https redirect_uris.")
        if not all(self._allowed_url(uri) for uri in uris):
            raise InvalidRedirectURIError("Every redirect URI must be an https URL without a fragment.")
        if len({urlsplit(uri).hostname for uri in uris}) != 1:
            raise InvalidRedirectURIError("All redirect URIs must share one host name.")
        for name in URI_FIELDS:
            if metadata.get(name) is not None and not self._allowed_url(metadata[name]):
                raise InvalidClientMetadataError(f"{name} must be an https URL.")
        grant_types = metadata.get("grant_types") or []
        if "authorization_code" not in grant_types:
            raise InvalidClientMetadataError("grant_types must include authorization_code.")

    def save_client(self, client_info, client_metadata, request):
        session = get_session()
        redirect_uris = client_metadata["redirect_uris"]
        name = str(client_metadata.get("client_name") or urlsplit(redirect_uris[0]).hostname or "")
        row = HostClient(client_id=client_info["client_id"], secret_hash=digest(client_info["client_secret"]),
                         name=" ".join(name.split())[:200],
                         **{field: client_metadata.get(field) for field in URI_FIELDS},
                         software_id=str(client_metadata.get("software_id") or "")[:200],
                         software_version=str(client_metadata.get("software_version") or "")[:100],
                         redirect_uris=json.dumps(redirect_uris), scope=client_metadata.get("scope") or "",
                         created_at=now())
        session.add(row)
        session.commit()
        return row
