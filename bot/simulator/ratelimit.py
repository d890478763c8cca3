"""Slack's posting limit, for the simulator: optional and off by default.

Slack lets an app post about one message per second to a channel, allowing short bursts, and
answers faster posting with HTTP 429 and a `Retry-After` header in whole seconds. `PostingLimit`
is that rule as a token bucket per channel: `burst` posts at once, then one per `1/per_second`.
Turn it on with `sim.limit_rate(per_second=1.0, burst=3)`; `bench/digest_fanout.py` measures
digest fan-out against it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any


class PostingLimit:
    def __init__(
        self,
        *,
        per_second: float = 1.0,
        burst: int = 3,
        methods: Iterable[str] = ("chat.postMessage",),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("per_second must be above 0 and burst at least 1")
        self.per_second = per_second
        self.burst = burst
        self.methods = frozenset(methods)
        self.clock = clock
        self.limited = 0  # 429s answered
        self._buckets: dict[str, tuple[float, float]] = {}  # channel → (tokens, at)
        self._lock = threading.Lock()

    def check(self, method: str, params: dict[str, Any]) -> int | None:
        """None when the call may go ahead (it takes a token); else `Retry-After` in seconds."""
        if method not in self.methods:
            return None
        channel = str(params.get("channel") or "")
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(channel, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - at) * self.per_second)
            if tokens >= 1.0:
                self._buckets[channel] = (tokens - 1.0, now)
                return None
            self._buckets[channel] = (tokens, now)
            self.limited += 1
            return max(1, math.ceil((1.0 - tokens) / self.per_second))

    def least_time(self, posts_per_channel: Iterable[int]) -> float:
        """The shortest time this limit allows for delivering that many posts to each channel."""
        return max([0.0, *((n - self.burst) / self.per_second for n in posts_per_channel)])
