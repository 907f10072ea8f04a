"""The background webhook delivery loop: a retry schedule, worker threads and the HTTP post."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time

import httpx

RESPONSE_EXCERPT = 2000


class DeliveryLoop:
    """Schedules record ids on a heap and attempts each from a daemon thread when due."""

    thread_name = "standin-webhooks"
    logger = logging.getLogger(__name__)

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, str, int]] = []
        self._order = itertools.count()
        self._generation = 0
        self._inflight = 0
        self._closed = False
        self._thread: threading.Thread | None = None
        # Like the real services: no proxies from the environment, no connection reuse.
        self._http = httpx.Client(
            trust_env=False,
            follow_redirects=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    def worker_name(self, record_id: str) -> str:
        """The name of the thread attempting one record."""
        return f"{self.thread_name}-{record_id[:8]}"

    def _attempt(self, record_id: str, generation: int, retry: bool = True) -> None:
        """Send one record once and record the outcome (unless `generation` is stale)."""
        raise NotImplementedError

    def post(self, url: str, payload: str, headers: dict[str, str], timeout: float) -> dict:
        """POST a body; returns `http_status`, `response_body`, `error` and `duration_ms`."""
        started = time.monotonic()
        outcome: dict = {"http_status": None, "response_body": None, "error": None}
        try:
            response = self._http.post(
                url, content=payload.encode(), headers=headers, timeout=timeout
            )
            outcome["http_status"] = response.status_code
            outcome["response_body"] = response.text[:RESPONSE_EXCERPT]
        except httpx.HTTPError as exc:
            outcome["error"] = f"{type(exc).__name__}: {exc}"
        outcome["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
        return outcome

    def stale(self, generation: int) -> bool:
        """Whether a `clear` happened since an attempt of this generation started."""
        with self._cond:
            return generation != self._generation

    def clear(self) -> None:
        """Forget scheduled deliveries (attempts already running finish but are not recorded)."""
        with self._cond:
            self._generation += 1
            self._heap.clear()
            self._cond.notify_all()

    def idle(self) -> bool:
        """True when nothing is scheduled or being sent."""
        with self._cond:
            return not self._heap and self._inflight == 0

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every delivery (with its retries) is finished; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._inflight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    def close(self) -> None:
        """Stop the scheduler thread and the HTTP client."""
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify_all()
        self._http.close()

    def _schedule(self, record_id: str, delay: float) -> None:
        with self._cond:
            if self._closed:
                return
            due = time.monotonic() + delay
            heapq.heappush(self._heap, (due, next(self._order), record_id, self._generation))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=self.thread_name, daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (not self._heap or self._heap[0][0] > time.monotonic()):
                    wait = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(wait)
                if self._closed:
                    return
                _, _, record_id, generation = heapq.heappop(self._heap)
                if generation != self._generation:
                    continue
                self._inflight += 1
            threading.Thread(
                target=self._attempt_then_release,
                args=(record_id, generation),
                name=self.worker_name(record_id),
                daemon=True,
            ).start()

    def _attempt_then_release(
        self,
        record_id: str,
        generation: int,
        retry: bool = True,
        barrier: threading.Barrier | None = None,
    ) -> None:
        try:
            if barrier is not None:
                barrier.wait(timeout=5)
            self._attempt(record_id, generation, retry)
        except Exception:
            # A worker must not die silently (e.g. the store was closed at shutdown).
            self.logger.exception("delivery %s: attempt failed unexpectedly", record_id)
        finally:
            with self._cond:
                self._inflight -= 1
                self._cond.notify_all()
