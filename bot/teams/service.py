"""Teams as every feature sees them: lookup, membership and a service team's SLA settings.

Product teams and central service teams share the `teams` table; `kind` tells them apart. Every
feature asks here rather than querying teams itself, so "who is on Legal" has one answer. No
Slack imports.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from bot.common.errors import NotFound, UserError
from bot.teams.hours import BusinessHours, Duration, HoursError, parse_duration, parse_hours
from storage.models import Team, TeamMember

SERVICE = "service"
PRODUCT = "product"


def get(*, db_session: Session, team_id: int) -> Team:
    team = db_session.get(Team, team_id)
    if team is None:
        raise NotFound("That team no longer exists.")
    return team


def list_teams(*, db_session: Session, kind: str | None = None) -> list[Team]:
    query = select(Team)
    if kind:
        query = query.where(Team.kind == kind)
    return list(db_session.exec(query.order_by(Team.name)).all())


def service_teams(*, db_session: Session) -> list[Team]:
    return list_teams(db_session=db_session, kind=SERVICE)


def find(*, db_session: Session, name: str, kind: str | None = None) -> Team:
    """A team by key or name (case-insensitive, `#` and quotes ignored); unknown names list the teams."""
    needle = (name or "").strip().lstrip("#").strip('"“”').strip()
    if not needle:
        raise UserError("Which team? Give its name, like `legal`.")
    lowered = needle.lower()
    query = select(Team).where(or_(func.lower(Team.key) == lowered, func.lower(Team.name) == lowered))
    if kind:
        query = query.where(Team.kind == kind)
    team = db_session.exec(query).first()
    if team is not None:
        return team
    names = ", ".join(f"`{t.key}`" for t in list_teams(db_session=db_session, kind=kind)[:30])
    what = "service team" if kind == SERVICE else "team"
    raise NotFound(f"There is no {what} `{needle[:60]}`." + (f" Teams: {names}." if names else ""))


def find_service(*, db_session: Session, name: str) -> Team:
    return find(db_session=db_session, name=name, kind=SERVICE)


def member_ids(*, db_session: Session, team: Team) -> set[str]:
    """Everyone on the team: its members and its lead."""
    rows = db_session.exec(select(TeamMember.slack_id).where(TeamMember.team_id == team.id)).all()
    return set(rows) | ({team.lead_id} if team.lead_id else set())


def is_member(*, db_session: Session, team: Team, user_id: str) -> bool:
    if team.lead_id == user_id:
        return True
    row = db_session.exec(
        select(TeamMember.slack_id).where(TeamMember.team_id == team.id, TeamMember.slack_id == user_id)
    ).first()
    return row is not None


def team_ids_of(*, db_session: Session, user_id: str, kind: str | None = None) -> set[int]:
    """The teams a person leads or belongs to."""
    member = select(TeamMember.team_id).where(TeamMember.slack_id == user_id)
    led = select(Team.id).where(Team.lead_id == user_id)
    ids = {t for t in [*db_session.exec(member).all(), *db_session.exec(led).all()] if t is not None}
    if kind and ids:
        ids = set(db_session.exec(select(Team.id).where(col(Team.id).in_(ids), Team.kind == kind)).all())
    return {i for i in ids if i is not None}


@dataclass(frozen=True)
class Slas:
    """A service team's SLA settings, parsed. Either SLA may be unset (no clock for it)."""

    first_response: Duration | None
    resolution: Duration | None
    hours: BusinessHours | None

    @property
    def any(self) -> bool:
        return self.first_response is not None or self.resolution is not None


def slas_of(team: Team) -> Slas:
    """The team's SLAs; a stored value that no longer parses counts as unset (logged by the caller)."""

    def duration(text: str | None) -> Duration | None:
        try:
            return parse_duration(text) if text else None
        except HoursError:
            return None

    try:
        hours = parse_hours(team.business_hours) if team.business_hours else None
    except HoursError:
        hours = None
    return Slas(duration(team.first_response_sla), duration(team.resolution_sla), hours)
