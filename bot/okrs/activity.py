"""What moved in the OKRs: check-ins since a time, top movers, key results gone quiet. No Slack.

Read-only queries for the features that summarise OKRs — the digests (progress, at-risk, the
weekly nudge to owners without a check-in for 7 days) and the assistant. Each takes the session
and the OKR clock like the rest of the service, and is scoped to the current cycle (and a team
when given), so every surface shows the same numbers as `/okr`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.okrs import service
from bot.okrs.scoring import Clock, KrState, Status, kr_progress
from storage.models import Team
from storage.models.okrs import CheckIn, KeyResult, Objective

STALE_AFTER = timedelta(days=7)


@dataclass
class CheckinEvent:
    checkin: CheckIn
    kr: KeyResult
    objective: Objective


def checkins_since(
    *, db_session: Session, clock: Clock, since: datetime, team: Team | None = None, limit: int = 200
) -> list[CheckinEvent]:
    """The current cycle's check-ins at or after `since`, newest first."""
    stmt = (
        select(CheckIn, KeyResult, Objective)
        .join(KeyResult, col(KeyResult.id) == col(CheckIn.key_result_id))
        .join(Objective, col(Objective.id) == col(KeyResult.objective_id))
        .where(Objective.cycle_key == clock.current().key, col(CheckIn.at) >= since)
    )
    if team is not None:
        stmt = stmt.where(Objective.team_id == team.id)
    rows = db_session.exec(stmt.order_by(col(CheckIn.at).desc(), col(CheckIn.id).desc()).limit(limit)).all()
    return [CheckinEvent(c, k, o) for c, k, o in rows]


@dataclass
class Mover:
    state: KrState  # the KR as it is now
    objective: Objective
    before: float  # its progress at `since` (0–1)

    @property
    def gain(self) -> float:
        return self.state.progress - self.before


def top_movers(
    *, db_session: Session, clock: Clock, since: datetime, team: Team | None = None, limit: int = 5
) -> list[Mover]:
    """The KRs whose progress rose most since `since` (their value then: the last check-in before
    it, else their start), biggest gain first; KRs that did not move are left out."""
    events = checkins_since(db_session=db_session, clock=clock, since=since, team=team, limit=10_000)
    kr_ids = {e.kr.id for e in events}
    if not kr_ids:
        return []
    earlier: dict[int, float] = {}
    rows = db_session.exec(
        select(CheckIn.key_result_id, CheckIn.value, CheckIn.at)
        .where(col(CheckIn.key_result_id).in_(kr_ids), col(CheckIn.at) < since)
        .order_by(col(CheckIn.at))
    ).all()
    for kr_id, value, _at in rows:
        earlier[kr_id] = value  # ordered by time: the last one before `since` wins
    movers: list[Mover] = []
    seen: set[int] = set()
    for e in events:
        if e.kr.id in seen:
            continue
        seen.add(e.kr.id or 0)
        before = kr_progress(
            start=e.kr.start, target=e.kr.target, current=earlier.get(e.kr.id or 0, e.kr.start)
        )
        state = service.kr_state_of(db_session, e.kr, e.objective, clock)
        if state.progress - before > 1e-9:
            movers.append(Mover(state, e.objective, before))
    movers.sort(key=lambda m: (-m.gain, m.state.kr.id or 0))
    return movers[:limit]


@dataclass
class Quiet:
    state: KrState
    objective: Objective
    last: datetime | None  # the last check-in, None if it never had one


def stale_key_results(
    *, db_session: Session, clock: Clock, older_than: timedelta = STALE_AFTER, team: Team | None = None
) -> list[Quiet]:
    """The current cycle's unfinished KRs without a check-in for `older_than` (7 days): the
    weekly nudge's list. A KR that never had one counts from its creation (or the cycle start)."""
    cutoff = clock.now() - older_than
    stmt = (
        select(KeyResult, Objective)
        .join(Objective, col(Objective.id) == col(KeyResult.objective_id))
        .where(Objective.cycle_key == clock.current().key)
    )
    if team is not None:
        stmt = stmt.where(Objective.team_id == team.id)
    start = clock.current().bounds(clock.tz)[0]
    out: list[Quiet] = []
    for kr, objective in db_session.exec(stmt.order_by(col(Objective.owner_id), col(KeyResult.id))).all():
        since = kr.last_checkin_at or max(kr.created_at, start)
        if since > cutoff:
            continue
        state = service.kr_state_of(db_session, kr, objective, clock)
        if state.status != Status.DONE:
            out.append(Quiet(state, objective, kr.last_checkin_at))
    return out
