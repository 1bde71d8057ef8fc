"""The database: engine, one session per request, SQLite pragmas.

The only module (with the models/ package) that touches the database layer. Services receive a Session and
commit once per use case; views never commit.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, g
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    pass


def make_engine(url: str) -> Engine:
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 5}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        _sqlite_pragmas(engine)
    elif engine.dialect.driver == "psycopg":
        _keep_prepared_statements(engine)
    return engine


def _keep_prepared_statements(engine: Engine) -> None:
    """psycopg prepares a statement on its fifth use on a connection, so that PostgreSQL plans it
    once, but forgets every prepared statement on each ROLLBACK; and a request that only read ends
    its transaction with one (the session's close). Every query of every page was then planned
    anew: 0.7 ms for a public page's one statement, seven times its execution. A transaction that
    only ran SELECTs is committed instead, which leaves the data exactly as a rollback would and
    keeps the plans. Any other statement (a write, a savepoint, a CTE) keeps the real rollback; the
    app runs no SELECT with a side effect that a rollback would undo (pg_notify, a writing function)."""
    from psycopg.pq import TransactionStatus

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.info["wallet_wrote"] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _on_execute(conn, _cursor, statement, _parameters, _context, _executemany):
        if statement.lstrip()[:6].upper() != "SELECT":
            conn.info["wallet_wrote"] = True

    @event.listens_for(engine, "rollback")
    def _on_rollback(conn):
        if conn.info.get("wallet_wrote") is not False:
            return
        raw = conn.connection.dbapi_connection
        if raw is not None and raw.info.transaction_status == TransactionStatus.INTRANS:
            try:
                raw.commit()  # the rollback that follows finds no transaction and clears nothing
            except Exception:  # the ordinary rollback that follows still ends the transaction
                logging.getLogger("wallet").warning("read-only transaction not committed", exc_info=True)


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised by every SQLite test
        # Let SQLAlchemy emit BEGIN itself so that write transactions are real transactions.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=5000")
        if ":memory:" not in str(engine.url):
            cur.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: durable across application crashes; a power loss may drop the last commits.
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover
        # Write use cases that read then write under contention (claims) ask for IMMEDIATE: the
        # write lock is taken at BEGIN, so a second writer waits (busy_timeout) instead of failing.
        immediate = conn.get_execution_options().get("sqlite_immediate")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    factory = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
    app.extensions["wallet_db"] = {"engine": engine, "sessionmaker": factory}

    @app.teardown_appcontext
    def _close_session(_exc):
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def engine(app: Flask | None = None) -> Engine:
    from flask import current_app

    return (app or current_app).extensions["wallet_db"]["engine"]


def new_session(app: Flask | None = None) -> Session:
    """A session not tied to a request (CLI, worker)."""
    from flask import current_app

    return (app or current_app).extensions["wallet_db"]["sessionmaker"]()


def begin_write(session: Session) -> None:
    """Start the session's transaction as a writer (BEGIN IMMEDIATE on SQLite; a no-op elsewhere).

    Call it first in a use case that reads then writes rows other requests may write concurrently.
    """
    if session.in_transaction():
        session.commit()
    if session.get_bind().dialect.name == "sqlite":
        session.connection(execution_options={"sqlite_immediate": True})


def get_session() -> Session:
    """The request's session, created on first use and closed at teardown."""
    if "db_session" not in g:
        g.db_session = new_session()
    return g.db_session
