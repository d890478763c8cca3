"""Block Kit for thread summaries."""

from __future__ import annotations

from typing import Any

from bot.common import views

HELP = [
    ("/review <message permalink>", "summarize the thread the link points to"),
    ("/review channel #c", "register a product-review channel for the weekly digest"),
    ("@Flywheel summarize (in a thread)", "summarize this thread"),
    ("Message shortcut: Summarize thread", "from any message's ⋯ menu"),
]


def help_message() -> dict[str, Any]:
    return views.help_message(
        "/review — product-review thread summaries",
        HELP,
        "Summaries are only shown to members of the thread's channel.",
    )
