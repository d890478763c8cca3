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
4. otherwise the thread is cut into chunks that fit the model's budget (never silently
   truncated), summarized in parallel and merged (`merge_summaries`), hierarchically if needed;
5. any model failure — timeout, 5xx, 429, malformed or off-format answer, deadline — gives the
   offline extractive summary, labelled with the reason, before the caller's deadline.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

import prompts
from bot.common import audit
from bot.common.errors import NotFound, UserError
from bot.llm import Deadline, LLMError, LLMGateway, estimate_messages, estimate_tokens
from bot.people import service as people
from bot.reviews import extractive
from bot.reviews.summary import (
    Summary,
    ThreadMessage,
    mentioned_users,
    merge_structurally,
    parse_answer,
    plain_text,
    render_for_model,
)
from storage.db import Database
from storage.models.reviews import ReviewChannel, ThreadSummary
from storage.types import utcnow

log = logging.getLogger(__name__)

# The whole ask must be answered within 15 s (DESIGN §4); fetching and rendering need some.
MODEL_DEADLINE_SECONDS = 13.0
SUMMARY_MAX_TOKENS = 700
MAP_CONCURRENCY = 4
MAX_MERGE_ROUNDS = 4

REFUSAL = (
    "I can't summarize that thread for you. Summaries are only available to members of the "
    "thread's channel — check the link, or ask someone in that channel."
)
BOT_NOT_IN_CHANNEL = (
    "I can't read that channel yet. Invite me with `/invite @Flywheel` in the channel, then ask again."
)
THREAD_NOT_FOUND = "I couldn't find that thread — it may have been deleted. Check the link and try again."
EMPTY_THREAD = "That thread has nothing to summarize yet."

FALLBACK_REASONS = {
    "timeout": "the model did not answer in time",
    "deadline": "the model did not answer in time",
    "rate_limited": "the model endpoint is busy (rate limited)",
    "server_error": "the model endpoint had an error",
    "connection": "the model endpoint could not be reached",
    "malformed": "the model's answer was malformed",
    "invalid": "the model's answer did not have the expected format",
    "over_budget": "the thread did not fit the model",
    "auth": "the model endpoint refused Flywheel's credentials",
}

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


def format_line(m: ThreadMessage, names: dict[str, str]) -> str:
    """One message as the model sees it: `[n] <@U…> (Name): text`, on one line."""
    text = re.sub(r"\s+", " ", plain_text(m.text)).strip()
    who = f"<@{m.user}>" if m.user.startswith(("U", "W")) else (m.user or "someone")
    name = names.get(m.user)
    return f"[{m.index}] {who}{f' ({name})' if name else ''}: {text}"


@dataclass
class Chunk:
    """Consecutive messages whose lines fit one model call."""

    messages: list[ThreadMessage]
    lines: list[str]

    @property
    def tokens(self) -> int:
        return sum(estimate_tokens(line) + 1 for line in self.lines)


def _split_line(line: str, budget: int) -> list[str]:
    """A message longer than a whole chunk is cut into labelled parts, never dropped."""
    head = line.split(":", 1)[0]
    body = line[len(head) + 1 :]
    room = budget - estimate_tokens(head) - 8
    pieces: list[str] = []
    start, cost = 0, 0.0
    for i, ch in enumerate(body):
        step = 0.25 if ord(ch) < 128 else 1.0  # as estimate_tokens counts
        if cost + step > room - 1:
            pieces.append(body[start:i])
            start, cost = i, 0.0
        cost += step
    if start < len(body):
        pieces.append(body[start:])
    return [f"{head} (part {k}/{len(pieces)}):{piece}" for k, piece in enumerate(pieces, 1)]


def plan_chunks(messages: list[ThreadMessage], names: dict[str, str], budget: int) -> list[Chunk]:
    """Greedy, in order: each chunk within `budget` tokens (estimated), every message in one."""
    chunks: list[Chunk] = []
    current = Chunk([], [])
    for m in messages:
        line = format_line(m, names)
        pieces = [line] if estimate_tokens(line) + 1 <= budget else _split_line(line, budget)
        for piece in pieces:
            cost = estimate_tokens(piece) + 1
            if current.lines and current.tokens + cost > budget:
                chunks.append(current)
                current = Chunk([], [])
            current.lines.append(piece)
            if not current.messages or current.messages[-1] is not m:
                current.messages.append(m)
    if current.lines:
        chunks.append(current)
    return chunks


# --- the model path ----------------------------------------------------------------------


class _Model:
    """One summarization job against the gateway: map, reduce, update, with one deadline."""

    def __init__(
        self, llm: LLMGateway, messages: list[ThreadMessage], names: dict[str, str], deadline: Deadline
    ) -> None:
        self.llm = llm
        self.messages = messages
        self.names = names
        self.deadline = deadline
        self.index_of = {m.ts: m.index for m in messages}
        self.allowed = {m.user for m in messages if m.user} | mentioned_users(messages)
        self.calls = 0

    def _nonce(self) -> str:
        return secrets.token_hex(6)

    def _budget(self, template: str, **empty: str) -> int:
        """Tokens left for the variable part once the template's fixed text is counted."""
        overhead = estimate_messages(prompts.messages(template, nonce="0" * 12, **empty))
        return self.llm.input_budget(reserve_output=SUMMARY_MAX_TOKENS) - overhead - 16

    def _call(self, template: str, purpose: str, scope: list[ThreadMessage], **variables: str) -> Summary:
        msgs = prompts.messages(template, **variables)
        system = "\n".join(m["content"] for m in msgs if m["role"] == "system")
        self.calls += 1
        result = self.llm.chat(
            msgs,
            purpose=purpose,
            max_tokens=SUMMARY_MAX_TOKENS,
            deadline=self.deadline,
            validate=lambda text: parse_answer(
                text, messages=scope, system_prompt=system, allowed_users=self.allowed
            ),
        )
        summary: Summary = result.value
        return summary

    def summarize_chunk(self, chunk: Chunk, part: int, parts: int) -> Summary:
        note = (
            f"This is part {part} of {parts} of a long thread (messages {chunk.messages[0].index}"
            f"–{chunk.messages[-1].index}); summarize only this part."
            if parts > 1
            else ""
        )
        return self._call(
            "summarize_thread",
            "review.summarize" if parts == 1 else "review.chunk",
            chunk.messages,
            nonce=self._nonce(),
            part_note=note,
            thread="\n".join(chunk.lines),
        )

    def map(self, chunks: list[Chunk]) -> list[Summary]:
        if len(chunks) == 1:
            return [self.summarize_chunk(chunks[0], 1, 1)]
        with ThreadPoolExecutor(max_workers=min(MAP_CONCURRENCY, len(chunks))) as pool:
            futures = [pool.submit(self.summarize_chunk, c, i, len(chunks)) for i, c in enumerate(chunks, 1)]
            try:
                return [f.result() for f in futures]
            except BaseException:
                # One part failed: the whole answer falls back, so the parts not started are not sent.
                for f in futures:
                    f.cancel()
                raise

    def reduce(self, parts: list[Summary]) -> Summary:
        """Merge partial summaries with the model, in batches that fit; structurally if it fails."""
        rounds = 0
        while len(parts) > 1 and rounds < MAX_MERGE_ROUNDS:
            rounds += 1
            budget = self._budget("merge_summaries", count="0", summaries="")
            batches: list[list[Summary]] = [[]]
            for p in parts:
                batch = batches[-1]
                if batch and estimate_tokens(self._merge_text([*batch, p])) > budget:
                    batches.append([p])
                else:
                    batch.append(p)
            if len(batches) == len(parts):  # nothing fits together: stop trying
                break
            merged: list[Summary] = []
            for batch in batches:
                merged.append(batch[0] if len(batch) == 1 else self._merge(batch))
            parts = merged
        return parts[0] if len(parts) == 1 else merge_structurally(parts)

    def _render(self, s: Summary) -> str:
        return render_for_model(s, self.index_of)

    def _merge_text(self, batch: list[Summary]) -> str:
        return "\n\n".join(f"--- Part {i} ---\n{self._render(s)}" for i, s in enumerate(batch, 1))

    def _merge(self, batch: list[Summary]) -> Summary:
        text = self._merge_text(batch)
        try:
            return self._call(
                "merge_summaries",
                "review.merge",
                self.messages,
                nonce=self._nonce(),
                count=str(len(batch)),
                summaries=text,
            )
        except LLMError as err:
            log.warning("merge call failed (%s); merging the parts without the model", err.kind)
            return merge_structurally(batch)

    def update(self, cached: Summary, new: list[ThreadMessage]) -> Summary:
        """The cached summary plus only the replies posted since it was written."""
        budget = self._budget("update_summary", summary=self._render(cached), first="0", thread="")
        chunks = plan_chunks(new, self.names, budget) if budget > 200 else []
        if len(chunks) == 1:
            return self._call(
                "update_summary",
                "review.update",
                self.messages,
                nonce=self._nonce(),
                summary=self._render(cached),
                first=str(new[0].index),
                thread="\n".join(chunks[0].lines),
            )
        fresh = self.map(
            plan_chunks(new, self.names, self._budget("summarize_thread", part_note="", thread=""))
        )
        return self.reduce([cached, *fresh])

    def fresh(self) -> tuple[Summary, int]:
        budget = self._budget("summarize_thread", part_note="x" * 160, thread="")
        if budget < 100:
            raise LLMError("over_budget", "the model's context is too small for the prompt")
        chunks = plan_chunks(self.messages, self.names, budget)
        return self.reduce(self.map(chunks)), len(chunks)


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
    if llm is None:
        summary = extractive.summarize(messages)
        _store(db, channel_id, thread_ts, summary, requester)
        return summary
    job = _Model(llm, messages, _names(db, people_order), deadline)
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
    except LLMError as err:
        log.warning("summary of %s/%s falls back to offline: %s", channel_id, thread_ts, err)
        summary = extractive.summarize(messages)
        summary.fallback_reason = FALLBACK_REASONS.get(err.kind, "the model could not be used")
    except Exception:
        # A bug in the model path must not cost the user their summary.
        log.exception("model summary of %s/%s failed", channel_id, thread_ts)
        summary = extractive.summarize(messages)
        summary.fallback_reason = "the model could not be used"
    summary.people = people_order
    summary.message_count = len(messages)
    summary.latest_ts = latest
    _store(db, channel_id, thread_ts, summary, requester)
    return summary


# --- review channels ---------------------------------------------------------------------


def register_channel(*, db: Database, source: ThreadSource, actor: str, channel_id: str) -> bool:
    """`/review channel #c`: the actor must be in the channel. True when newly registered."""
    try:
        check_member(source, channel_id, actor)
    except Refused:
        raise UserError("You can only register a channel you are a member of.") from None
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
