"""Settings read from the environment and checked at start."""

from __future__ import annotations

import hashlib
import os
import re
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

DEV_SECRET_KEY = "dev-only-secret-key-change-me"  # noqa: S105 - the refused default
INSTANCE_NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")
MAX_PROXY_HOPS = 5


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message says what to set."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from exc


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}.") from exc
    if not value > 0:
        raise ConfigError(f"{name} must be more than 0 seconds, not {raw!r}.")
    return value


def _list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


WEBHOOK_MAX_BYTES_DEFAULT = 256 * 1024


def webhook_max_bytes() -> int:
    """The largest webhook body Pier accepts (PIER_WEBHOOK_MAX_BYTES)."""
    return _int("PIER_WEBHOOK_MAX_BYTES", WEBHOOK_MAX_BYTES_DEFAULT)


def webhook_header_limit(max_body_bytes: int) -> int:
    """The largest request header field that carries a signature of such a body.

    Lago's JWT signature carries the body as its `data` claim: the body is JSON-escaped (quotes
    and backslashes doubled; half again covers any realistic body), then base64url-encoded
    (4/3), and joined to the token's header and an RSA signature of up to 4096 bits.
    """
    escaped = max_body_bytes * 3 // 2
    return -(-escaped * 4 // 3) + 4096


def default_sqlite_url(instance_path: str) -> str:
    """The embedded database: a SQLite file in the instance folder."""
    return "sqlite:///" + str(Path(instance_path) / "pier.sqlite3")


def normalise_database_url(url: str) -> str:
    """Accept the usual spellings of a PostgreSQL URL and use the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def derived_instance(database_url: str) -> str:
    """The instance name when none is set: one per database (its URL without the password)."""
    shown = make_url(database_url).render_as_string(hide_password=True)
    return "pier-" + hashlib.sha256(shown.encode()).hexdigest()[:8]


def from_environment(instance_path: str) -> dict:
    """Build the Flask config mapping from environment variables."""
    env = os.environ
    production = env.get("PIER_ENV", "development").lower() == "production"
    keys = [k.strip() for k in env.get("PIER_ENCRYPTION_KEYS", "").split(",") if k.strip()]
    return {
        "PIER_ENV": "production" if production else "development",
        "SECRET_KEY": env.get("SECRET_KEY") or DEV_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(
            env.get("DATABASE_URL") or default_sqlite_url(instance_path)
        ),
        "REDIS_URL": env.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "PIER_INSTANCE": env.get("PIER_INSTANCE", "").strip(),
        "PIER_ENCRYPTION_KEYS": keys,
        "PIER_BASE_URL": env.get("PIER_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
        "PIER_PROXY_HOPS": _int("PIER_PROXY_HOPS", 0),
        "MAIL_URL": env.get("MAIL_URL", "file://instance/mail"),
        "MAIL_FROM": env.get("MAIL_FROM", "Pier <billing@pier.localhost>"),
        "MAIL_TIMEOUT": _int("MAIL_TIMEOUT", 10),
        "LOGIN_RATE_LIMIT": env.get("PIER_LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        "API_RATE_LIMIT": env.get("PIER_API_RATE_LIMIT", "1200 per minute"),
        "MAX_CONTENT_LENGTH": _int("PIER_MAX_BODY_BYTES", 1024 * 1024),
        "WEBHOOK_MAX_BYTES": webhook_max_bytes(),
        "LAGO_REQUEST_DEADLINE": _seconds("PIER_LAGO_REQUEST_DEADLINE", 3.0),
        "LAGO_BREAKER_FAILURES": max(1, _int("PIER_LAGO_BREAKER_FAILURES", 5)),
        "LAGO_BREAKER_WINDOW": _seconds("PIER_LAGO_BREAKER_WINDOW", 60.0),
        "LAGO_BREAKER_COOLDOWN": _seconds("PIER_LAGO_BREAKER_COOLDOWN", 30.0),
        "STRIPE_WEBHOOK_SECRETS": _list(env.get("STRIPE_WEBHOOK_SECRETS")),
        "PDF_CACHE_DIR": env.get("PIER_PDF_CACHE_DIR") or str(Path(instance_path) / "pdfs"),
        "PDF_CACHE_BYTES": _int("PIER_PDF_CACHE_BYTES", 512 * 1024 * 1024),
        "STRIPE_PUBLISHABLE_KEY": env.get("STRIPE_PUBLISHABLE_KEY", ""),
        "STRIPE_JS_URL": env.get("STRIPE_JS_URL", "https://js.stripe.com/v3/"),
        "STRIPE_SECRET_KEY": env.get("STRIPE_SECRET_KEY", ""),
        "STRIPE_API_BASE": env.get("STRIPE_API_BASE", ""),
        "STRIPE_PROVIDER_CODE": env.get("STRIPE_PROVIDER_CODE", "stripe"),
        "STRIPE_MAX_RETRIES": _int("STRIPE_MAX_RETRIES", 2),
        "STRIPE_REQUEST_DEADLINE": _int("STRIPE_REQUEST_DEADLINE", 15),
        "SESSION_IDLE_MINUTES": max(15, _int("PIER_SESSION_IDLE_MINUTES", 12 * 60)),
        "SESSION_MAX_DAYS": max(1, _int("PIER_SESSION_MAX_DAYS", 30)),
        "REMEMBER_COOKIE_DURATION": timedelta(days=max(1, _int("PIER_SESSION_MAX_DAYS", 30))),
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), production),
        "REMEMBER_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), production),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "PIER_LOG_FORMAT": env.get("PIER_LOG_FORMAT", "").strip().lower()
        or ("json" if production else "text"),
        "PIER_LOG_LEVEL": env.get("PIER_LOG_LEVEL", "INFO").strip().upper() or "INFO",
        "METRICS_TOKEN": env.get("PIER_METRICS_TOKEN", "").strip(),
        "TESTING": False,
    }


def check(config: dict) -> None:
    """Refuse to start with a malformed setting, or in production with unsafe ones."""
    if not INSTANCE_NAME.fullmatch(config.get("PIER_INSTANCE") or ""):
        raise ConfigError(
            "PIER_INSTANCE names this Pier in the shared Redis: use 1 to 40 letters, digits, "
            f"dashes or underscores, not {config.get('PIER_INSTANCE')!r}."
        )
    if not 0 <= config.get("PIER_PROXY_HOPS", 0) <= MAX_PROXY_HOPS:
        raise ConfigError(
            "PIER_PROXY_HOPS counts the reverse proxies in front of Pier that set X-Forwarded-For: "
            f"use 0 to {MAX_PROXY_HOPS}, not {config.get('PIER_PROXY_HOPS')!r}."
        )
    log_format = config.get("PIER_LOG_FORMAT", "text")
    if log_format not in ("json", "text"):
        raise ConfigError(f"PIER_LOG_FORMAT must be json or text, not {log_format!r}.")
    if config.get("PIER_ENV") != "production":
        return
    if config.get("SECRET_KEY") in (None, "", DEV_SECRET_KEY):
        raise ConfigError(
            "Set SECRET_KEY to a long random value before running Pier in production "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    if not config.get("PIER_ENCRYPTION_KEYS"):
        raise ConfigError(
            "Set PIER_ENCRYPTION_KEYS to one or more comma-separated Fernet keys before running "
            "Pier in production (for example: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())')."
        )
