"""A total time limit for the Lago calls made inside a block: connect, read, retries and the
waits between them all come out of the same seconds."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass

Clock = Callable[[], float]

# Less than this left and no attempt is worth starting: the deadline has run out.
FLOOR_SECONDS = 0.05


@dataclass(frozen=True)
class Deadline:
    """When the calls must be done (on `clock`), and how many seconds were granted."""

    ends: float
    seconds: float
    clock: Clock = time.monotonic

    def left(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.ends - self.clock())

    def ran_out(self) -> bool:
        return self.left() < FLOOR_SECONDS


_current: ContextVar[Deadline | None] = ContextVar("lago_deadline", default=None)


def current_deadline() -> Deadline | None:
    """The deadline the Lago calls made here must keep, if any."""
    return _current.get()


def start_deadline(seconds: float, *, clock: Clock = time.monotonic) -> Token:
    """Give the calls from here on `seconds` in all; an earlier deadline already set wins.
    Pass the token to `end_deadline`."""
    if seconds <= 0:
        raise ValueError("a Lago deadline must be a positive number of seconds")
    wanted = Deadline(clock() + seconds, seconds, clock)
    outer = _current.get()
    if outer is not None and outer.ends - outer.clock() <= seconds:
        wanted = outer
    return _current.set(wanted)


def end_deadline(token: Token) -> None:
    """Restore what held before `start_deadline`."""
    try:
        _current.reset(token)
    except ValueError:  # set in another context: nothing of it may linger here
        _current.set(None)


@contextmanager
def lago_deadline(seconds: float, *, clock: Clock = time.monotonic) -> Iterator[Deadline]:
    """`with lago_deadline(3): ...`: every Lago call in the block ends within 3 s in total."""
    token = start_deadline(seconds, clock=clock)
    try:
        yield _current.get()  # type: ignore[misc]
    finally:
        end_deadline(token)
