"""Thread summaries: membership, fetching through a source, model map-reduce, cache, fallback.

No Slack here. The listener layer hands in a `ThreadSource` (a few calls: channel members, the
thread's messages with pagination done, the workspace URL, the bot's own user ID) and renders
what comes back; the scheduler can hand in the same source for digests.

The flow for one ask:
1. the requester must be in the channel, else `Refused` — one message for every reason
   (no such channel, private, not a member), so the answer reveals nothing;
2. the whole thread is read; our own messages (shared summaries) are left out;
3. the cache is keyed by (channel, thread) and stores the newest reply it covers: nothing new
   → the cached summary, no model call; new replies → the cached summary plus the new replies
   go to the model (`update_summary`), not the whole thread again;
4. otherwise the thread is cut into parts that fit the model's budget (never silently
   truncated) and summarized (`bot.reviews.model`: one call, two in turn, or parallel parts and
   a merge), as structured output with the text format as the fallback;
5. any model failure — timeout, 5xx, 429, malformed or off-format answer, deadline — gives the
   offline extractive summary, labelled with the reason, before the caller's deadline.

A summary is written in its thread's language (`bot.reviews.text.language`), and so are its
headings and labels (`bot.reviews.i18n`).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.common import audit
from bot.common.errors import NotFound, UserError
from bot.llm import Deadline, LLMError, LLMGateway
from bot.people import service as people
from bot.reviews import extractive
from bot.reviews.i18n import words
from bot.reviews.model import ThreadJob
from bot.reviews.summary import Summary, ThreadMessage, mentioned_users
from bot.reviews.text import language
from storage.db import Database
from storage.models.reviews import ReviewChannel, ThreadSummary
from storage.types import utcnow

log = logging.getLogger(__name__)

# The whole ask must be answered within 15 s (DESIGN §4); fetching and rendering need some.
MODEL_DEADLINE_SECONDS = 13.0

REFUSAL = (
    "I can't summarize that thread for you. Summaries are only available to members of the "
    "thread's channel — check the link, or ask someone in that channel."
)
BOT_NOT_IN_CHANNEL = (
    "I can't read that channel yet. Invite me with `/invite @Flywheel` in the channel, then ask again."
)
THREAD_NOT_FOUND = "I couldn't find that thread — it may have been deleted. Check the link and try again."
EMPTY_THREAD = "That thread has nothing to summarize yet."

SKIPPED_SUBTYPES = {"channel_join", "channel_leave", "bot_add", "bot_remove", "tombstone", "group_join"}


class Refused(NotFound):
    """The requester may not see this thread; the message says nothing about it."""

    def __init__(self) -> None:
        super().__init__(REFUSAL)


class ChannelUnavailable(Exception):
    """The source cannot see the channel at all (it does not exist, or is private to us)."""


class BotNotInChannel(Exception):
    """The channel exists, but the bot may not read its history."""


class ThreadUnavailable(Exception):
    """No thread at that timestamp."""


class ThreadSource(Protocol):
    """What the service needs from Slack, implemented by the listener layer."""

    def channel_members(self, channel_id: str) -> set[str]:
        """Every member (all pages). Raises ChannelUnavailable."""
        ...

    def thread_messages(self, channel_id: str, thread_ts: str) -> list[dict[str, Any]]:
        """The parent and every reply, all pages. Raises BotNotInChannel or ThreadUnavailable."""
        ...

    def workspace_url(self) -> str:
        """E.g. https://acme.slack.com/ (from auth.test), the base of permalinks."""
        ...

    def bot_user_id(self) -> str | None: ...

    def active_threads(self, channel_id: str, since_ts: str) -> list[str]:
        """Threads with a reply at or after `since_ts`, newest first (for digests)."""
        ...

    def is_private(self, channel_id: str) -> bool: ...


@dataclass
class Result:
    """A summary ready to render: with the permalinks of the messages it cites."""

    summary: Summary
    channel_id: str
    thread_ts: str
    thread_link: str
    links: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # user ID → display name, for the People line


# --- permalinks --------------------------------------------------------------------------

_PERMALINK = re.compile(
    r"https?://[A-Za-z0-9.-]+/archives/(?P<channel>[CGD][A-Z0-9]{2,})/p(?P<sec>\d{10})(?P<usec>\d{6})"
    r"(?P<query>\?[^\s|>]*)?"
)


def permalink(workspace_url: str, channel_id: str, ts: str, thread_ts: str | None = None) -> str:
    """Slack's own permalink shape, so links open the message (in its thread) in any client."""
    base = workspace_url if workspace_url.endswith("/") else workspace_url + "/"
    link = f"{base}archives/{channel_id}/p{ts.replace('.', '')}"
    if thread_ts and thread_ts != ts:
        link += f"?thread_ts={thread_ts}&cid={channel_id}"
    return link


def parse_permalink(text: str) -> tuple[str, str]:
    """(channel, thread_ts) from a message link (escaped `<…>` or bare); the thread, not the reply."""
    m = _PERMALINK.search(text or "")
    if not m:
        raise UserError(
            "That doesn't look like a message link.",
            hint="Use the message's ⋯ menu → *Copy link*, then `/review https://….slack.com/archives/C…/p…`.",
        )
    ts = f"{m.group('sec')}.{m.group('usec')}"
    query = m.group("query") or ""
    thread = re.search(r"[?&]thread_ts=(\d{10}\.\d{6})", query)
    return m.group("channel"), thread.group(1) if thread else ts


def _ts_key(ts: str) -> tuple[int, int]:
    sec, _, usec = ts.partition(".")
    try:
        return int(sec), int(usec or 0)
    except ValueError:
        return 0, 0


# --- membership --------------------------------------------------------------------------


def check_member(source: ThreadSource, channel_id: str, user_id: str) -> None:
    """Raise `Refused` unless `user_id` is in the channel; unknown channels look the same."""
    try:
        members = source.channel_members(channel_id)
    except ChannelUnavailable:
        raise Refused() from None
    if user_id not in members:
        raise Refused()


# --- messages ----------------------------------------------------------------------------


def thread_messages(raw: Iterable[dict[str, Any]], *, bot_user_id: str | None) -> list[ThreadMessage]:
    """Slack's messages → numbered human messages, in order; our own posts and joins left out."""
    kept = []
    for m in raw:
        if m.get("subtype") in SKIPPED_SUBTYPES:
            continue
        if bot_user_id and m.get("user") == bot_user_id:
            continue
        text = str(m.get("text") or "").strip()
        if bot_user_id and f"<@{bot_user_id}>" in text and len(text.split()) <= 6:
            continue  # "@Flywheel summarize" is a request to us, not part of the discussion
        if not text and m.get("files"):
            text = "[shared a file]"
        if not text or not m.get("ts"):
            continue
        kept.append((str(m["ts"]), str(m.get("user") or m.get("bot_id") or ""), text))
    kept.sort(key=lambda t: _ts_key(t[0]))
    unique: dict[str, tuple[str, str, str]] = {}
    for entry in kept:
        unique.setdefault(entry[0], entry)  # pages may overlap on the parent
    return [ThreadMessage(index=i, ts=ts, user=u, text=t) for i, (ts, u, t) in enumerate(unique.values(), 1)]


# --- the cache ---------------------------------------------------------------------------


def _load_cache(db: Database, channel_id: str, thread_ts: str) -> ThreadSummary | None:
    with db.session() as s:
        return s.exec(
            select(ThreadSummary).where(
                ThreadSummary.channel_id == channel_id, ThreadSummary.thread_ts == thread_ts
            )
        ).first()


def _store(db: Database, channel_id: str, thread_ts: str, summary: Summary, requester: str | None) -> None:
    for _attempt in range(2):  # a concurrent ask may insert first: then update its row
        try:
            with db.session() as s:
                row = s.exec(
                    select(ThreadSummary).where(
                        ThreadSummary.channel_id == channel_id, ThreadSummary.thread_ts == thread_ts
                    )
                ).first()
                if row is None:
                    row = ThreadSummary(
                        channel_id=channel_id, thread_ts=thread_ts, latest_ts=summary.latest_ts
                    )
                row.latest_ts = summary.latest_ts
                row.message_count = summary.message_count
                row.mode = summary.mode
                row.model = summary.model[:200]
                row.body = summary.to_json()
                row.requested_by = requester or ""
                row.updated_at = utcnow()
                s.add(row)
            return
        except IntegrityError:
            continue


# --- the entry points --------------------------------------------------------------------


def summarize_thread(
    *,
    db: Database,
    llm: LLMGateway | None,
    source: ThreadSource,
    channel_id: str,
    thread_ts: str,
    requester: str | None,
    deadline: Deadline | None = None,
    prefer_cached: bool = False,
) -> Result:
    """The summary of a thread for `requester` (None: a scheduled job posting to that channel).

    Raises `Refused` (not a member, or no such channel), `UserError` for an unreadable or empty
    thread. Never raises for model trouble: that gives the labelled offline summary.
    `prefer_cached` returns whatever was last shown when nothing changed (sharing what the user
    saw), even an offline summary.
    """
    deadline = deadline or Deadline.after(MODEL_DEADLINE_SECONDS)
    if requester is not None:
        check_member(source, channel_id, requester)
    try:
        raw = source.thread_messages(channel_id, thread_ts)
    except BotNotInChannel:
        raise UserError(BOT_NOT_IN_CHANNEL) from None
    except (ThreadUnavailable, ChannelUnavailable):
        raise UserError(THREAD_NOT_FOUND) from None
    messages = thread_messages(raw, bot_user_id=source.bot_user_id())
    if not messages:
        raise UserError(EMPTY_THREAD)
    base = source.workspace_url()
    result = Result(
        summary=_summary(db, llm, messages, channel_id, thread_ts, requester, deadline, prefer_cached),
        channel_id=channel_id,
        thread_ts=thread_ts,
        thread_link=permalink(base, channel_id, thread_ts),
    )
    result.links = {m.ts: permalink(base, channel_id, m.ts, thread_ts) for m in messages}
    result.names = _names(db, result.summary.people)
    return result


def _names(db: Database, user_ids: list[str]) -> dict[str, str]:
    """Display names from the people table (no API call); unknown IDs are simply left out."""
    if not user_ids:
        return {}
    with db.session() as s:
        found = people.get_many(db_session=s, slack_ids=list(user_ids))
    return {uid: p.real_name or p.name for uid, p in found.items() if p.real_name or p.name}


def _summary(
    db: Database,
    llm: LLMGateway | None,
    messages: list[ThreadMessage],
    channel_id: str,
    thread_ts: str,
    requester: str | None,
    deadline: Deadline,
    prefer_cached: bool,
) -> Summary:
    latest = messages[-1].ts
    row = _load_cache(db, channel_id, thread_ts)
    cached = Summary.from_json(row.body) if row else None
    if row and cached and row.latest_ts == latest and (prefer_cached or row.mode == "model" or llm is None):
        cached.cached = True
        return cached
    people_order = [u for u, _ in Counter(m.user for m in messages if m.user).most_common()]
    names = _names(db, [*people_order, *sorted(mentioned_users(messages) - set(people_order))])
    lang = language(m.text for m in messages)
    if llm is None:
        summary = extractive.summarize(messages, names)
        _store(db, channel_id, thread_ts, summary, requester)
        return summary
    job = ThreadJob(llm, messages, names, deadline, lang)
    try:
        known = {m.ts for m in messages}
        if (
            row is not None
            and cached is not None
            and row.mode == "model"
            and row.latest_ts in known
            and _ts_key(row.latest_ts) < _ts_key(latest)
        ):
            new = [m for m in messages if _ts_key(m.ts) > _ts_key(row.latest_ts)]
            summary = job.update(cached, new)
            summary.updated_from_cache = True
            summary.chunks = 1
        else:
            summary, chunks = job.fresh()
            summary.chunks = chunks
        summary.mode = "model"
        summary.model = llm.model
        summary.lang = lang
    except LLMError as err:
        log.warning("summary of %s/%s falls back to offline: %s", channel_id, thread_ts, err)
        summary = extractive.summarize(messages, names)
        summary.fallback_reason = words(summary.lang).reason(err.kind)
    except Exception:
        # A bug in the model path must not cost the user their summary.
        log.exception("model summary of %s/%s failed", channel_id, thread_ts)
        summary = extractive.summarize(messages, names)
        summary.fallback_reason = words(summary.lang).default_reason
    summary.people = people_order
    summary.message_count = len(messages)
    summary.latest_ts = latest
    _store(db, channel_id, thread_ts, summary, requester)
    return summary


# --- review channels ---------------------------------------------------------------------


def register_channel(*, db: Database, source: ThreadSource, actor: str, channel_id: str) -> bool:
    """`/review channel #c`: the actor must be in the channel. True when newly registered."""
    try:
        members = source.channel_members(channel_id)
    except ChannelUnavailable:
        raise UserError(
            f"I can't find <#{channel_id}>: it doesn't exist, or it is private and I'm not in it."
        ) from None
    if actor not in members:
        raise UserError("You can only register a channel you are a member of.")
    with db.session() as s:
        if s.get(ReviewChannel, channel_id) is not None:
            return False
        s.add(ReviewChannel(channel_id=channel_id, registered_by=actor))
        audit.record(
            db_session=s,
            actor_id=actor,
            action="register",
            record_type="review_channel",
            record_id=channel_id,
        )
    return True


def unregister_channel(*, db: Database, actor: str, channel_id: str, is_admin: bool) -> bool:
    with db.session() as s:
        row = s.get(ReviewChannel, channel_id)
        if row is None:
            return False
        if row.registered_by != actor and not is_admin:
            raise UserError("Only the person who registered the channel, or an admin, can remove it.")
        s.delete(row)
        audit.record(
            db_session=s,
            actor_id=actor,
            action="unregister",
            record_type="review_channel",
            record_id=channel_id,
        )
    return True


def review_channels(db: Database) -> list[ReviewChannel]:
    with db.session() as s:
        return list(s.exec(select(ReviewChannel).order_by(col(ReviewChannel.registered_at))).all())


def recent_summaries(
    db: Database, *, since: datetime, channel_ids: Iterable[str] | None = None
) -> list[ThreadSummary]:
    """Summaries written since `since` in registered channels (or the given ones): digest input."""
    ids = list(channel_ids) if channel_ids is not None else [c.channel_id for c in review_channels(db)]
    if not ids:
        return []
    with db.session() as s:
        return list(
            s.exec(
                select(ThreadSummary)
                .where(col(ThreadSummary.channel_id).in_(ids), col(ThreadSummary.updated_at) >= since)
                .order_by(col(ThreadSummary.updated_at).desc())
            ).all()
        )


DIGEST_MAX_THREADS = 10


def digest_summaries(
    *,
    db: Database,
    llm: LLMGateway | None,
    source: ThreadSource,
    since: datetime,
    post_channel: str,
    max_threads: int = DIGEST_MAX_THREADS,
) -> list[Result]:
    """Summaries of the threads active since `since` in registered review channels, for a digest.

    A digest is posted in `post_channel`, so it must not show a thread to people who could not
    read it: a private channel's threads are included only in a digest posted in that very
    channel; public channels' threads are open to everyone anyway. Summaries come from the same
    cache as on-demand asks, so a weekly digest re-summarizes only threads that grew.
    """
    results: list[Result] = []
    for channel in review_channels(db):
        cid = channel.channel_id
        try:
            if cid != post_channel and source.is_private(cid):
                continue
            threads = source.active_threads(cid, f"{since.timestamp():.6f}")
        except (ChannelUnavailable, BotNotInChannel) as err:
            log.warning("review channel %s is not readable for the digest: %r", cid, err)
            continue
        for ts in threads[:max_threads]:
            try:
                results.append(
                    summarize_thread(
                        db=db, llm=llm, source=source, channel_id=cid, thread_ts=ts, requester=None
                    )
                )
            except UserError as err:
                log.info("skipping thread %s/%s in the digest: %s", cid, ts, err)
    return results
