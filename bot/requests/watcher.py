"""The SLA watcher: a periodic job that issues warnings (80%) and breaches, each exactly once.

`collect` decides in the database (no Slack): for each running request whose `next_check_at`
has come (on the `(status, next_check_at)` index), it claims the delivery key
`ssp:<warning|breach>:<clock>:REQ-n` with `bot.common.delivery.claim` in the same transaction
that records the event and sets the request's flag, and commits. A second replica or a rerun
loses the claim and stays silent. `run(ctx, client)` then posts what was won — the warning to
the assignee (the lead when nobody is assigned), the breach in the team channel and to the lead —
and marks each delivery sent. It also closes requests resolved more than `CLOSE_AFTER` ago.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from bot.common import delivery
from bot.requests import service, sla
from storage.db import Database
from storage.models import Team
from storage.models.requests import ServiceRequest

log = logging.getLogger(__name__)

BATCH = 200
CLOSE_AFTER = timedelta(days=7)
EVERY = timedelta(minutes=1)


@dataclass
class Announcement:
    step: str  # warning | breach | closed
    clock: str  # first_response | resolution | "" for closed
    key: str
    request: ServiceRequest
    team: Team
    due: datetime


def collect(*, db: Database, now: datetime, batch: int = BATCH) -> list[Announcement]:
    """Claim and record every warning, breach and auto-close due at `now`."""
    out: list[Announcement] = []
    with db.session() as s:
        ids = s.exec(
            select(ServiceRequest.id)
            .where(col(ServiceRequest.status).in_(sla.OPEN), col(ServiceRequest.next_check_at) <= now)
            .order_by(col(ServiceRequest.next_check_at))
            .limit(batch)
        ).all()
    for rid in ids:
        with db.session() as s:
            req = s.get(ServiceRequest, rid)
            team = s.get(Team, req.team_id) if req is not None else None
            if req is None or team is None:
                continue
            for due in sla.due_now(req, now):
                key = f"ssp:{due.step}:{due.clock}:{service.ref(req.id)}"
                won = delivery.claim(db_session=s, key=key, kind=f"ssp_{due.step}", detail=team.key)
                sla.mark(req, due)  # the winner (us or another replica) records the same flags
                if not won:
                    continue
                service._event(
                    s,
                    req,
                    actor_id=service.WATCHER,
                    kind="sla_breach" if due.step == "breach" else "sla_warning",
                    now=now,
                    detail=due.clock,
                )
                out.append(Announcement(due.step, due.clock, key, req, team, due.due))
            sla.refresh_next_check(req)
            s.add(req)
    out.extend(_close_resolved(db=db, now=now, batch=batch))
    return out


def _close_resolved(*, db: Database, now: datetime, batch: int) -> list[Announcement]:
    out: list[Announcement] = []
    with db.session() as s:
        ids = s.exec(
            select(ServiceRequest.id)
            .where(ServiceRequest.status == "resolved", col(ServiceRequest.resolved_at) <= now - CLOSE_AFTER)
            .limit(batch)
        ).all()
    for rid in ids:
        with db.session() as s:
            req = s.get(ServiceRequest, rid)
            if req is None or req.status != "resolved" or req.resolved_at is None:
                continue
            key = f"ssp:closed:{service.ref(req.id)}:{int(req.resolved_at.timestamp())}"
            if not delivery.claim(db_session=s, key=key, kind="ssp_closed"):
                continue
            team = s.get(Team, req.team_id)
            service._move(
                s, req, team, "closed", actor_id=service.WATCHER, now=now, note="closed after a week resolved"
            )  # type: ignore[arg-type]
            out.append(Announcement("closed", "", key, req, team, now))  # type: ignore[arg-type]
    return out


def run(ctx: Any, client: Any) -> None:
    """The job: collect at `ctx.clock.now()`, then post what was won."""
    from bot.requests import notify

    for announcement in collect(db=ctx.db, now=ctx.clock.now()):
        status = "sent"
        try:
            notify.announce(ctx, client, announcement)
        except Exception:
            log.exception("could not announce %s", announcement.key)
            status = "failed"
        with ctx.db.session() as s:
            delivery.mark(db_session=s, key=announcement.key, status=status)
