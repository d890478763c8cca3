"""``auth.test``, ``bots.info``, ``team.info``: who the bot is and where."""

from __future__ import annotations

from typing import Any

from bot.simulator.webapi.base import ApiBase
from bot.simulator.workspace import APP_ID, BOT_ID, BOT_NAME, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID, TEAM_NAME


class AuthMethods(ApiBase):
    """The bot's identity and its workspace."""

    def auth_test(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": TEAM_NAME,
            "user": BOT_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def bots_info(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "bot": {
                "id": BOT_ID,
                "deleted": False,
                "name": BOT_NAME,
                "app_id": APP_ID,
                "user_id": BOT_USER_ID,
                "icons": {},
            },
        }

    def team_info(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "team": {"id": TEAM_ID, "name": TEAM_NAME, "domain": TEAM_DOMAIN, "email_domain": "", "icon": {}},
        }
