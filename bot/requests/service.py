"""Shared-service requests: filing, triage, the lifecycle and who may do what. No Slack imports.

Every surface — slash command, button, modal, App Home, the SLA watcher, later the digests and
the DM assistant — goes through these functions, so the rules live in one place:

* Lifecycle `new → in_progress → waiting → resolved → closed`; `reopen` goes back to
  `in_progress` from `resolved` or `closed`; a rating closes a resolved request.
* Team members (its lead included) and admins triage: claim, assign (to a member), wait on the
  requester, comment, resolve, reopen. The requester may comment on, resolve, reopen and rate
  their own request.
* A confidential team's request does not exist for anyone but its requester, the team's members
  and admins: `get_visible` raises the very `NotFound` an unknown ID gets.

Each change appends a `RequestEvent` (the history is never rewritten), updates the SLA clocks
(`sla.py`) and the audit log in the caller's transaction, and returns a `Change` that says what
happened, so the Slack layer knows whom to tell.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from bot.common import audit
from bot.common.errors import Forbidden, NotFound, UserError
from bot.common.ids import Kind, format_id
from bot.requests import sla
from bot.teams import service as teams
from storage.models import Team
from storage.models.requests import RequestEvent, ServiceRequest

URGENCIES = ("low", "normal", "high", "urgent")
STATUSES = ("new", "in_progress", "waiting", "resolved", "closed")
OPEN = sla.OPEN
DONE = ("resolved", "closed")
SUMMARY_LIMIT = 3000
DETAILS_LIMIT = 10000
NOTE_LIMIT = 3000
WATCHER = "flywheel"


def ref(request_id: int | None) -> str:
    return format_id(Kind.REQUEST, request_id or 0)


def status_label(status: str) -> str:
    return status.replace("_", " ")


def clean(text: str | None, *, what: str, limit: int, required: bool = True) -> str:
    """Trimmed text without control characters; empty or over-long text is refused, not cut."""
    value = "".join(
        ch
        for ch in unicodedata.normalize("NFC", text or "")
        if ch in "\n\t" or unicodedata.category(ch)[0] != "C"
    ).strip()
    if required and not value:
        raise UserError(f"The {what} is empty.")
    if len(value) > limit:
        raise UserError(f"The {what} is {len(value):,} characters long; the limit is {limit:,}.")
    return value


def check_urgency(value: str | None) -> str:
    urgency = (value or "normal").strip().lower()
    if urgency not in URGENCIES:
        raise UserError(f"Urgency `{urgency[:20]}` is not one of {', '.join(URGENCIES)}.")
    return urgency


# --------------------------------------------------------------------------------------------
# Who may see and do what
# --------------------------------------------------------------------------------------------


def can_see(*, db_session: Session, req: ServiceRequest, team: Team, user_id: str, is_admin: bool) -> bool:
    """The permission rule every surface shares: a confidential team's request is seen by its
    requester, the team's members and admins only; any other request by everyone."""
    if not team.confidential or is_admin or req.requester_id == user_id:
        return True
    return teams.is_member(db_session=db_session, team=team, user_id=user_id)


def can_triage(*, db_session: Session, team: Team, user_id: str, is_admin: bool) -> bool:
    return is_admin or teams.is_member(db_session=db_session, team=team, user_id=user_id)


def get_visible(
    *, db_session: Session, request_id: int, user_id: str, is_admin: bool
) -> tuple[ServiceRequest, Team]:
    """The request and its team, or `NotFound` — the same for an unknown ID and an invisible one."""
    req = db_session.get(ServiceRequest, request_id)
    team = db_session.get(Team, req.team_id) if req is not None else None
    if (
        req is None
        or team is None
        or not can_see(db_session=db_session, req=req, team=team, user_id=user_id, is_admin=is_admin)
    ):
        raise NotFound(f"There is no request {ref(request_id)}.", hint="`/ssp mine` lists your requests.")
    return req, team


def _require_triage(
    db_session: Session, team: Team, req: ServiceRequest, user_id: str, is_admin: bool, verb: str
) -> None:
    if not can_triage(db_session=db_session, team=team, user_id=user_id, is_admin=is_admin):
        raise Forbidden(f"Only members of {team.name} (or an admin) can {verb} {ref(req.id)}.")


def _require_party(
    db_session: Session, team: Team, req: ServiceRequest, user_id: str, is_admin: bool, verb: str
) -> bool:
    """The requester or a triager; returns whether the actor is on the team's side."""
    triager = can_triage(db_session=db_session, team=team, user_id=user_id, is_admin=is_admin)
    if not triager and req.requester_id != user_id:
        raise Forbidden(f"Only the requester, members of {team.name} or an admin can {verb} {ref(req.id)}.")
    return triager


# --------------------------------------------------------------------------------------------
# Changes
# --------------------------------------------------------------------------------------------


@dataclass
class Change:
    """What one action did, for the Slack layer: the request after it, and whom to tell."""

    request: ServiceRequest
    team: Team
    event: RequestEvent
    actor_id: str
    notify_assignee: str | None = None  # a new assignee to tell
    ask_rating: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return ref(self.request.id)


def _event(
    db_session: Session,
    req: ServiceRequest,
    *,
    actor_id: str,
    kind: str,
    now: datetime,
    detail: str = "",
    from_status: str | None = None,
    to_status: str | None = None,
) -> RequestEvent:
    event = RequestEvent(
        request_id=req.id or 0,
        at=now,
        actor_id=actor_id,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        detail=detail,
    )
    db_session.add(event)
    req.updated_at = now
    db_session.add(req)
    if actor_id != WATCHER:
        audit.record(
            db_session=db_session,
            actor_id=actor_id,
            action=f"ssp.{kind}",
            record_type="request",
            record_id=ref(req.id),
            detail=(to_status or detail)[:200],
        )
    return event


def _move(
    db_session: Session,
    req: ServiceRequest,
    team: Team,
    to: str,
    *,
    actor_id: str,
    now: datetime,
    note: str = "",
) -> RequestEvent:
    old = req.status
    sla.change_status(req, to, teams.slas_of(team), now)
    if to == "resolved":
        req.resolved_at = now
    if to == "closed":
        req.closed_at = now
    if to in sla.RUNNING and old in DONE:
        req.resolved_at = req.closed_at = None
    return _event(
        db_session, req, actor_id=actor_id, kind="status", now=now, detail=note, from_status=old, to_status=to
    )


def _responded(req: ServiceRequest, actor_id: str, triager: bool, now: datetime) -> None:
    if triager and actor_id != req.requester_id:
        sla.responded(req, now)


def create(
    *,
    db_session: Session,
    team: Team,
    requester_id: str,
    summary: str,
    now: datetime,
    details: str = "",
    urgency: str = "normal",
    source_link: str | None = None,
) -> Change:
    """File a request with a service team; its SLA clocks start now."""
    if team.kind != teams.SERVICE:
        raise UserError(f"{team.name} is not a service team — `/ssp` lists the teams you can ask.")
    summary = clean(summary, what="summary", limit=SUMMARY_LIMIT)
    details = clean(details, what="details", limit=DETAILS_LIMIT, required=False)
    req = ServiceRequest(
        team_id=team.id or 0,
        requester_id=requester_id,
        summary=summary,
        details=details,
        urgency=check_urgency(urgency),
        source_link=(source_link or None) and source_link[:500],
        created_at=now,
        updated_at=now,
    )
    sla.start(req, teams.slas_of(team), now)
    db_session.add(req)
    db_session.flush()
    event = _event(
        db_session, req, actor_id=requester_id, kind="created", now=now, to_status="new", detail=summary[:200]
    )
    return Change(req, team, event, requester_id)


def claim(*, db_session: Session, request_id: int, actor_id: str, is_admin: bool, now: datetime) -> Change:
    req, team = get_visible(db_session=db_session, request_id=request_id, user_id=actor_id, is_admin=is_admin)
    _require_triage(db_session, team, req, actor_id, is_admin, "claim")
    if req.status in DONE:
        raise UserError(
            f"{ref(req.id)} is {status_label(req.status)}; reopen it first (`/ssp reopen {ref(req.id)}`)."
        )
    if req.assignee_id == actor_id and req.status == "in_progress":
        raise UserError(f"{ref(req.id)} is already yours.")
    return _assign(db_session, req, team, actor_id, actor_id=actor_id, now=now)


def _assign(
    db_session: Session, req: ServiceRequest, team: Team, assignee: str, *, actor_id: str, now: datetime
) -> Change:
    req.assignee_id = assignee
    _responded(req, actor_id, True, now)
    event = _event(db_session, req, actor_id=actor_id, kind="assigned", now=now, detail=assignee)
    if req.status in ("new", "waiting"):
        _move(db_session, req, team, "in_progress", actor_id=actor_id, now=now)
    return Change(req, team, event, actor_id, notify_assignee=assignee if assignee != actor_id else None)


def assign(
    *, db_session: Session, request_id: int, actor_id: str, is_admin: bool, assignee_id: str, now: datetime
) -> Change:
    req, team = get_visible(db_session=db_session, request_id=request_id, user_id=actor_id, is_admin=is_admin)
    _require_triage(db_session, team, req, actor_id, is_admin, "assign")
    if req.status in DONE:
        raise UserError(
            f"{ref(req.id)} is {status_label(req.status)}; reopen it first (`/ssp reopen {ref(req.id)}`)."
        )
    if not teams.is_member(db_session=db_session, team=team, user_id=assignee_id):
        raise UserError(
            f"<@{assignee_id}> is not on {team.name}; a request can only be assigned to a member of its team."
        )
    if req.assignee_id == assignee_id:
        raise UserError(f"{ref(req.id)} is already assigned to <@{assignee_id}>.")
    return _assign(db_session, req, team, assignee_id, actor_id=actor_id, now=now)


def wait(
    *, db_session: Session, request_id: int, actor_id: str, is_admin: bool, note: str, now: datetime
) -> Change:
    """The team waits on the requester: the resolution clock pauses until they answer."""
    req, team = get_visible(db_session=db_session, request_id=request_id, user_id=actor_id, is_admin=is_admin)
    _require_triage(db_session, team, req, actor_id, is_admin, "put on hold")
    note = clean(note, what="question for the requester", limit=NOTE_LIMIT)
    if req.status not in sla.RUNNING:
        raise UserError(f"{ref(req.id)} is {status_label(req.status)}, not new or in progress.")
    _responded(req, actor_id, True, now)
    event = _move(db_session, req, team, "waiting", actor_id=actor_id, now=now, note=note)
    return Change(req, team, event, actor_id)


def comment(
    *, db_session: Session, request_id: int, actor_id: str, is_admin: bool, text: str, now: datetime
) -> Change:
    """A comment; the requester answering a request that waits on them resumes it."""
    req, team = get_visible(db_session=db_session, request_id=request_id, user_id=actor_id, is_admin=is_admin)
    triager = _require_party(db_session, team, req, actor_id, is_admin, "comment on")
    text = clean(text, what="comment", limit=NOTE_LIMIT)
    _responded(req, actor_id, triager, now)
    event = _event(db_session, req, actor_id=actor_id, kind="comment", now=now, detail=text)
    change = Change(req, team, event, actor_id)
    if req.status == "waiting" and actor_id == req.requester_id:
        _move(db_session, req, team, "in_progress", actor_id=actor_id, now=now, note="the requester answered")
        change.extra["resumed"] = "yes"
    return change


def resolve(
    *, db_session: Session, request_id: int, actor_id: str, is_admin: bool, note: str = "", now: datetime
) -> Change:
    req, team = get_visible(db_session=db_session, request_id=request_id, user_id=actor_id, is_admin=is_admin)
    triager = _require_party(db_session, team, req, actor_id, is_admin, "resolve")
    note = clean(note, what="resolution note", limit=NOTE_LIMIT, required=False)
    if req.status in DONE:
        raise UserError(f"{ref(req.id)} is already {status_label(req.status)}.")
    _responded(req, actor_id, triager, now)
    event = _move(db_session, req, team, "resolved", actor_id=actor_id, now=now, note=note)
    return Change(req, team, event, actor_id, ask_rating=req.rating is None)


def reopen(
    *, db_session: Session, request_id: int, actor_id: str, is_admin: bool, note: str = "", now: datetime
) -> Change:
    req, team = get_visible(db_session=db_session, request_id=request_id, user_id=actor_id, is_admin=is_admin)
    _require_party(db_session, team, req, actor_id, is_admin, "reopen")
    note = clean(note, what="note", limit=NOTE_LIMIT, required=False)
    if req.status not in DONE:
        raise UserError(
            f"{ref(req.id)} is {status_label(req.status)}, not resolved — there is nothing to reopen."
        )
    event = _move(db_session, req, team, "in_progress", actor_id=actor_id, now=now, note=note)
    return Change(req, team, event, actor_id)


def rate(
    *, db_session: Session, request_id: int, actor_id: str, is_admin: bool, rating: int, now: datetime
) -> Change:
    """The requester's 1–5 rating of a resolved request; it closes the request. Once only."""
    req, team = get_visible(db_session=db_session, request_id=request_id, user_id=actor_id, is_admin=is_admin)
    if req.requester_id != actor_id:
        raise Forbidden(f"Only <@{req.requester_id}>, who asked, can rate {ref(req.id)}.")
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise UserError(f"A rating is a whole number from 1 to 5, not `{rating}`.")
    if req.rating is not None:
        raise UserError(f"You already rated {ref(req.id)} {req.rating}/5; a rating is given once.")
    if req.status not in DONE:
        raise UserError(f"{ref(req.id)} is {status_label(req.status)}; you can rate it once it is resolved.")
    req.rating, req.rated_at = rating, now
    event = _event(db_session, req, actor_id=actor_id, kind="rating", now=now, detail=str(rating))
    if req.status == "resolved":
        _move(db_session, req, team, "closed", actor_id=actor_id, now=now, note="rated")
    return Change(req, team, event, actor_id)


def set_intake(*, db_session: Session, request_id: int, channel: str, ts: str) -> None:
    """Where the request's intake post lives, so later changes update it in place."""
    req = db_session.get(ServiceRequest, request_id)
    if req is not None:
        req.intake_channel, req.intake_ts = channel, ts
        db_session.add(req)


def history(*, db_session: Session, request_id: int, limit: int = 50) -> list[RequestEvent]:
    return list(
        db_session.exec(
            select(RequestEvent)
            .where(RequestEvent.request_id == request_id)
            .order_by(col(RequestEvent.at), col(RequestEvent.id))
            .limit(limit)
        ).all()
    )


def resolution_note(*, db_session: Session, request_id: int) -> str:
    """The note of the latest resolve (what a similar request's answer was)."""
    event = db_session.exec(
        select(RequestEvent)
        .where(RequestEvent.request_id == request_id, RequestEvent.to_status == "resolved")
        .order_by(col(RequestEvent.id).desc())
    ).first()
    return event.detail if event else ""
