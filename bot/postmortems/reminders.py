"""The daily reminder: owners of action items due tomorrow (or today) or overdue get one DM a day.

A plain periodic job `run(ctx, client)` (registered hourly; the digests issue moves it onto the
scheduler). "Today" is the owner's own day in their time zone. Each action item is claimed for
that day (`pm:remind:AI-12:2026-12-02`) in the same transaction that decides to remind, before
anything is posted — so a second run the same day, a restart or a second replica stays silent,
and an owner gets one DM listing every item claimed for them.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.common import delivery
from bot.postmortems import service, views
from storage.models import Person
from storage.models.postmortems import ActionItem, Postmortem

log = logging.getLogger(__name__)
KIND = "pm_reminder"


def _zone(name: str | None, default: ZoneInfo) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else default
    except (KeyError, ValueError):
        return default


def due_for_reminder(item: ActionItem, today_local: Any) -> bool:
    """Overdue, due today or due tomorrow — in the owner's own calendar."""
    return item.due_on <= today_local + timedelta(days=1)


def run(ctx: Any, client: Any) -> int:
    """Send today's reminders; returns how many DMs went out."""
    now = ctx.clock.now()
    default_tz = ctx.settings.tz
    with ctx.db.session() as s:
        candidates = service.open_action_items_due(
            db_session=s, before=service.reminder_window(now.date()), inclusive=True
        )
        owners = {a.owner_id for a, _ in candidates}
        zones = {
            person.slack_id: person.tz
            for person in (s.get(Person, owner) for owner in owners)
            if person is not None
        }
    by_owner: dict[str, list[tuple[ActionItem, Postmortem]]] = defaultdict(list)
    for item, pm in candidates:
        by_owner[item.owner_id].append((item, pm))
    sent = 0
    for owner, pairs in by_owner.items():
        tz = _zone(zones.get(owner), default_tz)
        today = now.astimezone(tz).date()
        due = [(a, p) for a, p in pairs if due_for_reminder(a, today)]
        if not due:
            continue
        keys: list[str] = []
        claimed: list[tuple[ActionItem, Postmortem]] = []
        with ctx.db.session() as s:
            for item, pm in due:
                key = f"pm:remind:{service.ai_ref(item.id)}:{today.isoformat()}"
                if delivery.claim(db_session=s, key=key, kind=KIND, detail=owner):
                    keys.append(key)
                    claimed.append((item, pm))
        if not claimed:
            continue
        status = "sent"
        try:
            client.chat_postMessage(channel=owner, **views.reminder_message(claimed, today))
            sent += 1
        except Exception:
            log.exception("could not remind %s of %d action items", owner, len(claimed))
            status = "failed"
        with ctx.db.session() as s:
            for key in keys:
                delivery.mark(db_session=s, key=key, status=status)
    return sent
