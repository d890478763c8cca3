"""The teams file (`flywheel import teams FILE.yaml`): read with line numbers, check, upsert.

Kept apart from `service.py` because a file is its own unit of work: every entry is checked
before anything is written, and every problem is reported with the line it is on, which plain
`yaml.safe_load` forgets — so the file is read as YAML's node tree, whose marks keep the lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from sqlmodel import Session, select

from bot.common import audit
from bot.teams.hours import HoursError, parse_duration, parse_hours
from bot.teams.service import PRODUCT, SERVICE
from storage.models import Team, TeamMember
from storage.models.requests import TeamFaq
from storage.types import utcnow

FIELDS = {
    "key",
    "name",
    "kind",
    "description",
    "channel",
    "lead",
    "members",
    "first_response",
    "resolution",
    "hours",
    "confidential",
    "faq",
}
FAQ_FIELDS = {"q", "a"}
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_USER = re.compile(r"^[UW][A-Z0-9]{2,31}$")
_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,31}$")
_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}


@dataclass
class LineError:
    line: int
    reason: str


@dataclass
class FaqEntry:
    line: int
    question: str
    answer: str


@dataclass
class TeamEntry:
    line: int
    key: str
    name: str
    kind: str
    description: str
    channel: str | None
    lead: str | None
    members: list[str]
    first_response: str | None
    resolution: str | None
    hours: str | None
    confidential: bool
    faq: list[FaqEntry]


@dataclass
class TeamsReport:
    teams: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    faq_added: int = 0
    faq_updated: int = 0
    errors: list[LineError] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _scalar(node: yaml.Node, what: str, errors: list[LineError]) -> str | None:
    if not isinstance(node, yaml.ScalarNode):
        errors.append(LineError(_line(node), f"`{what}` must be a single value, not a list or a mapping"))
        return None
    return str(node.value).strip()


def _parse_faq(node: yaml.Node, errors: list[LineError]) -> list[FaqEntry]:
    if not isinstance(node, yaml.SequenceNode):
        errors.append(LineError(_line(node), "`faq` must be a list of entries with `q:` and `a:`"))
        return []
    entries: list[FaqEntry] = []
    for item in node.value:
        if not isinstance(item, yaml.MappingNode):
            errors.append(
                LineError(_line(item), "a FAQ entry needs `q:` (the question) and `a:` (the answer)")
            )
            continue
        values: dict[str, str] = {}
        for key_node, value_node in item.value:
            name = str(key_node.value)
            if name not in FAQ_FIELDS:
                errors.append(LineError(_line(key_node), f"unknown FAQ field `{name}` (use `q` and `a`)"))
                continue
            text = _scalar(value_node, name, errors)
            if text is not None:
                values[name] = text
        q, a = values.get("q", ""), values.get("a", "")
        if not q or not a:
            missing = "question (`q:`)" if not q else "answer (`a:`)"
            errors.append(LineError(_line(item), f"this FAQ entry has no {missing}"))
            continue
        if len(q) > 500 or len(a) > 3000:
            errors.append(LineError(_line(item), "a FAQ question may have 500 characters, an answer 3,000"))
            continue
        entries.append(FaqEntry(_line(item), q, a))
    return entries


def _parse_team(node: yaml.MappingNode, errors: list[LineError]) -> TeamEntry | None:
    before = len(errors)
    raw: dict[str, tuple[yaml.Node, int]] = {}
    for key_node, value_node in node.value:
        name = str(key_node.value)
        if name not in FIELDS:
            errors.append(
                LineError(
                    _line(key_node), f"unknown field `{name}` — fields are: {', '.join(sorted(FIELDS))}"
                )
            )
            continue
        if name in raw:
            errors.append(LineError(_line(key_node), f"`{name}` is given twice"))
        raw[name] = (value_node, _line(key_node))

    def text(name: str) -> tuple[str | None, int]:
        if name not in raw:
            return None, _line(node)
        value_node, line = raw[name]
        value = _scalar(value_node, name, errors)
        return (value or None), line

    key, key_line = text("key")
    if key is None:
        errors.append(LineError(_line(node), "this team has no `key` (a short name like `legal`)"))
    elif not _KEY.match(key):
        errors.append(LineError(key_line, f"key `{key[:40]}` must be lowercase letters, digits, - or _"))
    name, _ = text("name")
    kind, kind_line = text("kind")
    kind = (kind or SERVICE).lower()
    if kind not in (SERVICE, PRODUCT):
        errors.append(LineError(kind_line, f"kind `{kind}` must be `service` or `product`"))
    description, description_line = text("description")
    if description and len(description) > 2000:
        errors.append(LineError(description_line, "the description is longer than 2,000 characters"))
    channel, channel_line = text("channel")
    if channel is None and kind == SERVICE:
        errors.append(
            LineError(channel_line, "a service team needs `channel:` — its intake channel's ID (C…)")
        )
    elif channel is not None and not _CHANNEL.match(channel):
        errors.append(LineError(channel_line, f"channel `{channel[:40]}` is not a channel ID (like C0LEGAL)"))
    lead, lead_line = text("lead")
    if lead is None and kind == SERVICE:
        errors.append(LineError(lead_line, "a service team needs `lead:` — the team lead's user ID (U…)"))
    elif lead is not None and not _USER.match(lead):
        errors.append(LineError(lead_line, f"lead `{lead[:40]}` is not a Slack user ID (like U0LEGALLEAD)"))
    members: list[str] = []
    if "members" in raw:
        value_node, line = raw["members"]
        if not isinstance(value_node, yaml.SequenceNode):
            errors.append(LineError(line, "`members` must be a list of user IDs, like [U0A, U0B]"))
        else:
            for item in value_node.value:
                member = _scalar(item, "members", errors)
                if member is not None and not _USER.match(member):
                    errors.append(
                        LineError(_line(item), f"member `{member[:40]}` is not a Slack user ID (U…)")
                    )
                elif member is not None and member not in members:
                    members.append(member)
    if lead and _USER.match(lead) and lead not in members:
        members.insert(0, lead)
    durations: dict[str, str | None] = {}
    for field_name in ("first_response", "resolution"):
        value, line = text(field_name)
        durations[field_name] = None
        if value is not None:
            try:
                durations[field_name] = parse_duration(value).text
            except HoursError as err:
                errors.append(LineError(line, f"{field_name}: {err}"))
    hours, hours_line = text("hours")
    if hours is not None:
        try:
            hours = parse_hours(hours).text
        except HoursError as err:
            errors.append(LineError(hours_line, f"hours: {err}"))
    confidential = False
    value, line = text("confidential")
    if value is not None:
        if value.lower() in _TRUE:
            confidential = True
        elif value.lower() not in _FALSE:
            errors.append(LineError(line, f"confidential `{value[:20]}` must be true or false"))
    faq = _parse_faq(raw["faq"][0], errors) if "faq" in raw else []
    if len(errors) > before or key is None:
        return None
    return TeamEntry(
        line=_line(node),
        key=key,
        name=name or key.replace("-", " ").title(),
        kind=kind,
        description=description or "",
        channel=channel,
        lead=lead,
        members=members,
        first_response=durations["first_response"],
        resolution=durations["resolution"],
        hours=hours,
        confidential=confidential,
        faq=faq,
    )


def read_teams(text: str) -> tuple[list[TeamEntry], list[LineError]]:
    """Every team of the file, or every problem in it with its line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 1
        return [], [LineError(line, f"this is not valid YAML: {err.problem or err}")]
    except yaml.YAMLError as err:
        return [], [LineError(1, f"this is not valid YAML: {err}")]
    form = "the file must start with `teams:` and list the teams under it"
    if root is None:
        return [], [LineError(1, f"the file is empty — {form}")]
    if not isinstance(root, yaml.MappingNode):
        return [], [LineError(_line(root), form)]
    errors: list[LineError] = []
    teams_node: yaml.Node | None = None
    for key_node, value_node in root.value:
        if key_node.value == "teams":
            teams_node = value_node
        else:
            errors.append(LineError(_line(key_node), f"unknown top-level field `{key_node.value}` — {form}"))
    if teams_node is None:
        return [], errors + [LineError(1, form)]
    if not isinstance(teams_node, yaml.SequenceNode):
        return [], errors + [
            LineError(_line(teams_node), "`teams:` must be a list (each team starts with `- key:`)")
        ]
    entries: list[TeamEntry] = []
    seen: dict[str, int] = {}
    for item in teams_node.value:
        if not isinstance(item, yaml.MappingNode):
            errors.append(LineError(_line(item), "each team must be a mapping starting with `- key:`"))
            continue
        keys = [
            str(v.value).strip() for k, v in item.value if k.value == "key" and isinstance(v, yaml.ScalarNode)
        ]
        key = keys[0] if keys else ""
        if key and key in seen:
            errors.append(LineError(_line(item), f"team `{key}` is already defined on line {seen[key]}"))
            continue
        if key:
            seen[key] = _line(item)
        entry = _parse_team(item, errors)
        if entry is None:
            continue
        entries.append(entry)
    if not entries and not errors:
        errors.append(LineError(_line(teams_node), "the file lists no teams"))
    return entries, errors


def _apply(db_session: Session, entry: TeamEntry, actor_id: str, report: TeamsReport) -> None:
    team = db_session.exec(select(Team).where(Team.key == entry.key)).first()
    created = team is None
    if team is None:
        team = Team(key=entry.key, name=entry.name)
    wanted: dict[str, Any] = {
        "name": entry.name,
        "kind": entry.kind,
        "description": entry.description,
        "channel_id": entry.channel,
        "lead_id": entry.lead,
        "first_response_sla": entry.first_response,
        "resolution_sla": entry.resolution,
        "business_hours": entry.hours,
        "confidential": entry.confidential,
    }
    changed = created or any(getattr(team, k) != v for k, v in wanted.items())
    for k, v in wanted.items():
        setattr(team, k, v)
    if changed:
        team.updated_at = utcnow()
    db_session.add(team)
    db_session.flush()
    current = set(db_session.exec(select(TeamMember.slack_id).where(TeamMember.team_id == team.id)).all())
    if current != set(entry.members):
        changed = True
        for member in current - set(entry.members):
            row = db_session.get(TeamMember, (team.id, member))
            if row is not None:
                db_session.delete(row)
        for member in set(entry.members) - current:
            db_session.add(TeamMember(team_id=team.id or 0, slack_id=member))
    existing = {
        f.question: f for f in db_session.exec(select(TeamFaq).where(TeamFaq.team_id == team.id)).all()
    }
    for faq in entry.faq:
        row = existing.get(faq.question)
        if row is None:
            db_session.add(
                TeamFaq(team_id=team.id or 0, question=faq.question, answer=faq.answer, created_by=actor_id)
            )
            report.faq_added += 1
            changed = True
        elif row.answer != faq.answer:
            row.answer = faq.answer
            db_session.add(row)
            report.faq_updated += 1
            changed = True
    (report.created if created else report.updated if changed else report.unchanged).append(entry.key)
    if changed:
        audit.record(
            db_session=db_session,
            actor_id=actor_id,
            action="team.import",
            record_type="team",
            record_id=entry.key,
            detail="created" if created else "updated",
        )


def import_teams(*, db_session: Session, text: str, actor_id: str, dry_run: bool = False) -> TeamsReport:
    """An idempotent upsert by team key, all or nothing: any bad line rejects the whole file.

    Members become exactly the file's list (the lead is always a member); FAQ entries are matched
    by question, so entries added in Slack with `/ssp faq add` are kept. With `dry_run` the
    changes are worked out in the session and then rolled back (with everything else the session
    held: give it a session of its own).
    """
    report = TeamsReport(dry_run=dry_run)
    entries, errors = read_teams(text)
    if errors:
        report.errors = sorted(errors, key=lambda e: e.line)
        return report
    report.teams = len(entries)
    for entry in entries:
        _apply(db_session, entry, actor_id, report)
    db_session.flush()
    if dry_run:
        db_session.rollback()
    return report


def format_report(name: str, report: TeamsReport) -> str:
    if report.errors:
        return "\n".join(
            [
                f"{name}: rejected — nothing was imported. {len(report.errors)} problem(s):",
                *(f"  line {e.line}: {e.reason}" for e in report.errors),
            ]
        )
    head = "would import" if report.dry_run else "imported"
    lines = [
        f"{name}: {head} {report.teams} team(s) — {len(report.created)} created, "
        f"{len(report.updated)} updated, {len(report.unchanged)} unchanged, 0 rejected",
        f"  FAQ entries: {report.faq_added} new, {report.faq_updated} changed",
    ]
    for label, keys in (("created", report.created), ("updated", report.updated)):
        if keys:
            lines.append(f"  {label}: {', '.join(keys)}")
    if report.dry_run:
        lines.append("  (dry run: nothing was written)")
    return "\n".join(lines)
