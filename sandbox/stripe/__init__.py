"""A stateful stand-in for Stripe's HTTP API (customers, cards, SetupIntents, events, webhooks)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Flask

from ..common.app import build_app
from . import api, challenge, control, stripe_js
from .config import API_VERSION, StandinConfig
from .state import EXTENSION, Standin


def create_app(config: StandinConfig | None = None, **overrides: Any) -> Flask:
    """A Flask app serving the stand-in; settings come from `config` and keyword overrides."""
    config = replace(config or StandinConfig(), **overrides)
    return build_app(
        __name__, EXTENSION, Standin(config), api.register, [challenge.bp, control.bp, stripe_js.bp]
    )


def get_standin(app: Flask) -> Standin:
    """The Standin (store, clock, faults, webhooks) behind an app from create_app."""
    return app.extensions[EXTENSION]


__all__ = ["API_VERSION", "Standin", "StandinConfig", "create_app", "get_standin"]
