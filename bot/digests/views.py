"""Block Kit for /digest."""

from __future__ import annotations

from typing import Any

from bot.common import views

HELP = [
    ("/digest", "this channel's digest subscriptions"),
    ("/digest add <okr|ssp|postmortems|reviews> daily HH:MM [tz:<zone>]", "a daily digest"),
    ("/digest add <kind> weekly <mon…sun> HH:MM [tz:<zone>]", "a weekly digest"),
    ("/digest remove D-n", "stop a digest"),
    ("/digest preview <kind>", "post one now"),
]


def help_message() -> dict[str, Any]:
    return views.help_message("/digest — scheduled digests", HELP)
