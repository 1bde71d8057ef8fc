"""SQLAlchemy 2.0 typed models (DESIGN.md §6). Schema changes go through Alembic migrations."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from .db import Base

ROLES = ("learner", "counsellor", "admin")


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTCDateTime column")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20), default="learner")
    locale: Mapped[str] = mapped_column(String(5), default="fr")
    password_hash: Mapped[str] = mapped_column(String(255))
    # Part of the login cookie: rotating it ends every session of the user (logout, password change).
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    emails: Mapped[list[Email]] = relationship(back_populates="user", cascade="all, delete-orphan",
                                                 order_by="Email.id")

    # flask-login protocol ---------------------------------------------------------------------
    is_active = True
    is_anonymous = False
    is_authenticated = True

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def primary_email(self) -> Email | None:
        return next((e for e in self.emails if e.is_primary), self.emails[0] if self.emails else None)

    @property
    def confirmed_addresses(self) -> list[str]:
        return [e.address for e in self.emails if e.verified_at is not None]


class Email(Base):
    __tablename__ = "emails"
    __table_args__ = (
        UniqueConstraint("user_id", "normalized", name="uq_emails_user_address"),
        # A confirmed address belongs to one account only.
        Index("uq_emails_confirmed_address", "normalized", unique=True,
              sqlite_where=text("verified_at IS NOT NULL"),
              postgresql_where=text("verified_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(320))  # as the person typed it (trimmed)
    normalized: Mapped[str] = mapped_column(String(320), index=True)  # lower-cased: lookups, uniqueness
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(back_populates="emails")

    @property
    def confirmed(self) -> bool:
        return self.verified_at is not None


class AuditEvent(Base):
    """Who did what for whom (account security events now; counsellor actions later)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                                   nullable=True, index=True)
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Badge(Base):
    """A badge in a learner's wallet: the original payload untouched, plus what we learnt from it.

    `verdict` holds the Verdict JSON without rendered messages (check ids and parameters); pages
    render the messages in the reader's language. `recipient` holds the badge's recipient identity
    (type, hashed, salt, identity) so that confirming a new address re-matches the badge offline;
    it is private and never leaves the learner's own pages.
    """

    __tablename__ = "badges"
    __table_args__ = (UniqueConstraint("owner_id", "credential_key", name="uq_badges_owner_credential"),
                      # Counting badges by status is an index-only scan (migration 0011, issue 17).
                      Index("ix_badges_status_id", "status", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The credential / assertion id when it has one, else sha256 of the payload: one copy per owner.
    credential_key: Mapped[str] = mapped_column(String(512))
    credential_id: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    source: Mapped[str] = mapped_column(String(20))  # upload | url | paste | partner | claim
    source_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    payload: Mapped[str] = mapped_column(Text)  # exactly as baked / pasted / fetched
    payload_format: Mapped[str] = mapped_column(String(10))  # json | jws | url
    version: Mapped[str] = mapped_column(String(5))
    name: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    issuer_id: Mapped[str] = mapped_column(String(2048), default="")
    issuer_name: Mapped[str] = mapped_column(String(500), default="")
    badge_class_id: Mapped[str] = mapped_column(String(2048), default="")
    issued_on: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    expires: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    matched: Mapped[bool] = mapped_column(Boolean, default=False)
    recipient: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of identities, private
    details: Mapped[str] = mapped_column(Text, default="{}")  # JSON: evidence, narrative (display only)
    verdict: Mapped[str] = mapped_column(Text)  # JSON, messages not rendered
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # The verifier rules the verdict was judged under (services/rules.py RULES_VERSION; the default
    # must equal it: a test checks). Older verdicts are re-verified once by `wallet worker`.
    rules_version: Mapped[int] = mapped_column(Integer, default=2, index=True)
    # Held by one worker while it re-verifies the badge (services/reverification.py); expires.
    reverify_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    image: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    image_type: Mapped[str | None] = mapped_column(String(40), nullable=True)  # image/png | image/svg+xml
    # The file as uploaded (baked PNG/SVG), kept byte for byte for the owner's download.
    original_file: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    original_file_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    owner: Mapped[User] = relationship()


class BadgeEvent(Base):
    """A change worth telling the learner: a status that moved on re-verification, a new match."""

    __tablename__ = "badge_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    badge_id: Mapped[int] = mapped_column(ForeignKey("badges.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # status_changed | matched
    old: Mapped[str] = mapped_column(String(30), default="")
    new: Mapped[str] = mapped_column(String(30), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReferentialVersion(Base):
    """One version of the regional referential (the TOML text, validated), with its history.

    The newest row is the one in force. `wallet referential load` stores the configured file when
    its content changed; Region staff upload new versions from the admin area.
    """

    __tablename__ = "referential_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referential_id: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(50))
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(20))  # file | upload
    loaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- sharing (public pages for employers; claim evidence pages) -------------------------------------

class Share(Base):
    """A public link to one badge or a collection. Pages are looked up by the sha256 of the token;
    the token itself is kept only encrypted (`token_enc`, wallet/crypto.py), for its owner's pages."""

    __tablename__ = "shares"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_enc: Mapped[str | None] = mapped_column(Text, nullable=True)  # None: made before 0010
    kind: Mapped[str] = mapped_column(String(20), default="badge")  # badge | collection | evidence
    purpose: Mapped[str] = mapped_column(String(20), default="")  # "" | linkedin (permanent, one per badge)
    label: Mapped[str] = mapped_column(String(200), default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    view_count: Mapped[int] = mapped_column(Integer, default=0)
    last_viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    items: Mapped[list[ShareItem]] = relationship(back_populates="share", cascade="all, delete-orphan",
                                                    order_by="ShareItem.position")


class ShareItem(Base):
    __tablename__ = "share_items"
    __table_args__ = (UniqueConstraint("share_id", "badge_id", name="uq_share_items_badge"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    share_id: Mapped[int] = mapped_column(ForeignKey("shares.id", ondelete="CASCADE"), index=True)
    badge_id: Mapped[int] = mapped_column(ForeignKey("badges.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    share: Mapped[Share] = relationship(back_populates="items")
    badge: Mapped[Badge] = relationship()


# --- claims (regional badge requests) and their delivery outbox ---------------------------------

CLAIM_STATES = ("pending", "sent", "in_review", "issued", "refused", "failed", "withdrawn")
ACTIVE_CLAIM_STATES = ("pending", "sent", "in_review", "issued")


class Claim(Base):
    """A learner's request for a regional badge. At most one active claim per learner and badge."""

    __tablename__ = "claims"
    __table_args__ = (
        Index("uq_claims_active", "user_id", "regional_badge_id", unique=True,
              sqlite_where=text("active = 1"), postgresql_where=text("active")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True,
                                                index=True)
    regional_badge_id: Mapped[str] = mapped_column(String(2048))
    regional_badge_key: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    recipient_email: Mapped[str] = mapped_column(String(320))
    evidence: Mapped[str] = mapped_column(Text, default="[]")  # JSON: supporting badges, verdicts, page URLs
    evidence_share_id: Mapped[int | None] = mapped_column(ForeignKey("shares.id", ondelete="SET NULL"),
                                                          nullable=True)
    issuer_backend: Mapped[str] = mapped_column(String(20))
    issuer_reference: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    issued_badge_id: Mapped[int | None] = mapped_column(ForeignKey("badges.id", ondelete="SET NULL"),
                                                        nullable=True)
    refusal_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    needs_staff: Mapped[bool] = mapped_column(Boolean, default=False)  # flagged after N failed deliveries
    history: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of {at, status, note}
    prepared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                       nullable=True)  # a counsellor (issue 9)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Outbox(Base):
    """A delivery to do after the commit that created it (claims to the issuer)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30), default="deliver_claim")
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)  # pending|done|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    outcome_unknown: Mapped[bool] = mapped_column(Boolean, default=False)  # sent, answer lost
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IssuedCredential(Base):
    """A credential issued by the builtin Region issuer (its status list index, for revocation)."""

    __tablename__ = "issued_credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credential_id: Mapped[str] = mapped_column(String(200), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id", ondelete="SET NULL"), nullable=True)
    regional_badge_id: Mapped[str] = mapped_column(String(2048))
    status_index: Mapped[int] = mapped_column(Integer, unique=True)
    payload: Mapped[str] = mapped_column(Text)  # the signed credential, exactly as issued
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revocation_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- partner backpacks (OAuth import) ----------------------------------------------------------

class PartnerBackpack(Base):
    """A partner platform registered by Region staff (OB 3.0 API and/or OB 2.1 Badge Connect)."""

    __tablename__ = "partner_backpacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    base_url: Mapped[str] = mapped_column(String(2048), unique=True)
    protocol: Mapped[str] = mapped_column(String(10))  # ob30 | ob21
    api_base: Mapped[str] = mapped_column(String(2048))
    authorization_url: Mapped[str] = mapped_column(String(2048))
    token_url: Mapped[str] = mapped_column(String(2048))
    revocation_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    registration_url: Mapped[str] = mapped_column(String(2048))
    issuer: Mapped[str | None] = mapped_column(String(2048), nullable=True)  # expected `iss` (RFC 9207)
    scopes: Mapped[str] = mapped_column(Text, default="")
    client_id: Mapped[str] = mapped_column(String(500))
    client_secret_enc: Mapped[str] = mapped_column(Text)  # Fernet
    discovery: Mapped[str] = mapped_column(Text, default="{}")  # the validated document (JSON)
    logo: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    logo_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    tos_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    privacy_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The latest sync failure on the partner's side (JSON {code, params, at}) for the admin; cleared
    # by the next sync that succeeds.
    sync_problem: Mapped[str | None] = mapped_column(Text, nullable=True)


class Connection(Base):
    """A learner's authorised link to a partner backpack (tokens encrypted at rest)."""

    __tablename__ = "connections"
    __table_args__ = (UniqueConstraint("user_id", "backpack_id", name="uq_connections_user_backpack"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    backpack_id: Mapped[int] = mapped_column(ForeignKey("partner_backpacks.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | reconnect | disconnected
    access_token_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    refresh_token_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    scope: Mapped[str] = mapped_column(Text, default="")
    refreshing_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)  # one refresher
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    next_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    since: Mapped[str | None] = mapped_column(String(40), nullable=True)  # incremental sync cursor
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # in a row: the backoff
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    backpack: Mapped[PartnerBackpack] = relationship()


class OAuthFlow(Base):
    """One authorization request in flight: single-use state, PKCE verifier kept server-side."""

    __tablename__ = "oauth_flows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    backpack_id: Mapped[int] = mapped_column(ForeignKey("partner_backpacks.id", ondelete="CASCADE"))
    code_verifier_enc: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


# --- counsellors, consent, invitations -------------------------------------------------------

CONSENT_SCOPES = ("view", "prepare")  # see badges and eligibility | also prepare claims to confirm


class Consent(Base):
    """A learner lets a counsellor follow them (scope), for a time; withdrawable at any moment."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(20), default="view")
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CounsellorCode(Base):
    """A short code a counsellor shows to a learner, who types it to grant consent."""

    __tablename__ = "counsellor_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counsellor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ClaimDraft(Base):
    """A claim a counsellor prepared; it becomes a Claim only when the learner confirms it."""

    __tablename__ = "claim_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    counsellor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    regional_badge_key: Mapped[str] = mapped_column(String(100))
    recipient_email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id", ondelete="SET NULL"), nullable=True)


class Invitation(Base):
    """An invitation link for a new counsellor (or admin) account, created by an admin."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20), default="counsellor")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


# --- the wallet as a backpack host: partner systems push badges in (wallet/partners/host/) ----------------

HOST_ACCESS_KINDS = ("app_password", "oauth")  # Badgr v2 mode (Moodle "OB 2.0") | Badge Connect 2.1


class HostClient(Base):
    """A partner system registered by RFC 7591 dynamic registration (e.g. a training centre's Moodle).

    Registration is open (Badge Connect has no initial access token): a client can do nothing until
    a learner consents on the wallet's own page. Only the hash of the client secret is kept."""

    __tablename__ = "host_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))  # sha256 hex of the client secret
    name: Mapped[str] = mapped_column(String(200), default="")
    client_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    logo_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    tos_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    policy_uri: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    software_id: Mapped[str] = mapped_column(String(200), default="")
    software_version: Mapped[str] = mapped_column(String(100), default="")
    redirect_uris: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    scope: Mapped[str] = mapped_column(Text, default="")  # what it registered for (space-separated)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HostAccess(Base):
    """One partner system's access to one learner's wallet: an app password the learner created for
    it (kind `app_password`, Moodle's "OB 2.0" mode), or the learner's consent to a registered
    client (kind `oauth`, Badge Connect). Cutting it off revokes every token issued under it."""

    __tablename__ = "host_accesses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("host_clients.id", ondelete="CASCADE"),
                                                  nullable=True, index=True)
    label: Mapped[str] = mapped_column(String(200), default="")  # the partner's name, as the learner knows it
    secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)  # app password
    hint: Mapped[str] = mapped_column(String(8), default="")  # the app password's last characters
    scope: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    client: Mapped[HostClient | None] = relationship()


class HostAuthorizationCode(Base):
    """An authorization code (single use, 10 minutes, PKCE S256). Kept after use so that a replayed
    code revokes the tokens issued from it (RFC 6749 §4.1.2)."""

    __tablename__ = "host_authorization_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("host_clients.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(String(2048))
    scope: Mapped[str] = mapped_column(Text, default="")
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(10), default="S256")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class HostToken(Base):
    """An access token (and its refresh token) issued under a HostAccess; only hashes are kept."""

    __tablename__ = "host_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    access_id: Mapped[int] = mapped_column(ForeignKey("host_accesses.id", ondelete="CASCADE"), index=True)
    code_id: Mapped[int | None] = mapped_column(ForeignKey("host_authorization_codes.id", ondelete="SET NULL"),
                                                nullable=True, index=True)
    access_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    scope: Mapped[str] = mapped_column(Text, default="")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    access: Mapped[HostAccess] = relationship()


class HostPush(Base):
    """One badge pushed in by a partner system, whatever came of it (the admin's figures, the
    learner's "last push"). Kept without the learner when the account is deleted."""

    __tablename__ = "host_pushes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True,
                                                index=True)
    access_id: Mapped[int | None] = mapped_column(ForeignKey("host_accesses.id", ondelete="SET NULL"),
                                                  nullable=True, index=True)
    mode: Mapped[str] = mapped_column(String(20))  # badgr_v2 | badge_connect
    partner: Mapped[str] = mapped_column(String(200), default="")  # client name, or the badge's host
    source_host: Mapped[str] = mapped_column(String(255), default="")  # host of the pushed assertion's id
    outcome: Mapped[str] = mapped_column(String(20))  # imported | not_yours | duplicate | refused
    code: Mapped[str] = mapped_column(String(40), default="")  # why it was refused
    badge_id: Mapped[int | None] = mapped_column(ForeignKey("badges.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class MailToken(Base):
    """The secret of a link sent by mail (confirm an address, reset a password, unlock a login).

    The link carries 256 random bits and nothing else; only their sha256 is stored. A token is
    used once (`used_at`) and expires `created_at` + the purpose's max age (read from the config
    when it is used, so an operator can shorten it).
    """

    __tablename__ = "mail_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))  # confirm | reset | unlock
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email_id: Mapped[int | None] = mapped_column(ForeignKey("emails.id", ondelete="CASCADE"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class OutgoingMail(Base):
    """A mail waiting to be sent (wallet/mail.py): written in the use case's transaction, sent after
    the response by a short-lived sender thread, or later by `wallet worker`. Deleted once sent.
    `content` (subject and body, links included) is encrypted with WALLET_TOKEN_KEYS."""

    __tablename__ = "outgoing_mails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    to_address: Mapped[str] = mapped_column(String(320))
    content: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True,
                                                index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(200), default="")


class AddressThrottle(Base):
    """A counter per typed e-mail address and purpose (services/throttles.py), keyed by an HMAC
    of both — whether or not an account has the address, so the counters reveal nothing, and no
    address is stored. Used by the login backstop (SECURITY.md T61: failures, and the moment the
    next attempt is allowed) and by password resets (mails per address and hour)."""

    __tablename__ = "address_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_allowed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
