"""A stateful stand-in for Lago's REST API, validated against the vendored OpenAPI spec."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Flask

from ..common.app import build_app
from . import api, control
from .spec import SpecGuard, Violation, load_spec
from .state import EXTENSION, Standin, StandinConfig


def create_app(config: StandinConfig | None = None, **overrides: Any) -> Flask:
    """A Flask app serving the stand-in; settings come from `config` and keyword overrides."""
    config = replace(config or StandinConfig(), **overrides)
    return build_app(__name__, EXTENSION, Standin(config), api.register, [control.bp])


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
