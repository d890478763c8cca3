"""The summary as structured output: the JSON schema the model answers in, and its answer → `Summary`.

The gateway asks for this schema as `response_format` (constrained decoding on llama.cpp, vLLM,
Ollama and OpenAI), so even a 135M-parameter model answers with every section. Its bounds
(items per section, characters per item) steer a constrained decoder — a weak model neither
loops until the output limit nor answers "2" for a decision — and are not held against an
endpoint that does not enforce them (the gateway checks the structure; `from_data` clips).
The answer is still untrusted text: citations must be message numbers of the part summarized
(others are dropped), owners must be people of the thread, mass pings are neutralised, and lines
that echo the instructions are left out.
"""

from __future__ import annotations

import re
from typing import Any

from bot.llm import InvalidAnswer
from bot.reviews.summary import (
    MAX_ITEM_CHARS,
    MAX_TLDR_SENTENCES,
    Item,
    Summary,
    ThreadMessage,
    best_source,
    citations,
    echoes,
    first_sentences,
    mentioned_users,
    neutralise,
    system_lines,
)

# At most this many items a section and characters an item: the longest answer a constrained
# decoder can write (~3,700 characters, ~1,000 tokens) fits the answer's token limit.
MAX_SECTION_ITEMS = 5
_MESSAGES = {"type": "array", "items": {"type": "integer"}, "maxItems": 4}


def _item(text_key: str, *extra: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    properties: dict[str, Any] = dict(extra)
    properties[text_key] = {"type": "string", "minLength": 8, "maxLength": 160}
    properties["messages"] = _MESSAGES
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


SUMMARY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "tldr": {"type": "string", "minLength": 20, "maxLength": 400},
        "decisions": {"type": "array", "items": _item("text"), "maxItems": MAX_SECTION_ITEMS},
        "open_questions": {"type": "array", "items": _item("text"), "maxItems": MAX_SECTION_ITEMS},
        "action_items": {
            "type": "array",
            "items": _item("task", ("owner", {"type": "string", "maxLength": 40})),
            "maxItems": MAX_SECTION_ITEMS,
        },
    },
    "required": ["tldr", "decisions", "open_questions", "action_items"],
    "additionalProperties": False,
}
SCHEMA_NAME = "thread_summary"

_USER = re.compile(r"<?@?([UW][A-Z0-9]{2,})(?:\|[^>]*)?>?")
# Bullets and numbering a model puts in front of an item — and our own line labels ("12 B:").
_ENUMERATOR = re.compile(r"^\s*(?:[-*•·]|\d+[.)、]|[（(]\d+[)）]|\d{1,5}\s?[A-Z]{1,2}:)\s*")
_NOBODY = re.compile(r"^(?:none|n/?a|nobody|unknown|unassigned|tbd|-+|—|无|暂无|待定|未知)$", re.I)


def resolve_owner(
    raw: str, *, allowed: set[str], aliases: dict[str, str], names: dict[str, str]
) -> str | None:
    """A person of the thread from what the model wrote: `<@U…>`, `U…`, an author letter, a name."""
    raw = (raw or "").strip().strip("*_`\"'")
    if not raw or _NOBODY.match(raw):
        return None
    m = _USER.fullmatch(raw) or _USER.search(raw)
    if m and m.group(1) in allowed:
        return m.group(1)
    if raw in aliases:
        return aliases[raw]
    wanted = raw.lstrip("@").lower()
    for uid, name in names.items():
        full = (name or "").lower()
        if full and uid in allowed and wanted in (full, full.split()[0]):
            return uid
    return None


def from_data(
    data: dict[str, Any],
    *,
    messages: list[ThreadMessage],
    allowed_users: set[str] | None = None,
    aliases: dict[str, str] | None = None,
    names: dict[str, str] | None = None,
    system_prompt: str = "",
) -> Summary:
    """A `Summary` from the model's JSON (already checked against `SUMMARY_SCHEMA`).

    `messages` are the ones the call summarized (their numbers are the valid citations);
    raises `InvalidAnswer` when nothing usable is left (no TL;DR).
    """
    numbered = {m.index: m.ts for m in messages}
    allowed = (
        allowed_users if allowed_users is not None else {m.user for m in messages} | mentioned_users(messages)
    )
    echo_lines = system_lines(system_prompt)

    def clean(text: str) -> tuple[str, list[str]]:
        text = _ENUMERATOR.sub("", re.sub(r"\s+", " ", text or "")).strip()
        text, cited = citations(text, numbered)
        if echoes(text, echo_lines):
            return "", []
        return neutralise(text, allowed_users=allowed)[:MAX_ITEM_CHARS], cited

    def sources(entry: dict[str, Any], cited: list[str], text: str) -> list[str]:
        out = [numbered[n] for n in entry.get("messages") or [] if isinstance(n, int) and n in numbered]
        out += [ts for ts in cited if ts not in out]
        return list(dict.fromkeys(out))[:5] or best_source(text, messages)

    def section(key: str) -> list[Item]:
        out: list[Item] = []
        seen: set[str] = set()
        for entry in data.get(key) or []:
            text, cited = clean(str(entry.get("text") or ""))
            if not text or _NOBODY.match(text) or text.lower() in seen:
                continue
            seen.add(text.lower())
            out.append(Item(text=text, sources=sources(entry, cited, text)))
        return out

    actions: list[Item] = []
    seen_tasks: set[str] = set()
    for entry in data.get("action_items") or []:
        task, cited = clean(str(entry.get("task") or ""))
        if not task or _NOBODY.match(task) or task.lower() in seen_tasks:
            continue
        seen_tasks.add(task.lower())
        raw_owner = str(entry.get("owner") or "")
        owner = resolve_owner(raw_owner, allowed=allowed, aliases=aliases or {}, names=names or {})
        if owner is None and raw_owner.strip() and not _NOBODY.match(raw_owner.strip()):
            # Someone the thread does not know by that name: say who the model meant, without a ping.
            task = f"{neutralise(raw_owner.strip()[:60], allowed_users=allowed)}: {task}"
        actions.append(Item(text=task, sources=sources(entry, cited, task), owner=owner))

    tldr, _ = clean(str(data.get("tldr") or ""))
    tldr = first_sentences(tldr, MAX_TLDR_SENTENCES)
    if not tldr:
        raise InvalidAnswer("the answer has no TL;DR")
    return Summary(
        tldr=tldr,
        decisions=section("decisions"),
        questions=section("open_questions"),
        actions=actions,
    )
