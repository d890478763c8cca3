"""``reactions.*``: add and remove."""

from __future__ import annotations

from typing import Any

from bot.simulator.webapi.base import ApiBase
from bot.simulator.workspace import BOT_USER_ID


class ReactionsMethods(ApiBase):
    """Emoji reactions by the bot."""

    def reactions_add(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.ws.channel(self._require(p, "channel", "channel_not_found"))
        ts = self._require(p, "timestamp", "message_not_found")
        name = str(self._require(p, "name", "invalid_name"))
        message = self.ws.add_reaction(channel.id, ts, name, BOT_USER_ID)
        self._out(
            kind="reaction",
            channel=channel.id,
            user=self._dm_user(channel.id),
            ts=message.ts,
            text=f":{name.strip(':')}:",
            raw=p,
            via="reactions.add",
        )
        return {"ok": True}

    def reactions_remove(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.ws.channel(self._require(p, "channel", "channel_not_found"))
        self.ws.remove_reaction(
            channel.id,
            self._require(p, "timestamp", "message_not_found"),
            str(self._require(p, "name", "invalid_name")),
            BOT_USER_ID,
        )
        return {"ok": True}
