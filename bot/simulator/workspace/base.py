"""The state every part of the workspace shares, and its ids and clocks."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable

from bot.simulator.workspace.objects import Channel, Ephemeral, Message, ResponseUrl, User, View


class WorkspaceBase:
    """The workspace's state, behind one lock (the mixins of ``Workspace`` work on it)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, list[Message]] = {}
        # indexes so that long threads stay cheap: (channel, ts) → message, (channel, root) → replies
        self._by_ts: dict[tuple[str, str], Message] = {}
        self._replies: dict[tuple[str, str], list[Message]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.views: dict[str, View] = {}
        self.view_stacks: dict[str, list[str]] = {}
        self.home_tabs: dict[str, str] = {}
        self.triggers: dict[str, tuple[float, str]] = {}
        self.exchanged_triggers: set[str] = set()
        self.response_urls: dict[str, ResponseUrl] = {}
        self._last_ts = 0.0
        self._seq = itertools.count(1)
        self._view_ids = itertools.count(1)
        self._im_ids = itertools.count(1)

    def next_seq(self) -> int:
        """A global change counter; lets the player find the newest thing a user can see."""
        return next(self._seq)

    def new_ts(self) -> str:
        """A fresh message ts: current time with microseconds, strictly increasing."""
        with self.lock:
            now = round(self.clock(), 6)
            if now <= self._last_ts:
                now = round(self._last_ts + 0.000001, 6)
            self._last_ts = now
            return f"{now:.6f}"
