"""What /healthz asks: does the database answer?"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def database_answers(session: Session) -> None:
    """One round trip to the database; raises when it does not answer."""
    session.execute(text("SELECT 1"))
