"""OKR domain logic over a database session. No Slack imports.

Everything a user can ask or change about OKRs goes through here, from Slack, the CLI or the
demo alike, so the rules (validation, permissions, progress and status) live in one place:

* progress of a KR = (current − start) / (target − start), clamped to [0, 1] — the same formula
  serves targets below the start (latency 300 → 100 ms);
* objective progress = the weighted mean of its KRs;
* status compares progress with the share of the cycle already elapsed, and takes the last
  confidence into account (the worse of the two wins);
* everyone reads everything; the owner, the owner of the parent objective or an admin writes.

Functions are keyword-only and take the session first, so a caller decides the unit of work.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from bot.common import audit
from bot.common.errors import Forbidden, NotFound, UserError
from bot.common.ids import Kind, format_id
from bot.config import Settings
from storage.models import Team, TeamMember
from storage.models.okrs import CheckIn, KeyResult, Objective, OkrCycle
from storage.types import utcnow

TITLE_LIMIT = 200
DESCRIPTION_LIMIT = 2000
NOTE_LIMIT = 2000
UNIT_LIMIT = 32
MAX_KRS_PER_OBJECTIVE = 25
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


_SEVERITY = {Status.ON_TRACK: 0, Status.AT_RISK: 1, Status.OFF_TRACK: 2}


def worse(a: Status, b: Status) -> Status:
    return a if _SEVERITY[a] >= _SEVERITY[b] else b


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


def ensure_cycle(*, db_session: Session, span: CycleSpan) -> OkrCycle:
    cycle = db_session.get(OkrCycle, span.key)
    if cycle is None:
        cycle = OkrCycle(key=span.key, starts_on=span.starts_on, ends_on=span.ends_on)
        db_session.add(cycle)
        db_session.flush()
    return cycle


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


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def get_objective(*, db_session: Session, objective_id: int) -> Objective:
    objective = db_session.get(Objective, objective_id)
    if objective is None:
        raise NotFound(f"There is no objective {format_id(Kind.OBJECTIVE, objective_id)}.")
    return objective


def get_key_result(*, db_session: Session, kr_id: int) -> KeyResult:
    kr = db_session.get(KeyResult, kr_id)
    if kr is None:
        raise NotFound(f"There is no key result {format_id(Kind.KEY_RESULT, kr_id)}.")
    return kr


def list_teams(*, db_session: Session) -> list[Team]:
    return list(db_session.exec(select(Team).order_by(Team.name)).all())


def find_team(*, db_session: Session, name: str) -> Team:
    """A team by key or name, case-insensitive; an unknown name lists the teams there are."""
    needle = (name or "").strip().lstrip("#").strip('"').strip()
    if not needle:
        raise UserError("Which team? Give its name, like `team growth`.")
    lowered = needle.lower()
    team = db_session.exec(
        select(Team).where(or_(func.lower(Team.key) == lowered, func.lower(Team.name) == lowered))
    ).first()
    if team is not None:
        return team
    names = ", ".join(f"`{t.key}`" for t in list_teams(db_session=db_session)[:30])
    raise NotFound(f"There is no team `{needle[:60]}`." + (f" Teams: {names}." if names else ""))


def get_team(*, db_session: Session, team_id: int) -> Team:
    team = db_session.get(Team, team_id)
    if team is None:
        raise NotFound("That team no longer exists.")
    return team


def team_ids_of(*, db_session: Session, slack_id: str) -> set[int]:
    """The teams a person leads or belongs to (for ordering choices, never for permissions)."""
    member = db_session.exec(select(TeamMember.team_id).where(TeamMember.slack_id == slack_id)).all()
    led = db_session.exec(select(Team.id).where(Team.lead_id == slack_id)).all()
    return {t for t in [*member, *led] if t is not None}


def _key_results_for(db_session: Session, objective_ids: Iterable[int]) -> dict[int, list[KeyResult]]:
    ids = list(objective_ids)
    grouped: dict[int, list[KeyResult]] = defaultdict(list)
    if not ids:
        return grouped
    rows = db_session.exec(
        select(KeyResult)
        .where(col(KeyResult.objective_id).in_(ids))
        .order_by(col(KeyResult.objective_id), col(KeyResult.position), col(KeyResult.id))
    ).all()
    for kr in rows:
        grouped[kr.objective_id].append(kr)
    return grouped


def _states(
    db_session: Session, pairs: Sequence[tuple[Objective, Team | None]], clock: Clock
) -> list[ObjectiveState]:
    krs = _key_results_for(db_session, (o.id for o, _ in pairs if o.id is not None))
    return [objective_state(o, t, krs.get(o.id or 0, []), clock) for o, t in pairs]


def _with_team(query):  # type: ignore[no-untyped-def]
    return select(Objective, Team).outerjoin(Team, col(Team.id) == col(Objective.team_id)).where(query)


# The hot path (`/okr mine`, `/okr @user`, `/okr team`, the App Home) is answered inside Slack's
# acknowledgement, so it is one prebuilt statement — objectives ⟕ team ⟕ key results, on the
# (owner, cycle) or (team, cycle) index — aggregated by the database into ONE row of JSON, which
# becomes plain read-only records. Measured (bench/okr_ack.py): building the statement and loading
# ORM identities per request cost more than the query; and with SQLite every fetched row is a
# `sqlite3_step` that releases the GIL, so under 8 concurrent requests each row could wait for
# another thread's time slice — one aggregated row kept throughput up where row-by-row halved it.
_O = Objective.__table__  # type: ignore[attr-defined]
_T = Team.__table__  # type: ignore[attr-defined]
_K = KeyResult.__table__  # type: ignore[attr-defined]
# Only what a render needs: no timestamps, whose per-row conversion is the costliest part.
_O_COLS = ["id", "cycle_key", "team_id", "owner_id", "parent_id", "title", "description"]
_K_COLS = [
    "id",
    "objective_id",
    "position",
    "title",
    "start",
    "target",
    "current",
    "unit",
    "weight",
    "confidence",
]


@dataclass(slots=True, frozen=True)
class ObjectiveRow:
    """A read-only objective for renders; the hot path builds these instead of ORM instances."""

    id: int
    cycle_key: str
    team_id: int | None
    owner_id: str
    parent_id: int | None
    title: str
    description: str


@dataclass(slots=True, frozen=True)
class KrRow:
    id: int
    objective_id: int
    position: int
    title: str
    start: float
    target: float
    current: float
    unit: str
    weight: float
    confidence: int | None


@dataclass(slots=True, frozen=True)
class TeamRow:
    id: int
    key: str
    name: str


def _snapshot_statement(dialect: str, *where: Any) -> Any:
    columns = [*(_O.c[name] for name in _O_COLS), _T.c.key, _T.c.name, *(_K.c[name] for name in _K_COLS)]
    if dialect == "postgresql":
        aggregate = func.json_agg(func.json_build_array(*columns))
    else:
        aggregate = func.json_group_array(func.json_array(*columns))
    return (
        sa.select(aggregate)
        .select_from(_O.outerjoin(_T, _T.c.id == _O.c.team_id).outerjoin(_K, _K.c.objective_id == _O.c.id))
        .where(*where)
    )


_BY_OWNER_WHERE = (_O.c.owner_id == sa.bindparam("owner"), _O.c.cycle_key == sa.bindparam("cycle"))
_BY_TEAM_WHERE = (_O.c.team_id == sa.bindparam("team"), _O.c.cycle_key == sa.bindparam("cycle"))
_STATEMENTS: dict[tuple[str, str], Any] = {}


def _statement(db_session: Session, which: str) -> Any:
    dialect = db_session.get_bind().dialect.name
    statement = _STATEMENTS.get((dialect, which))
    if statement is None:
        where = _BY_OWNER_WHERE if which == "owner" else _BY_TEAM_WHERE
        statement = _STATEMENTS[(dialect, which)] = _snapshot_statement(dialect, *where)
    return statement


def _snapshots(db_session: Session, which: str, params: dict[str, Any], clock: Clock) -> list[ObjectiveState]:
    raw = db_session.connection().execute(_statement(db_session, which), params).scalar()
    rows = json.loads(raw) if isinstance(raw, str) else (raw or [])  # psycopg decodes json itself
    n = len(_O_COLS)  # row layout: objective columns, team key and name, then KR columns
    rows.sort(key=lambda r: (r[0], r[n + 4] if r[n + 4] is not None else 0, r[n + 2] or 0))
    objectives: dict[int, tuple[ObjectiveRow, TeamRow | None, list[KrRow]]] = {}
    for row in rows:
        entry = objectives.get(row[0])
        if entry is None:
            team = TeamRow(row[2], row[n], row[n + 1]) if row[n] is not None else None
            entry = objectives[row[0]] = (ObjectiveRow(*row[:n]), team, [])
        if row[n + 2] is not None:
            entry[2].append(KrRow(*row[n + 2 :]))
    # Rows stand in for the models: renders only read these attributes.
    return [objective_state(o, t, krs, clock) for o, t, krs in objectives.values()]  # type: ignore[arg-type]


def objectives_of(
    *, db_session: Session, owner_id: str, clock: Clock, cycle_key: str | None = None
) -> list[ObjectiveState]:
    """`/okr mine` and `/okr @user`: one query on the (owner, cycle) index; read-only snapshots."""
    key = cycle_key or clock.current().key
    return _snapshots(db_session, "owner", {"owner": owner_id, "cycle": key}, clock)


def objectives_of_team(
    *, db_session: Session, team: Team, clock: Clock, cycle_key: str | None = None
) -> list[ObjectiveState]:
    """`/okr team <name>`: one query on the (team, cycle) index; read-only snapshots."""
    key = cycle_key or clock.current().key
    return _snapshots(db_session, "team", {"team": team.id, "cycle": key}, clock)


def objective_detail(*, db_session: Session, objective_id: int, clock: Clock) -> ObjectiveState:
    """One objective with its KRs, its parent and its aligned children (each with progress)."""
    objective = get_objective(db_session=db_session, objective_id=objective_id)
    team = db_session.get(Team, objective.team_id) if objective.team_id else None
    state = _states(db_session, [(objective, team)], clock)[0]
    if objective.parent_id:
        state.parent = db_session.get(Objective, objective.parent_id)
    children = db_session.exec(
        _with_team(col(Objective.parent_id) == objective.id).order_by(col(Objective.id))
    ).all()
    state.children = _states(db_session, list(children), clock)
    return state


def key_results_by_title(*, db_session: Session, cycle_key: str) -> dict[str, KeyResult]:
    """A cycle's KRs by title (the demo seed addresses its KRs by the titles in its CSV)."""
    rows = db_session.exec(
        select(KeyResult)
        .join(Objective, col(Objective.id) == col(KeyResult.objective_id))
        .where(Objective.cycle_key == cycle_key)
    ).all()
    return {kr.title: kr for kr in rows}


def objective_of_kr(*, db_session: Session, kr_id: int) -> tuple[KeyResult, Objective]:
    kr = get_key_result(db_session=db_session, kr_id=kr_id)
    return kr, get_objective(db_session=db_session, objective_id=kr.objective_id)


@dataclass
class History:
    kr: KeyResult
    objective: Objective
    state: KrState
    checkins: list[CheckIn]
    total: int


def history(*, db_session: Session, kr_id: int, clock: Clock, limit: int = 20) -> History:
    """A KR's check-ins, newest first (all of them are kept; `limit` only bounds the page)."""
    kr, objective = objective_of_kr(db_session=db_session, kr_id=kr_id)
    rows = db_session.exec(
        select(CheckIn)
        .where(CheckIn.key_result_id == kr_id)
        .order_by(col(CheckIn.at).desc(), col(CheckIn.id).desc())
        .limit(limit)
    ).all()
    total = db_session.exec(
        select(func.count()).select_from(CheckIn).where(CheckIn.key_result_id == kr_id)
    ).one()
    return History(
        kr=kr,
        objective=objective,
        state=kr_state(kr, clock.elapsed(objective.cycle_key)),
        checkins=list(rows),
        total=int(total),
    )


@dataclass
class TreeNode:
    objective: Objective
    children: list[TreeNode] = field(default_factory=list)
    state: ObjectiveState | None = None  # filled for the nodes that are shown
    descendants: int = 0


@dataclass
class Tree:
    cycle_key: str
    roots: list[TreeNode]
    total: int
    team: Team | None = None


def tree(
    *,
    db_session: Session,
    clock: Clock,
    team: Team | None = None,
    cycle_key: str | None = None,
    roots_shown: int = 12,
    children_shown: int = 6,
    grandchildren_shown: int = 3,
    line_budget: int = 60,
) -> Tree:
    """The alignment tree of a cycle from its company objectives (no parent) down.

    The structure is built from a narrow query of the whole cycle; progress is then loaded only for
    the nodes that will be shown (`state` is set on those: at most `line_budget`, within the
    per-level caps), so a cycle of thousands stays cheap and the message stays readable.
    With a team, the roots are the team's objectives whose parent is not in the team.
    """
    key = cycle_key or clock.current().key
    rows = db_session.exec(
        select(Objective).where(Objective.cycle_key == key).order_by(col(Objective.id))
    ).all()
    nodes = {o.id: TreeNode(objective=o) for o in rows}
    for node in nodes.values():
        parent = nodes.get(node.objective.parent_id) if node.objective.parent_id else None
        if parent is not None:
            parent.children.append(node)

    def count(node: TreeNode, depth: int = 0) -> int:
        if depth > 50:  # cycles are refused on write; never loop on bad data
            return 0
        node.descendants = sum(1 + count(child, depth + 1) for child in node.children)
        return node.descendants

    if team is None:
        roots = [n for n in nodes.values() if not n.objective.parent_id or n.objective.parent_id not in nodes]
        total = len(nodes)
    else:
        in_team = {i for i, n in nodes.items() if n.objective.team_id == team.id}
        roots = [n for i, n in nodes.items() if i in in_team and n.objective.parent_id not in in_team]
        total = len(in_team)
    for root in roots:
        count(root)

    # Breadth first within a line budget, one child per parent at a time, so every company
    # objective shows its first aligned objectives before any shows its sixth.
    shown: list[TreeNode] = list(roots[:roots_shown])
    budget = line_budget - len(shown)
    level1 = _round_robin([r.children[:children_shown] for r in shown])[: max(0, budget)]
    budget -= len(level1)
    level2 = _round_robin([c.children[:grandchildren_shown] for c in level1])[: max(0, budget)]
    shown += level1 + level2
    team_ids = {n.objective.team_id for n in shown if n.objective.team_id}
    teams = (
        {t.id: t for t in db_session.exec(select(Team).where(col(Team.id).in_(team_ids))).all()}
        if team_ids
        else {}
    )
    states = _states(db_session, [(n.objective, teams.get(n.objective.team_id)) for n in shown], clock)
    for node, state in zip(shown, states, strict=True):
        node.state = state
    return Tree(cycle_key=key, roots=roots, total=total, team=team)


def _round_robin(groups: list[list[TreeNode]]) -> list[TreeNode]:
    out: list[TreeNode] = []
    for i in range(max((len(g) for g in groups), default=0)):
        out.extend(g[i] for g in groups if i < len(g))
    return out


@dataclass
class SearchHit:
    state: ObjectiveState
    matched: list[str]  # where the words were found: title, description, KR-n, KR-n note


def search(*, db_session: Session, words: str, clock: Clock, limit: int = 15) -> tuple[list[SearchHit], int]:
    """Objectives whose title, description, KR titles or check-in notes contain every word.

    Case-insensitive substring matching (`LIKE`) behaves the same on SQLite and PostgreSQL; newest
    cycles first. Returns the hits shown and the total number of matches.
    """
    terms = [t for t in re.split(r"\s+", clean_text(words, what="search", limit=200)) if t][:8]
    if not terms:
        raise UserError("Search for what? Try `/okr search activation`.")

    def like(column, term: str):  # type: ignore[no-untyped-def]
        escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return func.lower(column).like(f"%{escaped}%", escape="\\")

    matches: dict[int, set[str]] = defaultdict(set)
    per_term: list[set[int]] = []
    for term in terms:
        found: set[int] = set()
        for oid in db_session.exec(
            select(Objective.id).where(or_(like(Objective.title, term), like(Objective.description, term)))
        ).all():
            found.add(oid)
            matches[oid].add("objective")
        for oid, kid in db_session.exec(
            select(KeyResult.objective_id, KeyResult.id).where(like(KeyResult.title, term))
        ).all():
            found.add(oid)
            matches[oid].add(format_id(Kind.KEY_RESULT, kid))
        for oid, kid in db_session.exec(
            select(KeyResult.objective_id, KeyResult.id)
            .join(CheckIn, col(CheckIn.key_result_id) == col(KeyResult.id))
            .where(like(CheckIn.note, term))
        ).all():
            found.add(oid)
            matches[oid].add(f"{format_id(Kind.KEY_RESULT, kid)} note")
        per_term.append(found)
    ids = set.intersection(*per_term) if per_term else set()
    if not ids:
        return [], 0
    pairs = db_session.exec(
        _with_team(col(Objective.id).in_(ids)).order_by(col(Objective.cycle_key).desc(), col(Objective.id))
    ).all()
    pairs = list(pairs)[:limit]
    states = _states(db_session, pairs, clock)
    return [SearchHit(state=s, matched=sorted(matches[s.objective.id or 0])) for s in states], len(ids)


@dataclass
class RiskItem:
    state: KrState
    objective: Objective
    team: Team | None


def at_risk(*, db_session: Session, clock: Clock, team: Team | None = None) -> list[RiskItem]:
    """KRs of the current cycle that are at risk or off track, worst first."""
    span = clock.current()
    where = col(Objective.cycle_key) == span.key
    if team is not None:
        where = where & (col(Objective.team_id) == team.id)
    rows = db_session.exec(
        select(KeyResult, Objective, Team)
        .join(Objective, col(Objective.id) == col(KeyResult.objective_id))
        .outerjoin(Team, col(Team.id) == col(Objective.team_id))
        .where(where)
    ).all()
    elapsed = span.elapsed(clock.now(), clock.tz)
    items = [RiskItem(kr_state(kr, elapsed), o, t) for kr, o, t in rows]
    risky = [i for i in items if i.state.status != Status.ON_TRACK]
    risky.sort(key=lambda i: (-_SEVERITY[i.state.status], i.state.progress, i.state.kr.id or 0))
    return risky


@dataclass
class CycleInfo:
    span: CycleSpan
    days_left: int
    elapsed: float
    objectives: int
    key_results: int


def cycle_info(*, db_session: Session, clock: Clock) -> CycleInfo:
    span = clock.current()
    objectives = db_session.exec(
        select(func.count()).select_from(Objective).where(Objective.cycle_key == span.key)
    ).one()
    krs = db_session.exec(
        select(func.count())
        .select_from(KeyResult)
        .join(Objective, col(Objective.id) == col(KeyResult.objective_id))
        .where(Objective.cycle_key == span.key)
    ).one()
    now = clock.now()
    return CycleInfo(
        span=span,
        days_left=span.days_left(now, clock.tz),
        elapsed=span.elapsed(now, clock.tz),
        objectives=int(objectives),
        key_results=int(krs),
    )


def parent_candidates(
    *, db_session: Session, clock: Clock, query: str = "", limit: int = 100
) -> list[Objective]:
    """Objectives of the current cycle a new one can align to, for the modal's parent picker."""
    key = clock.current().key
    stmt = select(Objective).where(Objective.cycle_key == key)
    text = (query or "").strip()
    if text:
        match = re.match(r"^[oO]-?(\d+)$", text)
        if match:
            stmt = stmt.where(Objective.id == int(match.group(1)))
        else:
            stmt = stmt.where(func.lower(Objective.title).like(f"%{text.lower()}%"))
    # Parents first: company objectives, then the rest.
    stmt = stmt.order_by(col(Objective.parent_id).is_not(None), col(Objective.id)).limit(limit)
    return list(db_session.exec(stmt).all())


# --------------------------------------------------------------------------------------------
# Permissions
# --------------------------------------------------------------------------------------------


def can_edit(*, db_session: Session, objective: Objective, actor_id: str, is_admin: bool) -> bool:
    """The owner, the owner of the parent objective, or an admin."""
    if is_admin or objective.owner_id == actor_id:
        return True
    if objective.parent_id:
        parent = db_session.get(Objective, objective.parent_id)
        return parent is not None and parent.owner_id == actor_id
    return False


def require_edit(*, db_session: Session, objective: Objective, actor_id: str, is_admin: bool) -> None:
    if not can_edit(db_session=db_session, objective=objective, actor_id=actor_id, is_admin=is_admin):
        ref = format_id(Kind.OBJECTIVE, objective.id or 0)
        raise Forbidden(
            f"Only <@{objective.owner_id}> (the owner of {ref}), the owner of its parent objective "
            "or an admin can change it. Everyone can read it."
        )


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _check_parent(db_session: Session, *, parent_id: int, cycle_key: str, child_id: int | None) -> Objective:
    parent = db_session.get(Objective, parent_id)
    if parent is None:
        raise NotFound(f"There is no parent objective {format_id(Kind.OBJECTIVE, parent_id)}.")
    if parent.cycle_key != cycle_key:
        raise UserError(
            f"The parent {format_id(Kind.OBJECTIVE, parent_id)} belongs to cycle {parent.cycle_key}, "
            f"not {cycle_key} — an objective can only align to one in the same cycle."
        )
    # Walk up from the parent: meeting the child means the link would close a loop.
    seen: set[int] = set()
    node: Objective | None = parent
    while node is not None and node.id not in seen:
        if child_id is not None and node.id == child_id:
            raise UserError(
                f"{format_id(Kind.OBJECTIVE, child_id)} cannot align to "
                f"{format_id(Kind.OBJECTIVE, parent_id)}: that would make a cycle of parents."
            )
        seen.add(node.id or 0)
        node = db_session.get(Objective, node.parent_id) if node.parent_id else None
    return parent


def create_objective(
    *,
    db_session: Session,
    actor_id: str,
    clock: Clock,
    title: str,
    team: Team | None = None,
    parent_id: int | None = None,
    description: str = "",
    owner_id: str | None = None,
    cycle_key: str | None = None,
    is_admin: bool = False,
) -> Objective:
    """A new objective in the current cycle (or `cycle_key`), owned by the actor unless an admin says so."""
    title = clean_text(title, what="objective title", limit=TITLE_LIMIT)
    description = clean_text(description, what="description", limit=DESCRIPTION_LIMIT, required=False)
    owner = owner_id or actor_id
    if owner != actor_id and not is_admin:
        raise Forbidden("Only an admin can create an objective for someone else.")
    span = clock.span(cycle_key) if cycle_key else clock.current()
    ensure_cycle(db_session=db_session, span=span)
    if parent_id is not None:
        _check_parent(db_session, parent_id=parent_id, cycle_key=span.key, child_id=None)
    objective = Objective(
        cycle_key=span.key,
        team_id=team.id if team else None,
        owner_id=owner,
        parent_id=parent_id,
        title=title,
        description=description,
        created_by=actor_id,
    )
    db_session.add(objective)
    db_session.flush()
    audit.record(
        db_session=db_session,
        actor_id=actor_id,
        action="okr.objective.create",
        record_type="objective",
        record_id=format_id(Kind.OBJECTIVE, objective.id or 0),
        detail=title,
    )
    return objective


def set_parent(
    *, db_session: Session, actor_id: str, is_admin: bool, objective_id: int, parent_id: int | None
) -> Objective:
    """Align an objective to another of the same cycle (or to none); refuses loops."""
    objective = get_objective(db_session=db_session, objective_id=objective_id)
    require_edit(db_session=db_session, objective=objective, actor_id=actor_id, is_admin=is_admin)
    if parent_id is not None:
        if parent_id == objective_id:
            raise UserError(f"{format_id(Kind.OBJECTIVE, objective_id)} cannot be its own parent.")
        _check_parent(db_session, parent_id=parent_id, cycle_key=objective.cycle_key, child_id=objective_id)
    objective.parent_id = parent_id
    objective.updated_at = utcnow()
    db_session.add(objective)
    audit.record(
        db_session=db_session,
        actor_id=actor_id,
        action="okr.objective.align",
        record_type="objective",
        record_id=format_id(Kind.OBJECTIVE, objective_id),
        detail=format_id(Kind.OBJECTIVE, parent_id) if parent_id else "none",
    )
    return objective


def add_key_result(
    *,
    db_session: Session,
    actor_id: str,
    is_admin: bool,
    objective_id: int,
    title: str,
    target: float,
    start: float = 0.0,
    unit: str = "",
    weight: float = 1.0,
    current: float | None = None,
) -> KeyResult:
    objective = get_objective(db_session=db_session, objective_id=objective_id)
    require_edit(db_session=db_session, objective=objective, actor_id=actor_id, is_admin=is_admin)
    title = clean_text(title, what="key result title", limit=TITLE_LIMIT)
    unit = clean_text(unit, what="unit", limit=UNIT_LIMIT, required=False)
    check_target(start, target)
    check_weight(weight)
    count = db_session.exec(
        select(func.count()).select_from(KeyResult).where(KeyResult.objective_id == objective_id)
    ).one()
    if count >= MAX_KRS_PER_OBJECTIVE:
        raise UserError(
            f"{format_id(Kind.OBJECTIVE, objective_id)} already has {count} key results; that is the limit."
        )
    kr = KeyResult(
        objective_id=objective_id,
        position=int(count),
        title=title,
        start=start,
        target=target,
        current=start if current is None else current,
        unit=unit,
        weight=weight,
    )
    db_session.add(kr)
    db_session.flush()
    audit.record(
        db_session=db_session,
        actor_id=actor_id,
        action="okr.kr.create",
        record_type="key_result",
        record_id=format_id(Kind.KEY_RESULT, kr.id or 0),
        detail=f"{format_id(Kind.OBJECTIVE, objective_id)}: {title}",
    )
    return kr


def resolve_checkin_value(kr: KeyResult, value: float, *, percent: bool) -> float:
    """`60%` on a KR measured in % is the value 60; on any other unit it means 60% of the way."""
    if not percent or kr.unit.strip() == "%":
        return value
    return kr.start + (kr.target - kr.start) * value / 100.0


def check_in(
    *,
    db_session: Session,
    actor_id: str,
    is_admin: bool,
    kr_id: int,
    value: float,
    percent: bool = False,
    confidence: int | None = None,
    note: str = "",
    at: datetime | None = None,
) -> CheckIn:
    """Record progress: a new check-in row (history is append-only) and the KR's latest value."""
    kr, objective = objective_of_kr(db_session=db_session, kr_id=kr_id)
    require_edit(db_session=db_session, objective=objective, actor_id=actor_id, is_admin=is_admin)
    if not math.isfinite(value):
        raise UserError("The value is not a number.")
    confidence = check_confidence(confidence)
    note = clean_text(note, what="note", limit=NOTE_LIMIT, required=False)
    resolved = resolve_checkin_value(kr, value, percent=percent)
    when = at or utcnow()
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    entry = CheckIn(
        key_result_id=kr_id, value=resolved, confidence=confidence, note=note, author_id=actor_id, at=when
    )
    db_session.add(entry)
    if kr.last_checkin_at is None or when >= kr.last_checkin_at:
        kr.current = resolved
        if confidence is not None:
            kr.confidence = confidence
        kr.last_checkin_at = when
    kr.updated_at = utcnow()
    db_session.add(kr)
    db_session.flush()
    audit.record(
        db_session=db_session,
        actor_id=actor_id,
        action="okr.checkin",
        record_type="key_result",
        record_id=format_id(Kind.KEY_RESULT, kr_id),
        detail=f"{fmt_number(resolved)}{' conf ' + str(confidence) if confidence else ''} {note}".strip(),
    )
    return entry


# --------------------------------------------------------------------------------------------
# CSV import and export (DESIGN §2): one row per key result
# --------------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "cycle",
    "team",
    "owner",
    "objective",
    "parent_objective",
    "key_result",
    "start",
    "target",
    "unit",
    "current",
)
IMPORT_AUTHOR = "import"  # check-ins written by an import are authored by the file, not a person
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class RowError:
    line: int
    reason: str


@dataclass
class ImportReport:
    """What an import did (or, with errors or --dry-run, would do): counts and row line numbers."""

    rows: int = 0
    created: list[int] = field(default_factory=list)  # lines whose objective or KR is new
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    objectives_created: int = 0
    objectives_updated: int = 0
    krs_created: int = 0
    krs_updated: int = 0
    checkins: int = 0
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _ObjRow:
    line: int
    cycle: str
    team: Team | None
    owner: str
    title: str
    parent_title: str


@dataclass
class _KrRow:
    line: int
    objective_key: tuple[str, str]
    title: str
    start: float
    target: float
    unit: str
    current: float | None


def _resolve_owner(
    db_session: Session,
    raw: str,
    resolve_email: Callable[[str], str | None] | None,
    cache: dict[str, str | None],
) -> str:
    from storage.models import Person

    value = raw.strip()
    if _SLACK_ID.match(value):
        return value
    if _EMAIL.match(value):
        email = value.lower()
        if email not in cache:
            person = db_session.exec(select(Person).where(Person.email == email)).first()
            found = person.slack_id if person else None
            if found is None and resolve_email is not None:
                found = resolve_email(email)
            cache[email] = found
        if cache[email] is None:
            hint = (
                ""
                if resolve_email
                else " (set SLACK_BOT_TOKEN so it can be looked up with users.lookupByEmail)"
            )
            raise UserError(f"no Slack user has the e-mail {value}{hint}")
        return cache[email] or ""
    raise UserError(
        f"owner `{value[:60] or '(empty)'}` is neither a Slack user ID (U…) nor an e-mail address"
    )


def read_okr_csv(text: str) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """Rows with their line numbers; a missing column is one file-level error naming every one."""
    import csv
    import io

    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        return [], [
            RowError(
                1,
                f"missing column(s): {', '.join(missing)} — the header must be {','.join(CSV_COLUMNS)}",
            )
        ]
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, str]]] = []
    start_line = 2
    for raw in reader:
        line = start_line
        start_line = reader.line_num + 1
        values = {k: (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(values.get(c) for c in CSV_COLUMNS):
            continue  # blank line
        rows.append((line, values))
    return rows, []


def import_okrs(
    *,
    db_session: Session,
    text: str,
    actor_id: str,
    clock: Clock,
    resolve_email: Callable[[str], str | None] | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """An idempotent upsert of a CSV, all or nothing: any bad row rejects the file.

    Objectives are matched by (cycle, title) and KRs by (objective, title), so re-importing an
    export changes nothing. A team must exist (by key or name): a typo should not quietly create
    a team that has no lead, no channel and no members. A changed `current` is recorded as a
    check-in authored by the import, so history stays complete.
    """
    report = ImportReport(dry_run=dry_run)
    rows, file_errors = read_okr_csv(text)
    if file_errors:
        report.errors = file_errors
        return report
    report.rows = len(rows)
    if not rows:
        report.errors.append(RowError(1, "the file has a header but no rows"))
        return report

    teams = list_teams(db_session=db_session)
    team_by_name = {t.key.lower(): t for t in teams} | {t.name.lower(): t for t in teams}
    email_cache: dict[str, str | None] = {}
    objectives: dict[tuple[str, str], _ObjRow] = {}
    krs: dict[tuple[tuple[str, str], str], _KrRow] = {}
    line_kind: dict[int, tuple[str, ...]] = {}

    for line, values in rows:
        try:
            span = clock.span(values["cycle"])
            team: Team | None = None
            if values["team"]:
                team = team_by_name.get(values["team"].lower())
                if team is None:
                    raise UserError(
                        f"unknown team `{values['team'][:60]}` — create it first (`flywheel import teams`)"
                    )
            if not values["owner"]:
                raise UserError("the owner is empty — give a Slack user ID or an e-mail address")
            owner = _resolve_owner(db_session, values["owner"], resolve_email, email_cache)
            title = clean_text(values["objective"], what="objective title", limit=TITLE_LIMIT)
            parent_title = clean_text(
                values["parent_objective"], what="parent objective", limit=TITLE_LIMIT, required=False
            )
            if parent_title and parent_title.lower() == title.lower():
                raise UserError("an objective cannot be its own parent")
            okey = (span.key, title.lower())
            seen = objectives.get(okey)
            if seen is None:
                objectives[okey] = _ObjRow(line, span.key, team, owner, title, parent_title)
            elif (seen.team, seen.owner, seen.parent_title.lower()) != (team, owner, parent_title.lower()):
                raise UserError(
                    f"objective “{title[:60]}” already appears on line {seen.line} with a different "
                    "team, owner or parent"
                )
            if values["key_result"]:
                kr_title = clean_text(values["key_result"], what="key result title", limit=TITLE_LIMIT)
                start = parse_number(values["start"] or "0", what="start")
                target = parse_number(values["target"], what="target")
                check_target(start, target)
                current = parse_number(values["current"], what="current value") if values["current"] else None
                unit = clean_text(values["unit"], what="unit", limit=UNIT_LIMIT, required=False)
                kkey = (okey, kr_title.lower())
                if kkey in krs:
                    raise UserError(f"key result “{kr_title[:60]}” is already on line {krs[kkey].line}")
                krs[kkey] = _KrRow(line, okey, kr_title, start, target, unit, current)
            elif any(values[c] for c in ("start", "target", "unit", "current")):
                raise UserError("start, target, unit or current are given but the key_result is empty")
        except UserError as err:
            report.errors.append(RowError(line, str(err).replace("\n", " ")))

    # Parents: the same cycle, in the file or already stored; then no loops.
    existing: dict[tuple[str, str], Objective] = {}
    cycles = {o.cycle for o in objectives.values()}
    for key in cycles:
        for o in db_session.exec(select(Objective).where(Objective.cycle_key == key)).all():
            existing.setdefault((key, o.title.lower()), o)
    parent_of: dict[tuple[str, str], tuple[str, str] | None] = {}
    for okey, orow in objectives.items():
        if not orow.parent_title:
            parent_of[okey] = None
            continue
        pkey = (orow.cycle, orow.parent_title.lower())
        if pkey not in objectives and pkey not in existing:
            elsewhere = db_session.exec(
                select(Objective.cycle_key).where(func.lower(Objective.title) == orow.parent_title.lower())
            ).first()
            in_file = [o.cycle for o in objectives.values() if o.title.lower() == orow.parent_title.lower()]
            other = elsewhere or (in_file[0] if in_file else None)
            where = f" (it is in cycle {other})" if other else ""
            report.errors.append(
                RowError(
                    orow.line,
                    f"parent objective “{orow.parent_title[:60]}” is not in cycle {orow.cycle}{where}",
                )
            )
            continue
        parent_of[okey] = pkey
    # A stored objective keeps its stored parent unless the file gives it one.
    for key, o in existing.items():
        if key not in objectives and o.parent_id:
            parent = db_session.get(Objective, o.parent_id)
            parent_of[key] = (parent.cycle_key, parent.title.lower()) if parent else None
    for okey, orow in objectives.items():
        seen_keys = {okey}
        node = parent_of.get(okey)
        while node is not None:
            if node in seen_keys:
                report.errors.append(
                    RowError(orow.line, f"objective “{orow.title[:60]}” is part of a cycle of parents")
                )
                break
            seen_keys.add(node)
            node = parent_of.get(node)

    if report.errors:
        report.errors.sort(key=lambda e: e.line)
        return report

    # Plan (and, unless dry-run, apply) in file order.
    stored: dict[tuple[str, str], Objective] = {}
    for okey, orow in objectives.items():
        obj = existing.get(okey)
        team_id = orow.team.id if orow.team else None
        if obj is None:
            report.objectives_created += 1
            line_kind.setdefault(orow.line, ())
            line_kind[orow.line] += ("created",)
            if not dry_run:
                ensure_cycle(db_session=db_session, span=clock.span(orow.cycle))
                obj = Objective(
                    cycle_key=orow.cycle,
                    team_id=team_id,
                    owner_id=orow.owner,
                    title=orow.title,
                    created_by=actor_id,
                )
                db_session.add(obj)
                db_session.flush()
        else:
            changed = (obj.team_id, obj.owner_id, obj.title) != (team_id, orow.owner, orow.title)
            if changed:
                report.objectives_updated += 1
                line_kind.setdefault(orow.line, ())
                line_kind[orow.line] += ("updated",)
                if not dry_run:
                    obj.team_id, obj.owner_id, obj.title = team_id, orow.owner, orow.title
                    obj.updated_at = utcnow()
                    db_session.add(obj)
        if obj is not None:
            stored[okey] = obj
    for okey, orow in objectives.items():
        obj = stored.get(okey)
        if obj is None:
            continue  # a new objective in a dry run: counted as created already
        pkey = parent_of.get(okey)
        wanted = (stored.get(pkey) or existing.get(pkey)) if pkey else None
        # In a dry run a parent that is new in this file has no row yet: any link to it is a change.
        changed = (
            True if pkey is not None and wanted is None else obj.parent_id != (wanted.id if wanted else None)
        )
        if not changed:
            continue
        if okey in existing and "updated" not in line_kind.get(orow.line, ()):
            report.objectives_updated += 1
            line_kind[orow.line] = line_kind.get(orow.line, ()) + ("updated",)
        if not dry_run:
            obj.parent_id = wanted.id if wanted else None
            db_session.add(obj)

    existing_krs: dict[int, dict[str, KeyResult]] = defaultdict(dict)
    stored_ids = [o.id for o in existing.values() if o.id is not None]
    for oid, kr_list in _key_results_for(db_session, stored_ids).items():
        for kr in kr_list:
            existing_krs[oid][kr.title.lower()] = kr
    now = utcnow()
    for (okey, ktitle), krow in krs.items():
        obj = stored.get(okey)
        kr = existing_krs[obj.id].get(ktitle) if obj is not None and obj.id in existing_krs else None
        if kr is None:
            report.krs_created += 1
            line_kind.setdefault(krow.line, ())
            line_kind[krow.line] += ("created",)
            if krow.current is not None and krow.current != krow.start:
                report.checkins += 1
            if not dry_run and obj is not None:
                position = len(existing_krs[obj.id or 0])
                kr = KeyResult(
                    objective_id=obj.id or 0,
                    position=position,
                    title=krow.title,
                    start=krow.start,
                    target=krow.target,
                    unit=krow.unit,
                    current=krow.start,
                )
                db_session.add(kr)
                db_session.flush()
                existing_krs[obj.id or 0][ktitle] = kr
                if krow.current is not None and krow.current != krow.start:
                    _import_checkin(db_session, kr, krow.current, now)
            continue
        shape_changed = (kr.title, kr.start, kr.target, kr.unit) != (
            krow.title,
            krow.start,
            krow.target,
            krow.unit,
        )
        value_changed = krow.current is not None and krow.current != kr.current
        if shape_changed or value_changed:
            report.krs_updated += 1
            line_kind.setdefault(krow.line, ())
            line_kind[krow.line] += ("updated",)
            if value_changed:
                report.checkins += 1
            if not dry_run:
                kr.title, kr.start, kr.target, kr.unit = krow.title, krow.start, krow.target, krow.unit
                kr.updated_at = now
                db_session.add(kr)
                if value_changed and krow.current is not None:
                    _import_checkin(db_session, kr, krow.current, now)

    for line, _values in rows:
        kinds = line_kind.get(line, ())
        if "created" in kinds:
            report.created.append(line)
        elif "updated" in kinds:
            report.updated.append(line)
        else:
            report.unchanged.append(line)
    if not dry_run and (report.created or report.updated):
        audit.record(
            db_session=db_session,
            actor_id=actor_id,
            action="okr.import",
            record_type="okr_import",
            record_id=now.strftime("%Y%m%dT%H%M%SZ"),
            detail=(
                f"objectives +{report.objectives_created} ~{report.objectives_updated}, "
                f"KRs +{report.krs_created} ~{report.krs_updated}"
            ),
        )
    return report


def _import_checkin(db_session: Session, kr: KeyResult, value: float, at: datetime) -> None:
    db_session.add(
        CheckIn(key_result_id=kr.id or 0, value=value, note="CSV import", author_id=IMPORT_AUTHOR, at=at)
    )
    kr.current = value
    kr.last_checkin_at = at
    db_session.add(kr)


def export_rows(*, db_session: Session, cycle_key: str | None = None) -> list[dict[str, str]]:
    """DESIGN's CSV rows: one per KR, an objective without KRs as one row with the KR columns empty."""
    stmt = select(Objective, Team).outerjoin(Team, col(Team.id) == col(Objective.team_id))
    if cycle_key:
        stmt = stmt.where(Objective.cycle_key == cycle_key)
    pairs = list(db_session.exec(stmt.order_by(col(Objective.cycle_key), col(Objective.id))).all())
    titles = {o.id: o.title for o, _ in pairs}
    missing_parents = {o.parent_id for o, _ in pairs if o.parent_id and o.parent_id not in titles}
    for pid in missing_parents:
        parent = db_session.get(Objective, pid)
        if parent is not None:
            titles[pid] = parent.title
    krs = _key_results_for(db_session, [o.id for o, _ in pairs if o.id is not None])
    out: list[dict[str, str]] = []
    for o, team in pairs:
        base = {
            "cycle": o.cycle_key,
            "team": team.key if team else "",
            "owner": o.owner_id,
            "objective": o.title,
            "parent_objective": titles.get(o.parent_id, "") if o.parent_id else "",
        }
        kr_list = krs.get(o.id or 0, [])
        if not kr_list:
            out.append(base | {"key_result": "", "start": "", "target": "", "unit": "", "current": ""})
        for kr in kr_list:
            out.append(
                base
                | {
                    "key_result": kr.title,
                    "start": fmt_number(kr.start),
                    "target": fmt_number(kr.target),
                    "unit": kr.unit,
                    "current": fmt_number(kr.current),
                }
            )
    return out


def export_csv(*, db_session: Session, cycle_key: str | None = None) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(export_rows(db_session=db_session, cycle_key=cycle_key))
    return buffer.getvalue()


def export_json(
    *, db_session: Session, clock: Clock, cycle_key: str | None = None
) -> list[dict[str, object]]:
    """Objectives with nested KRs, IDs, progress and status: for scripts, not for re-import."""
    stmt = select(Objective, Team).outerjoin(Team, col(Team.id) == col(Objective.team_id))
    if cycle_key:
        stmt = stmt.where(Objective.cycle_key == cycle_key)
    pairs = list(db_session.exec(stmt.order_by(col(Objective.cycle_key), col(Objective.id))).all())
    out: list[dict[str, object]] = []
    for state in _states(db_session, pairs, clock):
        o = state.objective
        out.append(
            {
                "id": state.ref,
                "cycle": o.cycle_key,
                "team": state.team.key if state.team else None,
                "owner": o.owner_id,
                "title": o.title,
                "description": o.description,
                "parent": format_id(Kind.OBJECTIVE, o.parent_id) if o.parent_id else None,
                "progress": round(state.progress, 4),
                "score": state.score,
                "status": state.status.value if state.status else None,
                "key_results": [
                    {
                        "id": k.ref,
                        "title": k.kr.title,
                        "start": k.kr.start,
                        "target": k.kr.target,
                        "current": k.kr.current,
                        "unit": k.kr.unit,
                        "weight": k.kr.weight,
                        "confidence": k.kr.confidence,
                        "progress": round(k.progress, 4),
                        "status": k.status.value,
                        "last_checkin_at": k.kr.last_checkin_at.isoformat() if k.kr.last_checkin_at else None,
                    }
                    for k in state.krs
                ],
            }
        )
    return out
