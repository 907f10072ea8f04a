"""The JSON API under test: tokens, a client that checks every answer against the OpenAPI
document, and Acme connected to the Lago stand-in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from portal.api import tokens
from portal.api.openapi import document
from portal.extensions import db
from tests.integration.handlers.conftest import acme, connected, no_proxy  # noqa: F401
from tests.integration.subscription.conftest import subscribed  # noqa: F401


@pytest.fixture(autouse=True)
def job_runtime(app):
    """Jobs run against the test's app; forget it afterwards."""
    from jobs import runtime

    runtime.use_app(app)
    yield runtime
    runtime._app = None


@pytest.fixture(scope="session")
def openapi() -> OpenAPI:
    return OpenAPI.from_dict(document())


@dataclass
class Api:
    """A test client that sends a token and checks each answer against the OpenAPI document."""

    client: Any
    secret: str | None
    openapi: OpenAPI

    def call(self, method: str, path: str, *, token: str | None | bool = True, **kwargs):
        """`token=None` sends none, a string sends that one, else the client's own."""
        headers = dict(kwargs.pop("headers", {}))
        secret = self.secret if token is True else token
        if secret is not None:
            headers["Authorization"] = f"Bearer {secret}"
        response = self.client.open("/api/v1" + path, method=method, headers=headers, **kwargs)
        self.check(response)
        return response

    def check(self, response) -> None:
        """The answer matches the document (its status is documented, its body the schema)."""
        sent = response.request
        request = Request(
            EnvironBuilder(
                path=sent.path, method=sent.method, query_string=sent.query_string.decode()
            ).get_environ()
        )
        self.openapi.validate_response(
            WerkzeugOpenAPIRequest(request), WerkzeugOpenAPIResponse(response)
        )

    def get(self, path: str, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs):
        return self.call("POST", path, json=json, **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs):
        return self.call("PATCH", path, json=json, **kwargs)


def new_token(app, *scopes: str, name: str = "backend") -> str:
    with app.app_context():
        _, secret = tokens.create_token(name, list(scopes), None)
        db.session.commit()
    return secret


@pytest.fixture
def api(app, openapi) -> Api:
    """A client with a read and write token."""
    return Api(app.test_client(), new_token(app, "read", "write"), openapi)


@pytest.fixture
def reader(app, openapi) -> Api:
    """A client with a read-only token."""
    return Api(app.test_client(), new_token(app, "read", name="reporting"), openapi)


def error_of(response) -> dict:
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]
