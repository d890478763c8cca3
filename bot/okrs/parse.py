"""The `/okr` grammar: command text → a typed request. No Slack, no database.

Slash commands arrive escaped (`should_escape: true`): a mention is `<@U123|name>`, a channel
`<#C123|name>`. Options are `key:value` anywhere in the text (`team:"User research"` for
values with spaces); whatever is left is the title, the words or the note. Nothing typed is
dropped silently: a word a form has no use for is either refused or named in the answer
(`ignored`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.common.errors import UserError
from bot.common.ids import Kind, looks_like, parse_id
from bot.okrs.checks import Mode, parse_number, parse_weight

USAGE = {
    "team": "`/okr team &lt;name&gt;`",
    "person": "`/okr @user [@user…] [cycle:&lt;key&gt;]`",
    "new": (
        "`/okr new &lt;title&gt; [team:&lt;name&gt;] [parent:O-n] [cycle:&lt;key&gt;]` "
        "(or just `/okr new` for a form)"
    ),
    "kr": (
        "`/okr kr O-n &lt;title&gt; target:&lt;number&gt; [start:&lt;number&gt;] [unit:&lt;text&gt;] "
        "[weight:&lt;0–1&gt;]`"
    ),
    "checkin": (
        "`/okr checkin KR-n &lt;value&gt; [confidence:&lt;1-10&gt;] [note…]` "
        "(or `progress:&lt;0–100&gt;%` instead of a value)"
    ),
    "history": "`/okr history KR-n`",
    "search": "`/okr search &lt;words&gt;`",
    "review": (
        "`/okr review [team] [cycle:&lt;key&gt;]` · `/okr review write [O-n]` · "
        "`/okr review subscribe [team]` · `/okr review unsubscribe [team]`"
    ),
    "carry": "`/okr carry KR-n`",
}

_OPTION = re.compile(
    r"(?<!\S)(team|parent|target|start|unit|confidence|conf|weight|cycle|progress):"
    r'("([^"]*)"|“([^”]*)”|(\S*))',
    re.IGNORECASE,
)
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_CHANNEL = re.compile(r"^<#(C[A-Z0-9]+)(?:\|([^>]*))?>$")
_VALUE = re.compile(r"^(.*?)(%?)$")
_OF_THE_WAY = re.compile(r"^of the way\b\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Mine:
    pass


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class OfPerson:
    """One or more people: mentions (`user_ids`) and plain `@names` resolved by the listener."""

    user_ids: tuple[str, ...] = ()
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class OfTeam:
    team: str


@dataclass(frozen=True)
class ShowObjective:
    objective_id: int


@dataclass(frozen=True)
class ShowTree:
    team: str | None = None


@dataclass(frozen=True)
class NewModal:
    cycle: str | None = None


@dataclass(frozen=True)
class QuickNew:
    title: str
    team: str | None = None
    parent_id: int | None = None
    cycle: str | None = None


@dataclass(frozen=True)
class AddKr:
    objective_id: int
    title: str
    target: float
    start: float = 0.0
    unit: str = ""
    weight: float | None = None


@dataclass(frozen=True)
class CheckinCmd:
    kr_id: int
    value: float
    mode: Mode = Mode.VALUE
    confidence: int | None = None
    note: str = ""


@dataclass(frozen=True)
class ShowHistory:
    kr_id: int


@dataclass(frozen=True)
class Search:
    words: str


@dataclass(frozen=True)
class ShowCycle:
    pass


@dataclass(frozen=True)
class AtRisk:
    team: str | None = None


@dataclass(frozen=True)
class ShowReview:
    team: str | None = None


@dataclass(frozen=True)
class WriteReview:
    objective_id: int | None = None


@dataclass(frozen=True)
class Subscribe:
    team: str | None = None
    on: bool = True  # False: unsubscribe


@dataclass(frozen=True)
class CarryOver:
    kr_id: int


Request = (
    Mine
    | Help
    | OfPerson
    | OfTeam
    | ShowObjective
    | ShowTree
    | NewModal
    | QuickNew
    | AddKr
    | CheckinCmd
    | ShowHistory
    | Search
    | ShowCycle
    | AtRisk
    | ShowReview
    | WriteReview
    | Subscribe
    | CarryOver
)

READS = (Mine, OfPerson, OfTeam, ShowObjective, ShowTree, ShowHistory, Search, ShowCycle, AtRisk, ShowReview)


@dataclass(frozen=True)
class Parsed:
    request: Request
    share: bool = False
    cycle: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    ignored: str = ""  # words the form has no use for, named in the answer


def _options(text: str) -> tuple[str, dict[str, str]]:
    found: dict[str, str] = {}

    def take(match: re.Match[str]) -> str:
        key = match.group(1).lower()
        key = "confidence" if key == "conf" else key
        value = next((g for g in match.groups()[2:] if g is not None), "")
        if key in found:
            raise UserError(f"`{key}:` is given twice.")
        found[key] = value.strip()
        return " "

    rest = _OPTION.sub(take, text)
    return re.sub(r"\s+", " ", rest).strip(), found


def _unexpected(options: dict[str, str], allowed: set[str], form: str) -> None:
    extra = sorted(set(options) - allowed)
    if extra:
        raise UserError(
            f"`{extra[0]}:` does not apply here.", hint=f"Usage: {USAGE.get(form, '`/okr help`')}"
        )


def _id(text: str, kind: Kind, form: str) -> int:
    try:
        return parse_id(text, kind)
    except UserError as err:
        raise UserError(err.message, hint=f"Usage: {USAGE[form]}") from None


def _team_arg(text: str) -> str:
    match = _CHANNEL.match(text.strip())
    if match:  # `/okr team #growth`: the channel's name is the best guess for the team
        return match.group(2) or match.group(1)
    return text.strip().strip('"“”')


def parse_confidence(text: str) -> int:
    raw = text.strip().removesuffix("/10")
    if not re.fullmatch(r"[+-]?\d+", raw):
        raise UserError(f"Confidence `{text[:20]}` must be a whole number from 1 to 10.")
    return int(raw)


def parse_value(text: str) -> tuple[float, bool]:
    """A check-in value: `42`, `-3.5`, `1,200` or `60%` (→ (60.0, True))."""
    raw = (text or "").strip()
    match = _VALUE.match(raw)
    number, percent = (match.group(1).strip(), bool(match.group(2))) if match else (raw, False)
    return parse_number(number, what="value"), percent


def parse_progress(text: str) -> float:
    """`progress:60%` or `progress:60`: a share of the way from start to target, in percent."""
    raw = (text or "").strip().removesuffix("%").strip()
    return parse_number(raw, what="progress")


def parse_kr_line(text: str) -> AddKr:
    """A key result as typed in the create modal: `/okr kr`'s grammar without the objective ID."""
    rest, options = _options(text)
    _unexpected(options, {"target", "start", "unit", "weight"}, "kr")
    if "target" not in options:
        raise UserError(
            "A key result needs `target:&lt;number&gt;`, e.g. `Weekly active teams target:200 start:120`."
        )
    return AddKr(
        objective_id=0,
        title=rest,
        target=parse_number(options["target"], what="target"),
        start=parse_number(options["start"], what="start") if "start" in options else 0.0,
        unit=options.get("unit", ""),
        weight=parse_weight(options["weight"]) if "weight" in options else None,
    )


def _people(head: str, tail: str) -> tuple[OfPerson, dict[str, str], str]:
    """`<@U1> <@U2> @name cycle:…` → the people, the options, and any other words (ignored)."""
    rest, options = _options(f"{head} {tail}")
    ids: list[str] = []
    names: list[str] = []
    other: list[str] = []
    for word in rest.split():
        match = _MENTION.match(word)
        if match:
            if match.group(1) not in ids:
                ids.append(match.group(1))
        elif word.startswith("<@"):
            raise UserError(f"`{word[:40]}` is not a person I can read.", hint="Try `/okr @name`.")
        elif word.startswith("@") and len(word) > 1:
            if word[1:] not in names:
                names.append(word[1:])
        else:
            other.append(word)
    if len(ids) + len(names) > 10:
        raise UserError("That is more than 10 people — ask for a team instead: `/okr team <name>`.")
    return OfPerson(tuple(ids), tuple(names)), options, " ".join(other)


def _checkin(tail: str) -> CheckinCmd:
    first, _, after = tail.partition(" ")
    if not first:
        raise UserError("Which key result?", hint=f"Usage: {USAGE['checkin']}")
    kr_id = _id(first, Kind.KEY_RESULT, "checkin")
    rest, options = _options(after)
    _unexpected(options, {"confidence", "progress"}, "checkin")
    confidence = parse_confidence(options["confidence"]) if "confidence" in options else None
    try:
        if "progress" in options:
            first_word = rest.split(" ", 1)[0]
            if first_word and re.fullmatch(r"[+-]?[\d.,]+%?", first_word):
                raise UserError(f"Give a value or `progress:`, not both (got `{first_word}` and a progress).")
            return CheckinCmd(kr_id, parse_progress(options["progress"]), Mode.PROGRESS, confidence, rest)
        value_text, _, note = rest.partition(" ")
        if not value_text:
            raise UserError("What is the new value?")
        value, percent = parse_value(value_text)
    except UserError as err:
        raise UserError(err.message, hint=f"Usage: {USAGE['checkin']}") from None
    note = note.strip()
    mode = Mode.PERCENT if percent else Mode.VALUE
    if percent and _OF_THE_WAY.match(note):  # `60% of the way`: the words say it is a share
        mode, note = Mode.PROGRESS, _OF_THE_WAY.sub("", note, count=1)
    return CheckinCmd(kr_id, value, mode, confidence, note.strip())


def _review(tail: str, share: bool) -> Parsed:
    rest, options = _options(tail)
    head, _, more = rest.partition(" ")
    verb = head.lower()
    if verb in ("subscribe", "unsubscribe"):
        _unexpected(options, {"team"}, "review")
        team = options.get("team") or (_team_arg(more) if more else None)
        return Parsed(Subscribe(team or None, on=verb == "subscribe"))
    if verb in ("write", "edit", "score"):
        _unexpected(options, set(), "review")
        if not more:
            return Parsed(WriteReview())
        first, _, extra = more.partition(" ")
        return Parsed(WriteReview(_id(first, Kind.OBJECTIVE, "review")), ignored=extra.strip())
    if verb == "help":
        return Parsed(Help())
    _unexpected(options, {"cycle", "team"}, "review")
    team = options.get("team") or (_team_arg(rest) if rest else None)
    return Parsed(ShowReview(team or None), share, options.get("cycle"))


def parse(text: str | None) -> Parsed:
    """Parse `/okr` text; anything not understood raises a UserError that shows the right form."""
    raw = (text or "").strip()
    words = raw.split()
    share = False
    # `share` as the last word posts the answer in the channel — except after a title, which may
    # end in the word (`/okr new Grow market share`); there `/okr share new …` does it.
    if words and words[-1].lower() == "share" and (len(words) == 1 or words[0].lower() not in ("new", "kr")):
        share = True
        raw = raw[: raw.lower().rfind("share")].strip()
    elif len(words) > 1 and words[0].lower() == "share":
        share = True
        raw = raw[5:].strip()
    head, _, tail = raw.partition(" ")
    verb = head.lower()
    tail = tail.strip()

    if verb in ("", "mine", "me", "my"):
        request: Request = Mine()
        rest, options = _options(tail)
        if rest:
            raise UserError(f"`/okr mine` takes no words (got `{rest[:40]}`).", hint="Try `/okr mine`.")
        _unexpected(options, {"cycle"}, "mine")
        return Parsed(request, share, options.get("cycle"))
    if verb in ("help", "-h", "--help", "?"):
        return Parsed(Help())
    if head.startswith("<@") or (head.startswith("@") and len(head) > 1):
        people, options, other = _people(head, tail)
        _unexpected(options, {"cycle"}, "person")
        return Parsed(people, share, options.get("cycle"), ignored=other)
    if looks_like(head, Kind.OBJECTIVE):
        return Parsed(ShowObjective(parse_id(head, Kind.OBJECTIVE)), share, ignored=tail)
    if looks_like(head, Kind.KEY_RESULT):
        return Parsed(ShowHistory(parse_id(head, Kind.KEY_RESULT)), share, ignored=tail)
    if verb == "team":
        rest, options = _options(tail)
        _unexpected(options, {"cycle"}, "team")
        if not rest:
            raise UserError("Which team?", hint=f"Usage: {USAGE['team']}")
        return Parsed(OfTeam(_team_arg(rest)), share, options.get("cycle"))
    if verb == "tree":
        rest, options = _options(tail)
        _unexpected(options, {"cycle", "team"}, "tree")
        team = options.get("team") or (_team_arg(rest) if rest else None)
        return Parsed(ShowTree(team or None), share, options.get("cycle"))
    if verb in ("atrisk", "at-risk", "risk", "risks"):
        rest, options = _options(tail)
        _unexpected(options, {"team"}, "atrisk")
        team = options.get("team") or (_team_arg(rest) if rest else None)
        return Parsed(AtRisk(team or None), share)
    if verb == "cycle":
        return Parsed(ShowCycle(), share, ignored=tail)
    if verb in ("review", "复盘"):
        return _review(tail, share)
    if verb in ("carry", "carryover", "carry-over"):
        first, _, extra = tail.partition(" ")
        if not first:
            raise UserError("Which key result?", hint=f"Usage: {USAGE['carry']}")
        return Parsed(CarryOver(_id(first, Kind.KEY_RESULT, "carry")), share, ignored=extra.strip())
    if verb == "search":
        if not tail:
            raise UserError("Search for what?", hint=f"Usage: {USAGE['search']}")
        return Parsed(Search(tail), share)
    if verb == "history":
        if not tail:
            raise UserError("Which key result?", hint=f"Usage: {USAGE['history']}")
        first, _, extra = tail.partition(" ")
        return Parsed(ShowHistory(_id(first, Kind.KEY_RESULT, "history")), share, ignored=extra.strip())
    if verb == "new":
        if not tail:
            return Parsed(NewModal())
        rest, options = _options(tail)
        _unexpected(options, {"team", "parent", "cycle"}, "new")
        parent = _id(options["parent"], Kind.OBJECTIVE, "new") if options.get("parent") else None
        cycle = options.get("cycle") or None
        if not rest:
            if cycle and set(options) == {"cycle"}:  # `/okr new cycle:2027-01`: the form, for that cycle
                return Parsed(NewModal(cycle))
            raise UserError("The objective title is empty.", hint=f"Usage: {USAGE['new']}")
        team = _team_arg(options["team"]) if options.get("team") else None
        return Parsed(QuickNew(rest, team=team, parent_id=parent, cycle=cycle), share)
    if verb == "kr":
        first, _, after = tail.partition(" ")
        if not first:
            raise UserError("Which objective?", hint=f"Usage: {USAGE['kr']}")
        objective_id = _id(first, Kind.OBJECTIVE, "kr")
        rest, options = _options(after)
        _unexpected(options, {"target", "start", "unit", "weight"}, "kr")
        if "target" not in options:
            raise UserError("A key result needs a `target:&lt;number&gt;`.", hint=f"Usage: {USAGE['kr']}")
        return Parsed(
            AddKr(
                objective_id=objective_id,
                title=rest,
                target=parse_number(options["target"], what="target"),
                start=parse_number(options["start"], what="start") if "start" in options else 0.0,
                unit=options.get("unit", ""),
                weight=parse_weight(options["weight"]) if "weight" in options else None,
            ),
            share,
        )
    if verb in ("checkin", "check-in", "ci"):
        return Parsed(_checkin(tail), share)
    raise UserError(
        f"I don't understand `/okr {raw[:60]}`.",
        hint="Try `/okr mine`, `/okr @name`, `/okr O-12`, `/okr tree` — or `/okr help` for every form.",
    )
