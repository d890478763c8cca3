"""OKR queries the digest and the nudges need that `bot/okrs/service.py` does not have yet:
progress per team, check-ins in a window, top movers, stale key results.

They belong to the OKR feature (which is adding helpers of this kind); they live here until they
move, reading OKR tables only through the OKR models and the OKR scoring rules.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from bot.okrs import service as okr_service
from bot.okrs.scoring import Clock, KrState, Status, kr_progress, kr_state
from storage.models import Team
from storage.models.okrs import CheckIn, KeyResult, Objective


@dataclass
class TeamProgress:
    name: str
    key: str | None
    objectives: int = 0
    progress: float = 0.0  # mean progress of the team's objectives
    statuses: dict[Status, int] = field(default_factory=dict)  # KRs by status


def team_progress(*, db_session: Session, clock: Clock) -> list[TeamProgress]:
    """Every team with objectives in the current cycle, best progress first."""
    span = clock.current()
    pairs = db_session.exec(
        select(Objective, Team)
        .outerjoin(Team, col(Team.id) == col(Objective.team_id))
        .where(Objective.cycle_key == span.key)
    ).all()
    states = okr_service.states_for(db_session, list(pairs), clock)
    groups: dict[str, TeamProgress] = {}
    sums: dict[str, float] = defaultdict(float)
    for s in states:
        name = s.team.name if s.team else "No team"
        entry = groups.setdefault(name, TeamProgress(name=name, key=s.team.key if s.team else None))
        entry.objectives += 1
        sums[name] += s.progress
        for k in s.krs:
            entry.statuses[k.status] = entry.statuses.get(k.status, 0) + 1
    for name, entry in groups.items():
        entry.progress = sums[name] / entry.objectives
    return sorted(groups.values(), key=lambda t: (-t.progress, t.name))


@dataclass
class CheckinRow:
    checkin: CheckIn
    kr: KeyResult
    objective: Objective
    previous: float | None  # the value before this check-in (None: the KR's start)


def checkins_between(
    *, db_session: Session, since: datetime, until: datetime, limit: int
) -> tuple[list[CheckinRow], int]:
    """The newest check-ins in (since, until], and how many there were."""
    window = (col(CheckIn.at) > since) & (col(CheckIn.at) <= until)
    total = int(db_session.exec(select(func.count()).select_from(CheckIn).where(window)).one())
    rows = db_session.exec(
        select(CheckIn, KeyResult, Objective)
        .join(KeyResult, col(KeyResult.id) == col(CheckIn.key_result_id))
        .join(Objective, col(Objective.id) == col(KeyResult.objective_id))
        .where(window)
        .order_by(col(CheckIn.at).desc(), col(CheckIn.id).desc())
        .limit(limit)
    ).all()
    out: list[CheckinRow] = []
    for checkin, kr, objective in rows:
        previous = db_session.exec(
            select(CheckIn.value)
            .where(CheckIn.key_result_id == kr.id, col(CheckIn.at) < checkin.at)
            .order_by(col(CheckIn.at).desc())
            .limit(1)
        ).first()
        out.append(CheckinRow(checkin, kr, objective, previous))
    return out, total


@dataclass
class Mover:
    state: KrState
    objective: Objective
    before: float  # progress at the start of the window
    delta: float  # progress now minus before (−1.0 … 1.0)


def movers(
    *, db_session: Session, since: datetime, until: datetime, clock: Clock, limit: int
) -> tuple[list[Mover], int]:
    """The current cycle's KRs whose progress changed most since `since` (either way)."""
    span = clock.current()
    moved = db_session.exec(
        select(KeyResult, Objective)
        .join(Objective, col(Objective.id) == col(KeyResult.objective_id))
        .where(
            Objective.cycle_key == span.key,
            col(KeyResult.id).in_(
                select(CheckIn.key_result_id).where(col(CheckIn.at) > since, col(CheckIn.at) <= until)
            ),
        )
    ).all()
    if not moved:
        return [], 0
    ids = [kr.id for kr, _ in moved]
    latest_before = (
        select(CheckIn.key_result_id, func.max(CheckIn.at).label("at"))
        .where(col(CheckIn.key_result_id).in_(ids), col(CheckIn.at) <= since)
        .group_by(col(CheckIn.key_result_id))
        .subquery()
    )
    before_values = dict(
        db_session.exec(
            select(CheckIn.key_result_id, CheckIn.value).join(
                latest_before,
                (col(CheckIn.key_result_id) == latest_before.c.key_result_id)
                & (col(CheckIn.at) == latest_before.c.at),
            )
        ).all()
    )
    elapsed = span.elapsed(clock.now(), clock.tz)
    out: list[Mover] = []
    for kr, objective in moved:
        state = kr_state(kr, elapsed)
        before = kr_progress(start=kr.start, target=kr.target, current=before_values.get(kr.id, kr.start))
        delta = state.progress - before
        if abs(delta) >= 0.005:
            out.append(Mover(state=state, objective=objective, before=before, delta=delta))
    out.sort(key=lambda m: (-abs(m.delta), m.state.kr.id or 0))
    return out[:limit], len(out)


@dataclass
class StaleKr:
    state: KrState
    objective: Objective


def stale_krs(*, db_session: Session, clock: Clock, cutoff: datetime) -> dict[str, list[StaleKr]]:
    """Unfinished KRs of the current cycle with no check-in since `cutoff`, by objective owner."""
    span = clock.current()
    rows = db_session.exec(
        select(KeyResult, Objective)
        .join(Objective, col(Objective.id) == col(KeyResult.objective_id))
        .where(
            Objective.cycle_key == span.key,
            or_(
                col(KeyResult.last_checkin_at) < cutoff,
                col(KeyResult.last_checkin_at).is_(None) & (col(KeyResult.created_at) < cutoff),
            ),
        )
        .order_by(col(Objective.owner_id), col(KeyResult.id))
    ).all()
    elapsed = span.elapsed(clock.now(), clock.tz)
    by_owner: dict[str, list[StaleKr]] = defaultdict(list)
    for kr, objective in rows:
        state = kr_state(kr, elapsed)
        if state.progress < 1.0:
            by_owner[objective.owner_id].append(StaleKr(state, objective))
    return dict(by_owner)
