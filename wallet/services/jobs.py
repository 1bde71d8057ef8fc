"""What `wallet worker` runs: claim deliveries, partner syncs, pending mail, the purge, and due
re-verifications."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask

from .. import mail
from . import reverification


@dataclass
class Report:
    reverified: int = 0
    changed: list[tuple[int, str, str]] = field(default_factory=list)
    claims: str = ""
    syncs: int = 0
    purged: dict = field(default_factory=dict)
    upgrade: str = ""
    mails: int = 0

    def summary(self) -> str:
        line = f"{self.upgrade}; " if self.upgrade else ""
        line += f"re-verified {self.reverified} badge(s), {len(self.changed)} status change(s)"
        line += f"; {self.syncs} partner sync(s); {self.mails} mail(s) sent"
        if any(self.purged.values()):
            line += "; purged " + ", ".join(f"{count} {kind}" for kind, count in self.purged.items() if count)
        return f"{line}; {self.claims}" if self.claims else line


def run_due(app: Flask, now=None) -> Report:
    """One round of background work: badges judged under older verifier rules first (a claim they
    no longer support must be stopped before it is delivered), then claim deliveries (a learner is
    waiting), then re-verifications."""
    from ..partners import client as connections
    from . import personal_data, upgrade
    from .claims import delivery as claim_delivery

    report = Report()
    upgraded = upgrade.run(app, now=now)
    if upgraded.reverified:
        report.upgrade = upgraded.summary()
        report.changed.extend(upgraded.changed)
    report.claims = claim_delivery.deliver_due(app, now=now).summary()
    # Mail left by the after-response sender (a crash, an SMTP failure) or queued outside a request.
    report.mails = mail.deliver_pending(app, now=now)
    report.syncs = connections.run_due_syncs(app, now=now)
    report.purged = personal_data.purge(app, now=now)
    stale = reverification.reverify_stale(app, now=now)
    report.reverified += stale.reverified
    report.changed.extend(stale.changed)
    return report


def run_reverifications(app: Flask, now=None) -> Report:
    """One round of `wallet worker --reverify-only`: only the re-verification of stale badges, leased
    (services/reverification.py), so that several such workers share the region's badges."""
    report = Report()
    stale = reverification.reverify_stale(app, now=now)
    report.reverified, report.changed = stale.reverified, stale.changed
    return report
