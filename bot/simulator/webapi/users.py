"""``users.*``: info, lookupByEmail, list."""

from __future__ import annotations

import time
from typing import Any

from bot.simulator.webapi.base import ApiBase
from bot.simulator.webapi.paging import _int, _paginate
from bot.simulator.workspace import SlackError


class UsersMethods(ApiBase):
    """People as the bot reads them."""

    def users_info(self, p: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "user": self.ws.user(self._require(p, "user", "user_not_found")).to_slack()}

    def users_lookup_by_email(self, p: dict[str, Any]) -> dict[str, Any]:
        email = str(self._require(p, "email", "users_not_found")).lower()
        with self.ws.lock:
            user = next((u for u in self.ws.users.values() if (u.email or "").lower() == email), None)
        if user is None:
            raise SlackError("users_not_found")
        return {"ok": True, "user": user.to_slack()}

    def users_list(self, p: dict[str, Any]) -> dict[str, Any]:
        with self.ws.lock:
            users = list(self.ws.users.values())
        page, nxt = _paginate(users, lambda u: u.id, p.get("cursor"), _int(p.get("limit"), 0), "user:")
        return {
            "ok": True,
            "members": [u.to_slack() for u in page],
            "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": nxt},
        }
