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


def test_migration_0014_fills_the_facts_of_existing_badges(tmp_path):
    import json
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from wallet.eligibility import eligibility_facts

    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        migrate.upgrade(engine, "0013_public_pages")
        now = datetime(2026, 12, 4, tzinfo=UTC)
        verdict = {"status": "valid", "id": "urn:uuid:1", "expires": None, "checks": [{"id": "proof"}],
                   "badge": {"id": "https://p.example/b/1", "name": "B", "tags": ["t"],
                             "alignments": [{"name": "n", "url": "https://r.example/s", "framework": None,
                                             "code": "C"}]},
                   "issuer": {"id": "https://p.example/i", "name": "P"}, "recipient": {"matched": True}}
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO users (id, display_name, role, locale, password_hash, session_token,"
                                 " created_at) VALUES (1, 'A', 'learner', 'fr', 'x', 't', :now)"), {"now": now})
            for n, text in enumerate([json.dumps(verdict), "not json", "[]"], start=1):
                conn.execute(sa.text(
                    "INSERT INTO badges (id, owner_id, credential_key, source, payload, payload_format, version,"
                    " name, description, issuer_id, issuer_name, badge_class_id, status, matched, recipient,"
                    " details, verdict, checked_at, created_at, rules_version) VALUES (:n, 1, :n, 'paste', '{}',"
                    " 'json', '2.0', '', '', '', '', '', 'valid', 1, '[]', '{}', :verdict, :now, :now, 2)"),
                    {"n": n, "verdict": text, "now": now})
        migrate.upgrade(engine)
        with engine.connect() as conn:
            facts = dict(conn.execute(sa.text("SELECT id, facts FROM badges")).all())
        assert json.loads(facts[1]) == eligibility_facts(verdict)
        assert facts[2] is None and facts[3] is None   # unreadable: its verdict is read instead
    finally:
        engine.dispose()
