"""The platform dashboard around the Lago connection: setup banner, MRR card, readiness."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.integration.billing.support import connect, text_of

BANNER = "Setup required: billing is not connected."
NOT_PREMIUM = "Not available: Lago's revenue analytics are a premium feature of this Lago."


def test_setup_banner_and_mrr_card_until_lago_is_connected(admin, lago_standin):
    before = text_of(admin.get("/admin/"))
    assert BANNER in before
    assert "connect Lago in Settings › Billing" in before
    health = text_of(admin.get("/admin/health", headers={"HX-Request": "true"}))
    assert "lago: not configured" in health
    card = admin.get("/admin/mrr", headers={"HX-Request": "true", "HX-Target": "mrr-card"})
    assert card.status_code == 200
    assert card.get_data(as_text=True).lstrip().startswith('<article id="mrr-card"')
    assert "Connect Lago to see MRR." in text_of(card)

    connect(admin, lago_standin)
    after = text_of(admin.get("/admin/"))
    assert BANNER not in after
    assert "lago: ok" in text_of(admin.get("/admin/health", headers={"HX-Request": "true"}))


def test_mrr_card_is_not_available_without_lagos_premium_analytics(admin, lago_standin):
    connect(admin, lago_standin)
    with lago_standin.client() as lago:
        reply = lago.get("/analytics/mrr", params={"currency": "USD", "months": 1})
    assert reply.status_code == 403
    assert reply.json() == {"status": 403, "error": "Forbidden", "code": "feature_unavailable"}

    dashboard = admin.get("/admin/").get_data(as_text=True)
    assert 'hx-get="/admin/mrr"' in dashboard and 'hx-trigger="load"' in dashboard
    card = admin.get("/admin/mrr", headers={"HX-Request": "true", "HX-Target": "mrr-card"})
    text = text_of(card)
    assert "MRR —" in text
    assert NOT_PREMIUM in text
    assert "hx-get" not in card.get_data(as_text=True)  # loaded once, not polled


def test_mrr_card_with_a_licensed_lago(admin, lago_standin, standin_config):
    standin_config(premium=True)
    connect(admin, lago_standin)
    with lago_standin.client() as lago:
        every_month = lago.get("/analytics/mrr").json()["mrrs"]
        in_usd = lago.get("/analytics/mrr", params={"currency": "USD"}).json()["mrrs"]
        this_month = lago.get("/analytics/mrr", params={"months": 1}).json()["mrrs"]
    month = datetime.now(UTC).strftime("%Y-%m-01T00:00:00.000Z")
    assert this_month == [{"month": month, "amount_cents": None, "currency": None}]
    assert every_month[-1] == this_month[0]  # lago-api: null where a month has no revenue
    assert in_usd == []  # no invoices in the stand-in: no revenue in any currency

    card = text_of(admin.get("/admin/mrr", headers={"HX-Request": "true"}))
    assert "MRR $0.00" in card
    assert NOT_PREMIUM not in card


def test_mrr_card_when_lago_is_down(app, admin, lago_standin):
    app.config["LAGO_MAX_RETRIES"] = 0
    connect(admin, lago_standin)
    lago_standin.set_faults(down="503")
    card = text_of(admin.get("/admin/mrr", headers={"HX-Request": "true"}))
    lago_standin.clear_faults()
    assert "Not available right now: Lago is temporarily unavailable." in card


def test_readyz_includes_lago(app, admin, lago_standin):
    before = admin.get("/readyz").json
    assert before["checks"]["lago"]["status"] == "not_configured"
    assert before["status"] == "ok"

    connect(admin, lago_standin)
    ready = admin.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["checks"]["lago"]["status"] == "ok"
    assert isinstance(ready.json["checks"]["lago"]["latency_ms"], float)

    lago_standin.set_faults(down="close")
    down = admin.get("/readyz")
    lago_standin.clear_faults()
    assert down.json["checks"]["lago"] == {
        "status": "down",
        "error": "LagoConnectionError",
        "latency_ms": down.json["checks"]["lago"]["latency_ms"],
    }
    assert down.status_code == 503


def test_the_dashboard_does_not_wait_for_lago_and_its_health_card_loads_lazily(
    app, admin, lago_standin
):
    connect(admin, lago_standin)
    lago_standin.set_faults(down="503")
    page = admin.get("/admin/")
    card = text_of(admin.get("/admin/health", headers={"HX-Request": "true"}))
    lago_standin.clear_faults()
    assert page.status_code == 200
    assert 'hx-get="/admin/health"' in page.get_data(as_text=True)
    assert "Degraded" in card
    assert "lago: down" in card
    assert "database: ok" in card
