"""Stripe's keys: saved by a platform admin (encrypted, masked) or set in the environment.

Saved settings win over the environment, field by field; webhook secrets from both are tried.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from portal import audit, crypto
from portal.extensions import db
from portal.models import StripeSettings, utcnow
from portal.payments import errors
from portal.payments.client import Payments, deadline
from portal.payments.types import Account

STRIPE_JS_URL = "https://js.stripe.com/v3/"


@dataclass(frozen=True)
class Effective:
    """The Stripe settings in force."""

    secret_key: str
    publishable_key: str
    webhook_secrets: tuple[str, ...]
    api_base: str
    js_url: str
    provider_code: str

    @property
    def configured(self) -> bool:
        return bool(self.secret_key)

    @property
    def browser_ready(self) -> bool:
        """Stripe.js can run: a publishable key is known."""
        return bool(self.secret_key and self.publishable_key)


def saved() -> StripeSettings | None:
    """The saved row, if a platform admin saved one."""
    return db.session.scalar(sa.select(StripeSettings).order_by(StripeSettings.id).limit(1))


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def effective() -> Effective:
    """What is in force now: the saved settings, else the environment."""
    config = current_app.config
    row = saved()
    secret = crypto.decrypt(row.secret_key_encrypted) if row and row.secret_key_encrypted else ""
    saved_hooks = (
        _split(crypto.decrypt(row.webhook_secrets_encrypted))
        if row and row.webhook_secrets_encrypted
        else []
    )
    env_hooks = list(config.get("STRIPE_WEBHOOK_SECRETS") or [])
    return Effective(
        secret_key=secret or config.get("STRIPE_SECRET_KEY", ""),
        publishable_key=(row.publishable_key if row else None)
        or config.get("STRIPE_PUBLISHABLE_KEY", ""),
        webhook_secrets=tuple(dict.fromkeys([*saved_hooks, *env_hooks])),
        api_base=(row.api_base if row else None) or config.get("STRIPE_API_BASE", ""),
        js_url=(row.js_url if row else None) or config.get("STRIPE_JS_URL") or STRIPE_JS_URL,
        provider_code=(row.payment_provider_code if row else None)
        or config.get("STRIPE_PROVIDER_CODE", "stripe"),
    )


def build(secret_key: str, api_base: str = "") -> Payments:
    """An adapter with the app's retries and timeouts."""
    config = current_app.config
    return Payments(
        secret_key,
        api_base=api_base or None,
        max_retries=config.get("STRIPE_MAX_RETRIES", 2),
        connect_timeout=config.get("STRIPE_CONNECT_TIMEOUT", 3.0),
        read_timeout=config.get("STRIPE_READ_TIMEOUT", 10.0),
    )


def payments() -> Payments:
    """The app's adapter for the settings in force (rebuilt when they change).

    Raises NotConfigured without a secret key. In a request, every call shares the
    request's deadline (`STRIPE_REQUEST_DEADLINE`).
    """
    current = effective()
    if not current.configured:
        raise errors.NotConfigured("no Stripe secret key")
    fingerprint = hashlib.sha256(f"{current.api_base}\0{current.secret_key}".encode()).hexdigest()
    cached = current_app.extensions.get("pier_stripe")
    if cached is None or cached[0] != fingerprint:
        cached = (fingerprint, build(current.secret_key, current.api_base))
        current_app.extensions["pier_stripe"] = cached
    return cached[1]


def request_deadline():
    """The total time the Stripe calls of this request may take (a context manager)."""
    return deadline(float(current_app.config.get("STRIPE_REQUEST_DEADLINE", 15)))


def test_connection(secret_key: str, api_base: str) -> Account:
    """Read the account with these keys (raises PaymentError with its sentence)."""
    with request_deadline():
        return build(secret_key, api_base).account()


@dataclass(frozen=True)
class SettingsInput:
    """What a platform admin gives on Settings › Billing › Stripe (blank secret: keep)."""

    secret_key: str
    publishable_key: str
    webhook_secrets: str
    provider_code: str
    api_base: str = ""
    js_url: str = ""


def save(given: SettingsInput) -> tuple[StripeSettings, Account]:
    """Test the key, then save everything (secrets encrypted); audited. The caller commits."""
    row = saved()
    secret = given.secret_key.strip() or (
        crypto.decrypt(row.secret_key_encrypted) if row and row.secret_key_encrypted else ""
    )
    if not secret:
        raise errors.NotConfigured("Enter Stripe's secret key.")
    account = test_connection(secret, given.api_base.strip())
    before = _describe(row) if row else None
    if row is None:
        row = StripeSettings()
        db.session.add(row)
    row.secret_key_encrypted = crypto.encrypt(secret)
    row.publishable_key = given.publishable_key.strip() or None
    hooks = ",".join(_split(given.webhook_secrets))
    if hooks:
        row.webhook_secrets_encrypted = crypto.encrypt(hooks)
    row.payment_provider_code = given.provider_code.strip() or "stripe"
    row.api_base = given.api_base.strip() or None
    row.js_url = given.js_url.strip() or None
    row.account_id = account.id
    row.account_name = account.name
    row.last_tested_at = utcnow()
    db.session.flush()
    audit.record("stripe.settings_saved", target=row, before=before, after=_describe(row))
    current_app.extensions.pop("pier_stripe", None)
    return row, account


def _describe(row: StripeSettings) -> dict:
    return {
        "secret_key": masked_secret(row),
        "publishable_key": row.publishable_key,
        "payment_provider_code": row.payment_provider_code,
        "api_base": row.api_base,
        "js_url": row.js_url,
        "account_id": row.account_id,
    }


def masked_secret(row: StripeSettings | None) -> str:
    """The saved secret key as the page shows it."""
    if row is None or not row.secret_key_encrypted:
        return ""
    return crypto.mask(crypto.decrypt(row.secret_key_encrypted))


def masked_webhook_secrets(row: StripeSettings | None) -> list[str]:
    if row is None or not row.webhook_secrets_encrypted:
        return []
    return [crypto.mask(s) for s in _split(crypto.decrypt(row.webhook_secrets_encrypted))]
