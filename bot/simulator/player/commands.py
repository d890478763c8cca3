"""Slash commands: the form Slack posts, and the ack shown as Slack shows it."""

from __future__ import annotations

from typing import Any

from bot.simulator.feed import Output
from bot.simulator.player.base import VERIFICATION_TOKEN, Delivery, PlayerBase
from bot.simulator.workspace import APP_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID


class CommandPlayer(PlayerBase):
    """Sends slash commands."""

    def command(
        self,
        user_id: str,
        command: str,
        text: str = "",
        channel_id: str | None = None,
        *,
        timestamp: int | str | None = None,
        signature: str | None = None,
        raw_text: bool = False,
    ) -> Delivery:
        """Send a slash command; ``text`` is encoded like ``should_escape`` unless ``raw_text``."""
        user_id = self._resolve_user(user_id)
        if channel_id is None:
            channel_id = self.workspace.open_im(user_id).id
        channel = self._join(user_id, channel_id)
        if not command.startswith("/"):
            command = "/" + command
        entry = self.workspace.new_response_url(user_id, channel.id)
        user = self.workspace.user(user_id)
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel.id,
            "channel_name": "directmessage"
            if channel.is_im
            else ("privategroup" if channel.is_private else channel.name),
            "user_id": user_id,
            "user_name": user.name,
            "command": command,
            "text": text if raw_text else self.encode_text(text, with_names=True),
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self.api.response_url(entry.id),
            "trigger_id": self.workspace.issue_trigger(user_id),
        }
        delivery = self._post_form(fields, timestamp=timestamp, signature=signature)
        failure = self._ack_failed(delivery)
        if failure:
            self._error_output(
                user_id,
                channel.id,
                f'{command} failed with the error "{failure}"',
                {"status": delivery.status},
            )
        elif delivery.text.strip():
            body = delivery.json if isinstance(delivery.json, dict) else {"text": delivery.text}
            self._show_ack(user_id, channel.id, body, entry_id=entry.id)
        return delivery

    def _show_ack(self, user_id: str, channel_id: str, body: dict[str, Any], *, entry_id: str) -> None:
        """A command's ack body, shown as Slack shows it (ephemeral unless in_channel)."""
        text, blocks = body.get("text"), body.get("blocks")
        if not text and not blocks:
            return
        if body.get("response_type") == "in_channel":
            message = self.workspace.post_message(
                channel_id, text=str(text or ""), user=BOT_USER_ID, bot_id="B0FLYWHEEL", blocks=blocks
            )
            self.recorder.emit(
                Output(
                    kind="message",
                    channel=channel_id,
                    user=self._im_user(channel_id),
                    ts=message.ts,
                    text=message.text,
                    blocks=blocks,
                    raw=body,
                    via="ack",
                )
            )
        else:
            eph = self.workspace.add_ephemeral(channel_id, user_id, text=str(text or ""), blocks=blocks)
            self.recorder.emit(
                Output(
                    kind="ephemeral",
                    channel=channel_id,
                    user=user_id,
                    ts=eph.ts,
                    text=eph.text,
                    blocks=blocks,
                    raw=body,
                    via="ack",
                )
            )
