"""People: Slack users mirrored locally so renders and permission checks need no API call."""

from bot.people import slack  # noqa: F401
