"""Cancel, reactivate and undo a downgrade against the Lago stand-in, each as an operation."""

import re

import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEntry, Operation, OperationState, SubscriptionMirror
from portal.operations.services import new_key
from tests.integration.subscription.conftest import SUBSCRIPTION, pull, subscribe


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.get_data(as_text=True)))


def _current(app):
    with app.app_context():
        return db.session.scalar(
            sa.select(SubscriptionMirror).filter_by(external_id=SUBSCRIPTION, status="active")
        )


def _operation(app, op_id):
    with app.app_context():
        return db.session.get(Operation, op_id)


def _op_id(response) -> int:
    location = response.headers["Location"]
    return int(re.search(r"operation=(\d+)", location).group(1))


def test_cancel_at_period_end_then_reactivate(app, client_as, connected):
    owner = client_as("owner")
    dialog = owner.get("/subscription/cancel")
    assert dialog.status_code == 200
    key = re.search(r'name="key" type="hidden" value="([^"]+)"', dialog.get_data(as_text=True))
    assert key, "the dialog carries an idempotency key"

    done = owner.submit(
        "/subscription/cancel",
        {"key": key.group(1), "when": "period_end", "reason": "too_expensive", "details": "Ouch"},
    )
    assert done.status_code == 303
    operation = _operation(app, _op_id(done))
    assert operation.state is OperationState.confirmed
    current = _current(app)
    assert current.ending_at is not None
    assert current.ending_at == current.current_period_ending_at

    home = owner.get(done.headers["Location"])
    assert "Cancels on" in _text(home)
    assert "stays active until the end of the period" in _text(home)
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).filter_by(action="subscription.cancel"))
        assert entry.after["reason"] == "too_expensive"
        assert entry.after["details"] == "Ouch"

    again = owner.submit("/subscription/reactivate", {"key": new_key()})
    assert _operation(app, _op_id(again)).state is OperationState.confirmed
    assert _current(app).ending_at is None
    assert 'data-status="active"' in owner.get("/").get_data(as_text=True)


def test_the_same_cancel_posted_twice_changes_nothing_twice(app, client_as):
    owner = client_as("owner")
    key = new_key()
    form = {"key": key, "when": "period_end", "reason": "", "details": ""}
    first = owner.submit("/subscription/cancel", form)
    second = owner.submit("/subscription/cancel", form)
    assert _op_id(first) == _op_id(second)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Operation.id))) == 1
        cancels = db.session.scalar(
            sa.select(sa.func.count(AuditEntry.id)).filter_by(action="subscription.cancel")
        )
        assert cancels == 1


def test_cancel_now_ends_the_subscription(app, client_as):
    owner = client_as("billing_admin")
    done = owner.submit(
        "/subscription/cancel", {"key": new_key(), "when": "now", "reason": "", "details": ""}
    )
    assert _operation(app, _op_id(done)).state is OperationState.confirmed
    assert _current(app) is None
    assert 'data-status="ended"' in owner.get("/").get_data(as_text=True)


def test_reactivating_what_is_not_cancelled_is_refused_with_a_sentence(app, client_as):
    owner = client_as("owner")
    refused = owner.submit("/subscription/reactivate", {"key": new_key()})
    assert refused.status_code == 303
    assert "is not scheduled to end" in _text(owner.get("/"))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Operation.id))) == 0


def test_a_member_may_not_cancel(app, client_as):
    member = client_as("member")
    assert member.get("/subscription/cancel").status_code == 403
    form = {"key": new_key(), "when": "now", "reason": "", "details": ""}
    assert member.submit("/subscription/cancel", form).status_code == 403
    assert _current(app) is not None
    page = member.get("/").get_data(as_text=True)
    assert "subscription/cancel" not in page


def test_lago_down_during_cancel_fails_clearly_and_changes_nothing(app, client_as, connected):
    owner = client_as("owner")
    connected.set_faults(down="503", path_prefix="/api/v1/subscriptions")
    try:
        done = owner.submit(
            "/subscription/cancel",
            {"key": new_key(), "when": "period_end", "reason": "", "details": ""},
        )
    finally:
        connected.clear_faults()
    operation = _operation(app, _op_id(done))
    assert operation.state is OperationState.failed
    assert "nothing was changed" in operation.message.lower()
    assert _current(app).ending_at is None
    assert operation.message in _text(owner.get(done.headers["Location"]))


def test_undo_a_scheduled_downgrade(app, client_as, connected, subscribed):
    subscribe(connected, "starter")  # a downgrade: pending until the period ends
    pull(app, subscribed.id)
    owner = client_as("owner")
    page = owner.get("/").get_data(as_text=True)
    assert 'data-status="downgrade_scheduled"' in page
    assert 'data-undo="undo_downgrade"' in page

    done = owner.submit("/subscription/undo-downgrade", {"key": new_key()})
    assert _operation(app, _op_id(done)).state is OperationState.confirmed
    with app.app_context():
        pending = db.session.scalar(
            sa.select(SubscriptionMirror).filter_by(external_id=SUBSCRIPTION, status="pending")
        )
        assert pending is None
    assert 'data-status="active"' in owner.get("/").get_data(as_text=True)


def test_another_tenants_operation_id_shows_nothing(app, client_as, as_role):
    owner = client_as("owner")
    done = owner.submit("/subscription/reactivate", {"key": new_key()})
    stranger, _ = as_role("other_tenant")
    with app.app_context():
        op_ids = list(db.session.scalars(sa.select(Operation.id)))
    for op_id in op_ids:
        assert stranger.get(f"/operations/{op_id}").status_code == 404
    assert done.status_code == 303
