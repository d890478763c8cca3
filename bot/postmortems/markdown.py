"""A postmortem as Markdown: complete and faithful to every field (`flywheel export postmortem`).

The sections follow the template in DESIGN's order. Free text is written as it was stored — only
Slack mentions become `@Name` — so the export reads like the postmortem and loses nothing; table
cells escape `|` and keep line breaks as `<br>`. Times are in the company's time zone, labelled.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.postmortems.rules import FIELD_BY_KEY, SEVERITIES, Status
from bot.postmortems.service import Detail, ai_ref

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")


def _names(text: str, names: Mapping[str, str]) -> str:
    return _MENTION.sub(lambda m: f"@{names.get(m.group(1), m.group(1))}", text or "")


def person(user_id: str | None, names: Mapping[str, str]) -> str:
    if not user_id:
        return "—"
    name = names.get(user_id)
    return f"{name} ({user_id})" if name else user_id


def cell(text: str) -> str:
    text = (text or "").replace("\\", "\\\\").replace("|", "\\|").replace("\r", "")
    return text.replace("\n", "<br>").strip()


def stamp(at: datetime | None, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if at else "—"


def _section(title: str, body: str, names: Mapping[str, str]) -> list[str]:
    text = _names(body, names).strip()
    return [f"## {title}", "", text if text else "_Not written._", ""]


def to_markdown(d: Detail, *, names: Mapping[str, str], tz: ZoneInfo) -> str:
    pm = d.pm
    label = lambda key: FIELD_BY_KEY[key].label  # noqa: E731 - a local alias
    status = Status(pm.status).label
    severity = SEVERITIES.get(pm.severity or 0, "not set")
    participants = ", ".join(person(u, names) for u in d.participants) or "—"
    lines = [
        f"# {d.ref} {_names(pm.title, names)}",
        "",
        "| | |",
        "| --- | --- |",
        f"| Severity | {cell(severity)} |",
        f"| Status | {status} |",
        f"| Author | {cell(person(pm.author_id, names))} |",
        f"| Participants | {cell(participants)} |",
        f"| Linked channel | {pm.channel_id or '—'} |",
        f"| Created | {stamp(pm.created_at, tz)} |",
        f"| Sent for review | {stamp(pm.review_requested_at, tz)} |",
        f"| Published | {stamp(pm.published_at, tz)}"
        + (f" by {cell(person(pm.published_by, names))}" if pm.published_by else "")
        + " |",
        f"| Times | {tz.key} |",
        "",
    ]
    if pm.drafted_with:
        lines += [f"_The first summary was drafted by a model ({pm.drafted_with})._", ""]
    lines += _section(label("summary"), pm.summary, names)
    lines += [f"## {label('impact')}", "", _names(pm.impact, names).strip() or "_Not written._", ""]
    for key in ("impact_who", "impact_count", "impact_duration"):
        lines.append(f"- **{label(key)}:** {_names(getattr(pm, key), names).strip() or '—'}")
    lines.append("")
    lines += _section(label("detection"), pm.detection, names)
    lines += ["## Timeline", ""]
    if d.timeline:
        lines += ["| When | Who | What | Source | Added by |", "| --- | --- | --- | --- | --- |"]
        for e in d.timeline:
            lines.append(
                f"| {stamp(e.at, tz)} | {cell(person(e.posted_by, names) if e.posted_by else '—')} | "
                f"{cell(_names(e.text, names))} | {cell(e.source_link) or '—'} | "
                f"{cell(person(e.added_by, names))} |"
            )
    else:
        lines.append("_No entries._")
    lines.append("")
    for key in ("contributing_factors", "went_well", "went_poorly", "got_lucky"):
        lines += _section(label(key), getattr(pm, key), names)
    lines += ["## Action items", ""]
    if d.actions:
        lines += ["| ID | Action item | Owner | Due | Type | Status |", "| --- " * 6 + "|"]
        for a in d.actions:
            done = f" ({stamp(a.done_at, tz)})" if a.done_at else ""
            lines.append(
                f"| {ai_ref(a.id)} | {cell(_names(a.title, names))} | {cell(person(a.owner_id, names))} | "
                f"{a.due_on.isoformat()} | {a.kind} | {a.status}{done} |"
            )
    else:
        lines.append("_None._")
    lines.append("")
    lines += ["## Links", ""]
    links = [x.strip() for x in (pm.links or "").splitlines() if x.strip()]
    lines += [f"- {x}" for x in links] if links else ["_None._"]
    return "\n".join(lines).rstrip() + "\n"
