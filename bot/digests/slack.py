"""/digest listeners (the feature lands in its own issue; until then, its grammar)."""

from __future__ import annotations

from slack_bolt import App

from bot.common.slack import register_help_only
from bot.context import AppContext
from bot.digests import views


def register(app: App, ctx: AppContext) -> None:
    register_help_only(app, "/digest", views.help_message)
