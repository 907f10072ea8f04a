"""Sign-ins recorded on the server: Flask-Login wiring, signing in and out, ending sessions.

Each sign-in is a `UserSession` row. The browser's session cookie (and the remember cookie,
when asked for) carries only the sign-in's random key; Pier stores the key's SHA-256 hash. Every
request looks the key up, so a sign-in that was ended (log out, sign out everywhere, a password
change) opens nothing again, whichever cookie is replayed. A sign-in also ends on its own: one
without "remember me" after `SESSION_IDLE_MINUTES` unseen, any after `SESSION_MAX_DAYS`.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context, request, session
from flask_login import login_user, logout_user
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.attributes import set_committed_value

from portal.extensions import db, login_manager
from portal.models import User, UserSession, utcnow

log = logging.getLogger(__name__)

LAST_SEEN_EVERY = timedelta(minutes=5)  # how stale "last seen" may get before it is written
KEY_MAX_LENGTH = 64

BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def init_login(app: Flask) -> None:
    """Configure Flask-Login for the app."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def device_label(user_agent: str) -> str:
    """A short, readable name for a browser ("Firefox on Linux"), from its User-Agent."""
    browser = next((name for mark, name in BROWSERS if mark in user_agent), "")
    system = next((name for mark, name in SYSTEMS if mark in user_agent), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or re.sub(r"\s+", " ", user_agent)[:60] or "Unknown device"


@login_manager.user_loader
def load_user(key: str) -> User | None:
    """The user of a sign-in that is still open, from the key a cookie carries."""
    signed_in = find_session(key)
    if signed_in is None:
        return None
    g.user_session = signed_in
    _note_last_seen(signed_in)
    return signed_in.user


def find_session(key: str) -> UserSession | None:
    """The open sign-in with this key, if any (one that has run out is ended on the way)."""
    if not isinstance(key, str) or not 0 < len(key) <= KEY_MAX_LENGTH:
        return None
    found = db.session.scalar(
        sa.select(UserSession).where(
            UserSession.key_hash == _hash(key), UserSession.revoked_at.is_(None)
        )
    )
    if found is None or not has_run_out(found):
        return found
    _end_quietly(found)
    return None


def has_run_out(signed_in: UserSession, now=None) -> bool:
    """Whether a sign-in is past its idle limit (without "remember me") or its maximum age."""
    now = now or utcnow()
    config = current_app.config
    if now - signed_in.created_at >= timedelta(days=config["SESSION_MAX_DAYS"]):
        return True
    idle = timedelta(minutes=config["SESSION_IDLE_MINUTES"])
    return not signed_in.remember and now - signed_in.last_seen_at >= idle


def _end_quietly(signed_in: UserSession) -> None:
    """Mark a sign-in that ran out as ended, outside the request's transaction."""
    try:
        with db.engine.begin() as conn:
            conn.execute(
                sa.update(UserSession)
                .where(UserSession.id == signed_in.id, UserSession.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
    except SQLAlchemyError as exc:  # it stays refused all the same
        log.warning("could not end run-out session %s: %s", signed_in.id, exc)


def current_session() -> UserSession | None:
    """The sign-in serving this request."""
    return g.get("user_session") if has_request_context() else None


def _note_last_seen(signed_in: UserSession) -> None:
    """Write "last seen" at most every few minutes, outside the request's transaction."""
    now = utcnow()
    if now - signed_in.last_seen_at < LAST_SEEN_EVERY:
        return
    try:
        with db.engine.begin() as conn:
            conn.execute(
                sa.update(UserSession)
                .where(UserSession.id == signed_in.id)
                .values(last_seen_at=now)
            )
    except SQLAlchemyError as exc:  # a busy database only delays the next write
        log.warning("could not note when session %s was last seen: %s", signed_in.id, exc)
        return
    set_committed_value(signed_in, "last_seen_at", now)


def open_session(user: User, *, remember: bool) -> tuple[UserSession, str]:
    """Record a new sign-in for the user; returns it and its key (the caller commits)."""
    key = secrets.token_urlsafe(32)
    signed_in = UserSession(
        key_hash=_hash(key),
        user=user,
        remember=remember,
        device=device_label(request.user_agent.string or "") if has_request_context() else "",
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(signed_in)
    return signed_in, key


def sign_in(user: User, remember: bool = False) -> None:
    """Start a fresh session for the user (the caller commits)."""
    user = user._get_current_object() if hasattr(user, "_get_current_object") else user
    session.clear()
    signed_in, key = open_session(user, remember=remember)
    login_user(user, remember=remember)
    # Flask-Login keeps (and remembers) the sign-in's key, never the user's id.
    session["_user_id"] = key
    g.user_session = signed_in
    user.last_login_at = utcnow()


def sign_out() -> None:
    """End this session on the server and in the browser (the caller commits)."""
    signed_in = current_session()
    if signed_in is not None:
        signed_in.revoked_at = utcnow()
    session.clear()
    logout_user()  # after clear(): it asks for the remember cookie to be deleted
    g.pop("user_session", None)


def open_sessions(user: User) -> list[UserSession]:
    """The user's sign-ins that are still open, the latest first."""
    listed = db.session.scalars(
        sa.select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    )
    return [signed_in for signed_in in listed if not has_run_out(signed_in)]


def end_sessions(user: User, *, keep: UserSession | None = None) -> int:
    """End every open sign-in of the user but `keep`; returns how many (the caller commits)."""
    ended = 0
    for signed_in in open_sessions(user):
        if keep is None or signed_in.id != keep.id:
            signed_in.revoked_at = utcnow()
            ended += 1
    return ended
