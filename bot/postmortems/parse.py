"""The `/postmortem` grammar: command text → a typed request. No Slack, no database.

Slash commands arrive escaped (`should_escape: true`): a mention is `<@U123|name>`. Options are
`key:value` anywhere after the ID (`sev:2`, `owner:@tom`, `due:2026-12-15`, `type:detective`);
`due:` may take more than one word (`due:next friday`) — the words that make a date are taken
when the command is answered, the rest stay in the title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.common.errors import UserError
from bot.common.ids import Kind, looks_like, parse_id
from bot.postmortems.rules import Status

# Shown inside mrkdwn error messages, so `<` and `>` are written as entities.
USAGE = {
    "new": "`/postmortem new [title] [sev:&lt;1-4&gt;]` (just `/postmortem new` opens the template)",
    "action": (
        "`/postmortem action PM-n &lt;title&gt; owner:@user due:&lt;YYYY-MM-DD&gt; "
        "[type:detective|preventative|corrective]`"
    ),
    "done": "`/postmortem done AI-n`",
    "review": "`/postmortem review PM-n`",
    "publish": "`/postmortem publish PM-n`",
    "search": "`/postmortem search &lt;words&gt;`",
    "list": "`/postmortem list [draft|review|published]`",
    "edit": "`/postmortem edit PM-n`",
    "check": "`/postmortem check PM-n`",
    "actions": "`/postmortem actions [mine|overdue|PM-n|@user]`",
}

_OPTION = re.compile(r'(?<!\S)(sev|severity|owner|due|type|kind):("([^"]*)"|“([^”]*)”|(\S*))', re.IGNORECASE)
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_STATUS_WORDS = {
    "draft": Status.DRAFT,
    "drafts": Status.DRAFT,
    "review": Status.IN_REVIEW,
    "in_review": Status.IN_REVIEW,
    "in-review": Status.IN_REVIEW,
    "reviews": Status.IN_REVIEW,
    "published": Status.PUBLISHED,
    "publish": Status.PUBLISHED,
}


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class NewModal:
    pass


@dataclass(frozen=True)
class QuickNew:
    title: str
    severity: str | None = None


@dataclass(frozen=True)
class Draft:
    pass


@dataclass(frozen=True)
class ListPostmortems:
    status: Status | None = None


@dataclass(frozen=True)
class Show:
    postmortem_id: int


@dataclass(frozen=True)
class Search:
    words: str


@dataclass(frozen=True)
class Review:
    postmortem_id: int


@dataclass(frozen=True)
class Publish:
    postmortem_id: int


@dataclass(frozen=True)
class Check:
    postmortem_id: int


@dataclass(frozen=True)
class Edit:
    postmortem_id: int


@dataclass(frozen=True)
class Owner:
    user_id: str | None = None
    name: str | None = None  # a plain `@name`, resolved against the people the bot knows


@dataclass(frozen=True)
class AddAction:
    postmortem_id: int
    title_words: list[str]
    owner: Owner | None
    due_words: list[str] = field(default_factory=list)
    kind: str | None = None


@dataclass(frozen=True)
class Done:
    action_item_id: int


@dataclass(frozen=True)
class Actions:
    scope: str = "mine"  # mine | overdue | postmortem | person
    postmortem_id: int | None = None
    owner: Owner | None = None


Request = (
    Help
    | NewModal
    | QuickNew
    | Draft
    | ListPostmortems
    | Show
    | Search
    | Review
    | Publish
    | Check
    | Edit
    | AddAction
    | Done
    | Actions
)


def _pm_id(words: list[str], verb: str) -> int:
    if not words:
        raise UserError(f"Which postmortem? {USAGE[verb]}")
    return parse_id(words[0], Kind.POSTMORTEM)


def parse_owner(text: str) -> Owner:
    value = text.strip()
    m = _MENTION.match(value)
    if m:
        return Owner(user_id=m.group(1))
    name = value.lstrip("@").strip()
    if not name:
        raise UserError(f"Who owns it? Mention them: `owner:@name`. {USAGE['action']}")
    return Owner(name=name)


def _options(text: str) -> tuple[dict[str, str], list[tuple[str, int, int]], str]:
    """Options (`key → value`), their spans, and the text with them taken out."""
    found: dict[str, str] = {}
    spans = []
    for m in _OPTION.finditer(text):
        key = m.group(1).lower()
        key = {"severity": "sev", "kind": "type"}.get(key, key)
        value = next((g for g in m.group(3, 4, 5) if g is not None), "")
        found[key] = value
        spans.append((key, m.start(), m.end()))
    rest = _OPTION.sub(" ", text)
    return found, spans, " ".join(rest.split())


def _parse_action(words: list[str], text_after_id: str, pm_id: int) -> AddAction:
    options, spans, _ = _options(text_after_id)
    if "owner" not in options:
        raise UserError(f"Who owns the action item? Add `owner:@name`. {USAGE['action']}")
    if "due" not in options or not options["due"]:
        raise UserError(f"When is it due? Add `due:YYYY-MM-DD`. {USAGE['action']}")
    # Words after `due:value` up to the next option may belong to the date ("due:next friday").
    title_parts: list[str] = []
    due_words: list[str] = []
    cursor = 0
    for key, start, end in spans:
        title_parts.append(text_after_id[cursor:start])
        cursor = end
        if key == "due":
            nxt = min([s for _, s, _ in spans if s > start] or [len(text_after_id)])
            tail = text_after_id[end:nxt]
            due_words = [options["due"], *tail.split()]
            cursor = nxt
    title_parts.append(text_after_id[cursor:])
    title_words = " ".join(title_parts).split()
    return AddAction(
        postmortem_id=pm_id,
        title_words=title_words,
        owner=parse_owner(options["owner"]),
        due_words=due_words,
        kind=options.get("type"),
    )


def parse(text: str | None) -> Request:
    raw = " ".join((text or "").replace("\u00a0", " ").split(" ")).strip()
    if not raw or raw.lower() in ("help", "-h", "--help", "?"):
        return Help()
    words = raw.split()
    verb = words[0].lower()
    rest = words[1:]
    rest_text = raw[len(words[0]) :].strip()
    if looks_like(words[0], Kind.POSTMORTEM):
        return Show(parse_id(words[0], Kind.POSTMORTEM))
    if looks_like(words[0], Kind.ACTION_ITEM):
        raise UserError(f"To close an action item: {USAGE['done']}; to see yours: `/postmortem actions`.")
    if verb == "new":
        if not rest:
            return NewModal()
        options, _, title = _options(rest_text)
        unknown = set(options) - {"sev"}
        if unknown:
            raise UserError(f"`{sorted(unknown)[0]}:` does not belong here. {USAGE['new']}")
        if not title and "sev" in options:
            raise UserError(f"Give it a title too. {USAGE['new']}")
        return QuickNew(title=title, severity=options.get("sev"))
    if verb == "draft":
        if rest:
            raise UserError(
                "`/postmortem draft` takes nothing else — run it in the incident channel and the "
                "draft's timeline comes from the channel's messages."
            )
        return Draft()
    if verb == "list":
        if not rest or rest[0].lower() == "all":
            return ListPostmortems()
        status = _STATUS_WORDS.get(rest[0].lower())
        if status is None or len(rest) > 1:
            raise UserError(f"`{' '.join(rest)[:40]}` is not a status. {USAGE['list']}")
        return ListPostmortems(status)
    if verb == "search":
        if not rest_text:
            raise UserError(f"Search for what? {USAGE['search']}")
        return Search(rest_text)
    if verb in ("review", "publish", "check", "edit", "show"):
        pm_id = _pm_id(rest, "review" if verb == "show" else verb)
        if len(rest) > 1:
            raise UserError(f"Only the ID, please: {USAGE.get(verb, USAGE['review'])}")
        return {"review": Review, "publish": Publish, "check": Check, "edit": Edit, "show": Show}[verb](pm_id)
    if verb == "action":
        pm_id = _pm_id(rest, "action")
        after_id = rest_text[len(rest[0]) :].strip()
        return _parse_action(rest, after_id, pm_id)
    if verb == "done":
        if len(rest) != 1:
            raise UserError(f"Which action item? {USAGE['done']}")
        return Done(parse_id(rest[0], Kind.ACTION_ITEM))
    if verb in ("actions", "todo"):
        if not rest or rest[0].lower() == "mine":
            return Actions("mine")
        if rest[0].lower() == "overdue":
            return Actions("overdue")
        if looks_like(rest[0], Kind.POSTMORTEM):
            return Actions("postmortem", postmortem_id=parse_id(rest[0], Kind.POSTMORTEM))
        if rest[0].startswith(("<@", "@")):
            return Actions("person", owner=parse_owner(rest[0]))
        raise UserError(f"`{rest[0][:30]}` is not something I can list. {USAGE['actions']}")
    raise UserError(f"I don't know `{words[0][:30]}`.", hint="`/postmortem help` lists every form.")
