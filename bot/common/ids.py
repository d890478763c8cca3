"""Short human IDs (`O-12`, `KR-34`, `REQ-56`, `PM-7`, `AI-9`, `D-3`), case-insensitive on input."""

from __future__ import annotations

import re
from enum import StrEnum

from bot.common.errors import UserError


class Kind(StrEnum):
    OBJECTIVE = "O"
    KEY_RESULT = "KR"
    REQUEST = "REQ"
    POSTMORTEM = "PM"
    ACTION_ITEM = "AI"
    DIGEST = "D"


_PATTERN = re.compile(r"^\s*(O|KR|REQ|PM|AI|D)-?(\d{1,9})\s*$", re.IGNORECASE)


def format_id(kind: Kind, number: int) -> str:
    return f"{kind.value}-{number}"


def parse_id(text: str, expected: Kind) -> int:
    """`kr-34` → 34 when a KR is expected; a clear error naming the expected form otherwise."""
    match = _PATTERN.match(text or "")
    if not match or match.group(1).upper() != expected.value:
        raise UserError(
            f"`{text.strip() if text else ''}` is not a {expected.name.lower().replace('_', ' ')} ID "
            f"— expected something like `{expected.value}-12`."
        )
    return int(match.group(2))


def looks_like(text: str, kind: Kind) -> bool:
    match = _PATTERN.match(text or "")
    return bool(match and match.group(1).upper() == kind.value)
