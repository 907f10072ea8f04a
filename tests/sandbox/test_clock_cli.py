"""`python -m sandbox.lago clock ...` moves a running stand-in's clock and runs what falls due."""

from __future__ import annotations

import pytest

from sandbox.lago.__main__ import main

from .billing_helpers import START, add_endpoint, customer, invoices, ok, subscribe, types


def clock(capsys, lago_standin, *args: str) -> tuple[int, list[str], str]:
    code = main(["clock", "--url", lago_standin.url, *args])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_advance_ends_the_trial_bills_it_and_sends_lagos_webhooks(capsys, lago_standin, receiver):
    lago_standin.seed()
    lago_standin.travel_to(START)
    with lago_standin.client() as client:
        add_endpoint(client, receiver().url, signature_algo="hmac")
        customer(client)
        sub = subscribe(client, "starter")

    code, lines, _ = clock(capsys, lago_standin, "advance", "--days", "15")

    assert code == 0
    assert lines[0] == "now 2030-01-25T09:00:00Z"
    assert lines[1].startswith("2030-01-24T09:35:00Z  bill_ended_trial_subscriptions  (")
    assert f"subscription {sub['lago_id']}" in lines[1]
    with lago_standin.client() as client:
        [invoice] = invoices(client)
        fresh = ok(client.get("/subscriptions/sub_1"))["subscription"]
    assert f"invoice {invoice['lago_id']}" in lines[1]
    assert fresh["trial_ended_at"] == "2030-01-24T09:00:00Z"
    assert {"subscription.trial_ended", "invoice.created"} <= set(types(lago_standin))


def test_travel_show_and_reset(capsys, lago_standin):
    code, lines, _ = clock(capsys, lago_standin, "travel", "2031-06-01T12:00:00Z", "--no-run")
    assert (code, lines) == (0, ["now 2031-06-01T12:00:00Z"])
    assert clock(capsys, lago_standin, "show")[1] == ["now 2031-06-01T12:00:00Z"]
    code, lines, _ = clock(capsys, lago_standin, "reset")
    assert code == 0 and not lines[0].startswith("now 2031")


def test_a_refusal_exits_1_with_the_stand_ins_reason(capsys, lago_standin):
    code, _, err = clock(capsys, lago_standin, "travel", "next tuesday")
    assert code == 1
    assert err.startswith("The stand-in refused: travel_to needs an ISO 8601 timestamp")
    with pytest.raises(SystemExit) as stopped:
        main(["clock", "advance", "--weeks", "1"])
    assert stopped.value.code == 2


def test_a_stand_in_that_is_not_there_is_said_plainly(capsys):
    code = main(["clock", "--url", "http://127.0.0.1:9", "show"])
    assert code == 1
    assert capsys.readouterr().err.startswith("Cannot reach the stand-in at http://127.0.0.1:9")
