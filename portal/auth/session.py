"""Flask-Login wiring: load users, sign them in and out."""

from __future__ import annotations

from flask import Flask, session
from flask_login import login_user, logout_user

from portal.extensions import db, login_manager
from portal.models import User, utcnow


def init_login(app: Flask) -> None:
    """Configure Flask-Login for the app."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(user_key: str) -> User | None:
    """Find the user of a session; a changed password invalidates old sessions."""
    user_id, _, version = user_key.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or str(user.session_version) != version:
        return None
    return user


def sign_in(user: User, remember: bool = False) -> None:
    """Start a fresh session for the user."""
    user = user._get_current_object() if hasattr(user, "_get_current_object") else user
    session.clear()
    login_user(user, remember=remember)
    user.last_login_at = utcnow()


def sign_out() -> None:
    """End the session."""
    logout_user()
    session.clear()
