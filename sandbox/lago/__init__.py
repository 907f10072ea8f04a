"""A stateful stand-in for Lago's REST API, validated against the vendored OpenAPI spec."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Flask

from . import api, control
from .spec import SpecGuard, Violation, load_spec
from .state import EXTENSION, Standin, StandinConfig


def create_app(config: StandinConfig | None = None, **overrides: Any) -> Flask:
    """A Flask app serving the stand-in; settings come from `config` and keyword overrides."""
    config = replace(config or StandinConfig(), **overrides)
    app = Flask(__name__)
    standin = Standin(config)
    app.extensions[EXTENSION] = standin
    api.register(app)
    app.register_blueprint(control.bp)
    app.wsgi_app = standin.faults.middleware(app.wsgi_app)  # type: ignore[method-assign]
    return app


def get_standin(app: Flask) -> Standin:
    """The Standin (state, store, faults, webhooks, spec guard) behind an app from create_app."""
    return app.extensions[EXTENSION]


__all__ = [
    "SpecGuard",
    "Standin",
    "StandinConfig",
    "Violation",
    "create_app",
    "get_standin",
    "load_spec",
]
