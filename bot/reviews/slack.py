"""/review listeners and @Flywheel mentions."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.common.slack import register_help_only
from bot.context import AppContext
from bot.reviews import views


def register(app: App, ctx: AppContext) -> None:
    register_help_only(app, "/review", views.help_message)

    @app.event("app_mention")
    def _mention(event: dict[str, Any], client: WebClient) -> None:
        client.chat_postEphemeral(
            channel=event["channel"],
            user=event["user"],
            thread_ts=event.get("thread_ts"),
            text="Mention me with `summarize` inside a thread to get its summary. "
            "Type `/review help` for more.",
        )
