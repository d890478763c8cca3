"""People as the bot knows them. No Slack imports: the listener passes what `users.info` said."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from storage.models import Person
from storage.types import utcnow

STALE_AFTER = timedelta(hours=12)


def get(*, db_session: Session, slack_id: str) -> Person | None:
    return db_session.get(Person, slack_id)


def get_many(*, db_session: Session, slack_ids: list[str]) -> dict[str, Person]:
    if not slack_ids:
        return {}
    rows = db_session.exec(select(Person).where(col(Person.slack_id).in_(set(slack_ids)))).all()
    return {p.slack_id: p for p in rows}


def by_email(*, db_session: Session, email: str) -> Person | None:
    return db_session.exec(select(Person).where(Person.email == email.strip().lower())).first()


def find_by_name(*, db_session: Session, name: str) -> list[Person]:
    """People whose handle, display or real name matches `name` (case-insensitive)."""
    needle = name.strip().lstrip("@").lower()
    if not needle:
        return []
    rows = db_session.exec(select(Person)).all()
    exact = [p for p in rows if needle in (p.name.lower(), p.real_name.lower())]
    if exact:
        return exact
    return [p for p in rows if p.real_name.lower().split(" ")[0] == needle]


def is_stale(person: Person | None) -> bool:
    return person is None or utcnow() - person.refreshed_at > STALE_AFTER


def upsert_from_slack(*, db_session: Session, user: dict[str, Any]) -> Person:
    """Store the fields of a Slack `user` object (as `users.info` returns it)."""
    profile = user.get("profile") or {}
    person = db_session.get(Person, user["id"]) or Person(slack_id=user["id"])
    person.name = (user.get("name") or "")[:200]
    person.real_name = (profile.get("real_name") or user.get("real_name") or person.name)[:200]
    email = profile.get("email")
    person.email = email.strip().lower()[:320] if email else None
    person.tz = user.get("tz") or "UTC"
    person.is_admin = bool(user.get("is_admin"))
    person.refreshed_at = utcnow()
    db_session.add(person)
    return person


def display(person: Person | None, slack_id: str) -> str:
    if person is None:
        return slack_id
    return person.real_name or person.name or slack_id
