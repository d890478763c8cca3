"""Finding things in Block Kit: a block's interactive elements, buttons, an element by action_id."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any


def _plain(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    return str(obj or "")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _block_elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    if block.get("type") == "actions":
        return [e for e in block.get("elements", []) if isinstance(e, dict)]
    if block.get("type") == "section" and isinstance(block.get("accessory"), dict):
        return [block["accessory"]]
    if block.get("type") == "input" and isinstance(block.get("element"), dict):
        return [block["element"]]
    return []


def _buttons(blocks: Iterable[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (str(b.get("block_id", "")), e)
        for b in blocks
        for e in _block_elements(b)
        if e.get("type") == "button"
    ]


def _find_element(
    blocks: list[dict[str, Any]], action_id: str, block_id: str | None
) -> tuple[str | None, dict[str, Any] | None]:
    for block in blocks:
        if block_id and block.get("block_id") != block_id:
            continue
        for element in _block_elements(block):
            if element.get("action_id") == action_id:
                return str(block.get("block_id", "")), element
    return None, None
