"""Cycles, weights, progress, score and status: pure rules, no session, no Slack.

Kept apart from `service.py` (queries, permissions, changes) so the arithmetic every surface
shows can be read and tested without a database. The rules, stated for people in `docs/okrs.md`:

* progress of a KR = (current − start) / (target − start), clamped to [0, 1] — the same formula
  serves targets below the start (latency 300 → 100 ms);
* weights: a KR's weight is its share of the objective (0–1); KRs without one share what the
  others leave of 1; weights that do not sum to 1 are scaled to 1, with a warning;
* a KR's time runs from the later of the cycle start and its creation to the cycle end;
* status: *done* at or past the target; *not started* (no colour) before the first check-in while
  less than a quarter of the KR's time has passed; otherwise progress against that time, capped
  by a confidence that is at most 14 days old and was given with the latest check-in;
* an objective's status follows its KRs' statuses, weighted.

The models appear only as values to read (the hot path passes plain rows in their place).
Input checks (titles, numbers, weights, check-in values) are in `checks.py`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from bot.common.errors import UserError
from bot.common.ids import Kind, format_id
from bot.config import Settings
from bot.okrs.checks import fmt_number
from storage.models import Team
from storage.models.okrs import KeyResult, Objective
from storage.types import utcnow

CYCLE_KEY = re.compile(r"^(\d{4})-(\d{2})$")

# Status thresholds: how far progress may trail the elapsed share of the KR's time.
AT_RISK_GAP = 0.15
OFF_TRACK_GAP = 0.35
# Confidence (1–10) at or below these values caps the status.
OFF_TRACK_CONFIDENCE = 3
AT_RISK_CONFIDENCE = 6
# A KR without a check-in has no colour until this share of its time has passed.
NOT_STARTED_SHARE = 0.25
# A confidence counts for this long after it was given (and only until the next check-in).
CONFIDENCE_KEEPS = timedelta(days=14)
# The cycle review: owners are asked this long before the end; the next cycle opens for drafting
# this long before it starts.
REVIEW_WINDOW = timedelta(days=7)
DRAFTING_WINDOW = timedelta(days=15)
WEIGHT_TOLERANCE = 0.005


# Cycle words people may type instead of a key (`/okr new … cycle:next`).
RELATIVE = {"current": 0, "now": 0, "this": 0, "next": 1, "previous": -1, "prev": -1, "last": -1}


class Status(StrEnum):
    DONE = "done"
    ON_TRACK = "on track"
    AT_RISK = "at risk"
    OFF_TRACK = "off track"
    NOT_STARTED = "not started"


# How bad a status is, for sorting and for capping by confidence.
SEVERITY = {
    Status.DONE: -1,
    Status.NOT_STARTED: 0,
    Status.ON_TRACK: 0,
    Status.AT_RISK: 1,
    Status.OFF_TRACK: 2,
}
TROUBLE = (Status.AT_RISK, Status.OFF_TRACK)
# The members as plain names: the hot path reads them per KR, and reading a member through the
# Enum class is a descriptor call every time.
DONE, ON_TRACK, AT_RISK, OFF_TRACK, NOT_STARTED = (
    Status.DONE,
    Status.ON_TRACK,
    Status.AT_RISK,
    Status.OFF_TRACK,
    Status.NOT_STARTED,
)
_TROUBLE_WEIGHT = {AT_RISK: 1.0, OFF_TRACK: 2.0}


def worse(a: Status, b: Status) -> Status:
    return a if SEVERITY[a] >= SEVERITY[b] else b


# --------------------------------------------------------------------------------------------
# Cycles
# --------------------------------------------------------------------------------------------


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class CycleSpan:
    """A cycle's key and dates (`ends_on` exclusive); boundaries are midnights in the company zone."""

    key: str
    starts_on: date
    ends_on: date

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        return (
            datetime.combine(self.starts_on, time(), tzinfo=tz),
            datetime.combine(self.ends_on, time(), tzinfo=tz),
        )

    def elapsed(self, now: datetime, tz: ZoneInfo) -> float:
        """The share of the cycle behind us at `now`: 0.0 before it starts, 1.0 after it ends."""
        start, end = self.bounds(tz)
        total = (end - start).total_seconds()
        return min(1.0, max(0.0, (now - start).total_seconds() / total))

    def days_left(self, now: datetime, tz: ZoneInfo) -> int:
        _, end = self.bounds(tz)
        return max(0, math.ceil((end - now).total_seconds() / 86400))

    @property
    def last_day(self) -> date:
        return self.ends_on - timedelta(days=1)


@dataclass(frozen=True)
class Moment:
    """`now` and one cycle's bounds as epoch seconds: computed once per render, read per KR."""

    now: float
    start: float
    end: float


@dataclass(frozen=True)
class Clock:
    """Cycle length, the company's zone, and where "now" comes from.

    `source` is the app's clock (`ctx.clock.now`), so the demo's `clock` command and a test's
    frozen time move OKRs too; `fixed_now` pins one instant (`frozen()` takes one per answer, so
    everything in it agrees). Without either it is real time.
    """

    months: int = 2
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    fixed_now: datetime | None = None
    source: Callable[[], datetime] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, source: Callable[[], datetime] | None = None) -> Clock:
        return cls(months=settings.flywheel_okr_cycle_months, tz=settings.tz, source=source)

    @classmethod
    def of(cls, ctx: Any) -> Clock:
        """The clock of an app context (`ctx.settings`, `ctx.clock`), frozen at its current now."""
        return cls.from_settings(ctx.settings, source=ctx.clock.now).frozen()

    def now(self) -> datetime:
        if self.fixed_now is not None:
            return self.fixed_now
        return self.source() if self.source is not None else utcnow()

    def frozen(self) -> Clock:
        return replace(self, fixed_now=self.now())

    def current(self) -> CycleSpan:
        return cycle_for(self.now().astimezone(self.tz).date(), self.months)

    def span(self, key: str) -> CycleSpan:
        """A cycle by key (`2026-11`) — or by its place: `current`, `next`, `previous` (`last`)."""
        word = (key or "").strip().lower()
        if word in RELATIVE:
            current = self.current()
            return {0: current, 1: self.next(current), -1: self.previous(current)}[RELATIVE[word]]
        return cycle_span(key, self.months)

    def next(self, span: CycleSpan) -> CycleSpan:
        return cycle_for(span.ends_on, self.months)

    def previous(self, span: CycleSpan) -> CycleSpan:
        return cycle_for(span.starts_on - timedelta(days=1), self.months)

    def elapsed(self, key: str) -> float:
        return self.span(key).elapsed(self.now(), self.tz)

    def moment(self, key: str) -> Moment:
        start, end = _bounds(key, self.months, self.tz)
        return Moment(now=self.now().timestamp(), start=start, end=end)

    # The cycle review's calendar (all in the company zone).
    def review_opens(self, span: CycleSpan) -> datetime:
        return span.bounds(self.tz)[1] - REVIEW_WINDOW

    def drafting_opens(self, span: CycleSpan) -> datetime:
        """When objectives can first be created in `span` (before it starts)."""
        return span.bounds(self.tz)[0] - DRAFTING_WINDOW


@lru_cache(maxsize=256)
def _bounds(key: str, months: int, tz: ZoneInfo) -> tuple[float, float]:
    """A cycle's bounds as epoch seconds (every render of the hot path asks; they never change)."""
    start, end = cycle_span(key, months).bounds(tz)
    return start.timestamp(), end.timestamp()


def cycle_for(day: date, months: int) -> CycleSpan:
    """The cycle containing `day`: cycles are aligned to January (2 months → Jan, Mar, May…)."""
    first_month = (day.month - 1) // months * months + 1
    start = date(day.year, first_month, 1)
    return CycleSpan(f"{start.year}-{start.month:02d}", start, _add_months(start, months))


@lru_cache(maxsize=256)
def cycle_span(key: str, months: int) -> CycleSpan:
    """Validate a cycle key like `2026-11` against the configured cycle length."""
    match = CYCLE_KEY.match((key or "").strip())
    if not match:
        raise UserError(
            f"`{key}` is not a cycle — expected the month it starts, like `2026-11` "
            "(or `current`, `next`, `previous`)."
        )
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise UserError(f"`{key}` is not a cycle — the month must be 01 to 12.")
    if (month - 1) % months:
        starts = ", ".join(f"{m:02d}" for m in range(1, 13, months))
        raise UserError(
            f"`{key}` is not the start of a cycle: cycles last {months} month(s) from January, "
            f"so they start in months {starts}."
        )
    start = date(year, month, 1)
    return CycleSpan(key.strip(), start, _add_months(start, months))


# --------------------------------------------------------------------------------------------
# Progress, weights and score
# --------------------------------------------------------------------------------------------


def kr_progress(*, start: float, target: float, current: float) -> float:
    """(current − start) / (target − start), clamped to [0, 1]; works for decreasing targets too."""
    if target == start:  # refused on input; a guard for rows written by other means
        return 1.0 if current == target else 0.0
    return min(1.0, max(0.0, (current - start) / (target - start)))


def effective_weights(weights: Sequence[float | None]) -> tuple[list[float], str | None]:
    """Each KR's share of its objective (summing to 1), and a warning when the weights set don't.

    Unset weights share what the set ones leave of 1, equally — so an objective whose KRs have no
    weights is a plain mean, and one that sets 0.5 on one KR of three gives the others 0.25 each.
    Set weights that sum to more or less than 1 are scaled to 1; all zero counts them equally.
    """
    n = len(weights)
    if not n:
        return [], None
    set_total = sum(w for w in weights if w is not None)
    unset = sum(1 for w in weights if w is None)
    share = max(0.0, 1.0 - set_total) / unset if unset else 0.0
    raw = [w if w is not None else share for w in weights]
    total = sum(raw)
    notes: list[str] = []
    if total <= 0:
        return [1.0 / n] * n, "every weight is 0 — the key results count equally"
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        notes.append(f"weights sum to {fmt_number(round(total, 3))}, not 1 — the roll-up scales them to 1")
    if unset and share <= 0:
        notes.append(
            f"{unset} key result{'s' if unset != 1 else ''} without a weight "
            f"count{'s' if unset == 1 else ''} for nothing, because the others already take it all"
        )
    return [w / total for w in raw], "; ".join(notes) or None


def objective_progress(krs: Sequence[KeyResult]) -> float:
    """The weighted mean of the KRs' progress (effective weights); 0 with no KRs."""
    if not krs:
        return 0.0
    shares, _ = effective_weights([kr.weight for kr in krs])
    return sum(
        kr_progress(start=kr.start, target=kr.target, current=kr.current) * w
        for kr, w in zip(krs, shares, strict=True)
    )


def score(progress: float) -> float:
    """The 0.0–1.0 score shown to people, one decimal like Google's OKR grading."""
    return round(progress + 1e-9, 1)


# --------------------------------------------------------------------------------------------
# Status
# --------------------------------------------------------------------------------------------


def _epoch(value: datetime | float | None) -> float | None:
    """Stored times arrive as datetimes (models) or epoch seconds (the hot path's rows)."""
    if value is None or isinstance(value, (float, int)):  # noqa: UP038 (the tuple is faster)
        return value
    return value.timestamp()


def kr_elapsed(created: datetime | float | None, m: Moment) -> float:
    """The share of the KR's own time behind us: from the later of cycle start and creation."""
    begin = m.start
    created_at = _epoch(created)
    if created_at is not None and created_at > begin:
        begin = created_at
    if m.end <= begin:  # created after the cycle ended: its time is over once it ends
        return 1.0 if m.now >= m.end else 0.0
    return min(1.0, max(0.0, (m.now - begin) / (m.end - begin)))


def confidence_in_force(confidence: int | None, given_at: datetime | float | None, now: float) -> int | None:
    """The last confidence if it is at most 14 days old (it is cleared by a check-in without one)."""
    at = _epoch(given_at)
    if confidence is None or at is None:
        return None
    return confidence if now - at <= CONFIDENCE_KEEPS.total_seconds() else None


def status_for(*, progress: float, elapsed: float, confidence: int | None) -> Status:
    """Progress against the elapsed share of the KR's time; a low confidence caps the result.

    At the start nothing is behind yet, so only confidence can flag a KR; at the end, a KR is on
    track only when it is (nearly) done.
    """
    gap = elapsed - progress
    if gap <= AT_RISK_GAP:
        status = ON_TRACK
    elif gap <= OFF_TRACK_GAP:
        status = AT_RISK
    else:
        status = OFF_TRACK
    if confidence is not None:
        if confidence <= OFF_TRACK_CONFIDENCE:
            status = worse(status, OFF_TRACK)
        elif confidence <= AT_RISK_CONFIDENCE:
            status = worse(status, AT_RISK)
    return status


def kr_status(*, progress: float, elapsed: float, checked_in: bool, confidence: int | None) -> Status:
    """The whole rule for one KR (see the module docstring); `confidence` is the one in force."""
    if progress >= 1.0 - 1e-9:
        return DONE
    if not checked_in and elapsed < NOT_STARTED_SHARE:
        return NOT_STARTED
    return status_for(progress=progress, elapsed=elapsed, confidence=confidence)


def objective_status(states: Sequence[KrState]) -> Status | None:
    """From the KRs' statuses and weights: *done* when every KR is; *not started* when none has a
    colour; otherwise the weighted mean of the coloured KRs' trouble (on track or done 0, at risk 1,
    off track 2): at least 1.5 is *off track*, at least 0.5 *at risk*, below that *on track*."""
    if not states:
        return None
    if all(s.status == DONE for s in states):
        return DONE
    coloured = [s for s in states if s.status != NOT_STARTED]
    if not coloured:
        return NOT_STARTED
    total = sum(s.weight for s in coloured)
    trouble = _TROUBLE_WEIGHT
    if total > 0:
        mean = sum(s.weight * trouble.get(s.status, 0.0) for s in coloured) / total
    else:
        mean = sum(trouble.get(s.status, 0.0) for s in coloured) / len(coloured)
    if mean >= 1.5 - 1e-9:
        return OFF_TRACK
    if mean >= 0.5 - 1e-9:
        return AT_RISK
    return ON_TRACK


@dataclass
class KrState:
    kr: KeyResult
    progress: float
    status: Status
    weight: float = 1.0  # the KR's effective share of its objective (0–1)
    confidence: int | None = None  # the confidence in force (None when stale or never given)
    weighted: bool = False  # some KR of the objective has a weight set (so weights are shown)

    @property
    def ref(self) -> str:
        return format_id(Kind.KEY_RESULT, self.kr.id or 0)

    @property
    def stale_confidence(self) -> bool:
        return self.kr.confidence is not None and self.confidence is None

    @property
    def score(self) -> float:
        return score(self.progress)


@dataclass
class ObjectiveState:
    """An objective as rendered: its KRs with progress and status, its team, parent and children."""

    objective: Objective
    team: Team | None
    krs: list[KrState]
    progress: float
    status: Status | None  # None when it has no KRs yet
    parent: Objective | None = None
    children: list[ObjectiveState] = field(default_factory=list)
    weights_warning: str | None = None

    @property
    def ref(self) -> str:
        return format_id(Kind.OBJECTIVE, self.objective.id or 0)

    @property
    def score(self) -> float:
        return score(self.progress)


def kr_state(kr: KeyResult, m: Moment, weight: float = 1.0) -> KrState:
    progress = kr_progress(start=kr.start, target=kr.target, current=kr.current)
    confidence = confidence_in_force(
        kr.confidence, getattr(kr, "confidence_at", None) or kr.last_checkin_at, m.now
    )
    status = kr_status(
        progress=progress,
        elapsed=kr_elapsed(kr.created_at, m),
        checked_in=kr.last_checkin_at is not None,
        confidence=confidence,
    )
    return KrState(kr=kr, progress=progress, status=status, weight=weight, confidence=confidence)


def objective_state(
    objective: Objective, team: Team | None, krs: list[KeyResult], clock: Clock
) -> ObjectiveState:
    m = clock.moment(objective.cycle_key)
    shares, warning = effective_weights([kr.weight for kr in krs])
    states = [kr_state(kr, m, w) for kr, w in zip(krs, shares, strict=True)]
    if any(kr.weight is not None for kr in krs):
        for state in states:
            state.weighted = True
    progress = sum(s.progress * s.weight for s in states)
    return ObjectiveState(
        objective=objective,
        team=team,
        krs=states,
        progress=progress,
        status=objective_status(states),
        weights_warning=warning,
    )


def as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
