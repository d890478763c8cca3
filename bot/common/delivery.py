"""Once-only effects: claim a delivery key before announcing anything, then post it exactly once.

An SLA warning, a breach announcement, a reminder, a digest for one period — each has a key
(`ssp:breach:resolution:REQ-12`, `digest:D-3:2026-12-01`, …). `claim` inserts it with
`ON CONFLICT DO NOTHING` inside the caller's own transaction and says whether this caller won,
so the decision to send and the record that it was decided commit together: a restart or a
second replica racing on the same key loses the insert and stays silent.

Claiming alone makes an effect *at most* once: a process that dies between its commit and its
`chat.postMessage` leaves a claim nobody posts. Pass the message to `claim(message=…)` and post
it with `send` to make it *exactly* once. The rule:

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
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import delete, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from storage.db import Database
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


def _finish(db: Database, key: str, status: str, detail: str) -> None:
    with db.session() as s:
        s.execute(delete(OutboxMessage).where(col(OutboxMessage.key) == key))
        mark(db_session=s, key=key, status=status, detail=detail)


def _renew(db: Database, key: str, owner: str, now: datetime, lease: timedelta) -> bool:
    """Extend our lease; False when the claim is no longer ours (taken over, or finished)."""
    with db.session() as s:
        row = s.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.key) == key, col(OutboxMessage.owner) == owner)
            .values(lease_until=now + lease, attempted_at=now)
            .returning(OutboxMessage.key)
        ).first()
    return row is not None


def _release(db: Database, key: str, owner: str, now: datetime, error: str) -> Outcome:
    """The outcome is unknown or the post must wait: free the claim after a back-off."""
    with db.session() as s:
        row = s.exec(
            select(OutboxMessage).where(OutboxMessage.key == key, OutboxMessage.owner == owner)
        ).first()
        if row is None:
            return Outcome(key, "lost", error=error)
        if row.attempts >= MAX_ATTEMPTS:
            s.delete(row)
            mark(
                db_session=s,
                key=key,
                status="failed",
                detail=f"gave up after {row.attempts} attempts: {error}",
            )
            log.error("delivery %s failed for good after %s attempts: %s", key, row.attempts, error)
            return Outcome(key, "failed", error=error)
        backoff = min(BACKOFF_MAX, BACKOFF_BASE * (2 ** (row.attempts - 1)))
        row.lease_until = now + backoff
        s.add(row)
    log.warning("delivery %s not confirmed (%s); retrying after %s", key, error, backoff)
    return Outcome(key, "retry", error=error)


# ---- posting -------------------------------------------------------------------------------------

_POSTERS: dict[tuple[str, str | None], WebClient] = {}
_POSTERS_LOCK = threading.Lock()


def _poster(client: WebClient) -> WebClient:
    """A sibling of the app's client with no automatic retries: a blind retry after a dropped
    connection could post twice, and 429s are waited out here, with the lease renewed."""
    key = (client.base_url, client.token)
    with _POSTERS_LOCK:
        poster = _POSTERS.get(key)
        if poster is None:
            poster = WebClient(
                token=client.token, base_url=client.base_url, timeout=POST_TIMEOUT, retry_handlers=[]
            )
            _POSTERS[key] = poster
    return poster


def _retry_after(err: SlackApiError) -> float:
    headers = getattr(err.response, "headers", None) or {}
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(value[0] if isinstance(value, list) else value))
            except (TypeError, ValueError):
                break
    return 1.0


def send(
    *,
    db: Database,
    client: WebClient,
    key: str,
    message: Message,
    clock: Clock,
    owner: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    recorder: SentRecorder | None = None,
) -> Outcome:
    """Post a claimed message (its outbox row must be ours) and record how it ended.

    With a `recorder`, a successful post is recorded by it, in a batch, so the caller can post the
    next message at once; until it is, a restart would find the post in the channel anyway.
    """
    owner = owner or OWNER
    poster = _poster(client)
    waits = 0
    while True:
        started = time.monotonic()
        try:
            response = poster.chat_postMessage(
                channel=message.channel,
                text=message.text,
                blocks=message.blocks,
                thread_ts=message.thread_ts,
                metadata={"event_type": MARKER, "event_payload": {"key": key}},
                unfurl_links=False,
                unfurl_media=False,
            )
        except SlackApiError as err:
            status = getattr(err.response, "status_code", 200)
            code = str(err.response.get("error") or "") if err.response is not None else ""
            if status == 429 or code == "ratelimited":
                waits += 1
                wait = _retry_after(err)
                until = time.monotonic() + wait  # the wait starts now, not after the renewal
                if waits > MAX_RATE_LIMIT_WAITS:
                    return _release(db, key, owner, clock(), "rate limited")
                if not _renew(db, key, owner, clock(), timedelta(seconds=wait) + LEASE):
                    log.warning("delivery %s was taken over while rate limited; not posting", key)
                    return Outcome(key, "lost", rate_limited=waits)
                sleep(max(0.0, until - time.monotonic()))
                continue
            if code in PERMANENT:
                log.error("delivery %s to %s refused by Slack: %s", key, message.channel, code)
                _finish(db, key, "failed", code)
                return Outcome(key, "failed", error=code, rate_limited=waits)
            outcome = _release(db, key, owner, clock(), code or f"HTTP {status}")
            outcome.rate_limited = waits
            return outcome
        except Exception as exc:  # timeout, reset, DNS…: the request may or may not have landed
            outcome = _release(db, key, owner, clock(), type(exc).__name__)
            outcome.rate_limited = waits
            return outcome
        ts, channel = str(response.get("ts") or ""), str(response.get("channel") or message.channel)
        outcome = Outcome(key, "sent", ts=ts, channel=channel, rate_limited=waits, posted_at=started)
        if recorder is not None:
            recorder.add(outcome)
        else:
            _finish(db, key, "sent", f"ts={ts} channel={channel}")
        return outcome


def record_sent(*, db: Database, outcomes: list[Outcome]) -> None:
    """Record many posted deliveries in one transaction."""
    if not outcomes:
        return
    now = utcnow()
    with db.session() as s:
        s.execute(delete(OutboxMessage).where(col(OutboxMessage.key).in_([o.key for o in outcomes])))
        s.execute(
            update(Delivery),
            [
                {"key": o.key, "status": "sent", "sent_at": now, "detail": f"ts={o.ts} channel={o.channel}"}
                for o in outcomes
            ],
        )


class SentRecorder:
    """Records successful posts from any thread, in batches, on a thread of its own: posting lanes
    never wait on the database's write lock (SQLite has one) between two posts."""

    def __init__(self, db: Database, *, every: float = 0.2) -> None:
        self.db = db
        self.every = every
        self._pending: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="flywheel-record", daemon=True)
        self._thread.start()

    def add(self, outcome: Outcome) -> None:
        with self._lock:
            self._pending.append(outcome)

    def _flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
        try:
            record_sent(db=self.db, outcomes=batch)
        except Exception:
            # Not lost: the posts carry their keys, so reconciling finds them in the channel.
            log.exception("could not record %d posted deliveries", len(batch))

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self._flush()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self._flush()


# ---- recovery ------------------------------------------------------------------------------------


class Unverifiable(Exception):
    """The channel could not be read, so whether the message is there is unknown."""


def find_posted(client: WebClient, row: OutboxMessage) -> str | None:
    """The ts of our message carrying `row.key` in the channel's recent messages, if any."""
    try:
        channel = row.channel
        if channel[:1] in ("U", "W"):
            channel = client.conversations_open(users=channel)["channel"]["id"]
        oldest = f"{max(0.0, row.posted_after):.6f}"
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            if row.thread_ts:
                page = client.conversations_replies(
                    channel=channel,
                    ts=row.thread_ts,
                    oldest=oldest,
                    limit=200,
                    cursor=cursor,
                    include_all_metadata=True,
                )
            else:
                page = client.conversations_history(
                    channel=channel, oldest=oldest, limit=200, cursor=cursor, include_all_metadata=True
                )
            for m in page.get("messages") or []:
                meta = m.get("metadata") or {}
                if (
                    meta.get("event_type") == MARKER
                    and (meta.get("event_payload") or {}).get("key") == row.key
                ):
                    return str(m.get("ts"))
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
    except SlackApiError as err:
        raise Unverifiable(str(err.response.get("error") if err.response is not None else err)) from None
    except Exception as exc:
        raise Unverifiable(type(exc).__name__) from None
    raise Unverifiable("too many messages since the claim to be sure")


def pending(
    *, db: Database, now: datetime, leader: bool, owner: str | None = None, limit: int = 100
) -> list[OutboxMessage]:
    """Claims that may be resolved now (see the module's rule 4)."""
    owner = owner or OWNER
    due = col(OutboxMessage.lease_until) <= now
    if leader:
        due = or_(due, (col(OutboxMessage.owner) != owner) & (col(OutboxMessage.attempted_at) <= now - GRACE))
    with db.session() as s:
        return list(
            s.exec(
                select(OutboxMessage).where(due).order_by(col(OutboxMessage.attempted_at)).limit(limit)
            ).all()
        )


def _take(db: Database, row: OutboxMessage, owner: str, now: datetime) -> bool:
    with db.session() as s:
        taken = s.execute(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.key) == row.key,
                col(OutboxMessage.owner) == row.owner,
                col(OutboxMessage.attempts) == row.attempts,
            )
            .values(owner=owner, attempts=row.attempts + 1, attempted_at=now, lease_until=now + LEASE)
            .returning(OutboxMessage.key)
        ).first()
    return taken is not None


def reconcile(
    *,
    db: Database,
    client: WebClient,
    clock: Clock,
    leader: bool,
    owner: str | None = None,
    limit: int = 100,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Outcome]:
    """Resolve claims left behind (crash, unknown outcome, lost leader): each posted at most once."""
    owner = owner or OWNER
    outcomes: list[Outcome] = []
    for row in pending(db=db, now=clock(), leader=leader, owner=owner, limit=limit):
        if not _take(db, row, owner, clock()):
            continue  # someone else took it first
        row.owner, row.attempts = owner, row.attempts + 1
        try:
            ts = find_posted(client, row)
        except Unverifiable as err:
            log.warning("cannot tell whether %s was posted (%s); not posting yet", row.key, err)
            outcomes.append(_release(db, row.key, owner, clock(), f"unverifiable: {err}"))
            continue
        if ts is not None:
            log.info("delivery %s was already posted (ts %s); recorded, not posted again", row.key, ts)
            _finish(db, row.key, "sent", f"ts={ts} channel={row.channel} (found after a restart)")
            outcomes.append(Outcome(row.key, "found", ts=ts, channel=row.channel))
            continue
        log.info("delivery %s was claimed but never posted; posting it now", row.key)
        outcomes.append(
            send(
                db=db,
                client=client,
                key=row.key,
                message=Message.from_row(row),
                clock=clock,
                owner=owner,
                sleep=sleep,
            )
        )
    return outcomes
