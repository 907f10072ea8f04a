"""API tokens: created by platform admins, shown once, kept as a hash, revoked for good."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa

from portal import audit
from portal.extensions import db
from portal.models import ApiToken, Scope, User, utcnow

TOKEN_PREFIX = "pier_api_"  # noqa: S105 - the visible start of every token
# Last use is written at most this often, so a busy token does not write on every call.
USE_RECORD_INTERVAL = timedelta(seconds=60)


class TokenProblem(ValueError):
    """The name or scopes are not acceptable; the message says why."""


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(name: str, scopes: list[str], creator: User | None) -> tuple[ApiToken, str]:
    """A new token and its secret, which is never stored or shown again (the caller commits)."""
    name = (name or "").strip()
    if not 0 < len(name) <= 80:
        raise TokenProblem("Give the token a name of 1 to 80 characters.")
    chosen = sorted({scope.strip().lower() for scope in scopes if scope.strip()})
    unknown = [scope for scope in chosen if scope not in Scope.__members__]
    if unknown or not chosen:
        raise TokenProblem("Choose the scopes read, write or both.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        prefix=secret[: len(TOKEN_PREFIX) + 4],
        token_hash=hash_secret(secret),
        scopes=chosen,
        created_by_id=creator.id if creator else None,
    )
    db.session.add(token)
    db.session.flush()
    audit.record("api_token.created", target=token, after={"name": name, "scopes": chosen})
    return token, secret


def list_tokens() -> list[ApiToken]:
    """Every token, active ones first, newest first."""
    return list(
        db.session.scalars(
            sa.select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
        )
    )


def revoke_token(token_id: int) -> ApiToken | None:
    """Revoke a token for good; None when there is no such token (the caller commits)."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        return None
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record("api_token.revoked", target=token, before={"name": token.name})
    return token


def authenticate(secret: str) -> ApiToken | None:
    """The active token with this secret, or None."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_secret(secret)))
    if token is None or not token.active:
        return None
    return token


def record_use(token: ApiToken, address: str | None) -> bool:
    """Note when (and from where) the token was last used; True when it wrote."""
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < USE_RECORD_INTERVAL:
        return False
    token.last_used_at = now
    token.last_used_ip = (address or "")[:64] or None
    return True
