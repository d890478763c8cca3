"""block_suggestion: the options an external select loads from the app as the user types."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.simulator.player.base import VERIFICATION_TOKEN, InteractionError, PlayerBase
from bot.simulator.player.elements import _plain
from bot.simulator.render import element_options
from bot.simulator.workspace import APP_ID

EXTERNAL_SELECTS = {"external_select", "multi_external_select"}
MAX_SUGGESTED_OPTIONS = 100  # Slack shows nothing when an app answers with more
# Loads an external select's options for a typed query: (element, block, query) → options.
Suggest = Callable[[dict[str, Any], dict[str, Any], str], list[dict[str, Any]]]


class OptionsPlayer(PlayerBase):
    """Sends what is typed into a search menu and reads the options answered."""

    def _suggester(self, user_id: str, kind: str, surface: Any) -> Suggest:
        """How the user's client loads an external select's options on ``surface`` (each search is
        its own signed request, whatever signing a test forces on the request that follows)."""

        def suggest(element: dict[str, Any], block: dict[str, Any], query: str) -> list[dict[str, Any]]:
            return self.load_options(user_id, element, block, query, kind=kind, surface=surface)

        return suggest

    def suggest(self, user_id: str, action_id: str, query: str = "", **sign: Any) -> list[dict[str, Any]]:
        """Type ``query`` into the newest visible external select (by action_id or label): the
        options the bot offers, as Slack's client would list them (option groups flattened)."""
        user_id = self._resolve_user(user_id)
        kind, obj, block, element = self.find_menu(user_id, action_id, external=True)  # type: ignore[attr-defined]
        return self.load_options(user_id, element, block, query, kind=kind, surface=obj, **sign)

    def load_options(
        self,
        user_id: str,
        element: dict[str, Any],
        block: dict[str, Any],
        query: str,
        *,
        kind: str,
        surface: Any,
        **sign: Any,
    ) -> list[dict[str, Any]]:
        """Send ``block_suggestion`` for ``query`` typed into ``element`` and read the answer.

        Like Slack: nothing is sent while the query is shorter than ``min_query_length`` (default
        3); the answer must be ``{"options": [...]}`` or ``{"option_groups": [...]}`` with at most
        100 options, or the menu shows no choices.
        """
        label = _plain(block.get("label")) or str(element.get("action_id"))
        least = int(element.get("min_query_length", 3))
        if len(query) < least:
            raise InteractionError(f"“{label}”: type at least {least} characters to search")
        payload: dict[str, Any] = {
            "type": "block_suggestion",
            "user": self._user_obj(user_id),
            "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN,
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "action_id": element.get("action_id", ""),
            "block_id": block.get("block_id", ""),
            "value": query,
        }
        if kind == "view":
            payload["container"] = {"type": "view", "view_id": surface.id}
            payload["view"] = surface.to_slack()
        else:
            payload["container"] = {
                "type": "message",
                "message_ts": surface.ts,
                "channel_id": surface.channel,
                "is_ephemeral": kind == "ephemeral",
            }
            payload["channel"] = self._channel_obj(surface.channel)
            if kind == "message":
                payload["message"] = self.workspace.message_to_slack(surface)
        delivery = self._post_payload(payload, **sign)
        self.last_suggestion = delivery
        failure = self._ack_failed(delivery)
        if failure:
            raise InteractionError(f"“{label}”: the app did not answer the search ({failure})")
        body = delivery.json if isinstance(delivery.json, dict) else {}
        if not isinstance(body.get("options", []), list) or not isinstance(
            body.get("option_groups", []), list
        ):
            raise InteractionError(f"“{label}”: the app's answer has no options list")
        options = element_options(body)
        if len(options) > MAX_SUGGESTED_OPTIONS:
            raise InteractionError(
                f"“{label}”: the app answered {len(options)} options; Slack shows none past "
                f"{MAX_SUGGESTED_OPTIONS}"
            )
        return options
