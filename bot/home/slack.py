"""App Home: rebuilt for the user each time they open it."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.context import AppContext
from bot.home import views

log = logging.getLogger(__name__)


def publish(ctx: AppContext, client: WebClient, user_id: str) -> None:
    parts = []
    for _order, section in ctx.home_sections:
        try:
            parts.append(section(ctx, user_id))
        except Exception:  # one broken section must not blank the whole Home
            log.exception("home section %s failed", getattr(section, "__name__", section))
    client.views_publish(user_id=user_id, view=views.home(parts))


def register(app: App, ctx: AppContext) -> None:
    @app.event("app_home_opened")
    def _home(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab", "home") == "home":
            publish(ctx, client, event["user"])
