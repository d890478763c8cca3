"""Who is looking: their time zone and their "today", and the renders every listener shares."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient

from bot.context import AppContext
from bot.people import service as people
from bot.postmortems import service, views

log = logging.getLogger(__name__)


def viewer_tz(ctx: AppContext, user_id: str) -> ZoneInfo:
    """The viewer's time zone from the people table (what users.info said), else the company's."""
    with ctx.db.session() as s:
        person = people.get(db_session=s, slack_id=user_id)
    try:
        return ZoneInfo(person.tz) if person and person.tz else ctx.settings.tz
    except (KeyError, ValueError):
        return ctx.settings.tz


def today_for(ctx: AppContext, tz: ZoneInfo) -> date:
    return ctx.clock.now().astimezone(tz).date()


def show_message(ctx: AppContext, user_id: str, postmortem_id: int) -> dict[str, Any]:
    """`/postmortem PM-n` for this viewer: their time zone, edit buttons only if they may edit."""
    tz = viewer_tz(ctx, user_id)
    with ctx.db.session() as s:
        d = service.detail(db_session=s, postmortem_id=postmortem_id)
        editable = service.can_edit(db_session=s, pm=d.pm, actor_id=user_id, is_admin=ctx.is_admin(user_id))
    return views.postmortem_message(d, tz=tz, today=today_for(ctx, tz), can_edit=editable)


def refresh_home(ctx: AppContext, client: WebClient, user_id: str) -> None:
    from bot.home.slack import publish

    try:
        publish(ctx, client, user_id)
    except Exception:
        log.exception("could not refresh the App Home of %s", user_id)
