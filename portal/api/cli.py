"""`flask --app app api-token create|list|revoke`: API tokens from the command line."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from portal.api import tokens
from portal.extensions import db

api_token_cli = AppGroup("api-token", help="Tokens for the JSON API (/api/v1).")


@api_token_cli.command("create")
@click.option("--name", required=True, help="Who or what uses it, e.g. 'backend production'.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(["read", "write"]),
    default=("read",),
    show_default=True,
    help="Repeat for both; write also allows reading.",
)
def create(name: str, scopes: tuple[str, ...]) -> None:
    """Create a token and print its secret once."""
    try:
        token, secret = tokens.create_token(name, list(scopes), None)
    except tokens.TokenProblem as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Created API token {token.id} ({token.name}, {', '.join(token.scopes)}).")
    click.echo("Its secret is shown only now; store it in the host application's settings:")
    click.echo(secret)


@api_token_cli.command("list")
def list_() -> None:
    """Every token: id, name, scopes, last use, revoked."""
    for token in tokens.list_tokens():
        used = token.last_used_at.isoformat() if token.last_used_at else "never used"
        state = f"revoked {token.revoked_at.isoformat()}" if token.revoked_at else "active"
        click.echo(
            f"{token.id}\t{token.name}\t{','.join(token.scopes)}\t{token.prefix}…\t{used}\t{state}"
        )


@api_token_cli.command("revoke")
@click.argument("token_id", type=int)
def revoke(token_id: int) -> None:
    """Revoke a token for good."""
    token = tokens.revoke_token(token_id)
    if token is None:
        click.echo(f"Error: there is no API token {token_id}.", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Revoked API token {token.id} ({token.name}).")
