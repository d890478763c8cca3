"""SLA clocks of a request: when its first response and its resolution are due, and when to warn.

Pure rules over a request row and its team's `Slas` — no session, no Slack; `now` is passed in.

* The first-response clock starts when the request is filed and stops at the first answer from
  the team (a claim, an assignment, a comment, a status change by a member).
* The resolution clock runs while the request is `new` or `in_progress` and is paused while it is
  `waiting` on the requester (and stopped while `resolved` or `closed`): `resolution_used_s` keeps
  the business time of earlier stretches, so a resume only adds what is left.
* Both count the team's business hours in its zone when it sets them (`bot.teams.hours`, which
  delegates to `businesstimedelta`). The warning comes at 80% of an SLA, the breach at 100%.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.teams import hours as bt
from bot.teams.service import Slas
from storage.models.requests import ServiceRequest

WARN_AT = 0.8
RUNNING = ("new", "in_progress")
OPEN = ("new", "in_progress", "waiting")


def _total(duration: bt.Duration | None, slas: Slas) -> timedelta | None:
    return duration.within(slas.hours) if duration is not None else None


def start(req: ServiceRequest, slas: Slas, now: datetime) -> None:
    """A new request: both clocks start now."""
    req.resolution_used_s = 0
    req.clock_started_at = now
    first = _total(slas.first_response, slas)
    if first is not None:
        req.first_response_due = bt.add(now, first, slas.hours)
        req.first_response_warn_at = bt.add(now, first * WARN_AT, slas.hours)
    _schedule_resolution(req, slas, now)
    refresh_next_check(req)


def _schedule_resolution(req: ServiceRequest, slas: Slas, now: datetime) -> None:
    total = _total(slas.resolution, slas)
    if total is None:
        req.resolution_due = req.resolution_warn_at = None
        return
    used = timedelta(seconds=req.resolution_used_s)
    req.resolution_due = bt.add(now, total - used, slas.hours)
    warn_left = total * WARN_AT - used
    req.resolution_warn_at = bt.add(now, warn_left, slas.hours) if warn_left > timedelta(0) else now


def responded(req: ServiceRequest, now: datetime) -> bool:
    """Record the team's first answer; True when this was it."""
    if req.first_response_at is not None:
        return False
    req.first_response_at = now
    refresh_next_check(req)
    return True


def change_status(req: ServiceRequest, new_status: str, slas: Slas, now: datetime) -> None:
    """Pause the resolution clock when leaving a running state, resume it when coming back."""
    was_running = req.status in RUNNING
    will_run = new_status in RUNNING
    if was_running and not will_run:
        if req.clock_started_at is not None:
            used = bt.elapsed(req.clock_started_at, now, slas.hours)
            req.resolution_used_s += int(used.total_seconds())
        req.clock_started_at = None
        req.resolution_due = req.resolution_warn_at = None
    elif will_run and not was_running:
        req.clock_started_at = now
        _schedule_resolution(req, slas, now)
    req.status = new_status
    refresh_next_check(req)


def refresh_next_check(req: ServiceRequest) -> None:
    """The earliest moment the watcher has something to announce for this request (or None)."""
    moments: list[datetime] = []
    if req.first_response_at is None and req.status in OPEN:
        if req.first_response_warn_at and not req.first_response_warned:
            moments.append(req.first_response_warn_at)
        elif req.first_response_due and not req.first_response_breached:
            moments.append(req.first_response_due)
    if req.status in RUNNING:
        if req.resolution_warn_at and not req.resolution_warned:
            moments.append(req.resolution_warn_at)
        elif req.resolution_due and not req.resolution_breached:
            moments.append(req.resolution_due)
    req.next_check_at = min(moments) if moments else None


@dataclass(frozen=True)
class Due:
    """What the watcher owes a request at `now`: the clock ("first_response"/"resolution") and
    the step ("warning"/"breach")."""

    clock: str
    step: str
    due: datetime


def due_now(req: ServiceRequest, now: datetime) -> list[Due]:
    """Every warning or breach that has come due and was not recorded yet, in order."""
    found: list[Due] = []
    if req.first_response_at is None and req.status in OPEN:
        if req.first_response_due and not req.first_response_breached and now >= req.first_response_due:
            found.append(Due("first_response", "breach", req.first_response_due))
        elif (
            req.first_response_warn_at and not req.first_response_warned and now >= req.first_response_warn_at
        ):
            found.append(Due("first_response", "warning", req.first_response_due or now))
    if req.status in RUNNING:
        if req.resolution_due and not req.resolution_breached and now >= req.resolution_due:
            found.append(Due("resolution", "breach", req.resolution_due))
        elif req.resolution_warn_at and not req.resolution_warned and now >= req.resolution_warn_at:
            found.append(Due("resolution", "warning", req.resolution_due or now))
    return found


def mark(req: ServiceRequest, due: Due) -> None:
    """Record that a warning or breach was announced (a breach implies its warning)."""
    if due.clock == "first_response":
        req.first_response_warned = True
        req.first_response_breached = req.first_response_breached or due.step == "breach"
    else:
        req.resolution_warned = True
        req.resolution_breached = req.resolution_breached or due.step == "breach"
    refresh_next_check(req)


def resolution_left(req: ServiceRequest, slas: Slas, now: datetime) -> timedelta | None:
    """Business time left on the resolution SLA (negative when overdue); None without one."""
    total = _total(slas.resolution, slas)
    if total is None:
        return None
    used = timedelta(seconds=req.resolution_used_s)
    if req.clock_started_at is not None:
        if req.resolution_due is not None and now > req.resolution_due:
            return -bt.elapsed(req.resolution_due, now, slas.hours)
        used += bt.elapsed(req.clock_started_at, now, slas.hours)
    return total - used


def first_response_time(req: ServiceRequest, slas: Slas) -> timedelta | None:
    """Business time from filing to the first answer (for stats)."""
    if req.first_response_at is None:
        return None
    return bt.elapsed(req.created_at, req.first_response_at, slas.hours)


def resolution_time(req: ServiceRequest) -> timedelta | None:
    """Business time the resolution clock ran until the request was resolved (pauses excluded)."""
    if req.resolved_at is None:
        return None
    return timedelta(seconds=req.resolution_used_s)
