"""What a digest says, per kind, as plain data for `views.py` — gathered through each feature's
own service, for one channel's audience.

A digest is read by everyone in its channel, so it shows only what every member may see:
OKRs and postmortems are open to all; a product-review thread from a private channel appears
only in that channel's own digest (`bot.reviews.service.digest_summaries` applies the rule); a
confidential service team's requests are shown only where every member of the channel belongs
to that team (or is an admin) — elsewhere the team appears as counts only (its figures are
aggregates, which `/ssp stats` shows everyone too).

`Builder` is made once per scheduler run and remembers what it built: subscriptions of one kind
with the same window and audience get the same content, built once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.digests.parse import DigestKind
from bot.okrs import activity
from bot.okrs.scoring import Clock
from bot.requests import stats as ssp_stats

log = logging.getLogger(__name__)

TOP = 5  # every list shows its first five and "and N more"
SSP_DAYS = 30  # the shared-service figures cover the last 30 days, like `/ssp stats`


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime
    tz: ZoneInfo  # the subscription's zone: how times are shown in the channel


@dataclass
class OkrContent:
    cycle_key: str
    days_left: int
    teams: list[activity.TeamProgress]
    risks: list[Any]  # bot.okrs.queries.RiskItem over the snapshot's read-only rows, worst first
    risks_total: int
    checkins: list[activity.CheckinEvent]
    checkins_total: int
    movers: list[activity.Mover]  # the biggest changes in progress, either way
    movers_total: int


@dataclass
class ReviewsContent:
    results: list[Any]  # bot.reviews.service.Result, newest activity first
    total: int  # threads active in the window (all registered channels this audience may see)
    channels: int  # registered review channels


@dataclass
class SspContent:
    stats: list[ssp_stats.TeamStats]  # per service team: aggregates, open to all
    days: int  # the stats' period
    breaches: list[ssp_stats.RequestLine]  # announced in the window, in teams this audience may see
    breaches_total: int
    breaches_hidden: int  # in confidential teams someone in the channel may not see: a count
    oldest: list[ssp_stats.RequestLine]
    oldest_total: int
    oldest_hidden: int


@dataclass
class PostmortemContent:
    published: list[Any]  # storage.models.postmortems.Postmortem, newest first
    published_total: int
    overdue: list[tuple[Any, Any]]  # (ActionItem, Postmortem), most overdue first
    overdue_total: int
    today: date  # in the subscription's zone: what "overdue" is measured against


Content = OkrContent | ReviewsContent | SspContent | PostmortemContent


def okr_content(ctx: Any, window: Window, progress: activity.CycleProgress | None = None) -> OkrContent:
    """The OKR digest for a window, read through the OKR feature's own queries (`bot.okrs.activity`)
    so it shows the statuses `/okr` shows; `progress` (the cycle as it is now) may be shared
    between windows."""
    clock = Clock.of(ctx)
    with ctx.db.session() as s:
        if progress is None:
            progress = activity.cycle_progress(db_session=s, clock=clock)
        checkins = activity.checkins_between(
            db_session=s, clock=clock, since=window.since, until=window.until, limit=TOP
        )
        movers = activity.movers_between(
            db_session=s, clock=clock, since=window.since, until=window.until, limit=TOP, cycle=progress
        )
    span = clock.current()
    return OkrContent(
        cycle_key=span.key,
        days_left=span.days_left(clock.now(), clock.tz),
        teams=progress.teams,
        risks=progress.risks[:TOP],
        risks_total=len(progress.risks),
        checkins=checkins.items,
        checkins_total=checkins.total,
        movers=movers.items,
        movers_total=movers.total,
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


def ssp_content(ctx: Any, window: Window, visible_confidential: frozenset[int]) -> SspContent:
    """Every service team's figures; request details only for teams this audience may see:
    open teams, and confidential ones every member of the channel belongs to (or administers)."""
    from bot.teams import service as teams

    with ctx.db.session() as s:
        service_teams = teams.service_teams(db_session=s)
        stats = [
            ssp_stats.stats(db_session=s, team=t, now=window.until, days=SSP_DAYS) for t in service_teams
        ]
        shown = {
            t.id
            for t in service_teams
            if t.id is not None and (not t.confidential or t.id in visible_confidential)
        }
        breaches, b_total, b_hidden = ssp_stats.breaches_between(
            db_session=s, since=window.since, until=window.until, team_ids=shown, limit=TOP
        )
        oldest, o_total, o_hidden = ssp_stats.oldest_open(db_session=s, team_ids=shown, limit=TOP)
    stats.sort(key=lambda x: (-x.open, x.team.name))
    return SspContent(
        stats=stats,
        days=SSP_DAYS,
        breaches=breaches,
        breaches_total=b_total,
        breaches_hidden=b_hidden,
        oldest=oldest,
        oldest_total=o_total,
        oldest_hidden=o_hidden,
    )


def postmortem_content(ctx: Any, window: Window) -> PostmortemContent:
    """Postmortems are open to every employee: the same digest for every channel."""
    from bot.postmortems import service as postmortems

    today = window.until.astimezone(window.tz).date()
    with ctx.db.session() as s:
        published = postmortems.published_since(db_session=s, since=window.since, until=window.until)
        overdue = postmortems.overdue_action_items(db_session=s, today=today)
    return PostmortemContent(
        published=published[:TOP],
        published_total=len(published),
        overdue=overdue[:TOP],
        overdue_total=len(overdue),
        today=today,
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
    _okr_progress: activity.CycleProgress | None = None  # the cycle now: the same for every window
    _visible: dict[str, frozenset[int]] = field(default_factory=dict)  # channel → confidential teams

    def audience(self, kind: DigestKind, channel_id: str) -> str:
        """Channels whose digest of `kind` may differ from everyone else's."""
        if kind == DigestKind.REVIEWS:
            if self._review_channels is None:
                from bot.reviews import service as reviews

                self._review_channels = {c.channel_id for c in reviews.review_channels(self.ctx.db)}
            # Only a review channel's own digest may include its (possibly private) threads.
            return channel_id if channel_id in self._review_channels else "*"
        if kind == DigestKind.SSP:
            teams = self.visible_confidential(channel_id)
            return ",".join(str(t) for t in sorted(teams)) or "*"
        return "*"  # every OKR and every postmortem is visible to every employee

    def visible_confidential(self, channel_id: str) -> frozenset[int]:
        """The confidential service teams whose requests every member of the channel may see
        (each is a member of the team or an admin). Any doubt — the channel's members cannot be
        read — and the answer is none: their requests then appear as counts only."""
        if channel_id not in self._visible:
            self._visible[channel_id] = self._confidential_for(channel_id)
        return self._visible[channel_id]

    def _confidential_for(self, channel_id: str) -> frozenset[int]:
        from bot.reviews.slack import SlackThreadSource
        from bot.teams import service as teams

        with self.ctx.db.session() as s:
            confidential = [t for t in teams.service_teams(db_session=s) if t.confidential]
            allowed = {t.id: teams.member_ids(db_session=s, team=t) for t in confidential}
        if not confidential:
            return frozenset()
        source = SlackThreadSource(self.client)
        try:
            people = source.channel_members(channel_id) - {source.bot_user_id()}
        except Exception:
            log.warning("cannot read the members of %s; confidential teams shown as counts", channel_id)
            return frozenset()
        if not people:
            return frozenset()
        admins = set(self.ctx.settings.admins)
        return frozenset(t for t, members in allowed.items() if t is not None and people <= members | admins)

    def build(self, kind: DigestKind, window: Window, channel_id: str) -> Content:
        key = (kind, window.since, window.until, self.audience(kind, channel_id))
        content = self.cache.get(key)
        if content is None:
            content = self.cache[key] = self._build(kind, window, channel_id)
        return content

    def _build(self, kind: DigestKind, window: Window, channel_id: str) -> Content:
        if kind == DigestKind.OKR:
            if self._okr_progress is None:
                with self.ctx.db.session() as s:
                    self._okr_progress = activity.cycle_progress(db_session=s, clock=Clock.of(self.ctx))
            return okr_content(self.ctx, window, self._okr_progress)
        if kind == DigestKind.REVIEWS:
            return reviews_content(self.ctx, self.client, window, channel_id)
        if kind == DigestKind.SSP:
            return ssp_content(self.ctx, window, self.visible_confidential(channel_id))
        return postmortem_content(self.ctx, window)
