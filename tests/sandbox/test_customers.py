"""Customers: upsert semantics, metadata, billing configuration, filters, delete."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest


def upsert(client, **fields):
    reply = client.post("/customers", json={"customer": fields})
    assert reply.status_code == 200, reply.text
    return reply.json()["customer"]


def test_create_fills_response_only_fields(lago_standin):
    with lago_standin.client() as client:
        customer = upsert(client, external_id="acme", name="Acme", email="billing@acme.test")
    assert customer["external_id"] == "acme"
    assert customer["sequential_id"] == 1
    assert customer["slug"].endswith("-001")
    assert customer["applicable_timezone"] == "UTC"
    assert customer["created_at"].endswith("Z")
    assert customer["updated_at"] == customer["created_at"]
    assert customer["billing_entity_code"] == "pier_sandbox"
    assert customer["finalize_zero_amount_invoice"] == "inherit"
    assert customer["billing_configuration"] == {
        "invoice_grace_period": None,
        "payment_provider": None,
        "payment_provider_code": None,
        "document_locale": None,
    }
    assert customer["metadata"] == []


def test_upsert_changes_only_the_keys_present(lago_standin):
    with lago_standin.client() as client:
        first = upsert(
            client,
            external_id="acme",
            name="Acme",
            email="a@acme.test",
            country="FR",
            currency="EUR",
            billing_configuration={"document_locale": "fr"},
        )
        second = upsert(client, external_id="acme", name="Acme SAS", city=None)
        fetched = client.get("/customers/acme").json()["customer"]
    assert second["lago_id"] == first["lago_id"]
    assert second["sequential_id"] == 1
    assert second["name"] == "Acme SAS"
    assert second["email"] == "a@acme.test"
    assert second["country"] == "FR"
    assert second["currency"] == "EUR"
    assert second["city"] is None
    assert second["billing_configuration"]["document_locale"] == "fr"
    assert fetched == second


def test_metadata_is_kept_updated_by_id_and_pruned(lago_standin):
    with lago_standin.client() as client:
        created = upsert(
            client,
            external_id="meta",
            metadata=[
                {"key": "plan_source", "value": "web", "display_in_invoice": False},
                {"key": "po", "value": "PO-1", "display_in_invoice": True},
            ],
        )
        web, po = created["metadata"]
        untouched = upsert(client, external_id="meta", name="Meta")
        updated = upsert(
            client,
            external_id="meta",
            metadata=[
                {"id": po["lago_id"], "key": "po", "value": "PO-2", "display_in_invoice": True},
                {"key": "region", "value": "eu", "display_in_invoice": False},
            ],
        )
    assert untouched["metadata"] == created["metadata"]
    assert [(m["key"], m["value"]) for m in updated["metadata"]] == [
        ("po", "PO-2"),
        ("region", "eu"),
    ]
    assert updated["metadata"][0]["lago_id"] == po["lago_id"]
    assert web["lago_id"] not in {m["lago_id"] for m in updated["metadata"]}


def test_stripe_billing_configuration(lago_standin):
    with lago_standin.client() as client:
        linked = upsert(
            client,
            external_id="linked",
            billing_configuration={"payment_provider": "stripe", "provider_customer_id": "cus_123"},
        )
        synced = upsert(
            client,
            external_id="synced",
            billing_configuration={"payment_provider": "stripe", "sync_with_provider": True},
        )
        ignored = upsert(
            client, external_id="ignored", billing_configuration={"payment_provider": "stripe"}
        )
    assert linked["billing_configuration"] == {
        "invoice_grace_period": None,
        "payment_provider": "stripe",
        "payment_provider_code": "stripe",
        "document_locale": None,
        "provider_customer_id": "cus_123",
        "provider_payment_methods": ["card"],
    }
    assert synced["billing_configuration"]["provider_customer_id"].startswith("cus_")
    assert synced["billing_configuration"]["sync_with_provider"] is True
    # lago-api only links a provider when asked to sync or given the provider's customer id.
    assert ignored["billing_configuration"]["payment_provider"] is None


def test_unknown_payment_provider_code_is_422_but_customer_is_saved(lago_standin):
    with lago_standin.client() as client:
        reply = client.post(
            "/customers",
            json={
                "customer": {
                    "external_id": "half",
                    "billing_configuration": {
                        "payment_provider": "stripe",
                        "payment_provider_code": "other_account",
                        "sync_with_provider": True,
                    },
                }
            },
        )
        assert reply.status_code == 422
        assert reply.json()["error_details"] == {"base": ["payment_provider_not_found"]}
        assert client.get("/customers/half").status_code == 200


@pytest.mark.parametrize(
    ("fields", "details"),
    [
        ({"external_id": " "}, {"external_id": ["value_is_mandatory"]}),
        (
            {
                "external_id": "x",
                "finalize_zero_amount_invoice": "inherit",
                "metadata": [
                    {"key": f"k{n}", "value": "v", "display_in_invoice": False} for n in range(6)
                ],
            },
            {"metadata": ["invalid_count"]},
        ),
    ],
    ids=["blank-external-id", "too-much-metadata"],
)
def test_lago_validation_errors(lago_standin, fields, details):
    with lago_standin.client() as client:
        reply = client.post("/customers", json={"customer": fields})
    assert reply.status_code == 422
    assert reply.json()["error_details"] == details


def test_list_filters(lago_standin):
    with lago_standin.client() as client:
        upsert(client, external_id="a", name="Alpha GmbH", country="DE", currency="EUR")
        upsert(
            client,
            external_id="b",
            name="Beta Inc",
            country="US",
            currency="USD",
            tax_identification_number="US-1",
            customer_type="company",
        )
        upsert(
            client,
            external_id="c",
            name="Gamma",
            email="ops@alpha.test",
            metadata=[{"key": "tier", "value": "gold", "display_in_invoice": False}],
        )

        def ids(**params):
            reply = client.get("/customers", params=params)
            assert reply.status_code == 200, reply.text
            return sorted(c["external_id"] for c in reply.json()["customers"])

        assert ids(search_term="ALPHA") == ["a", "c"]
        assert ids(**{"countries[]": ["DE", "US"]}) == ["a", "b"]
        assert ids(**{"currencies[]": "USD"}) == ["b"]
        assert ids(has_tax_identification_number="true") == ["b"]
        assert ids(customer_type="company") == ["b"]
        assert ids(has_customer_type="false") == ["a", "c"]
        reply = client.get("/customers", params={"metadata[tier]": "gold"})
        assert [c["external_id"] for c in reply.json()["customers"]] == ["c"]


def test_delete_returns_the_customer_then_404(lago_standin):
    with lago_standin.client() as client:
        created = upsert(client, external_id="gone", name="Gone")
        deleted = client.delete("/customers/gone")
        assert deleted.status_code == 200
        assert deleted.json()["customer"]["lago_id"] == created["lago_id"]
        assert client.get("/customers/gone").json()["code"] == "customer_not_found"
        assert client.delete("/customers/gone").status_code == 404
        again = upsert(client, external_id="gone")
    assert again["lago_id"] != created["lago_id"]


def test_concurrent_upserts_are_serialized(lago_standin):
    def post(n: int) -> int:
        with lago_standin.client() as client:
            reply = client.post("/customers", json={"customer": {"external_id": f"c{n % 4}"}})
            return reply.json()["customer"]["sequential_id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(post, range(16)))
    with lago_standin.client() as client:
        body = client.get("/customers").json()
    assert body["meta"]["total_count"] == 4
    assert sorted(c["sequential_id"] for c in body["customers"]) == [1, 2, 3, 4]
