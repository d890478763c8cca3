"""/okr listeners."""

from __future__ import annotations

from slack_bolt import App

from bot.common.slack import register_help_only
from bot.context import AppContext
from bot.okrs import views


def register(app: App, ctx: AppContext) -> None:
    register_help_only(app, "/okr", views.help_message)
