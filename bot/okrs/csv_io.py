"""CSV import and export of OKRs (DESIGN §2): one row per key result. No Slack imports.

Kept apart from `service.py` because a file is its own unit of work: the import checks every row
before it writes anything, matches objectives and KRs by title rather than by ID, and serves the
CLI and the demo seed, never a Slack request. A team the file names that does not exist yet is
created (as a product team), so a first import on a fresh install works.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.common import audit
from bot.common.errors import UserError
from bot.common.ids import Kind, format_id
from bot.okrs.checks import (
    TITLE_LIMIT,
    UNIT_LIMIT,
    check_target,
    clean_text,
    clean_title,
    fmt_number,
    parse_number,
    parse_weight,
    plain_text,
)
from bot.okrs.scoring import Clock
from bot.okrs.service import ensure_cycle, key_results_for, list_teams, states_for
from storage.models import Team
from storage.models.okrs import CheckIn, KeyResult, Objective

CSV_COLUMNS = (
    "cycle",
    "team",
    "owner",
    "objective",
    "parent_objective",
    "key_result",
    "start",
    "target",
    "unit",
    "current",
)
# Columns a file may leave out (files written before they existed stay importable).
OPTIONAL_COLUMNS = ("weight",)
EXPORT_COLUMNS = (*CSV_COLUMNS, *OPTIONAL_COLUMNS)
IMPORT_AUTHOR = "import"  # check-ins written by an import are authored by the file, not a person
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class RowError:
    line: int
    reason: str


@dataclass
class ImportReport:
    """What an import did (or, with errors or --dry-run, would do): counts and row line numbers."""

    rows: int = 0
    created: list[int] = field(default_factory=list)  # lines whose objective or KR is new
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    objectives_created: int = 0
    objectives_updated: int = 0
    krs_created: int = 0
    krs_updated: int = 0
    checkins: int = 0
    teams_created: list[tuple[str, str]] = field(default_factory=list)  # (key, name) of new teams
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _NewTeam:
    """A team the file names that does not exist yet: created as a product team."""

    key: str
    name: str
    line: int
    id: int | None = None


@dataclass
class _ObjRow:
    line: int
    cycle: str
    team: Team | _NewTeam | None
    owner: str
    title: str
    parent_title: str


@dataclass
class _KrRow:
    line: int
    objective_key: tuple[str, str]
    title: str
    start: float
    target: float
    unit: str
    current: float | None
    weight: float | None
    has_weight: bool  # the file has a weight column (an old file leaves weights as they are)


def _resolve_owner(
    db_session: Session,
    raw: str,
    resolve_email: Callable[[str], str | None] | None,
    cache: dict[str, str | None],
) -> str:
    from storage.models import Person

    value = raw.strip()
    if _SLACK_ID.match(value):
        return value
    if _EMAIL.match(value):
        email = value.lower()
        if email not in cache:
            person = db_session.exec(select(Person).where(Person.email == email)).first()
            found = person.slack_id if person else None
            if found is None and resolve_email is not None:
                found = resolve_email(email)
            cache[email] = found
        if cache[email] is None:
            hint = (
                ""
                if resolve_email
                else " (set SLACK_BOT_TOKEN so it can be looked up with users.lookupByEmail)"
            )
            raise UserError(f"no Slack user has the e-mail {value}{hint}")
        return cache[email] or ""
    raise UserError(
        f"owner `{value[:60] or '(empty)'}` is neither a Slack user ID (U…) nor an e-mail address"
    )


def read_okr_csv(text: str) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """Rows with their line numbers. A missing or unknown column is one file-level error naming
    them; a row with fewer or more values than the header is a bad row (a shifted column would
    otherwise put a target in the unit, or drop a value silently)."""
    import csv
    import io

    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text))
    try:
        header_raw = next(reader)
    except StopIteration:
        return [], [RowError(1, f"the file is empty — the header must be {','.join(EXPORT_COLUMNS)}")]
    except csv.Error as exc:
        return [], [RowError(1, f"the header is not CSV: {exc}")]
    header = [h.strip().lower() for h in header_raw]
    missing = [c for c in CSV_COLUMNS if c not in header]
    unknown = [h for h in header if h and h not in EXPORT_COLUMNS]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing column(s): {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown column(s): {', '.join(unknown)}")
        return [], [
            RowError(
                1,
                f"{'; '.join(parts)} — the header must be {','.join(CSV_COLUMNS)} "
                f"(optionally followed by {','.join(OPTIONAL_COLUMNS)})",
            )
        ]
    rows: list[tuple[int, dict[str, str]]] = []
    errors: list[RowError] = []
    line = reader.line_num + 1
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(line, f"not valid CSV: {exc}"))
            break
        this_line, line = line, reader.line_num + 1
        if not any(v.strip() for v in raw):
            continue  # blank line
        if len(raw) != len(header):
            few = len(raw) < len(header)
            errors.append(
                RowError(
                    this_line,
                    f"{len(raw)} value(s) but the header has {len(header)} columns — "
                    + (
                        "a value is missing"
                        if few
                        else "there is a value too many (a comma in a title needs quotes)"
                    ),
                )
            )
            continue
        rows.append((this_line, {k: v.strip() for k, v in zip(header, raw, strict=True)}))
    return rows, errors


def _team_key(name: str) -> str:
    """`User research` → `user-research`: the key a new team gets from the name the file gives."""
    import unicodedata

    folded = unicodedata.normalize("NFKC", name).strip().lower()
    key = re.sub(r"[^\w]+", "-", folded).strip("-_")
    return key[:64] or "team"


def _team_name(text: str) -> str:
    """A key-like `growth` becomes the name `Growth`; a name as written stays as written."""
    if re.fullmatch(r"[a-z0-9][a-z0-9_-]*", text):
        return text.replace("-", " ").replace("_", " ").capitalize()
    return text


def import_okrs(
    *,
    db_session: Session,
    text: str,
    actor_id: str,
    clock: Clock,
    resolve_email: Callable[[str], str | None] | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """An idempotent upsert of a CSV, all or nothing: any bad row rejects the file.

    Objectives are matched by (cycle, title) and KRs by (objective, title), so re-importing an
    export changes nothing. A team is matched by key or name (case-insensitive, or by the key its
    name would make); a team that does not exist yet is created as a product team and reported, so
    a first import works on a fresh install (`flywheel import teams` adds service teams' details).
    A changed `current` is recorded as a check-in authored by the import, so history stays complete.
    Times come from `clock`.
    """
    report = ImportReport(dry_run=dry_run)
    rows, file_errors = read_okr_csv(text)
    report.rows = len(rows) + len([e for e in file_errors if e.line > 1])
    if file_errors and file_errors[0].line == 1:
        report.errors = file_errors
        return report
    report.errors.extend(file_errors)
    if not rows and not file_errors:
        report.errors.append(RowError(1, "the file has a header but no rows"))
        return report
    now = clock.now()

    teams = list_teams(db_session=db_session)
    team_by_name: dict[str, Team | _NewTeam] = {}
    for t in teams:
        team_by_name.setdefault(_team_key(t.key), t)
        team_by_name.setdefault(_team_key(t.name), t)
    for t in teams:
        team_by_name[t.key.lower()] = t
        team_by_name[t.name.lower()] = t
    new_teams: dict[str, _NewTeam] = {}
    email_cache: dict[str, str | None] = {}
    objectives: dict[tuple[str, str], _ObjRow] = {}
    krs: dict[tuple[tuple[str, str], str], _KrRow] = {}
    line_kind: dict[int, tuple[str, ...]] = {}

    for line, values in rows:
        try:
            span = clock.span(values["cycle"])
            team: Team | _NewTeam | None = None
            if values["team"]:
                given = clean_title(values["team"], what="team", limit=TITLE_LIMIT, example="Growth")
                team = team_by_name.get(given.lower()) or team_by_name.get(_team_key(given))
                if team is None:
                    team = new_teams[_team_key(given)] = _NewTeam(_team_key(given), _team_name(given), line)
                    team_by_name[given.lower()] = team_by_name[_team_key(given)] = team
            if not values["owner"]:
                raise UserError("the owner is empty — give a Slack user ID or an e-mail address")
            owner = _resolve_owner(db_session, values["owner"], resolve_email, email_cache)
            title = clean_title(values["objective"], what="objective title")
            parent_title = clean_text(
                values["parent_objective"], what="parent objective", limit=TITLE_LIMIT, required=False
            )
            if parent_title and parent_title.lower() == title.lower():
                raise UserError("an objective cannot be its own parent")
            okey = (span.key, title.lower())
            seen = objectives.get(okey)
            if seen is None:
                objectives[okey] = _ObjRow(line, span.key, team, owner, title, parent_title)
            elif (seen.team, seen.owner, seen.parent_title.lower()) != (team, owner, parent_title.lower()):
                raise UserError(
                    f"objective “{title[:60]}” already appears on line {seen.line} with a different "
                    "team, owner or parent"
                )
            has_weight = "weight" in values
            if values["key_result"]:
                kr_title = clean_title(values["key_result"], what="key result title")
                start = parse_number(values["start"] or "0", what="start")
                target = parse_number(values["target"], what="target")
                check_target(start, target)
                current = parse_number(values["current"], what="current value") if values["current"] else None
                unit = clean_text(values["unit"], what="unit", limit=UNIT_LIMIT, required=False)
                weight = parse_weight(values.get("weight", ""))
                kkey = (okey, kr_title.lower())
                if kkey in krs:
                    raise UserError(f"key result “{kr_title[:60]}” is already on line {krs[kkey].line}")
                krs[kkey] = _KrRow(line, okey, kr_title, start, target, unit, current, weight, has_weight)
            elif any(values.get(c) for c in ("start", "target", "unit", "current", "weight")):
                raise UserError(
                    "start, target, unit, current or weight are given but the key_result is empty"
                )
        except UserError as err:
            report.errors.append(RowError(line, plain_text(str(err).replace("\n", " "))))

    report.teams_created = [(t.key, t.name) for t in new_teams.values()]

    # Parents: the same cycle, in the file or already stored; then no loops.
    existing: dict[tuple[str, str], Objective] = {}
    cycles = {o.cycle for o in objectives.values()}
    for key in cycles:
        for o in db_session.exec(select(Objective).where(Objective.cycle_key == key)).all():
            existing.setdefault((key, o.title.lower()), o)
    parent_of: dict[tuple[str, str], tuple[str, str] | None] = {}
    for okey, orow in objectives.items():
        if not orow.parent_title:
            parent_of[okey] = None
            continue
        pkey = (orow.cycle, orow.parent_title.lower())
        if pkey not in objectives and pkey not in existing:
            elsewhere = db_session.exec(
                select(Objective.cycle_key).where(func.lower(Objective.title) == orow.parent_title.lower())
            ).first()
            in_file = [o.cycle for o in objectives.values() if o.title.lower() == orow.parent_title.lower()]
            other = elsewhere or (in_file[0] if in_file else None)
            where = f" (it is in cycle {other})" if other else ""
            report.errors.append(
                RowError(
                    orow.line,
                    f"parent objective “{orow.parent_title[:60]}” is not in cycle {orow.cycle}{where}",
                )
            )
            continue
        parent_of[okey] = pkey
    # A stored objective keeps its stored parent unless the file gives it one.
    for key, o in existing.items():
        if key not in objectives and o.parent_id:
            parent = db_session.get(Objective, o.parent_id)
            parent_of[key] = (parent.cycle_key, parent.title.lower()) if parent else None
    for okey, orow in objectives.items():
        seen_keys = {okey}
        node = parent_of.get(okey)
        while node is not None:
            if node in seen_keys:
                report.errors.append(
                    RowError(orow.line, f"objective “{orow.title[:60]}” is part of a cycle of parents")
                )
                break
            seen_keys.add(node)
            node = parent_of.get(node)

    if report.errors:
        report.errors.sort(key=lambda e: e.line)
        return report

    # Plan (and, unless dry-run, apply) in file order: teams first, then objectives, then KRs.
    if not dry_run:
        for new in new_teams.values():
            created = Team(key=new.key, name=new.name[:200], kind="product", created_at=now)
            db_session.add(created)
            db_session.flush()
            new.id = created.id
    stored: dict[tuple[str, str], Objective] = {}
    for okey, orow in objectives.items():
        obj = existing.get(okey)
        team_id = orow.team.id if orow.team else None
        if obj is None:
            report.objectives_created += 1
            line_kind.setdefault(orow.line, ())
            line_kind[orow.line] += ("created",)
            if not dry_run:
                ensure_cycle(db_session=db_session, span=clock.span(orow.cycle), now=now)
                obj = Objective(
                    cycle_key=orow.cycle,
                    team_id=team_id,
                    owner_id=orow.owner,
                    title=orow.title,
                    created_by=actor_id,
                    created_at=now,
                    updated_at=now,
                )
                db_session.add(obj)
                db_session.flush()
        else:
            changed = (obj.team_id, obj.owner_id, obj.title) != (team_id, orow.owner, orow.title)
            if changed:
                report.objectives_updated += 1
                line_kind.setdefault(orow.line, ())
                line_kind[orow.line] += ("updated",)
                if not dry_run:
                    obj.team_id, obj.owner_id, obj.title = team_id, orow.owner, orow.title
                    obj.updated_at = now
                    db_session.add(obj)
        if obj is not None:
            stored[okey] = obj
    for okey, orow in objectives.items():
        obj = stored.get(okey)
        if obj is None:
            continue  # a new objective in a dry run: counted as created already
        pkey = parent_of.get(okey)
        wanted = (stored.get(pkey) or existing.get(pkey)) if pkey else None
        # In a dry run a parent that is new in this file has no row yet: any link to it is a change.
        changed = (
            True if pkey is not None and wanted is None else obj.parent_id != (wanted.id if wanted else None)
        )
        if not changed:
            continue
        if okey in existing and "updated" not in line_kind.get(orow.line, ()):
            report.objectives_updated += 1
            line_kind[orow.line] = line_kind.get(orow.line, ()) + ("updated",)
        if not dry_run:
            obj.parent_id = wanted.id if wanted else None
            db_session.add(obj)

    existing_krs: dict[int, dict[str, KeyResult]] = defaultdict(dict)
    stored_ids = [o.id for o in existing.values() if o.id is not None]
    for oid, kr_list in key_results_for(db_session, stored_ids).items():
        for kr in kr_list:
            existing_krs[oid][kr.title.lower()] = kr
    for (okey, ktitle), krow in krs.items():
        obj = stored.get(okey)
        kr = existing_krs[obj.id].get(ktitle) if obj is not None and obj.id in existing_krs else None
        if kr is None:
            report.krs_created += 1
            line_kind.setdefault(krow.line, ())
            line_kind[krow.line] += ("created",)
            if krow.current is not None and krow.current != krow.start:
                report.checkins += 1
            if not dry_run and obj is not None:
                position = len(existing_krs[obj.id or 0])
                kr = KeyResult(
                    objective_id=obj.id or 0,
                    position=position,
                    title=krow.title,
                    start=krow.start,
                    target=krow.target,
                    unit=krow.unit,
                    weight=krow.weight,
                    current=krow.start,
                    created_at=now,
                    updated_at=now,
                )
                db_session.add(kr)
                db_session.flush()
                existing_krs[obj.id or 0][ktitle] = kr
                if krow.current is not None and krow.current != krow.start:
                    _import_checkin(db_session, kr, krow.current, now)
            continue
        weight = krow.weight if krow.has_weight else kr.weight
        shape_changed = (kr.title, kr.start, kr.target, kr.unit, kr.weight) != (
            krow.title,
            krow.start,
            krow.target,
            krow.unit,
            weight,
        )
        value_changed = krow.current is not None and krow.current != kr.current
        if shape_changed or value_changed:
            report.krs_updated += 1
            line_kind.setdefault(krow.line, ())
            line_kind[krow.line] += ("updated",)
            if value_changed:
                report.checkins += 1
            if not dry_run:
                kr.title, kr.start, kr.target, kr.unit = krow.title, krow.start, krow.target, krow.unit
                kr.weight = weight
                kr.updated_at = now
                db_session.add(kr)
                if value_changed and krow.current is not None:
                    _import_checkin(db_session, kr, krow.current, now)

    for line, _values in rows:
        kinds = line_kind.get(line, ())
        if "created" in kinds:
            report.created.append(line)
        elif "updated" in kinds:
            report.updated.append(line)
        else:
            report.unchanged.append(line)
    if not dry_run and (report.created or report.updated or report.teams_created):
        audit.record(
            db_session=db_session,
            actor_id=actor_id,
            action="okr.import",
            record_type="okr_import",
            record_id=now.strftime("%Y%m%dT%H%M%SZ"),
            detail=(
                f"objectives +{report.objectives_created} ~{report.objectives_updated}, "
                f"KRs +{report.krs_created} ~{report.krs_updated}, teams +{len(report.teams_created)}"
            ),
        )
    return report


def _import_checkin(db_session: Session, kr: KeyResult, value: float, at: datetime) -> None:
    """A check-in authored by the file; like any check-in it ends the previous confidence."""
    db_session.add(
        CheckIn(key_result_id=kr.id or 0, value=value, note="CSV import", author_id=IMPORT_AUTHOR, at=at)
    )
    kr.current = value
    kr.confidence = None
    kr.confidence_at = None
    kr.last_checkin_at = at
    db_session.add(kr)


def export_rows(*, db_session: Session, cycle_key: str | None = None) -> list[dict[str, str]]:
    """DESIGN's CSV rows: one per KR, an objective without KRs as one row with the KR columns empty."""
    stmt = select(Objective, Team).outerjoin(Team, col(Team.id) == col(Objective.team_id))
    if cycle_key:
        stmt = stmt.where(Objective.cycle_key == cycle_key)
    pairs = list(db_session.exec(stmt.order_by(col(Objective.cycle_key), col(Objective.id))).all())
    titles = {o.id: o.title for o, _ in pairs}
    missing_parents = {o.parent_id for o, _ in pairs if o.parent_id and o.parent_id not in titles}
    for pid in missing_parents:
        parent = db_session.get(Objective, pid)
        if parent is not None:
            titles[pid] = parent.title
    krs = key_results_for(db_session, [o.id for o, _ in pairs if o.id is not None])
    out: list[dict[str, str]] = []
    for o, team in pairs:
        base = {
            "cycle": o.cycle_key,
            "team": team.key if team else "",
            "owner": o.owner_id,
            "objective": o.title,
            "parent_objective": titles.get(o.parent_id, "") if o.parent_id else "",
        }
        kr_list = krs.get(o.id or 0, [])
        if not kr_list:
            out.append(
                base | {"key_result": "", "start": "", "target": "", "unit": "", "current": "", "weight": ""}
            )
        for kr in kr_list:
            out.append(
                base
                | {
                    "key_result": kr.title,
                    "start": fmt_number(kr.start),
                    "target": fmt_number(kr.target),
                    "unit": kr.unit,
                    "current": fmt_number(kr.current),
                    "weight": fmt_number(kr.weight) if kr.weight is not None else "",
                }
            )
    return out


def export_csv(*, db_session: Session, cycle_key: str | None = None) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(EXPORT_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(export_rows(db_session=db_session, cycle_key=cycle_key))
    return buffer.getvalue()


def export_json(
    *, db_session: Session, clock: Clock, cycle_key: str | None = None
) -> list[dict[str, object]]:
    """Objectives with nested KRs, IDs, progress and status: for scripts, not for re-import."""
    stmt = select(Objective, Team).outerjoin(Team, col(Team.id) == col(Objective.team_id))
    if cycle_key:
        stmt = stmt.where(Objective.cycle_key == cycle_key)
    pairs = list(db_session.exec(stmt.order_by(col(Objective.cycle_key), col(Objective.id))).all())
    out: list[dict[str, object]] = []
    for state in states_for(db_session, pairs, clock):
        o = state.objective
        out.append(
            {
                "id": state.ref,
                "cycle": o.cycle_key,
                "team": state.team.key if state.team else None,
                "owner": o.owner_id,
                "title": o.title,
                "description": o.description,
                "parent": format_id(Kind.OBJECTIVE, o.parent_id) if o.parent_id else None,
                "progress": round(state.progress, 4),
                "score": state.score,
                "status": state.status.value if state.status else None,
                "weights_warning": state.weights_warning,
                "key_results": [
                    {
                        "id": k.ref,
                        "title": k.kr.title,
                        "start": k.kr.start,
                        "target": k.kr.target,
                        "current": k.kr.current,
                        "unit": k.kr.unit,
                        "weight": k.kr.weight,
                        "share": round(k.weight, 4),
                        "confidence": k.kr.confidence,
                        "progress": round(k.progress, 4),
                        "status": k.status.value,
                        "last_checkin_at": k.kr.last_checkin_at.isoformat() if k.kr.last_checkin_at else None,
                        "final_score": k.kr.final_score,
                        "carried_from": (
                            format_id(Kind.KEY_RESULT, k.kr.carried_from_id) if k.kr.carried_from_id else None
                        ),
                    }
                    for k in state.krs
                ],
            }
        )
    return out
