"""Schemathesis generates requests from the OpenAPI document for every operation: no answer is
a 500, and every answer matches the document."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.integration.api.conftest import new_token

EXAMPLES_PER_OPERATION = 10


def test_no_generated_request_gets_a_500_or_an_off_document_answer(app):
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    token = new_token(app, "read", "write", name="schemathesis")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 11

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            case.call_and_validate(
                headers={"Authorization": f"Bearer {token}"},
                checks=[not_a_server_error, response_schema_conformance],
            )

        check()
