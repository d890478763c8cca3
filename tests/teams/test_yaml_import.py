"""`flywheel import teams`: the format, its errors with line numbers, all or nothing, idempotence."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import func, select
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.teams import service as teams
from bot.teams import yaml_io
from bot.teams.hours import HoursError, parse_duration, parse_hours
from storage.db import Database
from storage.models import Team, TeamMember
from storage.models.requests import TeamFaq

GOOD = """\
teams:
  - key: legal
    name: Legal
    description: Contracts, privacy and compliance reviews
    channel: C0LEGAL          # intake channel ID
    lead: U0LEGALLEAD
    members: [U0LEGALLEAD, U0LAW2]
    first_response: 4h        # durations: 30m, 4h, 2d
    resolution: 3d
    hours: "Mon-Fri 09:00-18:00 Asia/Singapore"
    confidential: true
    faq:
      - q: How long does a contract review take?
        a: Standard NDAs in 1 business day; other contracts within the resolution SLA.
  - key: research
    name: User research
    channel: C0RESEARCH
    lead: U0NINA
    first_response: 1d
"""

BAD = """\
teams:
  - key: legal
    name: Legal
    channel: C0LEGAL
    lead: U0LEGALLEAD
    members: [U0LEGALLEAD, amara]
    first_response: 4 hours
    resolution: 3d
    hours: "Mon-Fri 9am-6pm"
    colour: blue
  - key: hr
    name: HR
    lead: U0LUCAS
    confidential: maybe
    faq:
      - q: How do I book leave?
  - key: Bad Key!
    channel: C0X
    lead: U0X
  - key: legal
    channel: C0LEGAL2
    lead: U0LEGALLEAD
"""


def _run(db: Database, text: str, dry_run: bool = False) -> yaml_io.TeamsReport:
    with db.session() as s:
        return yaml_io.import_teams(db_session=s, text=text, actor_id="test", dry_run=dry_run)


def _counts(db: Database) -> tuple[int, int, int]:
    with db.session() as s:
        return tuple(
            int(s.exec(select(func.count()).select_from(t)).one()) for t in (Team, TeamMember, TeamFaq)
        )  # type: ignore[return-value]


def test_import_creates_updates_and_is_idempotent(db: Database) -> None:
    report = _run(db, GOOD)
    assert report.ok and report.created == ["legal", "research"] and report.faq_added == 1
    with db.session() as s:
        legal = teams.find_service(db_session=s, name="Legal")
        assert legal.confidential and legal.channel_id == "C0LEGAL" and legal.kind == "service"
        assert (legal.first_response_sla, legal.resolution_sla) == ("4h", "3d")
        assert teams.member_ids(db_session=s, team=legal) == {"U0LEGALLEAD", "U0LAW2"}
        research = teams.find_service(db_session=s, name="research")
        assert teams.member_ids(db_session=s, team=research) == {"U0NINA"}  # the lead is a member
        slas = teams.slas_of(legal)
        assert slas.hours is not None and slas.hours.tz_name == "Asia/Singapore"
    again = _run(db, GOOD)
    assert again.ok and again.unchanged == ["legal", "research"] and not again.created and not again.updated
    changed = GOOD.replace("members: [U0LEGALLEAD, U0LAW2]", "members: [U0LEGALLEAD, U0LAW3]").replace(
        "Standard NDAs in 1 business day", "Standard NDAs the same day"
    )
    report = _run(db, changed)
    assert report.updated == ["legal"] and report.faq_updated == 1
    with db.session() as s:
        legal = teams.find_service(db_session=s, name="legal")
        assert teams.member_ids(db_session=s, team=legal) == {"U0LEGALLEAD", "U0LAW3"}
        assert "same day" in s.exec(select(TeamFaq.answer)).one()


def test_every_bad_line_is_listed_and_nothing_is_written(db: Database) -> None:
    report = _run(db, BAD)
    assert not report.ok
    found = {(e.line, e.reason.split(" ")[0]) for e in report.errors}
    messages = "\n".join(f"line {e.line}: {e.reason}" for e in report.errors)
    assert "line 6: member `amara` is not a Slack user ID" in messages
    assert "line 7: first_response: `4 hours` is not a duration" in messages
    assert "line 9: hours: `Mon-Fri 9am-6pm` is not business hours" in messages
    assert "line 10: unknown field `colour`" in messages
    assert "line 11: a service team needs `channel:`" in messages
    assert "line 14: confidential `maybe` must be true or false" in messages
    assert "line 16: this FAQ entry has no answer" in messages
    assert "line 17: key `Bad Key!` must be lowercase" in messages
    assert "line 20: team `legal` is already defined on line 2" in messages
    assert len(found) == len(report.errors)
    assert _counts(db) == (0, 0, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "line 1: the file is empty"),
        ("teams: [\n", "line 2: this is not valid YAML"),
        ("people:\n  - key: x\n", "line 1: unknown top-level field `people`"),
        ("teams:\n  key: legal\n", "line 2: `teams:` must be a list"),
    ],
)
def test_file_level_errors(db: Database, text: str, expected: str) -> None:
    report = _run(db, text)
    assert expected in "\n".join(f"line {e.line}: {e.reason}" for e in report.errors)


def test_dry_run_reports_but_writes_nothing(db: Database) -> None:
    report = _run(db, GOOD, dry_run=True)
    assert report.ok and report.created == ["legal", "research"]
    assert _counts(db) == (0, 0, 0)


def test_cli_import_and_dry_run(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    good, bad = tmp_path / "teams.yaml", tmp_path / "bad.yaml"
    good.write_text(GOOD, encoding="utf-8")
    bad.write_text(BAD, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["import", "teams", str(good), "--dry-run"], env={"DATABASE_URL": url})
    assert result.exit_code == 0 and "would import 2 team(s) — 2 created" in result.output
    assert "dry run: nothing was written" in result.output
    result = runner.invoke(cli, ["import", "teams", str(bad)], env={"DATABASE_URL": url})
    assert result.exit_code == 1 and "rejected — nothing was imported. 9 problem(s)" in result.output
    assert "line 7: first_response" in result.output
    result = runner.invoke(cli, ["import", "teams", str(good)], env={"DATABASE_URL": url})
    assert result.exit_code == 0 and "imported 2 team(s) — 2 created, 0 updated, 0 unchanged" in result.output
    result = runner.invoke(cli, ["import", "teams", str(good)], env={"DATABASE_URL": url})
    assert "0 created, 0 updated, 2 unchanged" in result.output


def test_durations_and_hours() -> None:
    assert parse_duration("30m").minutes == 30 and parse_duration("2d").days == 2
    assert parse_duration("1d4h").minutes == 240
    hours = parse_hours("Sun-Thu 08:30-17:00 Asia/Dubai")
    assert hours.days == (0, 1, 2, 3, 6) and hours.day_length.total_seconds() == 8.5 * 3600
    assert parse_duration("2d").within(hours).total_seconds() == 17 * 3600
    assert parse_duration("2d").within(None).total_seconds() == 48 * 3600
    for bad in ("4 hours", "0h", "", "3w", "400d"):
        with pytest.raises(HoursError):
            parse_duration(bad)
    for bad in ("Mon-Fri 18:00-09:00 UTC", "Mon-Fri 09:00-18:00 Mars/Olympus", "Someday 09:00-10:00"):
        with pytest.raises(HoursError):
            parse_hours(bad)
