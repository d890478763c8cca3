"""Block Kit building blocks shared by every feature, and Slack's size limits in one place."""

from __future__ import annotations

from typing import Any

SECTION_TEXT_LIMIT = 3000
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
FALLBACK_TEXT_LIMIT = 3000

Block = dict[str, Any]


def escape(text: str) -> str:
    """Slack's three control characters, so user text and `<placeholders>` show literally."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def plain(text: str, emoji: bool = True) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:150] or " ", "emoji": emoji}


def split_text(text: str, limit: int = SECTION_TEXT_LIMIT) -> list[str]:
    """Split on line breaks (or, for one huge line, hard) so each piece fits a section."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current or not pieces:
        pieces.append(current)
    return pieces


def section(text: str, **extra: Any) -> Block:
    return {"type": "section", "text": mrkdwn(text[:SECTION_TEXT_LIMIT] or " "), **extra}


def sections(text: str) -> list[Block]:
    return [section(piece) for piece in split_text(text) if piece.strip()]


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text)}


def context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(text[:SECTION_TEXT_LIMIT])]}


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str = "", style: str | None = None) -> Block:
    b: Block = {"type": "button", "text": plain(text), "action_id": action_id}
    if value:
        b["value"] = value[:2000]
    if style:
        b["style"] = style
    return b


def actions(*elements: Block, block_id: str | None = None) -> Block:
    b: Block = {"type": "actions", "elements": list(elements)[:25]}
    if block_id:
        b["block_id"] = block_id
    return b


def message(text: str, blocks: list[Block] | None = None, *, in_channel: bool = False) -> dict[str, Any]:
    """A message payload (ack body, response_url post or chat.postMessage kwargs)."""
    payload: dict[str, Any] = {"text": text[:FALLBACK_TEXT_LIMIT]}
    if blocks:
        payload["blocks"] = blocks[:MESSAGE_BLOCK_LIMIT]
    payload["response_type"] = "in_channel" if in_channel else "ephemeral"
    return payload


def paginate_blocks(blocks: list[Block], limit: int = MESSAGE_BLOCK_LIMIT) -> list[list[Block]]:
    """Long output as several messages of at most `limit` blocks each, never one too long."""
    return [blocks[i : i + limit] for i in range(0, len(blocks), limit)] or [[]]


def error_message(text: str) -> dict[str, Any]:
    return message(text, [section(f":warning: {text}")])


def help_message(title: str, lines: list[tuple[str, str]], footer: str | None = None) -> dict[str, Any]:
    """`/cmd help`: the grammar as a two-column list."""
    body = "\n".join(f"`{escape(form)}` — {escape(meaning)}" for form, meaning in lines)
    blocks = [header(title), *sections(body)]
    if footer:
        blocks.append(context(footer))
    return message(f"{title}\n{body}", blocks)
