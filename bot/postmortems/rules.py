"""Pure rules of postmortems: the template's fields, statuses, severities, due dates, text hygiene.

No database and no Slack here, so every rule is tested directly and shared by the service, the
modals, the command parser, the CLI and the Markdown export.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from bot.common.errors import UserError


class Status(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"

    @property
    def label(self) -> str:
        return {"draft": "draft", "in_review": "in review", "published": "published"}[self.value]


class ActionKind(StrEnum):
    """The three kinds of follow-up incident reviews use: find it sooner, stop it, fix what broke."""

    DETECTIVE = "detective"
    PREVENTATIVE = "preventative"
    CORRECTIVE = "corrective"


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


SEVERITIES: dict[int, str] = {
    1: "SEV1 — critical: a core service down for many customers",
    2: "SEV2 — major: a core feature broken or badly degraded",
    3: "SEV3 — minor: degraded for some customers, a workaround exists",
    4: "SEV4 — low: little customer impact",
}


@dataclass(frozen=True)
class TextField:
    key: str
    label: str
    limit: int
    multiline: bool = True
    hint: str = ""


# The template, in the order a reader meets it (DESIGN §2). Slack's inputs take at most 3,000.
FIELDS: tuple[TextField, ...] = (
    TextField("title", "Title", 200, multiline=False),
    TextField("summary", "Summary", 3000, hint="What happened, in a few sentences."),
    TextField("impact", "Impact", 3000, hint="What customers and colleagues experienced."),
    TextField("impact_who", "Who was affected", 500, multiline=False),
    TextField("impact_count", "How many", 200, multiline=False),
    TextField("impact_duration", "How long", 200, multiline=False),
    TextField("detection", "Detection", 3000, hint="How we found out, and how long that took."),
    TextField(
        "contributing_factors",
        "Contributing factors",
        3000,
        hint="The conditions that made it possible — systems and processes, not people.",
    ),
    TextField("went_well", "What went well", 3000),
    TextField("went_poorly", "What went poorly", 3000),
    TextField("got_lucky", "Where we got lucky", 3000),
    TextField("links", "Links", 3000, hint="Dashboards, tickets, pull requests — one per line."),
)
FIELD_BY_KEY = {f.key: f for f in FIELDS}
# Free text the blameless check reads (links are addresses, not prose).
CHECKED_FIELDS = tuple(f.key for f in FIELDS if f.key != "links")
# What a published postmortem must have; the timeline counts as a field here.
REQUIRED_FOR_PUBLISH = ("title", "severity", "summary", "impact", "detection", "contributing_factors")

TIMELINE_TEXT_LIMIT = 3000
ACTION_TITLE_LIMIT = 300
MAX_TIMELINE_ENTRIES = 500
MAX_ACTION_ITEMS = 100
MAX_PARTICIPANTS = 50

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")
_INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}


def clean_text(
    value: str | None, *, what: str, limit: int, required: bool = False, multiline: bool = True
) -> str:
    """Trimmed text without control or zero-width characters; too long or missing is a UserError."""
    text = unicodedata.normalize("NFC", value or "")
    kept = []
    for ch in text:
        if ch in "\n\t":
            kept.append(ch if multiline else " ")
        elif ch in _INVISIBLE or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co"):
            continue
        else:
            kept.append(ch)
    text = "".join(kept)
    text = "\n".join(line.rstrip() for line in text.strip().split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text)
    if not multiline:
        text = " ".join(text.split())
    if required and not text:
        raise UserError(f"The {what} is empty — write something.")
    if len(text) > limit:
        raise UserError(f"The {what} is {len(text):,} characters long; at most {limit:,} fit.")
    return text


def is_user_id(value: str) -> bool:
    return bool(_USER_ID.match(value or ""))


# --- Slack text ---------------------------------------------------------------------------

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(channel|here|everyone|group)(?:\|[^>]*)?>", re.IGNORECASE)
_SUBTEAM = re.compile(r"<!subteam\^[A-Z0-9]+(?:\|@?([^>]*))?>", re.IGNORECASE)
_DATE = re.compile(r"<!date\^[^|>]*\|([^>]*)>")
_OTHER_BANG = re.compile(r"<!([^>|]*)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>\s]+)(?:\|([^>]*))?>")
WORD_JOINER = "\u2060"


def from_slack(text: str) -> str:
    """Slack mrkdwn (a message, a command) → the plain text we store.

    Mentions become `<@U…>` (the one markup we keep, rendered back as a name); channels `#name`;
    links `label (url)`; `<!here>`-style pings plain words with a word joiner, so no stored text
    can ever ping a channel again; Slack's `&lt;` escapes are undone (we escape on the way out).
    """
    text = _MENTION.sub(lambda m: f"<@{m.group(1)}>", text or "")
    text = _CHANNEL.sub(lambda m: f"#{m.group(2) or m.group(1)}", text)
    text = _SPECIAL.sub(lambda m: f"@{WORD_JOINER}{m.group(1).lower()}", text)
    text = _SUBTEAM.sub(lambda m: f"@{WORD_JOINER}{(m.group(1) or 'group').lstrip('@')}", text)
    text = _DATE.sub(lambda m: m.group(1), text)
    text = _OTHER_BANG.sub(lambda m: m.group(2) or m.group(1), text)
    text = _LINK.sub(
        lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(2) and m.group(2) != m.group(1) else m.group(1),
        text,
    )
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def neutralise_pings(text: str) -> str:
    """Plain `@here`/`@channel`/`@everyone` written into a field (or by a model) lose their force."""
    text = _SPECIAL.sub(lambda m: f"@{WORD_JOINER}{m.group(1).lower()}", text)
    return re.sub(r"(?<![\w\u2060])@(channel|here|everyone)\b", lambda m: f"@{WORD_JOINER}{m.group(1)}", text)


def mentioned_users(text: str) -> list[str]:
    return list(dict.fromkeys(_MENTION.findall(text or "")))


# --- severity, kinds, dates -----------------------------------------------------------------

_SEV = re.compile(r"^\s*(?:sev(?:erity)?\s*[-:]?\s*)?(\d+)\s*$", re.IGNORECASE)


def parse_severity(text: str | int | None) -> int:
    """`2`, `sev2`, `SEV-2`, `severity 2` → 2; anything outside 1–4 is refused with the scale."""
    raw = str(text if text is not None else "").strip()
    m = _SEV.match(raw)
    value = int(m.group(1)) if m else None
    if value not in SEVERITIES:
        raise UserError(
            f"Severity `{raw[:20]}` is not one of 1, 2, 3 or 4 (1 is the most severe) — e.g. `sev:2`."
        )
    return value


def parse_kind(text: str | None) -> ActionKind:
    raw = (text or "").strip().lower()
    if raw in ("preventive", "prevent", "prevention"):
        return ActionKind.PREVENTATIVE
    for kind in ActionKind:
        if raw and kind.value.startswith(raw[:4]) and kind.value.startswith(raw):
            return kind
    raise UserError(
        f"`{raw[:30]}` is not an action item type — use `detective`, `preventative` or `corrective`."
    )


_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*$")
DUE_FORMS = "`YYYY-MM-DD` (e.g. `2026-12-15`), `tomorrow`, `next friday` or `in 3 days`"


def parse_due(text: str | None, *, today: date, now_local: datetime) -> date:
    """A due date from `2026-12-15`, `tomorrow`, `next friday`, `in 3 days`, `Dec 15`…

    `today` and `now_local` are in the asker's time zone, so "tomorrow" means their tomorrow.
    A date before today is refused; an impossible `YYYY-MM-DD` is refused rather than guessed.
    """
    raw = " ".join((text or "").split())
    if not raw:
        raise UserError(f"When is it due? Give a date: {DUE_FORMS}.")
    iso = _ISO.match(raw)
    if iso:
        try:
            due = date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        except ValueError:
            raise UserError(f"`{raw}` is not a real date — use {DUE_FORMS}.") from None
    else:
        import dateparser  # imported here: its language data takes a moment to load

        parsed = dateparser.parse(
            raw,
            languages=["en", "zh"],
            settings={
                "RELATIVE_BASE": now_local.replace(tzinfo=None),
                "PREFER_DATES_FROM": "future",
                "RETURN_AS_TIMEZONE_AWARE": False,
            },
        )
        if parsed is None:
            raise UserError(f"I can't read the due date `{raw[:40]}` — use {DUE_FORMS}.")
        due = parsed.date()
    if due < today:
        raise UserError(f"The due date {due.isoformat()} is in the past — pick today or later.")
    if due.year > today.year + 5:
        raise UserError(f"The due date {due.isoformat()} is more than five years away — check the year.")
    return due


def missing_for_publish(values: dict[str, object], timeline_entries: int) -> list[str]:
    """The required fields still empty, by their labels (the timeline counts as one)."""
    missing = []
    for key in REQUIRED_FOR_PUBLISH:
        value = values.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            missing.append("severity" if key == "severity" else FIELD_BY_KEY[key].label.lower())
    if timeline_entries == 0:
        missing.append("timeline (at least one entry)")
    return missing


def human_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
