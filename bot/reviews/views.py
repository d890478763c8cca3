"""Block Kit for thread summaries: pure functions from results to message payloads.

A summary of a long thread can exceed one message, so `summary_messages` returns a list of
payloads, each within Slack's limits (3,000 characters a section, 50 blocks a message); the
listener posts them in order. Every bullet links to the message(s) it comes from.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from bot.common import views
from bot.reviews.i18n import EN, count, words
from bot.reviews.service import Result
from bot.reviews.summary import Item, escape_mrkdwn
from storage.models.reviews import ReviewChannel

HELP = [
    ("/review ‹message link›", "summarize the thread the link points to (⋯ → Copy link)"),
    ("/review channel #c", "register a product-review channel for the weekly digest"),
    ("/review channel remove #c", "stop including a channel in the digest"),
    ("/review channels", "list the registered product-review channels"),
    ("@Flywheel summarize (in a thread)", "summarize this thread"),
    ("Message shortcut: Summarize thread", "from any message's ⋯ menu"),
]


class ReviewAction(StrEnum):
    """Callback and action IDs of this feature (the manifest registers the shortcut's)."""

    SUMMARIZE_SHORTCUT = "summarize_thread"
    SHARE_IN_THREAD = "review_share_in_thread"


OFFLINE_LABEL = EN.offline_label  # and in Chinese for a Chinese thread: `bot.reviews.i18n.ZH`


def help_message() -> dict[str, Any]:
    return views.help_message(
        "/review — product-review thread summaries",
        HELP,
        "Summaries are only shown to members of the thread's channel.",
    )


def working_message() -> dict[str, Any]:
    text = ":hourglass_flowing_sand: Working on it — reading the thread and writing its summary…"
    return views.message(text, [views.context(text)])


def mention_help() -> dict[str, Any]:
    text = (
        "Mention me with `summarize` inside a thread and I'll summarize it for you. "
        "Type `/review help` for everything I can do with review threads."
    )
    return views.message(text, [views.section(text)])


def refusal(text: str) -> dict[str, Any]:
    return views.error_message(text)


def _cite(item: Item, links: dict[str, str], index_of: dict[str, int]) -> str:
    cited = [ts for ts in item.sources if ts in links]
    return " ".join(f"<{links[ts]}|[{index_of.get(ts, '·')}]>" for ts in cited[:5])


def _bullets(items: list[Item], links: dict[str, str], index_of: dict[str, int], owners: bool = False) -> str:
    lines = []
    for item in items:
        text = item.text
        if owners and item.owner and f"<@{item.owner}>" not in text:
            text = f"<@{item.owner}> — {text}"
        cite = _cite(item, links, index_of)
        lines.append(f"• {text} {cite}".rstrip())
    return "\n".join(lines)


def summary_blocks(result: Result, *, shared_by: str | None = None) -> list[views.Block]:
    """Every block of one summary, in order and in the thread's language; `summary_messages`
    paginates them."""
    s = result.summary
    w = words(s.lang)
    index_of = {ts: i for i, ts in enumerate(sorted(result.links, key=_ts_sort), 1)}
    about = [
        f"<{result.thread_link}|{w.the_thread}>",
        count(s.lang, "message", s.message_count),
        count(s.lang, "person", len(s.people)),
    ]
    if s.mode == "model":
        about.append(w.by_model.format(model=s.model) if s.model else w.by_a_model)
        if s.chunks > 1:
            about.append(w.read_in.format(parts=count(s.lang, "part", s.chunks)))
        if s.cached:
            about.append(w.cached)
        elif s.updated_from_cache:
            about.append(w.updated)
    if shared_by:
        about.append(w.shared_by.format(who=f"<@{shared_by}>"))
    blocks: list[views.Block] = [views.header(w.title), views.context(" · ".join(about))]
    if s.mode != "model":
        reason = s.fallback_reason
        label = w.offline_reason.format(label=w.offline_label, reason=reason) if reason else w.offline_label
        blocks.append(views.context(label if reason else label + w.full_stop))
    blocks += views.sections(f"*{w.tldr}*\n{s.tldr}")
    sections = [
        (w.decisions, s.decisions, False),
        (w.questions, s.questions, False),
        (w.actions, s.actions, True),
    ]
    if s.mode != "model" and s.key_points:
        sections.append((w.key_points, s.key_points, False))
    for title, items, owners in sections:
        body = _bullets(items, result.links, index_of, owners) if items else w.none_found
        pieces = views.split_text(body, views.SECTION_TEXT_LIMIT - len(title) - 10)
        for i, piece in enumerate(pieces):
            label = f"*{title}*" if i == 0 else f"*{w.continued.format(title=title)}*"
            blocks.append(views.section(f"{label}\n{piece}"))
    if s.people:
        # Names, not mentions: sharing a summary should not notify everyone who spoke.
        people = w.list_separator.join(
            escape_mrkdwn(result.names[u]) if u in result.names else f"<@{u}>" for u in s.people[:30]
        )
        more = w.and_more.format(n=len(s.people) - 30) if len(s.people) > 30 else ""
        blocks.append(views.context(w.people_line.format(people=people, more=more)))
    return blocks


def _ts_sort(ts: str) -> tuple[int, int]:
    sec, _, usec = ts.partition(".")
    return (int(sec) if sec.isdigit() else 0, int(usec) if usec.isdigit() else 0)


def share_value(result: Result) -> str:
    return json.dumps({"c": result.channel_id, "t": result.thread_ts}, separators=(",", ":"))


def parse_share_value(value: str) -> tuple[str, str]:
    data = json.loads(value or "{}")
    return str(data["c"]), str(data["t"])


def summary_messages(result: Result, *, shared_by: str | None = None) -> list[dict[str, Any]]:
    """Payloads to post in order: ephemeral with a Share button, or (shared) for the thread."""
    blocks = summary_blocks(result, shared_by=shared_by)
    room = views.MESSAGE_BLOCK_LIMIT - (0 if shared_by else 1)
    pages = views.paginate_blocks(blocks, room)
    w = words(result.summary.lang)
    fallback = f"{w.title}: {result.summary.tldr}"
    out = []
    for n, page in enumerate(pages, 1):
        if not shared_by and n == len(pages):
            page = [
                *page,
                views.actions(
                    views.button(w.share_button, ReviewAction.SHARE_IN_THREAD, share_value(result), "primary")
                ),
            ]
        text = fallback if n == 1 else f"{w.title} ({w.part_of.format(n=n, total=len(pages))})"
        out.append(views.message(text, page, in_channel=bool(shared_by)))
    return out


def shared_confirmation(lang: str = "en") -> dict[str, Any]:
    text = words(lang).shared
    return views.message(text, [views.context(text)])


def channel_registered(channel_id: str, new: bool) -> dict[str, Any]:
    text = (
        f":white_check_mark: <#{channel_id}> is now a product-review channel: its summarized threads "
        "feed the weekly reviews digest (`/digest add reviews weekly mon 09:00`)."
        if new
        else f"<#{channel_id}> is already a product-review channel."
    )
    return views.message(text, [views.section(text)])


def channel_removed(channel_id: str, removed: bool) -> dict[str, Any]:
    text = (
        f"<#{channel_id}> is no longer a product-review channel."
        if removed
        else f"<#{channel_id}> was not a product-review channel."
    )
    return views.message(text, [views.section(text)])


def channel_list(channels: list[ReviewChannel]) -> dict[str, Any]:
    if not channels:
        text = "No product-review channels yet. Register one with `/review channel #channel`."
        return views.message(text, [views.section(text)])
    lines = [f"• <#{c.channel_id}> — registered by <@{c.registered_by}>" for c in channels]
    body = "*Product-review channels*\n" + "\n".join(lines)
    return views.message(body, views.sections(body)[: views.MESSAGE_BLOCK_LIMIT])


def digest_blocks(results: list[Result], *, limit: int = 20) -> list[views.Block]:
    """The reviews part of a digest: one compact section per thread (for bot/digests to embed)."""
    if not results:
        return [views.section("_No product-review threads were active in this period._")]
    blocks: list[views.Block] = []
    for result in results[:limit]:
        s = result.summary
        w = words(s.lang)
        latest = s.decisions[-1].text if s.decisions else None
        lines = [f"{w.digest_thread.format(link=result.thread_link, channel=result.channel_id)} — {s.tldr}"]
        if latest:
            lines.append(w.latest_decision.format(decision=latest))
        counts = " · ".join(
            [
                count(s.lang, "message", s.message_count),
                count(s.lang, "decision", len(s.decisions)),
                count(s.lang, "question", len(s.questions)),
                count(s.lang, "action", len(s.actions)),
            ]
        )
        label = "" if s.mode == "model" else f" · {w.digest_offline}"
        blocks += views.sections("\n".join(lines))
        blocks.append(views.context(f"{counts}{label}"))
    return blocks
