"""Operations: one row per idempotency key, one sender, a status block that polls until settled."""

import pytest

from portal.extensions import db
from portal.models import Operation, OperationState
from portal.operations import services


def _record(tenant_id, key="key-1", **overrides):
    values = {
        "tenant_id": tenant_id,
        "user_id": None,
        "kind": "change_plan",
        "key": key,
        "params": {"plan_code": "pro"},
        "expected": {"plan_code": "pro"},
    }
    values.update(overrides)
    return services.record(**values)


def test_the_same_key_finds_the_same_operation(app, make_person):
    person = make_person("owner")
    with app.app_context():
        first = _record(person.tenant_id)
        db.session.commit()
        again = _record(person.tenant_id)
        db.session.commit()
        assert again.id == first.id
        assert db.session.query(Operation).count() == 1


def test_a_key_reused_for_another_action_is_refused(app, make_person):
    person = make_person("owner")
    with app.app_context():
        _record(person.tenant_id)
        db.session.commit()
        with pytest.raises(services.OperationConflict):
            _record(person.tenant_id, params={"plan_code": "basic"})


def test_keys_are_per_tenant(app, make_person):
    one, other = make_person("owner"), make_person("owner", tenant_name="Other")
    with app.app_context():
        a = _record(one.tenant_id)
        b = _record(other.tenant_id)
        db.session.commit()
        assert a.id != b.id


def test_only_one_caller_claims_an_operation(app, make_person):
    person = make_person("owner")
    with app.app_context():
        operation = _record(person.tenant_id)
        db.session.commit()
        assert services.claim(operation) is True
        db.session.commit()
        assert services.claim(operation) is False
        assert operation.state is OperationState.submitted
        assert operation.submitted_at is not None


def test_settle_confirms_when_the_confirmer_sees_the_end_state(app, make_person, monkeypatch):
    person = make_person("owner")
    seen = {"done": False}
    monkeypatch.setitem(services._confirmers, "test_kind", lambda op: seen["done"])
    with app.app_context():
        operation = _record(person.tenant_id, kind="test_kind")
        services.claim(operation)
        services.settle(operation)
        assert operation.state is OperationState.submitted
        seen["done"] = True
        services.settle(operation)
        assert operation.state is OperationState.confirmed
        assert operation.finished_at is not None


def test_the_status_block_polls_until_settled_and_stops_after(app, as_role):
    client, person = as_role("owner")
    with app.app_context():
        operation = _record(person.tenant_id, kind="never_confirmed")
        services.claim(operation)
        db.session.commit()
        op_id = operation.id
    page = client.get(f"/operations/{op_id}")
    assert page.status_code == 200
    assert b'hx-trigger="every 1s"' in page.data
    assert b"Waiting for the billing system to confirm" in page.data
    with app.app_context():
        services.mark_failed(db.session.get(Operation, op_id), "Your card was declined.")
        db.session.commit()
    block = client.get(
        f"/operations/{op_id}", headers={"HX-Request": "true", "HX-Target": "operation-status"}
    )
    assert b"Your card was declined." in block.data
    assert b"hx-trigger" not in block.data
    assert b"<html" not in block.data


def test_another_tenants_operation_is_not_found(app, as_role, make_person):
    stranger = make_person("owner", tenant_name="Other")
    with app.app_context():
        operation = _record(stranger.tenant_id)
        db.session.commit()
        op_id = operation.id
    client, _ = as_role("owner")
    assert client.get(f"/operations/{op_id}").status_code == 404
