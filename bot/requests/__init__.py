"""Shared-service requests to central teams, under an SLA."""

from bot.requests import slack  # noqa: F401
