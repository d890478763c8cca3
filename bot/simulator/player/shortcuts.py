"""Shortcuts: message shortcuts (on a message) and global shortcuts."""

from __future__ import annotations

import time
from typing import Any

from bot.simulator.player.base import Delivery, PlayerBase


class ShortcutPlayer(PlayerBase):
    """Sends shortcut interactions."""

    def message_shortcut(
        self, user_id: str, callback_id: str, channel_id: str, message_ts: str, **sign: Any
    ) -> Delivery:
        user_id = self._resolve_user(user_id)
        message = self.workspace.find_message(channel_id, message_ts)
        entry = self.workspace.new_response_url(
            user_id, channel_id, thread_ts=message.thread_ts if message.is_reply else None
        )
        payload = self._interaction_base("message_action", user_id)
        payload.update(
            {
                "action_ts": f"{time.time():.6f}",
                "callback_id": callback_id,
                "channel": self._channel_obj(channel_id),
                "message_ts": message.ts,
                "message": self.workspace.message_to_slack(message),
                "response_url": self.api.response_url(entry.id),
            }
        )
        delivery = self._post_payload(payload, **sign)
        failure = self._ack_failed(delivery)
        if failure:
            self._error_output(
                user_id,
                channel_id,
                f'⚠ shortcut failed with the error "{failure}"',
                {"status": delivery.status},
            )
        return delivery

    def global_shortcut(self, user_id: str, callback_id: str, **sign: Any) -> Delivery:
        user_id = self._resolve_user(user_id)
        payload = self._interaction_base("shortcut", user_id)
        payload.update({"action_ts": f"{time.time():.6f}", "callback_id": callback_id})
        return self._post_payload(payload, **sign)
