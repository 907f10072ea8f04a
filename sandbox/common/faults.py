"""Fault injection in front of a stand-in's routes: latency, errors, timeouts and outages."""

from __future__ import annotations

import contextlib
import random
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from typing import Any

UNTOUCHED_PREFIXES = ("/_sandbox",)
DOWN_MODES = ("503", "close")


@dataclass
class Faults:
    """What to do to matching requests; the defaults do nothing."""

    latency_ms: int = 0
    error_rate: float = 0.0
    error_status: int = 500
    timeout_s: float = 0.0
    down: str | None = None
    path_prefix: str | None = None
    times: int | None = None

    def active(self) -> bool:
        """Whether any fault is switched on."""
        return bool(self.latency_ms or self.error_rate or self.timeout_s or self.down)


class BaseFaultInjector:
    """Holds the active faults and applies them as WSGI middleware; subclasses answer errors."""

    faults_type: type[Faults] = Faults
    untouched_prefixes: tuple[str, ...] = UNTOUCHED_PREFIXES

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults = self.faults_type()
        self._wake = threading.Event()
        self.injected = 0

    def set(self, **changes: Any) -> Faults:
        """Replace the active faults (unknown names or bad values raise ValueError)."""
        unknown = set(changes) - {f.name for f in fields(self.faults_type)}
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        faults = self.faults_type(**changes)
        self.check(faults)
        with self._lock:
            self._faults = faults
        return faults

    def check(self, faults: Faults) -> None:
        """Normalise `down` and reject bad values with ValueError."""
        if faults.down is not None:
            faults.down = str(faults.down)
            if faults.down not in DOWN_MODES:
                raise ValueError(f"down must be one of {DOWN_MODES} or null")
        if not 0.0 <= float(faults.error_rate) <= 1.0:
            raise ValueError("error_rate must be between 0 and 1")
        if faults.latency_ms < 0 or faults.timeout_s < 0:
            raise ValueError("latency_ms and timeout_s must not be negative")

    def clear(self) -> None:
        """Switch every fault off and wake requests that are sleeping on one."""
        with self._lock:
            self._faults = self.faults_type()
            self._wake.set()
            self._wake = threading.Event()

    def current(self) -> dict[str, Any]:
        """The active faults as a dict."""
        with self._lock:
            return asdict(self._faults) | {"injected": self.injected}

    def respond(self, start_response: Callable, status: int, faults: Faults) -> list[bytes]:
        """Answer an injected error with the API's own error body."""
        raise NotImplementedError

    def _take(self, path: str) -> tuple[Faults, threading.Event] | None:
        with self._lock:
            faults = self._faults
            if not faults.active() or path.startswith(self.untouched_prefixes):
                return None
            if faults.path_prefix and not path.startswith(faults.path_prefix):
                return None
            if faults.times is not None:
                faults.times -= 1
                if faults.times <= 0:
                    self._faults = self.faults_type()
            self.injected += 1
            return self.faults_type(**asdict(faults)), self._wake

    def middleware(self, app: Callable) -> Callable:
        """Wrap a WSGI app so matching requests suffer the active faults."""

        def faulty_app(environ: dict, start_response: Callable) -> Iterable[bytes]:
            taken = self._take(environ.get("PATH_INFO", ""))
            if taken is None:
                return app(environ, start_response)
            faults, wake = taken
            if faults.down == "close":
                drop_connection(environ)
            if faults.down:
                return self.respond(start_response, 503, faults)
            pause = faults.latency_ms / 1000 + faults.timeout_s
            if pause:
                wake.wait(pause)
            if faults.error_rate and random.random() < faults.error_rate:
                return self.respond(start_response, int(faults.error_status), faults)
            return app(environ, start_response)

        return faulty_app


def drop_connection(environ: dict) -> None:
    """Close the client's connection without answering (werkzeug's server exposes the socket)."""
    sock = environ.get("werkzeug.socket")
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    raise ConnectionAbortedError("sandbox fault: connection closed")
