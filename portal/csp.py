"""Content-Security-Policy on every response: Pier's own origin only, plus Stripe when configured.

Scripts come from Pier's origin (inline scripts need the request's nonce, `csp_nonce()` in
templates); nothing may frame Pier, forms post to Pier only. When Stripe is configured
(STRIPE_PUBLISHABLE_KEY), Stripe.js's script, frame and API origins are added, and nothing else.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, g

STRIPE_JS_URL = "https://js.stripe.com/v3/"
# Stripe.js: the script, its Elements and 3-D Secure frames, and the API it calls.
STRIPE_ORIGINS = {
    "script-src": ("https://js.stripe.com", "https://*.js.stripe.com"),
    "frame-src": ("https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"),
    "connect-src": ("https://api.stripe.com",),
}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def allowed_origins(config) -> dict[str, tuple[str, ...]]:
    """The outside origins each directive allows: none, or Stripe's when Stripe is configured.

    With a Stripe.js other than Stripe's own (a stand-in in sandbox mode), that server's origin
    serves the script, the frames and the API.
    """
    if not config.get("STRIPE_PUBLISHABLE_KEY"):
        return {}
    script_url = config.get("STRIPE_JS_URL") or STRIPE_JS_URL
    if _origin(script_url) == _origin(STRIPE_JS_URL):
        return dict(STRIPE_ORIGINS)
    origin = _origin(script_url)
    return dict.fromkeys(STRIPE_ORIGINS, (origin,))


def policy(nonce: str, config) -> str:
    """The header value for one response."""
    outside = allowed_origins(config)
    directives = {
        "default-src": ("'self'",),
        "script-src": ("'self'", f"'nonce-{nonce}'", *outside.get("script-src", ())),
        "style-src": ("'self'",),
        "img-src": ("'self'", "data:"),
        "font-src": ("'self'",),
        "connect-src": ("'self'", *outside.get("connect-src", ())),
        "frame-src": outside.get("frame-src") or ("'none'",),
        "object-src": ("'none'",),
        "base-uri": ("'self'",),
        "form-action": ("'self'",),
        "frame-ancestors": ("'none'",),
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def nonce() -> str:
    """This request's nonce for inline scripts (one per request)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def init_app(app: Flask) -> None:
    """Send the policy on every response; templates get `csp_nonce()`."""
    app.jinja_env.globals["csp_nonce"] = nonce

    @app.after_request
    def content_security_policy(response):
        response.headers.setdefault("Content-Security-Policy", policy(nonce(), app.config))
        return response
