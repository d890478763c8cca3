"""An in-memory `ThreadSource` for service tests (the Slack adapter is tested end to end)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.reviews import service

WORKSPACE = "https://acme.slack.com/"
BOT = "UBOT"


@dataclass
class FakeSource:
    channels: dict[str, set[str]] = field(default_factory=dict)
    threads: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    readable: bool = True
    private: set[str] = field(default_factory=set)

    def channel_members(self, channel_id: str) -> set[str]:
        self.calls.append("members")
        if channel_id not in self.channels:
            raise service.ChannelUnavailable(channel_id)
        return set(self.channels[channel_id])

    def thread_messages(self, channel_id: str, thread_ts: str) -> list[dict[str, Any]]:
        self.calls.append("replies")
        if not self.readable:
            raise service.BotNotInChannel(channel_id)
        if (channel_id, thread_ts) not in self.threads:
            raise service.ThreadUnavailable(thread_ts)
        return list(self.threads[(channel_id, thread_ts)])

    def active_threads(self, channel_id: str, since_ts: str) -> list[str]:
        if channel_id not in self.channels:
            raise service.ChannelUnavailable(channel_id)
        active = [
            root
            for (cid, root), msgs in self.threads.items()
            if cid == channel_id and len(msgs) > 1 and float(msgs[-1]["ts"]) >= float(since_ts)
        ]
        return sorted(active, reverse=True)

    def is_private(self, channel_id: str) -> bool:
        return channel_id in self.private

    def workspace_url(self) -> str:
        return WORKSPACE

    def bot_user_id(self) -> str | None:
        return BOT

    # --- building threads ----------------------------------------------------------------
    def add_thread(self, channel_id: str, members: set[str], messages: list[tuple[str, str]]) -> str:
        """Messages as (user, text); returns the thread's ts."""
        self.channels.setdefault(channel_id, set()).update(members)
        root = f"{1_700_000_000 + len(self.threads) * 10_000}.000100"
        self.threads[(channel_id, root)] = []
        self.extend(channel_id, root, messages)
        return root

    def extend(self, channel_id: str, root: str, messages: list[tuple[str, str]]) -> None:
        thread = self.threads[(channel_id, root)]
        base = int(root.split(".")[0])
        for user, text in messages:
            ts = f"{base + len(thread)}.000100"
            thread.append({"type": "message", "user": user, "text": text, "ts": ts, "thread_ts": root})
