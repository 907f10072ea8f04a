"""`flask --app app lago ...` and `flask --app app keys rotate`, for automation."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from portal import crypto
from portal.billing import catalogue, customer_import, customers, plan_seeding
from portal.billing.connection import (
    ConnectionInput,
    NotConnected,
    get_connection,
    lago_client,
    register_webhook_endpoint,
    save_connection,
    test_connection,
)
from portal.billing.seed_file import SeedFileError, read_seed_file
from portal.extensions import db
from portal.lago import LagoError, LagoValidationError
from portal.lago.webhook_key import UnreadableKey, read_public_key
from portal.models import BillingConnection, Provider, StripeSettings, Tenant, WebhookAlgorithm
from portal.payments import PaymentError

lago_cli = AppGroup("lago", help="Connect Pier to Lago.")
keys_cli = AppGroup("keys", help="Encryption keys for secrets at rest.")


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@lago_cli.command("connect")
@click.option("--url", "api_url", required=True, help="The Lago API URL.")
@click.option("--api-key", required=True, help="A Lago API key.")
@click.option(
    "--provider",
    type=click.Choice([p.value for p in Provider]),
    default=Provider.lago_self_hosted.value,
)
@click.option(
    "--webhook-algorithm", type=click.Choice(["jwt", "hmac"]), default="jwt", show_default=True
)
@click.option("--hmac-key", help="The organisation's HMAC key (for --webhook-algorithm hmac).")
@click.option(
    "--public-key-file",
    type=click.Path(exists=True, dir_okay=False),
    help="Lago's webhook public key: the PEM, or the base64 text Lago serves.",
)
@click.option("--issuer", help="The expected JWT issuer (defaults to the URL).")
def connect(api_url, api_key, provider, webhook_algorithm, hmac_key, public_key_file, issuer):
    """Test the connection, then save it (exit 1 with the reason when the test fails)."""
    if webhook_algorithm == "hmac" and not hmac_key:
        _fail("--webhook-algorithm hmac needs --hmac-key (Lago › Developers › Webhooks).")
    public_key = None
    if public_key_file:
        try:
            public_key = read_public_key(Path(public_key_file).read_text(errors="replace"))
        except UnreadableKey as exc:
            _fail(f"{public_key_file}: {exc}")
    data = ConnectionInput(
        Provider(provider),
        api_url,
        api_key.strip(),
        WebhookAlgorithm(webhook_algorithm),
        hmac_key,
        public_key,
        issuer,
    )
    report = test_connection(data)
    for step in report.steps:
        mark = {True: "ok", False: "FAILED", None: "skipped"}[step.ok]
        click.echo(f"  {step.label:<24} {mark:<8} {step.detail}")
    if not report.ok:
        _fail(f"{report.error.message} {report.error.hint}")
    save_connection(data, report)
    db.session.commit()
    for tenant_id in customers.unsynced_tenant_ids():
        customers.sync_after_commit(tenant_id)
    click.echo(f"Connected to {report.organization.name} ({report.organization.lago_id}).")


@lago_cli.command("status")
def status():
    """Say whether Lago is connected and reachable."""
    connection = get_connection()
    if connection is None:
        _fail(NotConnected.message)
    click.echo(f"Lago:          {connection.api_url} ({connection.provider.label})")
    click.echo(f"Organisation:  {connection.organization_name} ({connection.organization_id})")
    click.echo(
        f"Webhooks:      {connection.webhook_algorithm.value}, endpoint "
        f"{connection.webhook_endpoint_id or 'not registered'}"
    )
    click.echo(f"Last sync:     {connection.last_plan_sync_at or 'never'}")
    try:
        health = lago_client().health()
    except LagoError as exc:
        _fail(f"Lago is not reachable: {exc.message} {exc.hint}")
    click.echo(f"Reachable:     yes (Lago {health.version or 'version unknown'})")


@lago_cli.command("import-plans")
def import_plans():
    """Import every Lago plan into the catalogue and refresh the imported ones."""
    try:
        result = catalogue.sync_catalogue(lago_client(), import_new=True)
    except NotConnected as exc:
        _fail(exc.message)
    except LagoError as exc:
        _fail(f"{exc.message} {exc.hint}")
    db.session.commit()
    click.echo(f"Plans: {result.summary()}.")


@lago_cli.command("seed-plans")
@click.argument("path", type=click.Path(dir_okay=False))
def seed_plans(path):
    """Create or update Lago's billable metrics and plans from a YAML file (safe to run twice)."""
    try:
        seed = read_seed_file(path)
        report = plan_seeding.seed_plans(lago_client(), seed)
    except SeedFileError as exc:
        _fail(f"{path} was not applied:\n  " + "\n  ".join(exc.problems))
    except NotConnected as exc:
        _fail(exc.message)
    except LagoValidationError as exc:
        fields = "; ".join(f"{k}: {', '.join(v)}" for k, v in exc.field_errors.items())
        _fail(f"Lago refused {exc.request}: {exc.message} ({fields})")
    except LagoError as exc:
        _fail(f"{exc.message} {exc.hint}")
    for kind, labels in (
        ("created", report.created),
        ("updated", report.updated),
        ("unchanged", report.unchanged),
    ):
        for label in labels:
            click.echo(f"  {kind:<10} {label}")
    for warning in report.warnings:
        click.echo(f"Warning: {warning}")
    click.echo(f"Billable metrics and plans: {report.summary()}.")


@lago_cli.command("import-customers")
@click.option("--dry-run", is_flag=True, help="Print what would happen; change nothing.")
@click.option(
    "--user-id-key",
    default="created_by_user_id",
    show_default=True,
    help="The tenant metadata key holding the user id older integrations keyed customers by.",
)
def import_customers(dry_run, user_id_key):
    """Match Lago customers keyed by a user id to tenants, then re-key or map them (audited)."""
    try:
        client = lago_client()
        matches = customer_import.plan_import(client, user_id_key)
    except NotConnected as exc:
        _fail(exc.message)
    except LagoError as exc:
        _fail(f"{exc.message} {exc.hint}")
    counts: dict[str, int] = {}
    failed = 0
    for match in matches:
        counts[match.action] = counts.get(match.action, 0) + 1
        if match.action == "keyed":
            continue
        click.echo(f"  {match.describe()}")
        if dry_run or match.action not in ("rekey", "map"):
            continue
        try:
            customer_import.apply(client, match)
        except LagoError as exc:
            db.session.rollback()
            failed += 1
            click.echo(f"    failed: {exc.message} {exc.hint}".rstrip())
            continue
        db.session.commit()
    order = ("rekey", "map", "keyed", "unmatched", "ambiguous", "conflict")
    summary = ", ".join(f"{counts.get(action, 0)} {action}" for action in order)
    tail = " (dry run: nothing changed)" if dry_run else (f", {failed} failed" if failed else "")
    click.echo(f"Customers: {summary}{tail}.")
    if failed:
        sys.exit(1)


@lago_cli.command("sync-customers")
def sync_customers():
    """Write every organisation's Lago customer now (and its Stripe link when Stripe is set)."""
    failed = 0
    tenants = list(db.session.scalars(sa.select(Tenant).order_by(Tenant.id)))
    for tenant in tenants:
        try:
            synced = customers.sync_tenant(tenant)
        except (LagoError, PaymentError):
            synced = False
        db.session.commit()
        if not synced:
            failed += 1
            click.echo(f"{tenant.name}: {tenant.sync_last_error}")
    click.echo(f"Customers: {len(tenants) - failed} synced, {failed} failed.")
    if failed:
        sys.exit(1)


@lago_cli.command("register-webhook")
def register_webhook():
    """Create Pier's webhook endpoint in Lago (or keep the one already there)."""
    connection = get_connection()
    if connection is None:
        _fail(NotConnected.message)
    try:
        endpoint_id, created = register_webhook_endpoint(connection)
    except LagoError as exc:
        _fail(f"{exc.message} {exc.hint}")
    db.session.commit()
    click.echo(f"{'Registered' if created else 'Kept'} webhook endpoint {endpoint_id}.")


ENCRYPTED_COLUMNS = (
    (BillingConnection, ("api_key_encrypted", "hmac_key_encrypted")),
    (StripeSettings, ("secret_key_encrypted", "webhook_secrets_encrypted")),
)


@keys_cli.command("rotate")
def rotate():
    """Re-encrypt every stored secret with the newest key in PIER_ENCRYPTION_KEYS."""
    count = 0
    for model, columns in ENCRYPTED_COLUMNS:
        for row in db.session.scalars(sa.select(model)):
            for column in columns:
                token = getattr(row, column)
                if token:
                    try:
                        crypto.decrypt(token)  # MultiFernet.rotate raises a bare InvalidToken
                        setattr(row, column, crypto.rotate(token))
                    except crypto.SecretUnreadable as exc:
                        _fail(str(exc))
                    count += 1
    db.session.commit()
    click.echo(f"Re-encrypted {count} secret(s) with the newest key.")
