"""Partner backpacks: registration by Region staff, the learner's OAuth connection, syncs, disconnect.

Network calls (discovery, registration, tokens, pages, revocation) never run inside a database
transaction: each step reads what it needs, ends the read, talks to the partner, then writes in a
short transaction of its own. Badges are imported one by one through `badges.import_text`, which
commits each badge: a sync cut short by the partner keeps what it already imported.

Secrets (client secret, PKCE verifier, access and refresh tokens) are encrypted at rest with
`wallet.crypto` and never leave this module in clear except towards the partner they belong to.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import crypto
from ..importers import backpack as client
from ..importers.backpack import Endpoints, PartnerError
from ..models import Connection, OAuthFlow, PartnerBackpack, User, utcnow
from ..openbadges.fetching import MemoFetcher
from . import badges, images

log = logging.getLogger("wallet.connections")

FLOW_LIFETIME = timedelta(minutes=10)
SYNC_INTERVAL = timedelta(hours=24)
RETRY_DELAY = timedelta(seconds=client.DEFAULT_RETRY_SECONDS)
LEASE = timedelta(seconds=60)
TOKEN_MARGIN = timedelta(seconds=30)
MAX_PAGES = 1000
SOFTWARE_ID = "7c1e5a2e-2b1f-4a39-9d0e-4f1b6f0a9c31"  # stable across installs (RFC 7591 software_id)

# Tests replace it to observe a refresher waiting for another one's lease.
_pause = time.sleep


class ConnectionProblem(Exception):
    """A step of the learner's journey that cannot go on; `message` is for the person."""

    def __init__(self, code: str, status: int = 400, **params: Any) -> None:
        self.code = code
        self.status = status
        self.params = params
        super().__init__(code)

    @property
    def message(self) -> str:
        return message_for(self.code, self.params)


@dataclass(frozen=True)
class SyncResult:
    partner: str
    connection_id: int
    items: list[badges.ImportItem] = field(default_factory=list)
    complete: bool = True
    error: str | None = None
    retry_at: datetime | None = None

    @property
    def imported(self) -> int:
        return sum(1 for item in self.items if item.outcome in ("imported", "not_yours"))


# ------------------------------------------------------------------------------------ messages

MESSAGES = {
    "url_refused": _l("L'adresse « %(url)s » (%(field)s) a été refusée : elle n'est pas sûre (adresse privée, "
                      "protocole non autorisé ou port inhabituel). Vérifiez l'adresse du partenaire."),
    "other_origin": _l("Le document du partenaire pointe vers un autre site (« %(url)s », %(field)s). Par "
                       "sécurité, toutes ses adresses doivent être sur le site du partenaire. Contactez-le."),
    "too_large": _l("Le document de découverte du partenaire est trop volumineux (plus de %(max_kib)s Kio). "
                    "Contactez le partenaire."),
    "not_json": _l("Le document de découverte du partenaire est illisible. Vérifiez l'adresse ou contactez "
                   "le partenaire."),
    "bad_document": _l("Le document de découverte du partenaire est incomplet (champ %(field)s). Contactez "
                       "le partenaire."),
    "issuer_mismatch": _l("Le partenaire déclare une autre identité (« %(declared)s ») que son adresse "
                          "(« %(expected)s »). Par sécurité, il n'a pas été enregistré."),
    "no_protocol": _l("Aucun service Open Badges 3.0 ni Badge Connect 2.1 n'a été trouvé à cette adresse. "
                      "Vérifiez l'adresse de base du partenaire."),
    "unreachable": _l("Le partenaire n'a pas pu être joint. Réessayez plus tard."),
    "registration_failed": _l("Le partenaire a refusé l'inscription du portefeuille (%(error)s). Contactez-le."),
    "scope_refused": _l("Le partenaire n'accorde pas la lecture des badges. Contactez-le."),
    "secret_expired": _l("Le partenaire a donné un secret déjà expiré. Réessayez ou contactez-le."),
    "already_registered": _l("Ce partenaire est déjà enregistré."),
    "unknown_partner": _l("Ce sac à badges partenaire n'existe pas ou plus."),
    "missing_state": _l("Ce retour du partenaire est incomplet. Recommencez depuis la page « Mes sacs à "
                        "badges »."),
    "bad_state": _l("Ce retour du partenaire ne correspond à aucune demande de votre part. Recommencez depuis "
                    "la page « Mes sacs à badges »."),
    "used_state": _l("Ce lien de retour a déjà servi. Recommencez depuis la page « Mes sacs à badges »."),
    "expired_state": _l("La demande a expiré (plus de 10 minutes). Recommencez depuis la page « Mes sacs à "
                        "badges »."),
    "wrong_partner": _l("Ce retour ne vient pas du partenaire attendu. Par sécurité, rien n'a été enregistré. "
                        "Recommencez."),
    "wrong_issuer": _l("Ce retour ne vient pas du serveur attendu. Par sécurité, rien n'a été enregistré. "
                       "Recommencez."),
    "denied": _l("Vous n'avez pas autorisé l'accès : rien n'a été importé. Vous pouvez recommencer quand vous "
                 "voulez."),
    "partner_refused": _l("Le partenaire n'a pas accordé l'accès (%(error)s). Réessayez plus tard."),
    "missing_code": _l("Le partenaire n'a pas renvoyé d'autorisation. Recommencez."),
    "token_failed": _l("Le partenaire a refusé l'autorisation. Recommencez dans quelques minutes."),
    "invalid_grant": _l("Le partenaire a mis fin à l'accès. Reconnectez votre sac à badges pour reprendre."),
    "reconnect_needed": _l("Ce sac à badges doit être reconnecté avant de synchroniser."),
    "unauthorized": _l("Le partenaire n'accepte plus l'accès. Reconnectez votre sac à badges."),
    "partner_down": _l("Le partenaire ne répond pas pour le moment. Vos badges déjà importés sont conservés ; "
                       "nous réessaierons plus tard."),
    "rate_limited": _l("Le partenaire demande d'attendre avant de réessayer. Nous réessaierons après "
                       "%(until)s."),
    "bad_response": _l("Le partenaire a envoyé une réponse illisible. Vos badges déjà importés sont conservés ; "
                       "nous réessaierons plus tard."),
    "busy": _l("Une autre synchronisation est en cours. Réessayez dans une minute."),
    "secret_unreadable": _l("Les secrets de ce partenaire ne peuvent plus être lus (clé de chiffrement changée). "
                            "Un administrateur doit réenregistrer le partenaire."),
}


def message_for(code: str, params: Mapping[str, Any] | None = None) -> str:
    text = MESSAGES.get(code, MESSAGES["bad_response"])
    values = {"url": "", "field": "", "max_kib": 256, "declared": "", "expected": "", "error": "?",
              "until": "", **{k: v for k, v in (params or {}).items() if v is not None}}
    if isinstance(values.get("until"), datetime):
        values["until"] = values["until"].astimezone(UTC).strftime("%d/%m/%Y %H:%M UTC")
    try:
        return str(text) % values
    except (KeyError, TypeError, ValueError):
        return str(text)


# --------------------------------------------------------------------------------- helpers

def _hash(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


def redirect_uri(config: Mapping[str, Any], backpack_id: int) -> str:
    """One redirect URI per partner (mix-up defence, T31)."""
    return f"{str(config['BASE_URL']).rstrip('/')}/connexions/retour/{backpack_id}"


def _software_version() -> str:
    try:
        from importlib.metadata import version

        return version("wallet")
    except Exception:  # noqa: BLE001 - not installed as a distribution (a source checkout)
        return "0.1.0"


def _endpoints(backpack: PartnerBackpack) -> Endpoints:
    return Endpoints(protocol=backpack.protocol, base_url=backpack.base_url, api_base=backpack.api_base,
                     token_url=backpack.token_url, revocation_url=backpack.revocation_url,
                     client_id=backpack.client_id)


def _refresh_url(backpack: PartnerBackpack) -> str:
    """OB 3.0's refreshUrl when the (validated) discovery document names one, else the token URL."""
    try:
        document = json.loads(backpack.discovery or "{}")
        scheme = document["components"]["securitySchemes"]["OAuth2ACG"]
        url = scheme["flows"]["authorizationCode"].get("refreshUrl")
    except (ValueError, KeyError, TypeError, AttributeError):
        return backpack.token_url
    if isinstance(url, str) and client.origin_of(url) == client.origin_of(backpack.base_url):
        return url
    return backpack.token_url


def _secret(config: Mapping[str, Any], value: str) -> str:
    try:
        return crypto.decrypt(config, value)
    except crypto.TokenDecryptError:
        raise PartnerError("secret_unreadable") from None


def _end_read(session: Session) -> None:
    """End the read transaction before talking to a partner (no network inside a transaction)."""
    session.commit()


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


# ---------------------------------------------------------------------------- Region staff

def list_backpacks(session: Session) -> list[PartnerBackpack]:
    """Partners ready for learners (registration finished)."""
    return list(session.scalars(select(PartnerBackpack).where(PartnerBackpack.client_id != "")
                                .order_by(PartnerBackpack.name)))


def get_backpack(session: Session, backpack_id: int) -> PartnerBackpack | None:
    return session.scalar(select(PartnerBackpack).where(PartnerBackpack.id == backpack_id,
                                                        PartnerBackpack.client_id != ""))


def register_backpack(session: Session, base_url: str, http, config: Mapping[str, Any],
                      now: datetime | None = None) -> PartnerBackpack:
    """Discover a partner, reserve its row (its id is in our redirect URI), register by DCR,
    store the client secret encrypted, fetch its logo. Raises PartnerError.

    Commits twice by design: the reserved row, then the finished registration (or its removal)."""
    base = client.normalize_base_url(base_url)
    if session.scalar(select(PartnerBackpack.id).where(PartnerBackpack.base_url == base)) is not None:
        raise PartnerError("already_registered")
    _end_read(session)
    discovery = client.discover(http, base)
    row = PartnerBackpack(
        name=discovery.name, base_url=base, protocol=discovery.protocol, api_base=discovery.api_base,
        authorization_url=discovery.authorization_url, token_url=discovery.token_url,
        revocation_url=discovery.revocation_url, registration_url=discovery.registration_url,
        issuer=discovery.issuer, scopes="", client_id="", client_secret_enc="",
        discovery=json.dumps(discovery.document, ensure_ascii=False), tos_url=discovery.tos_url,
        privacy_url=discovery.privacy_url)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise PartnerError("already_registered") from None

    base_url_ours = str(config["BASE_URL"]).rstrip("/")
    try:
        registration = client.register(
            http, discovery, redirect_uri=redirect_uri(config, row.id),
            client_name="Mon portefeuille de badges", client_uri=base_url_ours + "/",
            logo_uri=base_url_ours + "/static/favicon.svg", tos_uri=base_url_ours + "/cgu",
            policy_uri=base_url_ours + "/confidentialite", software_id=SOFTWARE_ID,
            software_version=_software_version(), now=now)
    except PartnerError:
        session.delete(row)
        session.commit()
        raise
    logo = images.fetch_image(discovery.image_url, http) if discovery.image_url else None
    row.client_id = registration.client_id
    row.client_secret_enc = crypto.encrypt(config, registration.client_secret)
    row.scopes = registration.scope
    if logo is not None:
        row.logo, row.logo_type = logo
    session.commit()
    log.info("partner backpack %s registered (%s, %s)", row.id, row.protocol, row.base_url)
    return row


# ---------------------------------------------------------------------------------- learner

def overview(session: Session, user: User) -> list[tuple[PartnerBackpack, Connection | None]]:
    """Every registered partner with the learner's connection to it, if any."""
    connections = {c.backpack_id: c for c in session.scalars(select(Connection).where(Connection.user_id == user.id))}
    return [(backpack, connections.get(backpack.id)) for backpack in list_backpacks(session)]


def get_owned(session: Session, user: User, connection_id: int) -> Connection | None:
    return session.scalar(select(Connection).where(Connection.id == connection_id, Connection.user_id == user.id))


def start_connect(session: Session, user: User, backpack_id: int, config: Mapping[str, Any],
                  now: datetime | None = None) -> str:
    """Open an authorization request: returns the partner's consent page URL.

    The state (256 bits) is stored only as its sha256, bound to the learner and the partner; the
    PKCE verifier stays here, encrypted."""
    now = _now(now)
    backpack = get_backpack(session, backpack_id)
    if backpack is None:
        raise ConnectionProblem("unknown_partner", 404)
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters (RFC 7636: 43–128)
    session.execute(delete(OAuthFlow).where(OAuthFlow.user_id == user.id,
                                            or_(OAuthFlow.used_at.is_not(None),
                                                OAuthFlow.created_at < now - FLOW_LIFETIME)))
    session.add(OAuthFlow(state_hash=_hash(state), user_id=user.id, backpack_id=backpack.id,
                          code_verifier_enc=crypto.encrypt(config, verifier), created_at=now))
    session.commit()
    return client.authorization_url(
        backpack.authorization_url, client_id=backpack.client_id, redirect_uri=redirect_uri(config, backpack.id),
        scope=client.requested_scope(backpack.protocol, backpack.scopes), state=state, code_verifier=verifier)


def finish_connect(session: Session, user: User, backpack_id: int, args: Mapping[str, str], http,
                   config: Mapping[str, Any], now: datetime | None = None) -> SyncResult:
    """The partner sent the learner back: check the flow, exchange the code, store the tokens
    (encrypted), then import every badge. Raises ConnectionProblem before any token is stored."""
    now = _now(now)
    state = args.get("state") or ""
    if not state:
        raise ConnectionProblem("missing_state")
    flow = session.scalar(select(OAuthFlow).where(OAuthFlow.state_hash == _hash(state)))
    if flow is None or flow.user_id != user.id:
        raise ConnectionProblem("bad_state")
    # Single use, even when what follows fails: a state is spent the first time it comes back.
    spent = session.execute(update(OAuthFlow).where(OAuthFlow.id == flow.id, OAuthFlow.used_at.is_(None))
                            .values(used_at=now).execution_options(synchronize_session=False))
    session.commit()
    if spent.rowcount != 1:
        raise ConnectionProblem("used_state")
    if flow.created_at < now - FLOW_LIFETIME:
        raise ConnectionProblem("expired_state")
    if flow.backpack_id != backpack_id:
        raise ConnectionProblem("wrong_partner")
    backpack = get_backpack(session, backpack_id)
    if backpack is None:
        raise ConnectionProblem("unknown_partner", 404)
    if "iss" in args and args.get("iss") != backpack.issuer:  # RFC 9207
        raise ConnectionProblem("wrong_issuer")
    if args.get("error"):
        code = "denied" if args.get("error") == "access_denied" else "partner_refused"
        raise ConnectionProblem(code, error=str(args.get("error"))[:60])
    code = args.get("code") or ""
    if not code:
        raise ConnectionProblem("missing_code")
    try:
        verifier = crypto.decrypt(config, flow.code_verifier_enc)
        secret = _secret(config, backpack.client_secret_enc)
    except (crypto.TokenDecryptError, PartnerError):
        raise ConnectionProblem("secret_unreadable", 500) from None
    endpoints = _endpoints(backpack)
    _end_read(session)
    try:
        tokens = client.exchange_code(http, endpoints, secret, code=code, redirect_uri=redirect_uri(config, backpack.id),
                                      code_verifier=verifier,
                                      scope=client.requested_scope(backpack.protocol, backpack.scopes))
    except PartnerError as err:
        raise ConnectionProblem(err.code if err.code in MESSAGES else "token_failed", 502) from None

    connection = session.scalar(select(Connection).where(Connection.user_id == user.id,
                                                         Connection.backpack_id == backpack.id))
    if connection is None:
        connection = Connection(user_id=user.id, backpack_id=backpack.id, created_at=now)
        session.add(connection)
    _store_tokens(config, connection, tokens, now)
    connection.status = "active"
    connection.since = None  # a (re)connection imports everything again; duplicates are skipped
    connection.last_error = None
    connection.next_sync_at = None
    session.commit()
    return _sync(session, connection, http, config, now)


def _store_tokens(config: Mapping[str, Any], connection: Connection, tokens: client.Tokens, now: datetime) -> None:
    connection.access_token_enc = crypto.encrypt(config, tokens.access_token)
    if tokens.refresh_token:  # rotation: the new refresh token replaces the old one
        connection.refresh_token_enc = crypto.encrypt(config, tokens.refresh_token)
    connection.token_expires_at = now + timedelta(seconds=tokens.expires_in) if tokens.expires_in else None
    connection.scope = tokens.scope or connection.scope or ""
    connection.refreshing_until = None


def sync_now(session: Session, user: User, connection_id: int, http, config: Mapping[str, Any],
             now: datetime | None = None) -> SyncResult:
    """"Synchroniser": the learner asks for a sync. Honours a partner's Retry-After."""
    now = _now(now)
    connection = get_owned(session, user, connection_id)
    if connection is None:
        raise ConnectionProblem("unknown_partner", 404)
    if connection.status != "active":
        raise ConnectionProblem("reconnect_needed", 409)
    if connection.last_error == "rate_limited" and connection.next_sync_at and connection.next_sync_at > now:
        raise ConnectionProblem("rate_limited", 429, until=connection.next_sync_at)
    return _sync(session, connection, http, config, now)


def disconnect(session: Session, user: User, connection_id: int, http, config: Mapping[str, Any]) -> str:
    """Revoke the tokens at the partner (RFC 7009) and forget them. Imported badges stay.
    Returns the partner's name."""
    connection = get_owned(session, user, connection_id)
    if connection is None:
        raise ConnectionProblem("unknown_partner", 404)
    backpack = connection.backpack
    name = backpack.name
    tokens = [(connection.refresh_token_enc, "refresh_token"), (connection.access_token_enc, "access_token")]
    endpoints = _endpoints(backpack)
    secret_enc = backpack.client_secret_enc
    _end_read(session)
    try:
        secret = crypto.decrypt(config, secret_enc)
    except crypto.TokenDecryptError:
        secret = None
    for value, hint in tokens:
        if value and secret is not None:
            try:
                client.revoke(http, endpoints, secret, crypto.decrypt(config, value), hint)
            except crypto.TokenDecryptError:
                pass
    session.execute(delete(Connection).where(Connection.id == connection_id, Connection.user_id == user.id))
    session.commit()
    return name


# ------------------------------------------------------------------------------------- sync

def _sync(session: Session, connection: Connection, http, config: Mapping[str, Any], now: datetime) -> SyncResult:
    connection_id = connection.id
    backpack = connection.backpack
    user = session.get(User, connection.user_id)
    endpoints = _endpoints(backpack)
    partner = backpack.name
    since = connection.since
    started = now
    fetch = MemoFetcher(http.fetch)  # one per sync: issuers and keys fetched once for all badges
    batch_http = _BatchHttp(http)  # and badge images once per URL
    items: list[badges.ImportItem] = []
    _end_read(session)
    try:
        access = _access_token(session, connection_id, http, config, now)
        url: str | None = client.first_page_url(endpoints, since=since)
        seen: set[str] = set()
        while url and len(seen) < MAX_PAGES:
            seen.add(url)
            try:
                page = client.fetch_page(http, endpoints, access, url)
            except PartnerError as err:
                if err.code != "unauthorized":
                    raise
                # The partner refused the token before its time: refresh once, retry this page.
                access = _refresh(session, connection_id, http, config, now, stale=access)
                try:
                    page = client.fetch_page(http, endpoints, access, url)
                except PartnerError as again:
                    if again.code == "unauthorized":
                        _needs_reconnect(session, connection_id)
                    raise
            for index, (label, text) in enumerate(page.items, start=len(items) + 1):
                items.append(_import(session, user, text, _item_label(label, index), batch_http, fetch, now))
            url = page.next_url if page.next_url not in seen else None
    except PartnerError as err:
        retry_at = _record_failure(session, connection_id, err, now)
        log.info("sync of connection %s stopped: %s", connection_id, err.code)
        return SyncResult(partner, connection_id, items, complete=False, error=err.code, retry_at=retry_at)
    connection = session.get(Connection, connection_id, populate_existing=True)
    if connection is not None:
        connection.last_sync_at = now
        connection.since = _iso(started)
        connection.next_sync_at = now + SYNC_INTERVAL
        connection.last_error = None
        session.commit()
    log.info("sync of connection %s done: %s item(s)", connection_id, len(items))
    return SyncResult(partner, connection_id, items)


class _BatchHttp:
    """SafeHttp for one sync: unauthenticated GETs (badge images) are answered once per URL."""

    def __init__(self, http) -> None:
        self._http = http
        self._cache: dict[tuple, Any] = {}

    def request(self, method: str, url: str, **kwargs: Any):
        headers = kwargs.get("headers") or {}
        if method.upper() != "GET" or any(k.lower() == "authorization" for k in headers):
            return self._http.request(method, url, **kwargs)
        key = (url, tuple(sorted(headers.items())), kwargs.get("max_bytes"))
        if key not in self._cache:
            self._cache[key] = self._http.request(method, url, **kwargs)  # failures are not kept
        return self._cache[key]

    def __getattr__(self, name: str):
        return getattr(self._http, name)


def _iso(moment: datetime) -> str:
    # Milliseconds, rounded down: a badge issued in the same instant comes again (and is skipped as
    # a duplicate) rather than being missed.
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _item_label(label: str, index: int) -> str:
    if label in ("credential", "assertion", "badge", ""):
        return f"badge {index}"
    return label


def _import(session: Session, user: User, text: str, label: str, http, fetch, now: datetime) -> badges.ImportItem:
    """Verify and store one badge exactly like an upload; a badge proved forged (`invalid`) is
    not kept: a partner's copy that fails its own proof is refused, and says so."""
    item = badges.import_text(session, user, text, http, now, source="partner", label=label, fetch=fetch)
    if item.outcome in ("imported", "not_yours") and item.status == "invalid" and item.badge_id is not None:
        badges.delete(session, user, item.badge_id)
        return badges.ImportItem(label, "error", code="partner_invalid", name=item.name, status="invalid")
    return item


def _record_failure(session: Session, connection_id: int, err: PartnerError, now: datetime) -> datetime | None:
    connection = session.get(Connection, connection_id, populate_existing=True)
    if connection is None:
        return None
    connection.last_error = err.code
    retry_at: datetime | None
    if err.code in ("invalid_grant", "secret_unreadable") or connection.status != "active":
        retry_at = None
    elif err.retry_after is not None:
        retry_at = now + timedelta(seconds=err.retry_after)
    else:
        retry_at = now + RETRY_DELAY
    connection.next_sync_at = retry_at
    session.commit()
    return retry_at


def _needs_reconnect(session: Session, connection_id: int) -> None:
    connection = session.get(Connection, connection_id, populate_existing=True)
    if connection is not None:
        connection.status = "reconnect"
        connection.access_token_enc = None
        connection.refresh_token_enc = None
        connection.refreshing_until = None
        session.commit()


def _access_token(session: Session, connection_id: int, http, config: Mapping[str, Any], now: datetime) -> str:
    connection = session.get(Connection, connection_id, populate_existing=True)
    _end_read(session)
    if connection is None or connection.status != "active":
        raise PartnerError("invalid_grant")
    if connection.access_token_enc and (connection.token_expires_at is None
                                        or connection.token_expires_at > now + TOKEN_MARGIN):
        return _secret(config, connection.access_token_enc)
    stale = _secret(config, connection.access_token_enc) if connection.access_token_enc else None
    return _refresh(session, connection_id, http, config, now, stale=stale)


def _take_lease(session: Session, connection_id: int, now: datetime) -> bool:
    """One refresher at a time: UPDATE … WHERE the lease is free or lapsed (atomic on every backend)."""
    taken = session.execute(
        update(Connection)
        .where(Connection.id == connection_id,
               or_(Connection.refreshing_until.is_(None), Connection.refreshing_until < now))
        .values(refreshing_until=now + LEASE)
        .execution_options(synchronize_session=False))
    session.commit()
    return taken.rowcount == 1


def _refresh(session: Session, connection_id: int, http, config: Mapping[str, Any], now: datetime,
             stale: str | None) -> str:
    """A fresh access token. Only the lease holder calls the partner; the others wait for it and
    use what it stored (a stale refresh token is never sent twice)."""
    waited_until = time.monotonic() + LEASE.total_seconds()
    while not _take_lease(session, connection_id, now):
        if time.monotonic() > waited_until:
            raise PartnerError("busy")
        _pause(0.05)
    connection = session.get(Connection, connection_id, populate_existing=True)
    try:
        if connection is None or connection.status != "active":
            raise PartnerError("invalid_grant")
        current = _secret(config, connection.access_token_enc) if connection.access_token_enc else None
        if current and current != stale and (connection.token_expires_at is None
                                             or connection.token_expires_at > now + TOKEN_MARGIN):
            connection.refreshing_until = None
            session.commit()
            return current  # another refresher just did it
        if not connection.refresh_token_enc:
            raise PartnerError("invalid_grant")
        backpack = connection.backpack
        endpoints = _endpoints(backpack)
        secret = _secret(config, backpack.client_secret_enc)
        refresh_token = _secret(config, connection.refresh_token_enc)
        scope = client.requested_scope(backpack.protocol, backpack.scopes)
        refresh_url = _refresh_url(backpack)
        _end_read(session)
        tokens = client.refresh(http, endpoints, secret, refresh_token, scope, refresh_url=refresh_url)
    except PartnerError as err:
        connection = session.get(Connection, connection_id, populate_existing=True)
        if connection is not None:
            connection.refreshing_until = None
            if err.code == "invalid_grant":
                # No retry loop: the learner must reconnect (T35).
                connection.status = "reconnect"
                connection.access_token_enc = None
                connection.refresh_token_enc = None
            session.commit()
        raise
    connection = session.get(Connection, connection_id, populate_existing=True)
    _store_tokens(config, connection, tokens, now)
    session.commit()
    return tokens.access_token


# ------------------------------------------------------------------------------------- worker

def run_due_syncs(app, now: datetime | None = None) -> int:
    """For `wallet worker`: sync every active connection whose next_sync_at has come (a partner's
    Retry-After included). Returns the number of syncs run (finished or not)."""
    from .. import db

    now = _now(now)
    http = app.extensions["wallet_http"]
    session = db.new_session(app)
    count = 0
    try:
        due = list(session.scalars(
            select(Connection.id)
            .where(Connection.status == "active",
                   or_(Connection.next_sync_at.is_(None), Connection.next_sync_at <= now))
            .order_by(Connection.next_sync_at)
            .limit(200)))
        _end_read(session)
        for connection_id in due:
            connection = session.get(Connection, connection_id)
            if connection is None or connection.status != "active":
                continue
            try:
                _sync(session, connection, http, app.config, now)
            except Exception:
                session.rollback()
                log.exception("sync of connection %s failed", connection_id)
            count += 1
    finally:
        session.close()
    return count
