"""The offline summary: decisions, open questions and action items found by rules.

Used when no model is configured and whenever the model fails, so it has to be useful on its
own: a reader of a 200-message thread should learn what was decided, what is still open and
who does what next — in English, in Chinese or in a mix (`bot.reviews.cues` has the cue words of
both; `bot.reviews.text` splits sentences and compares words in both). Everything it shows is a
quoted sentence from the thread with a link to its message — it never invents text, which is
also why it is safe to label and show as is. Its own words (the TL;DR's frame, the headings)
are in the thread's language.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.reviews import cues
from bot.reviews.i18n import count, words
from bot.reviews.summary import (
    MAX_ITEMS,
    Item,
    Summary,
    ThreadMessage,
    join_sentences,
    neutralise,
    plain_text,
)
from bot.reviews.text import content_words, language, sentences

TLDR_CHARS = 220
ANSWER_WINDOW = 25  # messages after a question in which an answer counts
_CONTEXT = {"en": " (re: “{quote}”)", "zh": "（回应：“{quote}”）"}
_CONTEXT_SUFFIX = re.compile(r"(?: \(re: “.*”\)|（回应：“.*”）)$")


def _clip(text: str, limit: int = 300) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass
class _Question:
    at: int  # index in the thread
    message: ThreadMessage
    sentence: str
    words: frozenset[str]  # of the whole message: "Guest checkout. Do we keep it?" is about guests
    addressees: set[str] = field(default_factory=set)


def _answer_text(message: ThreadMessage) -> str:
    """What a message says besides its questions (a message of questions only answers nothing)."""
    return " ".join(s for s in sentences(message.text) if not cues.is_question(s))


def _addressees(question: str, names: dict[str, str]) -> set[str]:
    people = set(cues.MENTION.findall(question))
    name = cues.addressed_name(question)
    if name:
        people |= {uid for uid, full in names.items() if full and full.split()[0].lower() == name}
    return people


def _open_questions(
    asked: list[_Question], messages: list[ThreadMessage], names: dict[str, str]
) -> list[_Question]:
    """The questions no later message answers.

    A reply answers a question when it shares most of its words, when the person asked replies,
    or when it comes right after the question (one of the next two messages by others) and
    shares a word with it or opens like an answer ("Yes…", "I'd say…", 是的 / 我觉得…); the very
    next message answers when it just starts talking ("A drop of…", "The flag…"). But one
    reply answers one question — the one it matches best, else the latest — so an answer to
    another question, or to something else entirely, does not close a question it never
    addressed.
    """
    pending: list[_Question] = []
    closed: set[int] = set()
    queue = sorted(asked, key=lambda q: q.at)
    for j, reply in enumerate(messages):
        text = _answer_text(reply)
        if text.strip() and pending:
            reply_words = content_words(plain_text(text))
            candidates: list[tuple[float, int, _Question]] = []
            for q in pending:
                if q.message.user == reply.user or j - q.at > ANSWER_WINDOW:
                    continue
                overlap = len(q.words & reply_words)
                strong = overlap >= max(2, math.ceil(len(q.words) * 0.4))
                others_between = sum(1 for m in messages[q.at + 1 : j] if m.user != q.message.user)
                direct = others_between < 2
                addressed = reply.user in q.addressees
                if strong:
                    closed.add(id(q))
                    continue
                answer_like = direct and (overlap or cues.opens_like_an_answer(text))
                right_after = j == q.at + 1 and cues.opens_like_a_reply(text)
                if addressed or answer_like or right_after:
                    candidates.append((overlap + (0.5 if addressed else 0), q.at, q))
            if candidates:
                best = max(candidates, key=lambda c: (c[0], c[1]))[2]
                # Questions asked in one message are one ask: "What about PCI? Are card fields ours?"
                closed.update(id(q) for q in pending if q.message is best.message)
            pending = [q for q in pending if id(q) not in closed]
        while queue and queue[0].at == j:
            pending.append(queue.pop(0))
    return [q for q in asked if id(q) not in closed]


def summarize(messages: list[ThreadMessage], names: dict[str, str] | None = None) -> Summary:
    """The extractive summary of a whole thread (messages in thread order, numbered from 1).

    `names` (user ID → display name) lets "Sofia, what threshold…?" count Sofia's reply.
    """
    names = names or {}
    lang = language(m.text for m in messages)
    allowed = {m.user for m in messages if m.user} | {
        u for m in messages for u in cues.MENTION.findall(m.text)
    }
    decisions: list[Item] = []
    actions: list[Item] = []
    asked: list[_Question] = []
    used: set[tuple[str, str]] = set()
    confirmations: dict[str, Item] = {}  # ts of an "on it" reply → the action item it confirms

    def quote(sentence: str) -> str:
        return neutralise(_clip(plain_text(sentence, unescape=False)), allowed_users=allowed)

    for i, m in enumerate(messages):
        message_words: frozenset[str] | None = None
        for s in sentences(m.text):
            key = (m.ts, s)
            flat = plain_text(s)
            if cues.is_question(s) and not cues.is_direct_ask(s):
                if len(content_words(flat)) >= 2:
                    message_words = message_words or content_words(plain_text(m.text))
                    asked.append(_Question(i, m, s, message_words, _addressees(s, names)))
                    used.add(key)
                continue
            if cues.is_decision(s):
                decisions.append(Item(text=quote(_with_context(s, i, messages, lang)), sources=[m.ts]))
                used.add(key)
            elif cues.is_action(s) or cues.is_direct_ask(s):
                used.add(key)
                confirmed_item = confirmations.get(m.ts)
                if confirmed_item is not None and confirmed_item.owner in (m.user, None):
                    # "Yes, I'll build the fallback…" in reply to an ask: one item, the fuller text.
                    confirmed_item.owner = m.user
                    ask_words = content_words(plain_text(confirmed_item.text))
                    if len(content_words(flat)) > len(ask_words) or len(ask_words) < 4:
                        confirmed_item.text = quote(s)
                    continue
                if cues.is_confirmation(flat) and not cues.volunteers(flat):
                    continue
                owner = cues.action_owner(s, m.user)
                confirmed = _confirmed(owner, i, messages)
                item = Item(text=quote(s), sources=[m.ts] + ([confirmed] if confirmed else []), owner=owner)
                if confirmed:
                    confirmations[confirmed] = item
                actions.append(item)

    questions: list[Item] = []
    for q in _open_questions(asked, messages, names):
        if questions and questions[-1].sources == [q.message.ts]:
            questions[-1].text = quote(join_sentences([questions[-1].text, q.sentence]))  # one per message
        else:
            questions.append(Item(text=quote(q.sentence), sources=[q.message.ts]))
    key_points = _key_points(messages, used, quote)
    people = [u for u, _ in Counter(m.user for m in messages if m.user).most_common()]
    decisions = _dedupe(decisions)
    questions = _dedupe(questions)
    actions = _dedupe(actions)
    return Summary(
        tldr=_tldr(messages, decisions, questions, actions, allowed, lang),
        decisions=decisions[-MAX_ITEMS:],  # later decisions supersede earlier ones
        questions=questions[:MAX_ITEMS],
        actions=actions[:MAX_ITEMS],
        key_points=key_points,
        people=people,
        mode="offline",
        message_count=len(messages),
        latest_ts=messages[-1].ts if messages else "",
        lang=lang,
    )


def _with_context(sentence: str, at: int, messages: list[ThreadMessage], lang: str) -> str:
    """A bare "Agreed." / 同意。 says nothing: quote the rest of its message and what it agrees with."""
    if len(content_words(plain_text(sentence))) >= 4:
        return sentence
    message = messages[at]
    text = re.sub(r"\s+", " ", message.text).strip()
    if len(content_words(plain_text(text))) >= 5:
        return text
    previous = next((p for p in reversed(messages[:at]) if p.user != message.user), None)
    if previous is None:
        return text
    return text + _CONTEXT.get(lang, _CONTEXT["en"]).format(quote=_clip(previous.text, 160))


def _confirmed(owner: str | None, at: int, messages: list[ThreadMessage]) -> str | None:
    """The ts of the owner's "on it" / "will do" / 好的 reply right after being asked.

    With no known owner (asked by first name), the first such reply from anyone else counts.
    """
    asker = messages[at].user
    for later in messages[at + 1 : at + 6]:
        if later.user == asker or (owner and later.user != owner):
            continue
        if cues.is_confirmation(later.text):
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
            found = content_words(plain_text(s))
            if len(found) < 4:
                continue
            score = sum(math.log1p(tf[w]) for w in found) / math.sqrt(len(found) + 4)
            scored.append((score, i, m.ts, s))
    top = sorted(scored, reverse=True)[:5]
    return [Item(text=quote(s), sources=[ts]) for _, _, ts, s in sorted(top, key=lambda t: t[1])]


def _tldr(
    messages: list[ThreadMessage],
    decisions: list[Item],
    questions: list[Item],
    actions: list[Item],
    allowed: set[str],
    lang: str,
) -> str:
    w = words(lang)
    if not messages:
        return ""
    first = messages[0]
    opening = sentences(first.text)
    topic = _clip(plain_text(opening[0] if opening else first.text), TLDR_CHARS).rstrip(".。")
    starter = f"<@{first.user}>" if first.user else "—"
    parts = [neutralise(w.started.format(who=starter, topic=topic), allowed_users=allowed)]
    if decisions:
        own = [_CONTEXT_SUFFIX.sub("", d.text) for d in decisions]
        strong = [d for d in own if cues.STRONG_DECISION.search(d)]
        last = (strong or own)[-1].rstrip(".。")
        parts.append(w.latest_decision.format(decision=_clip(last, TLDR_CHARS)))
    parts.append(
        w.found.format(
            messages=count(lang, "message", len(messages)),
            decisions=count(lang, "decision", len(decisions)),
            questions=count(lang, "question", len(questions)),
            actions=count(lang, "action", len(actions)),
        )
    )
    return ("" if lang == "zh" else " ").join(parts)
