"""Usage events: accepted at once into the outbox, forwarded to Lago in batches, never lost or
counted twice, whether Lago is down, answers late, or refuses one event of a batch."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
import time_machine

from jobs.usage import forward_due
from portal.extensions import db
from portal.models import OutboxState, UsageEvent, utcnow
from tests.integration.api.conftest import error_of
from tests.integration.subscription.conftest import SUBSCRIPTION

MOMENT = "2026-03-02T10:00:00+00:00"


def events(tenant_id: str, count: int, start: int = 0) -> list[dict]:
    return [
        {
            "transaction_id": f"tx-{n}",
            "tenant_id": tenant_id,
            "code": "api_calls",
            "timestamp": MOMENT,
            "properties": {"region": "eu"},
        }
        for n in range(start, start + count)
    ]


def lago_events(standin) -> list[dict]:
    return standin.standin.store.all("event", newest_first=False)


def states(app) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(UsageEvent.state, sa.func.count()).group_by(UsageEvent.state)
        ).all()
    return {state.value: count for state, count in rows}


def test_one_event_is_accepted_once_and_sent_with_its_own_timestamp(
    app, api, subscribed, connected
):
    body = events(subscribed.external_id, 1)[0]
    first = api.post("/events", json=body)
    assert first.status_code == 202
    event = first.get_json()["event"]
    assert (event["status"], event["duplicate"]) == ("pending", False)
    again = api.post("/events", json=body)
    assert again.status_code == 202 and again.get_json()["event"]["duplicate"] is True
    assert forward_due() == {"sent": 1, "failed": 0, "waiting": 0}
    stored = lago_events(connected)
    assert len(stored) == 1
    assert stored[0]["external_subscription_id"] == SUBSCRIPTION
    assert stored[0]["timestamp"] == "2026-03-02T10:00:00.000Z"
    status = api.get("/events/tx-0").get_json()["event"]
    assert status["status"] == "sent" and status["sent_at"] is not None


def test_a_batch_is_accepted_all_or_none(api, subscribed):
    bad = events(subscribed.external_id, 3)
    bad[1]["code"] = ""
    bad[2]["tenant_id"] = "pier_nobody"
    response = api.post("/events/batch", json={"events": bad})
    assert response.status_code == 422
    assert set(error_of(response)["details"]) == {"events.1.code", "events.2.tenant_id"}
    twice = api.post("/events/batch", json={"events": events(subscribed.external_id, 1) * 2})
    assert error_of(twice)["details"] == {
        "events.1.transaction_id": ["appears twice in this batch"]
    }
    too_many = api.post("/events/batch", json={"events": events(subscribed.external_id, 101)})
    assert too_many.status_code == 422
    assert api.get("/events/tx-0").status_code == 404
    accepted = api.post("/events/batch", json={"events": events(subscribed.external_id, 100)})
    assert accepted.status_code == 202
    assert len(accepted.get_json()["events"]) == 100


def test_an_event_id_of_another_tenant_is_a_conflict(api, subscribed):
    other = api.post("/tenants", json={"name": "Other Org"}).get_json()["tenant"]["id"]
    assert api.post("/events", json=events(subscribed.external_id, 1)[0]).status_code == 202
    clash = api.post("/events", json=events(other, 1)[0])
    assert clash.status_code == 409
    assert error_of(clash)["code"] == "transaction_id_taken"


def test_lago_down_then_back_loses_nothing_and_doubles_nothing(app, api, subscribed, connected):
    api.post("/events/batch", json={"events": events(subscribed.external_id, 100)})
    api.post("/events/batch", json={"events": events(subscribed.external_id, 50, start=100)})
    connected.set_faults(down="503", path_prefix="/api/v1/events")
    assert forward_due() == {"sent": 0, "failed": 0, "waiting": 100}  # stops at the first refusal
    assert forward_due() == {"sent": 0, "failed": 0, "waiting": 50}
    assert states(app) == {"pending": 150}
    assert api.get("/events/tx-3").get_json()["event"]["last_error"]
    assert forward_due()["waiting"] == 0  # the waiting events are not due yet
    connected.clear_faults()
    with time_machine.travel(utcnow() + timedelta(minutes=5)):
        assert forward_due() == {"sent": 150, "failed": 0, "waiting": 0}
    assert len(lago_events(connected)) == 150
    assert len({e["transaction_id"] for e in lago_events(connected)}) == 150


def test_a_batch_sent_again_after_a_lost_answer_counts_once(app, api, subscribed, connected):
    api.post("/events/batch", json={"events": events(subscribed.external_id, 20)})
    assert forward_due()["sent"] == 20
    # Lago stored them but Pier never heard back: the rows are still pending.
    with app.app_context():
        db.session.execute(
            sa.update(UsageEvent).values(
                state=OutboxState.pending, next_attempt_at=utcnow(), sent_at=None
            )
        )
        db.session.commit()
    api.post("/events/batch", json={"events": events(subscribed.external_id, 5, start=20)})
    assert forward_due() == {"sent": 25, "failed": 0, "waiting": 0}
    assert len(lago_events(connected)) == 25


def test_an_event_lago_refuses_fails_alone_and_the_rest_go_through(app, api, subscribed, connected):
    api.post("/events/batch", json={"events": events(subscribed.external_id, 10)})
    with app.app_context():  # an event Lago cannot take (as if written before a check existed)
        db.session.execute(
            sa.update(UsageEvent)
            .where(UsageEvent.transaction_id == "tx-4")
            .values(external_subscription_id="")
        )
        db.session.commit()
    connected.pop_violations()
    assert forward_due() == {"sent": 9, "failed": 1, "waiting": 0}
    connected.pop_violations()  # the refused batch was off-spec on purpose
    refused = api.get("/events/tx-4").get_json()["event"]
    assert refused["status"] == "failed"
    assert "external_subscription_id value_is_mandatory" in refused["last_error"]
    assert len(lago_events(connected)) == 9


def test_events_wait_while_billing_is_not_connected(app, api, acme):
    api.post("/events", json=events(acme.external_id, 1)[0])
    assert forward_due() == {"sent": 0, "failed": 0, "waiting": 1}
    assert "connect" in api.get("/events/tx-0").get_json()["event"]["last_error"].lower()
