"""SQLAlchemy 2.0 typed models (DESIGN.md §6), one module a concern. Schema changes go through
Alembic migrations.

Importing this package imports every model module, so that `Base.metadata` holds every table
(Alembic's env.py and `create_all` rely on it) and `from wallet.models import X` names any model.
"""

from __future__ import annotations

from .accounts import ROLES, AddressThrottle, AuditEvent, Email, User, new_session_token
from .badges import Badge, BadgeEvent
from .claims import ACTIVE_CLAIM_STATES, CLAIM_STATES, Claim, IssuedCredential, Outbox
from .columns import UTCDateTime, utcnow
from .counselling import CONSENT_SCOPES, ClaimDraft, Consent, CounsellorCode, Invitation
from .mail import MailToken, OutgoingMail
from .partner_client import Connection, OAuthFlow, PartnerBackpack
from .partner_host import (
    HOST_ACCESS_KINDS,
    HostAccess,
    HostAuthorizationCode,
    HostClient,
    HostPush,
    HostToken,
)
from .referentials import ReferentialVersion
from .shares import PublicPage, Share, ShareItem

__all__ = [
    "ACTIVE_CLAIM_STATES", "CLAIM_STATES", "CONSENT_SCOPES", "HOST_ACCESS_KINDS", "ROLES",
    "AddressThrottle", "AuditEvent", "Badge", "BadgeEvent", "Claim", "ClaimDraft", "Connection", "Consent",
    "CounsellorCode", "Email", "HostAccess", "HostAuthorizationCode", "HostClient", "HostPush", "HostToken",
    "Invitation", "IssuedCredential", "MailToken", "OAuthFlow", "Outbox", "OutgoingMail", "PartnerBackpack", "PublicPage",
    "ReferentialVersion", "Share", "ShareItem", "UTCDateTime", "User", "new_session_token", "utcnow",
]
