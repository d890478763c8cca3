"""The digest job: each due subscription delivered once per period, as fast as Slack allows.

Every `TICK` the leader's scheduler runs `run_due` (tests and the demo's `jobs` call it too):

1. claims left behind by a crash, an unknown outcome or a lost leader are resolved first
   (`bot.common.delivery.reconcile`: looked up in the channel, posted only if absent);
2. each subscription whose `next_run_at` has passed is planned (`schedule.plan`): the latest
   missed fire time is delivered when less than 6 hours late, older ones are skipped and logged;
3. its content is built (once per kind, window and audience in this run), then — in one
   transaction — the delivery key `digest:D-n:<local date>` is claimed with the message, and the
   subscription advanced by compare-and-set; a replica racing on it loses one or the other and
   rolls back, so it posts nothing;
4. the claimed messages are posted as soon as they are claimed, one lane per channel: in order
   within a channel (Slack allows about one message a second per channel), in parallel across
   channels, waiting out each 429's `Retry-After` exactly.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.common import delivery
from bot.common.delivery import Message, Outcome
from bot.digests import service, views
from bot.digests.content import Builder, Unavailable, Window
from bot.digests.parse import DigestKind
from bot.digests.schedule import Rule, plan
from bot.scheduler import running_as_leader
from storage.models.digests import DigestSubscription

log = logging.getLogger(__name__)

TICK = timedelta(seconds=10)
BATCH = 5000  # subscriptions handled per run; the rest wait for the next tick
MAX_LANES = 100  # channels posted to at once


def key_for(sub_id: int, rule: Rule, fire: datetime) -> str:
    return f"digest:D-{sub_id}:{rule.period(fire)}"


@dataclass
class RunReport:
    due: int = 0
    claimed: int = 0
    lost: int = 0  # periods another run (a replica, a DST repeat) had already claimed
    skipped: int = 0  # periods given up as too late
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


class Lanes:
    """One queue per channel, drained in order by a pool: parallel across channels."""

    def __init__(self, post: Callable[[str, Message], Outcome], max_workers: int = MAX_LANES) -> None:
        self._post = post
        self._max = max_workers
        self._queues: dict[str, deque[tuple[str, Message]]] = {}
        self._active: set[str] = set()
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self.outcomes: list[Outcome] = []

    def submit(self, key: str, message: Message) -> None:
        channel = message.channel
        with self._lock:
            self._queues.setdefault(channel, deque()).append((key, message))
            if channel in self._active:
                return
            self._active.add(channel)
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self._max, thread_name_prefix="flywheel-post")
            self._pool.submit(self._drain, channel)

    def _drain(self, channel: str) -> None:
        while True:
            with self._lock:
                queue = self._queues[channel]
                if not queue:
                    self._active.discard(channel)
                    return
                key, message = queue.popleft()
            try:
                outcome = self._post(key, message)
            except Exception:
                log.exception("posting %s failed", key)
                outcome = Outcome(key, "retry", error="bug")
            with self._lock:
                self.outcomes.append(outcome)

    def join(self) -> list[Outcome]:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        return self.outcomes


class _Raced(Exception):
    """Another run advanced the subscription first: roll our claim back."""


def run_due(ctx: Any, client: Any) -> RunReport:
    report = RunReport()
    clock = ctx.clock.now
    report.outcomes += delivery.reconcile(db=ctx.db, client=client, clock=clock, leader=running_as_leader())
    now = clock()
    with ctx.db.session() as s:
        subs = service.due(db_session=s, now=now, limit=BATCH)
    report.due = len(subs)
    if not subs:
        return report
    builder = Builder(ctx, client)
    lanes = Lanes(
        lambda key, message: delivery.send(db=ctx.db, client=client, key=key, message=message, clock=clock)
    )
    try:
        for sub in subs:
            try:
                _deliver(ctx, sub, now, builder, lanes, report)
            except _Raced:
                report.lost += 1
            except Exception:
                log.exception("digest D-%s could not be prepared; it is retried at the next tick", sub.id)
    finally:
        report.outcomes += lanes.join()
    return report


def _deliver(
    ctx: Any, sub: DigestSubscription, now: datetime, builder: Builder, lanes: Lanes, report: RunReport
) -> None:
    rule = service.rule_of(sub)
    todo = plan(rule, sub.next_run_at, now)
    assert todo.next_run_at is not None
    for fire in todo.skipped:
        log.warning(
            "digest D-%s (%s in %s) for %s skipped: %.1f h late (a late digest is sent up to 6 h late)",
            sub.id,
            sub.kind,
            sub.channel_id,
            rule.period(fire),
            (now - fire).total_seconds() / 3600,
        )
    report.skipped += len(todo.skipped)
    if todo.send is None:
        with ctx.db.session() as s:
            if not service.advance(db_session=s, sub=sub, next_run_at=todo.next_run_at, covered_until=None):
                raise _Raced
            if todo.skipped:
                latest = todo.skipped[-1]
                hours = (now - latest).total_seconds() / 3600
                delivery.claim(
                    db_session=s,
                    key=key_for(sub.id or 0, rule, latest),
                    kind="digest",
                    status="skipped",
                    detail=f"{hours:.1f} h late",
                )
        return
    kind = DigestKind(sub.kind)
    window = Window(since=sub.covered_until or todo.send - rule.length, until=now, tz=rule.tz)
    content = builder.build(kind, window, sub.channel_id)
    if isinstance(content, Unavailable):
        log.warning(
            "digest D-%s: the %s digest is not available in this version; not posted", sub.id, kind.value
        )
        with ctx.db.session() as s:
            service.advance(db_session=s, sub=sub, next_run_at=todo.next_run_at, covered_until=None)
        return
    payload = views.digest_message(
        content, kind=kind, window=window, cadence=sub.cadence, sub_ref=service.ref(sub)
    )
    message = Message(channel=sub.channel_id, text=payload["text"], blocks=payload["blocks"])
    key = key_for(sub.id or 0, rule, todo.send)
    with ctx.db.session() as s:
        won = delivery.claim(
            db_session=s,
            key=key,
            kind="digest",
            detail=f"{sub.kind} in {sub.channel_id}",
            message=message,
            now=now,
        )
        if not service.advance(
            db_session=s, sub=sub, next_run_at=todo.next_run_at, covered_until=now if won else None
        ):
            raise _Raced
    if won:
        report.claimed += 1
        lanes.submit(key, message)
    else:
        report.lost += 1
