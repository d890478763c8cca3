"""When a digest fires: APScheduler's `CronTrigger` computes every fire time; nothing here does
calendar arithmetic of its own.

A rule is "daily HH:MM" or "weekly <day> HH:MM" in an IANA zone, so 09:00 stays 09:00 on the wall
clock across DST changes. Two DST details the trigger leaves to us:

* on the autumn change, a time in the repeated hour (02:30 in Berlin) fires twice — a *period*
  is therefore the local date of the fire, and each period is delivered once (the delivery key);
* on the spring change, a time in the skipped hour fires an hour later (03:30): once, on the day.

A digest missed while the bot was down is sent on start-up when it is less than `LATE_LIMIT`
late; older periods are skipped (and logged by the caller).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LATE_LIMIT = timedelta(hours=6)
# Older than this, the missed fire times are not walked one by one: only the last week matters.
LOOKBACK = timedelta(days=8)


@dataclass(frozen=True)
class Rule:
    cadence: str  # daily | weekly
    at: time
    tz: ZoneInfo
    weekday: str = ""  # mon … sun when weekly

    @cached_property
    def trigger(self) -> CronTrigger:
        return CronTrigger(
            day_of_week=self.weekday or None, hour=self.at.hour, minute=self.at.minute, timezone=self.tz
        )

    @property
    def length(self) -> timedelta:
        """The nominal period, for the first digest's "since" (there is no previous one yet)."""
        return timedelta(days=7 if self.cadence == "weekly" else 1)

    def first_at_or_after(self, moment: datetime) -> datetime:
        """The first fire time at or after `moment`, in UTC."""
        moment = moment.astimezone(UTC)
        fire = self._trigger_next(moment)
        if fire.utcoffset() != moment.astimezone(self.tz).utcoffset():
            # APScheduler 3.11 can skip a whole day when its search starts on a DST-change day
            # before the change (a daily 00:30 in Berlin misses 30 March 2026). Asked again from
            # the instant the offset changes, it answers right; the earlier answer wins.
            again = self._trigger_next(_offset_change(self.tz, moment, fire))
            fire = min(fire, again) if again >= moment else fire
        return fire

    def _trigger_next(self, moment: datetime) -> datetime:
        fire = self.trigger.get_next_fire_time(None, moment)
        assert fire is not None  # a daily or weekly cron always has a next time
        return fire.astimezone(UTC)  # the trigger may hand back a wall time that does not exist

    def next_after(self, fire: datetime) -> datetime:
        """The fire time after `fire` (strictly later; cron times are whole minutes)."""
        return self.first_at_or_after(fire + timedelta(seconds=1))

    def latest_at_or_before(self, moment: datetime) -> datetime:
        """The most recent fire time not after `moment`."""
        fire = self.first_at_or_after(moment - LOOKBACK)
        while True:
            nxt = self.next_after(fire)
            if nxt > moment:
                return fire
            fire = nxt

    def period(self, fire: datetime) -> str:
        """The period a fire time belongs to: its local date (one delivery per period)."""
        return fire.astimezone(self.tz).date().isoformat()

    def describe(self) -> str:
        day = f" {self.weekday.capitalize()}" if self.weekday else ""
        return f"{self.cadence}{day} {self.at:%H:%M} {self.tz.key}"


def _offset_change(tz: ZoneInfo, start: datetime, end: datetime) -> datetime:
    """The first instant in (start, end] whose UTC offset in `tz` differs from start's (to 1 s)."""
    before = start.astimezone(tz).utcoffset()
    lo, hi = start, end
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).utcoffset() == before:
            lo = mid
        else:
            hi = mid
    return hi


@dataclass
class Plan:
    """What to do with a due subscription now."""

    send: datetime | None  # the fire time to deliver, if it is still worth it
    skipped: list[datetime] = field(default_factory=list)  # fire times given up (too late)
    next_run_at: datetime | None = None


def plan(rule: Rule, next_run_at: datetime, now: datetime) -> Plan:
    """Walk the fire times from `next_run_at` up to `now`: the latest is sent if it is less than
    `LATE_LIMIT` late, every earlier one is skipped; `next_run_at` moves past `now`."""
    start = next_run_at if next_run_at >= now - LOOKBACK else rule.first_at_or_after(now - LOOKBACK)
    fires: list[datetime] = []
    fire = start
    while fire <= now:
        fires.append(fire)
        fire = rule.next_after(fire)
    result = Plan(send=None, next_run_at=fire)
    if not fires:
        return result
    latest = fires[-1]
    if now - latest < LATE_LIMIT:
        result.send = latest
        result.skipped = [f for f in fires[:-1] if rule.period(f) != rule.period(latest)]
    else:
        result.skipped = fires
    return result
