"""The one source of "now" for every feature, so tests can freeze time and the demo can move it.

Features call `ctx.clock.now()` instead of `datetime.now()`: an SLA watcher, a reminder job or a
cycle review asks the same clock, and a test (or the demo's `clock` command) that moves it moves
every feature at once. Always timezone-aware UTC.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from storage.types import utcnow


class Clock:
    """Real time, optionally frozen at an instant or shifted by an offset (demo time travel)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frozen: datetime | None = None
        self._shift = timedelta(0)

    def now(self) -> datetime:
        with self._lock:
            base = self._frozen if self._frozen is not None else utcnow()
            return base + self._shift

    def freeze(self, at: datetime) -> None:
        """Stop the clock at `at` (aware); `advance` then moves it by hand."""
        if at.tzinfo is None:
            raise ValueError("freeze() needs an aware datetime")
        with self._lock:
            self._frozen = at.astimezone(UTC)
            self._shift = timedelta(0)

    def advance(self, delta: timedelta) -> datetime:
        """Move time forward (or back): a frozen clock jumps, a running one gains an offset."""
        with self._lock:
            if self._frozen is not None:
                self._frozen += delta
            else:
                self._shift += delta
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._frozen = None
            self._shift = timedelta(0)

    @property
    def is_real(self) -> bool:
        return self._frozen is None and not self._shift
