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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.common import audit
from bot.common.errors import Forbidden, NotFound, UserError
from bot.common.ids import Kind, format_id
from bot.postmortems import blameless
from bot.postmortems.drafting import DraftEntry, severity_from, speakers, title_from_channel
from bot.postmortems.rules import (
    ACTION_TITLE_LIMIT,
    CHECKED_FIELDS,
    FIELD_BY_KEY,
    FIELDS,
    MAX_ACTION_ITEMS,
    MAX_PARTICIPANTS,
    MAX_TIMELINE_ENTRIES,
    TIMELINE_TEXT_LIMIT,
    ActionKind,
    ActionStatus,
    Status,
    clean_text,
    human_list,
    is_user_id,
    missing_for_publish,
    neutralise_pings,
    parse_severity,
)
from storage.models import Person
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


def _touch(db_session: Session, pm: Postmortem, now: datetime | None = None) -> None:
    pm.updated_at = now or utcnow()
    db_session.add(pm)


def _audit(
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
    _audit(db_session, actor_id, "create", "postmortem", pm_ref(pm.id), pm.title)
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
    _touch(db_session, pm, now)
    _audit(db_session, actor_id, "update", "postmortem", pm_ref(pm.id), ", ".join(changed))
    return pm


# --- the timeline ----------------------------------------------------------------------------


def _timeline_count(db_session: Session, postmortem_id: int) -> int:
    return int(
        db_session.exec(
            select(func.count())
            .select_from(TimelineEntry)
            .where(TimelineEntry.postmortem_id == postmortem_id)
        ).one()
    )


def _entry_at(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise UserError("A timeline entry needs a time with its time zone.")
    return at


def add_timeline_entry(
    *,
    db_session: Session,
    actor_id: str,
    is_admin: bool,
    postmortem_id: int,
    at: datetime,
    text: str,
    source_channel: str | None = None,
    source_ts: str | None = None,
    source_link: str = "",
    posted_by: str | None = None,
    by_pin: bool = False,
) -> TimelineEntry | None:
    """One entry at `at` (when it happened). None when that message is already on the timeline.

    `by_pin`: added with :pushpin: by someone in the linked channel, which needs no edit right.
    """
    pm = get(db_session=db_session, postmortem_id=postmortem_id)
    if not by_pin:
        require_edit(db_session=db_session, pm=pm, actor_id=actor_id, is_admin=is_admin, doing="edit")
    body = neutralise_pings(clean_text(text, what="timeline entry", limit=TIMELINE_TEXT_LIMIT, required=True))
    if source_ts is not None:
        exists = db_session.exec(
            select(TimelineEntry.id).where(
                TimelineEntry.postmortem_id == postmortem_id,
                TimelineEntry.source_channel == source_channel,
                TimelineEntry.source_ts == source_ts,
            )
        ).first()
        if exists is not None:
            return None
    if _timeline_count(db_session, postmortem_id) >= MAX_TIMELINE_ENTRIES:
        raise UserError(
            f"{pm_ref(pm.id)} already has {MAX_TIMELINE_ENTRIES} timeline entries; that is the limit."
        )
    entry = TimelineEntry(
        postmortem_id=postmortem_id,
        at=_entry_at(at),
        text=body,
        source_channel=source_channel,
        source_ts=source_ts,
        source_link=source_link[:500],
        posted_by=posted_by,
        added_by=actor_id,
    )
    # A concurrent pin of the same message fails this flush on the unique (postmortem, channel, ts)
    # and its whole unit of work rolls back; the caller treats that as "already on the timeline".
    db_session.add(entry)
    db_session.flush()
    _touch(db_session, pm)
    _audit(db_session, actor_id, "timeline.add", "postmortem", pm_ref(pm.id), body[:200])
    return entry


def _entry(db_session: Session, postmortem_id: int, entry_id: int) -> TimelineEntry:
    entry = db_session.get(TimelineEntry, entry_id)
    if entry is None or entry.postmortem_id != postmortem_id:
        raise NotFound("That timeline entry no longer exists.")
    return entry


def edit_timeline_entry(
    *,
    db_session: Session,
    actor_id: str,
    is_admin: bool,
    postmortem_id: int,
    entry_id: int,
    at: datetime | None = None,
    text: str | None = None,
) -> TimelineEntry:
    pm = get(db_session=db_session, postmortem_id=postmortem_id)
    require_edit(db_session=db_session, pm=pm, actor_id=actor_id, is_admin=is_admin, doing="edit")
    entry = _entry(db_session, postmortem_id, entry_id)
    if text is not None:
        entry.text = neutralise_pings(
            clean_text(text, what="timeline entry", limit=TIMELINE_TEXT_LIMIT, required=True)
        )
    if at is not None:
        entry.at = _entry_at(at)
    db_session.add(entry)
    _touch(db_session, pm)
    _audit(db_session, actor_id, "timeline.edit", "postmortem", pm_ref(pm.id), entry.text[:200])
    return entry


def delete_timeline_entry(
    *, db_session: Session, actor_id: str, is_admin: bool, postmortem_id: int, entry_id: int
) -> None:
    pm = get(db_session=db_session, postmortem_id=postmortem_id)
    require_edit(db_session=db_session, pm=pm, actor_id=actor_id, is_admin=is_admin, doing="edit")
    entry = _entry(db_session, postmortem_id, entry_id)
    if pm.status == Status.PUBLISHED.value and _timeline_count(db_session, postmortem_id) <= 1:
        raise UserError(f"{pm_ref(pm.id)} is published, so its timeline can't be emptied.")
    db_session.delete(entry)
    _touch(db_session, pm)
    _audit(db_session, actor_id, "timeline.delete", "postmortem", pm_ref(pm.id), entry.text[:200])


def add_pinned_message(
    *,
    db_session: Session,
    actor_id: str,
    channel_id: str,
    ts: str,
    text: str,
    posted_by: str | None,
    link: str,
) -> list[tuple[Postmortem, TimelineEntry]]:
    """A :pushpin: on a message in a linked channel: the message joins the timeline of each open
    postmortem linked there, at the time it was posted. Once per message, however often pinned."""
    at = ts_to_datetime(ts)
    added = []
    for pm in linked_to_channel(db_session=db_session, channel_id=channel_id):
        entry = add_timeline_entry(
            db_session=db_session,
            actor_id=actor_id,
            is_admin=False,
            postmortem_id=pm.id or 0,
            at=at,
            text=text,
            source_channel=channel_id,
            source_ts=ts,
            source_link=link,
            posted_by=posted_by,
            by_pin=True,
        )
        if entry is not None:
            added.append((pm, entry))
    return added


def ts_to_datetime(ts: str) -> datetime:
    """A Slack message ts (`1733152920.000200`) → the aware UTC time it was posted."""
    from datetime import UTC

    try:
        return datetime.fromtimestamp(float(ts), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        raise UserError(f"`{ts}` is not a Slack message timestamp.") from None


# --- action items ----------------------------------------------------------------------------


def _clean_action(title: str, owner_id: str, kind: ActionKind | str) -> tuple[str, str, ActionKind]:
    text = neutralise_pings(
        clean_text(title, what="action item title", limit=ACTION_TITLE_LIMIT, required=True, multiline=False)
    )
    if not is_user_id(owner_id):
        raise UserError(f"`{owner_id[:40]}` is not someone I know — mention the owner: `owner:@name`.")
    return text, owner_id, ActionKind(kind)


def add_action_item(
    *,
    db_session: Session,
    actor_id: str,
    is_admin: bool,
    postmortem_id: int,
    title: str,
    owner_id: str,
    due_on: date,
    today: date,
    kind: ActionKind | str = ActionKind.CORRECTIVE,
) -> ActionItem:
    """A follow-up with an owner and a due date (not in the past, in the actor's own `today`)."""
    pm = get(db_session=db_session, postmortem_id=postmortem_id)
    require_edit(
        db_session=db_session, pm=pm, actor_id=actor_id, is_admin=is_admin, doing="add action items to"
    )
    text, owner, kind = _clean_action(title, owner_id, kind)
    if due_on < today:
        raise UserError(f"The due date {due_on.isoformat()} is in the past — pick today or later.")
    count = db_session.exec(
        select(func.count()).select_from(ActionItem).where(ActionItem.postmortem_id == postmortem_id)
    ).one()
    if count >= MAX_ACTION_ITEMS:
        raise UserError(f"{pm_ref(pm.id)} already has {MAX_ACTION_ITEMS} action items; that is the limit.")
    item = ActionItem(
        postmortem_id=postmortem_id,
        title=text,
        owner_id=owner,
        due_on=due_on,
        kind=kind.value,
        created_by=actor_id,
    )
    db_session.add(item)
    db_session.flush()
    _touch(db_session, pm)
    _audit(db_session, actor_id, "action.add", "action_item", ai_ref(item.id), f"{pm_ref(pm.id)}: {text}")
    return item


def update_action_item(
    *,
    db_session: Session,
    actor_id: str,
    is_admin: bool,
    action_item_id: int,
    today: date,
    title: str | None = None,
    owner_id: str | None = None,
    due_on: date | None = None,
    kind: ActionKind | str | None = None,
    status: ActionStatus | str | None = None,
) -> ActionItem:
    item = get_action_item(db_session=db_session, action_item_id=action_item_id)
    pm = get(db_session=db_session, postmortem_id=item.postmortem_id)
    require_edit(
        db_session=db_session, pm=pm, actor_id=actor_id, is_admin=is_admin, doing="edit action items of"
    )
    text, owner, new_kind = _clean_action(
        item.title if title is None else title,
        item.owner_id if owner_id is None else owner_id,
        kind or item.kind,
    )
    if due_on is not None and due_on != item.due_on and due_on < today:
        raise UserError(f"The due date {due_on.isoformat()} is in the past — pick today or later.")
    item.title, item.owner_id, item.kind = text, owner, new_kind.value
    if due_on is not None:
        item.due_on = due_on
    if status is not None:
        _set_status(item, ActionStatus(status), actor_id)
    db_session.add(item)
    _touch(db_session, pm)
    _audit(db_session, actor_id, "action.edit", "action_item", ai_ref(item.id), text)
    return item


def _set_status(item: ActionItem, status: ActionStatus, actor_id: str) -> None:
    if status == ActionStatus.DONE and item.status != ActionStatus.DONE.value:
        item.done_at, item.done_by = utcnow(), actor_id
    elif status == ActionStatus.OPEN:
        item.done_at, item.done_by = None, None
    item.status = status.value


def complete_action_item(
    *, db_session: Session, actor_id: str, is_admin: bool, action_item_id: int
) -> ActionItem:
    """Close an action item: its owner, the postmortem's editors or an admin."""
    item = get_action_item(db_session=db_session, action_item_id=action_item_id)
    if not can_close_action(db_session=db_session, item=item, actor_id=actor_id, is_admin=is_admin):
        pm = get(db_session=db_session, postmortem_id=item.postmortem_id)
        raise Forbidden(
            f"Only <@{item.owner_id}> (its owner), the people on {pm_ref(pm.id)} or an admin can close "
            f"{ai_ref(item.id)}."
        )
    if item.status == ActionStatus.DONE.value:
        raise UserError(f"{ai_ref(item.id)} is already done.")
    _set_status(item, ActionStatus.DONE, actor_id)
    db_session.add(item)
    _touch(db_session, get(db_session=db_session, postmortem_id=item.postmortem_id))
    _audit(db_session, actor_id, "action.done", "action_item", ai_ref(item.id), item.title)
    return item


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
    d = detail(db_session=db_session, postmortem_id=postmortem_id)
    pm = d.pm
    require_edit(db_session=db_session, pm=pm, actor_id=actor_id, is_admin=is_admin, doing="move")
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
    _touch(db_session, pm, when)
    detail_text = f"{current.value} → {target.value}" + (
        f" with {len(findings)} findings" if findings else ""
    )
    _audit(db_session, actor_id, f"status.{target.value}", "postmortem", d.ref, detail_text)
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


# --------------------------------------------------------------------------------------------
# Drafting from a channel
# --------------------------------------------------------------------------------------------


@dataclass
class Drafted:
    pm: Postmortem
    added: int  # messages newly put on the timeline
    created: bool  # False: the channel already had an open postmortem, which grew


def draft_from_channel(
    *,
    db_session: Session,
    actor_id: str,
    channel_id: str,
    channel_name: str,
    entries: Sequence[DraftEntry],
    summary: str = "",
    contributing_factors: Sequence[str] = (),
    drafted_with: str = "",
    now: datetime | None = None,
) -> Drafted:
    """`/postmortem draft`: each message one timeline entry at its own time (once per message ts).

    A channel with an open postmortem gets its new messages added to that one instead of a second
    draft — anyone in the channel may do that, as with :pushpin:. Otherwise a new draft, titled
    after the channel, with the declared severity, the speakers as participants and, when a model
    wrote them, a first summary and contributing factors.
    """
    linked = linked_to_channel(db_session=db_session, channel_id=channel_id)
    created = not linked
    if linked:
        pm = linked[0]
    else:
        fields: dict[str, Any] = {}
        if summary:
            fields["summary"] = summary
        if contributing_factors:
            fields["contributing_factors"] = "\n".join(f"- {f}" for f in contributing_factors)
        pm = create(
            db_session=db_session,
            actor_id=actor_id,
            title=title_from_channel(channel_name),
            severity=severity_from(entries),
            channel_id=channel_id,
            fields=fields,
            participants=speakers(entries),
            now=now,
            drafted_with=drafted_with,
        )
    added = 0
    for e in entries:
        entry = add_timeline_entry(
            db_session=db_session,
            actor_id=actor_id,
            is_admin=False,
            postmortem_id=pm.id or 0,
            at=ts_to_datetime(e.ts),
            text=e.text,
            source_channel=channel_id,
            source_ts=e.ts,
            source_link=e.link,
            posted_by=e.user,
            by_pin=True,
        )
        added += entry is not None
    if not created:
        add_participants(db_session=db_session, postmortem_id=pm.id or 0, user_ids=speakers(entries))
    return Drafted(pm=pm, added=added, created=created)
