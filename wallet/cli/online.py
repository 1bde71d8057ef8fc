"""The Flask CLI group behind the `wallet` console script (online commands)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext


def _create_app(*_args, **_kwargs) -> Flask:
    from .. import create_app

    return create_app()


cli = FlaskGroup(create_app=_create_app, add_default_commands=True, add_version_option=False,
                 help="Portefeuille de badges — wallet commands.")


def register_commands(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(users_group)
    app.cli.add_command(worker)
    app.cli.add_command(contexts_group)
    app.cli.add_command(referential_group)
    app.cli.add_command(demo_command)


@click.group("db", help="Database schema.")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Apply every pending migration.")
@with_appcontext
def db_upgrade() -> None:
    from .. import db, migrate

    migrate.upgrade(db.engine())
    click.echo("Database is up to date.")


@db_group.command("revision", help="Autogenerate a migration (developers).")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    from .. import db, migrate

    migrate.revision(db.engine(), message)


@click.group("users", help="Accounts.")
def users_group() -> None:
    pass


@users_group.command("create-admin", help="Make EMAIL an admin (creating a confirmed account if needed).")
@click.argument("email")
@click.option("--password", envvar="WALLET_ADMIN_PASSWORD", help="Password for a new account "
              "(asked when missing; or WALLET_ADMIN_PASSWORD).")
@with_appcontext
def create_admin(email: str, password: str | None) -> None:
    from .. import db
    from ..services import accounts

    session = db.new_session()
    try:
        exists = accounts.find_account_email(session, email.strip().lower()) is not None
        if not exists and not password:
            password = click.prompt("Mot de passe / password", hide_input=True, confirmation_prompt=True)
        user = accounts.create_admin(session, email, password or "")
    except accounts.AccountError as err:
        raise click.ClickException(f"refused: {err.code}") from None
    finally:
        session.close()
    click.echo(f"{email} is now an admin (user #{user.id}).")



@click.command("worker", help="Background jobs: deliver claims, send mail, sync partner backpacks, "
               "apply retention periods and re-verify badges whose verdict is old.")
@click.option("--once", is_flag=True, help="Run the due jobs once and exit.")
@click.option("--interval", default=60, show_default=True, help="Seconds between two rounds.")
@click.option("--reverify-only", is_flag=True, help="Only re-verify stale badges (leased: run several "
              "such workers beside one full worker to share a region's re-verifications, on PostgreSQL).")
@with_appcontext
def worker(once: bool, interval: int, reverify_only: bool) -> None:
    import time

    from flask import current_app

    from ..services import jobs

    run = jobs.run_reverifications if reverify_only else jobs.run_due
    while True:
        report = run(current_app)
        click.echo(report.summary())
        if once:
            return
        if not (reverify_only and report.reverified):  # a backlog: go on at once
            time.sleep(interval)


@click.group("contexts", help="The JSON-LD context store used to verify signed badges offline.")
def contexts_group() -> None:
    pass


@contexts_group.command("sync", help="Fetch the published JSON-LD contexts into instance/contexts "
                        "(online installs), refusing any whose sha256 differs from the committed list.")
@with_appcontext
def contexts_sync() -> None:
    from pathlib import Path

    from flask import current_app

    from ..openbadges import context_sync
    from ..openbadges.errors import FetchError

    http = current_app.extensions["wallet_http"]
    target = Path(current_app.config.get("CONTEXTS_DIR") or Path(current_app.instance_path) / "contexts")
    target.mkdir(parents=True, exist_ok=True)
    done, failed = [], []
    for url, name, sha in context_sync.plan_sync(context_sync.packaged_listing()):
        try:
            response = http.request("GET", url, headers={"Accept": "application/ld+json, application/json"},
                                    max_bytes=1 << 20)
        except FetchError as err:
            failed.append(f"{url}: {err.reason}")
            continue
        if response.status != 200 or not context_sync.verify_download(response.body, sha):
            failed.append(f"{url}: HTTP {response.status} or sha256 mismatch")
            continue
        (target / name).write_bytes(response.body)
        done.append((url, name, sha))
    (target / "MANIFEST.tsv").write_text(context_sync.manifest_tsv(done))
    click.echo(f"{len(done)} contexts stored in {target}")
    for line in failed:
        click.echo(f"refused {line}", err=True)
    if failed:
        raise SystemExit(1)


@click.group("referential", help="The regional referential (`wallet referential check FILE` works offline).")
def referential_group() -> None:
    pass


@referential_group.command("load", help="Validate the configured referential (WALLET_REFERENTIAL, "
                            "default: the packaged Normandy file) and make it the version in force.")
@click.argument("path", required=False)
@with_appcontext
def referential_load(path: str | None) -> None:
    from pathlib import Path

    from flask import current_app

    from .. import db
    from ..eligibility.problems import ReferentialError
    from ..services import referentials

    file = Path(path) if path else referentials.configured_path(current_app)
    session = db.new_session()
    try:
        loaded = referentials.store(session, file.read_text(encoding="utf-8"), "file")
    except ReferentialError as err:
        for problem in err.problems:
            click.echo(problem.format(str(file)), err=True)
        raise SystemExit(1) from None
    finally:
        session.close()
    version = loaded.version
    state = "loaded" if loaded.changed else "already in force"
    click.echo(f"Referential {version.referential_id} {version.version} {state} ({file}).")


@click.command("demo", help="Seed demo partners, demo badges and a demo learner (never in production).")
@with_appcontext
def demo_command() -> None:
    from flask import current_app

    from ..services import demo

    try:
        info = demo.seed(current_app)
    except demo.DemoDisabled:
        raise click.ClickException("the demo is not available in production") from None
    click.echo("Demo ready.")
    click.echo(f"  learner: {info['email']}  password: {info['password']}")
    click.echo(f"  demo badges to download: {info['page']}")
