"""``chat.*``: post, post ephemeral, update, delete, get a permalink."""

from __future__ import annotations

from typing import Any

from bot.simulator.validation import _check_message
from bot.simulator.webapi.base import ApiBase
from bot.simulator.workspace import BOT_ID, BOT_USER_ID, SlackError


class ChatMethods(ApiBase):
    """Messages the bot writes."""

    def chat_post_message(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.ws.channel(self._require(p, "channel", "channel_not_found"))
        text, blocks = p.get("text"), p.get("blocks")
        _check_message(text, blocks)
        message = self.ws.post_message(
            channel.id,
            text=str(text or ""),
            user=BOT_USER_ID,
            bot_id=BOT_ID,
            blocks=blocks,
            thread_ts=p.get("thread_ts") or None,
            metadata=p.get("metadata"),
        )
        self._out(
            kind="message",
            channel=channel.id,
            user=self._dm_user(channel.id),
            ts=message.ts,
            thread_ts=message.thread_ts if message.is_reply else None,
            text=message.text,
            blocks=blocks,
            raw=p,
            via="chat.postMessage",
        )
        return {
            "ok": True,
            "channel": channel.id,
            "ts": message.ts,
            "message": self.ws.message_to_slack(message),
        }

    def chat_post_ephemeral(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.ws.channel(self._require(p, "channel", "channel_not_found"))
        user_id = self._require(p, "user", "user_not_found")
        self.ws.user(user_id)
        if not channel.is_im and user_id not in channel.members:
            raise SlackError("user_not_in_channel")
        text, blocks = p.get("text"), p.get("blocks")
        _check_message(text, blocks)
        eph = self.ws.add_ephemeral(
            channel.id, user_id, text=str(text or ""), blocks=blocks, thread_ts=p.get("thread_ts") or None
        )
        self._out(
            kind="ephemeral",
            channel=channel.id,
            user=user_id,
            ts=eph.ts,
            thread_ts=eph.thread_ts,
            text=eph.text,
            blocks=blocks,
            raw=p,
            via="chat.postEphemeral",
        )
        return {"ok": True, "message_ts": eph.ts}

    def chat_update(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.ws.channel(self._require(p, "channel", "channel_not_found"))
        message = self.ws.find_message(channel.id, self._require(p, "ts", "message_not_found"))
        if message.bot_id != BOT_ID:
            raise SlackError("cant_update_message")
        text, blocks = p.get("text"), p.get("blocks")
        _check_message(text, blocks, require=False)
        message = self.ws.update_message(channel.id, message.ts, text=text, blocks=blocks)
        self._out(
            kind="update",
            channel=channel.id,
            user=self._dm_user(channel.id),
            ts=message.ts,
            thread_ts=message.thread_ts if message.is_reply else None,
            text=message.text,
            blocks=message.blocks,
            raw=p,
            via="chat.update",
        )
        return {
            "ok": True,
            "channel": channel.id,
            "ts": message.ts,
            "text": message.text,
            "message": self.ws.message_to_slack(message),
        }

    def chat_delete(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.ws.channel(self._require(p, "channel", "channel_not_found"))
        message = self.ws.find_message(channel.id, self._require(p, "ts", "message_not_found"))
        if message.bot_id != BOT_ID:
            raise SlackError("cant_delete_message")
        self.ws.delete_message(channel.id, message.ts)
        self._out(
            kind="delete",
            channel=channel.id,
            user=self._dm_user(channel.id),
            ts=message.ts,
            text=message.text,
            raw=p,
            via="chat.delete",
        )
        return {"ok": True, "channel": channel.id, "ts": message.ts}

    def chat_get_permalink(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.ws.channel(self._require(p, "channel", "channel_not_found"))
        message = self.ws.find_message(channel.id, self._require(p, "message_ts", "message_not_found"))
        return {"ok": True, "channel": channel.id, "permalink": self.permalink(channel.id, message)}
