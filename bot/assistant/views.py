"""Block Kit for direct-message answers."""

from __future__ import annotations

from typing import Any

from bot.common import views


def capabilities() -> dict[str, Any]:
    text = (
        "Hi! I can answer from the same data you see with the commands:\n"
        "• `/okr` — objectives and key results (`/okr help`)\n"
        "• `/ssp` — ask a central team for help (`/ssp help`)\n"
        "• `/postmortem` — blameless postmortems (`/postmortem help`)\n"
        "• `/review` — summarize a product-review thread (`/review help`)\n"
        "• `/digest` — scheduled digests in a channel (`/digest help`)"
    )
    return views.message(text, views.sections(text))
