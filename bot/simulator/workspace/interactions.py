"""The handles Slack gives an app with each interaction: trigger_ids and response_urls."""

from __future__ import annotations

import secrets

from bot.simulator.workspace.base import WorkspaceBase
from bot.simulator.workspace.objects import TRIGGER_TTL_SECONDS, ResponseUrl, SlackError


class Interactions(WorkspaceBase):
    """trigger_ids (3 s, once) and response_urls (where a reply to an interaction lands)."""

    def issue_trigger(self, user_id: str) -> str:
        """A trigger_id as Slack issues with every interaction; valid for 3 seconds, once."""
        with self.lock:
            trigger = f"{int(self.clock())}.{secrets.randbelow(10**10):010d}.{secrets.token_hex(16)}"
            self.triggers[trigger] = (self.clock(), user_id)
            return trigger

    def exchange_trigger(self, trigger_id: str | None) -> str:
        """Consume a trigger_id as ``views.open``/``views.push`` do; returns the user it was for."""
        with self.lock:
            if not trigger_id or trigger_id not in self.triggers:
                raise SlackError("invalid_trigger_id")
            if trigger_id in self.exchanged_triggers:
                raise SlackError("exchanged_trigger_id")
            issued, user_id = self.triggers[trigger_id]
            if self.clock() - issued > TRIGGER_TTL_SECONDS:
                raise SlackError("expired_trigger_id")
            self.exchanged_triggers.add(trigger_id)
            return user_id

    def new_response_url(
        self,
        user_id: str,
        channel_id: str,
        *,
        message_ts: str | None = None,
        is_ephemeral: bool = False,
        thread_ts: str | None = None,
    ) -> ResponseUrl:
        with self.lock:
            rid = secrets.token_hex(8)
            entry = ResponseUrl(
                id=rid,
                user=user_id,
                channel=channel_id,
                message_ts=message_ts,
                is_ephemeral=is_ephemeral,
                thread_ts=thread_ts,
            )
            self.response_urls[rid] = entry
            return entry
