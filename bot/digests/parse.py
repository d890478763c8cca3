"""`/digest` text → a request, or a `UserError` naming the problem and the right form."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.common.errors import UserError
from bot.common.ids import Kind as IdKind
from bot.common.ids import parse_id
from bot.common.slack import is_help
from bot.digests.schedule import WEEKDAYS, Rule


class DigestKind(StrEnum):
    OKR = "okr"
    SSP = "ssp"
    POSTMORTEMS = "postmortems"
    REVIEWS = "reviews"

    @property
    def title(self) -> str:
        return {
            "okr": "OKR",
            "ssp": "Shared-service",
            "postmortems": "Postmortem",
            "reviews": "Product-review",
        }[self.value]


ALIASES = {
    "okr": DigestKind.OKR,
    "okrs": DigestKind.OKR,
    "ssp": DigestKind.SSP,
    "requests": DigestKind.SSP,
    "postmortems": DigestKind.POSTMORTEMS,
    "postmortem": DigestKind.POSTMORTEMS,
    "pm": DigestKind.POSTMORTEMS,
    "reviews": DigestKind.REVIEWS,
    "review": DigestKind.REVIEWS,
}
KINDS = "okr|ssp|postmortems|reviews"
# Shown in mrkdwn, where a bare `<…>` would be read as a link: escaped.
ADD_FORMS = (
    f"`/digest add &lt;{KINDS}&gt; daily HH:MM [tz:&lt;zone&gt;]` or "
    "`/digest add &lt;kind&gt; weekly &lt;mon…sun&gt; HH:MM [tz:&lt;zone&gt;]`"
)
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_DAYS = {d: d for d in WEEKDAYS} | {
    "monday": "mon",
    "tuesday": "tue",
    "tues": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "thur": "thu",
    "thurs": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class ListAll:
    pass


@dataclass(frozen=True)
class Add:
    kind: DigestKind
    cadence: str
    at: time
    weekday: str = ""
    tz: str | None = None  # None: the workspace default (FLYWHEEL_TIMEZONE)

    def rule(self, default_tz: str) -> Rule:
        return Rule(
            cadence=self.cadence, at=self.at, tz=ZoneInfo(self.tz or default_tz), weekday=self.weekday
        )


@dataclass(frozen=True)
class Remove:
    sub_id: int


@dataclass(frozen=True)
class Preview:
    kind: DigestKind


Request = Help | ListAll | Add | Remove | Preview


def parse_kind(word: str | None) -> DigestKind:
    kind = ALIASES.get((word or "").lower())
    if kind is None:
        shown = f"`{word[:40]}` is not a digest kind" if word else "Which digest?"
        raise UserError(f"{shown} — pick one of `okr`, `ssp`, `postmortems`, `reviews`.")
    return kind


def parse_time(word: str | None) -> time:
    match = _TIME.match(word or "")
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        shown = f"`{word[:40]}` is not a time" if word else "What time?"
        raise UserError(f"{shown} — give it as 24-hour `HH:MM`, like `09:00` or `17:30`.")
    return time(int(match.group(1)), int(match.group(2)))


@lru_cache(maxsize=1)
def _zones_by_lower() -> dict[str, str]:
    return {z.lower(): z for z in available_timezones()}


def parse_zone(word: str) -> str:
    """An IANA zone name, matched case-insensitively (`tz:europe/berlin` works)."""
    name = word.strip()
    candidate = _zones_by_lower().get(name.lower(), name)
    try:
        ZoneInfo(candidate)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            f"`{name[:60]}` is not a time zone I know — use an IANA name like `tz:Europe/Berlin`, "
            "`tz:America/New_York` or `tz:Asia/Singapore`."
        ) from None
    return candidate


def _parse_add(words: list[str]) -> Add:
    if not words:
        raise UserError("What should I post here?", hint=f"Try {ADD_FORMS}.")
    tz: str | None = None
    rest: list[str] = []
    for w in words:
        if w.lower().startswith("tz:"):
            if tz is not None:
                raise UserError("Give the time zone once, like `tz:Europe/Berlin`.")
            tz = parse_zone(w[3:])
        else:
            rest.append(w)
    kind = parse_kind(rest[0])
    cadence = rest[1].lower() if len(rest) > 1 else ""
    if cadence == "daily":
        if len(rest) != 3:
            raise UserError(
                "A daily digest needs one time, like `/digest add okr daily 09:00`.",
                hint=f"The forms: {ADD_FORMS}.",
            )
        return Add(kind=kind, cadence="daily", at=parse_time(rest[2]), tz=tz)
    if cadence == "weekly":
        if len(rest) != 4:
            raise UserError(
                "A weekly digest needs a day and a time, like `/digest add okr weekly mon 09:00`.",
                hint=f"The forms: {ADD_FORMS}.",
            )
        day = _DAYS.get(rest[2].lower())
        if day is None:
            raise UserError(
                f"`{rest[2][:40]}` is not a day — use `mon`, `tue`, `wed`, `thu`, `fri`, `sat` or `sun`."
            )
        return Add(kind=kind, cadence="weekly", weekday=day, at=parse_time(rest[3]), tz=tz)
    shown = f"`{cadence[:40]}`" if cadence else "nothing"
    raise UserError(f"How often? I got {shown}; say `daily` or `weekly`.", hint=f"The forms: {ADD_FORMS}.")


def parse(text: str | None) -> Request:
    text = (text or "").strip()
    words = text.split()
    if not words or words[0].lower() == "list":
        if len(words) > 1:
            raise UserError("`/digest` (or `/digest list`) takes nothing more.")
        return ListAll()
    if is_help(text):
        return Help()
    head, rest = words[0].lower(), words[1:]
    if head == "add":
        return _parse_add(rest)
    if head in ("remove", "rm", "delete", "stop"):
        if len(rest) != 1:
            raise UserError("Which one? Give its ID: `/digest remove D-3` (`/digest` lists them).")
        return Remove(parse_id(rest[0], IdKind.DIGEST))
    if head == "preview":
        if len(rest) != 1:
            raise UserError(f"Which digest? `/digest preview &lt;{KINDS}&gt;`.")
        return Preview(parse_kind(rest[0]))
    raise UserError(f"I don't understand `/digest {text[:80]}`.", hint="`/digest help` lists every form.")
