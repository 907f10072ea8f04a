"""Pier: a self-hosted billing portal in front of Lago and Stripe."""

from __future__ import annotations

import os

from flask import Flask, g
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import config as settings
from portal import inputs
from portal.extensions import csrf, db, limiter, login_manager, migrate


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, error pages, CLI."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    app = Flask(
        __name__,
        instance_path=os.path.join(root, "instance"),
        template_folder=os.path.join(root, "templates"),
        static_folder=os.path.join(root, "static"),
    )
    app.config.update(settings.from_environment(app.instance_path))
    if config:
        app.config.update(config)
    app.config["SQLALCHEMY_DATABASE_URI"] = settings.normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    app.config["PIER_INSTANCE"] = app.config.get("PIER_INSTANCE") or settings.derived_instance(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    settings.check(app.config)
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # the token lives as long as the session
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)

    _init_logging(app)
    _init_extensions(app)
    inputs.init_app(app)
    _register_blueprints(app)
    _register_request_hooks(app)
    _register_cli(app)

    from portal import csp, templating
    from portal.billing import outage

    templating.init_app(app)
    outage.init_app(app)
    csp.init_app(app)

    from portal.webhooks.ingress import serve_ahead

    serve_ahead(app)
    _trust_proxies(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind PIER_PROXY_HOPS reverse proxies, the client's address, scheme and host are the ones
    they forward (X-Forwarded-For, -Proto, -Host): rate limits, sessions and the audit log see the
    customer, not the proxy. With 0 (the default) those headers are ignored, so a client that
    reaches Pier directly cannot choose its address."""
    hops = app.config.get("PIER_PROXY_HOPS", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def _init_logging(app: Flask) -> None:
    """Log lines in PIER_LOG_FORMAT with request ids; tests keep pytest's capture as it is."""
    from portal.observability import logs, requests

    logs.stamp_request_ids()
    if not app.testing:
        logs.configure(app.config["PIER_LOG_FORMAT"], app.config["PIER_LOG_LEVEL"])
    requests.init_app(app)


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", False)
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 1})
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)

    from portal.auth.session import init_login

    init_login(app)


def _register_blueprints(app: Flask) -> None:
    from portal.account import bp as account_bp
    from portal.admin import bp as admin_bp
    from portal.api import bp as api_bp
    from portal.auth import bp as auth_bp
    from portal.banners import bp as banners_bp
    from portal.cards import bp as cards_bp
    from portal.errors import bp as errors_bp
    from portal.health import bp as health_bp
    from portal.home import bp as home_bp
    from portal.invoices import bp as invoices_bp
    from portal.observability.routes import bp as observability_bp
    from portal.operations import bp as operations_bp
    from portal.organisation import bp as organisation_bp
    from portal.plans import bp as plans_bp
    from portal.subscription import bp as subscription_bp
    from portal.team import bp as team_bp
    from portal.usage import bp as usage_bp
    from portal.wallet import bp as wallet_bp
    from portal.webhooks import bp as webhooks_bp

    app.register_blueprint(errors_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(observability_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(banners_bp)
    app.register_blueprint(account_bp, url_prefix="/account")
    app.register_blueprint(team_bp, url_prefix="/team")
    app.register_blueprint(organisation_bp, url_prefix="/organisation")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(webhooks_bp, url_prefix="/webhooks")
    app.register_blueprint(operations_bp, url_prefix="/operations")
    app.register_blueprint(subscription_bp, url_prefix="/subscription")
    app.register_blueprint(invoices_bp, url_prefix="/invoices")
    app.register_blueprint(plans_bp, url_prefix="/plans")
    app.register_blueprint(cards_bp, url_prefix="/cards")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    csrf.exempt(api_bp)  # API calls carry a token, not a session cookie
    app.register_blueprint(usage_bp, url_prefix="/usage")
    app.register_blueprint(wallet_bp, url_prefix="/wallet")


def _register_request_hooks(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Request-ID", g.get("request_id", ""))
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


def _register_cli(app: Flask) -> None:
    from portal.api.cli import api_token_cli
    from portal.billing.cli import keys_cli, lago_cli
    from portal.cli import admin_cli, demo_cli

    for group in (admin_cli, demo_cli, lago_cli, keys_cli, api_token_cli):
        app.cli.add_command(group)
