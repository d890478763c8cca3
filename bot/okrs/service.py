"""OKR domain logic over a database session: queries, permissions and changes. No Slack imports.

Everything a user can change about OKRs goes through here, from Slack, the CLI or the demo alike,
so the rules live in one place. The pure rules — cycles, progress, score and status — are in
`scoring.py`, input checks in `checks.py`; the hot-path reads in `snapshot.py` (re-exported here),
the other reads in `queries.py`; CSV import and export in `csv_io.py`; the cycle review in
`review.py`. Here:

* everyone reads everything; the owner, the owner of the parent objective or an admin writes.

Functions are keyword-only and take the session first, so a caller decides the unit of work.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

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
    Clock,
    CycleSpan,
    KrState,
    ObjectiveState,
    effective_weights,
    kr_state,
    objective_state,
)

# The hot path, re-exported: callers (and bench/okr_ack.py) know it as `service.objectives_of`.
from bot.okrs.snapshot import _statement, objectives_of, objectives_of_team  # noqa: F401
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
