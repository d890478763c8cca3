"""Product-review thread summaries."""

from bot.reviews import slack  # noqa: F401
