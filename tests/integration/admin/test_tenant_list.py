"""The admin tenant list: plan, status, MRR and dunning from the mirror, filters, pages, CSV."""

from __future__ import annotations

import csv
import io
import re

import pytest

from portal.admin import tenant_list
from tests.integration.billing.support import text_of

ROW = re.compile(
    r'<tr data-tenant="(?P<id>[^"]+)">.*?data-plan="(?P<plan>[^"]*)".*?'
    r'data-status="(?P<status>[^"]+)".*?<td data-mrr>(?P<mrr>[^<]*)</td>.*?'
    r'data-dunning="(?P<dunning>[^"]+)"',
    re.S,
)


def rows(response) -> dict[str, tuple[str, str, str, str]]:
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return {
        m["id"]: (m["plan"], m["status"], m["mrr"].strip(), m["dunning"])
        for m in ROW.finditer(html)
    }


def listed(admin, query: str = "") -> list[str]:
    return sorted(rows(admin.get(f"/admin/tenants{query}")))


def test_each_tenant_shows_plan_status_mrr_and_dunning_from_the_mirror(admin, mirror):
    assert rows(admin.get("/admin/tenants")) == {
        "org_acme": ("starter", "active", "$19.00", "ok"),
        "org_beta": ("pro_yearly", "active", "$100.00", "overdue"),
        "org_gamma": ("pro_yearly", "trialing", "—", "ok"),
        "org_delta": ("", "ended", "—", "ok"),
        "org_echo": ("weekly", "pending", "—", "ok"),
        "org_formula": ("", "none", "—", "ok"),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?status=trialing", ["org_gamma"]),
        ("?status=active", ["org_acme", "org_beta"]),
        ("?status=pending", ["org_echo"]),
        ("?status=ended", ["org_delta"]),
        ("?status=none", ["org_formula"]),
        ("?plan=pro_yearly", ["org_beta", "org_gamma"]),
        ("?plan=starter", ["org_acme"]),  # delta's Starter ended
        ("?plan=weekly", ["org_echo"]),
        ("?dunning=overdue", ["org_beta"]),
        ("?dunning=ok", ["org_acme", "org_delta", "org_echo", "org_formula", "org_gamma"]),
        ("?q=LABS", ["org_beta"]),
        ("?q=org_ech", ["org_echo"]),
        ("?q=%25", []),  # a literal %, not a wildcard
        ("?status=active&dunning=ok", ["org_acme"]),
        ("?plan=pro_yearly&status=trialing&q=gamma", ["org_gamma"]),
    ],
)
def test_filters_narrow_the_list(admin, mirror, query, expected):
    assert listed(admin, query) == expected


def test_a_filter_value_the_list_does_not_know_is_dropped(admin, mirror):
    everyone = listed(admin)
    assert len(everyone) == 6
    assert listed(admin, "?status=bogus&dunning=DROP") == everyone
    assert "No tenant matches these filters." in text_of(admin.get("/admin/tenants?plan=nope"))


def test_filters_refresh_the_table_alone_and_pages_keep_them(admin, mirror, monkeypatch):
    monkeypatch.setattr(tenant_list, "PAGE_SIZE", 2)
    headers = {"HX-Request": "true", "HX-Target": "tenant-table"}
    fragment = admin.get("/admin/tenants?dunning=ok", headers=headers)
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="tenant-table">')
    assert "revenue-card" not in html
    first = list(rows(fragment))
    assert len(first) == 2
    assert "Page 1 of 3 · 5 tenants" in text_of(fragment)
    assert 'href="/admin/tenants?page=2&amp;dunning=ok"' in html
    assert 'href="/admin/tenants.csv?dunning=ok"' in html

    second = list(rows(admin.get("/admin/tenants?dunning=ok&page=2")))
    last = admin.get("/admin/tenants?dunning=ok&page=99")  # past the end: the last page
    assert "Page 3 of 3" in text_of(last)
    assert len(second) == 2 and len(rows(last)) == 1
    everyone = ["org_acme", "org_delta", "org_echo", "org_formula", "org_gamma"]
    assert sorted(first + second + list(rows(last))) == everyone


def test_the_export_streams_the_filtered_list_with_formulas_defused(admin, mirror):
    response = admin.get("/admin/tenants.csv?status=active")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.is_streamed
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="pier-tenants-2026-04-15.csv"'
    )
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["external_id"], r["plan_code"], r["mrr"], r["currency"]) for r in table] == [
        ("org_acme", "starter", "19.00", "USD"),
        ("org_beta", "pro_yearly", "100.00", "USD"),
    ]
    assert table[1]["dunning_state"] == "overdue"
    assert table[1]["dunning_since"] == "2026-04-10T09:00:00+00:00"
    assert table[1]["lago_customer"] == "org_beta"  # its own id: no legacy customer mapped

    everyone = list(csv.reader(io.StringIO(admin.get("/admin/tenants.csv").get_data(as_text=True))))
    assert len(everyone) == 7 and everyone[0][:3] == ["name", "external_id", "billing_email"]
    names = [line[0] for line in everyone[1:]]
    assert '\'=HYPERLINK("http://x")' in names
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)


def test_the_revenue_card_computes_from_the_mirror_without_lago(admin, mirror):
    page = admin.get("/admin/tenants")
    assert 'hx-get="/admin/tenants/revenue"' in page.get_data(as_text=True)
    card = text_of(admin.get("/admin/tenants/revenue"))
    assert "MRR $119.00 2 subscriptions · computed by Pier Lago is not connected." in card
    assert "New this month $200.00 2 tenants · computed by Pier" in card  # beta and gamma
    assert "Churned this month $19.00 1 tenants · computed by Pier" in card  # delta
    assert "Overdue $50.00 1 invoices · computed by Pier Lago is not connected." in card
    assert "since Apr 1, 2026" in card


def test_the_revenue_card_reads_lago_analytics_where_the_instance_serves_them(
    admin, mirror, connected
):
    connected.standin.configure(premium=False)
    card = text_of(admin.get("/admin/tenants/revenue"))
    # MRR analytics are premium: Pier computes it. The overdue balance is Lago's on any licence;
    # the stand-in has no overdue invoice, so Lago's word (nothing) wins over the mirror's $50.
    assert "MRR $119.00 2 subscriptions · computed by Pier Lago's revenue analytics are a " in card
    assert "Overdue $0.00 0 invoices · Lago's analytics" in card

    connected.standin.configure(premium=True)
    try:
        card = text_of(admin.get("/admin/tenants/revenue"))
    finally:
        connected.standin.configure(premium=False)
    # The stand-in has no invoices, so Lago's MRR is nil for the month: Lago's word wins.
    assert "MRR $0.00 Lago's analytics New this month $200.00" in card

    connected.set_faults(down="503", path_prefix="/api/v1/analytics")
    try:
        card = text_of(admin.get("/admin/tenants/revenue"))
    finally:
        connected.clear_faults()
    assert "Overdue $50.00 1 invoices · computed by Pier Lago's analytics did not answer: " in card


def test_members_and_owners_cannot_see_the_list_or_export(as_role, mirror):
    for role in ("member", "owner"):
        client, _ = as_role(role)
        for path in ("/admin/tenants", "/admin/tenants.csv", "/admin/tenants/revenue"):
            assert client.get(path).status_code in (403, 404), (role, path)
