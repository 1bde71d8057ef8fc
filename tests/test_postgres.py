"""The PostgreSQL pass of .ci/run really runs on PostgreSQL, and the migrations apply there.

These tests carry the `postgres` marker: `make test` leaves them out; .ci/run starts a throwaway
cluster (scripts/pg_cluster.sh), exports WALLET_TEST_DATABASE_URL and runs them. Without that
variable they fail (tests/conftest.py): a PostgreSQL test silently run on SQLite proves nothing.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.postgres


def test_the_app_runs_on_postgresql(app):
    from wallet.db import Base, engine

    with app.app_context():
        eng = engine()
        assert eng.dialect.name == "postgresql"
        with eng.connect() as conn:
            assert conn.execute(text("select current_database()")).scalar() == eng.url.database
        assert set(Base.metadata.tables) <= set(inspect(eng).get_table_names())


def test_migrations_apply_to_an_empty_postgresql_database():
    from sqlalchemy import create_engine

    from wallet.db import make_engine
    from wallet.migrate import upgrade

    url = make_url(os.environ["WALLET_TEST_DATABASE_URL"])
    name = f"wallet_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        fresh = make_engine(url.set(database=name).render_as_string(hide_password=False))
        try:
            upgrade(fresh)
            with fresh.connect() as conn:
                assert conn.execute(text("select count(*) from alembic_version")).scalar() == 1
            assert len(inspect(fresh).get_table_names()) > 1
        finally:
            fresh.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _sessions(url: str):
    from sqlalchemy.orm import sessionmaker

    from wallet.db import make_engine

    engine = make_engine(url)
    return engine, sessionmaker(bind=engine)


def test_a_request_that_only_read_keeps_its_prepared_statements():
    """psycopg forgets its prepared statements on ROLLBACK: each read-only request (closed without
    commit) planned all its queries anew. Its transaction is now committed, and the sixth request
    on a connection finds the statement prepared."""
    engine, factory = _sessions(os.environ["WALLET_TEST_DATABASE_URL"])
    query = text("SELECT count(*) FROM pg_class WHERE relname = :name")
    try:
        for _ in range(6):
            session = factory()
            session.execute(query, {"name": "users"}).scalar()
            session.close()  # what a request's teardown does
        session = factory()
        prepared = session.execute(text("SELECT statement FROM pg_prepared_statements")).scalars().all()
        session.close()
        assert any("pg_class" in statement for statement in prepared), prepared
    finally:
        engine.dispose()


def test_a_session_closed_after_writing_is_still_rolled_back():
    engine, factory = _sessions(os.environ["WALLET_TEST_DATABASE_URL"])
    table = f"t_{uuid.uuid4().hex[:8]}"
    try:
        with engine.begin() as conn:
            conn.execute(text(f"CREATE TABLE {table} (n integer)"))
        for first in ("SELECT 1", None):  # a write after reads, and a write alone
            session = factory()
            if first:
                session.execute(text(first))
            session.execute(text(f"INSERT INTO {table} VALUES (1)"))
            session.execute(text(f"SELECT count(*) FROM {table}"))
            session.close()
        failed = factory()  # a read that failed: its transaction is aborted, the close still ends it
        with pytest.raises(Exception, match="does_not_exist"):
            failed.execute(text("SELECT does_not_exist FROM pg_class"))
        failed.close()
        with engine.connect() as conn:
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0
            assert conn.execute(text("SELECT 1")).scalar() == 1
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        engine.dispose()
