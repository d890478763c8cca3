"""The words of a summary in its thread's language: English or Simplified Chinese.

A summary is written in its thread's language (DESIGN), and so is everything around it — the
headings, the counts, the offline label, the reason a model could not be used. Counts follow
each language's plural rules (Babel's CLDR data: "1 message", "2 messages"; Chinese has a
single form with its measure word, "2 条消息"), and numbers are formatted per locale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from babel import Locale
from babel.numbers import format_decimal

LANGUAGES = ("en", "zh")
_LOCALES = {"en": Locale.parse("en"), "zh": Locale.parse("zh_Hans")}
for _locale in _LOCALES.values():
    _locale.plural_form(1)  # load the CLDR data now, not in the middle of someone's request

# Counted nouns: plural category (CLDR: one, other, …) → pattern with {n}.
_COUNTS: dict[str, dict[str, dict[str, str]]] = {
    "en": {
        "message": {"one": "{n} message", "other": "{n} messages"},
        "person": {"one": "{n} person", "other": "{n} people"},
        "decision": {"one": "{n} decision", "other": "{n} decisions"},
        "question": {"one": "{n} open question", "other": "{n} open questions"},
        "action": {"one": "{n} action item", "other": "{n} action items"},
        "part": {"one": "{n} part", "other": "{n} parts"},
    },
    "zh": {
        "message": {"other": "{n} 条消息"},
        "person": {"other": "{n} 人参与"},
        "decision": {"other": "决定 {n} 项"},
        "question": {"other": "待解决问题 {n} 个"},
        "action": {"other": "待办 {n} 项"},
        "part": {"other": "{n} 段"},
    },
}


def count(lang: str, noun: str, n: int) -> str:
    """`n` of `noun` in `lang`, with the right plural form and the locale's digits grouping."""
    lang = lang if lang in _COUNTS else "en"
    forms = _COUNTS[lang][noun]
    category = _LOCALES[lang].plural_form(n)
    pattern = forms.get(category, forms["other"])
    return pattern.format(n=format_decimal(n, locale=_LOCALES[lang]))


@dataclass(frozen=True)
class Words:
    """Every fixed string a summary shows, in one language."""

    lang: str
    title: str
    tldr: str
    decisions: str
    questions: str
    actions: str
    key_points: str
    people: str
    none_found: str
    continued: str  # "{title} (continued)"
    the_thread: str
    by_model: str  # "{model}"
    by_a_model: str
    read_in: str  # "{parts}"
    cached: str
    updated: str
    shared_by: str  # "{who}"
    and_more: str  # "{n}"
    offline_label: str
    offline_reason: str  # "{label}{reason}" joiner, e.g. "{label} — {reason}."
    share_button: str
    part_of: str  # "{n} of {total}"
    started: str  # "{who}", "{topic}"
    latest_decision: str  # "{decision}"
    found: str  # "{messages}", "{decisions}", "{questions}", "{actions}"
    digest_thread: str  # "{link}", "{channel}"
    digest_offline: str
    full_stop: str = "."
    people_line: str = "*People:* {people}{more}"
    shared: str = ":white_check_mark: Shared in the thread."
    list_separator: str = ", "
    reasons: dict[str, str] = field(default_factory=dict)
    default_reason: str = ""

    def reason(self, kind: str) -> str:
        return self.reasons.get(kind, self.default_reason)


EN = Words(
    lang="en",
    title="Thread summary",
    tldr="TL;DR",
    decisions="Decisions",
    questions="Open questions",
    actions="Action items",
    key_points="Key points",
    people="People",
    none_found="_None found._",
    continued="{title} (continued)",
    the_thread="The thread",
    by_model="written by a model ({model})",
    by_a_model="written by a model",
    read_in="read in {parts}",
    cached="no new replies since the last summary",
    updated="updated with the new replies",
    shared_by="shared by {who}",
    and_more=" and {n} more",
    offline_label=(
        ":information_source: *Offline summary* — picked out of the thread by rules, not written by a model"
    ),
    offline_reason="{label} — {reason}.",
    share_button="Share in thread",
    part_of="part {n} of {total}",
    started="{who} started the thread: “{topic}”.",
    latest_decision="Latest decision: “{decision}”.",
    found="{messages}: {decisions}, {questions} and {actions} found.",
    digest_thread="*<{link}|A thread>* in <#{channel}>",
    digest_offline="offline summary",
    reasons={
        "timeout": "the model did not answer in time",
        "deadline": "the model did not answer in time",
        "rate_limited": "the model endpoint is busy (rate limited)",
        "server_error": "the model endpoint had an error",
        "connection": "the model endpoint could not be reached",
        "malformed": "the model's answer was malformed",
        "invalid": "the model's answer did not have the expected format",
        "over_budget": "the thread did not fit the model",
        "auth": "the model endpoint refused Flywheel's credentials",
        "bad_request": "the model endpoint rejected the request",
    },
    default_reason="the model could not be used",
)

ZH = Words(
    lang="zh",
    title="讨论串摘要",
    tldr="概要",
    decisions="决定",
    questions="待解决的问题",
    actions="待办事项",
    key_points="要点",
    people="参与者",
    none_found="_无_",
    continued="{title}（续）",
    the_thread="讨论串",
    by_model="由模型撰写（{model}）",
    by_a_model="由模型撰写",
    read_in="分 {parts}读取",
    cached="上次摘要之后没有新回复",
    updated="已根据新回复更新",
    shared_by="由 {who} 分享",
    and_more=" 等另外 {n} 人",
    offline_label=":information_source: *离线摘要* — 由规则从讨论串中摘出，并非模型撰写",
    offline_reason="{label}（{reason}）。",
    share_button="分享到讨论串",
    part_of="第 {n} 部分，共 {total} 部分",
    started="{who} 发起了讨论：“{topic}”。",
    latest_decision="最新决定：“{decision}”。",
    found="共 {messages}；{decisions}，{questions}，{actions}。",
    digest_thread="<#{channel}> 中的*<{link}|一个讨论串>*",
    digest_offline="离线摘要",
    full_stop="。",
    people_line="*参与者：*{people}{more}",
    shared=":white_check_mark: 已分享到讨论串。",
    list_separator="、",
    reasons={
        "timeout": "模型未能及时回答",
        "deadline": "模型未能及时回答",
        "rate_limited": "模型服务繁忙（限流）",
        "server_error": "模型服务出错",
        "connection": "无法连接模型服务",
        "malformed": "模型的回答无法解析",
        "invalid": "模型的回答不符合要求的格式",
        "over_budget": "讨论串超出了模型能处理的长度",
        "auth": "模型服务拒绝了 Flywheel 的凭证",
        "bad_request": "模型服务拒绝了请求",
    },
    default_reason="无法使用模型",
)

_WORDS = {"en": EN, "zh": ZH}


def words(lang: str | None) -> Words:
    return _WORDS.get(lang or "en", EN)
