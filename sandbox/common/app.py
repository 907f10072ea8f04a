"""Assembling a stand-in's Flask app: its state, API routes, blueprints and fault middleware."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint, Flask


def build_app(
    import_name: str,
    extension: str,
    standin: Any,
    register_api: Callable[[Flask], None],
    blueprints: Iterable[Blueprint],
) -> Flask:
    """A Flask app serving `standin` (kept in `app.extensions[extension]`) behind its faults."""
    app = Flask(import_name)
    app.extensions[extension] = standin
    register_api(app)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.wsgi_app = standin.faults.middleware(app.wsgi_app)  # type: ignore[method-assign]
    return app
