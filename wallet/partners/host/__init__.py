"""The wallet as a backpack HOST: partner systems (a training centre's Moodle 4.x first) push badges
into a learner's wallet, in both of Moodle's modes (PROTOCOLS.md §9.2):

- "Open Badges v2.0" mode — Badgr's v2 backpack API: an app password the learner created for that
  partner (app_passwords.py) logs in at `/o/token` on the host root; `/v2/backpack/import` takes
  `{"url": …}` (badgr_v2.py).
- "Open Badges v2.1" mode — Badge Connect: manifest, RFC 7591 registration, authorization code +
  PKCE with the learner's consent, tokens, refresh, RFC 7009 revocation (oauth_server.py,
  registration.py), and `<apiBase>/assertions` / `profile` (badge_connect.py).

Both end in pushes.py: the pushed badge is verified and imported by the ordinary import service.
accesses.py is what the learner and the admin see. Views: wallet/views/host_*.py.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from .oauth_server import build

    server, protector = build(app)
    app.extensions["wallet_host_oauth"] = server
    app.extensions["wallet_host_protector"] = protector
