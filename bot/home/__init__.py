"""The App Home tab, assembled from every feature's section."""

from bot.home import slack  # noqa: F401
