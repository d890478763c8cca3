"""Postmortem domain logic over a database session: queries, permissions, changes. No Slack.

Every surface — slash command, button, modal, :pushpin:, App Home, CLI, and later digests and the
DM assistant — goes through here, so the rules live in one place:

* everyone may read every postmortem (blameless write-ups are for learning, company-wide);
* the author, the participants and admins may edit one and move it draft → in_review → published;
* an action item may also be closed by its owner;
* anyone in a linked channel may add a message to its timeline with :pushpin: (they can read it).

Functions are keyword-only and take the session first, so the caller decides the unit of work.
Changes bump the postmortem's `updated_at` (the search index keys on it) and are audited.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from bot.common import audit
from bot.common.errors import Forbidden, NotFound, UserError
from bot.common.ids import Kind, format_id
from bot.postmortems.rules import (
    FIELD_BY_KEY,
    FIELDS,
    MAX_PARTICIPANTS,
    ActionStatus,
    Status,
    clean_text,
    human_list,
    is_user_id,
    missing_for_publish,
    neutralise_pings,
    parse_severity,
)
from storage.models.postmortems import ActionItem, Postmortem, PostmortemParticipant, TimelineEntry
from storage.types import utcnow


def pm_ref(postmortem_id: int | None) -> str:
    return format_id(Kind.POSTMORTEM, postmortem_id or 0)


def ai_ref(action_item_id: int | None) -> str:
    return format_id(Kind.ACTION_ITEM, action_item_id or 0)


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


@dataclass
class Detail:
    """One postmortem with everything that belongs to it, in reading order."""

    pm: Postmortem
    participants: list[str]
    timeline: list[TimelineEntry]
    actions: list[ActionItem]

    @property
    def ref(self) -> str:
        return pm_ref(self.pm.id)

    @property
    def status(self) -> Status:
        return Status(self.pm.status)

    def editors(self) -> set[str]:
        return {self.pm.author_id, *self.participants}


def get(*, db_session: Session, postmortem_id: int) -> Postmortem:
    pm = db_session.get(Postmortem, postmortem_id)
    if pm is None:
        raise NotFound(f"There is no postmortem {pm_ref(postmortem_id)}. `/postmortem list` shows them all.")
    return pm


def participants_of(db_session: Session, postmortem_id: int) -> list[str]:
    rows = db_session.exec(
        select(PostmortemParticipant.slack_id).where(PostmortemParticipant.postmortem_id == postmortem_id)
    ).all()
    return sorted(rows)


def timeline_of(db_session: Session, postmortem_id: int) -> list[TimelineEntry]:
    return list(
        db_session.exec(
            select(TimelineEntry)
            .where(TimelineEntry.postmortem_id == postmortem_id)
            .order_by(col(TimelineEntry.at), col(TimelineEntry.id))
        ).all()
    )


def actions_of(db_session: Session, postmortem_id: int) -> list[ActionItem]:
    return list(
        db_session.exec(
            select(ActionItem).where(ActionItem.postmortem_id == postmortem_id).order_by(col(ActionItem.id))
        ).all()
    )


def detail(*, db_session: Session, postmortem_id: int) -> Detail:
    pm = get(db_session=db_session, postmortem_id=postmortem_id)
    return Detail(
        pm=pm,
        participants=participants_of(db_session, postmortem_id),
        timeline=timeline_of(db_session, postmortem_id),
        actions=actions_of(db_session, postmortem_id),
    )


def list_postmortems(
    *, db_session: Session, status: Status | None = None, limit: int = 20
) -> tuple[list[Postmortem], int]:
    """Newest activity first; `(shown, total)` so a long list can say "and N more"."""
    where = [] if status is None else [col(Postmortem.status) == status.value]
    rows = db_session.exec(
        select(Postmortem)
        .where(*where)
        .order_by(col(Postmortem.updated_at).desc(), col(Postmortem.id).desc())
    ).all()
    return list(rows[:limit]), len(rows)


def linked_to_channel(
    *, db_session: Session, channel_id: str, include_published: bool = False
) -> list[Postmortem]:
    where = [col(Postmortem.channel_id) == channel_id]
    if not include_published:
        where.append(col(Postmortem.status) != Status.PUBLISHED.value)
    return list(db_session.exec(select(Postmortem).where(*where).order_by(col(Postmortem.id).desc())).all())


def published_since(
    *, db_session: Session, since: datetime, until: datetime | None = None
) -> list[Postmortem]:
    """Postmortems published at or after `since` (and before `until`), newest first — digest input."""
    where = [col(Postmortem.status) == Status.PUBLISHED.value, col(Postmortem.published_at) >= since]
    if until is not None:
        where.append(col(Postmortem.published_at) < until)
    return list(
        db_session.exec(select(Postmortem).where(*where).order_by(col(Postmortem.published_at).desc())).all()
    )


def get_action_item(*, db_session: Session, action_item_id: int) -> ActionItem:
    item = db_session.get(ActionItem, action_item_id)
    if item is None:
        raise NotFound(f"There is no action item {ai_ref(action_item_id)}.")
    return item


def action_items_of(
    *, db_session: Session, owner_id: str, include_done: bool = False, limit: int | None = None
) -> tuple[list[tuple[ActionItem, Postmortem]], int]:
    """A person's action items, soonest due first (open ones before done ones); and how many."""
    where = [col(ActionItem.owner_id) == owner_id]
    if not include_done:
        where.append(col(ActionItem.status) == ActionStatus.OPEN.value)
    rows = db_session.exec(
        select(ActionItem, Postmortem)
        .join(Postmortem, col(Postmortem.id) == col(ActionItem.postmortem_id))
        .where(*where)
        .order_by(col(ActionItem.status).desc(), col(ActionItem.due_on), col(ActionItem.id))
    ).all()
    pairs = [(a, p) for a, p in rows]
    return (pairs[:limit] if limit else pairs), len(pairs)


def overdue_action_items(*, db_session: Session, today: date) -> list[tuple[ActionItem, Postmortem]]:
    """Open action items due before `today`, most overdue first (digests, `/postmortem actions overdue`)."""
    return open_action_items_due(db_session=db_session, before=today)


def open_action_items_due(
    *, db_session: Session, before: date, inclusive: bool = False
) -> list[tuple[ActionItem, Postmortem]]:
    due = col(ActionItem.due_on) <= before if inclusive else col(ActionItem.due_on) < before
    rows = db_session.exec(
        select(ActionItem, Postmortem)
        .join(Postmortem, col(Postmortem.id) == col(ActionItem.postmortem_id))
        .where(col(ActionItem.status) == ActionStatus.OPEN.value, due)
        .order_by(col(ActionItem.due_on), col(ActionItem.id))
    ).all()
    return [(a, p) for a, p in rows]


def postmortems_of(*, db_session: Session, slack_id: str, open_only: bool = True) -> list[Postmortem]:
    """Postmortems a person writes or takes part in (their App Home), newest first."""
    mine = select(PostmortemParticipant.postmortem_id).where(PostmortemParticipant.slack_id == slack_id)
    where = [(col(Postmortem.author_id) == slack_id) | col(Postmortem.id).in_(mine)]
    if open_only:
        where.append(col(Postmortem.status) != Status.PUBLISHED.value)
    return list(
        db_session.exec(select(Postmortem).where(*where).order_by(col(Postmortem.updated_at).desc())).all()
    )


# --------------------------------------------------------------------------------------------
# Permissions
# --------------------------------------------------------------------------------------------


def can_edit(*, db_session: Session, pm: Postmortem, actor_id: str, is_admin: bool) -> bool:
    """The author, a participant, or an admin — the one rule for editing and moving a postmortem."""
    if is_admin or pm.author_id == actor_id:
        return True
    return (
        db_session.get(PostmortemParticipant, (pm.id, actor_id)) is not None if pm.id is not None else False
    )


def require_edit(
    *, db_session: Session, pm: Postmortem, actor_id: str, is_admin: bool, doing: str = "change"
) -> None:
    if not can_edit(db_session=db_session, pm=pm, actor_id=actor_id, is_admin=is_admin):
        raise Forbidden(
            f"Only <@{pm.author_id}> (the author of {pm_ref(pm.id)}), its participants or an admin can "
            f"{doing} it. Everyone can read it: `/postmortem {pm_ref(pm.id)}`."
        )


def can_close_action(*, db_session: Session, item: ActionItem, actor_id: str, is_admin: bool) -> bool:
    if item.owner_id == actor_id:
        return True
    pm = get(db_session=db_session, postmortem_id=item.postmortem_id)
    return can_edit(db_session=db_session, pm=pm, actor_id=actor_id, is_admin=is_admin)


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def touch(db_session: Session, pm: Postmortem, now: datetime | None = None) -> None:
    pm.updated_at = now or utcnow()
    db_session.add(pm)


def record(
    db_session: Session, actor_id: str, action: str, record_type: str, record_id: str, detail: str = ""
) -> None:
    audit.record(
        db_session=db_session,
        actor_id=actor_id,
        action=f"postmortem.{action}",
        record_type=record_type,
        record_id=record_id,
        detail=detail,
    )


def clean_fields(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Validate template fields as a form would: each cleaned, too long refused with its label."""
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "severity":
            out[key] = None if value in (None, "") else parse_severity(value)
            continue
        spec = FIELD_BY_KEY.get(key)
        if spec is None:
            raise UserError(f"`{key}` is not a postmortem field.")
        text = clean_text(
            str(value or ""),
            what=spec.label.lower(),
            limit=spec.limit,
            required=key == "title",
            multiline=spec.multiline,
        )
        out[key] = neutralise_pings(text)
    return out


def _set_participants(db_session: Session, pm: Postmortem, user_ids: Iterable[str]) -> list[str]:
    wanted = [u for u in dict.fromkeys(user_ids) if is_user_id(u) and u != pm.author_id]
    if len(wanted) > MAX_PARTICIPANTS:
        raise UserError(f"At most {MAX_PARTICIPANTS} participants fit on a postmortem.")
    existing = set(participants_of(db_session, pm.id or 0))
    for uid in existing - set(wanted):
        row = db_session.get(PostmortemParticipant, (pm.id, uid))
        if row is not None:
            db_session.delete(row)
    for uid in wanted:
        if uid not in existing:
            db_session.add(PostmortemParticipant(postmortem_id=pm.id or 0, slack_id=uid))
    return wanted


def add_participants(*, db_session: Session, postmortem_id: int, user_ids: Iterable[str]) -> list[str]:
    """Add people (no permission needed: drafting from a channel adds who spoke). Returns the new ones."""
    pm = get(db_session=db_session, postmortem_id=postmortem_id)
    existing = set(participants_of(db_session, postmortem_id))
    added = []
    for uid in dict.fromkeys(user_ids):
        if is_user_id(uid) and uid != pm.author_id and uid not in existing:
            if len(existing) + len(added) >= MAX_PARTICIPANTS:
                break
            db_session.add(PostmortemParticipant(postmortem_id=postmortem_id, slack_id=uid))
            added.append(uid)
    return added


def create(
    *,
    db_session: Session,
    actor_id: str,
    title: str,
    severity: int | str | None = None,
    channel_id: str | None = None,
    fields: Mapping[str, Any] | None = None,
    participants: Iterable[str] = (),
    now: datetime | None = None,
    drafted_with: str = "",
) -> Postmortem:
    """A new draft, written by `actor_id`, linked to `channel_id` when started in a channel."""
    values = clean_fields({"title": title, **(fields or {}), "severity": severity})
    when = now or utcnow()
    pm = Postmortem(
        author_id=actor_id,
        channel_id=channel_id if channel_id and channel_id[:1] in "CG" else None,
        status=Status.DRAFT.value,
        drafted_with=drafted_with[:200],
        created_at=when,
        updated_at=when,
        **values,
    )
    db_session.add(pm)
    db_session.flush()
    _set_participants(db_session, pm, participants)
    record(db_session, actor_id, "create", "postmortem", pm_ref(pm.id), pm.title)
    return pm


def update(
    *,
    db_session: Session,
    actor_id: str,
    is_admin: bool,
    postmortem_id: int,
    changes: Mapping[str, Any],
    participants: Iterable[str] | None = None,
    channel_id: str | None | object = ...,
    now: datetime | None = None,
) -> Postmortem:
    """Change template fields (and participants, the linked channel): all validated, or nothing."""
    pm = get(db_session=db_session, postmortem_id=postmortem_id)
    require_edit(db_session=db_session, pm=pm, actor_id=actor_id, is_admin=is_admin, doing="edit")
    values = clean_fields(changes)
    if pm.status == Status.PUBLISHED.value:
        missing = missing_for_publish(
            {**pm.model_dump(), **values}, len(timeline_of(db_session, postmortem_id))
        )
        if missing:
            raise UserError(f"{pm_ref(pm.id)} is published, so it can't lose its {human_list(missing)}.")
    changed = [k for k, v in values.items() if getattr(pm, k) != v]
    for key, value in values.items():
        setattr(pm, key, value)
    if participants is not None:
        _set_participants(db_session, pm, participants)
        changed.append("participants")
    if channel_id is not ...:
        pm.channel_id = channel_id if isinstance(channel_id, str) and channel_id[:1] in "CG" else None
        changed.append("channel")
    touch(db_session, pm, now)
    record(db_session, actor_id, "update", "postmortem", pm_ref(pm.id), ", ".join(changed))
    return pm


# --------------------------------------------------------------------------------------------
# For other features (digests, the DM assistant)
# --------------------------------------------------------------------------------------------


def summary_text(*, db_session: Session, postmortem_id: int) -> str:
    """One postmortem as a few plain-text lines — "summarize PM-3" in a DM, a digest entry."""
    d = detail(db_session=db_session, postmortem_id=postmortem_id)
    pm = d.pm
    sev = f"SEV{pm.severity}" if pm.severity else "severity not set"
    lines = [f"{d.ref} {pm.title} — {sev}, {Status(pm.status).label}"]
    if pm.summary:
        lines.append(f"Summary: {pm.summary}")
    impact = "; ".join(x for x in (pm.impact_who, pm.impact_count, pm.impact_duration) if x)
    if pm.impact or impact:
        lines.append(f"Impact: {pm.impact}{' (' + impact + ')' if impact else ''}".strip())
    if pm.contributing_factors:
        lines.append(f"Contributing factors: {pm.contributing_factors}")
    open_items = [a for a in d.actions if a.status == ActionStatus.OPEN.value]
    if d.actions:
        lines.append(f"Action items: {len(open_items)} open of {len(d.actions)}")
    return "\n".join(lines)


def fields_of(pm: Postmortem) -> dict[str, Any]:
    """The template's values of a postmortem, by field key (with severity)."""
    values: dict[str, Any] = {f.key: getattr(pm, f.key) for f in FIELDS}
    values["severity"] = pm.severity
    return values


def reminder_window(today_utc: date) -> date:
    """The latest due date any time zone could call "tomorrow" on `today_utc` (UTC+14 is a day ahead)."""
    return today_utc + timedelta(days=2)
