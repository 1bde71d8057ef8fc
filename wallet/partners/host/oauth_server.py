"""The OAuth 2.0 authorization server of Badge Connect 2.1 (PROTOCOLS.md §5.1–5.2), on authlib's
server side: authorization code + PKCE S256 (required), refresh tokens (rotated), RFC 7591
registration (registration.py), RFC 7009 revocation, and the Bearer check of the API.

What Moodle 4.5 sends, and what this server therefore accepts (badges/classes/oauth2/client.php):
the token request for a code authenticates with HTTP Basic; the refresh sends `client_id` and
`client_secret` in the form (client_secret_post) although the client registered
`client_secret_basic`; the authorization request lacks the first offered scope (see common.py).

Every token, code and client secret is stored as a hash; the grants' callbacks below own their
transactions (one commit when a code is claimed, one when tokens are issued).
"""

from __future__ import annotations

import json
from typing import ClassVar

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import ClientMixin, InvalidRequestError, TokenMixin, grants
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask
from sqlalchemy import select, update

from ...db import get_session
from ...models import HostAccess, HostAuthorizationCode, HostClient, HostToken, User
from . import tokens
from .common import (
    ACCESS_TOKEN_SECONDS,
    BC_SCOPES,
    CODE_SECONDS,
    digest,
    new_secret,
    now,
    same_digest,
    scope_list,
)

CLIENT_AUTH = ["client_secret_basic", "client_secret_post"]


# --- authlib's views of our rows -------------------------------------------------------------------

class Client(ClientMixin):
    def __init__(self, row: HostClient) -> None:
        self.row = row
        self.redirect_uris = json.loads(row.redirect_uris or "[]")

    def get_client_id(self):
        return self.row.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0] if len(self.redirect_uris) == 1 else None

    def get_allowed_scope(self, scope):
        registered = scope_list(self.row.scope) or list(BC_SCOPES)
        if not scope:
            return " ".join(registered)
        allowed = [item for item in scope_list(scope) if item in registered]
        return " ".join(allowed) or None

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return same_digest(client_secret or "", self.row.secret_hash)

    def check_endpoint_auth_method(self, method, endpoint):
        return method in CLIENT_AUTH

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in ("authorization_code", "refresh_token")


class Code:
    def __init__(self, row: HostAuthorizationCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self):
        return self.row.redirect_uri

    def get_scope(self):
        return self.row.scope

    def get_auth_time(self):
        return int(self.row.created_at.timestamp())

    def get_nonce(self):
        return None


class Token(TokenMixin):
    def __init__(self, row: HostToken) -> None:
        self.row = row

    def check_client(self, client):
        return self.row.access.client_id is not None and self.row.access.client_id == client.row.id

    def get_scope(self):
        return self.row.scope

    def get_expires_in(self):
        return int((self.row.expires_at - self.row.issued_at).total_seconds())

    def is_expired(self):
        return self.row.expires_at <= now()

    def is_revoked(self):
        return self.row.revoked_at is not None or self.row.access.revoked_at is not None

    def get_user(self):
        return get_session().get(User, self.row.access.user_id)

    def get_client(self):
        client = self.row.access.client
        return Client(client) if client is not None else None


# --- grants -------------------------------------------------------------------------------------

class S256Only(CodeChallenge):
    """PKCE is mandatory in Badge Connect, and only S256 (authlib lets a request without a
    challenge through for confidential clients, and accepts `plain`)."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE (S256) is required.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH

    def save_authorization_code(self, code, request):
        session = get_session()
        data = request.payload.data
        session.add(HostAuthorizationCode(
            code_hash=digest(code), client_id=request.client.row.id, user_id=request.user.id,
            redirect_uri=request.payload.redirect_uri or request.client.get_default_redirect_uri(),
            scope=request.scope or "", code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method") or "S256", created_at=now()))
        session.commit()

    def query_authorization_code(self, code, client):
        session = get_session()
        row = session.scalar(select(HostAuthorizationCode).where(
            HostAuthorizationCode.code_hash == digest(code or ""), HostAuthorizationCode.client_id == client.row.id))
        if row is None:
            return None
        moment = now()
        # Claim the code atomically: two requests racing with one code get one answer between them.
        claimed = session.execute(update(HostAuthorizationCode).where(
            HostAuthorizationCode.id == row.id, HostAuthorizationCode.used_at.is_(None)).values(used_at=moment))
        if claimed.rowcount != 1:
            tokens.revoke_from_code(session, row.id, moment)  # a replayed code
            session.commit()
            return None
        session.commit()
        if (moment - row.created_at).total_seconds() > CODE_SECONDS:
            return None
        return Code(row)

    def delete_authorization_code(self, authorization_code):
        pass  # claimed (marked used) in query_authorization_code, kept to detect a replay

    def authenticate_user(self, authorization_code):
        return get_session().get(User, authorization_code.row.user_id)


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotated: the old refresh token is revoked on use

    def authenticate_refresh_token(self, refresh_token):
        row = tokens.by_refresh_token(get_session(), refresh_token, now())
        return Token(row) if row is not None else None

    def authenticate_user(self, refresh_token):
        return get_session().get(User, refresh_token.row.access.user_id)

    def revoke_old_credential(self, refresh_token):
        pass  # revoked in save_token, in the same transaction as the new tokens


# --- endpoints ------------------------------------------------------------------------------------

class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = CLIENT_AUTH

    def query_token(self, token_string, token_type_hint):
        row = tokens.find_any(get_session(), token_string, token_type_hint)
        return Token(row) if row is not None else None

    def revoke_token(self, token, request):
        session = get_session()
        tokens.revoke(session, token.row, now())
        session.commit()


def _query_client(client_id):
    if not client_id or len(client_id) > 64:
        return None
    row = get_session().scalar(select(HostClient).where(HostClient.client_id == client_id))
    return Client(row) if row is not None else None


def _save_token(token: dict, request) -> None:
    """Tokens issued for a code (under the learner's access to this client, created on first use)
    or for a refresh (under the same access; the old token revoked in the same commit)."""
    session = get_session()
    moment = now()
    old = getattr(request, "refresh_token", None)
    code = getattr(request, "authorization_code", None)
    if old is not None:
        access = old.row.access
        tokens.revoke(session, old.row, moment)
    else:
        client = request.client.row
        access = session.scalar(select(HostAccess).where(
            HostAccess.user_id == request.user.id, HostAccess.client_id == client.id,
            HostAccess.kind == "oauth", HostAccess.revoked_at.is_(None)))
        if access is None:
            access = HostAccess(user_id=request.user.id, kind="oauth", client_id=client.id,
                                label=client.name[:200], created_at=moment)
            session.add(access)
        access.scope = token.get("scope") or ""
        session.flush()
    tokens.store(session, access, token["access_token"], token.get("refresh_token"), token.get("scope") or "",
                 int(token.get("expires_in") or ACCESS_TOKEN_SECONDS), moment,
                 code_id=code.row.id if code is not None else None)
    session.commit()


class _Validator(BearerTokenValidator):
    def authenticate_token(self, token_string):
        row = tokens.by_access_token(get_session(), token_string, now())
        return Token(row) if row is not None else None


def build(app: Flask) -> tuple[AuthorizationServer, ResourceProtector]:
    """The authorization server and the API's Bearer check (kept in app.extensions)."""
    from .registration import Registration

    server = AuthorizationServer(query_client=_query_client, save_token=_save_token)
    server.scopes_supported = list(BC_SCOPES)
    server.register_token_generator("default", BearerTokenGenerator(
        access_token_generator=lambda *a, **k: new_secret(),
        refresh_token_generator=lambda *a, **k: new_secret(),
        expires_generator=lambda client, grant_type: ACCESS_TOKEN_SECONDS))
    server.register_grant(CodeGrant, [S256Only(required=True)])
    server.register_grant(RefreshGrant)
    server.register_endpoint(Revocation)
    server.register_endpoint(Registration(server, allow=app.config.get("FETCH_ALLOW") or ""))
    protector = ResourceProtector()
    protector.register_token_validator(_Validator())
    return server, protector
