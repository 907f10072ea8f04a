"""A stateful stand-in for Stripe's HTTP API (customers, cards, SetupIntents, events, webhooks)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Flask

from . import api, challenge, control
from .config import API_VERSION, StandinConfig
from .state import EXTENSION, Standin


def create_app(config: StandinConfig | None = None, **overrides: Any) -> Flask:
    """A Flask app serving the stand-in; settings come from `config` and keyword overrides."""
    config = replace(config or StandinConfig(), **overrides)
    app = Flask(__name__)
    standin = Standin(config)
    app.extensions[EXTENSION] = standin
    api.register(app)
    app.register_blueprint(challenge.bp)
    app.register_blueprint(control.bp)
    app.wsgi_app = standin.faults.middleware(app.wsgi_app)  # type: ignore[method-assign]
    return app


def get_standin(app: Flask) -> Standin:
    """The Standin (store, clock, faults, webhooks) behind an app from create_app."""
    return app.extensions[EXTENSION]


__all__ = ["API_VERSION", "Standin", "StandinConfig", "create_app", "get_standin"]
