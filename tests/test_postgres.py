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
