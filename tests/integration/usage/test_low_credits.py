"""The low-credits warning: a level the owner or billing admin sets on the wallet page, watched
by a Lago wallet alert (its `alert.triggered`) or, on a Lago without wallet alerts, by Pier on
the wallet webhooks; one notice and one email per fall below the level."""

from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.models import BillingAccount, EmailLog, Notice
from tests.integration.handlers.support import deliver, lago_call, payload, run_jobs
from tests.integration.usage.conftest import send_calls

CUSTOMER = "pier_acme"
WARNING = "Your credits are running low"


def _open_wallet(outbox, credits: str = "100") -> dict:
    body = {
        "external_customer_id": CUSTOMER,
        "rate_amount": "1",
        "currency": "USD",
        "name": "Prepaid credits",
        "granted_credits": credits,
    }
    wallet = lago_call(outbox.standin, "POST", "/wallets", json={"wallet": body})["wallet"]
    outbox.dispatch_new()
    return wallet


def _move(outbox, wallet: dict, **credits: str) -> list[str]:
    body = {"wallet_transaction": {"wallet_id": wallet["lago_id"]} | credits}
    lago_call(outbox.standin, "POST", "/wallet_transactions", json=body)
    return [kind for kind, _ in outbox.dispatch_new()]


def _set(client, level: str):
    client.get("/wallet/")
    return client.submit("/wallet/low-credits", {"level": level})


def _account(app, tenant_id: int) -> BillingAccount:
    with app.app_context():
        account = db.session.scalar(sa.select(BillingAccount).filter_by(tenant_id=tenant_id))
        db.session.expunge(account)
        return account


def _warnings(app) -> list[bool]:
    """Whether each low-credits notice is open, oldest first."""
    with app.app_context():
        found = db.session.scalars(sa.select(Notice).filter_by(kind="low_credits")).all()
        return [n.resolved_at is None for n in found]


def _emails(app) -> int:
    with app.app_context():
        return len(db.session.scalars(sa.select(EmailLog).filter_by(template="low_credits")).all())


def test_lago_watches_the_level_and_each_fall_is_told_once(
    app, client_as, subscribed, outbox, lago_settings, mailbox
):
    lago_settings(premium=True)
    wallet = _open_wallet(outbox)
    owner = client_as("owner")
    assert _set(owner, "20").status_code == 303
    assert _account(app, subscribed.id).low_credits_lago_wallet == wallet["code"]
    held = lago_call(
        outbox.standin,
        "GET",
        f"/customers/{CUSTOMER}/wallets/{wallet['code']}/alerts/pier_low_credits",
    )["alert"]
    assert held["alert_type"] == "wallet_credits_ongoing_balance"
    assert held["thresholds"] == [{"code": "low_credits", "value": "20.0", "recurring": False}]
    page = owner.get("/wallet/").get_data(as_text=True)
    assert "Lago watches your balance" in page and "<strong>20</strong>" in page

    assert "alert.triggered" in _move(outbox, wallet, voided_credits="85")  # 15 left
    assert _warnings(app) == [True]
    assert "alert.triggered" not in _move(outbox, wallet, voided_credits="5")  # 10: same fall
    deliver(app, outbox.bodies("alert.triggered")[0])  # Lago sends it again: nothing new
    run_jobs(app, "emails")
    run_jobs(app, "emails")
    assert len(mailbox.wait_for("accounts@acme.test", count=1)) == 1
    assert _emails(app) == 3  # billing email, owner, billing admin: once each

    _move(outbox, wallet, granted_credits="50")  # 60: back above, the warning ends
    assert _warnings(app) == [False]
    assert _account(app, subscribed.id).low_credits_since is None
    assert "alert.triggered" in _move(outbox, wallet, voided_credits="45")  # 15: a new fall
    assert _warnings(app) == [True]
    run_jobs(app, "emails")
    assert _emails(app) == 6
    assert WARNING in client_as("member").get("/").get_data(as_text=True)


def test_pier_watches_on_a_lago_without_wallet_alerts(
    app, client_as, subscribed, outbox, lago_settings
):
    lago_settings(alerts_api=False)
    wallet = _open_wallet(outbox)
    owner = client_as("billing_admin")
    assert _set(owner, "20").status_code == 303
    account = _account(app, subscribed.id)
    assert account.low_credits == "20" and account.low_credits_lago_wallet is None
    assert "Pier checks your balance" in owner.get("/wallet/").get_data(as_text=True)

    assert "alert.triggered" not in _move(outbox, wallet, voided_credits="85")
    assert _warnings(app) == [True]  # from the wallet webhook
    _move(outbox, wallet, voided_credits="5")
    run_jobs(app, "emails")
    assert _emails(app) == 3
    _move(outbox, wallet, granted_credits="50")
    assert _warnings(app) == [False]
    _move(outbox, wallet, voided_credits="45")
    assert _warnings(app) == [True]
    run_jobs(app, "emails")
    assert _emails(app) == 6


def test_a_level_already_reached_waits_for_the_next_fall(
    app, client_as, subscribed, outbox, lago_settings
):
    lago_settings(alerts_api=False)
    wallet = _open_wallet(outbox, credits="10")
    owner = client_as("owner")
    _set(owner, "20")
    assert "below this level now" in owner.get("/wallet/").get_data(as_text=True)
    _move(outbox, wallet, voided_credits="5")
    assert _warnings(app) == []
    # Turned off: nothing is watched, nothing is told.
    assert _set(owner, "").status_code == 303
    account = _account(app, subscribed.id)
    assert account.low_credits is None and account.low_credits_since is None
    _move(outbox, wallet, granted_credits="50")
    _move(outbox, wallet, voided_credits="50")
    assert _warnings(app) == []
    assert "Off: no warning" in owner.get("/wallet/").get_data(as_text=True)


def test_turning_it_off_deletes_lago_s_alert(app, client_as, subscribed, outbox, lago_settings):
    lago_settings(premium=True)
    wallet = _open_wallet(outbox)
    owner = client_as("owner")
    _set(owner, "20")
    _set(owner, "")
    with outbox.standin.client() as client:
        gone = client.get(f"/customers/{CUSTOMER}/wallets/{wallet['code']}/alerts/pier_low_credits")
    assert gone.status_code == 404
    assert "alert.triggered" not in _move(outbox, wallet, voided_credits="90")
    assert _warnings(app) == []


def test_bad_levels_are_refused_and_nothing_changes(app, client_as, subscribed):
    owner = client_as("owner")
    for level, message in (
        ("-5", "between 0.01 and 1,000,000"),
        ("abc", "Not a valid decimal value"),
        ("1.234", "at most two decimals"),
        ("2000000", "between 0.01 and 1,000,000"),
    ):
        response = _set(owner, level)
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert message in html
        assert f'value="{level}"' in html  # what was typed stays in the field
    with app.app_context():
        account = db.session.scalar(sa.select(BillingAccount).filter_by(tenant_id=subscribed.id))
        assert account is None or account.low_credits is None


def test_members_cannot_set_it_and_the_form_needs_its_token(app, client_as, subscribed):
    member = client_as("member")
    page = member.get("/wallet/").get_data(as_text=True)
    assert 'id="low-credits-form"' not in page and "Off: no warning" in page
    assert member.submit("/wallet/low-credits", {"level": "5"}).status_code == 403
    owner = client_as("owner")
    assert owner.post("/wallet/low-credits", data={"level": "5"}).status_code == 400
    with app.app_context():
        account = db.session.scalar(sa.select(BillingAccount).filter_by(tenant_id=subscribed.id))
        assert account is None or account.low_credits is None


def test_another_customer_s_wallet_alert_is_not_acme_s(
    app, client_as, subscribed, outbox, lago_settings
):
    lago_settings(premium=True)
    _open_wallet(outbox)
    _set(client_as("owner"), "20")
    body = {
        "webhook_type": "alert.triggered",
        "object_type": "triggered_alert",
        "organization_id": "00000000-0000-0000-0000-000000000000",
        "triggered_alert": {
            "lago_id": "11111111-1111-1111-1111-111111111111",
            "lago_alert_id": "22222222-2222-2222-2222-222222222222",
            "external_customer_id": "pier_someone_else",
            "alert_code": "pier_low_credits",
            "alert_type": "wallet_credits_ongoing_balance",
            "current_value": 1,
            "previous_value": 50,
            "crossed_thresholds": [{"code": "low_credits", "value": "20.0", "recurring": False}],
            "triggered_at": "2030-01-10T10:00:00Z",
        },
    }
    deliver(app, body)
    assert _warnings(app) == []
    assert _account(app, subscribed.id).low_credits_since is None


def test_wallet_updated_is_checked_too(app, client_as, subscribed, connected):
    _set(client_as("owner"), "20")  # no wallet yet: Pier watches
    connected.set_faults(down="503", path_prefix="/api/v1/")  # the webhook's copy counts
    assert deliver(app, payload("wallet.updated")).outcome == "processed"  # 15 credits
    assert _warnings(app) == [True]
    assert _account(app, subscribed.id).wallet_credits == "15.0"


def test_lago_tells_a_fall_from_usage_that_no_wallet_webhook_shows(
    app, client_as, subscribed, outbox, lago_settings
):
    lago_settings(premium=True)
    wallet = _open_wallet(outbox)
    _set(client_as("owner"), "20")
    send_calls(outbox.standin, "u", 17, code="seats")  # $85 of usage not yet invoiced
    held = lago_call(outbox.standin, "GET", f"/wallets/{wallet['lago_id']}")["wallet"]
    assert float(held["credits_ongoing_balance"]) <= 20 < float(held["credits_balance"]), held
    assert [kind for kind, _ in outbox.dispatch_new() if kind.startswith("wallet")] == []
    assert _warnings(app) == [True]  # from Lago's alert.triggered alone
    assert len(outbox.bodies("alert.triggered")) == 1


def test_a_lago_without_licence_holds_the_alert_and_pier_still_tells(
    app, client_as, subscribed, outbox
):
    wallet = _open_wallet(outbox)  # the stand-in without `premium` stores alerts only
    _set(client_as("owner"), "20")
    assert _account(app, subscribed.id).low_credits_lago_wallet == wallet["code"]
    assert "alert.triggered" not in _move(outbox, wallet, voided_credits="85")
    assert _warnings(app) == [True]


def test_a_level_set_before_the_wallet_goes_to_lago_with_the_first_top_up(
    app, client_as, subscribed, connected
):
    owner = client_as("owner")
    _set(owner, "20")
    assert _account(app, subscribed.id).low_credits_lago_wallet is None
    assert "Pier checks your balance" in owner.get("/wallet/").get_data(as_text=True)
    assert owner.submit("/wallet/top-up", {"credits": "50", "key": "k" * 20}).status_code == 303
    [wallet] = lago_call(connected, "GET", "/wallets", params={"external_customer_id": CUSTOMER})[
        "wallets"
    ]
    assert _account(app, subscribed.id).low_credits_lago_wallet == wallet["code"]
    path = f"/customers/{CUSTOMER}/wallets/{wallet['code']}/alerts/pier_low_credits"
    assert lago_call(connected, "GET", path)["alert"]["thresholds"][0]["value"] == "20.0"
