"""Plain-language direct messages."""

from bot.assistant import slack  # noqa: F401
