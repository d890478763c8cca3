"""Once-only effects: claim a delivery key before announcing anything, then post it exactly once.

An SLA warning, a breach announcement, a reminder, a digest for one period — each has a key
(`ssp:breach:resolution:REQ-12`, `digest:D-3:2026-12-01`, …). `claim` inserts it with
`ON CONFLICT DO NOTHING` inside the caller's own transaction and says whether this caller won,
so the decision to send and the record that it was decided commit together: a restart or a
second replica racing on the same key loses the insert and stays silent.

Claiming alone makes an effect *at most* once: a process that dies between its commit and its
`chat.postMessage` leaves a claim nobody posts. Pass the message to `claim(message=…)` and post
it with `bot.common.outbox.send` to make it *exactly* once (`outbox.reconcile` resolves what a
crash left behind; the digest job runs it every tick). The rule:

1. The claim and the message go into one transaction (`deliveries` + `delivery_outbox`); the
   claimant holds a lease (`LEASE`) and posts right after the commit.
2. Every post carries its key in Slack message metadata (`event_type: flywheel_delivery`), so
   "was it posted?" can be answered from the channel itself, whatever happened to this process.
3. Outcomes: posted → `sent` (the outbox row goes); Slack refused for good (`channel_not_found`,
   `not_in_channel`, `is_archived`, invalid blocks…) → `failed`, logged; 429 → wait `Retry-After`
   (renewing the lease and re-checking that the claim is still ours first) and post again — a
   429 means Slack posted nothing; an unknown outcome (timeout, 5xx, connection dropped after
   sending) → the claim is released with a back-off, *never* retried blindly.
4. `reconcile` resolves claims left behind: a released one whose back-off has passed, one whose
   lease ran out (its process stalled or died), or — on the scheduler's leader only — one made
   by another process more than `GRACE` ago (the leader holds the lock, so that process lost it:
   it died, or lost the database and stops at its next ownership check). Taking a claim over is
   a compare-and-set on (owner, attempts), so one process wins. The winner first looks for the
   key in the channel's recent messages: found → marked `sent`, nothing posted; not found →
   posted now; the channel cannot be read → released again. After `MAX_ATTEMPTS` it is `failed`.

So a crash, a restart, a 429 or a second replica never posts twice; the one window left is a
process that loses its lease yet sends a request more than `GRACE` after its last ownership check
(a stall of over 20 s inside one HTTP call), which the metadata check cannot see coming.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from storage.models import Delivery
from storage.models.digests import OutboxMessage
from storage.types import utcnow

log = logging.getLogger(__name__)

_DELIVERIES = Delivery.__table__  # type: ignore[attr-defined]
_OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]

# This process, as the owner of the claims it makes (a restart is a new owner).
OWNER = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
MARKER = "flywheel_delivery"
LEASE = timedelta(minutes=5)  # a claimant posts within this or its claim may be taken over
GRACE = timedelta(seconds=20)  # > POST_TIMEOUT: a lost leader's last request has ended by then
POST_TIMEOUT = 10.0
MAX_ATTEMPTS = 6
MAX_RATE_LIMIT_WAITS = 30
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=15)
HISTORY_PAGES = 5
# Slack errors after which posting again cannot help.
PERMANENT = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "msg_too_long",
    "no_text",
    "invalid_blocks",
    "invalid_arguments",
    "restricted_action",
    "user_not_found",
    "cannot_dm_bot",
    "account_inactive",
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "missing_scope",
}

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Message:
    """What to post: a channel ID (or a user ID for a DM), fallback text and blocks."""

    channel: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None

    def payload(self) -> str:
        return json.dumps({"text": self.text, "blocks": self.blocks}, ensure_ascii=False)

    @classmethod
    def from_row(cls, row: OutboxMessage) -> Message:
        data = json.loads(row.payload)
        return cls(
            channel=row.channel,
            text=data.get("text") or "",
            blocks=data.get("blocks"),
            thread_ts=row.thread_ts,
        )


@dataclass
class Outcome:
    """How one delivery ended this time: sent · found (already posted) · failed · retry · lost."""

    key: str
    status: str
    ts: str | None = None
    channel: str | None = None
    error: str | None = None
    rate_limited: int = 0  # 429s waited out
    posted_at: float | None = None  # time.monotonic() when the request that posted it was sent
    extra: dict[str, Any] = field(default_factory=dict)


# ---- claims --------------------------------------------------------------------------------------


def claim(
    *,
    db_session: Session,
    key: str,
    kind: str,
    detail: str = "",
    message: Message | None = None,
    now: datetime | None = None,
    owner: str | None = None,
    status: str = "claimed",
) -> bool:
    """True when this caller is the first to claim `key` (commit the session to make it stick).

    With `message`, the message is stored with the claim (same transaction) for `send`/`reconcile`.
    `status="skipped"` records a decision not to send (e.g. a digest too late to be useful).
    """
    owner = owner or OWNER
    dialect = db_session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    key = key[:255]
    # Core statements on the session's connection: claims are made by the thousand in a digest run.
    conn = db_session.connection()
    stmt = (
        insert(_DELIVERIES)
        .values(key=key, kind=kind[:32], status=status[:16], detail=detail[:500], claimed_at=utcnow())
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(_DELIVERIES.c.key)  # rowcount is -1 here under psycopg 3; RETURNING is exact
    )
    won = conn.execute(stmt).first() is not None
    if won and message is not None:
        at = now or utcnow()
        conn.execute(
            _OUTBOX.insert().values(
                key=key,
                channel=message.channel[:32],
                thread_ts=message.thread_ts,
                payload=message.payload(),
                owner=owner,
                attempts=1,
                attempted_at=at,
                lease_until=at + LEASE,
                posted_after=time.time() - 60,  # Slack's clock may be a little behind ours
            )
        )
    return won


def mark(*, db_session: Session, key: str, status: str, detail: str | None = None) -> None:
    """Record how a claimed delivery ended: `sent`, `failed`, `skipped`."""
    row = db_session.get(Delivery, key[:255])
    if row is None:
        return
    row.status = status[:16]
    if status == "sent":
        row.sent_at = utcnow()
    if detail is not None:
        row.detail = detail[:500]
    db_session.add(row)


def claimed(*, db_session: Session, key: str) -> bool:
    return db_session.get(Delivery, key[:255]) is not None
