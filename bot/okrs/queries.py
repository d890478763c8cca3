"""Read-only OKR queries beyond the hot path: history, the tree, search, at-risk, the cycle, the
parent picker. No Slack imports; every surface (command, button, DM, digest) asks these.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from bot.common.errors import UserError
from bot.common.ids import Kind, format_id
from bot.okrs.checks import clean_text
from bot.okrs.scoring import SEVERITY, TROUBLE, Clock, CycleSpan, KrState, ObjectiveState, objective_state
from bot.okrs.service import _with_team, kr_state_of, objective_of_kr, states_for
from storage.models import Team
from storage.models.okrs import CheckIn, KeyResult, Objective


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
    return risk_items(objective_state(o, t, krs, clock) for o, t, krs in by_objective.values())


def risk_items(states: Iterable[ObjectiveState]) -> list[RiskItem]:
    """The KRs among `states` that are at risk or off track, worst first — the order of
    `/okr atrisk`. A *not started* or *done* KR is never among them. For callers that already hold
    the objectives' states (the digest reads the whole cycle once for its progress per team)."""
    risky = [RiskItem(k, s.objective, s.team) for s in states for k in s.krs if k.status in TROUBLE]
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
