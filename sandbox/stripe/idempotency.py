"""`Idempotency-Key` on POSTs: replay the saved reply, refuse reuse with other parameters."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from . import errors

if TYPE_CHECKING:
    from .clock import Clock
    from .store import Store

KEY_LIMIT = 255
TTL_SECONDS = 24 * 3600


def should_save(status: int) -> bool:
    """Replies are kept once the request started executing: successes, card errors, 5xx."""
    return status < 400 or status == 402 or status >= 500


class IdempotencyKeys:
    """Saved replies by key, plus the keys of requests running right now."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._running: set[str] = set()
        self._lock = threading.Lock()

    def begin(self, key: str, endpoint: str, params: Any) -> dict[str, Any] | None:
        """The saved reply to replay, or None after marking the key as running."""
        if len(key) > KEY_LIMIT:
            raise errors.invalid(f"Idempotency-Key must be at most {KEY_LIMIT} characters long.")
        with self._lock:
            if key in self._running:
                raise errors.error(
                    409,
                    "There is currently another in-progress request using this Stripe API Key "
                    "and Idempotency-Key. Please wait for the other request to complete.",
                    type="idempotency_error",
                    code="idempotency_key_in_use",
                )
            self.store.forget_idempotent_before(self.clock.now() - TTL_SECONDS)
            saved = self.store.idempotent(key)
            if saved is None:
                self._running.add(key)
                return None
        if saved["endpoint"] != endpoint:
            raise errors.error(
                400,
                "Keys for idempotent requests can only be used for the same endpoint they were "
                f"first used for ('{saved['endpoint']}' vs '{endpoint}'). Try using a key other "
                f"than '{key}' if you meant to execute a different request.",
                type="idempotency_error",
            )
        if saved["params"] != params:
            raise errors.error(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                type="idempotency_error",
            )
        return saved

    def finish(self, key: str, endpoint: str, params: Any, reply: dict[str, Any]) -> None:
        """Save a reply for later replays."""
        entry = {"endpoint": endpoint, "params": params, **reply}
        self.store.save_idempotent(key, self.clock.now(), entry)

    def release(self, key: str) -> None:
        """The request with this key is over."""
        with self._lock:
            self._running.discard(key)

    def clear(self) -> None:
        """Forget running keys (saved replies live in the store)."""
        with self._lock:
            self._running.clear()
