"""In-memory state of the simulated Slack workspace.

Everything the Web API server answers and everything the player sends is derived from this one
object, so tests can seed it, inspect it and assert on it without any HTTP. All mutation goes
through methods that hold ``self.lock`` because the Web API server handles requests on several
threads at once while the test (or the demo shell) drives the player on another.

``objects.py`` holds what is stored (users, channels, messages, views and Slack's IDs);
``directory.py`` users and channels, ``messages.py`` history, threads, reactions and ephemeral
messages, ``views.py`` modals and home tabs, ``interactions.py`` trigger_ids and response_urls.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.simulator.workspace.directory import Directory
from bot.simulator.workspace.interactions import Interactions
from bot.simulator.workspace.messages import Messages
from bot.simulator.workspace.objects import (
    APP_ID,
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    TEAM_NAME,
    TRIGGER_TTL_SECONDS,
    Channel,
    Ephemeral,
    Message,
    ResponseUrl,
    SlackError,
    User,
    View,
    assign_ids,
)
from bot.simulator.workspace.views import Views

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_NAME",
    "BOT_USER_ID",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "TEAM_NAME",
    "TRIGGER_TTL_SECONDS",
    "Channel",
    "Ephemeral",
    "Message",
    "ResponseUrl",
    "SlackError",
    "User",
    "View",
    "Workspace",
    "assign_ids",
]


class Workspace(Directory, Messages, Views, Interactions):
    """Thread-safe in-memory Slack workspace: users, channels, messages, views and triggers."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        super().__init__(clock)
        self.add_user(
            BOT_USER_ID, BOT_NAME, real_name="Flywheel", display_name="Flywheel", is_bot=True, bot_id=BOT_ID
        )
