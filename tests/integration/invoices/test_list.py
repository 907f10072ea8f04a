"""The invoice list: status in words, filters, search, keyset pages, credit notes, isolation."""

from __future__ import annotations

import re

import pytest

from tests.conftest import log_in


@pytest.fixture
def member(app, acme, make_person):
    person = make_person("member", tenant_id=acme.id)
    return log_in(app.test_client(), person)


def numbers(response) -> list[str]:
    return re.findall(r'data-invoice="([^"]+)"', response.get_data(as_text=True))


def next_link(response) -> str | None:
    found = re.search(r'href="([^"]+)" rel="next"', response.get_data(as_text=True))
    return found.group(1).replace("&amp;", "&") if found else None


def test_no_invoices_yet(member):
    page = member.get("/invoices/")
    assert page.status_code == 200
    assert "No invoices match." in page.get_data(as_text=True)
    assert next_link(page) is None


def test_statuses_in_words_and_drafts_hidden(member, acme, add_invoice):
    add_invoice(acme.id, "2025-01-01", number="PAID", payment_status="succeeded")
    add_invoice(acme.id, "2025-01-02", number="OPEN")
    add_invoice(acme.id, "2025-01-03", number="LATE", overdue=True)
    add_invoice(acme.id, "2025-01-04", number="FAILED", payment_status="failed")
    add_invoice(acme.id, "2025-01-05", number="VOID", status="voided")
    add_invoice(acme.id, "2025-01-06", number="DRAFT", status="draft")
    page = member.get("/invoices/")
    text = page.get_data(as_text=True)
    assert numbers(page) == ["VOID", "FAILED", "LATE", "OPEN", "PAID"]
    for number, word in [
        ("PAID", "Paid"),
        ("OPEN", "Open"),
        ("LATE", "Overdue"),
        ("FAILED", "Payment failed"),
        ("VOID", "Voided"),
    ]:
        row = text.split(f'data-invoice="{number}"')[1].split("</tr>")[0]
        assert f">{word}</span>" in row, number
    for word, expected in [
        ("paid", ["PAID"]),
        ("open", ["OPEN"]),
        ("overdue", ["LATE"]),
        ("failed", ["FAILED"]),
        ("voided", ["VOID"]),
    ]:
        assert numbers(member.get(f"/invoices/?status={word}")) == expected, word


def test_amount_and_date_shown_in_the_currency_and_on_lagos_day(member, acme, add_invoice):
    add_invoice(acme.id, "2025-03-01", 123456, number="BIG")
    text = member.get("/invoices/").get_data(as_text=True)
    assert "€1,234.56" in text
    assert "Mar 1, 2025" in text  # Lago's calendar day, not shifted by a zone


def test_filters_by_date_amount_and_number(member, acme, add_invoice):
    add_invoice(acme.id, "2025-01-31", 500, number="ACM-JAN")
    add_invoice(acme.id, "2025-02-15", 2500, number="ACM-FEB")
    add_invoice(acme.id, "2025-03-01", 9900, number="ACM-MAR")
    assert numbers(member.get("/invoices/?issued_from=2025-02-01&issued_to=2025-03-01")) == [
        "ACM-MAR",
        "ACM-FEB",
    ]
    assert numbers(member.get("/invoices/?amount_from=5&amount_to=25.00")) == [
        "ACM-FEB",
        "ACM-JAN",
    ]
    assert numbers(member.get("/invoices/?number=feb")) == ["ACM-FEB"]
    assert numbers(member.get("/invoices/?number=%25")) == []  # LIKE wildcards are literal


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("issued_from=31/01/2025", "Enter a date as YYYY-MM-DD"),
        ("issued_from=2025-02-30", "Enter a date as YYYY-MM-DD"),
        ("issued_from=2025-03-01&issued_to=2025-02-01", "must not be before the start"),
        ("amount_from=ten", "Enter an amount"),
        ("amount_from=NaN", "Enter an amount"),
        ("amount_to=-3", "zero or more"),
        ("amount_to=1e400", "zero or more"),
        ("amount_from=1.234", "at most 2 decimal places"),
        ("amount_from=9&amount_to=1", "must not be below the lowest"),
        ("status=lost", "Choose a status"),
        ("after=2025-01-01.x", "page link is not valid"),
        ("after=20250101.1", "page link is not valid"),
    ],
)
def test_bad_filters_get_a_message_not_an_error(member, acme, add_invoice, query, message):
    add_invoice(acme.id, "2025-01-01")
    page = member.get(f"/invoices/?{query}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert message in text
    assert numbers(page) == []


def test_pages_follow_each_other_without_gaps_or_repeats(member, acme, add_invoice):
    for n in range(30):  # several per day, so the id breaks ties inside a day
        add_invoice(acme.id, f"2025-01-{1 + n // 3:02d}", number=f"N{n:02d}")
    first = member.get("/invoices/")
    assert len(numbers(first)) == 25
    second = member.get(next_link(first))
    assert next_link(second) is None
    seen = numbers(first) + numbers(second)
    assert seen == [f"N{n:02d}" for n in reversed(range(30))]
    assert "Newest invoices" in second.get_data(as_text=True)


def test_exactly_one_page_has_no_next_link(member, acme, add_invoice):
    for n in range(25):
        add_invoice(acme.id, f"2025-02-{1 + n:02d}")
    page = member.get("/invoices/")
    assert len(numbers(page)) == 25
    assert next_link(page) is None


def test_a_page_link_keeps_its_rows_while_new_invoices_arrive(member, acme, add_invoice):
    for n in range(26):
        add_invoice(acme.id, "2025-01-10", number=f"OLD{n:02d}")
    first = member.get("/invoices/?status=open")
    link = next_link(first)
    assert "status=open" in link
    second_before = numbers(member.get(link))
    for n in range(3):  # newer invoices arrive, one on the very day of the boundary
        add_invoice(acme.id, "2025-01-10" if n == 0 else "2025-02-01", number=f"NEW{n}")
    second_after = numbers(member.get(link))
    assert second_before == second_after == ["OLD00"]
    assert set(numbers(member.get("/invoices/?status=open"))[:3]) == {"NEW0", "NEW1", "NEW2"}


def test_credit_notes_sit_under_their_invoice(member, acme, add_invoice, add_credit_note):
    credited = add_invoice(acme.id, "2025-03-01", 5000, number="CREDITED")
    add_invoice(acme.id, "2025-03-02", number="PLAIN")
    add_credit_note(acme.id, credited, 1500, "CREDITED-CN001")
    text = member.get("/invoices/").get_data(as_text=True)
    after_credited = text.split('data-invoice="CREDITED"')[1]
    assert 'data-credit-note="CREDITED-CN001"' in after_credited
    assert "−€15.00" in after_credited
    assert 'data-credit-note="CREDITED-CN001"' not in text.split('data-invoice="CREDITED"')[0]


def test_another_tenants_invoices_and_credit_notes_stay_hidden(
    app, acme, add_invoice, add_credit_note, as_role
):
    mine = add_invoice(acme.id, "2025-03-01", number="ACME-1")
    client, person = as_role("owner")
    theirs = add_invoice(person.tenant_id, "2025-03-01", number="OTHER-1")
    add_credit_note(acme.id, theirs, 100, "SNEAKY-CN")  # even if wrongly linked, never shown
    listed = client.get("/invoices/")
    assert numbers(listed) == ["OTHER-1"]
    assert "SNEAKY-CN" not in listed.get_data(as_text=True)
    for path in ("", "/lines", "/pdf", "/pdf-status"):
        assert client.get(f"/invoices/{mine}{path}").status_code == 404, path
    assert client.submit(f"/invoices/{mine}/download").status_code == 404
    assert client.get(f"/invoices/{theirs}").status_code == 200


def test_drafts_have_no_page(member, acme, add_invoice):
    draft = add_invoice(acme.id, "2025-03-01", status="draft")
    assert member.get(f"/invoices/{draft}").status_code == 404
