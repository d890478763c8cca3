"""The `/okr` grammar: command text → a typed request. No Slack, no database.

Slash commands arrive escaped (`should_escape: true`): a mention is `<@U123|name>`, a channel
`<#C123|name>`. Options are `key:value` anywhere in the text (`team:"User research"` for
values with spaces); whatever is left is the title, the words or the note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.common.errors import UserError
from bot.common.ids import Kind, looks_like, parse_id
from bot.okrs.scoring import parse_number

USAGE = {
    "team": "`/okr team &lt;name&gt;`",
    "new": "`/okr new &lt;title&gt; [team:&lt;name&gt;] [parent:O-n]` (or just `/okr new` for a form)",
    "kr": (
        "`/okr kr O-n &lt;title&gt; target:&lt;number&gt; [start:&lt;number&gt;] [unit:&lt;text&gt;] "
        "[weight:&lt;number&gt;]`"
    ),
    "checkin": "`/okr checkin KR-n &lt;value&gt;[%] [confidence:&lt;1-10&gt;] [note…]`",
    "history": "`/okr history KR-n`",
    "search": "`/okr search &lt;words&gt;`",
}

_OPTION = re.compile(
    r'(?<!\S)(team|parent|target|start|unit|confidence|conf|weight|cycle):("([^"]*)"|“([^”]*)”|(\S*))',
    re.IGNORECASE,
)
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_CHANNEL = re.compile(r"^<#(C[A-Z0-9]+)(?:\|([^>]*))?>$")
_VALUE = re.compile(r"^(.*?)(%?)$")


@dataclass(frozen=True)
class Mine:
    pass


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class OfPerson:
    user_id: str | None = None
    name: str | None = None  # a plain `@name`, resolved against the people the bot knows


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
    pass


@dataclass(frozen=True)
class QuickNew:
    title: str
    team: str | None = None
    parent_id: int | None = None


@dataclass(frozen=True)
class AddKr:
    objective_id: int
    title: str
    target: float
    start: float = 0.0
    unit: str = ""
    weight: float = 1.0


@dataclass(frozen=True)
class CheckinCmd:
    kr_id: int
    value: float
    percent: bool = False
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
)

READS = (Mine, OfPerson, OfTeam, ShowObjective, ShowTree, ShowHistory, Search, ShowCycle, AtRisk)


@dataclass(frozen=True)
class Parsed:
    request: Request
    share: bool = False
    cycle: str | None = None
    options: dict[str, str] = field(default_factory=dict)


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
        weight=parse_number(options["weight"], what="weight") if "weight" in options else 1.0,
    )


def parse(text: str | None) -> Parsed:
    """Parse `/okr` text; anything not understood raises a UserError that shows the right form."""
    raw = (text or "").strip()
    words = raw.split()
    share = False
    if (
        words
        and words[-1].lower() == "share"
        and (len(words) == 1 or words[0].lower() not in ("new", "kr", "checkin"))
    ):
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
    if head.startswith("<@"):
        match = _MENTION.match(head)
        if not match:
            raise UserError(f"`{head[:40]}` is not a person I can read.", hint="Try `/okr @name`.")
        rest, options = _options(tail)
        _unexpected(options, {"cycle"}, "person")
        return Parsed(OfPerson(user_id=match.group(1)), share, options.get("cycle"))
    if head.startswith("@") and len(head) > 1:
        rest, options = _options(tail)
        _unexpected(options, {"cycle"}, "person")
        name = " ".join([head[1:], rest]).strip() if rest else head[1:]
        return Parsed(OfPerson(name=name), share, options.get("cycle"))
    if looks_like(head, Kind.OBJECTIVE) and not tail:
        return Parsed(ShowObjective(parse_id(head, Kind.OBJECTIVE)), share)
    if looks_like(head, Kind.KEY_RESULT) and not tail:
        return Parsed(ShowHistory(parse_id(head, Kind.KEY_RESULT)), share)
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
        return Parsed(ShowCycle(), share)
    if verb == "search":
        if not tail:
            raise UserError("Search for what?", hint=f"Usage: {USAGE['search']}")
        return Parsed(Search(tail), share)
    if verb == "history":
        if not tail:
            raise UserError("Which key result?", hint=f"Usage: {USAGE['history']}")
        return Parsed(ShowHistory(_id(tail.split()[0], Kind.KEY_RESULT, "history")), share)
    if verb == "new":
        if not tail:
            return Parsed(NewModal())
        rest, options = _options(tail)
        _unexpected(options, {"team", "parent"}, "new")
        parent = _id(options["parent"], Kind.OBJECTIVE, "new") if options.get("parent") else None
        if not rest:
            raise UserError("The objective title is empty.", hint=f"Usage: {USAGE['new']}")
        return Parsed(
            QuickNew(rest, team=_team_arg(options["team"]) if options.get("team") else None, parent_id=parent)
        )
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
                weight=parse_number(options["weight"], what="weight") if "weight" in options else 1.0,
            )
        )
    if verb in ("checkin", "check-in", "ci"):
        first, _, after = tail.partition(" ")
        if not first:
            raise UserError("Which key result?", hint=f"Usage: {USAGE['checkin']}")
        kr_id = _id(first, Kind.KEY_RESULT, "checkin")
        rest, options = _options(after)
        _unexpected(options, {"confidence"}, "checkin")
        value_text, _, note = rest.partition(" ")
        if not value_text:
            raise UserError("What is the new value?", hint=f"Usage: {USAGE['checkin']}")
        try:
            value, percent = parse_value(value_text)
        except UserError as err:
            raise UserError(err.message, hint=f"Usage: {USAGE['checkin']}") from None
        confidence = parse_confidence(options["confidence"]) if "confidence" in options else None
        return Parsed(CheckinCmd(kr_id, value, percent, confidence, note.strip()))
    raise UserError(
        f"I don't understand `/okr {raw[:60]}`.",
        hint="Try `/okr mine`, `/okr @name`, `/okr O-12`, `/okr tree` — or `/okr help` for every form.",
    )
