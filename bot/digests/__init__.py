"""Scheduled digests."""

from bot.digests import slack  # noqa: F401
