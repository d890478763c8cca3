"""What every part of the player shares: the request log, the user and team objects, ack checks.

The ``Player`` is composed of one mixin per Slack surface (commands, events, actions, options,
modals, shortcuts); they reach each other through ``self``, as methods of one class.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.simulator.feed import Output, Recorder
from bot.simulator.socket_mode import Exchange, SocketModeServer
from bot.simulator.webapi import SlackWebApi
from bot.simulator.workspace import APP_ID, TEAM_DOMAIN, TEAM_ID, Channel, Workspace

ACK_DEADLINE_SECONDS = 3.0
VERIFICATION_TOKEN = "sim-verification-token"


class InteractionError(ValueError):
    """Something a Slack client would refuse before sending, e.g. an empty required field."""


@dataclass
class Delivery:
    """What the bot answered to one request Slack sent it."""

    status: int
    headers: dict[str, str] = field(repr=False)
    text: str
    json: Any = None
    elapsed: float = 0.0
    request_body: str = field(default="", repr=False)
    request_headers: dict[str, str] = field(default_factory=dict, repr=False)
    # What Slack sent, as a dict: a command's fields, an interaction payload, an event callback.
    sent: dict[str, Any] = field(default_factory=dict, repr=False)
    transport: str = "http"  # or "socket"
    exchange: Exchange | None = field(default=None, repr=False)  # Socket Mode: envelope and attempts

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class PlayerBase:
    """The state the player's mixins share (the Simulator provides it)."""

    workspace: Workspace
    api: SlackWebApi
    recorder: Recorder
    signing_secret: str
    bot_url: str | None
    socket: SocketModeServer | None  # set when the app is in Socket Mode
    _http: httpx.Client | None
    last_suggestion: Delivery | None = None  # the latest block_suggestion exchange, for tests

    # ---- helpers ------------------------------------------------------------------------------

    def _user_obj(self, user_id: str) -> dict[str, Any]:
        user = self.workspace.user(user_id)
        return {"id": user.id, "username": user.name, "name": user.name, "team_id": TEAM_ID}

    def _team(self) -> dict[str, Any]:
        return {"id": TEAM_ID, "domain": TEAM_DOMAIN}

    def _resolve_user(self, user: str) -> str:
        found = self.workspace.user_by_name(user)
        if found is None:
            raise KeyError(f"no such user: {user}")
        return found.id

    def _join(self, user_id: str, channel_id: str) -> Channel:
        """Make sure a human can act in the channel; public channels are joined like in the client."""
        self.workspace.user(user_id)
        channel = self.workspace.channel(channel_id, as_bot=False)
        with self.workspace.lock:
            if user_id not in channel.members:
                if channel.is_private or channel.is_im:
                    raise InteractionError(
                        f"@{self.workspace.user_label(user_id)} is not a member of "
                        f"{self.workspace.channel_label(channel.id)}"
                    )
                channel.members.append(user_id)
        return channel

    def _error_output(self, user_id: str, channel_id: str | None, text: str, raw: dict[str, Any]) -> None:
        self.recorder.emit(
            Output(kind="error", channel=channel_id, user=user_id, text=text, raw=raw, via="ack")
        )

    def _ack_failed(self, delivery: Delivery) -> str | None:
        """Slack's own error code when the bot did not acknowledge properly, else None."""
        if delivery.elapsed > ACK_DEADLINE_SECONDS:
            return "operation_timeout"
        if not delivery.ok:
            return "dispatch_failed" if delivery.status >= 500 else "http_client_error"
        return None

    def _im_user(self, channel_id: str) -> str | None:
        channel = self.workspace.channels.get(channel_id)
        return channel.im_user if channel is not None and channel.is_im else None

    # ---- interactivity ------------------------------------------------------------------------

    def _interaction_base(self, kind: str, user_id: str) -> dict[str, Any]:
        return {
            "type": kind,
            "user": self._user_obj(user_id),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "trigger_id": self.workspace.issue_trigger(user_id),
        }

    def _channel_obj(self, channel_id: str) -> dict[str, Any]:
        channel = self.workspace.channel(channel_id, as_bot=False)
        return {"id": channel.id, "name": "directmessage" if channel.is_im else channel.name}
