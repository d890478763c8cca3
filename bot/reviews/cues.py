"""Cue words of the offline summarizer, in English and Chinese: what marks a decision, a question,
an action item and its owner, a confirmation, an answer.

Chinese has no word boundaries, so its patterns match character sequences directly (决定 / 结论 /
定了 / 待办 / 负责 / 截止 / 周五前 …); English patterns keep their `\\b`. Each helper takes one
sentence in Slack's encoding (mentions as `<@U…>`) and its plain-text form where it matters.
"""

from __future__ import annotations

import re

from bot.reviews.summary import plain_text
from bot.reviews.text import has_han

MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_M = r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>"
_WEEKDAY_ZH = r"(?:周|星期|礼拜)[一二三四五六日天]"
_WHEN_ZH = (
    rf"(?:{_WEEKDAY_ZH}|明天|今天|后天|下周|本周|这周|月底|月初|周末|\d+\s*[号日]|\d+\s*月\s*\d+\s*[号日]?)"
)

# --- decisions ---------------------------------------------------------------------------

DECISION = re.compile(
    r"\b(?:decided|decision(?:\s+is|\s+made)?\s*:|(?:final|the)\s+decision|we(?:'ll|\s+will)\s+go\s+with"
    r"|(?:we're|we\s+are)\s+going\s+(?:with|ahead)|going\s+with|agreed|approved?|lgtm|ship\s+it"
    r"|signed?\s+off|sign-off\s+given|settled\s+on|final\s+call|conclusion\s*:|resolved\s*:"
    r"|let'?s\s+(?:go\s+with|ship|keep|use|drop|cut|launch|do\s+it|move\s+forward|stick\s+with))",
    re.IGNORECASE,
)
DECISION_ZH = re.compile(
    r"决定|(?:^|[，,。；\s])结论\s*[:：]|结论是|最终结论|定了|定下来|敲定|拍板|就这么(?:定|办)|就按|按这个|最终(?:方案|版本|决定|选|确定)"
    r"|同意|批准|审核通过|评审通过|通过了|确定(?:了|用|采用|按|上线|先)|采用|那就(?:先|用|按|上|这样)|就这样吧"
)
# "Should we go with X?" is not a decision; nor is "not approved yet" / 还没定 / 是否.
NOT_DECISION = re.compile(r"\b(?:not\s+(?:yet\s+)?(?:decided|approved|agreed)|undecided|if\s+we)\b", re.I)
# (Questions — 是否…？ / 要不要…？ — are excluded before these are looked at.)
NOT_DECISION_ZH = re.compile(
    r"还没(?:有)?(?:定|决定|确定)|未定|待定|没定|不确定|没有决定|还在讨论|不同意|没通过|未通过"
)
STRONG_DECISION = re.compile(
    r"\b(?:decided|decision|final call|we(?:'ll| will) go with)\b|决定|结论|定了|拍板|最终", re.IGNORECASE
)

# --- action items ------------------------------------------------------------------------

ACTION = re.compile(
    rf"(?:{_M},?\s+(?:can|could|would|will)\s+you\b"
    rf"|{_M},?\s+(?:to|please|pls)\s+\w+"
    r"|@\w+,?\s+(?:can|could|would)\s+you\b"
    r"|\bI(?:'ll|\s+will|'m\s+going\s+to|\s+am\s+going\s+to|\s+can\s+take|'ll\s+take|\s+will\s+take)\b"
    r"|\bTODO\b|\baction\s+items?\b|\bAI\s*:|\bowner\s*:|\bassignee\s*:"
    r"|\b(?:by|before|until|due)\s+(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\b"
    r"|\b(?:by|before|due)\s+(?:eod|eow|end\s+of\s+(?:day|the\s+week|week|month|sprint)|tomorrow|next\s+week)\b"
    r"|\bwill\s+(?:send|draft|write|update|follow\s+up|check|prepare|share|set\s+up|file|book|schedule|run"
    r"|look\s+into|own|ping|add|fix|review|circulate|sync)\b)",
    re.IGNORECASE,
)
ACTION_ZH = re.compile(
    r"待办|TODO|负责|跟进|截止|deadline|DDL|我来|我去|我会|我这边|交给|麻烦|请\s*<@|安排一下|排期"
    rf"|{_WHEN_ZH}\s*(?:之前|以前|前|内|下班前|完成|给|提交|发|搞定|上线)"
)
SELF_ACTION = re.compile(r"\bI(?:'ll|\s+will|'m\s+going\s+to|\s+am\s+going\s+to|\s+can\s+take)\b", re.I)
SELF_ACTION_ZH = re.compile(r"我来|我去|我会|我负责|我这边|我今天|我明天|我(?:周|星期|下周|本周)")
ASKED = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>,?\s+(?:can|could|would|will|to|please|pls)\b", re.I)
ASKED_ZH = re.compile(
    r"(?:麻烦|请|让|由)\s*<@([UW][A-Z0-9]+)(?:\|[^>]*)?>"
    r"|<@([UW][A-Z0-9]+)(?:\|[^>]*)?>\s*[，,]?\s*(?:你|您)?\s*(?:能|可以|来|负责|帮忙|跟进|看一下|看看|确认|处理|去|把)"
)
PLAIN_ASK = re.compile(r"(?<![\w<])@\w+,?\s+(?:can|could|would|will|to|please|pls)\b", re.I)
NAME_ASK = re.compile(r"^([A-Z][a-z]+),\s+(?:can|could|would|will)\s+you\b")
NAME_ASK_ZH = re.compile(
    r"^([\u4e00-\u9fff]{2,3}|[A-Z][a-z]+)\s*[，,]\s*(?:你|您)\s*(?:能|可以|来|负责|帮忙)"
)
CONFIRM = re.compile(
    r"^(?:on\s+it|will\s+do|sure|yes|yep|ok(?:ay)?|done|ack|👍)\b|^(?:好的|好|收到|没问题|可以|行|明白|了解|马上|这就|👌|👍)",
    re.I,
)

# --- questions and answers ---------------------------------------------------------------

# How an answer opens: "Yes…", "No…", "I'd say…", "Probably…", "52%…", 是的 / 可以 / 我觉得 …
ANSWER_START = re.compile(
    r"^(?:yes|yeah|yep|yup|no|nope|nah|sure|ok(?:ay)?|correct|right|exactly|confirm(?:ed|ing)?|same|"
    r"probably|maybe|perhaps|depends|because|absolutely|definitely|of\s+course|not\s+(?:yet|sure|really)|"
    r"good\s+(?:question|point)|agreed|i\s+think|i'd|i\s+would|i\s+believe|i\s+guess|we\s+(?:should|can|will|do|don't)|"
    r"we'll|we're|it\s+(?:does|doesn't|is|isn't|will|won't)|it's|that's|there's|let's|\d)\b"
    r"|^(?:是的|没错|不是|不会|不用|不需要|不行|需要|应该|目前|还没|没有|有的|我觉得|我认为|我理解|估计|大概|"
    r"因为|好的|确认|同意|\d|(?:是|对|可以|能|会|要|行)(?:[，,。！!的\s]|$))",
    re.IGNORECASE,
)
# A reply right after a question often just starts talking: "A drop of 2 points…", 目前…
WEAK_OPENER = re.compile(r"^(?:the|a|an|it|that|this)\b|^(?:这|那|目前|现在)", re.I)
NAME_ADDRESS = re.compile(r"^([A-Z][a-z]+|[\u4e00-\u9fff]{2,3})\s*[,，]")
_QUESTION_END = re.compile(r"[?？][”’」』）)\"']*$")
_QUESTION_END_ZH = re.compile(r"(?:吗|呢)[。！~…]*$")


def is_question(sentence: str) -> bool:
    text = plain_text(sentence).rstrip()
    return bool(_QUESTION_END.search(text)) or (has_han(text) and bool(_QUESTION_END_ZH.search(text)))


def is_decision(sentence: str) -> bool:
    s = plain_text(sentence)
    if is_question(s):
        return False
    if DECISION.search(s) and not NOT_DECISION.search(s):
        return True
    return bool(DECISION_ZH.search(s)) and not NOT_DECISION_ZH.search(s)


def is_direct_ask(sentence: str) -> bool:
    """A request to a named person ("@omar can you…?", "Jonas, can you…", "麻烦 @omar …")."""
    asked = ASKED.search(sentence) or ASKED_ZH.search(sentence) or PLAIN_ASK.search(sentence)
    return bool(asked) or asks_by_name(sentence)


def is_action(sentence: str) -> bool:
    cue = ACTION.search(plain_text(sentence)) or ACTION.search(sentence) or ACTION_ZH.search(sentence)
    return bool(cue) or asks_by_name(sentence)


def asks_by_name(sentence: str) -> bool:
    flat = plain_text(sentence)
    return bool(NAME_ASK.match(flat) or NAME_ASK_ZH.match(flat))


def action_owner(sentence: str, author: str) -> str | None:
    """Who does it: the person asked, else the volunteer, else a mention, else the author."""
    asked = ASKED.search(sentence)
    if asked:
        return asked.group(1)
    asked_zh = ASKED_ZH.search(sentence)
    if asked_zh:
        return asked_zh.group(1) or asked_zh.group(2)
    if PLAIN_ASK.search(sentence) or asks_by_name(sentence):
        return None  # asked someone by a name Slack did not resolve: unknown, not the asker
    if SELF_ACTION.search(sentence) or SELF_ACTION_ZH.search(sentence):
        return author or None
    mention = MENTION.search(sentence)
    return mention.group(1) if mention else (author or None)


def is_confirmation(text: str) -> bool:
    return bool(CONFIRM.match(plain_text(text).strip()))


def volunteers(text: str) -> bool:
    return bool(SELF_ACTION.search(text) or SELF_ACTION_ZH.search(text))


def opens_like_an_answer(text: str) -> bool:
    return bool(ANSWER_START.match(plain_text(text).strip()))


def opens_like_a_reply(text: str) -> bool:
    return opens_like_an_answer(text) or bool(WEAK_OPENER.match(plain_text(text).strip()))


def addressed_name(question: str) -> str | None:
    """ "Sofia, what threshold…?" → "sofia" (matched against people's names by the caller)."""
    m = NAME_ADDRESS.match(plain_text(question).strip())
    return m.group(1).lower() if m else None
