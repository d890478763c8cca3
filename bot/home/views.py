"""The App Home view, from the sections features contribute."""

from __future__ import annotations

from typing import Any

from bot.common import views


def home(sections: list[list[views.Block]]) -> dict[str, Any]:
    blocks: list[views.Block] = [views.header("Flywheel")]
    for part in sections:
        if part:
            blocks.extend(part)
            blocks.append(views.divider())
    if len(blocks) == 1:
        blocks.append(views.section("Nothing here yet. Type `/okr help` in any channel to begin."))
    if len(blocks) > views.VIEW_BLOCK_LIMIT:
        blocks = blocks[: views.VIEW_BLOCK_LIMIT - 1]
        blocks.append(views.context("More than fits here — use the slash commands to see everything."))
    return {"type": "home", "blocks": blocks}
