"""``apps.connections.open``: the Socket Mode URL, asked for with the app-level token."""

from __future__ import annotations

from typing import Any

from bot.simulator.socket_mode import SocketModeServer, TooManyConnections
from bot.simulator.webapi.base import ApiBase
from bot.simulator.workspace import SlackError

# Methods that take the app-level (xapp-) token; every other method takes the bot token.
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})


class AppsMethods(ApiBase):
    """Socket Mode's entry point (the simulator serves the WebSocket too)."""

    app_token: str | None = None  # set when the app has Socket Mode on
    socket: SocketModeServer | None = None

    def apps_connections_open(self, p: dict[str, Any]) -> dict[str, Any]:
        if self.socket is None:
            raise SlackError("not_allowed_token_type")
        try:
            return {"ok": True, "url": self.socket.new_url()}
        except TooManyConnections as exc:
            raise SlackError("too_many_websockets") from exc
