"""Direct messages to the bot."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.assistant import views
from bot.context import AppContext


def register(app: App, ctx: AppContext) -> None:
    @app.event("message")
    def _message(event: dict[str, Any], client: WebClient) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        payload = views.capabilities()
        payload.pop("response_type", None)
        client.chat_postMessage(channel=event["channel"], **payload)
