"""The digest job: each due subscription delivered once per period, as fast as Slack allows.

Every `TICK` the leader's scheduler runs `run_due` (tests and the demo's `jobs` call it too):

1. claims left behind by a crash, an unknown outcome or a lost leader are resolved first
   (`bot.common.outbox.reconcile`: looked up in the channel, posted only if absent);
2. each subscription whose `next_run_at` has passed is planned (`schedule.plan`): the latest
   missed fire time is delivered when less than 6 hours late, older ones are skipped and logged;
3. its content is built (once per kind, window and audience in this run), then — in one
   transaction with the others of its batch — the subscription is advanced by compare-and-set
   and the delivery key `digest:D-n:<local date>` claimed with the message; a replica racing on
   it fails the compare-and-set or loses the claim, so it posts nothing;
4. the claimed messages are posted as soon as they are claimed, one lane per channel: in order
   within a channel (Slack allows about one message a second per channel), in parallel across
   channels, waiting out each 429's `Retry-After` exactly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.common import delivery, outbox
from bot.common.delivery import Message, Outcome
from bot.digests import service, views
from bot.digests.content import Builder, Window
from bot.digests.parse import DigestKind
from bot.digests.schedule import Rule, plan
from bot.scheduler import running_as_leader
from storage.models.digests import DigestSubscription

log = logging.getLogger(__name__)

TICK = timedelta(seconds=10)
BATCH = 5000  # subscriptions handled per run; the rest wait for the next tick
CLAIM_BATCH = 50  # subscriptions claimed per transaction
MAX_LANES = 100  # channels posted to at once
CHANNEL_PACE = 1.0  # seconds between posts to a channel Slack has rate-limited (its documented rate)


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
    """One queue per channel, drained in order by a pool: parallel across channels.

    Once Slack has rate-limited a channel, the lane paces that channel's next posts at Slack's
    documented rate (one a second), counted from when the last post went out — rather than
    posting early, collecting another 429 and waiting a whole `Retry-After` from then.
    """

    def __init__(
        self,
        post: Callable[[str, Message], Outcome],
        max_workers: int = MAX_LANES,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._post = post
        self._sleep = sleep
        self._max = max_workers
        self._queues: dict[str, deque[tuple[str, Message]]] = {}
        self._active: set[str] = set()
        self._paced: dict[str, tuple[float, int]] = {}
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
                pace = self._paced.get(channel)  # (first post after Slack limited it, posts since)
            if pace is not None:
                # A fixed timetable from that post: one late wake-up does not delay the rest.
                self._sleep(max(0.0, pace[0] + pace[1] * CHANNEL_PACE - time.monotonic()))
            try:
                outcome = self._post(key, message)
            except Exception:
                log.exception("posting %s failed", key)
                outcome = Outcome(key, "retry", error="bug")
            with self._lock:
                if outcome.rate_limited:  # (re)start the timetable at the post that went through
                    self._paced[channel] = (outcome.posted_at or time.monotonic(), 1)
                elif pace is not None:
                    self._paced[channel] = (pace[0], pace[1] + 1)
            with self._lock:
                self.outcomes.append(outcome)

    def join(self) -> list[Outcome]:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        return self.outcomes


@dataclass
class _Prepared:
    """What one due subscription needs done, decided before touching the database."""

    sub: DigestSubscription
    next_run_at: datetime
    key: str | None = None  # the period to deliver…
    message: Message | None = None
    skipped_key: str | None = None  # …or the latest period given up
    skipped_detail: str = ""


def interleave(subs: list[DigestSubscription]) -> list[DigestSubscription]:
    """Round-robin over channels (each channel's oldest first), so every channel's first digest is
    claimed — and its lane started — before any channel's second: Slack's limit is per channel."""
    by_channel: dict[str, list[DigestSubscription]] = {}
    for sub in sorted(subs, key=lambda x: (x.next_run_at, x.id or 0)):
        by_channel.setdefault(sub.channel_id, []).append(sub)
    ranked = [(rank, channel, sub) for channel, group in by_channel.items() for rank, sub in enumerate(group)]
    return [sub for _, _, sub in sorted(ranked, key=lambda r: (r[0], r[1]))]


def run_due(ctx: Any, client: Any) -> RunReport:
    report = RunReport()
    clock = ctx.clock.now
    report.outcomes += outbox.reconcile(db=ctx.db, client=client, clock=clock, leader=running_as_leader())
    now = clock()
    with ctx.db.session() as s:
        subs = interleave(service.due(db_session=s, now=now, limit=BATCH))
    report.due = len(subs)
    if not subs:
        return report
    builder = Builder(ctx, client)
    recorder = outbox.SentRecorder(ctx.db)
    lanes = Lanes(
        lambda key, message: outbox.send(
            db=ctx.db, client=client, key=key, message=message, clock=clock, recorder=recorder
        )
    )
    try:
        for start in range(0, len(subs), CLAIM_BATCH):
            prepared = []
            for sub in subs[start : start + CLAIM_BATCH]:
                try:
                    prepared.append(_prepare(sub, now, builder, report))
                except Exception:
                    log.exception("digest D-%s could not be prepared; it is retried at the next tick", sub.id)
            try:
                for key, message in _claim(ctx, prepared, now, report):
                    lanes.submit(key, message)
            except Exception:
                log.exception("claiming %d digests failed; they are retried at the next tick", len(prepared))
    finally:
        report.outcomes += lanes.join()
        recorder.close()
    return report


def _prepare(sub: DigestSubscription, now: datetime, builder: Builder, report: RunReport) -> _Prepared:
    rule = service.rule_of(sub)
    todo = plan(rule, sub.next_run_at, now)
    assert todo.next_run_at is not None
    result = _Prepared(sub=sub, next_run_at=todo.next_run_at)
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
        if todo.skipped:
            latest = todo.skipped[-1]
            result.skipped_key = key_for(sub.id or 0, rule, latest)
            result.skipped_detail = f"{(now - latest).total_seconds() / 3600:.1f} h late"
        return result
    kind = DigestKind(sub.kind)
    window = Window(since=sub.covered_until or todo.send - rule.length, until=now, tz=rule.tz)
    content = builder.build(kind, window, sub.channel_id)
    payload = views.digest_message(
        content, kind=kind, window=window, cadence=sub.cadence, sub_ref=service.ref(sub)
    )
    result.key = key_for(sub.id or 0, rule, todo.send)
    result.message = Message(channel=sub.channel_id, text=payload["text"], blocks=payload["blocks"])
    return result


def _claim(
    ctx: Any, prepared: list[_Prepared], now: datetime, report: RunReport
) -> list[tuple[str, Message]]:
    """One transaction for a batch: each subscription advanced by compare-and-set, and only then
    its period claimed with its message — a subscription another run advanced first is left alone,
    so nothing needs rolling back but the whole batch on an error."""
    won: list[tuple[str, Message]] = []
    with ctx.db.session() as s:
        for p in prepared:
            if not service.advance(db_session=s, sub=p.sub, next_run_at=p.next_run_at, covered_until=None):
                report.lost += 1  # another run has this fire time
                continue
            if p.skipped_key:
                delivery.claim(
                    db_session=s, key=p.skipped_key, kind="digest", status="skipped", detail=p.skipped_detail
                )
            if p.key is None or p.message is None:
                continue
            if delivery.claim(
                db_session=s,
                key=p.key,
                kind="digest",
                detail=f"{p.sub.kind} in {p.sub.channel_id}",
                message=p.message,
                now=now,
            ):
                service.set_covered(db_session=s, sub_id=p.sub.id or 0, until=now)
                won.append((p.key, p.message))
            else:
                report.lost += 1  # this period was delivered already (a DST repeat, a replica)
    report.claimed += len(won)
    return won
