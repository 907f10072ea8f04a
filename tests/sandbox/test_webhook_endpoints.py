"""Webhook endpoints: CRUD, unique URL, the limit of 10, event type normalisation."""

from __future__ import annotations


def create(client, url, **fields):
    return client.post(
        "/webhook_endpoints", json={"webhook_endpoint": {"webhook_url": url} | fields}
    )


def test_crud(lago_standin):
    with lago_standin.client() as client:
        created = create(client, "https://hooks.example.com/lago", name="Main").json()
        endpoint = created["webhook_endpoint"]
        lago_id = endpoint["lago_id"]
        fetched = client.get(f"/webhook_endpoints/{lago_id}").json()["webhook_endpoint"]
        updated = client.put(
            f"/webhook_endpoints/{lago_id}",
            json={
                "webhook_endpoint": {
                    "webhook_url": "https://hooks.example.com/v2",
                    "signature_algo": "hmac",
                }
            },
        ).json()["webhook_endpoint"]
        listed = client.get("/webhook_endpoints").json()
        org = client.get("/organizations").json()["organization"]
        deleted = client.delete(f"/webhook_endpoints/{lago_id}")
        missing = client.get(f"/webhook_endpoints/{lago_id}")
    assert endpoint == {
        "lago_id": lago_id,
        "lago_organization_id": lago_standin.organization_id,
        "webhook_url": "https://hooks.example.com/lago",
        "signature_algo": "jwt",
        "name": "Main",
        "event_types": None,
        "created_at": endpoint["created_at"],
    }
    assert fetched == endpoint
    assert updated["webhook_url"] == "https://hooks.example.com/v2"
    assert updated["signature_algo"] == "hmac"
    assert updated["name"] == "Main"
    assert listed["meta"]["total_count"] == 1
    assert org["webhook_url"] == "https://hooks.example.com/v2"
    assert deleted.status_code == 200
    assert missing.json()["code"] == "webhook_endpoint_not_found"


def test_url_must_be_unique_and_valid(lago_standin):
    with lago_standin.client() as client:
        create(client, "https://hooks.example.com/lago")
        again = create(client, "https://hooks.example.com/lago")
        invalid = create(client, "not a url")
    assert again.status_code == 422
    assert again.json() == {
        "status": 422,
        "error": "Unprocessable Entity",
        "code": "validation_errors",
        "error_details": {"webhook_url": ["value_already_exist"]},
    }
    assert invalid.json()["error_details"] == {"webhook_url": ["url_is_invalid"]}


def test_at_most_ten_endpoints(lago_standin):
    with lago_standin.client() as client:
        for n in range(10):
            assert create(client, f"https://hooks.example.com/{n}").status_code == 200
        eleventh = create(client, "https://hooks.example.com/11")
    assert eleventh.status_code == 422
    assert eleventh.json()["error_details"] == {
        "base": ["Maximum number of webhook endpoints was reached"]
    }


def test_event_types_are_normalised(lago_standin):
    with lago_standin.client() as client:
        some = create(
            client,
            "https://a.example.com",
            event_types=[" Customer.Created ", "invoice.drafted ", " Invoice.DRAFTED", "", "  "],
        ).json()
        star = create(client, "https://b.example.com", event_types=["*"]).json()
        bad = create(client, "https://c.example.com", event_types=["invoice.nope"])
    assert some["webhook_endpoint"]["event_types"] == ["customer.created", "invoice.drafted"]
    assert star["webhook_endpoint"]["event_types"] is None
    assert bad.status_code == 422
    assert bad.json()["error_details"] == {"event_types": ["value_is_invalid"]}
