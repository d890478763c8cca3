"""Blameless postmortems."""

from bot.postmortems import slack  # noqa: F401
