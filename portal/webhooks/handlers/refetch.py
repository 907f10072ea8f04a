"""Ask Lago for the object a webhook is about; when Lago cannot answer, say so on the event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from portal.billing.connection import NotConnected, lago_client
from portal.lago import LagoClient, LagoError
from portal.models import WebhookEvent, utcnow

T = TypeVar("T")


def note(event: WebhookEvent, text: str) -> None:
    """Add a line to the event's note (shown to admins next to the event)."""
    event.note = f"{event.note}\n{text}" if event.note else text


def from_lago(
    event: WebhookEvent, what: str, fetch: Callable[[LagoClient], T]
) -> tuple[T | None, datetime]:
    """Lago's current copy and the moment it was asked for, or (None, moment) with a note."""
    asked_at = utcnow()
    try:
        return fetch(lago_client()), asked_at
    except (NotConnected, LagoError) as exc:
        note(event, f"Used the webhook's copy of the {what} ({exc.message})")
    return None, asked_at


def payload_time(event: WebhookEvent, said_at: datetime | None) -> datetime:
    """When a webhook's own copy was true: its timestamps, never later than its arrival."""
    received = event.received_at or utcnow()
    return min(said_at, received) if said_at is not None else received
