"""Deflection: a team's FAQ, and the closest answers offered before a request is filed.

A request about to be filed becomes an *offer* (`RequestOffer`) holding what the asker wrote;
the asker sees the team's closest FAQ entries and similar resolved requests (ranked by
`search.py`) and picks "This answered it" — a deflection, counted in the team's stats — or
"Still need help", which files the request from the offer. A confidential team's resolved
requests are offered only to people who may see them (`service.can_see`). No Slack imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.common import audit
from bot.common.errors import NotFound, UserError
from bot.requests import search, service
from bot.teams import service as teams
from storage.models import Team
from storage.models.requests import RequestOffer, ServiceRequest, TeamFaq

QUESTION_LIMIT = 500
ANSWER_LIMIT = 3000
SUGGESTIONS = 3


def faq_ref(faq_id: int | None) -> str:
    return f"FAQ-{faq_id or 0}"


def list_faq(*, db_session: Session, team: Team) -> list[TeamFaq]:
    return list(
        db_session.exec(select(TeamFaq).where(TeamFaq.team_id == team.id).order_by(col(TeamFaq.id))).all()
    )


def add_faq(
    *, db_session: Session, team: Team, actor_id: str, is_admin: bool, question: str, answer: str
) -> tuple[TeamFaq, bool]:
    """Add an entry (members and admins); the same question again replaces its answer. → (entry, created)."""
    if not service.can_triage(db_session=db_session, team=team, user_id=actor_id, is_admin=is_admin):
        raise UserError(f"Only members of {team.name} (or an admin) can add to its FAQ.")
    question = service.clean(question, what="question", limit=QUESTION_LIMIT)
    answer = service.clean(answer, what="answer", limit=ANSWER_LIMIT)
    row = db_session.exec(
        select(TeamFaq).where(TeamFaq.team_id == team.id, TeamFaq.question == question)
    ).first()
    created = row is None
    if row is None:
        row = TeamFaq(team_id=team.id or 0, question=question, answer=answer, created_by=actor_id)
    else:
        row.answer = answer
    db_session.add(row)
    db_session.flush()
    audit.record(
        db_session=db_session,
        actor_id=actor_id,
        action="ssp.faq.add" if created else "ssp.faq.update",
        record_type="team",
        record_id=team.key,
        detail=question[:200],
    )
    search.invalidate(team.id)
    return row, created


@dataclass(frozen=True)
class Suggestion:
    """One answer offered before filing: a FAQ entry or a similar resolved request."""

    kind: str  # faq | request
    id: int
    title: str
    answer: str
    score: float

    @property
    def ref(self) -> str:
        return faq_ref(self.id) if self.kind == "faq" else service.ref(self.id)


def suggest(
    *, db_session: Session, team: Team, text: str, user_id: str, is_admin: bool, limit: int = SUGGESTIONS
) -> list[Suggestion]:
    """The closest FAQ answers and resolved requests the asker may see, best first."""
    out: list[Suggestion] = []
    member: bool | None = None
    for doc, score in search.rank(db_session=db_session, team_id=team.id or 0, text=text):
        if doc.kind == "faq":
            faq = db_session.get(TeamFaq, doc.id)
            if faq is not None:
                out.append(Suggestion("faq", doc.id, faq.question, faq.answer, score))
        else:
            if team.confidential and not is_admin and doc.requester_id != user_id:
                if member is None:
                    member = teams.is_member(db_session=db_session, team=team, user_id=user_id)
                if not member:
                    continue
            req = db_session.get(ServiceRequest, doc.id)
            if req is None or req.status not in service.DONE:
                continue
            note = service.resolution_note(db_session=db_session, request_id=doc.id)
            out.append(Suggestion("request", doc.id, req.summary, note, score))
        if len(out) >= limit:
            break
    return out


def offer(
    *,
    db_session: Session,
    team: Team,
    user_id: str,
    summary: str,
    now: datetime,
    details: str = "",
    urgency: str = "normal",
    source_link: str | None = None,
) -> RequestOffer:
    """Keep what the asker wrote while they look at the suggestions (checked as a request would be)."""
    if team.kind != teams.SERVICE:
        raise UserError(f"{team.name} is not a service team — `/ssp` lists the teams you can ask.")
    row = RequestOffer(
        team_id=team.id or 0,
        user_id=user_id,
        summary=service.clean(summary, what="summary", limit=service.SUMMARY_LIMIT),
        details=service.clean(details, what="details", limit=service.DETAILS_LIMIT, required=False),
        urgency=service.check_urgency(urgency),
        source_link=(source_link or None) and source_link[:500],
        offered_at=now,
    )
    db_session.add(row)
    db_session.flush()
    return row


def _open_offer(db_session: Session, offer_id: int, user_id: str) -> RequestOffer:
    row = db_session.get(RequestOffer, offer_id)
    if row is None or row.user_id != user_id:
        raise NotFound("That draft request is gone; start again with `/ssp request`.")
    if row.outcome == "deflected":
        raise UserError("You already said this was answered, so nothing was filed.")
    if row.outcome == "filed" and row.request_id:
        raise UserError(f"This was already filed as {service.ref(row.request_id)}.")
    return row


def deflect(
    *, db_session: Session, offer_id: int, user_id: str, answered_by: str, now: datetime
) -> RequestOffer:
    """ "This answered it": nothing is filed, and the team's deflection count goes up by one."""
    row = _open_offer(db_session, offer_id, user_id)
    row.outcome, row.answered_by, row.decided_at = "deflected", answered_by[:32], now
    db_session.add(row)
    return row


def file_offer(*, db_session: Session, offer_id: int, user_id: str, now: datetime) -> service.Change:
    """ "Still need help": the request is filed from what the asker wrote."""
    row = _open_offer(db_session, offer_id, user_id)
    team = teams.get(db_session=db_session, team_id=row.team_id)
    change = service.create(
        db_session=db_session,
        team=team,
        requester_id=user_id,
        summary=row.summary,
        details=row.details,
        urgency=row.urgency,
        source_link=row.source_link,
        now=now,
    )
    row.outcome, row.request_id, row.decided_at = "filed", change.request.id, now
    db_session.add(row)
    return change
