"""Plays Slack toward the bot: signed slash commands, events and interactions over real HTTP.

Requests are built field for field like Slack's, signed with the v0 HMAC scheme, and the bot's
acknowledgement is interpreted the way Slack's client would (ack text shown ephemerally, modal
``response_action``s applied, a slow or failed ack shown as an error). Human-side effects — the
user's own message, a reaction, a joined channel — are applied to the workspace first, because
Slack would have done so before the bot hears about them.

One module per Slack surface: ``commands.py`` (slash commands), ``events.py`` (Events API),
``actions.py`` (block_actions: buttons, selects), ``options.py`` (block_suggestion),
``state.py`` and ``modals.py`` (view_submission, view_closed), ``shortcuts.py``; ``menus.py``
names menus by label; ``text.py``
encodes what a person types, ``transport.py`` delivers to the bot.
"""

from __future__ import annotations

from bot.simulator.player.actions import ActionPlayer
from bot.simulator.player.base import ACK_DEADLINE_SECONDS, VERIFICATION_TOKEN, Delivery, InteractionError
from bot.simulator.player.commands import CommandPlayer
from bot.simulator.player.events import EventPlayer
from bot.simulator.player.menus import MenuFinder
from bot.simulator.player.modals import ModalPlayer
from bot.simulator.player.options import EXTERNAL_SELECTS, MAX_SUGGESTED_OPTIONS, OptionsPlayer, Suggest
from bot.simulator.player.shortcuts import ShortcutPlayer
from bot.simulator.player.state import ViewState
from bot.simulator.player.text import TypedText
from bot.simulator.player.transport import HttpTransport

__all__ = [
    "ACK_DEADLINE_SECONDS",
    "EXTERNAL_SELECTS",
    "MAX_SUGGESTED_OPTIONS",
    "VERIFICATION_TOKEN",
    "Delivery",
    "InteractionError",
    "Player",
    "Suggest",
]


class Player(
    CommandPlayer,
    EventPlayer,
    ActionPlayer,
    MenuFinder,
    OptionsPlayer,
    ModalPlayer,
    ViewState,
    ShortcutPlayer,
    TypedText,
    HttpTransport,
):
    """The request-sending half of the Simulator (mixed into it), one mixin per Slack surface."""
