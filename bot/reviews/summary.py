"""What a thread summary is, and how untrusted text becomes one safely.

Shared by the model path and the offline (extractive) path: the `Summary` structure, parsing and
repairing a model's answer into it, the rendering of a summary back to text for the next model
call (incremental updates and merges), and neutralising mass pings. Nothing here talks to Slack
or to a model; everything is a pure function over strings, so it is tested directly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from bot.llm import InvalidAnswer
from bot.reviews.text import content_words, sentences

MAX_ITEMS = 15  # per section; a reader skims, and the rest is one click away in the thread
MAX_ITEM_CHARS = 400
MAX_TLDR_SENTENCES = 3
MAX_RENDER_CHARS = 240  # an item as the next model call reads it


@dataclass
class ThreadMessage:
    """One human message of a thread, numbered from 1 in thread order (the citation number)."""

    index: int
    ts: str
    user: str
    text: str  # Slack mrkdwn as posted (untrusted)


@dataclass
class Item:
    """A bullet: its text and the messages (by ts) it comes from; `owner` for action items."""

    text: str
    sources: list[str] = field(default_factory=list)
    owner: str | None = None


@dataclass
class Summary:
    tldr: str
    decisions: list[Item] = field(default_factory=list)
    questions: list[Item] = field(default_factory=list)
    actions: list[Item] = field(default_factory=list)
    key_points: list[Item] = field(default_factory=list)  # offline only: the key sentences
    people: list[str] = field(default_factory=list)  # user IDs, most active first
    mode: str = "model"  # model | offline
    model: str = ""
    fallback_reason: str | None = None  # why the offline summary stands in for the model's
    message_count: int = 0
    latest_ts: str = ""
    chunks: int = 1
    lang: str = "en"  # the thread's language: en | zh (headings, counts and labels follow it)
    cached: bool = False
    updated_from_cache: bool = False

    def to_json(self) -> str:
        data = asdict(self)
        for transient in ("cached", "updated_from_cache"):
            data.pop(transient, None)
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> Summary:
        data: dict[str, Any] = json.loads(raw)
        for key in ("decisions", "questions", "actions", "key_points"):
            data[key] = [Item(**item) for item in data.get(key, [])]
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


# --- neutralising ------------------------------------------------------------------------

WORD_JOINER = "\u2060"
_SPECIAL = re.compile(r"<!(channel|here|everyone|group)(?:\|[^>]*)?>", re.IGNORECASE)
_SUBTEAM = re.compile(r"<!subteam\^[A-Z0-9]+(?:\|@?([^>]*))?>", re.IGNORECASE)
_DATE = re.compile(r"<!date\^[^|>]*\|([^>]*)>")
_OTHER_BANG = re.compile(r"<!([^>]*)>")
_PLAIN_MASS = re.compile(r"(?<![\w\u2060])@(channel|here|everyone)\b", re.IGNORECASE)
_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>\s]+)(?:\|([^>]*))?>")
SLACK_LINK = re.compile(r"^https://[a-z0-9-]+\.slack\.com/", re.IGNORECASE)


def neutralise(text: str, *, allowed_users: set[str] | None = None) -> str:
    """Make text safe to post: no mass ping, no pinging strangers, no disguised links.

    `<!channel>`, `<!here>`, `<!everyone>` and user-group mentions become plain text with a
    word joiner after the `@`, so neither Slack nor `link_names` turns them back into pings.
    User mentions stay only for `allowed_users` (the thread's own people); a non-Slack link
    keeps its label but shows where it goes, since the label was written by someone untrusted.
    """
    text = _SPECIAL.sub(lambda m: f"@{WORD_JOINER}{m.group(1).lower()}", text)
    text = _SUBTEAM.sub(lambda m: f"@{WORD_JOINER}{(m.group(1) or 'group').lstrip('@')}", text)
    text = _DATE.sub(lambda m: m.group(1), text)
    text = _OTHER_BANG.sub(lambda m: m.group(1).split("|")[-1], text)
    text = _PLAIN_MASS.sub(lambda m: f"@{WORD_JOINER}{m.group(1)}", text)
    if allowed_users is not None:
        text = _USER.sub(lambda m: m.group(0) if m.group(1) in allowed_users else f"@{m.group(1)}", text)

    def link(m: re.Match[str]) -> str:
        url, label = m.group(1), m.group(2)
        if SLACK_LINK.match(url) or not label or label == url:
            return m.group(0)
        return f"{label} ({url})"

    return _escape_stray(_LINK.sub(link, text))


_KEPT_MARKUP = re.compile(r"(<(?:@[UW][A-Z0-9]+|#[CG][A-Z0-9]+|(?:https?|mailto):[^>\s|]+)(?:\|[^<>]*)?>)")


def _escape_stray(text: str) -> str:
    """Escape `<` and `>` outside the markup we keep, so no other Slack control sequence survives."""
    parts = _KEPT_MARKUP.split(text)
    for i in range(0, len(parts), 2):  # even indexes are outside kept markup
        parts[i] = parts[i].replace("<", "&lt;").replace(">", "&gt;")
    return "".join(parts)


@lru_cache(maxsize=32768)  # the offline rules look at each sentence several times
def plain_text(text: str, *, unescape: bool = True) -> str:
    """Slack mrkdwn → readable plain text for rules and prompts (mentions kept as <@U…>).

    `unescape=False` keeps `&lt;` etc. as they are, for text that is shown back in Slack.
    """
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = re.sub(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>", lambda m: f"#{m.group(2) or m.group(1)}", text)
    # Pings become plain words with a word joiner, so quoting them can never ping again.
    text = _SPECIAL.sub(lambda m: f"@{WORD_JOINER}{m.group(1).lower()}", text)
    text = _SUBTEAM.sub(lambda m: f"@{WORD_JOINER}{(m.group(1) or 'group').lstrip('@')}", text)
    if unescape:
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return text


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters, escaped so untrusted text cannot forge markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- the model's answer ------------------------------------------------------------------

# Section headings a model writes, in English or Chinese (the prompt asks for the English ones).
_HEADING_WORDS = {
    "tldr": (r"tl\s*;?\s*dr|summary|overview", "概要|摘要|总结|一句话总结"),
    "decisions": (r"(?:key\s+)?decisions?(?:\s+made)?", "决定|决策|结论"),
    "questions": (r"(?:open|unanswered|outstanding)?\s*questions?", "待解决的?问题|未决问题|开放问题|问题"),
    "actions": (r"action\s*items?|actions|next\s+steps|to-?dos?|tasks", "待办事项|待办|行动项|后续行动"),
    "people": (r"people(?:\s+involved)?|participants", "参与者|相关人员"),
}
_HEADINGS: list[tuple[str, re.Pattern[str]]] = [
    (key, re.compile(rf"^(?:{en})\b|^(?:{zh})", re.I)) for key, (en, zh) in _HEADING_WORDS.items()
]
_DECORATION = re.compile(r"^[\s#>*_`]*(?:\d+[.)]\s*)?")
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d+[.)])\s+")
_CITATION = re.compile(r"\[\s*#?(\d{1,5}(?:\s*[,;–-]\s*#?\d{1,5})*)\s*\]")
_NONE = re.compile(r"^(?:none|n/?a|nothing|no\b.*|-+|—)\.?$", re.I)


def join_sentences(parts: Sequence[str]) -> str:
    """Sentences back into text: no space after Chinese punctuation, one after the rest."""
    out = ""
    for part in parts:
        if out and not out.endswith(("。", "！", "？", "；", "…", "”", "」")):
            out += " "
        out += part
    return out


def first_sentences(text: str, n: int) -> str:
    return join_sentences(sentences(text.strip())[:n])


def _heading(line: str) -> tuple[str, str] | None:
    """(section, rest of the line) when the line opens a section, e.g. `**TL;DR:** text`."""
    stripped = _DECORATION.sub("", line).strip()
    for key, pattern in _HEADINGS:
        m = pattern.match(stripped)
        if not m:
            continue
        rest = stripped[m.end() :]
        # A heading ends at a colon, a line end or markdown emphasis; "Decisions were hard" is prose.
        rest_clean = rest.lstrip("*_` ")
        if rest_clean.startswith((":", "：", "-", "—")) or not rest_clean.strip():
            return key, rest_clean.lstrip(":：-— ").strip("*_` ").strip()
    return None


def citations(text: str, numbered: dict[int, str]) -> tuple[str, list[str]]:
    """Strip `[3, 7]` style citations; return the text and the cited messages' ts (known ones)."""
    sources: list[str] = []
    for m in _CITATION.finditer(text):
        for part in re.split(r"\s*[,;]\s*", m.group(1)):
            bounds = [int(x) for x in re.findall(r"\d+", part)]
            is_range = len(bounds) == 2 and re.search(r"[–-]", part) is not None
            numbers = range(bounds[0], bounds[-1] + 1) if is_range else bounds
            for n in list(numbers)[:10]:
                ts = numbered.get(n)
                if ts and ts not in sources:
                    sources.append(ts)
    stripped = _CITATION.sub("", text).strip(" .;,")
    if text.rstrip().endswith(".") and stripped:
        stripped += "."  # keep the sentence's own full stop, which followed the citation
    return stripped, sources


@lru_cache(maxsize=8192)
def _message_words(text: str) -> frozenset[str]:
    return content_words(plain_text(text))


def best_source(text: str, messages: list[ThreadMessage]) -> list[str]:
    """Repair an uncited bullet: the message sharing most content words with it, if any is close."""
    words = content_words(text)
    if not words:
        return []
    best, best_score, best_overlap = None, 0.0, 0
    for m in messages:
        message_words = _message_words(m.text)
        overlap = len(words & message_words)
        score = overlap / (len(message_words) ** 0.5) if overlap else 0.0  # tight matches first
        if score and score >= best_score:  # ties: the later message, where threads conclude
            best, best_score, best_overlap = m, score, overlap
    return [best.ts] if best and best_overlap >= min(2, len(words)) else []


def system_lines(system_prompt: str) -> list[str]:
    """The instructions' sentences, normalised, to notice an answer that repeats them."""
    return [
        re.sub(r"\W+", " ", s).strip().lower()
        for s in re.split(r"\n|(?<=[.!?])\s+", system_prompt)
        if len(s.strip()) >= 25
    ]


def echoes(line: str, system_lines: list[str]) -> bool:
    norm = re.sub(r"\W+", " ", line).strip().lower()
    if len(norm) < 25:
        return False
    return any(norm in s or (len(s) >= 25 and s in norm) for s in system_lines)


def parse_answer(
    text: str,
    *,
    messages: list[ThreadMessage],
    system_prompt: str = "",
    allowed_users: set[str] | None = None,
) -> Summary:
    """Turn a model's answer into a `Summary`, repairing what can be repaired.

    Repairs: markdown decoration and heading synonyms, text before the TL;DR, bullets without
    a citation (matched to the closest message), over-long TL;DRs (cut to 3 sentences), too many
    bullets, lines that echo the system prompt (dropped). Raises `InvalidAnswer` when the answer
    has no TL;DR or no other section: then the caller falls back to the offline summary.
    """
    numbered = {m.index: m.ts for m in messages}
    prompt_lines = system_lines(system_prompt)
    text = re.sub(r"^```\w*\s*$", "", text.strip(), flags=re.M)
    sections: dict[str, list[str]] = {}
    current: str | None = None
    echoed = 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if echoes(line, prompt_lines):
            echoed += 1
            continue
        head = _heading(line)
        if head:
            current = head[0]
            sections.setdefault(current, [])
            if head[1]:
                sections[current].append(head[1])
            continue
        if current is None:
            continue  # preamble ("Sure! Here is the summary:") is dropped
        sections[current].append(line)
    tldr_lines = [_BULLET.sub("", x) for x in sections.get("tldr", [])]
    tldr_raw = " ".join(x for x in tldr_lines if x and not _NONE.match(x))
    others = [k for k in ("decisions", "questions", "actions", "people") if k in sections]
    if not tldr_raw.strip():
        raise InvalidAnswer("no TL;DR")
    if not others:
        raise InvalidAnswer("no Decisions / Open questions / Action items section")
    tldr, _ = citations(tldr_raw, numbered)
    tldr = first_sentences(tldr, MAX_TLDR_SENTENCES)[:800]
    participants = {m.user for m in messages if m.user}
    allowed = allowed_users if allowed_users is not None else participants | mentioned_users(messages)

    def items(key: str, *, with_owner: bool = False) -> list[Item]:
        out: list[Item] = []
        seen: set[str] = set()
        for line in sections.get(key, []):
            body = _BULLET.sub("", line).strip().strip("*_").strip()
            if not body or _NONE.match(body):
                continue
            body, sources = citations(body, numbered)
            if not body or _NONE.match(body):
                continue
            sources = sources or best_source(body, messages)
            body = neutralise(body, allowed_users=allowed)[:MAX_ITEM_CHARS]
            norm = body.lower()
            if norm in seen:
                continue
            seen.add(norm)
            owner = None
            if with_owner:
                m = _USER.search(body)
                owner = m.group(1) if m and m.group(1) in allowed else None
            out.append(Item(text=body, sources=sources[:5], owner=owner))
        return out[:MAX_ITEMS]

    people: list[str] = []
    for line in sections.get("people", []):
        for uid in _USER.findall(line):
            if uid in participants and uid not in people:
                people.append(uid)
    summary = Summary(
        tldr=neutralise(tldr, allowed_users=allowed),
        decisions=items("decisions"),
        questions=items("questions"),
        actions=items("actions", with_owner=True),
        people=people,
    )
    if echoed and not (summary.decisions or summary.questions or summary.actions):
        raise InvalidAnswer("the answer repeats the instructions")
    return summary


def mentioned_users(messages: list[ThreadMessage]) -> set[str]:
    return {uid for m in messages for uid in _USER.findall(m.text)}


def render_for_model(summary: Summary, index_of: dict[str, int], *, max_tokens: int | None = None) -> str:
    """A summary as the model reads it (the summary so far, or a part to merge), compactly:
    citations renumbered for the current thread, empty sections on one line, no People (the
    thread itself says who took part). Over `max_tokens`, the oldest decisions and the last
    other items are left out first, so the prompt stays within its budget."""
    from bot.llm import estimate_tokens  # the gateway's own estimate, so budgets agree

    def cite(item: Item) -> str:
        numbers = sorted(index_of[ts] for ts in item.sources if ts in index_of)
        return f" [{', '.join(str(n) for n in numbers)}]" if numbers else ""

    def line(item: Item) -> str:
        text = item.text[:MAX_RENDER_CHARS]
        if item.owner and f"<@{item.owner}>" not in text:
            text = f"<@{item.owner}>: {text}"
        return f"- {text}{cite(item)}"

    sections = {
        "Decisions": list(summary.decisions),
        "Open questions": list(summary.questions),
        "Action items": list(summary.actions),
    }

    def render() -> str:
        out = [f"TL;DR: {summary.tldr}"]
        for title, items in sections.items():
            out.append(f"{title}:\n" + "\n".join(line(i) for i in items) if items else f"{title}: none")
        return "\n".join(out)

    text = render()
    while max_tokens is not None and estimate_tokens(text) > max_tokens:
        title = max(sections, key=lambda t: len(sections[t]))
        if not sections[title]:
            break
        sections[title].pop(0 if title == "Decisions" else -1)
        text = render()
    return text


def merge_structurally(parts: list[Summary]) -> Summary:
    """Merge partial summaries without a model: the fallback when the merge call fails.

    Sections are concatenated in thread order and de-duplicated; the TL;DR takes the first
    part's opening and the last part's ending, so it still says what the thread was about and
    where it ended.
    """
    if not parts:
        return Summary(tldr="")
    first = sentences(parts[0].tldr)[:1]
    last = sentences(parts[-1].tldr)[:2]
    tldr = join_sentences([*first, *last]) if len(parts) > 1 else parts[0].tldr

    def join(key: str) -> list[Item]:
        out: list[Item] = []
        seen: set[str] = set()
        for part in parts:
            for item in getattr(part, key):
                if item.text.lower() not in seen:
                    seen.add(item.text.lower())
                    out.append(item)
        return out[-MAX_ITEMS:] if key == "decisions" else out[:MAX_ITEMS]

    people: list[str] = []
    for part in parts:
        people += [p for p in part.people if p not in people]
    return Summary(
        tldr=tldr,
        decisions=join("decisions"),
        questions=join("questions"),
        actions=join("actions"),
        people=people,
        lang=parts[0].lang,
    )
