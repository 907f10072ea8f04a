"""Command-line tools: `flask --app app admin create`, `flask --app app demo seed`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from portal.extensions import db
from portal.models import Membership, Role, Tenant, User
from portal.validation import normalise_email, password_problem

admin_cli = AppGroup("admin", help="Platform administrators.")
demo_cli = AppGroup("demo", help="Demo data.")


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@admin_cli.command("create")
@click.option("--email", required=True, help="The admin's email address.")
@click.option("--password", required=True, help="At least 10 characters.")
@click.option("--name", default="Platform admin", show_default=True)
def create_admin(email: str, password: str, name: str) -> None:
    """Create a platform admin without prompting."""
    try:
        email = normalise_email(email)
    except ValueError as exc:
        _fail(f"that email address is not valid: {exc}")
    problem = password_problem(password, email)
    if problem:
        _fail(f"that password is not accepted: {problem}")
    if User.by_email(email) is not None:
        _fail(f"a user with the email {email} already exists.")
    user = User(email=email, name=name, is_platform_admin=True)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"Created platform admin {email}.")


DEMO_PASSWORD = "pier-demo-password"  # noqa: S105 - printed demo logins
# `.example` is reserved for examples (RFC 2606) and passes the email checks real users get.
DEMO_USERS = (
    ("admin@pier.example", "Ada Admin", None),
    ("owner@acme.example", "Olivia Owner", Role.owner),
    ("billing@acme.example", "Bruno Billing", Role.billing_admin),
    ("member@acme.example", "Mia Member", Role.member),
)


@demo_cli.command("seed")
def seed_demo() -> None:
    """Create the demo admin, tenant and members (safe to run twice)."""
    tenant = db.session.scalar(db.select(Tenant).where(Tenant.name == "Acme Inc."))
    if tenant is None:
        tenant = Tenant(name="Acme Inc.", timezone="Europe/Paris")
        db.session.add(tenant)
    if tenant.billing_email in (None, "billing@acme.localhost"):
        tenant.billing_email = "billing@acme.example"
    for email, name, role in DEMO_USERS:
        user = User.by_email(email) or User.by_email(email.replace(".example", ".localhost"))
        if user is not None:
            user.email = email  # demo databases seeded with `.localhost` addresses move over
        else:
            user = User(
                email=email, name=name, timezone="Europe/Paris", is_platform_admin=role is None
            )
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
        if role is not None and not any(m.tenant is tenant for m in user.memberships):
            db.session.add(Membership(user=user, tenant=tenant, role=role))
    db.session.commit()
    for email, _, role in DEMO_USERS:
        click.echo(f"  {email:<26} {DEMO_PASSWORD}   ({role.label if role else 'Platform admin'})")
