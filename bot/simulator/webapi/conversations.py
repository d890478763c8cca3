"""``conversations.*``: history, replies, info, members, open, join, list."""

from __future__ import annotations

from typing import Any

from bot.simulator.webapi.base import ApiBase
from bot.simulator.webapi.paging import _bool, _in_window, _int, _paginate
from bot.simulator.workspace import BOT_USER_ID, SlackError


class ConversationsMethods(ApiBase):
    """Channels as the bot reads them (membership matters as in Slack)."""

    def _readable(self, channel_id: str) -> str:
        channel = self.ws.channel(channel_id)
        if BOT_USER_ID not in channel.members:
            raise SlackError("not_in_channel")
        return channel.id

    def conversations_history(self, p: dict[str, Any]) -> dict[str, Any]:
        cid = self._readable(self._require(p, "channel", "channel_not_found"))
        inclusive = _bool(p.get("inclusive"))
        with self.ws.lock:
            items = [
                m
                for m in self.ws.messages[cid]
                if not m.is_reply and _in_window(m.ts, p.get("oldest"), p.get("latest"), inclusive)
            ]
            items.reverse()  # newest first, as Slack returns history
            page, nxt = _paginate(
                items, lambda m: m.ts, p.get("cursor"), _int(p.get("limit"), 100), "next_ts:"
            )
            messages = [self.ws.message_to_slack(m) for m in page]
        return {
            "ok": True,
            "messages": messages,
            "has_more": bool(nxt),
            "pin_count": 0,
            "channel_actions_ts": None,
            "channel_actions_count": 0,
            "response_metadata": {"next_cursor": nxt},
        }

    def conversations_replies(self, p: dict[str, Any]) -> dict[str, Any]:
        cid = self._readable(self._require(p, "channel", "channel_not_found"))
        ts = self._require(p, "ts", "thread_not_found")
        inclusive = _bool(p.get("inclusive"))
        with self.ws.lock:
            try:
                thread = self.ws.thread(cid, str(ts))
            except SlackError as exc:
                raise SlackError("thread_not_found") from exc
            items = [m for m in thread if _in_window(m.ts, p.get("oldest"), p.get("latest"), inclusive)]
            page, nxt = _paginate(
                items, lambda m: m.ts, p.get("cursor"), _int(p.get("limit"), 1000), "next_ts:"
            )
            messages = [self.ws.message_to_slack(m) for m in page]
        return {
            "ok": True,
            "messages": messages,
            "has_more": bool(nxt),
            "response_metadata": {"next_cursor": nxt},
        }

    def conversations_info(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.ws.channel(self._require(p, "channel", "channel_not_found"))
        return {"ok": True, "channel": channel.to_slack()}

    def conversations_members(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.ws.channel(self._require(p, "channel", "channel_not_found"))
        with self.ws.lock:
            members = list(channel.members)
        page, nxt = _paginate(members, lambda u: u, p.get("cursor"), _int(p.get("limit"), 100), "user:")
        return {"ok": True, "members": page, "response_metadata": {"next_cursor": nxt}}

    def conversations_open(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("channel"):
            channel = self.ws.channel(p["channel"])
            return {"ok": True, "channel": {"id": channel.id}, "no_op": True, "already_open": True}
        users = [u for u in str(self._require(p, "users", "users_list_not_supplied")).split(",") if u]
        if len(users) != 1:
            raise SlackError("not_supported")
        with self.ws.lock:
            existed = any(c.is_im and c.im_user == users[0] for c in self.ws.channels.values())
            channel = self.ws.open_im(users[0])
        body: dict[str, Any] = {
            "ok": True,
            "no_op": existed,
            "already_open": existed,
            "channel": {"id": channel.id},
        }
        if _bool(p.get("return_im")):
            body["channel"] = channel.to_slack()
        return body

    def conversations_join(self, p: dict[str, Any]) -> dict[str, Any]:
        channel = self.ws.channel(self._require(p, "channel", "channel_not_found"))
        if channel.is_private or channel.is_im:
            raise SlackError("method_not_supported_for_channel_type")
        with self.ws.lock:
            if BOT_USER_ID not in channel.members:
                channel.members.append(BOT_USER_ID)
        return {"ok": True, "channel": channel.to_slack()}

    def conversations_list(self, p: dict[str, Any]) -> dict[str, Any]:
        types = str(p.get("types") or "public_channel").split(",")
        with self.ws.lock:
            items = [
                c
                for c in self.ws.channels.values()
                if ("im" in types and c.is_im)
                or ("private_channel" in types and c.is_private and BOT_USER_ID in c.members)
                or ("public_channel" in types and not c.is_private and not c.is_im and not c.is_mpim)
            ]
        page, nxt = _paginate(items, lambda c: c.id, p.get("cursor"), _int(p.get("limit"), 100), "channel:")
        return {
            "ok": True,
            "channels": [c.to_slack() for c in page],
            "response_metadata": {"next_cursor": nxt},
        }
