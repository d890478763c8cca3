"""Cursor pagination and parameter parsing as the Web API does them."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from bot.simulator.workspace import SlackError


def _cursor(key: str) -> str:
    return base64.b64encode(key.encode()).decode()


def _decode_cursor(cursor: Any) -> str | None:
    if not cursor:
        return None
    try:
        return base64.b64decode(str(cursor).encode()).decode()
    except ValueError as exc:
        raise SlackError("invalid_cursor") from exc


def _paginate(
    items: list[Any], key: Callable[[Any], str], cursor: Any, limit: int, prefix: str
) -> tuple[list[Any], str]:
    """Slice ``items`` at the cursor (which names the first item of the page) and make the next one."""
    start = 0
    decoded = _decode_cursor(cursor)
    if decoded is not None:
        if not decoded.startswith(prefix):
            raise SlackError("invalid_cursor")
        wanted = decoded[len(prefix) :]
        keys = [key(i) for i in items]
        if wanted not in keys:
            raise SlackError("invalid_cursor")
        start = keys.index(wanted)
    if limit <= 0:
        return items[start:], ""
    page = items[start : start + limit]
    rest = items[start + limit :]
    return page, _cursor(prefix + key(rest[0])) if rest else ""


def _int(value: Any, default: int) -> int:
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise SlackError("invalid_arguments") from exc


def _bool(value: Any) -> bool:
    return str(value).lower() in {"1", "true", "yes"}


def _in_window(ts: str, oldest: Any, latest: Any, inclusive: bool) -> bool:
    t = float(ts)
    if oldest not in (None, "", "0"):
        o = float(oldest)
        if t < o or (t == o and not inclusive):
            return False
    if latest not in (None, ""):
        la = float(latest)
        if t > la or (t == la and not inclusive):
            return False
    return True
