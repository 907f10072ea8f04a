"""The hosted 3-D Secure page a `next_action` points at: complete or fail, then go back."""

from __future__ import annotations

from html import escape

from flask import Blueprint, Response, redirect, request

from . import setup_flow
from .state import current

bp = Blueprint("challenge", __name__)

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>3D Secure test authentication</title></head>
<body>
<main data-setup-intent="{intent_id}" data-status="{status}">
<h1>3D Secure test authentication</h1>
<p>{message}</p>
{forms}
</main>
{script}
</body>
</html>
"""
FORM = """<form method="post">
<input type="hidden" name="client_secret" value="{secret}">
<button type="submit" name="outcome" value="{outcome}" id="{outcome}-authentication">
{label}</button>
</form>"""
# Tells a parent window (a Stripe.js double showing this page in a frame) the outcome.
NOTIFY = """<script>
if (window.parent !== window) {{
  window.parent.postMessage({{type: "stripe-standin-3ds", setupIntent: "{intent_id}",
    status: "{status}"}}, "*");
}}
</script>"""


def _page(intent: dict, message: str, status: int = 200, *, ask: bool = False) -> Response:
    forms = ""
    if ask:
        secret = escape(intent["client_secret"])
        forms = "\n".join(
            FORM.format(secret=secret, outcome=outcome, label=label)
            for outcome, label in (
                ("complete", "Complete authentication"),
                ("fail", "Fail authentication"),
            )
        )
    script = "" if ask else NOTIFY.format(intent_id=intent["id"], status=intent["status"])
    body = PAGE.format(
        intent_id=escape(intent["id"]),
        status=escape(intent["status"]),
        message=escape(message),
        forms=forms,
        script=script,
    )
    return Response(body, status=status, content_type="text/html; charset=utf-8")


def _intent_or_404(intent_id: str, secret: str | None) -> dict:
    intent = current().store.get(intent_id, setup_flow.KIND)
    if intent is None or secret != intent["client_secret"]:
        return {}
    return intent


@bp.get(f"{setup_flow.CHALLENGE_PATH}<intent_id>")
def show(intent_id: str):
    intent = _intent_or_404(intent_id, request.args.get("client_secret"))
    if not intent:
        return Response("Unknown authentication.", status=404, content_type="text/plain")
    if intent["status"] != "requires_action":
        return _page(intent, "This authentication is no longer pending.", 409)
    return _page(intent, "Complete or fail this test authentication.", ask=True)


@bp.post(f"{setup_flow.CHALLENGE_PATH}<intent_id>")
def answer(intent_id: str):
    standin = current()
    intent = _intent_or_404(intent_id, request.form.get("client_secret"))
    if not intent:
        return Response("Unknown authentication.", status=404, content_type="text/plain")
    outcome = request.form.get("outcome")
    if outcome not in ("complete", "fail"):
        return Response("outcome must be complete or fail", status=400, content_type="text/plain")
    with standin.write_lock:
        try:
            intent = setup_flow.authenticate(standin, intent_id, complete=outcome == "complete")
        except ValueError:
            return _page(intent, "This authentication is no longer pending.", 409)
    target = setup_flow.redirect_target(intent)
    if target and not intent.get("_use_stripe_sdk"):
        return redirect(target, code=303)
    return _page(intent, f"Authentication finished: {intent['status']}.")
