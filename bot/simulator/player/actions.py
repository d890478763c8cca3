"""block_actions: clicking buttons and picking options on messages, ephemeral messages and views."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.simulator.player.base import Delivery, PlayerBase
from bot.simulator.player.elements import _buttons, _find_element, _plain
from bot.simulator.workspace import Ephemeral, Message, View


class ActionPlayer(PlayerBase):
    """Finds what a user can click and sends the interaction."""

    def click(
        self,
        user_id: str,
        action_id: str,
        value: str | None = None,
        *,
        message: Message | str | None = None,
        view: View | str | None = None,
        block_id: str | None = None,
        channel_id: str | None = None,
        ephemeral: Ephemeral | None = None,
        action: dict[str, Any] | None = None,
        **sign: Any,
    ) -> Delivery:
        """Send ``block_actions`` for a button on a message (``message`` = Message or ts with
        ``channel_id``), an ephemeral message, or a view (modal or home; ``view`` = View or id)."""
        user_id = self._resolve_user(user_id)
        payload = self._interaction_base("block_actions", user_id)
        blocks: list[dict[str, Any]] = []
        if view is not None:
            v = view if isinstance(view, View) else self.workspace.find_view(view)
            payload["container"] = {"type": "view", "view_id": v.id}
            payload["view"] = v.to_slack()
            payload["state"] = {"values": v.state_values}
            blocks = v.payload.get("blocks", [])
        elif ephemeral is not None:
            payload["container"] = {
                "type": "message",
                "message_ts": ephemeral.ts,
                "channel_id": ephemeral.channel,
                "is_ephemeral": True,
            }
            payload["channel"] = self._channel_obj(ephemeral.channel)
            payload["state"] = {"values": {}}
            entry = self.workspace.new_response_url(
                user_id,
                ephemeral.channel,
                message_ts=ephemeral.ts,
                is_ephemeral=True,
                thread_ts=ephemeral.thread_ts,
            )
            payload["response_url"] = self.api.response_url(entry.id)
            blocks = ephemeral.blocks or []
        elif message is not None:
            if isinstance(message, str):
                if channel_id is None:
                    raise ValueError("channel_id is needed with a message ts")
                message = self.workspace.find_message(channel_id, message)
            payload["container"] = {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": False,
            }
            payload["channel"] = self._channel_obj(message.channel)
            payload["message"] = self.workspace.message_to_slack(message)
            payload["state"] = {"values": {}}
            entry = self.workspace.new_response_url(
                user_id,
                message.channel,
                message_ts=message.ts,
                thread_ts=message.thread_ts if message.is_reply else None,
            )
            payload["response_url"] = self.api.response_url(entry.id)
            blocks = message.blocks or []
        else:
            raise ValueError("click needs a message, an ephemeral message or a view")
        found_block, element = _find_element(blocks, action_id, block_id)
        act: dict[str, Any] = {
            "action_id": action_id,
            "block_id": block_id or found_block or "",
            "type": "button",
            "action_ts": f"{time.time():.6f}",
        }
        if element is not None:
            act["type"] = element.get("type", "button")
            if element.get("text"):
                act["text"] = element["text"]
            if element.get("value") is not None:
                act["value"] = element["value"]
            if element.get("style"):
                act["style"] = element["style"]
        if value is not None:
            act["value"] = value
        if action:
            act.update(action)
        payload["actions"] = [act]
        delivery = self._post_payload(payload, **sign)
        failure = self._ack_failed(delivery)
        if failure:
            self._error_output(
                user_id,
                payload.get("channel", {}).get("id"),
                f'⚠ "{failure}" on {action_id}',
                {"status": delivery.status},
            )
        return delivery

    def surfaces(self, user_id: str) -> list[tuple[str, Any, list[dict[str, Any]]]]:
        """What the user can click now, newest first: (kind, object, blocks).

        An open modal comes first and alone would hide the rest in a real client, but we still
        list messages after it so scripts can click through without closing modals.
        """
        ws = self.workspace
        with ws.lock:
            found: list[tuple[int, str, Any, list[dict[str, Any]]]] = []
            home = ws.home_view(user_id)
            if home is not None:
                found.append((home.seq, "view", home, home.payload.get("blocks", [])))
            for eph in ws.ephemerals:
                if eph.user == user_id and not eph.deleted and eph.blocks:
                    found.append((eph.seq, "ephemeral", eph, eph.blocks))
            for cid, messages in ws.messages.items():
                channel = ws.channels.get(cid)
                if channel is None or user_id not in channel.members:
                    continue
                for m in messages:
                    if m.blocks and m.bot_id:
                        found.append((m.seq, "message", m, m.blocks))
            found.sort(key=lambda f: f[0], reverse=True)
            result = [(kind, obj, blocks) for _, kind, obj, blocks in found]
            top = ws.top_view(user_id)
            if top is not None:
                result.insert(0, ("view", top, top.payload.get("blocks", [])))
            return result

    def find_button(self, user_id: str, label_or_action_id: str) -> tuple[str, Any, str, dict[str, Any]]:
        """The newest visible button matching a label or action_id: (kind, surface, block_id, element)."""
        user_id = self._resolve_user(user_id)
        key = label_or_action_id.strip().strip("[]").lower()
        surfaces = self.surfaces(user_id)
        matchers: list[Callable[[str, str], bool]] = [
            lambda label, aid: label.lower() == key or aid.lower() == key,
            lambda label, aid: key in label.lower(),
        ]
        for match in matchers:
            for kind, obj, blocks in surfaces:
                for block_id, element in _buttons(blocks):
                    label = _plain(element.get("text"))
                    if match(label, str(element.get("action_id", ""))):
                        return kind, obj, block_id, element
        labels = sorted({_plain(e.get("text")) for _, _, blocks in surfaces for _, e in _buttons(blocks)})
        raise LookupError(f"no button {label_or_action_id!r} visible; buttons: {', '.join(labels) or 'none'}")

    def click_button(self, user_id: str, label_or_action_id: str, **sign: Any) -> Delivery:
        """Click the newest visible button whose label or action_id matches (label: exact, then part)."""
        kind, obj, block_id, element = self.find_button(user_id, label_or_action_id)
        action_id = str(element.get("action_id", ""))
        if kind == "view":
            return self.click(user_id, action_id, view=obj, block_id=block_id, **sign)
        if kind == "ephemeral":
            return self.click(user_id, action_id, ephemeral=obj, block_id=block_id, **sign)
        return self.click(user_id, action_id, message=obj, block_id=block_id, **sign)

    def select(self, user_id: str, action_id: str, selected: str | list[str], **sign: Any) -> Delivery | None:
        """Choose an option in a select menu, named by its action_id or by its label as people see
        it (`menus.MenuFinder.find_menu`). In a modal input block this only changes the view state
        (Slack sends nothing); elsewhere it sends ``block_actions``. Returns the delivery or None."""
        user_id = self._resolve_user(user_id)
        kind, obj, block, element = self.find_menu(user_id, action_id)  # type: ignore[attr-defined]
        action_id = str(element.get("action_id"))
        suggest = self._suggester(user_id, kind, obj)
        state = self._state_entry(element, selected, block, suggest=suggest)
        if kind == "view":
            with self.workspace.lock:
                obj.state_values.setdefault(block["block_id"], {})[action_id] = state
            if block.get("type") == "input" and not block.get("dispatch_action"):
                return None
        action = {"type": element.get("type"), **{k: v for k, v in state.items() if k != "type"}}
        where = {"view": "view", "ephemeral": "ephemeral"}.get(kind, "message")
        return self.click(
            user_id, action_id, block_id=block["block_id"], action=action, **{where: obj}, **sign
        )
