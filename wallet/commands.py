"""The Flask CLI group behind the `wallet` console script (online commands)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext


def _create_app(*_args, **_kwargs) -> Flask:
    from . import create_app

    return create_app()


cli = FlaskGroup(create_app=_create_app, add_default_commands=True, add_version_option=False,
                 help="Portefeuille de badges — wallet commands.")


def register_commands(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(users_group)


@click.group("db", help="Database schema.")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Apply every pending migration.")
@with_appcontext
def db_upgrade() -> None:
    from . import db, migrate

    migrate.upgrade(db.engine())
    click.echo("Database is up to date.")


@db_group.command("revision", help="Autogenerate a migration (developers).")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    from . import db, migrate

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
    from . import db
    from .services import accounts

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

