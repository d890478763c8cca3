"""Records shared by the Web API server and the player: API calls, bot output, activity.

They live apart from both so that ``settle()`` can see at once whether the bot is still
answering a request (player side) or still calling the Web API (server side).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ApiCall:
    """One Web API call the bot made, with Slack's answer to it."""

    method: str
    params: dict[str, Any]
    time: float
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))


@dataclass
class Output:
    """One thing a human would see from the bot.

    ``kind`` is one of: ``message`` (channel, DM or thread message), ``ephemeral``, ``update``
    (a message changed), ``delete``, ``modal`` (opened, updated, pushed or showing errors),
    ``modal_closed``, ``home`` (App Home published), ``reaction``, ``error`` (what Slack shows
    when the bot failed to answer, e.g. ``operation_timeout``). ``via`` names the path it came
    by (``chat.postMessage``, ``ack``, ``response_url``, ``views.open``…).
    """

    kind: str
    channel: str | None = None
    user: str | None = None
    ts: str | None = None
    thread_ts: str | None = None
    text: str = ""
    blocks: list[dict[str, Any]] | None = None
    view: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    via: str = ""
    time: float = field(default_factory=time.time)


class Recorder:
    """Thread-safe log of calls and outputs plus the activity counters ``settle()`` reads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[ApiCall] = []
        self.outputs: list[Output] = []
        self._taken = 0
        self.in_flight = 0
        self.last_activity = time.monotonic()

    def touch(self) -> None:
        with self.lock:
            self.last_activity = time.monotonic()

    def record_call(self, call: ApiCall) -> None:
        with self.lock:
            self.calls.append(call)
            self.last_activity = time.monotonic()

    def emit(self, output: Output) -> None:
        with self.lock:
            self.outputs.append(output)
            self.last_activity = time.monotonic()

    def take(self) -> list[Output]:
        with self.lock:
            new = self.outputs[self._taken :]
            self._taken = len(self.outputs)
            return new

    def begin_request(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.last_activity = time.monotonic()

    def end_request(self) -> None:
        with self.lock:
            self.in_flight -= 1
            self.last_activity = time.monotonic()

    def idle_for(self) -> float:
        """Seconds since the last activity, or 0 while a request to the bot is in flight."""
        with self.lock:
            if self.in_flight:
                return 0.0
            return time.monotonic() - self.last_activity
