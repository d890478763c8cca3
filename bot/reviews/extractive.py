"""The offline summary: decisions, open questions and action items found by rules.

Used when no model is configured and whenever the model fails, so it has to be useful on its
own: a reader of a 200-message thread should learn what was decided, what is still open and
who does what next. Everything it shows is a quoted sentence from the thread with a link to
its message — it never invents text, which is also why it is safe to label and show as is.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable

from bot.reviews.summary import (
    MAX_ITEMS,
    Item,
    Summary,
    ThreadMessage,
    content_words,
    neutralise,
    plain_text,
)

_SPLIT = re.compile(r"(?<=[.!?。！？])\s+(?=[^\s])|\n+")
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")

DECISION = re.compile(
    r"\b(?:decided|decision(?:\s+is|\s+made)?\s*:|(?:final|the)\s+decision|we(?:'ll|\s+will)\s+go\s+with"
    r"|(?:we're|we\s+are)\s+going\s+(?:with|ahead)|going\s+with|agreed|approved?|lgtm|ship\s+it"
    r"|signed?\s+off|sign-off\s+given|settled\s+on|final\s+call|conclusion\s*:|resolved\s*:"
    r"|let'?s\s+(?:go\s+with|ship|keep|use|drop|cut|launch|do\s+it|move\s+forward|stick\s+with))",
    re.IGNORECASE,
)
# Questions like "should we go with X?" are not decisions; nor is "not approved yet".
NOT_DECISION = re.compile(r"\b(?:not\s+(?:yet\s+)?(?:decided|approved|agreed)|undecided|if\s+we)\b", re.I)

ACTION = re.compile(
    r"(?:<@[UW][A-Z0-9]+(?:\|[^>]*)?>,?\s+(?:can|could|would|will)\s+you\b"
    r"|<@[UW][A-Z0-9]+(?:\|[^>]*)?>,?\s+(?:to|please|pls)\s+\w+"
    r"|@\w+,?\s+(?:can|could|would)\s+you\b"
    r"|\bI(?:'ll|\s+will|'m\s+going\s+to|\s+am\s+going\s+to|\s+can\s+take|'ll\s+take|\s+will\s+take)\b"
    r"|\bTODO\b|\baction\s+items?\b|\bAI\s*:|\bowner\s*:|\bassignee\s*:"
    r"|\b(?:by|before|until|due)\s+(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\b"
    r"|\b(?:by|before|due)\s+(?:eod|eow|end\s+of\s+(?:day|the\s+week|week|month|sprint)|tomorrow|next\s+week)\b"
    r"|\bwill\s+(?:send|draft|write|update|follow\s+up|check|prepare|share|set\s+up|file|book|schedule|run"
    r"|look\s+into|own|ping|add|fix|review|circulate|sync)\b)",
    re.IGNORECASE,
)
SELF_ACTION = re.compile(r"\bI(?:'ll|\s+will|'m\s+going\s+to|\s+am\s+going\s+to|\s+can\s+take)\b", re.I)
ASKED = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>,?\s+(?:can|could|would|will|to|please|pls)\b", re.I)
CONFIRM = re.compile(r"^(?:on\s+it|will\s+do|sure|yes|yep|ok(?:ay)?|done|ack|👍)\b", re.I)
TLDR_CHARS = 220


def sentences(text: str) -> list[str]:
    out = []
    for s in _SPLIT.split(text):
        s = s.strip(" \t-•*>")
        if len(s) >= 3:
            out.append(s)
    return out


def _clip(text: str, limit: int = 300) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _is_decision(sentence: str) -> bool:
    s = plain_text(sentence)
    return bool(DECISION.search(s)) and not s.rstrip().endswith("?") and not NOT_DECISION.search(s)


PLAIN_ASK = re.compile(r"(?<![\w<])@\w+,?\s+(?:can|could|would|will|to|please|pls)\b", re.I)


def _action_owner(sentence: str, author: str) -> str | None:
    asked = ASKED.search(sentence)
    if asked:
        return asked.group(1)
    if PLAIN_ASK.search(sentence):
        return None  # asked someone by a name Slack did not resolve: unknown, not the asker
    if SELF_ACTION.search(sentence):
        return author or None
    mention = _MENTION.search(sentence)
    return mention.group(1) if mention else (author or None)


ANSWER_START = re.compile(
    r"^(?:yes|yeah|yep|no|nope|nah|sure|ok(?:ay)?|good|correct|right|confirm(?:ed|ing)?|same|probably|"
    r"maybe|depends|because|i|i'd|i'm|i think|we|we're|we'll|it|it's|that|that's|the|a|an|\d)\b",
    re.IGNORECASE,
)
NAME_ASK = re.compile(r"^([A-Z][a-z]+),\s+(?:can|could|would|will)\s+you\b")


def _is_question(text: str) -> bool:
    return plain_text(text).rstrip().endswith(("?", "？"))


def _answered(question: str, asker: str, at: int, messages: list[ThreadMessage], window: int = 25) -> bool:
    """Did anyone else answer this later?

    A direct reply (one of the next two messages by someone else, not itself a question) that
    shares a word with the question or reads like an answer ("Yes…", "We…", "I'd say…"); the
    person it was addressed to replying; or, further on, a message sharing most of its words.
    """
    words = content_words(plain_text(question))
    addressees = set(_MENTION.findall(question))
    direct = 0
    for later in messages[at + 1 : at + 1 + window]:
        if later.user == asker:
            continue
        text = plain_text(later.text).strip()
        later_words = content_words(text)
        opening = (sentences(text) or [text])[0]
        if direct < 2 and not _is_question(opening):
            if words & content_words(opening) or ANSWER_START.match(opening):
                return True
        direct += 1
        if later.user in addressees and not _is_question(text):
            return True
        if words and len(words & later_words) >= max(2, math.ceil(len(words) * 0.4)):
            return True
    return False


STRONG_DECISION = re.compile(r"\b(?:decided|decision|final call|we(?:'ll| will) go with)\b", re.IGNORECASE)


def summarize(messages: list[ThreadMessage]) -> Summary:
    """The extractive summary of a whole thread (messages in thread order, numbered from 1)."""
    allowed = {m.user for m in messages if m.user} | {u for m in messages for u in _MENTION.findall(m.text)}
    decisions: list[Item] = []
    questions: list[Item] = []
    actions: list[Item] = []
    used: set[tuple[str, str]] = set()
    confirmations: dict[str, Item] = {}  # ts of an "on it" reply → the action item it confirms

    def quote(sentence: str) -> str:
        return neutralise(_clip(plain_text(sentence, unescape=False)), allowed_users=allowed)

    for i, m in enumerate(messages):
        for s in sentences(m.text):
            key = (m.ts, s)
            flat = plain_text(s)
            if _is_decision(s):
                decisions.append(Item(text=quote(_with_context(s, i, messages)), sources=[m.ts]))
                used.add(key)
            elif ACTION.search(flat) or ACTION.search(s) or NAME_ASK.match(flat):
                used.add(key)
                confirmed_item = confirmations.get(m.ts)
                if confirmed_item is not None and confirmed_item.owner in (m.user, None):
                    # "Yes, I'll build the fallback…" in reply to an ask: one item, the fuller text.
                    confirmed_item.owner = m.user
                    ask_words = content_words(plain_text(confirmed_item.text))
                    if len(content_words(flat)) > len(ask_words) or len(ask_words) < 4:
                        confirmed_item.text = quote(s)
                    continue
                if CONFIRM.match(flat) and SELF_ACTION.search(flat) is None:
                    continue
                owner = _action_owner(s, m.user) if not NAME_ASK.match(flat) else None
                confirmed = _confirmed(owner, i, messages)
                item = Item(text=quote(s), sources=[m.ts] + ([confirmed] if confirmed else []), owner=owner)
                if confirmed:
                    confirmations[confirmed] = item
                actions.append(item)
            elif _is_question(s) and len(content_words(flat)) >= 2:
                if not _answered(s, m.user, i, messages):
                    if questions and questions[-1].sources == [m.ts]:
                        questions[-1].text = quote(f"{questions[-1].text} {s}")  # one item per message
                    else:
                        questions.append(Item(text=quote(s), sources=[m.ts]))
                used.add(key)

    key_points = _key_points(messages, used, quote)
    people = [u for u, _ in Counter(m.user for m in messages if m.user).most_common()]
    decisions = _dedupe(decisions)
    return Summary(
        tldr=_tldr(messages, decisions, questions, actions, allowed),
        decisions=decisions[-MAX_ITEMS:],  # later decisions supersede earlier ones
        questions=_dedupe(questions)[:MAX_ITEMS],
        actions=_dedupe(actions)[:MAX_ITEMS],
        key_points=key_points,
        people=people,
        mode="offline",
        message_count=len(messages),
        latest_ts=messages[-1].ts if messages else "",
    )


def _with_context(sentence: str, at: int, messages: list[ThreadMessage]) -> str:
    """A bare "Agreed." says nothing: quote the rest of its message and what it agrees with."""
    if len(content_words(plain_text(sentence))) >= 4:
        return sentence
    message = messages[at]
    text = re.sub(r"\s+", " ", message.text).strip()
    if len(content_words(plain_text(text))) >= 5:
        return text
    previous = next((p for p in reversed(messages[:at]) if p.user != message.user), None)
    if previous is None:
        return text
    return f"{text} (re: “{_clip(previous.text, 160)}”)"


def _confirmed(owner: str | None, at: int, messages: list[ThreadMessage]) -> str | None:
    """The ts of the owner's "on it" / "will do" / "yes, I'll…" right after being asked.

    With no known owner (asked by first name), the first such reply from anyone else counts.
    """
    asker = messages[at].user
    for later in messages[at + 1 : at + 6]:
        if later.user == asker or (owner and later.user != owner):
            continue
        if CONFIRM.match(plain_text(later.text).strip()):
            return later.ts
    return None


def _dedupe(items: list[Item]) -> list[Item]:
    seen: set[str] = set()
    out = []
    for item in items:
        norm = re.sub(r"\W+", " ", item.text.lower()).strip()
        if norm and norm not in seen:
            seen.add(norm)
            out.append(item)
    return out


def _key_points(
    messages: list[ThreadMessage], used: set[tuple[str, str]], quote: Callable[[str], str]
) -> list[Item]:
    """The most central sentences not already listed: scored by how much of the thread's
    vocabulary they share (term frequency over the whole thread), per word, favouring substance."""
    tf: Counter[str] = Counter()
    for m in messages:
        tf.update(content_words(plain_text(m.text)))
    scored: list[tuple[float, int, str, str]] = []
    for i, m in enumerate(messages):
        for s in sentences(m.text):
            if (m.ts, s) in used:
                continue
            words = content_words(plain_text(s))
            if len(words) < 4:
                continue
            score = sum(math.log1p(tf[w]) for w in words) / math.sqrt(len(words) + 4)
            scored.append((score, i, m.ts, s))
    top = sorted(scored, reverse=True)[:5]
    return [Item(text=quote(s), sources=[ts]) for _, _, ts, s in sorted(top, key=lambda t: t[1])]


def _tldr(
    messages: list[ThreadMessage],
    decisions: list[Item],
    questions: list[Item],
    actions: list[Item],
    allowed: set[str],
) -> str:
    if not messages:
        return "The thread is empty."
    first = messages[0]
    opening = sentences(first.text)
    topic = _clip(plain_text(opening[0] if opening else first.text), TLDR_CHARS).rstrip(".")
    starter = f"<@{first.user}>" if first.user else "Someone"
    parts = [neutralise(f"{starter} started the thread: “{topic}”.", allowed_users=allowed)]
    if decisions:
        own = [re.sub(r" \(re: .*\)$", "", d.text) for d in decisions]
        strong = [d for d in own if STRONG_DECISION.search(d)]
        last = (strong or own)[-1].rstrip(".")
        parts.append(f"Latest decision: “{_clip(last, TLDR_CHARS)}”.")
    parts.append(
        f"{len(messages)} messages, {len(decisions)} decisions, {len(questions)} open questions "
        f"and {len(actions)} action items found."
    )
    return " ".join(parts)
