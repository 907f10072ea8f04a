"""Which function handles which webhook type, and dispatch of an inbox event to it.

Handlers are small functions registered with `@handles(source, *types)`; each takes the inbox
event and its parsed body, writes in the caller's session and never commits. Emails and other
side effects are queued to run after the caller commits.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

from portal.models import EventSource, WebhookEvent

PROCESSED = "processed"
IGNORED = "ignored"
HANDLER_PACKAGE = "portal.webhooks.handlers"

Handler = Callable[[WebhookEvent, dict[str, Any]], None]
_handlers: dict[tuple[str, str], Handler] = {}


class UnreadablePayload(ValueError):
    """The stored body is not the JSON object its source sends."""


def handles(source: EventSource | str, *event_types: str) -> Callable[[Handler], Handler]:
    """Register the decorated function for these event types of one source."""
    name = EventSource(source).value

    def register(handler: Handler) -> Handler:
        for event_type in event_types:
            key = (name, event_type)
            if key in _handlers and _handlers[key] is not handler:
                raise ValueError(f"{name} {event_type} already has a handler")
            _handlers[key] = handler
        return handler

    return register


def _load_handlers() -> None:
    importlib.import_module(HANDLER_PACKAGE)


def handled_types(source: str) -> set[str]:
    """Every event type of `source` ("lago" or "stripe") that has a handler."""
    _load_handlers()
    name = EventSource(source).value
    return {event_type for (origin, event_type) in _handlers if origin == name}


def handler_for(source: str, event_type: str) -> Handler | None:
    """The handler of one event type, if any."""
    _load_handlers()
    return _handlers.get((EventSource(source).value, event_type))


def parse(event: WebhookEvent) -> dict[str, Any]:
    """The event's body as a JSON object."""
    try:
        payload = json.loads(event.body)
    except ValueError as exc:
        raise UnreadablePayload(f"the body of event {event.id} is not JSON") from exc
    if not isinstance(payload, dict):
        raise UnreadablePayload(f"the body of event {event.id} is not a JSON object")
    return payload


def dispatch(event: WebhookEvent) -> str:
    """Run the event's handler: "processed", or "ignored" for a type nobody handles.

    Raises when the handler fails, so the job is retried; the caller commits.
    """
    handler = handler_for(event.source, event.event_type)
    if handler is None:
        return IGNORED
    handler(event, parse(event))
    return PROCESSED
