"""The body of each kind of digest, as Block Kit: pure functions of `content.py`'s data.

Every list shows its first five and "and N more" with the command that shows the rest; text is
escaped (titles, summaries and notes are user text); sections are split before 3,000 characters
by the frame in `views.py`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.common import views
from bot.common.views import escape
from bot.digests.content import TOP, OkrContent, PostmortemContent, ReviewsContent, SspContent, Window
from bot.okrs import views as okr_views
from bot.okrs.scoring import Status

Block = views.Block
NOTE_CHARS = 120
SUMMARY_CHARS = 140


def when(moment: datetime, tz: ZoneInfo, fmt: str = "{date_short_pretty} {time}") -> str:
    """A Slack date token (shown in the reader's zone) with a fallback in `tz`."""
    local = moment.astimezone(tz)
    fallback = f"{local:%a} {local.day} {local:%b %H:%M} {local.tzname()}"
    return f"<!date^{int(moment.timestamp())}^{fmt}|{fallback}>"


def _clip(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return escape(text[:limit]) + ("…" if len(text) > limit else "")


def _more(shown: int, total: int, hint: str) -> str:
    return f"\n…and {total - shown} more — {hint}" if total > shown else ""


# A team's KRs by status, in the order people read them: finished, fine, in trouble, not begun.
_STATUS_ORDER = (Status.DONE, Status.ON_TRACK, Status.AT_RISK, Status.OFF_TRACK, Status.NOT_STARTED)


def _status_counts(statuses: dict[Status, int]) -> str:
    parts = [f"{statuses[s]} {s.value}" for s in _STATUS_ORDER if statuses.get(s)]
    return ", ".join(parts) if parts else "no key results yet"


def okr_blocks(c: OkrContent, window: Window) -> list[Block]:
    blocks: list[Block] = []
    if not c.teams:
        return [views.section(f"_No objectives in cycle {c.cycle_key} yet._ Create one with `/okr new`.")]
    teams = [
        f"{okr_views.bar(t.progress)} *{round(t.progress * 100)}%* {escape(t.name)} — "
        f"{t.objectives} objective{'s' if t.objectives != 1 else ''} · {_status_counts(t.statuses)}"
        for t in c.teams[:TOP]
    ]
    blocks += views.sections(
        "*Progress by team*\n"
        + "\n".join(teams)
        + _more(min(TOP, len(c.teams)), len(c.teams), "`/okr team &lt;name&gt;`")
    )
    if c.risks:
        risks = [
            f"{okr_views.STATUS_ICON[r.state.status]} `{r.state.ref}` {escape(r.state.kr.title)} — "
            f"{round(r.state.progress * 100)}%"
            + (f" · {escape(r.team.name)}" if r.team else "")
            + f" · <@{r.objective.owner_id}>"
            for r in c.risks
        ]
        body = f"*At risk or off track* ({c.risks_total})\n" + "\n".join(risks)
        blocks += views.sections(body + _more(len(c.risks), c.risks_total, "`/okr atrisk`"))
    else:
        blocks.append(views.section("*At risk or off track*\nNone. :tada:"))
    if c.checkins:
        lines = []
        for row in c.checkins:
            before = okr_views.value(row.previous if row.previous is not None else row.kr.start, row.kr.unit)
            note = row.checkin.note.strip().replace("\n", " ")
            note = f" — _{escape(note[:NOTE_CHARS])}{'…' if len(note) > NOTE_CHARS else ''}_" if note else ""
            after = okr_views.value(row.checkin.value, row.kr.unit)
            lines.append(
                f"`KR-{row.kr.id}` {escape(row.kr.title)}: {before} → {after} "
                f"by {okr_views.who(row.checkin.author_id)}{note}"
            )
        body = f"*Check-ins since {when(window.since, window.tz)}* ({c.checkins_total})\n" + "\n".join(lines)
        blocks += views.sections(body + _more(len(c.checkins), c.checkins_total, "`/okr history KR-n`"))
    else:
        blocks.append(views.section(f"*Check-ins since {when(window.since, window.tz)}*\nNone."))
    if c.movers:
        lines = [
            f"`{m.state.ref}` {escape(m.state.kr.title)} "
            f"*{'+' if m.gain > 0 else '−'}{abs(round(m.gain * 100))} pts*"
            f" ({round(m.before * 100)}% → {round(m.state.progress * 100)}%)"
            for m in c.movers
        ]
        blocks += views.sections(
            "*Top movers*\n" + "\n".join(lines) + _more(len(c.movers), c.movers_total, "`/okr search`")
        )
    return blocks


def reviews_blocks(c: ReviewsContent) -> list[Block]:
    from bot.reviews import views as review_views

    if not c.channels:
        return [
            views.section(
                "_No product-review channels are registered._ Register one with `/review channel #channel`."
            )
        ]
    if not c.results:
        return [views.section("_No product-review threads were active in this period._")]
    blocks = review_views.digest_blocks(c.results, limit=TOP)
    if c.total > len(c.results):
        blocks.append(
            views.context(
                f"…and {c.total - len(c.results)} more active threads — "
                "`/review &lt;message link&gt;` summarizes one"
            )
        )
    return blocks


def _age(now: datetime, then: datetime) -> str:
    hours = max(0.0, (now - then).total_seconds() / 3600)
    return f"{hours:.0f}h" if hours < 48 else f"{hours / 24:.0f}d"


def _request_line(r: Any, now: datetime, *, breach: bool) -> str:
    what = f"`REQ-{r.id}` {_clip(r.summary, SUMMARY_CHARS)} · {escape(r.team_name)}"
    if breach:
        clock = "first response" if r.clock == "first_response" else "resolution"
        return f"{what} · {clock} SLA missed {_age(now, r.at)} ago"
    return f"{what} · {r.status.replace('_', ' ')} · open {_age(now, r.created_at)}"


def _hidden(n: int) -> str:
    return f"\n_…plus {n} in confidential teams, not shown in this channel._" if n else ""


def ssp_blocks(c: SspContent, window: Window) -> list[Block]:
    from bot.requests.views import duration

    if not c.stats:
        return [views.section("_No service teams yet._ An admin adds them with `flywheel import teams`.")]
    lines = []
    for st in c.stats[:TOP]:
        csat = f"CSAT {st.csat:.1f}/5 ({st.ratings})" if st.csat is not None else "no ratings"
        lines.append(
            f"*{escape(st.team.name)}*{' :lock:' if st.team.confidential else ''} — {st.open} open"
            f"{f' ({st.waiting} waiting on the requester)' if st.waiting else ''}"
            f"{f', *{st.breached_open} breached*' if st.breached_open else ''} · "
            f"median first response {duration(st.median_first_response)}, "
            f"resolution {duration(st.median_resolution)} · {csat}"
        )
    blocks = views.sections(
        "*Open per team*\n"
        + "\n".join(lines)
        + _more(min(TOP, len(c.stats)), len(c.stats), "`/ssp stats <team>`")
    )
    now = window.until
    if c.breaches or c.breaches_hidden:
        body = "\n".join(_request_line(r, now, breach=True) for r in c.breaches) or "_None you can see here._"
        blocks += views.sections(
            f"*SLA breaches since {when(window.since, window.tz)}* ({c.breaches_total + c.breaches_hidden})\n"
            + body
            + _more(len(c.breaches), c.breaches_total, "`/ssp queue <team>`")
            + _hidden(c.breaches_hidden)
        )
    else:
        blocks.append(views.section(f"*SLA breaches since {when(window.since, window.tz)}*\nNone. :tada:"))
    if c.oldest or c.oldest_hidden:
        body = "\n".join(_request_line(r, now, breach=False) for r in c.oldest) or "_None you can see here._"
        blocks += views.sections(
            "*Oldest open*\n"
            + body
            + _more(len(c.oldest), c.oldest_total, "`/ssp queue <team>`")
            + _hidden(c.oldest_hidden)
        )
    return blocks


def postmortem_blocks(c: PostmortemContent, window: Window) -> list[Block]:
    blocks: list[Block] = []
    if c.published:
        lines = []
        for pm in c.published:
            sev = f" · sev {pm.severity}" if pm.severity else ""
            summary = f"\n{_clip(pm.summary, SUMMARY_CHARS)}" if pm.summary.strip() else ""
            published = when(pm.published_at, window.tz)
            lines.append(f"`PM-{pm.id}` *{escape(pm.title)}*{sev} · published {published}{summary}")
        blocks += views.sections(
            f"*Published* ({c.published_total})\n"
            + "\n".join(lines)
            + _more(len(c.published), c.published_total, "`/postmortem list published`")
        )
    else:
        blocks.append(views.section("*Published*\nNo postmortems were published in this period."))
    if c.overdue:
        lines = []
        for item, pm in c.overdue:
            days = (c.today - item.due_on).days
            lines.append(
                f"`AI-{item.id}` {_clip(item.title, SUMMARY_CHARS)} · <@{item.owner_id}> · "
                f"due {item.due_on.day} {item.due_on:%b} (*{days} day{'s' if days != 1 else ''} overdue*) "
                f"· from `PM-{pm.id}`"
            )
        blocks += views.sections(
            f"*Action items overdue* ({c.overdue_total})\n"
            + "\n".join(lines)
            + _more(len(c.overdue), c.overdue_total, "`/postmortem PM-n`")
        )
    else:
        blocks.append(views.section("*Action items overdue*\nNone. :tada:"))
    return blocks
