"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tests.conftest import TEST_PG_URL
from wallet import migrate
from wallet.db import Base, make_engine


def test_migrations_match_the_models(tmp_path):
    url = TEST_PG_URL or f"sqlite:///{tmp_path / 'm.db'}"
    engine = make_engine(url)
    try:
        if TEST_PG_URL:
            with engine.begin() as conn:
                Base.metadata.drop_all(conn)
                conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        migrate.upgrade(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        assert {"users", "emails", "badges"} <= set(inspect(engine).get_table_names())
    finally:
        if TEST_PG_URL:
            with engine.begin() as conn:
                Base.metadata.drop_all(conn)
                conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        engine.dispose()
