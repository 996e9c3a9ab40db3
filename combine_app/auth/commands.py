"""The ``users`` and ``tokens`` command groups of ``flask --app wsgi``."""

from __future__ import annotations

import secrets
import sys

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from combine_app.auth import service
from combine_app.auth.models import User
from combine_app.errors import AppError
from combine_app.extensions import db

users_cli = AppGroup("users", help="Manage user accounts.")
tokens_cli = AppGroup("tokens", help="Manage API tokens.")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_cli.command("create")
@click.argument("username")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(username: str, admin: bool, password_stdin: bool) -> None:
    """Create a user; prompts twice for the password unless --password-stdin."""
    if service.find_user(username) is not None:
        raise click.ClickException(f"A user named {username!r} already exists.")
    password = _read_password(password_stdin)
    try:
        service.create_user(username, password, is_admin=admin)
    except AppError as error:
        raise click.ClickException(error.detail) from error
    db.session.commit()
    click.echo(f"Created {'administrator' if admin else 'user'} {username}.")


@users_cli.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def set_password_command(username: str, password_stdin: bool) -> None:
    """Set a new password for an existing user."""
    user = service.find_user(username)
    if user is None:
        raise click.ClickException(f"No user named {username!r}.")
    password = _read_password(password_stdin)
    if len(password) < service.MIN_PASSWORD_LENGTH:
        raise click.ClickException(
            f"A password needs at least {service.MIN_PASSWORD_LENGTH} characters."
        )
    user.set_password(password)
    db.session.commit()
    click.echo(f"Password changed for {username}.")


@users_cli.command("ensure-admin")
@click.option("--host", default="127.0.0.1", show_default=True, help="Where the app will listen.")
@click.option("--port", default=5000, show_default=True, type=int, help="Its port.")
def ensure_admin_command(host: str, port: int) -> None:
    """On an empty database, create an administrator and print how to sign in."""
    login = f"http://{host}:{port}/login"
    if db.session.scalar(select(func.count()).select_from(User)):
        click.echo(f"Sign in with an existing account at {login}")
        click.echo("(forgotten password: flask --app wsgi users password USERNAME)")
        return
    password = secrets.token_urlsafe(12)
    service.create_user("admin", password, is_admin=True)
    db.session.commit()
    click.echo("First start: created an administrator account.")
    click.echo(f"  Sign in at {login}")
    click.echo("  username: admin")
    click.echo(f"  password: {password}")
    click.echo(
        "This password is shown only now; change it with: flask --app wsgi users password admin"
    )


@tokens_cli.command("create")
@click.argument("username")
@click.option("--name", "label", default="cli", show_default=True, help="A label for the token.")
def create_token_command(username: str, label: str) -> None:
    """Issue an API token; prints it alone on the last line. Only its hash is stored."""
    user = service.find_user(username)
    if user is None:
        raise click.ClickException(f"No user named {username!r}.")
    value = service.create_token(user, label[:100])
    db.session.commit()
    click.echo(f"Token {label!r} for {username} (shown once; store it now):")
    click.echo(value)
