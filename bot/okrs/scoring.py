"""Cycles, progress, score and status, and the input checks: pure rules, no session, no Slack.

Kept apart from `service.py` (queries, permissions, changes) and `csv_io.py` so the arithmetic
every surface shows, and the checks every entry point applies, can be read and tested without a
database:

* progress of a KR = (current − start) / (target − start), clamped to [0, 1] — the same formula
  serves targets below the start (latency 300 → 100 ms);
* objective progress = the weighted mean of its KRs;
* status compares progress with the share of the cycle already elapsed, and takes the last
  confidence into account (the worse of the two wins).

The models appear only as values to read (the hot path passes plain rows in their place).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.common.errors import UserError
from bot.common.ids import Kind, format_id
from bot.config import Settings
from storage.models import Team
from storage.models.okrs import KeyResult, Objective
from storage.types import utcnow

TITLE_LIMIT = 200
DESCRIPTION_LIMIT = 2000
NOTE_LIMIT = 2000
UNIT_LIMIT = 32
CYCLE_KEY = re.compile(r"^(\d{4})-(\d{2})$")

# Status thresholds: how far progress may trail the elapsed share of the cycle.
AT_RISK_GAP = 0.15
OFF_TRACK_GAP = 0.35
# Confidence (1–10) at or below these values caps the status.
OFF_TRACK_CONFIDENCE = 3
AT_RISK_CONFIDENCE = 6


class Status(StrEnum):
    ON_TRACK = "on track"
    AT_RISK = "at risk"
    OFF_TRACK = "off track"


SEVERITY = {Status.ON_TRACK: 0, Status.AT_RISK: 1, Status.OFF_TRACK: 2}


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
class Clock:
    """Cycle length, the company's zone, and (for tests and the demo) a fixed `now`."""

    months: int = 2
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    fixed_now: datetime | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Clock:
        return cls(months=settings.flywheel_okr_cycle_months, tz=settings.tz)

    def now(self) -> datetime:
        return self.fixed_now or utcnow()

    def current(self) -> CycleSpan:
        return cycle_for(self.now().astimezone(self.tz).date(), self.months)

    def span(self, key: str) -> CycleSpan:
        return cycle_span(key, self.months)

    def elapsed(self, key: str) -> float:
        return self.span(key).elapsed(self.now(), self.tz)


def cycle_for(day: date, months: int) -> CycleSpan:
    """The cycle containing `day`: cycles are aligned to January (2 months → Jan, Mar, May…)."""
    first_month = (day.month - 1) // months * months + 1
    start = date(day.year, first_month, 1)
    return CycleSpan(f"{start.year}-{start.month:02d}", start, _add_months(start, months))


def cycle_span(key: str, months: int) -> CycleSpan:
    """Validate a cycle key like `2026-11` against the configured cycle length."""
    match = CYCLE_KEY.match((key or "").strip())
    if not match:
        raise UserError(f"`{key}` is not a cycle — expected the month it starts, like `2026-11`.")
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
# Progress, score and status
# --------------------------------------------------------------------------------------------


def kr_progress(*, start: float, target: float, current: float) -> float:
    """(current − start) / (target − start), clamped to [0, 1]; works for decreasing targets too."""
    if target == start:  # refused on input; a guard for rows written by other means
        return 1.0 if current == target else 0.0
    return min(1.0, max(0.0, (current - start) / (target - start)))


def objective_progress(krs: Sequence[KeyResult]) -> float:
    """The weighted mean of the KRs' progress (weight 1 unless set); 0 with no KRs."""
    total = sum(max(kr.weight, 0.0) for kr in krs)
    if not krs or total <= 0:
        return 0.0
    return (
        sum(kr_progress(start=kr.start, target=kr.target, current=kr.current) * kr.weight for kr in krs)
        / total
    )


def score(progress: float) -> float:
    """The 0.0–1.0 score shown to people, one decimal like Google's OKR grading."""
    return round(progress + 1e-9, 1)


def status_for(*, progress: float, elapsed: float, confidence: int | None) -> Status:
    """Progress against the elapsed share of the cycle; a low last confidence caps the result.

    At the start of a cycle nothing is behind yet, so only confidence can flag a KR; at the end,
    a KR is on track only when it is (nearly) done.
    """
    gap = elapsed - progress
    if gap <= AT_RISK_GAP:
        status = Status.ON_TRACK
    elif gap <= OFF_TRACK_GAP:
        status = Status.AT_RISK
    else:
        status = Status.OFF_TRACK
    if confidence is not None:
        if confidence <= OFF_TRACK_CONFIDENCE:
            status = worse(status, Status.OFF_TRACK)
        elif confidence <= AT_RISK_CONFIDENCE:
            status = worse(status, Status.AT_RISK)
    return status


@dataclass
class KrState:
    kr: KeyResult
    progress: float
    status: Status

    @property
    def ref(self) -> str:
        return format_id(Kind.KEY_RESULT, self.kr.id or 0)


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

    @property
    def ref(self) -> str:
        return format_id(Kind.OBJECTIVE, self.objective.id or 0)

    @property
    def score(self) -> float:
        return score(self.progress)


def kr_state(kr: KeyResult, elapsed: float) -> KrState:
    progress = kr_progress(start=kr.start, target=kr.target, current=kr.current)
    return KrState(
        kr=kr,
        progress=progress,
        status=status_for(progress=progress, elapsed=elapsed, confidence=kr.confidence),
    )


def objective_state(
    objective: Objective, team: Team | None, krs: list[KeyResult], clock: Clock
) -> ObjectiveState:
    elapsed = clock.elapsed(objective.cycle_key)
    states = [kr_state(kr, elapsed) for kr in krs]
    progress = objective_progress(krs)
    status: Status | None = None
    if krs:
        confidences = [kr.confidence for kr in krs if kr.confidence is not None]
        # The objective's own pace, capped by its least confident KR.
        status = status_for(
            progress=progress, elapsed=elapsed, confidence=min(confidences) if confidences else None
        )
    return ObjectiveState(objective=objective, team=team, krs=states, progress=progress, status=status)


# --------------------------------------------------------------------------------------------
# Input validation shared by every entry point
# --------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


def clean_text(text: str | None, *, what: str, limit: int, required: bool = True) -> str:
    """NFC, no control or direction-override characters, trimmed; empty or too long is refused."""
    cleaned = _CONTROL.sub("", unicodedata.normalize("NFC", text or "")).strip()
    cleaned = re.sub(r"[ \t]+", " ", cleaned)
    if required and not cleaned:
        raise UserError(f"The {what} is empty — please write one.")
    if len(cleaned) > limit:
        raise UserError(f"The {what} is {len(cleaned)} characters long; the limit is {limit}.")
    return cleaned


def parse_number(text: str | None, *, what: str = "value") -> float:
    """`42`, `-3.5`, `1,200` → a finite float; anything else names the problem."""
    raw = (text or "").strip().replace("_", "")
    if _THOUSANDS.match(raw):
        raw = raw.replace(",", "")
    if not raw or not _NUMBER.match(raw):
        shown = (text or "").strip() or "(nothing)"
        raise UserError(
            f"The {what} `{shown[:40]}` is not a number — expected something like `42` or `12.5`."
        )
    value = float(raw)
    if not math.isfinite(value) or abs(value) > 1e15:
        raise UserError(f"The {what} `{raw[:40]}` is out of range.")
    return value


def check_confidence(confidence: int | None) -> int | None:
    if confidence is None:
        return None
    if isinstance(confidence, float) and not confidence.is_integer():
        raise UserError(f"Confidence `{confidence}` must be a whole number from 1 to 10.")
    if not 1 <= int(confidence) <= 10:
        raise UserError(f"Confidence `{confidence:g}` is outside 1–10 — use 1 (no chance) to 10 (certain).")
    return int(confidence)


def check_weight(weight: float) -> float:
    if not math.isfinite(weight) or weight <= 0 or weight > 100:
        raise UserError(f"Weight `{weight:g}` must be a number above 0 and at most 100.")
    return weight


def check_target(start: float, target: float) -> None:
    if start == target:
        raise UserError(
            f"The target equals the start ({fmt_number(start)}), so progress cannot be measured — "
            "set a target above the start, or below it for a value you want to reduce."
        )


def fmt_number(value: float) -> str:
    """12.0 → `12`, 0.125 → `0.125`: short, exact enough, and round-trips through the CSV."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}" if abs(value) >= 1e-4 else repr(value)
