"""Events API: messages, DMs, mentions, reactions and App Home opens in their envelope."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

from bot.simulator.player.base import VERIFICATION_TOKEN, Delivery, InteractionError, PlayerBase
from bot.simulator.workspace import APP_ID, BOT_USER_ID, TEAM_ID, Channel, Message


class EventPlayer(PlayerBase):
    """Sends events; the human side (the message, the reaction) is applied to the workspace first."""

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        timestamp: int | str | None = None,
        signature: str | None = None,
    ) -> Delivery:
        """Deliver an Events API event in its ``event_callback`` envelope."""
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": TEAM_ID,
            "context_team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or "Ev" + uuid.uuid4().hex[:10].upper(),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + uuid.uuid4().hex,
        }
        return self._post_event(
            envelope, retry_num=retry_num, retry_reason=retry_reason, timestamp=timestamp, signature=signature
        )

    def url_verification(self, challenge: str, **sign: Any) -> Delivery:
        if self.socket is not None:
            raise InteractionError("url_verification is for HTTP mode; a Socket Mode app has no request URL")
        body = {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
        return self._signed_post(json.dumps(body), "application/json", **sign)

    def post_message(
        self, channel_id: str, user_id: str, text: str, thread_ts: str | None = None, *, ts: str | None = None
    ) -> str:
        """Seed a human message (mentions encoded as the client would); no event. Returns its ts."""
        return self._human_message(channel_id, user_id, text, thread_ts, ts=ts).ts

    def _human_message(
        self, channel_id: str, user_id: str, text: str, thread_ts: str | None, *, ts: str | None = None
    ) -> Message:
        user_id = self._resolve_user(user_id)
        channel = self._join(user_id, channel_id)
        encoded = self.encode_text(text, with_names=False)
        return self.workspace.post_message(
            channel.id,
            text=encoded,
            user=user_id,
            blocks=self._rich_text(encoded),
            thread_ts=thread_ts,
            ts=ts,
        )

    def _message_event(self, message: Message, channel: Channel, event_type: str) -> dict[str, Any]:
        event: dict[str, Any] = {
            "type": event_type,
            "user": message.user,
            "text": message.text,
            "ts": message.ts,
            "channel": channel.id,
            "event_ts": message.ts,
            "team": TEAM_ID,
            "blocks": message.blocks,
            "client_msg_id": str(uuid.uuid4()),
        }
        if message.is_reply:
            event["thread_ts"] = message.thread_ts
            if event_type == "message":
                event["parent_user_id"] = self.workspace.find_message(channel.id, str(message.thread_ts)).user
        if event_type == "message":
            event["channel_type"] = (
                "im"
                if channel.is_im
                else "mpim"
                if channel.is_mpim
                else "group"
                if channel.is_private
                else "channel"
            )
        return event

    def dm(self, user_id: str, text: str, thread_ts: str | None = None, **kwargs: Any) -> Delivery:
        """The user writes to the bot in their IM: the message is stored, then ``message.im`` sent."""
        user_id = self._resolve_user(user_id)
        channel = self.workspace.open_im(user_id)
        message = self._human_message(channel.id, user_id, text, thread_ts)
        return self.event(self._message_event(message, channel, "message"), **kwargs)

    def mention(
        self, user_id: str, channel_id: str, text: str, thread_ts: str | None = None, **kwargs: Any
    ) -> Delivery:
        """The user @-mentions the bot; ``@flywheel`` is added in front when the text lacks it."""
        user_id = self._resolve_user(user_id)
        if f"<@{BOT_USER_ID}>" not in text and not re.search(r"(?<!\w)@flywheel\b", text, re.I):
            text = f"<@{BOT_USER_ID}> {text}"
        text = re.sub(r"(?<!\w)@flywheel\b", f"<@{BOT_USER_ID}>", text, flags=re.I)
        channel = self._join(user_id, channel_id)
        message = self._human_message(channel.id, user_id, text, thread_ts)
        return self.event(self._message_event(message, channel, "app_mention"), **kwargs)

    def react(self, user_id: str, channel_id: str, ts: str, name: str, **kwargs: Any) -> Delivery:
        user_id = self._resolve_user(user_id)
        channel = self._join(user_id, channel_id)
        name = name.strip(":")
        message = self.workspace.add_reaction(channel.id, ts, name, user_id)
        event = {
            "type": "reaction_added",
            "user": user_id,
            "reaction": name,
            "item_user": message.user or BOT_USER_ID,
            "item": {"type": "message", "channel": channel.id, "ts": ts},
            "event_ts": self.workspace.new_ts(),
        }
        return self.event(event, **kwargs)

    def open_home(self, user_id: str, **kwargs: Any) -> Delivery:
        user_id = self._resolve_user(user_id)
        channel = self.workspace.open_im(user_id)
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": channel.id,
            "tab": "home",
            "event_ts": self.workspace.new_ts(),
        }
        home = self.workspace.home_view(user_id)
        if home is not None:
            event["view"] = home.to_slack()
        return self.event(event, **kwargs)
