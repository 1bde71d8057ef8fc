"""Partner backpacks: registration by Region staff, the learner's OAuth connection, syncs, disconnect.

One module per step: registration.py (discovery and RFC 7591, the admin's overview),
authorization.py (the learner's consent and the code exchange), tokens.py (access, refresh under a
lease, "à reconnecter"), sync.py (pages → badges, failures and backoff, the worker), disconnect.py
(RFC 7009 / RFC 8414), messages.py (every sentence shown), shared.py.

Network calls (discovery, registration, tokens, pages, revocation) never run inside a database
transaction: each step reads what it needs, ends the read, talks to the partner, then writes in a
short transaction of its own. Badges are imported one by one through `badges.import_text`, which
commits each badge: a sync cut short by the partner keeps what it already imported.

Secrets (client secret, PKCE verifier, access and refresh tokens) are encrypted at rest with
`wallet.keys.crypto` and never leave this package in clear except towards the partner they belong to.
"""

from . import sync, tokens
from .authorization import finish_connect, overview, start_connect
from .disconnect import Disconnected, disconnect
from .messages import MESSAGES, ConnectionProblem, admin_message, message_for
from .registration import PartnerSummary, admin_overview, get_backpack, list_backpacks, register_backpack
from .shared import FLOW_LIFETIME, SOFTWARE_ID, SYNC_INTERVAL, redirect_uri
from .sync import SyncResult, get_owned, run_due_syncs, sync_now

__all__ = [
    "FLOW_LIFETIME", "MESSAGES", "SOFTWARE_ID", "SYNC_INTERVAL", "ConnectionProblem", "Disconnected",
    "PartnerSummary", "SyncResult", "admin_message", "admin_overview", "disconnect", "finish_connect",
    "get_backpack", "get_owned", "list_backpacks", "message_for", "overview", "redirect_uri",
    "register_backpack", "run_due_syncs", "start_connect", "sync", "sync_now", "tokens",
]
