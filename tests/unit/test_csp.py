"""The Content-Security-Policy: Pier's origin only, plus Stripe's when Stripe is configured."""

from portal.csp import allowed_origins, policy


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def test_without_stripe_nothing_outside_pier_is_allowed():
    assert allowed_origins({}) == {}
    assert allowed_origins({"STRIPE_JS_URL": "https://js.stripe.com/v3/"}) == {}
    found = directives(policy("n0nce", {}))
    assert found["script-src"] == ["'self'", "'nonce-n0nce'"]
    assert found["default-src"] == found["connect-src"] == found["style-src"] == ["'self'"]
    assert found["frame-src"] == found["object-src"] == found["frame-ancestors"] == ["'none'"]
    assert found["form-action"] == found["base-uri"] == ["'self'"]
    assert found["img-src"] == ["'self'", "data:"]


def test_stripe_adds_its_script_frame_and_api_origins_and_nothing_else():
    config = {"STRIPE_PUBLISHABLE_KEY": "pk_live_x", "STRIPE_JS_URL": "https://js.stripe.com/v3/"}
    assert allowed_origins(config) == {
        "script-src": ("https://js.stripe.com", "https://*.js.stripe.com"),
        "frame-src": (
            "https://js.stripe.com",
            "https://*.js.stripe.com",
            "https://hooks.stripe.com",
        ),
        "connect-src": ("https://api.stripe.com",),
    }
    found = directives(policy("n", config))
    assert found["script-src"] == ["'self'", "'nonce-n'", *allowed_origins(config)["script-src"]]
    assert found["connect-src"] == ["'self'", "https://api.stripe.com"]
    assert found["frame-src"] == list(allowed_origins(config)["frame-src"])
    assert found["default-src"] == ["'self'"]
    assert found["frame-ancestors"] == ["'none'"]


def test_a_stand_in_stripe_js_allows_only_the_stand_ins_origin():
    config = {
        "STRIPE_PUBLISHABLE_KEY": "pk_test_x",
        "STRIPE_JS_URL": "http://127.0.0.1:12111/js/v3/stripe.js",
    }
    origin = ("http://127.0.0.1:12111",)
    assert allowed_origins(config) == {
        "script-src": origin,
        "frame-src": origin,
        "connect-src": origin,
    }
    assert "stripe.com" not in policy("n", config)
