"""The one source of the current time.

Everything that needs "now" calls :func:`now`; tests freeze or move it with :func:`frozen`.
Pure domain code never calls it: the services pass the time in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

_global_override: list[datetime] = []


def now() -> datetime:
    """The current aware UTC time (or the frozen one in tests and the simulator)."""
    if _global_override:
        return _global_override[-1]
    return datetime.now(UTC)


@contextlib.contextmanager
def frozen(at: datetime) -> Iterator[FrozenClock]:
    """Freeze the clock at ``at`` (process-wide, so server threads see it too)."""
    if at.tzinfo is None:
        raise ValueError("frozen() needs an aware datetime")
    clock = FrozenClock(at)
    _global_override.append(at)
    clock._index = len(_global_override) - 1
    try:
        yield clock
    finally:
        _global_override.pop()


class FrozenClock:
    def __init__(self, at: datetime) -> None:
        self._index = -1
        self.at = at

    def advance(self, delta: timedelta) -> datetime:
        self.at = self.at + delta
        _global_override[self._index] = self.at
        return self.at

    def set(self, at: datetime) -> datetime:
        self.at = at
        _global_override[self._index] = at
        return at
