"""OKR domain logic over a database session: queries, permissions and changes. No Slack imports.

Everything a user can ask or change about OKRs goes through here, from Slack, the CLI or the
demo alike, so the rules live in one place. The pure rules — cycles, progress, score, status and
input checks — are in `scoring.py`; CSV import and export in `csv_io.py`. Here:

* everyone reads everything; the owner, the owner of the parent objective or an admin writes.

Functions are keyword-only and take the session first, so a caller decides the unit of work.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from bot.common import audit
from bot.common.errors import Forbidden, NotFound, UserError
from bot.common.ids import Kind, format_id
from bot.okrs.checks import (
    DESCRIPTION_LIMIT,
    NOTE_LIMIT,
    UNIT_LIMIT,
    Mode,
    check_confidence,
    check_target,
    check_value,
    check_weight,
    clean_text,
    clean_title,
    fmt_number,
    resolve,
)
from bot.okrs.scoring import (
    SEVERITY,
    TROUBLE,
    Clock,
    CycleSpan,
    KrState,
    ObjectiveState,
    effective_weights,
    kr_state,
    objective_state,
)
from storage.models import Team, TeamMember
from storage.models.okrs import CheckIn, KeyResult, Objective, OkrCycle

MAX_KRS_PER_OBJECTIVE = 25


# --------------------------------------------------------------------------------------------
# Cycles
# --------------------------------------------------------------------------------------------


def ensure_cycle(*, db_session: Session, span: CycleSpan, now: datetime | None = None) -> OkrCycle:
    cycle = db_session.get(OkrCycle, span.key)
    if cycle is None:
        cycle = OkrCycle(key=span.key, starts_on=span.starts_on, ends_on=span.ends_on)
        if now is not None:
            cycle.created_at = now
        db_session.add(cycle)
        db_session.flush()
    return cycle


def check_open(*, clock: Clock, cycle_key: str) -> CycleSpan:
    """The cycles people may plan in from Slack: the current one, and the next one once it is open
    for drafting (15 days before it starts). Past cycles are closed; later ones not open yet.
    (The CSV import may load any cycle: it is how history is brought in.)"""
    span = clock.span(cycle_key)
    current = clock.current()
    if span.key == current.key:
        return span
    if span.starts_on < current.starts_on:
        raise UserError(f"Cycle {span.key} has ended — new objectives go into {current.key} or later.")
    opens = clock.drafting_opens(span)
    if clock.now() < opens:
        raise UserError(
            f"Cycle {span.key} opens for drafting on {opens.astimezone(clock.tz):%b %-d} "
            f"(15 days before it starts); until then objectives go into {current.key}."
        )
    return span


def drafting_cycle(clock: Clock) -> CycleSpan | None:
    """The next cycle when it is open for drafting, else None."""
    upcoming = clock.next(clock.current())
    return upcoming if clock.now() >= clock.drafting_opens(upcoming) else None


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


def key_results_for(db_session: Session, objective_ids: Iterable[int]) -> dict[int, list[KeyResult]]:
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


def states_for(
    db_session: Session, pairs: Sequence[tuple[Objective, Team | None]], clock: Clock
) -> list[ObjectiveState]:
    krs = key_results_for(db_session, (o.id for o, _ in pairs if o.id is not None))
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
# Only what a render needs. Timestamps (which status needs) come as epoch seconds computed by the
# database: converting a datetime per row is the costliest part of a row, a float costs nothing.
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
_K_TIMES = ["confidence_at", "last_checkin_at", "created_at"]


def _epoch_of(dialect: str, column: Any) -> Any:
    if dialect == "postgresql":
        return sa.extract("epoch", column)
    # SQLite stores UTC as `YYYY-MM-DD HH:MM:SS.ffffff`; julianday keeps the fraction.
    return (func.julianday(column) - 2440587.5) * 86400.0


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
    weight: float | None
    confidence: int | None
    confidence_at: float | None  # epoch seconds
    last_checkin_at: float | None
    created_at: float | None


@dataclass(slots=True, frozen=True)
class TeamRow:
    id: int
    key: str
    name: str


def _snapshot_statement(dialect: str, *where: Any) -> Any:
    columns = [
        *(_O.c[name] for name in _O_COLS),
        _T.c.key,
        _T.c.name,
        *(_K.c[name] for name in _K_COLS),
        *(_epoch_of(dialect, _K.c[name]) for name in _K_TIMES),
    ]
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
    state = states_for(db_session, [(objective, team)], clock)[0]
    if objective.parent_id:
        state.parent = db_session.get(Objective, objective.parent_id)
    children = db_session.exec(
        _with_team(col(Objective.parent_id) == objective.id).order_by(col(Objective.id))
    ).all()
    state.children = states_for(db_session, list(children), clock)
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


def kr_state_of(db_session: Session, kr: KeyResult, objective: Objective, clock: Clock) -> KrState:
    """One KR's state with its real share of the objective (its siblings' weights decide it)."""
    siblings = key_results_for(db_session, [objective.id or 0]).get(objective.id or 0) or [kr]
    for state in objective_state(objective, None, siblings, clock).krs:
        if state.kr.id == kr.id:
            return state
    return kr_state(kr, clock.moment(objective.cycle_key))


@dataclass
class Earlier:
    """A KR this one was carried over from, with the newest of its check-ins."""

    kr: KeyResult
    cycle_key: str
    checkins: list[CheckIn]
    total: int


@dataclass
class History:
    kr: KeyResult
    objective: Objective
    state: KrState
    checkins: list[CheckIn]
    total: int
    earlier: list[Earlier] = field(default_factory=list)  # newest first: the KR it continues, …
    carried_to: list[tuple[KeyResult, str]] = field(default_factory=list)  # (KR, its cycle)


def _checkins_page(db_session: Session, kr_id: int, limit: int) -> tuple[list[CheckIn], int]:
    rows = db_session.exec(
        select(CheckIn)
        .where(CheckIn.key_result_id == kr_id)
        .order_by(col(CheckIn.at).desc(), col(CheckIn.id).desc())
        .limit(limit)
    ).all()
    total = db_session.exec(
        select(func.count()).select_from(CheckIn).where(CheckIn.key_result_id == kr_id)
    ).one()
    return list(rows), int(total)


def history(*, db_session: Session, kr_id: int, clock: Clock, limit: int = 20) -> History:
    """A KR's check-ins, newest first (all of them are kept; `limit` only bounds the page), then
    those of the KRs it was carried over from, cycle by cycle, and where it was carried to."""
    kr, objective = objective_of_kr(db_session=db_session, kr_id=kr_id)
    rows, total = _checkins_page(db_session, kr_id, limit)
    earlier: list[Earlier] = []
    seen = {kr.id}
    previous = db_session.get(KeyResult, kr.carried_from_id) if kr.carried_from_id else None
    while previous is not None and previous.id not in seen and len(earlier) < 6:
        seen.add(previous.id)
        owner = db_session.get(Objective, previous.objective_id)
        page, count = _checkins_page(db_session, previous.id or 0, max(3, limit // 3))
        earlier.append(Earlier(previous, owner.cycle_key if owner else "?", page, count))
        previous = db_session.get(KeyResult, previous.carried_from_id) if previous.carried_from_id else None
    later = db_session.exec(
        select(KeyResult, Objective.cycle_key)
        .join(Objective, col(Objective.id) == col(KeyResult.objective_id))
        .where(KeyResult.carried_from_id == kr_id)
    ).all()
    return History(
        kr=kr,
        objective=objective,
        state=kr_state_of(db_session, kr, objective, clock),
        checkins=rows,
        total=total,
        earlier=earlier,
        carried_to=[(k, c) for k, c in later],
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
    states = states_for(db_session, [(n.objective, teams.get(n.objective.team_id)) for n in shown], clock)
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
    states = states_for(db_session, pairs, clock)
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
        .order_by(col(KeyResult.objective_id), col(KeyResult.position), col(KeyResult.id))
    ).all()
    by_objective: dict[int, tuple[Objective, Team | None, list[KeyResult]]] = {}
    for kr, o, t in rows:
        by_objective.setdefault(o.id or 0, (o, t, []))[2].append(kr)
    items = [
        RiskItem(k, o, t)
        for o, t, krs in by_objective.values()
        for k in objective_state(o, t, krs, clock).krs
    ]
    risky = [i for i in items if i.state.status in TROUBLE]
    risky.sort(key=lambda i: (-SEVERITY[i.state.status], i.state.progress, i.state.kr.id or 0))
    return risky


@dataclass
class CycleInfo:
    span: CycleSpan
    days_left: int
    elapsed: float
    objectives: int
    key_results: int
    review_opens: datetime | None = None  # when owners are asked for the review
    next_span: CycleSpan | None = None
    drafting_opens: datetime | None = None  # when the next cycle opens for drafting
    drafting_open: bool = False


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
        review_opens=clock.review_opens(span),
        next_span=clock.next(span),
        drafting_opens=clock.drafting_opens(clock.next(span)),
        drafting_open=now >= clock.drafting_opens(clock.next(span)),
    )


def parent_candidates(
    *,
    db_session: Session,
    clock: Clock,
    query: str = "",
    limit: int = 100,
    team_ids: Iterable[int] = (),
    cycle_key: str | None = None,
) -> list[Objective]:
    """Objectives of the current cycle (or `cycle_key`) a new one can align to, for the parent picker.

    With no `query`, the top of the alignment tree: company objectives (no parent), then those
    of `team_ids` (the asker's teams), then the rest. With a query, the objectives it matches, most
    relevant first: the exact ref (`O-12`, `o12`), the picker's own label (`O-12 Grow…`), a title
    that starts with the query, a title that contains it, then refs that start with the number
    typed (`O-1` → O-10, O-11…); within a rank, company objectives first, then by number.
    Case-insensitive; LIKE's wildcards in the query are matched literally.
    """
    key = cycle_key or clock.current().key
    text = " ".join((query or "").split()).lower()
    base = select(Objective).where(Objective.cycle_key == key)
    if not text:
        teams = [t for t in team_ids if t is not None]
        order: list[Any] = [col(Objective.parent_id).is_not(None)]
        if teams:
            order.append(sa.case((col(Objective.team_id).in_(teams), 0), else_=1))
        return list(db_session.exec(base.order_by(*order, col(Objective.id)).limit(limit)).all())

    def like(pattern: str) -> Any:
        return func.lower(Objective.title).like(pattern, escape="\\")

    def literal(part: str) -> str:
        return part.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

    ranks: list[tuple[Any, int]] = []
    ref = re.fullmatch(r"o-?(\d{1,9})", text)
    labelled = re.fullmatch(r"o-?(\d{1,9}) (.+)", text)
    if ref:
        ranks.append((col(Objective.id) == int(ref.group(1)), 0))
    if labelled:
        number, rest = int(labelled.group(1)), literal(labelled.group(2))
        ranks.append(((col(Objective.id) == number) & like(f"{rest}%"), 1))
    ranks.append((like(f"{literal(text)}%"), 2))
    ranks.append((like(f"%{literal(text)}%"), 3))
    if ref:
        ranks.append((sa.cast(col(Objective.id), sa.String).like(f"{int(ref.group(1))}%"), 4))
    rank = sa.case(*ranks, else_=None)
    stmt = (
        base.where(rank.is_not(None))
        .order_by(rank, col(Objective.parent_id).is_not(None), col(Objective.id))
        .limit(limit)
    )
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
    require_open: bool = False,
    carried_from_id: int | None = None,
) -> Objective:
    """A new objective in the current cycle (or `cycle_key`), owned by the actor unless an admin says so.

    `require_open` (every Slack path) allows only the current cycle and the next one once it is open
    for drafting; the CSV import and tests may write any cycle.
    """
    title = clean_title(title, what="objective title")
    description = clean_text(description, what="description", limit=DESCRIPTION_LIMIT, required=False)
    owner = owner_id or actor_id
    if owner != actor_id and not is_admin:
        raise Forbidden("Only an admin can create an objective for someone else.")
    if require_open:
        span = check_open(clock=clock, cycle_key=cycle_key or clock.current().key)
    else:
        span = clock.span(cycle_key) if cycle_key else clock.current()
    now = clock.now()
    ensure_cycle(db_session=db_session, span=span, now=now)
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
        carried_from_id=carried_from_id,
        created_at=now,
        updated_at=now,
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
    *,
    db_session: Session,
    actor_id: str,
    is_admin: bool,
    objective_id: int,
    parent_id: int | None,
    clock: Clock,
) -> Objective:
    """Align an objective to another of the same cycle (or to none); refuses loops."""
    objective = get_objective(db_session=db_session, objective_id=objective_id)
    require_edit(db_session=db_session, objective=objective, actor_id=actor_id, is_admin=is_admin)
    if parent_id is not None:
        if parent_id == objective_id:
            raise UserError(f"{format_id(Kind.OBJECTIVE, objective_id)} cannot be its own parent.")
        _check_parent(db_session, parent_id=parent_id, cycle_key=objective.cycle_key, child_id=objective_id)
    objective.parent_id = parent_id
    objective.updated_at = clock.now()
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


def weights_after(krs: Sequence[KeyResult], weight: float | None) -> str | None:
    """The warning the objective would show with one more KR of `weight` (None if none)."""
    return effective_weights([*(k.weight for k in krs), weight])[1]


def add_key_result(
    *,
    db_session: Session,
    actor_id: str,
    is_admin: bool,
    objective_id: int,
    title: str,
    target: float,
    clock: Clock,
    start: float = 0.0,
    unit: str = "",
    weight: float | None = None,
    current: float | None = None,
    carried_from_id: int | None = None,
) -> KeyResult:
    """A new KR; `weight` (0–1) is its share of the objective, None to share what others leave."""
    objective = get_objective(db_session=db_session, objective_id=objective_id)
    require_edit(db_session=db_session, objective=objective, actor_id=actor_id, is_admin=is_admin)
    title = clean_title(title, what="key result title")
    unit = clean_text(unit, what="unit", limit=UNIT_LIMIT, required=False)
    check_target(start, target)
    weight = check_weight(weight)
    count = db_session.exec(
        select(func.count()).select_from(KeyResult).where(KeyResult.objective_id == objective_id)
    ).one()
    if count >= MAX_KRS_PER_OBJECTIVE:
        raise UserError(
            f"{format_id(Kind.OBJECTIVE, objective_id)} already has {count} key results; that is the limit."
        )
    now = clock.now()
    kr = KeyResult(
        objective_id=objective_id,
        position=int(count),
        title=title,
        start=start,
        target=target,
        current=start if current is None else current,
        unit=unit,
        weight=weight,
        carried_from_id=carried_from_id,
        created_at=now,
        updated_at=now,
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


@dataclass
class CheckinResult:
    """What a check-in recorded, and what the answer must tell the person about it."""

    entry: CheckIn
    kr: KeyResult
    understood: str | None  # how a `%` or a progress was read
    notes: list[str]  # a value outside start…target, a confidence not given


def check_in(
    *,
    db_session: Session,
    actor_id: str,
    is_admin: bool,
    kr_id: int,
    value: float,
    clock: Clock,
    mode: Mode = Mode.VALUE,
    confidence: int | None = None,
    note: str = "",
    at: datetime | None = None,
) -> CheckinResult:
    """Record progress: a new check-in row (history is append-only) and the KR's latest value.

    `mode` says how `value` was typed (see `checks.resolve`); values the unit makes impossible are
    refused, values outside start…target are recorded with a note. The KR's confidence becomes the
    one given here — or none: an older confidence is not carried past a newer check-in.
    """
    kr, objective = objective_of_kr(db_session=db_session, kr_id=kr_id)
    require_edit(db_session=db_session, objective=objective, actor_id=actor_id, is_admin=is_admin)
    if not math.isfinite(value):
        raise UserError("The value is not a number.")
    confidence = check_confidence(confidence)
    note = clean_text(note, what="note", limit=NOTE_LIMIT, required=False)
    resolved = resolve(start=kr.start, target=kr.target, unit=kr.unit, number=value, mode=mode)
    notes = check_value(start=kr.start, target=kr.target, unit=kr.unit, value=resolved.value)
    now = clock.now()
    when = at or now
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    entry = CheckIn(
        key_result_id=kr_id,
        value=resolved.value,
        confidence=confidence,
        note=note,
        author_id=actor_id,
        at=when,
    )
    db_session.add(entry)
    if kr.last_checkin_at is None or when >= kr.last_checkin_at:
        kr.current = resolved.value
        kr.confidence = confidence
        kr.confidence_at = when if confidence is not None else None
        kr.last_checkin_at = when
    kr.updated_at = now
    db_session.add(kr)
    db_session.flush()
    audit.record(
        db_session=db_session,
        actor_id=actor_id,
        action="okr.checkin",
        record_type="key_result",
        record_id=format_id(Kind.KEY_RESULT, kr_id),
        detail=f"{fmt_number(resolved.value)}{f' conf {confidence}' if confidence else ''} {note}".strip(),
    )
    return CheckinResult(entry=entry, kr=kr, understood=resolved.understood, notes=notes)
