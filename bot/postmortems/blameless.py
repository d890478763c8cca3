"""The blameless check: find blame aimed at people in a postmortem's text. Pure rules, no I/O.

Blameless postmortems ask "what let this happen?", not "who did it?". This module reads every
free-text field and flags language that points at a person as the cause:

* a person as the subject of a blaming verb — "Bob forgot the review", "<@U12> failed to follow
  the runbook", "he should have checked", "the on-call engineer ignored the page";
* a person named as the cause — "caused by Bob", "Jonas's deploy took down checkout",
  "Bob deployed the change that broke login";
* blame nouns aimed at someone — "Bob's fault", "a mistake by Priya", "Tom is to blame";
* words that judge people whoever they point at — careless, negligent, sloppy, human error;
* the same in Chinese — 责任在, 粗心, 疏忽, 失误, 背锅, 甩锅, 人为失误, 都怪他, 小王忘了….

It deliberately does not flag systems language: "the health check failed to detect the outage"
and "the config should have been validated by CI" have a system as their subject. That is why the
rules look at *who the subject is*: generic verbs (failed to, should have, caused, missed,
ignored) count only with a clear person as the subject — a Slack mention, someone from the people
table, a pronoun (he, she, I, someone) or a role (the on-call engineer, the intern); verbs only
people do (forgot, didn't bother, neglected, messed up) also count after any capitalised first
name or "they". "We" is the team owning its process, not blame, and is never flagged; nor is a
negated judgement ("this was not human error", "nobody was careless").

Each finding carries its field, the span (character offsets into that field's text), why it was
flagged, and a systems-focused rephrasing. The check warns; it never blocks anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from bot.postmortems.rephrase import CHECK_VERBS, message, suggest

# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One piece of blame: where it is, what it says, and how to say it about the system."""

    field: str  # a field key ("summary"), or "timeline:<id>" / "action:<id>"
    start: int  # character offsets into that field's text
    end: int
    text: str  # the flagged span, as written
    rule: str  # which rule matched (see RULES)
    message: str  # why, in a sentence
    suggestion: str  # a systems-focused rephrasing
    person: str | None = None  # who is blamed, as written (None for judgement words)
    source: str = "rules"  # rules | model

    def key(self) -> tuple[str, int, int]:
        return (self.field, self.start, self.end)


RULES = {
    "person-verb": "a person as the subject of a blaming verb",
    "person-cause": "a person named as the cause",
    "blame-noun": "blame or fault assigned to a person",
    "judgement": "a word that judges people",
    "zh-person-verb": "a person as the subject of a blaming verb (Chinese)",
    "zh-blame": "blame assigned to a person (Chinese)",
    "model": "found by the model",
}


# --------------------------------------------------------------------------------------------
# Who counts as a person
# --------------------------------------------------------------------------------------------

_MENTION = r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>"
_HANDLE = r"(?<![\w@])@(?!channel\b|here\b|everyone\b)[a-z][\w.\-]{1,40}"
_PRONOUN = (
    r"(?:(?i:he|she|someone|somebody|one\s+of\s+(?:the|our)\s+"
    r"(?:engineers|developers|devs|admins|operators))|I)"
)
_ROLE = (
    r"(?i:(?:the|our|an?|that|this)\s+(?:new\s+|junior\s+|senior\s+|responsible\s+)?"
    r"(?:on-?call(?:\s+(?:engineer|person|developer|sre))?|intern|engineer|developer|dev|operator|"
    r"sre|dba|reviewer|author|admin|administrator|new\s+hire|release\s+manager|committer|contractor))"
)
# Capitalised words that are never a person in a blame construction.
_NOT_NAMES = frozenset(
    "the this that these those it its we our us they them their there here then also and but or so "
    "a an if when while after before because since until once ci cd qa dns api db sql http tls ssl "
    "prod production staging kubernetes k8s postgres postgresql redis kafka nginx terraform ansible "
    "docker linux windows aws gcp azure github gitlab jenkins slack pagerduty grafana datadog "
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june "
    "july august september october november december everyone nobody anybody everybody".split()
)

# Verbs only people do: any name-like subject counts. (Systems do not forget or not bother.)
_PERSON_ONLY_VERBS = (
    r"(?:had\s+|has\s+|have\s+)?forg[eo]t(?:ten|s)?"
    r"|(?:did\s*n[o']?t|did\s+not|couldn'?t\s+be)\s+bother(?:ed)?"
    r"|neglect(?:ed|s)?(?:\s+to)?"
    r"|(?:messed|screwed|fucked|cocked)\s+up|botched|fumbled|dropped\s+the\s+ball"
    r"|(?:made|makes|make)\s+(?:a|an|the|another|yet\s+another)?\s*(?:stupid\s+|silly\s+|careless\s+|"
    r"big\s+|huge\s+|rookie\s+)?(?:mistake|error|blunder|mess)"
    r"|(?:was|were|is|are|got|been|being)\s+(?:very\s+|really\s+|too\s+|so\s+)?"
    r"(?:careless|negligent|sloppy|lazy|reckless|incompetent|inattentive)"
    r"|should\s+have\s+known(?:\s+better)?"
)
# Verbs systems do too: only a clear person subject counts.
_GENERIC_VERBS = (
    r"fail(?:ed|s)?\s+to"
    r"|should(?:\s*n[o']?t|\s+not)?\s+have|should'?ve|ought\s+to\s+have"
    r"|could\s+have\s+(?:prevented|avoided|caught|stopped)"
    rf"|(?:did\s*n[o']?t|did\s+not|never)\s+(?:even\s+|bother\s+to\s+)?(?:{CHECK_VERBS})(?:ed|d|s|ing)?"
    r"|caused|broke|(?:took|brought|knocked)\s+down|introduced\s+(?:the|a|this)\s+(?:bug|outage|regression|"
    r"incident|problem|issue|breakage)"
    r"|ignored|overlooked|missed"
    r"|(?:is|was|are|were)\s+(?:entirely\s+|solely\s+|fully\s+)?(?:to\s+blame|at\s+fault)"
    r"|(?:is|was)\s+(?:entirely\s+|solely\s+)?responsible\s+for\s+(?:the|this|an?)\s+(?:outage|incident|"
    r"failure|breakage|downtime|errors?|bug|problem|mess)"
)
_ADVERB = (
    r"(?:just\s+|simply\s+|also\s+|then\s+|again\s+|clearly\s+|obviously\s+|apparently\s+|"
    r"totally\s+|completely\s+)?"
)
_BLAME_NOUNS = r"(?:fault|mistake|error|negligence|carelessness|oversight|blunder|screw-?up|fuck-?up|bad)"
_CHANGE_NOUNS = (
    r"(?:change|deploy|deployment|commit|pr|pull\s+request|config|configuration|push|migration|script|"
    r"patch|release|merge|update|edit|query|command|typo)"
)
_CAUSE_VERBS = r"(?:caused|broke|(?:took|brought|knocked)\s+down|triggered|started|led\s+to|resulted\s+in)"
_ACTION_VERBS = (
    r"(?:deployed|pushed|merged|shipped|ran|changed|applied|approved|wrote|edited|released|committed)"
)
_JUDGEMENT = (
    r"human\s+error|operator\s+error|pilot\s+error|fat-?finger(?:ed|ing)?|pebkac"
    r"|careless(?:ly|ness)?|negligen(?:t|tly|ce)|sloppy|sloppiness|incompeten(?:t|ce)|reckless(?:ly|ness)?"
    r"|lazy|laziness|idiot(?:ic)?|stupid(?:ity)?|dumb\s+mistake|rookie\s+mistake"
    r"|(?:the\s+)?blame\s+(?:lies|rests|falls|sits)\s+(?:with|on)|who(?:'s|\s+is|\s+was)\s+to\s+blame"
    r"|at\s+fault|whose\s+fault|(?:my|his|her|their|your)\s+(?:fault|mistake|negligence|carelessness)"
)
_NEGATION = re.compile(
    r"\b(?:not|no|never|nor|nobody|without|neither)\b|n't\b|\bno\s+one\b|\bnone\s+of\b", re.IGNORECASE
)
_PLURAL_US = re.compile(r"^(?:we|us|our|the\s+team|everyone|the\s+process|the\s+system)$", re.IGNORECASE)

# --- Chinese ----------------------------------------------------------------------------------
_ZH_PRONOUN = (
    r"(?:他们|她们|他|她|我|某人|有人|某位同事|那位同事|那个同事|这个同事|该同事|同事|开发同学|运维同学|"
    r"值班(?:的)?(?:同学|工程师|人员|同事)?|新人|实习生|负责人|操作人员|操作员|工程师|开发人员|运维人员|"
    r"小[\u4e00-\u9fff]|老[\u4e00-\u9fff])"
)
_ZH_VERBS = (
    r"(?:又|就|也|还|竟然|居然|完全|根本|直接|已经)?"
    r"(?:忘了|忘记了?|没有?(?:检查|测试|审查|评审|验证|确认|注意|看|按照|遵守|通知|回滚|跟进|处理)|未能|未(?:检查|审查|验证|确认)"
    r"|应该|本应|本该|早该|早就应该|导致了?|搞砸了?|弄坏了?|搞坏了?|弄错了?|搞错了?|漏掉了?|漏了|忽略了?|无视了?|"
    r"犯了?(?:错|错误|低级错误)|操作失误|失误)"
)
_ZH_ALWAYS = (
    r"责任在于?|责任归于|归咎于|粗心大意|粗心|马虎|疏忽大意|疏忽|失职|玩忽职守|背锅|背黑锅|甩锅|"
    r"人为(?:操作)?(?:失误|错误|因素)|不负责任|偷懒|都怪|要怪|全怪|怪罪|低级错误|失误"
)
_ZH_NEGATION = re.compile(r"(?:不是|并非|并不是|没有人|无人|不能怪|不怪|不存在|不属于|非)")

_SENTENCE = re.compile(r"[^.!?。！？;；\n]+[.!?。！？;；]*", re.UNICODE)


@dataclass(frozen=True)
class People:
    """The names that identify people: the people table's real names, first names and handles.

    Names are matched as written (capitalised, like people write names); handles with an `@`.
    """

    names: frozenset[str] = frozenset()

    @classmethod
    def from_names(cls, names: Iterable[str]) -> People:
        out: set[str] = set()
        for raw in names:
            name = " ".join((raw or "").split())
            if len(name) < 2 or name.lower() in _NOT_NAMES:
                continue
            out.add(name)
            if name[:1].isalpha() and name[:1].islower() and name.isascii():
                out.add(name[:1].upper() + name[1:])  # the handle "tom" written as the name "Tom"
            first = name.split(" ")[0]
            if first != name and len(first) >= 2 and first.lower() not in _NOT_NAMES:
                out.add(first)
        return cls(frozenset(out))


@dataclass(frozen=True)
class _Patterns:
    person_verb: re.Pattern[str]
    weak_verb: re.Pattern[str]
    cause: list[re.Pattern[str]]
    nouns: list[re.Pattern[str]]
    judgement: re.Pattern[str]
    zh_person: re.Pattern[str]
    zh_always: re.Pattern[str]
    zh_blame_person: list[re.Pattern[str]]


@lru_cache(maxsize=32)
def _patterns(names: frozenset[str]) -> _Patterns:
    known = sorted(names, key=len, reverse=True)
    known_re = "|".join(re.escape(n) for n in known)
    ascii_known = "|".join(re.escape(n) for n in known if n.isascii())
    named = rf"(?<![\w@])(?:{ascii_known})(?![\w])" if ascii_known else r"(?!x)x"
    # A clear person: a mention, a handle, a known name, a pronoun or a role (possessive allowed).
    strong = rf"(?:{_MENTION}|{_HANDLE}|{named}|\b{_PRONOUN}\b|\b{_ROLE}\b)"
    # Also any capitalised word and "they", for verbs only people do.
    weak = rf"(?:{strong}|\b(?i:they)\b|\b[A-Z][a-z]{{1,20}}\b)"
    subject_tail = r"(?:\s+who)?\s+" + _ADVERB
    person_verb = re.compile(
        rf"(?P<person>{strong}){subject_tail}(?P<cue>{_GENERIC_VERBS}|{_PERSON_ONLY_VERBS})\b"
    )
    weak_verb = re.compile(rf"(?P<person>{weak}){subject_tail}(?P<cue>{_PERSON_ONLY_VERBS})\b")
    possessive = r"(?:'s|’s|'|’)"
    cause = [
        # "caused by Bob", "triggered by <@U1>'s change"
        re.compile(
            rf"(?P<cue>(?:caused|triggered|broken|started|introduced)\s+by)\s+(?P<person>{strong})"
            rf"(?:{possessive}\s+\w+)?",
            re.IGNORECASE,
        ),
        # "Jonas's deploy caused the outage"
        re.compile(
            rf"(?P<person>{strong}){possessive}\s+(?:\w+\s+){{0,2}}?{_CHANGE_NOUNS}\s+{_ADVERB}(?P<cue>{_CAUSE_VERBS})\b",
            re.IGNORECASE,
        ),
        # "Bob deployed the change that broke login"
        re.compile(
            rf"(?P<person>{strong})\s+{_ACTION_VERBS}\s+(?:[\w-]+\s+){{1,6}}?(?:that|which)\s+(?P<cue>{_CAUSE_VERBS})\b",
            re.IGNORECASE,
        ),
        # "because of Bob", "due to Tom's"
        re.compile(
            rf"(?P<cue>because\s+of|due\s+to)\s+(?P<person>{strong})",
            re.IGNORECASE,
        ),
    ]
    nouns = [
        re.compile(
            rf"(?P<person>{strong}){possessive}\s+(?:\w+\s+)?(?P<cue>{_BLAME_NOUNS})\b", re.IGNORECASE
        ),
        re.compile(
            rf"(?P<cue>(?:{_BLAME_NOUNS})\s+(?:made\s+)?(?:by|of|from|on\s+the\s+part\s+of))\s+(?P<person>{strong})",
            re.IGNORECASE,
        ),
        re.compile(rf"(?P<cue>blam(?:e|ed|ing)\s+(?:it\s+on\s+|on\s+)?)(?P<person>{strong})", re.IGNORECASE),
    ]
    judgement = re.compile(rf"\b(?P<cue>{_JUDGEMENT})\b", re.IGNORECASE)
    zh_named = rf"(?:{known_re})" if known_re else r"(?!x)x"
    zh_strong = rf"(?:{_MENTION}|{zh_named}|{_ZH_PRONOUN})"
    zh_person = re.compile(
        rf"(?P<person>{zh_strong})\s*(?:的[\u4e00-\u9fff]{{1,4}}?)?\s*(?P<cue>{_ZH_VERBS})"
    )
    zh_always = re.compile(rf"(?P<cue>{_ZH_ALWAYS})")
    zh_blame_person = [
        re.compile(rf"(?:是\s*)?(?P<person>{zh_strong})\s*的\s*(?P<cue>错|锅|责任|问题|失误)"),
        re.compile(
            rf"(?P<cue>怪|责任在于?|归咎于)\s*(?P<person>{zh_strong}|[\u4e00-\u9fff]{{2,3}}(?=[，。,.！!]|$))"
        ),
    ]
    return _Patterns(person_verb, weak_verb, cause, nouns, judgement, zh_person, zh_always, zh_blame_person)


# --------------------------------------------------------------------------------------------
# The check
# --------------------------------------------------------------------------------------------


def _negated(sentence: str, at: int, zh: bool = False) -> bool:
    """A judgement word under a negation just before it: "not human error", "nobody was careless"."""
    if zh:
        return bool(_ZH_NEGATION.search(sentence[max(0, at - 8) : at]))
    before = sentence[max(0, at - 40) : at]
    words = before.split()[-5:]
    return bool(_NEGATION.search(" ".join(words)))


def _is_name_like(person: str, *, they: bool = False) -> bool:
    word = person.strip()
    if they and word.lower() == "they":
        return True
    if word.lower() in _NOT_NAMES or _PLURAL_US.match(word):
        return False
    return True


def check_text(field: str, text: str, people: People | None = None) -> list[Finding]:
    """Every piece of blame in one field's text, in order; overlapping matches are merged."""
    if not text or not text.strip():
        return []
    pats = _patterns((people or People()).names)
    found: list[Finding] = []

    def add(rule: str, m: re.Match[str], base: int, person: str | None) -> None:
        start, end, cue = base + m.start(), base + m.end(), m.group("cue")
        cue_end = end
        span = text[start:end]
        found.append(
            Finding(
                field=field,
                start=start,
                end=end,
                text=span,
                rule=rule,
                message=message(rule, person, cue),
                suggestion=suggest(rule, cue, text, cue_end, person, start),
                person=person,
            )
        )

    for sm in _SENTENCE.finditer(text):
        sentence = sm.group(0)
        base = sm.start()
        for m in pats.person_verb.finditer(sentence):
            person = m.group("person")
            if not _is_name_like(person):
                continue
            add("person-verb", m, base, person)
        for m in pats.weak_verb.finditer(sentence):
            person = m.group("person")
            if not _is_name_like(person, they=True):
                continue
            add("person-verb", m, base, person)
        for p in pats.cause:
            for m in p.finditer(sentence):
                person = m.group("person")
                if not _is_name_like(person) or _PLURAL_US.match(person):
                    continue
                add("person-cause", m, base, person)
        for p in pats.nouns:
            for m in p.finditer(sentence):
                person = m.group("person")
                if not _is_name_like(person):
                    continue
                add("blame-noun", m, base, person)
        for m in pats.judgement.finditer(sentence):
            if _negated(sentence, m.start()):
                continue
            add("judgement", m, base, None)
        if re.search(r"[\u4e00-\u9fff]", sentence):
            for m in pats.zh_person.finditer(sentence):
                person = m.group("person")
                if _ZH_NEGATION.search(sentence[max(0, m.start() - 4) : m.start()]):
                    continue
                add("zh-person-verb", m, base, person)
            for p in pats.zh_blame_person:
                for m in p.finditer(sentence):
                    if _negated(sentence, m.start(), zh=True):
                        continue
                    add("zh-blame", m, base, m.group("person"))
            for m in pats.zh_always.finditer(sentence):
                if _negated(sentence, m.start(), zh=True):
                    continue
                add("zh-blame", m, base, None)
    return _merge(found)


def _merge(found: list[Finding]) -> list[Finding]:
    """One finding per stretch of text: overlapping matches keep the longest (then the earliest)."""
    found.sort(key=lambda f: (f.start, -(f.end - f.start)))
    out: list[Finding] = []
    for f in found:
        if out and f.start < out[-1].end:
            last = out[-1]
            if (f.end - f.start) > (last.end - last.start) and f.start == last.start:
                out[-1] = f
            elif f.end > last.end and last.person is None and f.person is not None:
                out[-1] = f
            continue
        out.append(f)
    return out


def check(fields: Mapping[str, str], people: People | None = None) -> list[Finding]:
    """The check over every free-text field, in the order given."""
    findings: list[Finding] = []
    for field, text in fields.items():
        findings.extend(check_text(field, text or "", people))
    return findings
