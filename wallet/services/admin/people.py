"""People and roles in the staff console: the list (with a search), changing a role (the last admin
stays one), and the roles' names."""

from __future__ import annotations

from flask_babel import pgettext
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from ... import db
from ...models import ROLES, Email, User
from .base import AdminError, audit

MAX_USERS_LISTED = 200


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
    audit(session, actor, "role.changed", user.id, f"{old} -> {role}")
    session.commit()
    return user


def role_label(role: str) -> str:
    return {"learner": pgettext("role", "titulaire d'un portefeuille"),
            "counsellor": pgettext("role", "personne qui accompagne"),
            "admin": pgettext("role", "membre de l'équipe régionale")}.get(role, role)
