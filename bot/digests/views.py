"""Block Kit for /digest, the digests themselves and the check-in nudge: pure functions.

Every digest stays within Slack's limits: lists show their first five and "and N more" with the
command that shows the rest; a section holds at most 3,000 characters (longer text is split), a
message at most 50 blocks. Times are Slack date tokens, so each reader sees them in their own
zone; the fallback text uses the subscription's zone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.common import views
from bot.common.views import escape
from bot.digests import kind_views
from bot.digests.content import (
    TOP,
    Content,
    OkrContent,
    PostmortemContent,
    ReviewsContent,
    SspContent,
    Window,
)
from bot.digests.kind_views import when
from bot.digests.parse import DigestKind
from bot.okrs import views as okr_views
from bot.okrs.actions import Action as OkrAction
from bot.okrs.activity import Quiet
from storage.models.digests import DigestSubscription

Block = views.Block
NOTE_CHARS = 120

HELP = [
    ("/digest", "this channel's digest subscriptions"),
    ("/digest add <okr|ssp|postmortems|reviews> daily HH:MM [tz:<zone>]", "a daily digest"),
    ("/digest add <kind> weekly <mon…sun> HH:MM [tz:<zone>]", "a weekly digest"),
    ("/digest remove D-n", "stop a digest"),
    ("/digest preview <kind>", "post one now"),
]
KIND_LINES = {
    DigestKind.OKR: "progress per team, at-risk key results, check-ins since the last digest, top movers",
    DigestKind.SSP: "open requests per team, SLA breaches, oldest waiting, median times, CSAT",
    DigestKind.POSTMORTEMS: "postmortems published since the last digest, overdue action items",
    DigestKind.REVIEWS: "product-review threads active since the last digest, each summarized",
}


def help_message(default_tz: str) -> dict[str, Any]:
    kinds = "\n".join(f"• `{k.value}` — {line}" for k, line in KIND_LINES.items())
    return views.help_message(
        "/digest — scheduled digests",
        HELP,
        f"Kinds:\n{kinds}\nTimes are 24-hour `HH:MM` in `tz:` (an IANA zone like `Europe/Berlin`), "
        f"else in {default_tz}. Anyone in the channel can add or remove its digests (at most 20). "
        "A digest shows only what everyone in the channel may see.",
    )


def sub_line(sub: DigestSubscription, rule_text: str, next_run: datetime, tz: ZoneInfo) -> str:
    return (
        f"`{_ref(sub)}` *{DigestKind(sub.kind).title}* · {escape(rule_text)} · next {when(next_run, tz)}"
        f" · added by <@{sub.created_by}>"
    )


def _ref(sub: DigestSubscription) -> str:
    return f"D-{sub.id}"


def list_message(lines: list[str]) -> dict[str, Any]:
    if not lines:
        text = (
            "This channel has no digests yet. Add one: `/digest add okr weekly mon 09:00` "
            "(`/digest help` for every form)."
        )
        return views.message(text, [views.section(text)])
    body = "*Digests in this channel*\n" + "\n".join(lines)
    blocks = [
        *views.sections(body),
        views.context("`/digest remove D-n` stops one · `/digest preview &lt;kind&gt;` posts one now"),
    ]
    return views.message(body, blocks)


def added(sub: DigestSubscription, rule_text: str, next_run: datetime, tz: ZoneInfo) -> dict[str, Any]:
    text = (
        f":white_check_mark: `{_ref(sub)}`: the {DigestKind(sub.kind).title} digest will be posted here "
        f"{escape(rule_text)}. First one: {when(next_run, tz)}."
    )
    return views.message(
        text, [views.section(text), views.context(f"`/digest remove {_ref(sub)}` stops it.")]
    )


def removed(sub: DigestSubscription, rule_text: str) -> dict[str, Any]:
    title = DigestKind(sub.kind).title
    text = f":wastebasket: `{_ref(sub)}` removed: no more {title} digest {escape(rule_text)} here."
    return views.message(text, [views.section(text)])


def bot_not_in_channel(where: str) -> dict[str, Any]:
    text = (
        f"I'm not a member of <#{where}>, so I can't post digests there yet. "
        "Invite me with `/invite @Flywheel`."
    )
    return views.error_message(text)


def preview_working(kind: DigestKind) -> dict[str, Any]:
    text = f":hourglass_flowing_sand: Putting together the {kind.title} digest…"
    return views.message(text, [views.context(text)])


# ---- the digests ---------------------------------------------------------------------------------


def _fit(blocks: list[Block]) -> list[Block]:
    """At most 50 blocks, each section within 3,000 characters (long text is split, not cut)."""
    fitted: list[Block] = []
    for b in blocks:
        text = (b.get("text") or {}).get("text", "") if b.get("type") == "section" else ""
        fitted += views.sections(text) if len(text) > views.SECTION_TEXT_LIMIT else [b]
    if len(fitted) > views.MESSAGE_BLOCK_LIMIT:
        fitted = fitted[: views.MESSAGE_BLOCK_LIMIT - 1] + [
            views.context("…the digest was too long for one message.")
        ]
    return fitted


def digest_message(
    content: Content,
    *,
    kind: DigestKind,
    window: Window,
    cadence: str | None,
    sub_ref: str | None = None,
    requested_by: str | None = None,
) -> dict[str, Any]:
    """The digest as posted in the channel (a scheduled one, or a preview someone asked for)."""
    title = f"{(cadence or '').capitalize() + ' ' if cadence else ''}{kind.title} digest"
    if isinstance(content, OkrContent):
        head = f"Cycle {content.cycle_key} · {content.days_left} days left"
        body = kind_views.okr_blocks(content, window)
    elif isinstance(content, ReviewsContent):
        head = f"Threads active since {when(window.since, window.tz)}"
        body = kind_views.reviews_blocks(content)
    elif isinstance(content, SspContent):
        head = f"Service teams · figures for the last {content.days} days"
        body = kind_views.ssp_blocks(content, window)
    elif isinstance(content, PostmortemContent):
        head = f"Since {when(window.since, window.tz)}"
        body = kind_views.postmortem_blocks(content, window)
    foot = (
        f"`{sub_ref}` · `/digest remove {sub_ref}` stops it"
        if sub_ref
        else f"Preview asked for by <@{requested_by}>"
    )
    blocks = [views.header(title), *([views.context(head)] if head else []), *body, views.context(foot)]
    return {"text": f"{title} — {head}" if head else title, "blocks": _fit(blocks)}


def nudge_message(stale: list[Quiet]) -> dict[str, Any]:
    """The weekly DM to a KR owner with no check-in for a week: one Check-in button per KR."""
    n = len(stale)
    intro = (
        f":wave: {'A key result of yours has' if n == 1 else f'{n} of your key results have'} "
        "had no check-in "
        "for a week. A quick update keeps everyone's picture current:"
    )
    blocks: list[Block] = [views.section(intro)]
    for item in stale[:TOP]:
        k = item.state
        line = (
            f"`{k.ref}` {escape(k.kr.title)}\n"
            f"{okr_views.bar(k.progress)} {round(k.progress * 100)}% · {okr_views.badge(k.status)}"
        )
        blocks.append(
            views.section(
                line, accessory=views.button("Check in", OkrAction.CHECKIN.for_id(k.kr.id or 0), str(k.kr.id))
            )
        )
    if n > TOP:
        blocks.append(views.context(f"…and {n - TOP} more — `/okr mine` shows them all."))
    blocks.append(views.context("You get this at most once a week, on Mondays at 10:00 your time."))
    return {"text": intro, "blocks": blocks}
