"""Guards over every route: each endpoint is classified, and each class is enforced."""

import pytest

PUBLIC = {
    "static",
    "health.healthz",
    "health.readyz",
    "auth.signup",
    "auth.login",
    "auth.invitation",
    "home.index",
    "webhooks.lago",  # signed by Lago, not by a session
    "webhooks.stripe",  # signed by Stripe, not by a session
    "api.openapi_document",  # describes the API, grants nothing
}
SIGNED_IN = {
    "auth.logout",
    "account.profile",
    "account.password",
    "account.end",
    "account.end_all",
    "home.switch",
}
MEMBER = {
    "team.index",
    "operations.status",
    "subscription.refresh",
    "plans.index",
    "banners.dismiss",
    "cards.index",
    "cards.fix",
    "invoices.index",
    "invoices.detail",
    "invoices.invoice_lines",
    "invoices.download",
    "invoices.pdf_status",
    "invoices.pdf",
    "usage.index",
    "usage.current_period",
    "usage.past_periods",
    "wallet.index",
    "wallet.details",
}
BILLING = {
    "team.invite",
    "team.revoke",
    "organisation.details",
    "subscription.cancel",
    "subscription.reactivate",
    "subscription.undo_downgrade",
    "plans.preview",
    "plans.change",
    "cards.add",
    "cards.returned",
    "cards.cancel_setup",
    "cards.make_default",
    "cards.remove",
    "cards.retry",
    "cards.pay",
    "cards.pay_now",
    "wallet.top_up",
    "wallet.low_credits",
    "usage.add_alert",
    "usage.delete_alert",
}
OWNER = {"team.remove"}
ADMIN = {
    "admin.index",
    "admin.audit",
    "admin.mrr",
    "admin.health",
    "admin.resolve_alert",
    "admin.billing_settings",
    "admin.billing_test",
    "admin.billing_save",
    "admin.billing_behaviour",
    "admin.billing_reveal",
    "admin.billing_register_webhook",
    "admin.stripe_settings",
    "admin.stripe_save",
    "admin.plans",
    "admin.plans_lago",
    "admin.plans_sync",
    "admin.plans_create",
    "admin.plan_edit",
    "admin.tenants",
    "admin.tenants_export",
    "admin.tenants_revenue",
    "admin.tenant_sync",
    "admin.tenant_detail",
    "admin.tenant_grant_credits",
    "admin.tenant_apply_coupon",
    "admin.tenant_remove_coupon",
    "admin.reconcile_now",
    "admin.webhooks",
    "admin.webhook_detail",
    "admin.webhook_replay",
    "admin.webhooks_replay_failed",
    "admin.webhooks_trust_issuer",
    "admin.jobs",
    "admin.job_retry",
    "admin.jobs_retry_all",
    "admin.api_tokens",
    "admin.api_token_create",
    "admin.api_token_revoke",
}
# The JSON API: an API token, not a session (401 in JSON without one).
API_TOKEN = {
    "api.create_tenant",
    "api.list_tenants",
    "api.get_tenant",
    "api.update_tenant",
    "api.invite_owner",
    "api.subscription_state",
    "api.list_entitlements",
    "api.get_entitlement",
    "api.create_event",
    "api.create_events",
    "api.get_event",
}
# Prometheus: 404 unless PIER_METRICS_TOKEN is set, then that bearer token (tests/integration/
# test_observability.py).
METRICS_TOKEN = {"observability.metrics_page"}
CLASSES = {
    "metrics_token": METRICS_TOKEN,
    "public": PUBLIC,
    "signed_in": SIGNED_IN,
    "member": MEMBER,
    "billing": BILLING,
    "owner": OWNER,
    "admin": ADMIN,
    "api_token": API_TOKEN,
}
ALL = set().union(*CLASSES.values())


def _routes(app, endpoints):
    """(method, url) for every rule of the endpoints, with sample values for its arguments."""
    samples = {"int": 1, "default": "sample", "string": "sample", "path": "sample/file"}
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in endpoints:
            continue
        values = {
            arg: samples.get(
                type(rule._converters[arg]).__name__.replace("Converter", "").lower(), 1
            )
            for arg in rule.arguments
        }
        with app.test_request_context():
            url = app.url_for(rule.endpoint, **values)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, url))
    return found


def _call(client, method, url):
    return client.get(url) if method == "GET" else client.submit(url, {})


def test_every_endpoint_is_classified(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - ALL == set(), "classify new endpoints in test_access.py"
    assert ALL - endpoints == set(), "remove endpoints that no longer exist"


def test_anonymous_visitors_are_sent_to_log_in(app, client):
    for method, url in _routes(app, ALL - PUBLIC - API_TOKEN - METRICS_TOKEN):
        response = _call(client, method, url)
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/login?next="), (method, url)


@pytest.mark.parametrize(
    ("role", "forbidden"),
    [
        ("member", BILLING | OWNER | ADMIN),
        ("billing_admin", OWNER | ADMIN),
        ("owner", ADMIN),
        ("admin", MEMBER | BILLING | OWNER),  # a platform admin is not a member of any tenant
    ],
)
def test_roles_get_403_outside_their_rights(app, as_role, role, forbidden):
    client, _ = as_role(role)
    for method, url in _routes(app, forbidden):
        assert _call(client, method, url).status_code == 403, (role, method, url)


def test_api_calls_without_a_token_get_401_in_json(app, as_role):
    client, _ = as_role("admin")  # a session is not enough
    for method, url in _routes(app, API_TOKEN):
        response = client.open(url, method=method, json={})
        assert response.status_code == 401, (method, url)
        assert response.get_json()["error"]["code"] == "unauthorized", (method, url)


def test_public_pages_answer_anonymous_visitors(app, client):
    for url in ("/login", "/signup", "/healthz", "/readyz"):
        assert client.get(url).status_code == 200, url
