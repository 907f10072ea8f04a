"""Lago's error bodies and list pagination."""

from __future__ import annotations

import pytest


def test_missing_resource_is_404_with_code(lago_standin):
    with lago_standin.client() as client:
        assert client.get("/customers/nobody").json() == {
            "status": 404,
            "error": "Not Found",
            "code": "customer_not_found",
        }
        assert client.get("/plans/nothing").json()["code"] == "plan_not_found"
        assert client.get("/billable_metrics/none").json()["code"] == "billable_metric_not_found"


def test_unknown_route_is_404_resource_not_found_and_recorded(lago_standin):
    with lago_standin.client() as client:
        reply = client.get("/no_such_things")
    assert reply.status_code == 404
    assert reply.json() == {"status": 404, "error": "Not Found", "code": "resource_not_found"}
    [violation] = lago_standin.pop_violations()
    assert violation.kind == "route"


def test_spec_route_not_built_yet_is_501_and_recorded(lago_standin):
    with lago_standin.client() as client:
        reply = client.get("/taxes")
    assert reply.status_code == 501
    assert reply.json()["code"] == "not_implemented_in_sandbox"
    assert [v.kind for v in lago_standin.pop_violations()] == ["route"]


def test_missing_root_key_is_400_bad_request(lago_standin):
    with lago_standin.client() as client:
        reply = client.post("/webhook_endpoints", json={"endpoint": {"webhook_url": "http://x.io"}})
    assert reply.status_code == 400
    assert reply.json() == {
        "status": 400,
        "error": "BadRequest: param is missing or the value is empty or invalid: webhook_endpoint",
    }


def test_validation_errors_are_422_with_error_details(lago_standin):
    with lago_standin.client() as client:
        body = {"plan": _plan("taken")}
        client.post("/plans", json=body)
        reply = client.post("/plans", json=body)
    assert reply.status_code == 422
    assert reply.json() == {
        "status": 422,
        "error": "Unprocessable Entity",
        "code": "validation_errors",
        "error_details": {"code": ["value_already_exist"]},
    }


def _plan(code: str) -> dict:
    return {
        "name": code.title(),
        "code": code,
        "interval": "monthly",
        "amount_cents": 1000,
        "amount_currency": "USD",
        "pay_in_advance": False,
    }


def test_empty_list_meta_is_zeros_and_nulls(lago_standin):
    with lago_standin.client() as client:
        reply = client.get("/customers")
    assert reply.json() == {
        "customers": [],
        "meta": {
            "current_page": 0,
            "next_page": None,
            "prev_page": None,
            "total_pages": 0,
            "total_count": 0,
        },
    }


def test_pages_walk_newest_first(lago_standin):
    with lago_standin.client() as client:
        for n in range(5):
            client.post("/customers", json={"customer": {"external_id": f"cust_{n}"}})
        pages = []
        page = 1
        while page is not None:
            body = client.get("/customers", params={"page": page, "per_page": 2}).json()
            pages.append(([c["external_id"] for c in body["customers"]], body["meta"]))
            page = body["meta"]["next_page"]
    assert [ids for ids, _ in pages] == [["cust_4", "cust_3"], ["cust_2", "cust_1"], ["cust_0"]]
    assert pages[0][1] == {
        "current_page": 1,
        "next_page": 2,
        "prev_page": None,
        "total_pages": 3,
        "total_count": 5,
    }
    assert pages[2][1] == {
        "current_page": 3,
        "next_page": None,
        "prev_page": 2,
        "total_pages": 3,
        "total_count": 5,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, (1, None, 1)),
        ({"page": 7, "per_page": 2}, (7, None, 2)),
        ({"per_page": 1}, (1, 2, 3)),
    ],
)
def test_page_numbers(lago_standin, params, expected):
    with lago_standin.client() as client:
        for n in range(3):
            client.post("/customers", json={"customer": {"external_id": f"c{n}"}})
        body = client.get("/customers", params=params).json()
    meta = body["meta"]
    assert (meta["current_page"], meta["next_page"], meta["total_pages"]) == expected
    assert meta["total_count"] == 3
    if params.get("page") == 7:
        assert body["customers"] == []
        assert meta["prev_page"] == 6
