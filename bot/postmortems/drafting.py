"""A draft from an incident channel: its messages become the timeline, at the time each was posted.

Pure functions over the messages `conversations.history` returned (all pages, in any order): the
bot's own posts, joins and other housekeeping are left out, each message is one entry at its own
`ts`, entries are in time order and a message never appears twice (pages may overlap). The title
comes from the channel's name (`#inc-42-checkout-errors` → "INC-42: checkout errors"), the severity
from a declaration in the chatter ("sev 2", "SEV-1", "P2" is not guessed), the participants are the
people who spoke. With a model, `bot/postmortems/model.py` adds a first summary and contributing
factors; offline the draft is the timeline alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.postmortems.rules import TIMELINE_TEXT_LIMIT, from_slack

SKIPPED_SUBTYPES = {
    "channel_join",
    "channel_leave",
    "channel_topic",
    "channel_purpose",
    "channel_name",
    "bot_add",
    "bot_remove",
    "pinned_item",
    "unpinned_item",
    "tombstone",
    "group_join",
    "group_leave",
}
MAX_DRAFT_MESSAGES = 400  # a timeline longer than this is not read, it is scrolled
_SEVERITY = re.compile(r"\bsev(?:erity)?\s*[-:]?\s*([1-4])\b", re.IGNORECASE)
_INCIDENT = re.compile(r"^(inc|incident)[-_]?(\d+)[-_]?(.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class DraftEntry:
    ts: str
    user: str | None
    text: str  # stored form (see rules.from_slack)
    link: str


def ts_key(ts: str) -> tuple[int, int]:
    sec, _, usec = str(ts).partition(".")
    try:
        return int(sec), int((usec or "0").ljust(6, "0")[:6])
    except ValueError:
        return 0, 0


def permalink(workspace_url: str, channel_id: str, ts: str) -> str:
    """Slack's permalink shape (`…/archives/C…/p1733152920000200`), without an API call per message."""
    base = workspace_url if workspace_url.endswith("/") else workspace_url + "/"
    return f"{base}archives/{channel_id}/p{ts.replace('.', '')}"


def timeline_from(
    raw: Iterable[dict[str, Any]], *, channel_id: str, workspace_url: str, bot_user_id: str | None
) -> list[DraftEntry]:
    """Human messages → entries in time order, one per message ts."""
    seen: dict[str, DraftEntry] = {}
    for m in raw:
        ts = str(m.get("ts") or "")
        if not ts or ts in seen or m.get("subtype") in SKIPPED_SUBTYPES:
            continue
        if m.get("bot_id") or (bot_user_id and m.get("user") == bot_user_id):
            continue
        text = from_slack(str(m.get("text") or "")).strip()
        if not text and m.get("files"):
            text = "[shared a file]"
        if not text:
            continue
        if len(text) > TIMELINE_TEXT_LIMIT:
            text = text[: TIMELINE_TEXT_LIMIT - 1] + "…"
        seen[ts] = DraftEntry(
            ts=ts, user=m.get("user"), text=text, link=permalink(workspace_url, channel_id, ts)
        )
    entries = sorted(seen.values(), key=lambda e: ts_key(e.ts))
    return entries[-MAX_DRAFT_MESSAGES:]


def title_from_channel(name: str | None) -> str:
    """`inc-42-checkout-errors` → `INC-42: checkout errors`; any other name → `Incident in #name`."""
    clean = (name or "").strip().lstrip("#")
    m = _INCIDENT.match(clean)
    if m:
        rest = re.sub(r"[-_]+", " ", m.group(3)).strip()
        return f"INC-{m.group(2)}: {rest}" if rest else f"INC-{m.group(2)}"
    return f"Incident in #{clean}" if clean else "Incident"


def severity_from(entries: Iterable[DraftEntry]) -> int | None:
    """The first severity declared in the chatter ("Declaring an incident, sev 2"), if any."""
    for e in entries:
        m = _SEVERITY.search(e.text)
        if m:
            return int(m.group(1))
    return None


def speakers(entries: Iterable[DraftEntry]) -> list[str]:
    return list(dict.fromkeys(e.user for e in entries if e.user and e.user[:1] in "UW"))
