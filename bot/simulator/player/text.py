"""What a person types, encoded as Slack's client sends it: escapes, mentions, links, rich text."""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

from bot.simulator.player.base import PlayerBase

_MENTION = re.compile(r"(?<![\w<|])@([A-Za-z0-9._-]+)")
_CHANNEL = re.compile(r"(?<![\w<|&])#([a-z0-9_-]+)")
_URL = re.compile(r"(?<![<|])\bhttps?://[^\s<>]+")
_TOKEN = re.compile(r"<[@#!][^<>]*>|<https?://[^<>]*>")


class TypedText(PlayerBase):
    """Turns typed text into Slack's wire form."""

    def encode_text(self, text: str, *, with_names: bool) -> str:
        """Encode what a person typed as Slack's client does: escape &<>, wrap links, mentions.

        ``with_names`` gives the ``should_escape`` form of slash commands (``<@U1|lena>``).
        Already-encoded tokens (``<@U…>``, ``<#C…|x>``, ``<https://…>``) are kept as they are.
        """
        parts: list[str] = []
        last = 0
        for token in _TOKEN.finditer(text):
            parts.append(self._encode_plain(text[last : token.start()], with_names))
            parts.append(token.group(0))
            last = token.end()
        parts.append(self._encode_plain(text[last:], with_names))
        return "".join(parts)

    def _encode_plain(self, text: str, with_names: bool) -> str:
        text = html.escape(text, quote=False)
        text = _URL.sub(lambda m: f"<{m.group(0)}>", text)

        def mention(m: re.Match[str]) -> str:
            word = m.group(1)
            if word.lower() in {"here", "channel", "everyone"}:
                return f"<!{word.lower()}>"
            user = self.workspace.user_by_name(word.rstrip(".,:;!?"))
            if user is None:
                return m.group(0)
            tail = word[len(word.rstrip(".,:;!?")) :]
            return (f"<@{user.id}|{user.name}>" if with_names else f"<@{user.id}>") + tail

        def channel(m: re.Match[str]) -> str:
            found = self.workspace.channel_by_name(m.group(1))
            if found is None or found.is_im:
                return m.group(0)
            return f"<#{found.id}|{found.name}>" if with_names else f"<#{found.id}|>"

        return _CHANNEL.sub(channel, _MENTION.sub(mention, text))

    def _rich_text(self, text: str) -> list[dict[str, Any]]:
        """The rich_text block Slack's client attaches to a typed message."""
        elements: list[dict[str, Any]] = []
        last = 0
        for m in re.finditer(
            r"<@([A-Z0-9]+)(?:\|[^>]*)?>|<#([A-Z0-9]+)(?:\|[^>]*)?>|<(https?://[^|>]+)(?:\|[^>]*)?>", text
        ):
            if m.start() > last:
                elements.append({"type": "text", "text": html.unescape(text[last : m.start()])})
            if m.group(1):
                elements.append({"type": "user", "user_id": m.group(1)})
            elif m.group(2):
                elements.append({"type": "channel", "channel_id": m.group(2)})
            else:
                elements.append({"type": "link", "url": m.group(3)})
            last = m.end()
        if last < len(text):
            elements.append({"type": "text", "text": html.unescape(text[last:])})
        return [
            {
                "type": "rich_text",
                "block_id": uuid.uuid4().hex[:5],
                "elements": [{"type": "rich_text_section", "elements": elements}],
            }
        ]
