"""A lean HTTP/1.1 load generator: fixed concurrency over keep-alive loopback connections.

Requests are rendered to bytes beforehand so the client spends little CPU per request and
leaves the machine to the server being measured.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Request:
    """A request rendered to bytes, and the key it delivers."""

    raw: bytes
    key: str


@dataclass
class Outcome:
    """What the run measured."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    acknowledged: set[str] = field(default_factory=set)
    # When each key was first acknowledged (epoch seconds), for the processing lag.
    acked_at: dict[str, float] = field(default_factory=dict)
    errors: int = 0
    server_cpu: float = 0.0

    def percentile(self, p: float) -> float:
        """The p-th percentile latency in milliseconds."""
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index] * 1000


def render(host: str, path: str, headers: dict[str, str], body: bytes, key: str):
    """One POST rendered to bytes."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return Request(("\r\n".join(lines) + "\r\n\r\n").encode() + body, key)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection")
    status = int(status_line.split()[1])
    length, keep_alive = 0, status_line.startswith(b"HTTP/1.1")
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"connection":
            keep_alive = value.strip().lower() != b"close"
    if length:
        await reader.readexactly(length)
    return status, keep_alive


async def _client(host: str, port: int, requests, outcome: Outcome, pace) -> None:
    reader = writer = None
    for index, request in requests:
        if pace is not None:
            await asyncio.sleep(max(0.0, pace(index) - time.perf_counter()))
        for _attempt in range(3):
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                started = time.perf_counter()
                writer.write(request.raw)
                status, keep_alive = await _read_response(reader)
                break
            except (ConnectionError, OSError, asyncio.IncompleteReadError):
                outcome.errors += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
        else:
            continue
        outcome.latencies.append(time.perf_counter() - started)
        outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
        if status == 200:
            outcome.acknowledged.add(request.key)
            outcome.acked_at.setdefault(request.key, time.time())
        if not keep_alive:
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def _run(host, port, requests: list[Request], concurrency: int, rate) -> Outcome:
    outcome = Outcome()
    shared = enumerate(requests)
    started = time.perf_counter()
    pace = None if rate is None else (lambda index: started + index / rate)
    await asyncio.gather(*(_client(host, port, shared, outcome, pace) for _ in range(concurrency)))
    outcome.seconds = time.perf_counter() - started
    return outcome


def run(
    host: str, port: int, requests: list[Request], concurrency: int, rate: float | None = None
) -> Outcome:
    """Send every request from `concurrency` connections, as fast as they are answered or at
    `rate` requests per second; returns the measurements."""
    return asyncio.run(_run(host, port, requests, concurrency, rate))
