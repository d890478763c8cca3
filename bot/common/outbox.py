"""Posting claimed messages exactly once, and resolving the claims a crash left behind.

The rule is in `bot/common/delivery.py`; this is its Slack half: `send` posts a claimed message
with its key in the message metadata, waits out 429s (renewing the lease, re-checking ownership),
releases the claim on an unknown outcome rather than retrying blindly; `reconcile` takes stale
claims over by compare-and-set and posts one only when the channel does not already hold it.
`SentRecorder` records successful posts in batches, so posting lanes never wait on the database.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import delete, or_, update
from sqlmodel import col, select

from bot.common import delivery
from bot.common.delivery import (
    BACKOFF_BASE,
    BACKOFF_MAX,
    GRACE,
    HISTORY_PAGES,
    LEASE,
    MARKER,
    MAX_ATTEMPTS,
    MAX_RATE_LIMIT_WAITS,
    PERMANENT,
    POST_TIMEOUT,
    Clock,
    Message,
    Outcome,
    mark,
)
from storage.db import Database
from storage.models import Delivery
from storage.models.digests import OutboxMessage
from storage.types import utcnow

log = logging.getLogger(__name__)


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
    owner = owner or delivery.OWNER
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
    owner = owner or delivery.OWNER
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
    owner = owner or delivery.OWNER
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
