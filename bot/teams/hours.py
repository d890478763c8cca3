"""A team's SLA durations and business hours: parsing, and business-time arithmetic.

Pure functions, no session. Durations are written `30m`, `4h`, `2d` (or combined, `1d4h`);
business hours `Mon-Fri 09:00-18:00 Asia/Singapore` (days as a range or a list, `Sun-Thu`,
`Mon,Wed,Fri`; the zone is optional and defaults to UTC). Within business hours a day in a
duration is one working day (9 hours for 09:00–18:00), so "resolution 3d" means three working days;
without business hours the clock runs around the clock and a day is 24 hours.

The arithmetic itself is `businesstimedelta`'s (a `WorkDayRule` in the team's zone), not ours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cached_property

import businesstimedelta
import pytz

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*$", re.IGNORECASE)
_HOURS = re.compile(
    r"^\s*(?P<days>[A-Za-z]{3}(?:\s*[-,]\s*[A-Za-z]{3})*)\s+"
    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})(?:\s+(?P<tz>\S+))?\s*$"
)
MAX_DURATION = timedelta(days=365)


class HoursError(ValueError):
    """A duration or business-hours text that does not parse; the message says the right form."""


@dataclass(frozen=True)
class Duration:
    """A duration as written: whole days (working days within business hours) and minutes."""

    days: int
    minutes: int
    text: str

    def within(self, hours: BusinessHours | None) -> timedelta:
        """The business time this duration stands for under `hours` (None: around the clock)."""
        day = hours.day_length if hours is not None else timedelta(hours=24)
        return day * self.days + timedelta(minutes=self.minutes)


def parse_duration(text: str) -> Duration:
    match = _DURATION.match(str(text or ""))
    if not str(text or "").strip() or not match or not any(match.groups()):
        raise HoursError(f"`{str(text)[:40]}` is not a duration — write it like 30m, 4h, 2d or 1d4h")
    days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    total = minutes + hours * 60
    if days == 0 and total == 0:
        raise HoursError("a duration of zero cannot be met — write it like 30m, 4h or 2d")
    if timedelta(days=days, minutes=total) > MAX_DURATION:
        raise HoursError(f"`{text}` is longer than a year")
    return Duration(days=days, minutes=total, text=re.sub(r"\s+", "", str(text)).lower())


def _day_index(name: str) -> int:
    try:
        return DAYS.index(name.strip().lower()[:3])
    except ValueError:
        raise HoursError(f"`{name.strip()}` is not a weekday (Mon, Tue, Wed, Thu, Fri, Sat, Sun)") from None


def _clock(text: str) -> time:
    hour, minute = (int(p) for p in text.split(":"))
    if hour == 24 and minute == 0:
        return time(23, 59, 59)
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise HoursError(f"`{text}` is not a time of day (00:00–24:00)")
    return time(hour, minute)


@dataclass(frozen=True)
class BusinessHours:
    """Working days (0 = Monday) from `start` to `end` in the zone `tz_name`."""

    days: tuple[int, ...]
    start: time
    end: time
    tz_name: str
    text: str

    @property
    def day_length(self) -> timedelta:
        return datetime.combine(datetime.min, self.end) - datetime.combine(datetime.min, self.start)

    @cached_property
    def rule(self) -> businesstimedelta.WorkDayRule:
        return businesstimedelta.WorkDayRule(
            start_time=self.start,
            end_time=self.end,
            working_days=list(self.days),
            tz=pytz.timezone(self.tz_name),
        )

    def describe(self) -> str:
        return self.text


def parse_hours(text: str) -> BusinessHours:
    """`Mon-Fri 09:00-18:00 Asia/Singapore` → BusinessHours; a clear error for anything else."""
    form = "write them like `Mon-Fri 09:00-18:00 Asia/Singapore`"
    match = _HOURS.match(str(text or ""))
    if not match:
        raise HoursError(f"`{str(text)[:80]}` is not business hours — {form}")
    days: list[int] = []
    for part in re.split(r"\s*,\s*", match.group("days")):
        if "-" in part:
            first, last = (_day_index(p) for p in part.split("-"))
            span = (last - first) % 7
            days.extend((first + i) % 7 for i in range(span + 1))
        else:
            days.append(_day_index(part))
    start, end = _clock(match.group("start")), _clock(match.group("end"))
    if end <= start:
        raise HoursError(
            f"the working day must end after it starts ({match.group('start')}–{match.group('end')})"
        )
    tz_name = match.group("tz") or "UTC"
    try:
        pytz.timezone(tz_name)
    except pytz.UnknownTimeZoneError:
        raise HoursError(f"`{tz_name}` is not a time zone — use an IANA name like Europe/Berlin") from None
    return BusinessHours(
        days=tuple(sorted(set(days))), start=start, end=end, tz_name=tz_name, text=" ".join(text.split())
    )


def elapsed(start: datetime, end: datetime, hours: BusinessHours | None) -> timedelta:
    """Business time between two instants (0 when `end` is not after `start`)."""
    if end <= start:
        return timedelta(0)
    if hours is None:
        return end - start
    return hours.rule.difference(start, end).timedelta


def add(start: datetime, amount: timedelta, hours: BusinessHours | None) -> datetime:
    """The instant `amount` of business time after `start` (aware UTC in, aware UTC out)."""
    if amount <= timedelta(0):
        return start
    if hours is None:
        return start + amount
    result = businesstimedelta.BusinessTimeDelta(hours.rule, timedelta=amount) + start
    return result.astimezone(UTC)


def subtract(end: datetime, amount: timedelta, hours: BusinessHours | None) -> datetime:
    """The instant `amount` of business time before `end` (the demo dates its requests this way)."""
    if amount <= timedelta(0):
        return end
    if hours is None:
        return end - amount
    result = end - businesstimedelta.BusinessTimeDelta(hours.rule, timedelta=amount)
    return result.astimezone(UTC)
