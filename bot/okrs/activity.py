"""What moved in the OKRs: progress per team, check-ins in a window, movers, key results gone quiet.
No Slack.

Read-only queries for the features that summarise OKRs — the digests (progress, at-risk, the
weekly nudge to owners without a check-in for 7 days) and the assistant. Each takes the session
and the OKR clock (`scoring.Clock.of(ctx)`) like the rest of the service, and is scoped to the
current cycle (and a team when given), so every surface shows the same numbers and the same
statuses as `/okr`: states come from `scoring.objective_state` over all of an objective's KRs (so
weights are real shares), never from a KR alone.

Two shapes of window: `checkins_since` / `top_movers` take "since a time, until now" (`at >=
since`); `checkins_between` / `movers_between` take a digest's period `(since, until]` — what the
last digest did not cover, up to this one — and say how many there were in all, for "and N more".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy import func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.okrs import queries, service, snapshot
from bot.okrs.queries import RiskItem
from bot.okrs.scoring import Clock, KrState, ObjectiveState, Status, kr_progress, objective_state
from storage.models import Team
from storage.models.okrs import CheckIn, KeyResult, Objective

STALE_AFTER = timedelta(days=7)
# Objective ids per `IN (…)` when loading siblings: well under SQLite's and PostgreSQL's limits
# on bound parameters, whatever the size of the company.
_CHUNK = 500

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    """The first items of a list, and how many there were in all (for "…and N more")."""

    items: list[T]
    total: int


def _states(
    db_session: Session, clock: Clock, pairs: Sequence[tuple[KeyResult, Objective]]
) -> dict[int, KrState]:
    """The states of the KRs in `pairs`, each computed with all of its objective's KRs (weights are
    shares of the objective), in one query per 500 objectives rather than one per KR."""
    objectives = {o.id or 0: o for _, o in pairs}
    ids = list(objectives)
    siblings: dict[int, list[KeyResult]] = {}
    for i in range(0, len(ids), _CHUNK):
        siblings.update(service.key_results_for(db_session, ids[i : i + _CHUNK]))
    out: dict[int, KrState] = {}
    for oid, objective in objectives.items():
        for state in objective_state(objective, None, siblings.get(oid, []), clock).krs:
            out[state.kr.id or 0] = state
    return out


# --------------------------------------------------------------------------------------------
# Progress per team
# --------------------------------------------------------------------------------------------


@dataclass
class TeamProgress:
    name: str
    key: str | None  # None: objectives without a team
    objectives: int = 0
    progress: float = 0.0  # the mean of the team's objectives' (weighted) progress
    statuses: dict[Status, int] = field(default_factory=dict)  # the team's KRs by status


@dataclass
class CycleProgress:
    """The current cycle at a glance: progress per team (best first), and the KRs at risk or off
    track, worst first like `/okr atrisk` (`queries.risk_items`)."""

    cycle_key: str
    teams: list[TeamProgress]
    risks: list[RiskItem]
    states: list[ObjectiveState] = field(default_factory=list, repr=False)  # every objective


def cycle_progress(*, db_session: Session | sa.Connection, clock: Clock) -> CycleProgress:
    """Progress per team and the KRs in trouble, from one read of the whole current cycle (the hot
    path's aggregated query: a digest run asks once for every channel). Objectives without a team
    are grouped as "No team"; the records are read-only (`queries.RiskItem.team` is a `TeamRow`)."""
    key = clock.current().key
    states = snapshot.objectives_of_cycle(db_session=db_session, clock=clock, cycle_key=key)
    groups: dict[int | None, TeamProgress] = {}
    for state in states:
        team = state.team
        entry = groups.get(team.id if team else None)
        if entry is None:
            entry = groups[team.id if team else None] = TeamProgress(
                name=team.name if team else "No team", key=team.key if team else None
            )
        entry.objectives += 1
        entry.progress += state.progress
        for k in state.krs:
            entry.statuses[k.status] = entry.statuses.get(k.status, 0) + 1
    for entry in groups.values():
        entry.progress /= entry.objectives
    teams = sorted(groups.values(), key=lambda t: (-t.progress, t.name))
    return CycleProgress(cycle_key=key, teams=teams, risks=queries.risk_items(states), states=states)


# --------------------------------------------------------------------------------------------
# Check-ins
# --------------------------------------------------------------------------------------------


@dataclass
class CheckinEvent:
    checkin: CheckIn
    kr: KeyResult
    objective: Objective
    previous: float | None = None  # the KR's value before this check-in; None: none before (its start)


def _in_cycle(clock: Clock, team: Team | None) -> list[Any]:
    where: list[Any] = [Objective.cycle_key == clock.current().key]
    if team is not None:
        where.append(Objective.team_id == team.id)
    return where


def _checkins(db_session: Session, where: list[Any], limit: int) -> list[CheckinEvent]:
    """The newest check-ins matching `where`, each with the value of the check-in before it (the
    (key_result_id, at) index answers that per row; ties on `at` go by id, like the history)."""
    prior = aliased(CheckIn)
    previous = (
        sa.select(prior.value)
        .where(
            prior.key_result_id == CheckIn.key_result_id,
            or_(prior.at < CheckIn.at, (prior.at == CheckIn.at) & (prior.id < CheckIn.id)),
        )
        .order_by(prior.at.desc(), prior.id.desc())
        .limit(1)
        .correlate(CheckIn)
        .scalar_subquery()
    )
    rows = db_session.exec(
        select(CheckIn, KeyResult, Objective, previous)
        .join(KeyResult, col(KeyResult.id) == col(CheckIn.key_result_id))
        .join(Objective, col(Objective.id) == col(KeyResult.objective_id))
        .where(*where)
        .order_by(col(CheckIn.at).desc(), col(CheckIn.id).desc())
        .limit(limit)
    ).all()
    return [CheckinEvent(c, k, o, p) for c, k, o, p in rows]


def checkins_since(
    *, db_session: Session, clock: Clock, since: datetime, team: Team | None = None, limit: int = 200
) -> list[CheckinEvent]:
    """The current cycle's check-ins at or after `since`, newest first."""
    return _checkins(db_session, [*_in_cycle(clock, team), col(CheckIn.at) >= since], limit)


def checkins_between(
    *,
    db_session: Session,
    clock: Clock,
    since: datetime,
    until: datetime,
    team: Team | None = None,
    limit: int = 200,
) -> Page[CheckinEvent]:
    """The current cycle's check-ins in `(since, until]`, newest first, each with the value before
    it — and how many there were in the window."""
    where = [*_in_cycle(clock, team), col(CheckIn.at) > since, col(CheckIn.at) <= until]
    total = db_session.exec(
        select(func.count())
        .select_from(CheckIn)
        .join(KeyResult, col(KeyResult.id) == col(CheckIn.key_result_id))
        .join(Objective, col(Objective.id) == col(KeyResult.objective_id))
        .where(*where)
    ).one()
    return Page(_checkins(db_session, where, limit), int(total))


# --------------------------------------------------------------------------------------------
# Movers
# --------------------------------------------------------------------------------------------


@dataclass
class Mover:
    state: KrState  # the KR as it is now (a read-only `snapshot.KrRow` in `state.kr`)
    objective: Objective  # a read-only `snapshot.ObjectiveRow` in its place
    before: float  # its progress at `since` (0–1)

    @property
    def gain(self) -> float:
        """Progress now minus progress then: negative when the KR fell back (−1.0 … 1.0)."""
        return self.state.progress - self.before


_O, _K = snapshot.OBJECTIVES, snapshot.KEY_RESULTS
_C = CheckIn.__table__  # type: ignore[attr-defined]


def _moved(
    db_session: Session,
    clock: Clock,
    team: Team | None,
    *,
    window: Callable[[Any], list[Any]],  # conditions on a check-ins alias: in the window
    earlier: Callable[[Any], Any],  # condition on a check-ins alias: before the window
    cycle: Sequence[ObjectiveState] | None = None,
) -> list[Mover]:
    """Every KR of the current cycle with a check-in in the window, with its progress when the
    window opened (its last check-in before it, else its start).

    No ORM instances (a busy week moves hundreds of KRs): the moved KRs' values then, each probed
    on the (key_result_id, at) index; then the states of their objectives with all their KRs (so
    each has its real weight) — from `cycle` when the caller holds the cycle already
    (`CycleProgress.states`), else as the hot path's aggregated snapshot of just those objectives.
    """
    key = clock.current().key
    scope = [_O.c.cycle_key == key, *([_O.c.team_id == team.id] if team is not None else [])]
    before, inside = _C.alias("before"), _C.alias("inside")
    value_then = (
        sa.select(before.c.value)
        .where(before.c.key_result_id == _K.c.id, earlier(before))
        .order_by(before.c.at.desc(), before.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    in_window = sa.exists().where(inside.c.key_result_id == _K.c.id, *window(inside))
    moved = dict(
        db_session.connection()
        .execute(
            sa.select(_K.c.id, value_then)
            .select_from(_K.join(_O, _O.c.id == _K.c.objective_id))
            .where(*scope, in_window)
        )
        .all()
    )
    if not moved:
        return []
    if cycle is None:
        k = _K.alias("moved")
        with_moved = sa.select(k.c.objective_id).join(inside, inside.c.key_result_id == k.c.id)
        cycle = snapshot.objectives_matching(
            db_session=db_session,
            clock=clock,
            where=[*scope, _O.c.id.in_(with_moved.where(*window(inside)))],
        )
    out: list[Mover] = []
    for objective in cycle:
        if team is not None and objective.objective.team_id != team.id:
            continue
        for state in objective.krs:
            if state.kr.id in moved:
                kr, then = state.kr, moved[state.kr.id]
                value = kr.start if then is None else then
                then_progress = kr_progress(start=kr.start, target=kr.target, current=value)
                out.append(Mover(state, objective.objective, then_progress))
    return out


def top_movers(
    *, db_session: Session, clock: Clock, since: datetime, team: Team | None = None, limit: int = 5
) -> list[Mover]:
    """The KRs whose progress rose most since `since` (their value then: the last check-in before
    it, else their start), biggest gain first; KRs that did not move are left out."""
    movers = _moved(
        db_session,
        clock,
        team,
        window=lambda c: [c.c.at >= since],
        earlier=lambda c: c.c.at < since,
    )
    rising = [m for m in movers if m.gain > 1e-9]
    rising.sort(key=lambda m: (-m.gain, m.state.kr.id or 0))
    return rising[:limit]


def movers_between(
    *,
    db_session: Session,
    clock: Clock,
    since: datetime,
    until: datetime,
    team: Team | None = None,
    limit: int = 5,
    min_change: float = 0.005,
    cycle: CycleProgress | None = None,
) -> Page[Mover]:
    """The KRs checked in during `(since, until]` whose progress changed most since `since`, either
    way — a KR that fell back is news too — biggest change first, and how many changed by at
    least `min_change` (0.005: what shows as a whole percentage point). `cycle`: the current
    cycle's `cycle_progress`, when the caller has it, saves reading the objectives again."""
    movers = _moved(
        db_session,
        clock,
        team,
        window=lambda c: [c.c.at > since, c.c.at <= until],
        earlier=lambda c: c.c.at <= since,
        cycle=cycle.states if cycle is not None else None,
    )
    changed = [m for m in movers if abs(m.gain) >= min_change]
    changed.sort(key=lambda m: (-abs(m.gain), m.state.kr.id or 0))
    return Page(changed[:limit], len(changed))


# --------------------------------------------------------------------------------------------
# Gone quiet
# --------------------------------------------------------------------------------------------


@dataclass
class Quiet:
    state: KrState
    objective: Objective
    last: datetime | None  # the last check-in, None if it never had one


def stale_key_results(
    *, db_session: Session, clock: Clock, older_than: timedelta = STALE_AFTER, team: Team | None = None
) -> list[Quiet]:
    """The current cycle's unfinished KRs without a check-in for `older_than` (7 days): the
    weekly nudge's list, by owner then KR. A KR that never had one counts from its creation (or
    the cycle start); a *done* KR is never on it. The database picks the quiet ones (the nudge
    job asks every minute), and only those get states."""
    cutoff = clock.now() - older_than
    start = clock.current().bounds(clock.tz)[0]
    quiet = col(KeyResult.last_checkin_at) <= cutoff
    if start <= cutoff:
        quiet = or_(quiet, col(KeyResult.last_checkin_at).is_(None) & (col(KeyResult.created_at) <= cutoff))
    rows = db_session.exec(
        select(KeyResult, Objective)
        .join(Objective, col(Objective.id) == col(KeyResult.objective_id))
        .where(*_in_cycle(clock, team), quiet)
        .order_by(col(Objective.owner_id), col(KeyResult.id))
    ).all()
    states = _states(db_session, clock, rows)
    return [
        Quiet(states[kr.id or 0], objective, kr.last_checkin_at)
        for kr, objective in rows
        if states[kr.id or 0].status != Status.DONE
    ]
