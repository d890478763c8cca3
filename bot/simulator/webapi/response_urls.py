"""``response_url`` posts: the reply to a command or an interaction."""

from __future__ import annotations

import time
from typing import Any

from bot.simulator.feed import ApiCall
from bot.simulator.validation import _check_message
from bot.simulator.webapi.base import ApiBase
from bot.simulator.workspace import BOT_ID, BOT_USER_ID, SlackError, assign_ids


class ResponseUrls(ApiBase):
    """Ephemeral or in-channel replies, replace_original and delete_original."""

    def response_url(self, rid: str) -> str:
        return f"{self.base_url}/response/{rid}"

    def post_response(self, rid: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Apply a ``response_url`` post: ephemeral reply, in-channel message, replace or delete."""
        entry = self.ws.response_urls.get(rid)
        self.recorder.record_call(
            ApiCall(method="response_url", params=dict(payload, _id=rid), time=time.time())
        )
        if entry is None:
            return 404, {"ok": False, "error": "expired_url"}
        entry.uses += 1
        if entry.uses > 5:
            return 404, {"ok": False, "error": "used_url"}
        text, blocks = payload.get("text"), payload.get("blocks")
        try:
            if payload.get("delete_original"):
                return 200, self._delete_original(entry, payload)
            _check_message(text, blocks)
            if payload.get("replace_original") and entry.message_ts:
                return 200, self._replace_original(entry, payload)
            thread_ts = payload.get("thread_ts") or entry.thread_ts
            if payload.get("response_type") == "in_channel":
                message = self.ws.post_message(
                    entry.channel,
                    text=str(text or ""),
                    user=BOT_USER_ID,
                    bot_id=BOT_ID,
                    blocks=blocks,
                    thread_ts=thread_ts,
                )
                self._out(
                    kind="message",
                    channel=entry.channel,
                    user=self._dm_user(entry.channel),
                    ts=message.ts,
                    thread_ts=message.thread_ts if message.is_reply else None,
                    text=message.text,
                    blocks=blocks,
                    raw=payload,
                    via="response_url",
                )
            else:
                eph = self.ws.add_ephemeral(
                    entry.channel, entry.user, text=str(text or ""), blocks=blocks, thread_ts=thread_ts
                )
                self._out(
                    kind="ephemeral",
                    channel=entry.channel,
                    user=entry.user,
                    ts=eph.ts,
                    thread_ts=thread_ts,
                    text=eph.text,
                    blocks=blocks,
                    raw=payload,
                    via="response_url",
                )
        except SlackError as exc:
            return 400, {"ok": False, "error": exc.code}
        return 200, {"ok": True}

    def _delete_original(self, entry: Any, payload: dict[str, Any]) -> dict[str, Any]:
        if entry.message_ts is None:
            return {"ok": True}
        if entry.is_ephemeral:
            eph = self.ws.find_ephemeral(entry.user, entry.message_ts)
            if eph is not None:
                eph.deleted = True
        else:
            self.ws.delete_message(entry.channel, entry.message_ts)
        self._out(
            kind="delete",
            channel=entry.channel,
            user=entry.user,
            ts=entry.message_ts,
            raw=payload,
            via="response_url",
        )
        return {"ok": True}

    def _replace_original(self, entry: Any, payload: dict[str, Any]) -> dict[str, Any]:
        text, blocks = payload.get("text"), payload.get("blocks")
        if entry.is_ephemeral:
            eph = self.ws.find_ephemeral(entry.user, entry.message_ts)
            if eph is not None:
                assign_ids(blocks)
                eph.text, eph.blocks, eph.seq = str(text or ""), blocks, self.ws.next_seq()
            self._out(
                kind="ephemeral",
                channel=entry.channel,
                user=entry.user,
                ts=entry.message_ts,
                text=str(text or ""),
                blocks=blocks,
                raw=payload,
                via="response_url",
            )
        else:
            message = self.ws.update_message(
                entry.channel, entry.message_ts, text=str(text or ""), blocks=blocks, replace=True
            )
            self._out(
                kind="update",
                channel=entry.channel,
                user=self._dm_user(entry.channel),
                ts=message.ts,
                thread_ts=message.thread_ts if message.is_reply else None,
                text=message.text,
                blocks=message.blocks,
                raw=payload,
                via="response_url",
            )
        return {"ok": True}
