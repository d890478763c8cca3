"""``views.*``: open, push, update, publish (modals and the App Home)."""

from __future__ import annotations

from typing import Any

from bot.simulator.validation import validate_view
from bot.simulator.webapi.base import ApiBase
from bot.simulator.workspace import SlackError, View


class ViewsMethods(ApiBase):
    """Modals and home tabs; trigger_ids are exchanged here."""

    def _view_out(self, view: View, via: str) -> None:
        kind = "home" if view.type == "home" else "modal"
        title = view.payload.get("title") or {}
        self._out(
            kind=kind,
            user=view.user,
            text=str(title.get("text", "")) if isinstance(title, dict) else "",
            blocks=view.payload.get("blocks"),
            view=view.to_slack(),
            raw={"view_id": view.id},
            via=via,
        )

    def views_open(self, p: dict[str, Any]) -> dict[str, Any]:
        trigger_id = p.get("trigger_id") or p.get("interactivity_pointer")
        view_payload = validate_view(p.get("view"))
        view = self.ws.open_view(self.ws.exchange_trigger(trigger_id), view_payload)
        self._view_out(view, "views.open")
        return {"ok": True, "view": view.to_slack()}

    def views_push(self, p: dict[str, Any]) -> dict[str, Any]:
        trigger_id = p.get("trigger_id") or p.get("interactivity_pointer")
        view_payload = validate_view(p.get("view"))
        view = self.ws.push_view(self.ws.exchange_trigger(trigger_id), view_payload)
        self._view_out(view, "views.push")
        return {"ok": True, "view": view.to_slack()}

    def views_update(self, p: dict[str, Any]) -> dict[str, Any]:
        if not p.get("view_id") and not p.get("external_id"):
            raise SlackError("invalid_arguments", ["[ERROR] view_id or external_id is required"])
        view = self.ws.find_view(p.get("view_id"), p.get("external_id"))
        view_payload = validate_view(p.get("view"), home=view.type == "home")
        view = self.ws.update_view(view, view_payload, p.get("hash"))
        self._view_out(view, "views.update")
        return {"ok": True, "view": view.to_slack()}

    def views_publish(self, p: dict[str, Any]) -> dict[str, Any]:
        user_id = self._require(p, "user_id", "user_not_found")
        view_payload = validate_view(p.get("view"), home=True)
        view = self.ws.publish_home(user_id, view_payload, p.get("hash"))
        self._view_out(view, "views.publish")
        return {"ok": True, "view": view.to_slack()}
