"""What a digest says, per kind, as plain data for `views.py` — gathered through each feature's
own service, for one channel's audience.

A digest is read by everyone in its channel, so it shows only what every member may see:
OKRs are open to all; a product-review thread from a private channel appears only in that
channel's own digest (`bot.reviews.service.digest_summaries` applies the rule); shared-service
requests of confidential teams and postmortems follow their features' visibility rules.

`Builder` is made once per scheduler run and remembers what it built: subscriptions of one kind
with the same window and audience get the same content, built once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.common.errors import UserError
from bot.digests import okr_data
from bot.digests.parse import DigestKind
from bot.okrs import scoring

log = logging.getLogger(__name__)

TOP = 5  # every list shows its first five and "and N more"


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime
    tz: ZoneInfo  # the subscription's zone: how times are shown in the channel


@dataclass
class OkrContent:
    cycle_key: str
    days_left: int
    teams: list[okr_data.TeamProgress]
    risks: list[Any]  # bot.okrs.service.RiskItem over plain rows
    risks_total: int
    checkins: list[okr_data.CheckinRow]
    checkins_total: int
    movers: list[okr_data.Mover]
    movers_total: int


@dataclass
class ReviewsContent:
    results: list[Any]  # bot.reviews.service.Result, newest activity first
    total: int  # threads active in the window (all registered channels this audience may see)
    channels: int  # registered review channels


@dataclass
class Unavailable:
    """A kind whose feature is not part of this version yet."""

    kind: DigestKind


Content = OkrContent | ReviewsContent | Unavailable


def okr_clock(ctx: Any) -> scoring.Clock:
    return scoring.Clock(
        months=ctx.settings.flywheel_okr_cycle_months, tz=ctx.settings.tz, fixed_now=ctx.clock.now()
    )


def okr_content(ctx: Any, window: Window, snapshot: okr_data.CycleSnapshot | None = None) -> OkrContent:
    """The OKR digest for a window; `snapshot` (the cycle as it is now) may be shared between windows."""
    clock = okr_clock(ctx)
    with ctx.db.session() as s:
        if snapshot is None:
            snapshot = okr_data.cycle_snapshot(db_session=s, clock=clock)
        checkins, checkins_total = okr_data.checkins_between(
            db_session=s, since=window.since, until=window.until, limit=TOP
        )
        movers, movers_total = okr_data.movers(
            db_session=s, since=window.since, until=window.until, clock=clock, limit=TOP
        )
    span = clock.current()
    return OkrContent(
        cycle_key=span.key,
        days_left=span.days_left(clock.now(), clock.tz),
        teams=snapshot.teams,
        risks=snapshot.risks[:TOP],
        risks_total=len(snapshot.risks),
        checkins=checkins,
        checkins_total=checkins_total,
        movers=movers,
        movers_total=movers_total,
    )


class _CountingSource:
    """The reviews feature's thread source, remembering how many threads each channel had active
    (the digest summarizes the newest few and says how many more there were)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.active: dict[str, int] = {}

    def active_threads(self, channel_id: str, since_ts: str) -> list[str]:
        found = self.inner.active_threads(channel_id, since_ts)
        self.active[channel_id] = len(found)
        return list(found)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def reviews_content(ctx: Any, client: Any, window: Window, channel_id: str) -> ReviewsContent:
    from bot.reviews import service as reviews
    from bot.reviews.slack import SlackThreadSource

    source = _CountingSource(SlackThreadSource(client))
    results = reviews.digest_summaries(
        db=ctx.db, llm=ctx.llm, source=source, since=window.since, post_channel=channel_id, max_threads=TOP
    )
    results.sort(key=lambda r: _ts_key(r.summary.latest_ts or r.thread_ts), reverse=True)
    return ReviewsContent(
        results=results[:TOP],
        total=max(len(results), sum(source.active.values())),
        channels=len(reviews.review_channels(ctx.db)),
    )


def _ts_key(ts: str) -> tuple[int, int]:
    sec, _, usec = (ts or "0").partition(".")
    return int(sec or 0), int(usec or 0)


@dataclass
class Builder:
    """Builds content per (kind, window, audience), once per scheduler run."""

    ctx: Any
    client: Any
    cache: dict[tuple[Any, ...], Content] = field(default_factory=dict)
    _review_channels: set[str] | None = None
    _okr_snapshot: okr_data.CycleSnapshot | None = None  # the cycle now: the same for every window

    def audience(self, kind: DigestKind, channel_id: str) -> str:
        """Channels whose digest of `kind` may differ from everyone else's."""
        if kind == DigestKind.REVIEWS:
            if self._review_channels is None:
                from bot.reviews import service as reviews

                self._review_channels = {c.channel_id for c in reviews.review_channels(self.ctx.db)}
            # Only a review channel's own digest may include its (possibly private) threads.
            return channel_id if channel_id in self._review_channels else "*"
        if kind == DigestKind.OKR:
            return "*"  # every OKR is visible to every employee
        return channel_id

    def build(self, kind: DigestKind, window: Window, channel_id: str) -> Content:
        key = (kind, window.since, window.until, self.audience(kind, channel_id))
        content = self.cache.get(key)
        if content is None:
            content = self.cache[key] = self._build(kind, window, channel_id)
        return content

    def _build(self, kind: DigestKind, window: Window, channel_id: str) -> Content:
        if kind == DigestKind.OKR:
            if self._okr_snapshot is None:
                with self.ctx.db.session() as s:
                    self._okr_snapshot = okr_data.cycle_snapshot(db_session=s, clock=okr_clock(self.ctx))
            return okr_content(self.ctx, window, self._okr_snapshot)
        if kind == DigestKind.REVIEWS:
            return reviews_content(self.ctx, self.client, window, channel_id)
        return Unavailable(kind)


def require_available(kind: DigestKind) -> None:
    if kind in (DigestKind.SSP, DigestKind.POSTMORTEMS):
        raise UserError(
            f"The {kind.value} digest is not available in this version of Flywheel yet; "
            "`okr` and `reviews` are."
        )
