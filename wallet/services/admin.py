"""Region staff console: people and roles, invitations, partner issuers and catalogue (edited as
new referential versions), what a new referential changes for learners, issuer status, figures."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from flask import Flask, current_app, url_for
from flask_babel import force_locale, pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from .. import db, mail
from ..eligibility import Problem, ReferentialError, check_referential, evaluate, load_referential
from ..models import (
    CLAIM_STATES,
    ROLES,
    AuditEvent,
    Badge,
    Claim,
    Email,
    Invitation,
    IssuedCredential,
    Outbox,
    User,
    utcnow,
)
from ..passwords import hash_password, password_problem
from . import referentials

INVITATION_DAYS = 7
INVITABLE_ROLES = ("counsellor", "admin")
MAX_USERS_LISTED = 200


class AdminError(Exception):
    """A refusal Region staff (or an invited person) can act on; `code` picks the message."""

    def __init__(self, code: str, problems: list[Problem] | None = None, text: str = "") -> None:
        self.code = code
        self.problems = problems or []
        self.text = text
        super().__init__(code)


MESSAGES = {
    "not_found": _l("Cette personne n'existe pas (ou plus)."),
    "bad_role": _l("Ce rôle n'existe pas : choisissez titulaire d'un portefeuille, personne qui accompagne ou "
                    "membre de l'équipe régionale."),
    "last_admin": _l("C'est le dernier compte administrateur : nommez d'abord une autre personne "
                     "administratrice, sinon plus personne ne pourrait gérer le portefeuille."),
    "bad_email": _l("Cette adresse e-mail n'est pas valide. Vérifiez-la (exemple : prenom.nom@exemple.fr)."),
    "address_has_account": _l("Cette adresse a déjà un compte confirmé : changez plutôt son rôle dans la "
                              "liste des personnes."),
    "invitation_invalid": _l("Ce lien d'invitation n'est pas valide. Vérifiez que vous avez copié le lien "
                             "entier, ou demandez une nouvelle invitation à la Région."),
    "invitation_used": _l("Ce lien d'invitation a déjà servi. Connectez-vous avec le compte créé, ou "
                          "demandez une nouvelle invitation à la Région."),
    "invitation_expired": _l("Ce lien d'invitation a expiré (il est valable 7 jours). Demandez une nouvelle "
                             "invitation à la Région."),
    "address_owned_elsewhere": _l("Cette adresse est déjà confirmée sur un autre compte. Connectez-vous avec ce "
                                  "compte, ou demandez à la Région de changer son rôle."),
    "bad_name": _l("Indiquez votre prénom ou votre nom (120 caractères au plus)."),
    "unknown_partner": _l("Ce partenaire n'est pas dans le référentiel en vigueur."),
    "unknown_entry": _l("Cet élément n'est pas dans le référentiel en vigueur."),
    "missing_field": _l("Remplissez les champs demandés."),
    "invalid": _l("Le référentiel modifié n'est pas valide : rien n'a été publié."),
    "unchanged": _l("Cette modification ne change rien au référentiel en vigueur."),
    "no_text": _l("Choisissez un fichier TOML ou collez son contenu."),
}


def message_for(code: str) -> str:
    if code.startswith("password_"):
        from ..views.messages import account_error

        return account_error(code)
    message = MESSAGES.get(code)
    return str(message) if message else _("Cette demande n'a pas pu aboutir.")


def _audit(session: Session, actor: User | None, action: str, subject_id: int | None = None,
           detail: str = "") -> None:
    session.add(AuditEvent(actor_id=actor.id if actor else None, subject_id=subject_id, action=action,
                           detail=detail))


# ------------------------------------------------------------------------------ people, roles

def list_users(session: Session, query: str = "") -> list[User]:
    stmt = select(User).options(selectinload(User.emails)).order_by(User.created_at.desc(), User.id.desc())
    query = (query or "").strip().lower()[:200]
    if query:
        pattern = f"%{query.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(func.lower(User.display_name).like(pattern),
                              User.id.in_(select(Email.user_id).where(Email.normalized.like(pattern)))))
    users = list(session.scalars(stmt.limit(MAX_USERS_LISTED)))
    session.commit()
    return users


def admin_count(session: Session) -> int:
    return session.scalar(select(func.count(User.id)).where(User.role == "admin")) or 0


def set_role(session: Session, actor: User, user_id: int, role: str) -> User:
    """Change a person's role; the last admin cannot stop being one."""
    if role not in ROLES:
        raise AdminError("bad_role")
    db.begin_write(session)
    user = session.get(User, user_id)
    if user is None:
        session.rollback()
        raise AdminError("not_found")
    old = user.role
    if old == role:
        session.rollback()
        return user
    if old == "admin" and admin_count(session) <= 1:
        session.rollback()
        raise AdminError("last_admin")
    user.role = role
    _audit(session, actor, "role.changed", user.id, f"{old} -> {role}")
    session.commit()
    return user


# ------------------------------------------------------------------------------ invitations

def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Invited:
    invitation: Invitation
    link: str  # shown once to the admin, mailed to the person; only its hash is stored


def create_invitation(session: Session, actor: User, address: str, role: str = "counsellor",
                      now: datetime | None = None) -> Invited:
    from .accounts import AccountError, normalize_address

    if role not in INVITABLE_ROLES:
        raise AdminError("bad_role")
    try:
        typed, key = normalize_address(address)
    except AccountError:
        raise AdminError("bad_email") from None
    now = now or utcnow()
    if session.scalar(select(Email.id).where(Email.normalized == key, Email.verified_at.is_not(None))):
        session.rollback()
        raise AdminError("address_has_account")
    token = secrets.token_urlsafe(32)  # 256 bits
    invitation = Invitation(email=typed, role=role, token_hash=_hash(token), created_by_id=actor.id,
                            created_at=now, expires_at=now + timedelta(days=INVITATION_DAYS))
    session.add(invitation)
    _audit(session, actor, "invitation.created", None, f"{role} {key}")
    link = current_app.config["BASE_URL"] + url_for("auth.invitation", token=token)
    with force_locale("fr"):
        role_name = role_label(role)
        subject = _("Votre invitation au portefeuille de badges")
        body = _("Bonjour,\n\nLa Région vous invite à rejoindre le portefeuille de badges en tant que "
                 "%(role)s. Pour créer votre compte, ouvrez ce lien (valable %(days)s jours, une seule fois) :"
                 "\n\n%(link)s\n\nSi vous ne vous attendiez pas à ce message, ignorez-le.",
                 role=role_name, days=INVITATION_DAYS, link=link)
    mail.queue(session, typed, subject, body)
    session.commit()  # the mail is sent after this commit (wallet/mail.py)
    return Invited(invitation, link)


def role_label(role: str) -> str:
    return {"learner": pgettext("role", "titulaire d'un portefeuille"),
            "counsellor": pgettext("role", "personne qui accompagne"),
            "admin": pgettext("role", "membre de l'équipe régionale")}.get(role, role)


def pending_invitations(session: Session, now: datetime | None = None) -> list[Invitation]:
    now = now or utcnow()
    rows = list(session.scalars(select(Invitation).where(Invitation.used_at.is_(None), Invitation.expires_at > now)
                                .order_by(Invitation.id.desc())))
    session.commit()
    return rows


def check_invitation(session: Session, token: str, now: datetime | None = None) -> Invitation:
    """The invitation a link names, or AdminError (invalid, used, expired)."""
    now = now or utcnow()
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == _hash(token or "")))
    if invitation is None:
        raise AdminError("invitation_invalid")
    if invitation.used_at is not None:
        raise AdminError("invitation_used")
    if invitation.expires_at <= now:
        raise AdminError("invitation_expired")
    return invitation


def accept_invitation(session: Session, token: str, display_name: str, password: str,
                      now: datetime | None = None) -> User:
    """Create the invited account: confirmed (the link proves the address), with the invited role."""
    now = now or utcnow()
    display_name = (display_name or "").strip()
    invitation = check_invitation(session, token, now)
    if not display_name or len(display_name) > 120:
        raise AdminError("bad_name")
    key = invitation.email.lower()
    problem = password_problem(password, personal=(display_name, key.split("@")[0]))
    if problem:
        raise AdminError(f"password_{problem}")
    password_hash = hash_password(password)
    db.begin_write(session)
    taken = session.scalar(select(Email.id).where(Email.normalized == key, Email.verified_at.is_not(None)))
    if taken is not None:
        session.rollback()
        raise AdminError("address_owned_elsewhere")
    # Single use even under concurrent clicks: only one request flips used_at.
    claimed = session.execute(update(Invitation).where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
                              .values(used_at=now))
    if claimed.rowcount != 1:
        session.rollback()
        raise AdminError("invitation_used")
    user = User(display_name=display_name, password_hash=password_hash, role=invitation.role, created_at=now)
    user.emails.append(Email(address=invitation.email, normalized=key, is_primary=True, verified_at=now))
    session.add(user)
    try:
        session.flush()
        session.add(AuditEvent(actor_id=invitation.created_by_id, subject_id=user.id, action="account.invited",
                               detail=invitation.role))
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AdminError("address_owned_elsewhere") from None
    return user


# ------------------------------------------------------------------------------ referential text

def current_text(session: Session, app: Flask | None = None) -> str:
    row = referentials.latest(session)
    session.commit()
    if row is not None:
        return row.content
    return referentials.configured_path(app).read_text(encoding="utf-8")


def _include_demo(app: Flask) -> bool:
    return app.config["ENV"] != "production"


def check_text(text: str, app: Flask | None = None) -> list[Problem]:
    app = app or current_app
    return check_referential(text, base_url=app.config["BASE_URL"])


def partners_of(text: str) -> list[dict[str, Any]]:
    """The `[[partners]]` tables of a referential text, as written (`{base_url}` not replaced)."""
    data = tomllib.loads(text)
    partners = data.get("partners", [])
    return [dict(p) for p in partners if isinstance(p, dict)]


_HEADER = re.compile(r'^\[(\[)?\s*([A-Za-z0-9_.\-" ]+?)\s*\](\])?\s*(#.*)?$')
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a valid TOML basic string
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def render_partners(partners: list[dict[str, Any]]) -> str:
    """`[[partners]]` blocks for these tables (keys in a stable, readable order)."""
    order = ["key", "name", "demo", "issuer_ids", "url", "catalogue"]
    blocks = []
    for partner in partners:
        lines = ["[[partners]]"]
        for name in sorted(partner, key=lambda k: (order.index(k) if k in order else len(order), k)):
            value = partner[name]
            if isinstance(value, list) and (len(value) > 1 or any(isinstance(v, dict) for v in value)):
                lines.append(f"{_key(name)} = [")
                lines.extend(f"  {_value(v)}," for v in value)
                lines.append("]")
            else:
                lines.append(f"{_key(name)} = {_value(value)}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def replace_partners(text: str, partners: list[dict[str, Any]]) -> str:
    """`text` with its `[[partners]]` blocks replaced by `partners` (where the first block was;
    at the end when there was none). Comments and everything else are kept as they were."""
    lines = text.splitlines()
    headers = []
    for index, line in enumerate(lines):
        match = _HEADER.match(line)
        if match:
            name = match.group(2).strip()
            headers.append((index, name == "partners" or name.startswith("partners.")))
    headers.append((len(lines), False))
    keep = [True] * len(lines)
    first = None
    for (start, is_partner), (end, next_is_partner) in pairwise(headers):
        if not is_partner:
            continue
        # Comments and blank lines just before the next table belong to it (blank lines between
        # two partner blocks go: the rendered blocks bring their own).
        stop = end
        while stop > start + 1 and (not lines[stop - 1].strip() or lines[stop - 1].lstrip().startswith("#")):
            stop -= 1
        for i in range(start, end):
            if i < stop or (next_is_partner and not lines[i].strip()):
                keep[i] = False
        first = start if first is None else first
    rendered = render_partners(partners).splitlines()
    out: list[str] = []
    for index, line in enumerate(lines):
        if index == first:
            out.extend(rendered)
        if keep[index]:
            out.append(line)
    if first is None:
        out.extend(["", *rendered])
    result = "\n".join(out).rstrip("\n") + "\n"
    if partners_of(result) != partners:  # pragma: no cover - a safety net for odd layouts
        raise AdminError("invalid")
    return result


def _partner(partners: list[dict[str, Any]], key: str) -> dict[str, Any]:
    found = next((p for p in partners if p.get("key") == key), None)
    if found is None:
        raise AdminError("unknown_partner")
    return found


def _level(value: str) -> int | str:
    value = (value or "").strip()
    return int(value) if value.isdigit() else value


def edited_partners(text: str, action: str, form: dict[str, str], base_url: str = "") -> list[dict[str, Any]]:
    """The partner tables after one edit (validation comes after, on the whole text). Existing ids
    match as written or with `{base_url}` replaced."""
    partners = partners_of(text)
    get = {k: (v or "").strip() for k, v in form.items()}.get

    def same(raw: Any, given: str | None) -> bool:
        return isinstance(raw, str) and given is not None and given in (raw, raw.replace("{base_url}", base_url))
    if action == "add_partner":
        if not get("key") or not get("name") or not get("issuer_id"):
            raise AdminError("missing_field")
        partner: dict[str, Any] = {"key": get("key"), "name": get("name"), "issuer_ids": [get("issuer_id")]}
        if get("url"):
            partner["url"] = get("url")
        partners.append(partner)
    elif action == "remove_partner":
        partners.remove(_partner(partners, get("partner") or ""))
    elif action == "add_issuer":
        if not get("issuer_id"):
            raise AdminError("missing_field")
        _partner(partners, get("partner") or "").setdefault("issuer_ids", []).append(get("issuer_id"))
    elif action == "remove_issuer":
        ids = _partner(partners, get("partner") or "").get("issuer_ids", [])
        found = next((raw for raw in ids if same(raw, get("issuer_id"))), None)
        if found is None:
            raise AdminError("unknown_entry")
        ids.remove(found)
    elif action == "add_entry":
        if not get("id") or not get("skill") or not get("level"):
            raise AdminError("missing_field")
        entry: dict[str, Any] = {"id": get("id"), "skill": get("skill"), "level": _level(get("level") or "")}
        if get("name"):
            entry["name"] = get("name")
        _partner(partners, get("partner") or "").setdefault("catalogue", []).append(entry)
    elif action == "remove_entry":
        partner = _partner(partners, get("partner") or "")
        catalogue = partner.get("catalogue", [])
        entry = next((e for e in catalogue if same(e.get("id"), get("id"))), None)
        if entry is None:
            raise AdminError("unknown_entry")
        catalogue.remove(entry)
        if not catalogue:
            partner.pop("catalogue", None)
    else:
        raise AdminError("missing_field")
    return partners


def edit_partners(session: Session, actor: User, action: str, form: dict[str, str],
                  app: Flask | None = None) -> referentials.Loaded:
    """Apply one edit to the partners and publish it as a NEW validated referential version.
    Raises AdminError('invalid') with line-precise problems (and the text) when it does not validate."""
    app = app or current_app
    text = current_text(session, app)
    new_text = replace_partners(text, edited_partners(text, action, form, app.config["BASE_URL"]))
    problems = check_text(new_text, app)
    if problems:
        raise AdminError("invalid", problems, new_text)
    try:
        loaded = referentials.store(session, new_text, "upload", user=actor, app=app)
    except ReferentialError as err:
        raise AdminError("invalid", err.problems, new_text) from None
    if not loaded.changed:
        raise AdminError("unchanged")
    _audit(session, actor, "referential.partners_edited", None, action)
    session.commit()
    return loaded


# ------------------------------------------------------------------------------ what changes for learners

@dataclass(frozen=True, slots=True)
class BadgeChange:
    key: str
    name: str
    before: int        # learners eligible (or holding it) under the referential in force
    after: int         # … under the new text
    gained: int
    lost: int
    status: str = ""   # "" | "new" | "removed"


@dataclass(frozen=True, slots=True)
class Changes:
    learners: int
    rows: tuple[BadgeChange, ...] = field(default_factory=tuple)


_ELIGIBLE = ("eligible", "obtained")


def _eligible_keys(referential, verdicts: list[dict], now: datetime) -> set[str]:
    return {r.badge.key for r in evaluate(referential, verdicts, now) if r.state in _ELIGIBLE}


def changes_for_learners(session: Session, new_text: str, now: datetime | None = None, lang: str = "fr",
                         app: Flask | None = None) -> Changes:
    """Every learner's eligibility under the referential in force and under `new_text` (raises
    ReferentialError when the text is not valid)."""
    app = app or current_app
    now = now or utcnow()
    old = referentials.current(session, app)
    new = load_referential(new_text, base_url=app.config["BASE_URL"], include_demo=_include_demo(app))
    learner_ids = list(session.scalars(select(User.id).where(User.role == "learner")))
    verdicts: dict[int, list[dict]] = {uid: [] for uid in learner_ids}
    for owner_id, verdict in session.execute(select(Badge.owner_id, Badge.verdict)
                                             .where(Badge.owner_id.in_(learner_ids))):
        try:
            verdicts[owner_id].append(json.loads(verdict))
        except ValueError:
            continue
    session.commit()
    before: Counter[str] = Counter()
    after: Counter[str] = Counter()
    gained: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    for items in verdicts.values():
        was = _eligible_keys(old, items, now)
        now_ = _eligible_keys(new, items, now)
        before.update(was)
        after.update(now_)
        gained.update(now_ - was)
        lost.update(was - now_)
    rows = []
    old_keys = {b.key for b in old.badges}
    new_keys = {b.key for b in new.badges}
    for badge in new.badges:
        rows.append(BadgeChange(badge.key, badge.name.get(lang), before[badge.key], after[badge.key],
                                gained[badge.key], lost[badge.key], "" if badge.key in old_keys else "new"))
    for badge in old.badges:
        if badge.key not in new_keys:
            rows.append(BadgeChange(badge.key, badge.name.get(lang), before[badge.key], 0, 0, lost[badge.key],
                                    "removed"))
    return Changes(len(learner_ids), tuple(rows))


# ------------------------------------------------------------------------------ issuer status

@dataclass(frozen=True, slots=True)
class IssuerStatus:
    backend: str
    approval: str
    issuer_id: str | None = None
    key_id: str | None = None
    key_problem: str | None = None
    issued: int = 0
    revoked: int = 0
    pending: int = 0
    dead: int = 0
    needs_staff: int = 0
    last_error: str | None = None
    last_event: dict | None = None  # {at, status, note} of the most recently updated claim


def issuer_status(session: Session, app: Flask | None = None) -> IssuerStatus:
    app = app or current_app
    backend = app.config["ISSUER"]
    values: dict[str, Any] = {"backend": backend, "approval": app.config.get("ISSUER_APPROVAL", "auto")}
    if backend == "builtin":
        from ..issuer_keys import IssuerKeyError, keys_for

        values["issuer_id"] = app.config["BASE_URL"] + "/issuers/region"
        try:
            values["key_id"] = keys_for(app).current.id
        except IssuerKeyError as err:
            values["key_problem"] = str(err)
        values["issued"] = session.scalar(select(func.count(IssuedCredential.id))) or 0
        values["revoked"] = session.scalar(select(func.count(IssuedCredential.id))
                                           .where(IssuedCredential.revoked_at.is_not(None))) or 0
    values["pending"] = session.scalar(select(func.count(Outbox.id)).where(Outbox.state == "pending")) or 0
    values["dead"] = session.scalar(select(func.count(Outbox.id)).where(Outbox.state == "dead")) or 0
    values["needs_staff"] = session.scalar(select(func.count(Claim.id)).where(Claim.needs_staff.is_(True))) or 0
    values["last_error"] = session.scalar(select(Outbox.last_error).where(Outbox.last_error.is_not(None))
                                          .order_by(Outbox.id.desc()).limit(1))
    history = session.scalar(select(Claim.history).where(Claim.issuer_backend == backend)
                             .order_by(Claim.updated_at.desc(), Claim.id.desc()).limit(1))
    if history:
        try:
            events = json.loads(history)
            values["last_event"] = events[-1] if events else None
        except (ValueError, IndexError):
            pass
    session.commit()
    return IssuerStatus(**values)


# ------------------------------------------------------------------------------ figures

@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    percent: int  # of the largest value in its chart (0–100), for the bar's width


@dataclass(frozen=True, slots=True)
class Figures:
    learners: int
    counsellors: int
    admins: int
    badges: int
    badges_by_status: tuple[Bar, ...]
    claims_by_state: tuple[Bar, ...]
    issued_by_badge: tuple[Bar, ...]


def _bars(pairs: list[tuple[str, int]]) -> tuple[Bar, ...]:
    top = max((v for _k, v in pairs), default=0)
    return tuple(Bar(label, value, round(100 * value / top) if top else 0) for label, value in pairs)


def figures(session: Session, lang: str = "fr", app: Flask | None = None) -> Figures:
    roles = dict(session.execute(select(User.role, func.count(User.id)).group_by(User.role)).all())
    by_status = sorted(session.execute(select(Badge.status, func.count(Badge.id)).group_by(Badge.status)).all(),
                       key=lambda row: (-row[1], row[0]))
    by_state = dict(session.execute(select(Claim.status, func.count(Claim.id)).group_by(Claim.status)).all())
    issued = dict(session.execute(select(Claim.regional_badge_key, func.count(Claim.id))
                                  .where(Claim.status == "issued").group_by(Claim.regional_badge_key)).all())
    session.commit()
    referential = referentials.current(session, app)
    issued_rows = [(b.name.get(lang), issued.get(b.key, 0)) for b in referential.badges]
    return Figures(
        learners=roles.get("learner", 0), counsellors=roles.get("counsellor", 0), admins=roles.get("admin", 0),
        badges=sum(count for _s, count in by_status),
        badges_by_status=_bars([(str(s), int(c)) for s, c in by_status]),
        claims_by_state=_bars([(s, int(by_state.get(s, 0))) for s in CLAIM_STATES]),
        issued_by_badge=_bars(issued_rows),
    )
