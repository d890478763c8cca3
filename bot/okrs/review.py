"""The cycle review (复盘): final scores, reflections, the review report, subscriptions, carry-over.

No Slack imports. The calendar, in the company's zone (`FLYWHEEL_TIMEZONE`):

* 15 days before a cycle starts it opens for drafting (`service.check_open`), and unfinished KRs of
  the cycle before it can be carried over into it;
* 7 days before a cycle ends, each owner is asked (once) to give every KR a final 0.0–1.0 score —
  the computed score is the default — and to write, per objective, what worked, what didn't and
  what next; they can do so until 14 days after the end;
* from noon on its last day the review — per team and for the company — is posted (once) to the
  channels that subscribed.

The same permission rule as every other change applies: the owner, the parent's owner or an admin.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlmodel import Session, col, select

from bot.common import audit
from bot.common.errors import UserError
from bot.common.ids import Kind, format_id
from bot.okrs import service
from bot.okrs.checks import REFLECTION_LIMIT, clean_text, fmt_number
from bot.okrs.scoring import Clock, CycleSpan, KrState, ObjectiveState, kr_progress, score
from storage.models import Team
from storage.models.okrs import KeyResult, Objective, OkrReflection, OkrReviewSubscription

MET = 0.7  # an objective scoring at least this is met (Google's "0.7 is success")
WRITE_GRACE = timedelta(days=14)  # final scores and reflections can be written until end + this
POST_AT = time(12, 0)  # the review is posted from this time on the cycle's last day
POST_GRACE = timedelta(days=3)  # …and, if the bot was down, up to this long after the end
# Score bands, as Google grades OKRs: 0.7–1.0 delivered, 0.4–0.6 progress, 0.0–0.3 fell short.
BANDS = (("0.7–1.0", 0.7, "delivered"), ("0.4–0.6", 0.4, "made progress"), ("0.0–0.3", 0.0, "fell short"))
COMPANY = "company"


# --------------------------------------------------------------------------------------------
# Calendar
# --------------------------------------------------------------------------------------------


def default_cycle(clock: Clock) -> CycleSpan:
    """The cycle `/okr review` shows: the current one from its review week on, else the last one."""
    current = clock.current()
    return current if clock.now() >= clock.review_opens(current) else clock.previous(current)


def writing_cycle(clock: Clock) -> CycleSpan:
    """The cycle `/okr review write` opens: the current one from its review week on, the last one
    while it can still be written (two weeks after its end), otherwise the current one (which then
    says when its review opens)."""
    current = clock.current()
    previous = clock.previous(current)
    if (
        clock.now() < clock.review_opens(current)
        and clock.now() <= previous.bounds(clock.tz)[1] + WRITE_GRACE
    ):
        return previous
    return current


def in_review_week(clock: Clock, span: CycleSpan) -> bool:
    return clock.review_opens(span) <= clock.now() < span.bounds(clock.tz)[1]


def post_window(clock: Clock, span: CycleSpan) -> tuple[datetime, datetime]:
    """When the review of `span` is posted: from noon on its last day until 3 days after it ends."""
    opens = datetime.combine(span.last_day, POST_AT, tzinfo=clock.tz)
    return opens, span.bounds(clock.tz)[1] + POST_GRACE


def check_writable(clock: Clock, span: CycleSpan) -> None:
    """Final scores and reflections: from the review week until 14 days after the cycle ends."""
    opens, end = clock.review_opens(span), span.bounds(clock.tz)[1]
    now = clock.now()
    if now < opens:
        raise UserError(
            f"The review of cycle {span.key} opens on {opens.astimezone(clock.tz):%b %-d}, "
            "seven days before the cycle ends."
        )
    if now > end + WRITE_GRACE:
        raise UserError(
            f"The review of cycle {span.key} closed on {(end + WRITE_GRACE):%b %-d}; it can still be read."
        )


def carry_target(clock: Clock, objective: Objective) -> CycleSpan | None:
    """The cycle a KR of `objective` can be carried into now: the next one, once it is open for
    drafting and until it ends; None otherwise."""
    span = clock.span(objective.cycle_key)
    upcoming = clock.next(span)
    now = clock.now()
    if clock.drafting_opens(upcoming) <= now < upcoming.bounds(clock.tz)[1]:
        return upcoming
    return None


# --------------------------------------------------------------------------------------------
# Who is asked, and what they see
# --------------------------------------------------------------------------------------------


def owners(*, db_session: Session, cycle_key: str) -> list[str]:
    """Everyone who owns an objective in the cycle, in a stable order."""
    rows = db_session.exec(
        select(Objective.owner_id)
        .where(Objective.cycle_key == cycle_key)
        .distinct()
        .order_by(Objective.owner_id)
    ).all()
    return list(rows)


def _pairs(db_session: Session, where: object) -> list[tuple[Objective, Team | None]]:
    rows = db_session.exec(
        select(Objective, Team)
        .outerjoin(Team, col(Team.id) == col(Objective.team_id))
        .where(where)  # type: ignore[arg-type]
        .order_by(col(Objective.id))
    ).all()
    return list(rows)


def reflections(db_session: Session, objective_ids: Iterable[int]) -> dict[int, OkrReflection]:
    ids = list(objective_ids)
    if not ids:
        return {}
    rows = db_session.exec(select(OkrReflection).where(col(OkrReflection.objective_id).in_(ids))).all()
    return {r.objective_id: r for r in rows}


@dataclass
class ReviewItem:
    """An objective in the review: its state, its KRs' final scores, its reflection."""

    state: ObjectiveState
    finals: dict[int, float]  # KR id → the score counted (the owner's final one, else computed)
    reflection: OkrReflection | None

    @property
    def score(self) -> float:
        """The weighted mean of the KRs' counted scores (the objective's weights, normalised)."""
        krs = self.state.krs
        if not krs:
            return 0.0
        return score(sum(k.weight * self.finals[k.kr.id or 0] for k in krs))

    @property
    def met(self) -> bool:
        return bool(self.state.krs) and self.score >= MET - 1e-9

    @property
    def scored(self) -> bool:
        """Every KR has a final score from its owner."""
        return bool(self.state.krs) and all(k.kr.final_score is not None for k in self.state.krs)


def _item(state: ObjectiveState, reflection: OkrReflection | None) -> ReviewItem:
    finals = {
        k.kr.id or 0: (k.kr.final_score if k.kr.final_score is not None else k.score) for k in state.krs
    }
    return ReviewItem(state=state, finals=finals, reflection=reflection)


def items_of_owner(
    *, db_session: Session, clock: Clock, owner_id: str, cycle_key: str, objective_id: int | None = None
) -> list[ReviewItem]:
    """What the review modal shows an owner: their objectives of the cycle (or one objective)."""
    if objective_id is not None:
        objective = service.get_objective(db_session=db_session, objective_id=objective_id)
        where = col(Objective.id) == objective.id
    else:
        where = (col(Objective.owner_id) == owner_id) & (col(Objective.cycle_key) == cycle_key)
    states = service.states_for(db_session, _pairs(db_session, where), clock)
    found = reflections(db_session, [s.objective.id or 0 for s in states])
    return [_item(s, found.get(s.objective.id or 0)) for s in states]


def unfinished(*, db_session: Session, clock: Clock, owner_id: str, cycle_key: str) -> list[KrState]:
    """An owner's KRs of the cycle that are not done and not carried over yet."""
    items = items_of_owner(db_session=db_session, clock=clock, owner_id=owner_id, cycle_key=cycle_key)
    ids = [k.kr.id for i in items for k in i.state.krs if k.progress < 1.0]
    carried = set(
        db_session.exec(
            select(KeyResult.carried_from_id).where(col(KeyResult.carried_from_id).in_(ids))
        ).all()
    )
    return [k for i in items for k in i.state.krs if k.progress < 1.0 and k.kr.id not in carried]


# --------------------------------------------------------------------------------------------
# Writing the review
# --------------------------------------------------------------------------------------------


@dataclass
class ReflectionText:
    worked: str = ""
    didnt: str = ""
    next: str = ""

    def empty(self) -> bool:
        return not (self.worked or self.didnt or self.next)


def check_final_score(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise UserError(f"A final score is from 0.0 to 1.0 (like 0.7), not {fmt_number(value)}.")
    return round(value, 2)


def save(
    *,
    db_session: Session,
    actor_id: str,
    is_admin: bool,
    clock: Clock,
    scores: dict[int, float | None],
    texts: dict[int, ReflectionText],
) -> list[Objective]:
    """Store final scores (None: keep the computed one) and reflections; returns the objectives.

    Every KR and objective is checked before anything is written: one that the actor may not
    change, or whose cycle's review is not open, refuses the whole submission.
    """
    objectives: dict[int, Objective] = {}
    krs: dict[int, KeyResult] = {}
    for kr_id in scores:
        kr, objective = service.objective_of_kr(db_session=db_session, kr_id=kr_id)
        krs[kr_id] = kr
        objectives[objective.id or 0] = objective
    for oid in texts:
        objectives.setdefault(oid, service.get_objective(db_session=db_session, objective_id=oid))
    for objective in objectives.values():
        service.require_edit(db_session=db_session, objective=objective, actor_id=actor_id, is_admin=is_admin)
        check_writable(clock, clock.span(objective.cycle_key))
    cleaned: dict[int, ReflectionText] = {}
    for oid, text in texts.items():
        cleaned[oid] = ReflectionText(
            *(
                clean_text(part, what=what, limit=REFLECTION_LIMIT, required=False)
                for part, what in (
                    (text.worked, "“what worked”"),
                    (text.didnt, "“what didn't”"),
                    (text.next, "“what next”"),
                )
            )
        )
    now = clock.now()
    for kr_id, value in scores.items():
        kr = krs[kr_id]
        final = check_final_score(value) if value is not None else None
        if final != kr.final_score:
            kr.final_score, kr.final_scored_by, kr.updated_at = (
                final,
                actor_id if final is not None else None,
                now,
            )
            db_session.add(kr)
    for oid, text in cleaned.items():
        row = db_session.get(OkrReflection, oid)
        if row is None and text.empty():
            continue
        row = row or OkrReflection(objective_id=oid, author_id=actor_id)
        row.worked, row.didnt, row.next = text.worked, text.didnt, text.next
        row.author_id, row.updated_at = actor_id, now
        db_session.add(row)
    for objective in objectives.values():
        audit.record(
            db_session=db_session,
            actor_id=actor_id,
            action="okr.review",
            record_type="objective",
            record_id=format_id(Kind.OBJECTIVE, objective.id or 0),
            detail=", ".join(
                f"{format_id(Kind.KEY_RESULT, k)}={fmt_number(v) if v is not None else 'computed'}"
                for k, v in scores.items()
                if krs[k].objective_id == objective.id
            ),
        )
    db_session.flush()
    return list(objectives.values())


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------


@dataclass
class TeamLine:
    team: Team | None  # None: objectives without a team
    objectives: int
    met: int
    average: float


@dataclass
class Report:
    span: CycleSpan
    team: Team | None  # None: the company review
    items: list[ReviewItem]
    final: bool  # the cycle has ended (otherwise the figures can still change)
    teams: list[TeamLine] = field(default_factory=list)  # the company review's per-team lines

    @property
    def kr_scores(self) -> list[float]:
        return [v for i in self.items for v in i.finals.values()]

    @property
    def distribution(self) -> list[tuple[str, str, int]]:
        """(band, meaning, number of KRs) from the top band down."""
        counts: Counter[str] = Counter()
        for value in self.kr_scores:
            shown = round(value + 1e-9, 1)  # banded as shown: 0.65 is 0.7, delivered
            band = next(b for b, low, _ in BANDS if shown >= low - 1e-9)
            counts[band] += 1
        return [(band, meaning, counts[band]) for band, _, meaning in BANDS]

    @property
    def met(self) -> list[ReviewItem]:
        return [i for i in self.items if i.met]

    @property
    def missed(self) -> list[ReviewItem]:
        return [i for i in self.items if i.state.krs and not i.met]

    @property
    def average(self) -> float:
        scores = [i.score for i in self.items if i.state.krs]
        return round(sum(scores) / len(scores), 2) if scores else 0.0

    @property
    def owners(self) -> tuple[int, int]:
        """(owners who gave every KR a final score or wrote a reflection, owners)."""
        by_owner: dict[str, bool] = {}
        for i in self.items:
            done = i.scored or (i.reflection is not None and not _blank(i.reflection))
            by_owner[i.state.objective.owner_id] = by_owner.get(i.state.objective.owner_id, False) or done
        return sum(by_owner.values()), len(by_owner)


def _blank(r: OkrReflection) -> bool:
    return not (r.worked or r.didnt or r.next)


def report(*, db_session: Session, clock: Clock, cycle_key: str, team: Team | None = None) -> Report:
    """The review of a cycle, for one team or (team None) the company, with per-team lines."""
    span = clock.span(cycle_key)
    where = col(Objective.cycle_key) == span.key
    if team is not None:
        where = where & (col(Objective.team_id) == team.id)
    states = service.states_for(db_session, _pairs(db_session, where), clock)
    found = reflections(db_session, [s.objective.id or 0 for s in states])
    items = [_item(s, found.get(s.objective.id or 0)) for s in states]
    result = Report(span=span, team=team, items=items, final=clock.now() >= span.bounds(clock.tz)[1])
    if team is None:
        groups: dict[int | None, list[ReviewItem]] = {}
        teams: dict[int | None, Team | None] = {}
        for i in items:
            key = i.state.team.id if i.state.team else None
            groups.setdefault(key, []).append(i)
            teams[key] = i.state.team
        for key, group in sorted(
            groups.items(), key=lambda g: (g[0] is None, (teams[g[0]].name if teams[g[0]] else ""))
        ):
            scored = [i.score for i in group if i.state.krs]
            result.teams.append(
                TeamLine(
                    team=teams[key],
                    objectives=len(group),
                    met=sum(1 for i in group if i.met),
                    average=round(sum(scored) / len(scored), 2) if scored else 0.0,
                )
            )
    return result


# --------------------------------------------------------------------------------------------
# Subscriptions
# --------------------------------------------------------------------------------------------


def scope_of(team: Team | None) -> str:
    return COMPANY if team is None else f"team:{team.id}"


def subscribe(
    *, db_session: Session, channel_id: str, team: Team | None, actor_id: str, clock: Clock, on: bool = True
) -> bool:
    """Subscribe (or with `on=False` unsubscribe) a channel; True when something changed."""
    scope = scope_of(team)
    row = db_session.exec(
        select(OkrReviewSubscription).where(
            OkrReviewSubscription.channel_id == channel_id, OkrReviewSubscription.scope == scope
        )
    ).first()
    if on and row is None:
        db_session.add(
            OkrReviewSubscription(
                channel_id=channel_id,
                scope=scope,
                team_id=team.id if team else None,
                created_by=actor_id,
                created_at=clock.now(),
            )
        )
    elif not on and row is not None:
        db_session.delete(row)
    else:
        return False
    audit.record(
        db_session=db_session,
        actor_id=actor_id,
        action="okr.review.subscribe" if on else "okr.review.unsubscribe",
        record_type="channel",
        record_id=channel_id,
        detail=scope,
    )
    db_session.flush()
    return True


def subscriptions(
    *, db_session: Session, channel_id: str | None = None
) -> list[tuple[OkrReviewSubscription, Team | None]]:
    stmt = select(OkrReviewSubscription, Team).outerjoin(
        Team, col(Team.id) == col(OkrReviewSubscription.team_id)
    )
    if channel_id:
        stmt = stmt.where(OkrReviewSubscription.channel_id == channel_id)
    return list(db_session.exec(stmt.order_by(col(OkrReviewSubscription.id))).all())


# --------------------------------------------------------------------------------------------
# Carry-over
# --------------------------------------------------------------------------------------------


def carry_over(*, db_session: Session, actor_id: str, is_admin: bool, clock: Clock, kr_id: int) -> KeyResult:
    """A new KR in the next cycle that continues an unfinished one, linked to its history.

    It starts where the old one stands and keeps its title, target and unit (not its weight: the
    next cycle's weights are set there); it goes into the next
    cycle's objective that continues the old objective (created on first carry: same title, team
    and owner, aligned to the next cycle's continuation of the old parent when there is one).
    """
    kr, objective = service.objective_of_kr(db_session=db_session, kr_id=kr_id)
    service.require_edit(db_session=db_session, objective=objective, actor_id=actor_id, is_admin=is_admin)
    ref = format_id(Kind.KEY_RESULT, kr_id)
    target = carry_target(clock, objective)
    if target is None:
        upcoming = clock.next(clock.span(objective.cycle_key))
        opens = clock.drafting_opens(upcoming)
        if clock.now() < opens:
            raise UserError(
                f"{ref} can be carried over into {upcoming.key} once that cycle opens for drafting, "
                f"on {opens.astimezone(clock.tz):%b %-d}."
            )
        raise UserError(
            f"{ref} belongs to cycle {objective.cycle_key}, which is too long ago to carry over from."
        )
    if kr_progress(start=kr.start, target=kr.target, current=kr.current) >= 1.0:
        raise UserError(f"{ref} reached its target — there is nothing to carry over.")
    already = db_session.exec(select(KeyResult).where(KeyResult.carried_from_id == kr_id)).first()
    if already is not None:
        raise UserError(f"{ref} is already carried over as {format_id(Kind.KEY_RESULT, already.id or 0)}.")
    successor = db_session.exec(
        select(Objective).where(Objective.carried_from_id == objective.id, Objective.cycle_key == target.key)
    ).first()
    if successor is None:
        parent_id = None
        if objective.parent_id:
            parent_id = db_session.exec(
                select(Objective.id).where(
                    Objective.carried_from_id == objective.parent_id, Objective.cycle_key == target.key
                )
            ).first()
        team = db_session.get(Team, objective.team_id) if objective.team_id else None
        successor = service.create_objective(
            db_session=db_session,
            actor_id=actor_id,
            clock=clock,
            title=objective.title,
            team=team,
            parent_id=parent_id,
            description=objective.description,
            owner_id=objective.owner_id,
            cycle_key=target.key,
            is_admin=True,  # the owner's objective continues under the owner, whoever carries it
            carried_from_id=objective.id,
        )
    return service.add_key_result(
        db_session=db_session,
        actor_id=actor_id,
        is_admin=True,  # permission was checked on the KR being carried
        objective_id=successor.id or 0,
        title=kr.title,
        target=kr.target,
        start=kr.current if kr.current != kr.target else kr.start,
        unit=kr.unit,
        weight=None,  # a new cycle, new priorities: the owner sets weights there anew
        clock=clock,
        carried_from_id=kr_id,
    )
