"""A modal's ``state.values`` from what a person types or picks, field by field, like the client."""

from __future__ import annotations

from typing import Any

from bot.simulator.player.base import InteractionError, PlayerBase
from bot.simulator.player.elements import _plain, _slug
from bot.simulator.player.options import EXTERNAL_SELECTS, Suggest
from bot.simulator.render import element_options
from bot.simulator.workspace import View


class ViewState(PlayerBase):
    """Builds and checks the state a view_submission carries."""

    def _state_entry(
        self, element: dict[str, Any], value: Any, block: dict[str, Any], *, suggest: Suggest | None = None
    ) -> dict[str, Any]:
        """One ``state.values`` entry for an input element, from what a person would type/pick.

        An external select's options come from the bot: ``suggest`` sends what is typed as the
        query (``block_suggestion``) and the choice is made among the options it answers.
        """
        etype = str(element.get("type", "plain_text_input"))
        entry: dict[str, Any] = {"type": etype}

        def as_list(v: Any) -> list[str]:
            if v is None or v == "":
                return []
            if isinstance(v, str):
                return [p.strip() for p in v.split(",") if p.strip()]
            return [str(p) for p in v]

        def option(v: str) -> dict[str, Any]:
            if etype in EXTERNAL_SELECTS:
                if suggest is None:
                    raise InteractionError(f"{element.get('action_id')}: no way to load its options here")
                options = suggest(element, block, v)
            else:
                options = element_options(element)
            for opt in options:
                if str(opt.get("value")) == v or _plain(opt.get("text")).lower() == v.lower():
                    return opt
            # A typed first word stands for the option it starts (`O-1` → "O-1 Double weekly …").
            starts = [o for o in options if _plain(o.get("text")).lower().startswith(v.lower() + " ")]
            if len(starts) == 1:
                return starts[0]
            choices = ", ".join(_plain(o.get("text")) for o in options) or "none"
            raise InteractionError(
                f"{_plain(block.get('label')) or element.get('action_id')}: no option {v!r}"
                f" (choices: {choices})"
            )

        if etype in {"static_select", "external_select", "radio_buttons"}:
            entry["selected_option"] = option(str(value)) if value not in (None, "") else None
        elif etype in {"multi_static_select", "multi_external_select", "checkboxes"}:
            entry["selected_options"] = [option(v) for v in as_list(value)]
        elif etype == "users_select":
            entry["selected_user"] = self._resolve_user(str(value)) if value not in (None, "") else None
        elif etype == "multi_users_select":
            entry["selected_users"] = [self._resolve_user(v) for v in as_list(value)]
        elif etype in {"conversations_select", "channels_select"}:
            key = "selected_conversation" if etype == "conversations_select" else "selected_channel"
            ch = self.workspace.channel_by_name(str(value)) if value not in (None, "") else None
            if value not in (None, "") and ch is None:
                raise InteractionError(f"no channel {value!r}")
            entry[key] = ch.id if ch else None
        elif etype in {"multi_conversations_select", "multi_channels_select"}:
            key = "selected_conversations" if etype == "multi_conversations_select" else "selected_channels"
            ids = []
            for v in as_list(value):
                ch = self.workspace.channel_by_name(v)
                if ch is None:
                    raise InteractionError(f"no channel {v!r}")
                ids.append(ch.id)
            entry[key] = ids
        elif etype == "datepicker":
            entry["selected_date"] = str(value) if value not in (None, "") else None
        elif etype == "timepicker":
            entry["selected_time"] = str(value) if value not in (None, "") else None
        elif etype == "datetimepicker":
            entry["selected_date_time"] = int(value) if value not in (None, "") else None
        else:
            entry["value"] = str(value) if value not in (None, "") else None
        return entry

    def _initial_entry(self, element: dict[str, Any], block: dict[str, Any]) -> dict[str, Any]:
        etype = str(element.get("type", "plain_text_input"))
        if "initial_option" in element:
            return {"type": etype, "selected_option": element["initial_option"]}
        if "initial_options" in element:
            return {"type": etype, "selected_options": element["initial_options"]}
        initial: Any = None
        for key in (
            "initial_value",
            "initial_user",
            "initial_users",
            "initial_date",
            "initial_time",
            "initial_date_time",
            "initial_conversation",
            "initial_channel",
            "initial_conversations",
            "initial_channels",
        ):
            if key in element:
                initial = element[key]
        entry = self._state_entry(element, None, block)
        if initial is not None:
            value_key = next(k for k in entry if k != "type")
            entry[value_key] = initial
        return entry

    def _build_state(
        self, view: View, values: dict[str, Any], *, suggest: Suggest | None = None
    ) -> dict[str, dict[str, dict[str, Any]]]:
        remaining = {str(k): v for k, v in values.items()}
        state: dict[str, dict[str, dict[str, Any]]] = {}
        inputs = [b for b in view.payload.get("blocks", []) if b.get("type") == "input"]
        chosen = self._assign_fields(inputs, list(remaining))
        for block in inputs:
            element = block.get("element", {})
            block_id, action_id = block["block_id"], element["action_id"]
            label = _plain(block.get("label"))
            key = chosen.get(block_id)
            if key is not None:
                entry = self._state_entry(element, remaining.pop(key), block, suggest=suggest)
            elif block_id in view.state_values and action_id in view.state_values[block_id]:
                entry = view.state_values[block_id][action_id]
            else:
                entry = self._initial_entry(element, block)
            empty = all(v in (None, [], "") for k, v in entry.items() if k != "type")
            if empty and not block.get("optional"):
                raise InteractionError(f"“{label}” is required")
            text = entry.get("value")
            if isinstance(text, str):
                if element.get("max_length") and len(text) > int(element["max_length"]):
                    raise InteractionError(f"“{label}” allows at most {element['max_length']} characters")
                if element.get("min_length") and len(text) < int(element["min_length"]):
                    raise InteractionError(f"“{label}” needs at least {element['min_length']} characters")
            state.setdefault(block_id, {})[action_id] = entry
        if remaining:
            labels = [
                _plain(b.get("label")) for b in view.payload.get("blocks", []) if b.get("type") == "input"
            ]
            raise InteractionError(
                f"no field {', '.join(remaining)!s} in this modal; fields: {', '.join(labels)}"
            )
        return state

    @staticmethod
    def _assign_fields(inputs: list[dict[str, Any]], keys: list[str]) -> dict[str, str]:
        """Which typed key fills which input: exact (block_id, action_id or label) first, then a key
        that is part of a label (`value` → "New value (%)"), so people can type short names."""
        chosen: dict[str, str] = {}
        free = list(keys)
        for block in inputs:
            element = block.get("element", {})
            names = {block["block_id"], element.get("action_id")}
            label = _plain(block.get("label"))
            key = next(
                (k for k in free if k in names or k.lower() == label.lower() or _slug(k) == _slug(label)),
                None,
            )
            if key is not None:
                chosen[block["block_id"]] = key
                free.remove(key)
        for key in list(free):
            block = next(
                (
                    b
                    for b in inputs
                    if b["block_id"] not in chosen
                    and _slug(key)
                    and _slug(key) in _slug(_plain(b.get("label")))
                ),
                None,
            )
            if block is not None:
                chosen[block["block_id"]] = key
                free.remove(key)
        return chosen
