"""OKRs: transparent, aligned, bi-monthly objectives and key results."""

from bot.okrs import slack  # noqa: F401
