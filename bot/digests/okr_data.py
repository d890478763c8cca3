"""OKR queries the digest and the nudges need that `bot/okrs/service.py` does not have yet:
progress per team, check-ins in a window, top movers, stale key results.

They belong to the OKR feature (which is adding helpers of this kind); they live here until they
move, reading OKR tables only through the OKR models and the OKR scoring rules.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from bot.okrs.scoring import SEVERITY, Clock, KrState, Status, kr_progress, kr_state, objective_progress
from bot.okrs.service import KrRow, ObjectiveRow, RiskItem, TeamRow
from storage.models import Team
from storage.models.okrs import CheckIn, KeyResult, Objective


@dataclass
class TeamProgress:
    name: str
    key: str | None
    objectives: int = 0
    progress: float = 0.0  # mean progress of the team's objectives
    statuses: dict[Status, int] = field(default_factory=dict)  # KRs by status


@dataclass
class CycleSnapshot:
    """The current cycle at a glance: progress per team, and the KRs at risk or off track (worst
    first, like `/okr atrisk`). One query of plain rows — no ORM objects — since a digest run
    computes it for the whole company."""

    teams: list[TeamProgress]
    risks: list[RiskItem]


_O = Objective.__table__  # type: ignore[attr-defined]
_K = KeyResult.__table__  # type: ignore[attr-defined]
_T = Team.__table__  # type: ignore[attr-defined]
# The columns of the OKR feature's read-only rows, in their fields' order (the rows are built
# positionally, so deriving the lists from the dataclasses keeps the two in step).
_O_COLS = tuple(f.name for f in fields(ObjectiveRow))
_K_COLS = tuple(f.name for f in fields(KrRow))


def cycle_snapshot(*, db_session: Session, clock: Clock) -> CycleSnapshot:
    span = clock.current()
    rows = db_session.connection().execute(
        sa.select(*(_O.c[c] for c in _O_COLS), _T.c.id, _T.c.key, _T.c.name, *(_K.c[c] for c in _K_COLS))
        .select_from(_O.outerjoin(_T, _T.c.id == _O.c.team_id).outerjoin(_K, _K.c.objective_id == _O.c.id))
        .where(_O.c.cycle_key == span.key)
    )
    elapsed = span.elapsed(clock.now(), clock.tz)
    n, t = len(_O_COLS), len(_O_COLS) + 3
    objectives: dict[int, tuple[ObjectiveRow, TeamRow | None, list[KrState]]] = {}
    for row in rows:
        entry = objectives.get(row[0])
        if entry is None:
            team = TeamRow(row[n], row[n + 1], row[n + 2]) if row[n] is not None else None
            entry = objectives[row[0]] = (ObjectiveRow(*row[:n]), team, [])
        if row[t] is not None:
            entry[2].append(kr_state(KrRow(*row[t:]), elapsed))  # type: ignore[arg-type]
    groups: dict[str, TeamProgress] = {}
    sums: dict[str, float] = defaultdict(float)
    risks: list[RiskItem] = []
    for objective, team, krs in objectives.values():
        name = team.name if team else "No team"
        entry = groups.setdefault(name, TeamProgress(name=name, key=team.key if team else None))
        entry.objectives += 1
        sums[name] += objective_progress([k.kr for k in krs])  # type: ignore[misc]
        for k in krs:
            entry.statuses[k.status] = entry.statuses.get(k.status, 0) + 1
            if k.status != Status.ON_TRACK:
                risks.append(RiskItem(k, objective, team))  # type: ignore[arg-type]
    for name, entry in groups.items():
        entry.progress = sums[name] / entry.objectives
    risks.sort(key=lambda i: (-SEVERITY[i.state.status], i.state.progress, i.state.kr.id or 0))
    return CycleSnapshot(teams=sorted(groups.values(), key=lambda x: (-x.progress, x.name)), risks=risks)


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
    objective_id: int
    before: float  # progress at the start of the window
    delta: float  # progress now minus before (−1.0 … 1.0)


def movers(
    *, db_session: Session, since: datetime, until: datetime, clock: Clock, limit: int
) -> tuple[list[Mover], int]:
    """The current cycle's KRs whose progress changed most since `since` (either way)."""
    span = clock.current()
    # One pass over the cycle's KRs, each probed on the (key_result_id, at) index: did it get a
    # check-in in the window, and what was its value when the window opened?
    c = CheckIn.__table__.alias("c")  # type: ignore[attr-defined]
    in_window = sa.exists().where(c.c.key_result_id == _K.c.id, c.c.at > since, c.c.at <= until)
    before = (
        sa.select(c.c.value)
        .where(c.c.key_result_id == _K.c.id, c.c.at <= since)
        .order_by(c.c.at.desc())
        .limit(1)
        .scalar_subquery()
    )
    moved = (
        db_session.connection()
        .execute(
            sa.select(*(_K.c[col_] for col_ in _K_COLS), before)
            .select_from(_K.join(_O, _O.c.id == _K.c.objective_id))
            .where(_O.c.cycle_key == span.key, in_window)
        )
        .all()
    )
    if not moved:
        return [], 0
    before_values = {row[0]: row[-1] for row in moved if row[-1] is not None}
    elapsed = span.elapsed(clock.now(), clock.tz)
    out: list[Mover] = []
    for row in moved:
        kr = KrRow(*row[:-1])
        state = kr_state(kr, elapsed)  # type: ignore[arg-type]
        before = kr_progress(start=kr.start, target=kr.target, current=before_values.get(kr.id, kr.start))
        delta = state.progress - before
        if abs(delta) >= 0.005:
            out.append(Mover(state=state, objective_id=kr.objective_id, before=before, delta=delta))
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
