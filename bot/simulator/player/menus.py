"""Naming a menu as people see it: by its label (or the start of it), not only by its action_id.

`select Team Growth` in the demo, `sim.select(user, "Aligned to", "O-3")` in a test: people read
labels, scripts know action_ids, and both should work. Used by `select` (actions.py) and
`suggest` (options.py).
"""

from __future__ import annotations

from typing import Any

from bot.simulator.player.base import PlayerBase
from bot.simulator.player.elements import _block_elements, _plain, _slug

# Elements `select` cannot pick from (everything else — selects, radio buttons, checkboxes,
# overflow menus, date pickers — it can, by action_id or by label).
_NOT_MENUS = {"button", "plain_text_input", "number_input", "email_text_input", "url_text_input", "image"}
_EXTERNAL = {"external_select", "multi_external_select"}


class MenuFinder(PlayerBase):
    """Finds the newest visible menu a person or a script names."""

    def find_menu(
        self, user_id: str, name: str, *, external: bool = False
    ) -> tuple[str, Any, dict[str, Any], dict[str, Any]]:
        """The newest visible select menu called `name`: (kind, surface, block, element).

        People name a menu by what they see — its label (“Team”, “Aligned to (parent objective)”,
        or the start of it: “aligned”) — and scripts by its action_id; both work. Exact names win
        over a label's beginning; a beginning that fits two menus is refused with their labels.
        """
        user_id = self._resolve_user(user_id)
        key = name.strip().strip("\"'")
        menus = [
            (kind, obj, block, element)
            for kind, obj, blocks in self.surfaces(user_id)  # type: ignore[attr-defined]
            for block in blocks
            for element in _block_elements(block)
            if element.get("type") not in _NOT_MENUS and (not external or element.get("type") in _EXTERNAL)
        ]

        def label(block: dict[str, Any], element: dict[str, Any]) -> str:
            return _plain(block.get("label")) or _plain(element.get("placeholder"))

        exact = [
            m
            for m in menus
            if key in (m[3].get("action_id"), m[2].get("block_id"))
            or label(m[2], m[3]).lower() == key.lower()
            or (_slug(key) and _slug(label(m[2], m[3])) == _slug(key))
        ]
        if exact:
            return exact[0]
        starts = [m for m in menus if _slug(key) and _slug(label(m[2], m[3])).startswith(_slug(key))]
        # A label's beginning: on the newest surface that has one (an open modal before messages).
        newest = [m for m in starts if m[1] is starts[0][1]] if starts else []
        if len({id(m[3]) for m in newest}) == 1:
            return newest[0]
        kind_name = "search menu (external select)" if external else "select menu"
        seen = sorted({label(b, e) or str(e.get("action_id")) for _, _, b, e in (newest or menus)})
        if len(newest) > 1:
            raise LookupError(
                f"{name!r} could be the {kind_name}s {', '.join(seen)} — type more of the label"
            )
        raise LookupError(f"no {kind_name} {name!r} visible; menus: {', '.join(seen) or 'none'}")

    def split_menu(self, user_id: str, text: str, *, external: bool = False) -> tuple[str, str]:
        """`Aligned to O-3` → (`Aligned to`, `O-3`): the longest run of leading words that names a
        visible menu, and the rest; `"Aligned to" O-3` (quoted) works too."""
        text = text.strip()
        if text and text[0] in "\"'" and text[0] in text[1:]:
            end = text.index(text[0], 1)
            return text[1:end], text[end + 1 :].strip()
        words = text.split()
        for n in range(len(words), 0, -1):
            candidate = " ".join(words[:n])
            try:
                self.find_menu(user_id, candidate, external=external)
            except LookupError:
                continue
            return candidate, " ".join(words[n:])
        return (words[0], " ".join(words[1:])) if words else ("", "")
