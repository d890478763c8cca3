"""The model path of a summary: what the model reads, in how many calls, and what comes back.

Cost is the point of most choices here (`bench/summary_cost.py` measures them):

- a message is one line, `12 B: text` — its number (the citation) and its author's letter, with
  one `Authors:` line per call saying who each letter is (`B = <@U0OMAR> Omar Haddad`), rather
  than a mention and a name on every line;
- the instructions are short, and written once per call;
- a thread that needs two parts is read in turn: part 1 is summarized, then part 2 goes in
  with that summary ("the summary so far") — the same call that brings a cached summary up to
  date with new replies — so no merge call resends both parts' summaries; three parts or more
  are summarized in parallel and merged (in batches that fit), so the wait stays two calls deep;
- summaries going into a later call are rendered compactly and cut to a budget.

Every call asks for structured output (`bot.reviews.structured.SUMMARY_SCHEMA`) and gives the
gateway the five-section text format as the fallback for endpoints that take no schema.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import prompts
from bot.llm import (
    Deadline,
    Format,
    LLMError,
    LLMGateway,
    TextFormat,
    estimate_messages,
    estimate_tokens,
    with_schema_note,
)
from bot.reviews.structured import SCHEMA_NAME, SUMMARY_SCHEMA, from_data, resolve_owner
from bot.reviews.summary import (
    Summary,
    ThreadMessage,
    mentioned_users,
    merge_structurally,
    parse_answer,
    plain_text,
    render_for_model,
)

log = logging.getLogger(__name__)

SUMMARY_MAX_TOKENS = 1200  # the answer's limit; the schema's bounds keep a summary within it
SO_FAR_TOKENS = 700  # a summary going into a later call is cut to this
MAP_CONCURRENCY = 4
MAX_MERGE_ROUNDS = 4


def fragment(name: str, **variables: object) -> str:
    """A prompt file's text, for one piece of a larger prompt."""
    return "\n\n".join(m["content"] for m in prompts.messages(name, **variables))


def _letters(n: int) -> str:
    """0 → A, 25 → Z, 26 → AA: short labels for a thread's authors."""
    out = ""
    n += 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def author_letters(messages: Sequence[ThreadMessage]) -> dict[str, str]:
    """Each author's letter, in order of first message."""
    letters: dict[str, str] = {}
    for m in messages:
        key = m.user or "?"
        if key not in letters:
            letters[key] = _letters(len(letters))
    return letters


def format_line(m: ThreadMessage, letters: dict[str, str]) -> str:
    """One message as the model reads it: `12 B: text`, on one line."""
    text = re.sub(r"\s+", " ", plain_text(m.text)).strip()
    return f"{m.index} {letters.get(m.user or '?', '?')}: {text}"


@dataclass
class Chunk:
    """Consecutive messages whose lines fit one model call (`tokens`: their estimate, kept as
    lines are added, so planning a long thread stays linear)."""

    messages: list[ThreadMessage]
    lines: list[str]
    tokens: int = 0

    def add(self, line: str, cost: int) -> None:
        self.lines.append(line)
        self.tokens += cost


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


def plan_chunks(
    messages: list[ThreadMessage], letters: dict[str, str], budget: int, later_budget: int | None = None
) -> list[Chunk]:
    """Greedy, in order: the first chunk within `budget` tokens (estimated), the others within
    `later_budget` (room left for a summary so far); every message in one, none cut silently."""
    chunks: list[Chunk] = []
    current = Chunk([], [])

    def room() -> int:
        return budget if not chunks or later_budget is None else later_budget

    for m in messages:
        line = format_line(m, letters)
        pieces = [line] if estimate_tokens(line) + 1 <= room() else _split_line(line, min(budget, room()))
        for piece in pieces:
            cost = estimate_tokens(piece) + 1
            if current.lines and current.tokens + cost > room():
                chunks.append(current)
                current = Chunk([], [])
            current.add(piece, cost)
            if not current.messages or current.messages[-1] is not m:
                current.messages.append(m)
    if current.lines:
        chunks.append(current)
    return chunks


class ThreadJob:
    """One summary of one thread against the gateway, under one deadline."""

    def __init__(
        self,
        llm: LLMGateway,
        messages: list[ThreadMessage],
        names: dict[str, str],
        deadline: Deadline,
        lang: str,
    ) -> None:
        self.llm = llm
        self.messages = messages
        self.names = names
        self.deadline = deadline
        self.lang = lang
        self.letters = author_letters(messages)
        self.by_letter = {letter: user for user, letter in self.letters.items()}
        self.index_of = {m.ts: m.index for m in messages}
        self.allowed = {m.user for m in messages if m.user} | mentioned_users(messages)
        self.calls = 0

    # --- prompts -------------------------------------------------------------------------
    def _who(self, user: str) -> str:
        name = self.names.get(user)
        mention = f"<@{user}>" if user.startswith(("U", "W")) else user or "someone"
        return f"{mention} {name}" if name else mention

    def _authors(self, messages: Sequence[ThreadMessage]) -> str:
        """`A = <@U…> Name; B = …` for this call's authors, then anyone else they mention."""
        seen = list(dict.fromkeys(m.user or "?" for m in messages))
        parts = [f"{self.letters[u]} = {self._who(u)}" for u in seen]
        others = sorted(mentioned_users(list(messages)) - set(seen))
        parts += [self._who(u) for u in others if u in self.names]
        return fragment("summary_authors", authors="; ".join(parts))

    def _format(self, kind: str) -> dict[str, str]:
        return {
            "format": fragment(f"summary_format_{kind}"),
            "language": fragment(f"write_in_{self.lang if self.lang in ('en', 'zh') else 'en'}"),
        }

    def _overhead(self, template: str, **variables: str) -> int:
        """Tokens of a call's fixed text in the costliest format the endpoint may still use."""
        empty = {"nonce": "0" * 12, **variables}
        json_msgs = prompts.messages(template, **self._format("json"), **empty)
        text_msgs = prompts.messages(template, **self._format("text"), **empty)
        json_cost = estimate_messages(json_msgs)
        if self.llm.structured_format is not Format.TEXT:
            json_cost = estimate_messages(with_schema_note(json_msgs, SUMMARY_SCHEMA))
        return max(json_cost, estimate_messages(text_msgs))

    def _budget(self, template: str = "summarize_thread", **variables: str) -> int:
        """Tokens left for the variable text once the template's fixed text (and the given
        `variables`, such as a call's context) are counted."""
        if template == "summarize_thread":
            variables = {"context": "", **variables, "thread": ""}
        fixed = self._overhead(template, **variables)
        return self.llm.input_budget(reserve_output=SUMMARY_MAX_TOKENS) - fixed - 16

    def _so_far(self, summary: Summary, last: int, nonce: str) -> str:
        rendered = render_for_model(summary, self.index_of, max_tokens=SO_FAR_TOKENS)
        return fragment("summary_so_far", nonce=nonce, first="1", last=str(last), summary=rendered)

    def _context(self, chunk: Chunk, nonce: str, part: tuple[int, int] | None, so_far: Summary | None) -> str:
        pieces = [self._authors(chunk.messages)]
        if part is not None:
            first, last = chunk.messages[0].index, chunk.messages[-1].index
            pieces.append(fragment("summary_part", part=part[0], parts=part[1], first=first, last=last))
        if so_far is not None:
            pieces.append(self._so_far(so_far, chunk.messages[0].index - 1, nonce))
        return "\n".join(pieces) + "\n"

    # --- calls ---------------------------------------------------------------------------
    def _call(self, template: str, purpose: str, scope: list[ThreadMessage], **variables: str) -> Summary:
        json_msgs = prompts.messages(template, **self._format("json"), **variables)
        text_msgs = prompts.messages(template, **self._format("text"), **variables)

        def system(msgs: list[dict[str, str]]) -> str:
            return "\n".join(m["content"] for m in msgs if m["role"] == "system")

        def from_text(text: str) -> Summary:
            summary = parse_answer(
                text, messages=scope, system_prompt=system(text_msgs), allowed_users=self.allowed
            )
            return self._owners(summary)

        self.calls += 1
        result = self.llm.chat(
            json_msgs,
            purpose=purpose,
            max_tokens=SUMMARY_MAX_TOKENS,
            deadline=self.deadline,
            schema=SUMMARY_SCHEMA,
            schema_name=SCHEMA_NAME,
            validate=lambda data: from_data(
                data,
                messages=scope,
                allowed_users=self.allowed,
                aliases=self.by_letter,
                names=self.names,
                system_prompt=system(json_msgs),
            ),
            text_format=TextFormat(messages=text_msgs, validate=from_text),
        )
        summary: Summary = result.value
        return summary

    def _owners(self, summary: Summary) -> Summary:
        """`B: update the copy` → owned by B's author (the text format names owners by prefix)."""
        for item in summary.actions:
            if item.owner is None:
                head, sep, rest = item.text.partition(":")
                owner = resolve_owner(head, allowed=self.allowed, aliases=self.by_letter, names=self.names)
                if sep and len(head) <= 40 and owner:
                    item.owner, item.text = owner, rest.strip()
        return summary

    def summarize(
        self,
        chunk: Chunk,
        *,
        part: tuple[int, int] | None = None,
        so_far: Summary | None = None,
        purpose: str = "review.summarize",
    ) -> Summary:
        """One call: a chunk alone, or a chunk with the summary of everything before it."""
        nonce = secrets.token_hex(6)
        scope = (
            chunk.messages
            if so_far is None
            else [m for m in self.messages if m.index <= chunk.messages[-1].index]
        )
        return self._call(
            "summarize_thread",
            purpose,
            scope,
            nonce=nonce,
            context=self._context(chunk, nonce, part, so_far),
            thread="\n".join(chunk.lines),
        )

    def map(self, chunks: list[Chunk]) -> list[Summary]:
        parts = len(chunks)
        with ThreadPoolExecutor(max_workers=min(MAP_CONCURRENCY, parts)) as pool:
            futures = [
                pool.submit(self.summarize, c, part=(i, parts), purpose="review.chunk")
                for i, c in enumerate(chunks, 1)
            ]
            try:
                return [f.result() for f in futures]
            except BaseException:
                # One part failed: the whole answer falls back, so the parts not started are not sent.
                for f in futures:
                    f.cancel()
                raise

    def reduce(self, parts: list[Summary], spans: list[tuple[int, int]]) -> Summary:
        """Merge partial summaries with the model, in batches that fit; structurally if it fails."""
        rounds = 0
        entries = list(zip(parts, spans, strict=True))
        while len(entries) > 1 and rounds < MAX_MERGE_ROUNDS:
            rounds += 1
            budget = self._budget("merge_summaries", summaries="")
            batches: list[list[tuple[Summary, tuple[int, int]]]] = [[]]
            for entry in entries:
                batch = batches[-1]
                if batch and estimate_tokens(self._merge_text([*batch, entry])) > budget:
                    batches.append([entry])
                else:
                    batch.append(entry)
            if len(batches) == len(entries):  # nothing fits together: stop trying
                break
            entries = [batch[0] if len(batch) == 1 else self._merge(batch) for batch in batches]
        if len(entries) == 1:
            return entries[0][0]
        return merge_structurally([e[0] for e in entries])

    def _merge_text(self, batch: list[tuple[Summary, tuple[int, int]]]) -> str:
        total = len(batch)
        return "\n\n".join(
            fragment("summary_part", part=i, parts=total, first=span[0], last=span[1])
            + "\n"
            + render_for_model(s, self.index_of, max_tokens=SO_FAR_TOKENS)
            for i, (s, span) in enumerate(batch, 1)
        )

    def _merge(self, batch: list[tuple[Summary, tuple[int, int]]]) -> tuple[Summary, tuple[int, int]]:
        span = (batch[0][1][0], batch[-1][1][1])
        try:
            merged = self._call(
                "merge_summaries",
                "review.merge",
                self.messages,
                nonce=secrets.token_hex(6),
                summaries=self._merge_text(batch),
            )
        except LLMError as err:
            log.warning("merge call failed (%s); merging the parts without the model", err.kind)
            merged = merge_structurally([s for s, _ in batch])
        return merged, span

    # --- the two jobs --------------------------------------------------------------------
    def fresh(self) -> tuple[Summary, int]:
        """The whole thread: one call, two in turn, or parts in parallel and a merge."""
        authors = self._authors(self.messages)
        part_note = fragment("summary_part", part=9, parts=9, first=99999, last=99999)
        budget = self._budget(context=f"{authors}\n{part_note}\n")
        if budget < 100:
            raise LLMError("over_budget", "the model's context is too small for the prompt")
        chunks = plan_chunks(self.messages, self.letters, budget)
        if len(chunks) == 1:
            return self.summarize(chunks[0]), 1
        later = budget - SO_FAR_TOKENS - estimate_tokens(self._so_far(Summary(tldr=""), 99999, "0" * 12))
        in_turn = plan_chunks(self.messages, self.letters, budget, later) if later > 200 else []
        if len(in_turn) == 2:
            first = self.summarize(in_turn[0], part=(1, 2), purpose="review.chunk")
            return self.summarize(in_turn[1], part=(2, 2), so_far=first, purpose="review.chunk"), 2
        spans = [(c.messages[0].index, c.messages[-1].index) for c in chunks]
        return self.reduce(self.map(chunks), spans), len(chunks)

    def update(self, cached: Summary, new: list[ThreadMessage]) -> Summary:
        """The cached summary plus only the replies posted since it was written."""
        authors = self._authors(self.messages)
        so_far = self._so_far(cached, new[0].index - 1, "0" * 12)
        budget = self._budget(context=f"{authors}\n{so_far}\n")
        chunks = plan_chunks(new, self.letters, budget) if budget > 200 else []
        if len(chunks) == 1:
            return self.summarize(chunks[0], so_far=cached, purpose="review.update")
        part_note = fragment("summary_part", part=9, parts=9, first=99999, last=99999)
        fresh_chunks = plan_chunks(new, self.letters, self._budget(context=f"{authors}\n{part_note}\n"))
        spans = [(1, new[0].index - 1)] + [(c.messages[0].index, c.messages[-1].index) for c in fresh_chunks]
        return self.reduce([cached, *self.map(fresh_chunks)], spans)
