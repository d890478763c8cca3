"""view_submission and view_closed: submitting and closing modals, and the bot's response_action."""

from __future__ import annotations

from typing import Any

from bot.simulator.feed import Output
from bot.simulator.player.base import Delivery, InteractionError, PlayerBase
from bot.simulator.player.elements import _plain
from bot.simulator.validation import validate_view
from bot.simulator.workspace import SlackError, View


class ModalPlayer(PlayerBase):
    """Submits the top modal and applies what the bot answers."""

    def submit_view(
        self, user_id: str, values: dict[str, Any] | None = None, view_id: str | None = None, **sign: Any
    ) -> Delivery:
        """Submit the user's top modal (or ``view_id``) and apply the bot's ``response_action``."""
        user_id = self._resolve_user(user_id)
        view = self.workspace.find_view(view_id) if view_id else self.workspace.top_view(user_id)
        if view is None:
            raise InteractionError("no modal is open")
        state = self._build_state(view, values or {}, suggest=self._suggester(user_id, "view", view))
        with self.workspace.lock:
            view.state_values = state
        payload = self._interaction_base("view_submission", user_id)
        payload["view"] = view.to_slack()
        payload["response_urls"] = []
        delivery = self._post_payload(payload, **sign)
        failure = self._ack_failed(delivery)
        if failure:
            self._error_output(
                user_id,
                None,
                "We had some trouble connecting. Try again?",
                {"status": delivery.status, "error": failure},
            )
            return delivery
        self._apply_response_action(user_id, view, delivery)
        return delivery

    def _apply_response_action(self, user_id: str, view: View, delivery: Delivery) -> None:
        body = delivery.json if isinstance(delivery.json, dict) else {}
        action = body.get("response_action")
        ws = self.workspace
        emit = self.recorder.emit
        try:
            if action == "errors":
                with ws.lock:
                    view.errors = dict(body.get("errors") or {})
                emit(
                    Output(
                        kind="modal",
                        user=user_id,
                        text=_plain(view.payload.get("title")),
                        blocks=view.payload.get("blocks"),
                        view=view.to_slack(),
                        raw={"errors": view.errors, "view_id": view.id},
                        via="ack",
                    )
                )
            elif action == "update":
                ws.update_view(view, validate_view(body.get("view")))
                emit(_modal_output(user_id, view))
            elif action == "push":
                emit(_modal_output(user_id, ws.push_view(user_id, validate_view(body.get("view")))))
            elif action == "clear":
                ws.clear_views(user_id)
                emit(Output(kind="modal_closed", user=user_id, raw={"cleared": True}, via="ack"))
            else:
                with ws.lock:
                    stack = ws.view_stacks.get(user_id) or []
                    if view.id in stack:
                        stack.remove(view.id)
                emit(
                    Output(
                        kind="modal_closed",
                        user=user_id,
                        text=_plain(view.payload.get("title")),
                        raw={"view_id": view.id},
                        via="ack",
                    )
                )
        except SlackError as exc:
            self._error_output(
                user_id,
                None,
                f"The modal could not be shown ({exc.code})",
                {"error": exc.code, "messages": exc.messages},
            )

    def close_view(self, user_id: str, **sign: Any) -> Delivery | None:
        """Close the top modal; the bot hears ``view_closed`` only if it set ``notify_on_close``."""
        user_id = self._resolve_user(user_id)
        view = self.workspace.pop_view(user_id)
        if view is None:
            raise InteractionError("no modal is open")
        self.recorder.emit(
            Output(
                kind="modal_closed",
                user=user_id,
                text=_plain(view.payload.get("title")),
                raw={"view_id": view.id},
                via="client",
            )
        )
        if not view.payload.get("notify_on_close"):
            return None
        payload = self._interaction_base("view_closed", user_id)
        payload.pop("trigger_id")
        payload["view"] = view.to_slack()
        payload["is_cleared"] = False
        return self._post_payload(payload, **sign)


def _modal_output(user_id: str, view: View) -> Output:
    """A modal the bot opened or changed through its view_submission answer."""
    return Output(
        kind="modal",
        user=user_id,
        text=_plain(view.payload.get("title")),
        blocks=view.payload.get("blocks"),
        view=view.to_slack(),
        raw={"view_id": view.id},
        via="ack",
    )
