"""The `/ssp` grammar: command text → a typed request. No Slack, no database.

Slash commands arrive escaped (`should_escape: true`): a mention is `<@U123|name>`. Options are
`key:value` anywhere in a quick request (`urgency:high`); the rest is the summary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.common.errors import UserError
from bot.common.ids import Kind, looks_like, parse_id

USAGE = {
    "request": (
        "`/ssp request &lt;team&gt; &lt;summary…&gt; [urgency:low|normal|high|urgent]` "
        "(or `/ssp request` for a form)"
    ),
    "claim": "`/ssp claim REQ-n`",
    "assign": "`/ssp assign REQ-n @user`",
    "comment": "`/ssp comment REQ-n &lt;text&gt;`",
    "wait": "`/ssp wait REQ-n &lt;question for the requester&gt;`",
    "resolve": "`/ssp resolve REQ-n [note]`",
    "reopen": "`/ssp reopen REQ-n [note]`",
    "rate": "`/ssp rate REQ-n &lt;1-5&gt;`",
    "faq add": "`/ssp faq add &lt;team&gt; &lt;question&gt; | &lt;answer&gt;`",
}
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_URGENCY = re.compile(r"(?<!\S)urgency:(\S*)", re.IGNORECASE)


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Catalogue:
    pass


@dataclass(frozen=True)
class RequestModal:
    team: str | None = None


@dataclass(frozen=True)
class QuickRequest:
    team: str
    summary: str
    urgency: str = "normal"


@dataclass(frozen=True)
class Mine:
    pass


@dataclass(frozen=True)
class Show:
    request_id: int


@dataclass(frozen=True)
class QueueOf:
    team: str | None = None


@dataclass(frozen=True)
class Triage:
    """claim, assign, comment, wait, resolve, reopen, rate — on one request."""

    verb: str
    request_id: int
    text: str = ""
    user_id: str | None = None  # assign
    user_name: str | None = None  # a plain `@name` to resolve
    rating: int | None = None


@dataclass(frozen=True)
class FaqList:
    team: str | None = None


@dataclass(frozen=True)
class FaqAdd:
    team: str
    question: str
    answer: str


@dataclass(frozen=True)
class Stats:
    team: str | None = None


Parsed = (
    Help | Catalogue | RequestModal | QuickRequest | Mine | Show | QueueOf | Triage | FaqList | FaqAdd | Stats
)
VERBS = ("claim", "assign", "comment", "wait", "resolve", "reopen", "rate")


def _usage(verb: str) -> str:
    return f"Use {USAGE[verb]}."


def _request_id(word: str, verb: str) -> int:
    if not word:
        raise UserError(f"Which request? {_usage(verb)}")
    try:
        return parse_id(word, Kind.REQUEST)
    except UserError as err:
        raise UserError(err.message, hint=_usage(verb)) from None


def _triage(verb: str, rest: str) -> Triage:
    word, _, tail = rest.partition(" ")
    request_id = _request_id(word, verb)
    tail = tail.strip()
    if verb == "assign":
        who = tail.split()[0] if tail else ""
        mention = _MENTION.match(who)
        if mention:
            return Triage(verb, request_id, user_id=mention.group(1))
        if who.startswith("@") and len(who) > 1:
            return Triage(verb, request_id, user_name=who[1:])
        raise UserError("Assign to whom? Mention them.", hint=_usage("assign"))
    if verb == "rate":
        if not re.fullmatch(r"-?\d+", tail):
            raise UserError(
                f"A rating is a whole number from 1 to 5, not `{tail[:20] or '(nothing)'}`.",
                hint=_usage("rate"),
            )
        return Triage(verb, request_id, rating=int(tail))
    if verb in ("comment", "wait") and not tail:
        raise UserError(f"The {'comment' if verb == 'comment' else 'question'} is empty.", hint=_usage(verb))
    return Triage(verb, request_id, text=tail)


def parse(text: str | None) -> Parsed:
    raw = " ".join((text or "").replace("\u00a0", " ").split(" ")).strip()
    if not raw:
        return Catalogue()
    word, _, rest = raw.partition(" ")
    verb = word.lower()
    rest = rest.strip()
    if verb in ("help", "-h", "--help", "?"):
        return Help()
    if verb in ("catalogue", "catalog", "teams"):
        return Catalogue()
    if looks_like(word, Kind.REQUEST):
        return Show(parse_id(word, Kind.REQUEST))
    if verb == "status":
        return Show(_request_id(rest.split(" ")[0] if rest else "", "claim"))
    if verb == "mine":
        return Mine()
    if verb == "queue":
        return QueueOf(rest or None)
    if verb == "stats":
        return Stats(rest or None)
    if verb == "request":
        if not rest:
            return RequestModal()
        urgency = "normal"
        found = _URGENCY.search(rest)
        if found:
            urgency = found.group(1).lower()
            rest = (rest[: found.start()] + rest[found.end() :]).strip()
        team, _, summary = rest.partition(" ")
        summary = " ".join(summary.split()) if "\n" not in summary else summary.strip()
        if not summary:
            return RequestModal(team)
        return QuickRequest(team, summary, urgency)
    if verb in VERBS:
        return _triage(verb, rest)
    if verb == "faq":
        sub, _, tail = rest.partition(" ")
        if sub.lower() == "add":
            team, _, pair = tail.strip().partition(" ")
            question, bar, answer = pair.partition("|")
            if not team or not bar or not question.strip() or not answer.strip():
                raise UserError("A FAQ entry needs a team, a question and an answer.", hint=_usage("faq add"))
            return FaqAdd(team, question.strip(), answer.strip())
        return FaqList(rest or None)
    raise UserError(
        f"I don't understand `/ssp {raw[:80]}`.",
        hint="`/ssp help` lists every form; `/ssp` alone shows the service teams.",
    )
