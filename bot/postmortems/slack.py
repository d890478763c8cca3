"""/postmortem listeners (the feature lands in its own issue; until then, its grammar)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.common.slack import register_help_only
from bot.context import AppContext
from bot.postmortems import views


def register(app: App, ctx: AppContext) -> None:
    register_help_only(app, "/postmortem", views.help_message)

    @app.event("reaction_added")
    def _reaction(event: dict[str, Any]) -> None:
        """Subscribed for :pushpin: timeline entries; other reactions are acknowledged and ignored."""
