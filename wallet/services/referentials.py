"""The regional referential in force: stored versions, loading, upload by Region staff, and the
learner's eligibility computed from their stored verdicts."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..eligibility import Referential, are_current_facts, evaluate
from ..eligibility.problems import Problem, ReferentialError
from ..eligibility.referential import check_referential, default_referential_path, load_referential
from ..models import Badge, ReferentialVersion, User, utcnow
from ..openbadges.jsonutil import loads_stored

MAX_REFERENTIAL_BYTES = 512 * 1024

_cache: dict[tuple[str, str, bool], Referential] = {}
_lock = threading.Lock()


def configured_path(app: Flask | None = None) -> Path:
    app = app or current_app
    return Path(app.config.get("REFERENTIAL") or default_referential_path())


def image_folder(name: str, app: Flask | None = None) -> Path | None:
    """Where a regional badge image named in the referential lives: beside the configured file,
    else beside the packaged one."""
    for folder in (configured_path(app).parent, default_referential_path().parent):
        candidate = (folder / name).resolve()
        if candidate.is_file() and folder.resolve() in candidate.parents:
            return folder
    return None


def _base_url(app: Flask | None = None) -> str:
    return (app or current_app).config["BASE_URL"]


def latest(session: Session) -> ReferentialVersion | None:
    return session.scalar(select(ReferentialVersion).order_by(ReferentialVersion.id.desc()).limit(1))


def version(session: Session, version_id: int) -> ReferentialVersion | None:
    """One stored version of the referential (the admin downloads its TOML)."""
    return session.get(ReferentialVersion, version_id)


def history(session: Session) -> list[ReferentialVersion]:
    return list(session.scalars(select(ReferentialVersion).order_by(ReferentialVersion.id.desc())))


_NEWEST = select(ReferentialVersion.id, ReferentialVersion.sha256).order_by(ReferentialVersion.id.desc()).limit(1)


def current(session: Session, app: Flask | None = None) -> Referential:
    """The referential in force: the newest stored version, else the configured file."""
    app = app or current_app
    # Every page that evaluates eligibility asks: only the newest version's id and digest are read,
    # its text (tens of KiB) only when this process has not parsed it yet.
    row = session.execute(_NEWEST).first()
    base_url = _base_url(app)
    path = configured_path(app)
    key = (f"db:{row.id}:{row.sha256}" if row else f"file:{path}:{path.stat().st_mtime_ns}", base_url,
           include_demo(app))
    with _lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    text = session.get(ReferentialVersion, row.id).content if row else path.read_text(encoding="utf-8")
    referential = load_referential(text, base_url=base_url, include_demo=include_demo(app))
    with _lock:
        _cache[key] = referential
    return referential


def include_demo(app: Flask) -> bool:
    # Demo partners (hosted by the wallet under /demo) count only outside production.
    return app.config["ENV"] != "production"


@dataclass(frozen=True, slots=True)
class Loaded:
    version: ReferentialVersion
    changed: bool


def store(session: Session, text: str, source: str, user: User | None = None,
          app: Flask | None = None) -> Loaded:
    """Validate and store `text` as the referential in force (unchanged content is not duplicated).

    Raises ReferentialError with every problem (path and line) when the text is not valid.
    """
    app = app or current_app
    if len(text.encode("utf-8")) > MAX_REFERENTIAL_BYTES:
        raise ReferentialError([Problem(path="", code="too_large", params={"max_kb": 512}, line=None)])
    referential = load_referential(text, base_url=_base_url(app), include_demo=include_demo(app))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    row = latest(session)
    if row is not None and row.sha256 == digest:
        return Loaded(row, False)
    version = ReferentialVersion(referential_id=referential.id, version=referential.version or "",
                                 content=text, sha256=digest, source=source,
                                 loaded_by_id=user.id if user else None, loaded_at=utcnow())
    session.add(version)
    session.commit()
    return Loaded(version, True)


def check_text(text: str, app: Flask | None = None) -> list[Problem]:
    return check_referential(text, base_url=_base_url(app))


def eligibility_for(session: Session, user: User, now: datetime | None = None, app: Flask | None = None):
    """The learner's eligibility for every regional badge, from their stored verdicts."""
    referential = current(session, app)
    return referential, evaluate(referential, eligibility_inputs(session, user.id), now or utcnow())


def eligibility_inputs(session: Session, owner_id: int, rows: Iterable[tuple[int, str | None]] | None = None) -> list:
    """What the rules read of each of the owner's badges: its stored facts (a tenth of its verdict),
    or its verdict where the facts are missing or of an older version. `rows`: the owner's
    (badge id, facts) when the caller has read them already. An unreadable verdict is left out."""
    if rows is None:
        rows = session.execute(select(Badge.id, Badge.facts).where(Badge.owner_id == owner_id))
    inputs, stale = [], []
    for badge_id, text in rows:
        data = _parsed(text) if text else None
        if are_current_facts(data):
            inputs.append(data)
        else:
            stale.append(badge_id)
    for start in range(0, len(stale), 500):   # a bounded number of parameters per statement
        inputs += [data for data in map(_parsed, session.scalars(
            select(Badge.verdict).where(Badge.owner_id == owner_id, Badge.id.in_(stale[start:start + 500]))))
            if data is not None]
    return inputs


def _parsed(text: str) -> object:
    try:
        return loads_stored(text)
    except ValueError:
        return None
