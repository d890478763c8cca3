"""The workflow draft → in_review → published, and the blameless check that runs before each move.

A move checks the permission rule first, then the order (no publishing a draft), then — for
publishing — the required fields, naming every empty one. Then the blameless check: with findings
and no confirmation nothing moves and the findings come back to be shown ("… anyway" confirms);
the check warns, it never blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, select

from bot.common.errors import UserError
from bot.postmortems import blameless, service
from bot.postmortems.rules import CHECKED_FIELDS, Status, human_list, missing_for_publish
from bot.postmortems.service import Detail
from storage.models import Person
from storage.models.postmortems import Postmortem
from storage.types import utcnow

# --- the workflow ----------------------------------------------------------------------------


@dataclass
class Transition:
    """What `request_review`/`publish` did: `done`, or the findings it stopped to show first."""

    pm: Postmortem
    done: bool
    findings: list[blameless.Finding] = field(default_factory=list)


def people_index(db_session: Session) -> blameless.People:
    """Every name the bot knows (real names, first names, handles) for the blameless check."""
    rows = db_session.exec(select(Person.real_name, Person.name)).all()
    return blameless.People.from_names(n for pair in rows for n in pair if n)


def checked_texts(d: Detail) -> dict[str, str]:
    """Every free-text field the check reads: the template, each timeline entry, each action item."""
    texts = {key: getattr(d.pm, key) or "" for key in CHECKED_FIELDS}
    for entry in d.timeline:
        texts[f"timeline:{entry.id}"] = entry.text
    for item in d.actions:
        texts[f"action:{item.id}"] = item.title
    return texts


def findings_for(*, db_session: Session, d: Detail) -> list[blameless.Finding]:
    return blameless.check(checked_texts(d), people_index(db_session))


def _move(
    *,
    db_session: Session,
    actor_id: str,
    is_admin: bool,
    postmortem_id: int,
    target: Status,
    confirmed: bool,
    extra_findings: Sequence[blameless.Finding],
    now: datetime | None,
) -> Transition:
    d = service.detail(db_session=db_session, postmortem_id=postmortem_id)
    pm = d.pm
    service.require_edit(db_session=db_session, pm=pm, actor_id=actor_id, is_admin=is_admin, doing="move")
    current = Status(pm.status)
    if current == target:
        raise UserError(f"{d.ref} is already {target.label}.")
    if current == Status.PUBLISHED:
        raise UserError(f"{d.ref} is already published.")
    if target == Status.PUBLISHED and current == Status.DRAFT:
        raise UserError(f"{d.ref} is still a draft — send it for review first: `/postmortem review {d.ref}`.")
    if target == Status.PUBLISHED:
        missing = missing_for_publish(pm.model_dump(), len(d.timeline))
        if missing:
            raise UserError(
                f"{d.ref} can't be published yet: {human_list(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} empty. Fill "
                f"{'it' if len(missing) == 1 else 'them'} in with `/postmortem edit {d.ref}`."
            )
    findings = findings_for(db_session=db_session, d=d)
    findings += [f for f in extra_findings if all(_disjoint(f, g) for g in findings)]
    if findings and not confirmed:
        return Transition(pm=pm, done=False, findings=findings)
    when = now or utcnow()
    pm.status = target.value
    if target == Status.IN_REVIEW:
        pm.review_requested_at = when
    else:
        pm.published_at, pm.published_by = when, actor_id
    service.touch(db_session, pm, when)
    detail_text = f"{current.value} → {target.value}" + (
        f" with {len(findings)} findings" if findings else ""
    )
    service.record(db_session, actor_id, f"status.{target.value}", "postmortem", d.ref, detail_text)
    return Transition(pm=pm, done=True, findings=findings)


def _disjoint(a: blameless.Finding, b: blameless.Finding) -> bool:
    return a.field != b.field or a.end <= b.start or b.end <= a.start


def request_review(
    *,
    db_session: Session,
    actor_id: str,
    is_admin: bool,
    postmortem_id: int,
    confirmed: bool = False,
    extra_findings: Sequence[blameless.Finding] = (),
    now: datetime | None = None,
) -> Transition:
    """draft → in_review. With blame in the text and not `confirmed`: nothing moves, findings come back."""
    return _move(
        db_session=db_session,
        actor_id=actor_id,
        is_admin=is_admin,
        postmortem_id=postmortem_id,
        target=Status.IN_REVIEW,
        confirmed=confirmed,
        extra_findings=extra_findings,
        now=now,
    )


def publish(
    *,
    db_session: Session,
    actor_id: str,
    is_admin: bool,
    postmortem_id: int,
    confirmed: bool = False,
    extra_findings: Sequence[blameless.Finding] = (),
    now: datetime | None = None,
) -> Transition:
    """in_review → published, once every required field is filled; findings first, as for review."""
    return _move(
        db_session=db_session,
        actor_id=actor_id,
        is_admin=is_admin,
        postmortem_id=postmortem_id,
        target=Status.PUBLISHED,
        confirmed=confirmed,
        extra_findings=extra_findings,
        now=now,
    )
