"""The request id of a customer's action names its operation and every Lago call it made."""

import logging
import re

import sqlalchemy as sa

from portal.extensions import db
from portal.models import AuditEntry, Operation, OperationState
from portal.operations.services import new_key


def test_a_cancel_is_found_in_the_logs_by_its_request_id(app, client_as, caplog):
    owner = client_as("owner")
    form = {"key": new_key(), "when": "now", "reason": "", "details": ""}
    with caplog.at_level(logging.INFO):
        done = owner.submit(
            "/subscription/cancel", form, headers={"X-Request-ID": "trace-cancel-1"}
        )
    assert done.status_code == 303
    assert done.headers["X-Request-ID"] == "trace-cancel-1"
    operation_id = int(re.search(r"operation=(\d+)", done.headers["Location"]).group(1))
    with app.app_context():
        operation = db.session.get(Operation, operation_id)
        assert operation.state is OperationState.confirmed
        assert operation.request_id == "trace-cancel-1"
        audit = db.session.scalar(sa.select(AuditEntry).filter_by(action="subscription.cancel"))
        assert audit.request_id == "trace-cancel-1"

    mine = [r for r in caplog.records if r.request_id == "trace-cancel-1"]
    lago_calls = [(r.lago_method, r.lago_status) for r in mine if hasattr(r, "lago_method")]
    assert ("DELETE", 200) in lago_calls
    [served] = [r for r in mine if r.name == "portal.requests"]
    assert (served.endpoint, served.status) == ("subscription.cancel", 303)
