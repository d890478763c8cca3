"""Timeline entries and action items: adding, editing, closing — and a draft from a channel's messages.

The same rules as the rest of the service: `service.require_edit` (author, participants, admins)
guards every change, except that anyone in a linked channel may add its messages — by :pushpin:
or by drafting again — since they can read them anyway. A message is on a timeline once: its
channel and ts are its identity (checked here, and enforced by a unique constraint).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from bot.common.errors import Forbidden, NotFound, UserError
from bot.postmortems import service
from bot.postmortems.drafting import DraftEntry, severity_from, speakers, title_from_channel
from bot.postmortems.rules import (
    ACTION_TITLE_LIMIT,
    MAX_ACTION_ITEMS,
    MAX_TIMELINE_ENTRIES,
    TIMELINE_TEXT_LIMIT,
    ActionKind,
    ActionStatus,
    Status,
    clean_text,
    is_user_id,
    neutralise_pings,
)
from bot.postmortems.service import ai_ref, pm_ref
from storage.models.postmortems import ActionItem, Postmortem, TimelineEntry
from storage.types import utcnow

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
    pm = service.get(db_session=db_session, postmortem_id=postmortem_id)
    if not by_pin:
        service.require_edit(db_session=db_session, pm=pm, actor_id=actor_id, is_admin=is_admin, doing="edit")
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
    service.touch(db_session, pm)
    service.record(db_session, actor_id, "timeline.add", "postmortem", pm_ref(pm.id), body[:200])
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
    pm = service.get(db_session=db_session, postmortem_id=postmortem_id)
    service.require_edit(db_session=db_session, pm=pm, actor_id=actor_id, is_admin=is_admin, doing="edit")
    entry = _entry(db_session, postmortem_id, entry_id)
    if text is not None:
        entry.text = neutralise_pings(
            clean_text(text, what="timeline entry", limit=TIMELINE_TEXT_LIMIT, required=True)
        )
    if at is not None:
        entry.at = _entry_at(at)
    db_session.add(entry)
    service.touch(db_session, pm)
    service.record(db_session, actor_id, "timeline.edit", "postmortem", pm_ref(pm.id), entry.text[:200])
    return entry


def delete_timeline_entry(
    *, db_session: Session, actor_id: str, is_admin: bool, postmortem_id: int, entry_id: int
) -> None:
    pm = service.get(db_session=db_session, postmortem_id=postmortem_id)
    service.require_edit(db_session=db_session, pm=pm, actor_id=actor_id, is_admin=is_admin, doing="edit")
    entry = _entry(db_session, postmortem_id, entry_id)
    if pm.status == Status.PUBLISHED.value and _timeline_count(db_session, postmortem_id) <= 1:
        raise UserError(f"{pm_ref(pm.id)} is published, so its timeline can't be emptied.")
    db_session.delete(entry)
    service.touch(db_session, pm)
    service.record(db_session, actor_id, "timeline.delete", "postmortem", pm_ref(pm.id), entry.text[:200])


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
    for pm in service.linked_to_channel(db_session=db_session, channel_id=channel_id):
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
    pm = service.get(db_session=db_session, postmortem_id=postmortem_id)
    service.require_edit(
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
    service.touch(db_session, pm)
    service.record(
        db_session, actor_id, "action.add", "action_item", ai_ref(item.id), f"{pm_ref(pm.id)}: {text}"
    )
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
    item = service.get_action_item(db_session=db_session, action_item_id=action_item_id)
    pm = service.get(db_session=db_session, postmortem_id=item.postmortem_id)
    service.require_edit(
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
    service.touch(db_session, pm)
    service.record(db_session, actor_id, "action.edit", "action_item", ai_ref(item.id), text)
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
    item = service.get_action_item(db_session=db_session, action_item_id=action_item_id)
    if not service.can_close_action(db_session=db_session, item=item, actor_id=actor_id, is_admin=is_admin):
        pm = service.get(db_session=db_session, postmortem_id=item.postmortem_id)
        raise Forbidden(
            f"Only <@{item.owner_id}> (its owner), the people on {pm_ref(pm.id)} or an admin can close "
            f"{ai_ref(item.id)}."
        )
    if item.status == ActionStatus.DONE.value:
        raise UserError(f"{ai_ref(item.id)} is already done.")
    _set_status(item, ActionStatus.DONE, actor_id)
    db_session.add(item)
    service.touch(db_session, service.get(db_session=db_session, postmortem_id=item.postmortem_id))
    service.record(db_session, actor_id, "action.done", "action_item", ai_ref(item.id), item.title)
    return item


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
    linked = service.linked_to_channel(db_session=db_session, channel_id=channel_id)
    created = not linked
    if linked:
        pm = linked[0]
    else:
        fields: dict[str, Any] = {}
        if summary:
            fields["summary"] = summary
        if contributing_factors:
            fields["contributing_factors"] = "\n".join(f"- {f}" for f in contributing_factors)
        pm = service.create(
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
        service.add_participants(db_session=db_session, postmortem_id=pm.id or 0, user_ids=speakers(entries))
    return Drafted(pm=pm, added=added, created=created)
