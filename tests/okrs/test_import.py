"""CSV import and export: all or nothing, every bad row listed by line, an export re-imports to no change."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlmodel import func, select

from bot.okrs import csv_io, scoring
from storage.db import Database
from storage.models import Person, Team
from storage.models.okrs import CheckIn, KeyResult, Objective

CLOCK = scoring.Clock(months=2, fixed_now=datetime(2026, 11, 22, 12, tzinfo=UTC))
HEADER = "cycle,team,owner,objective,parent_objective,key_result,start,target,unit,current\n"
GOOD = HEADER + (
    "2026-11,company,U0MAYA,Grow the business,,Revenue,100,200,k$,130\n"
    "2026-11,growth,U0LENA,Activate teams,Grow the business,Activated teams,10,50,,20\n"
    "2026-11,growth,lena@example.com,Activate teams,Grow the business,p95 latency,300,100,ms,250\n"
    '2026-11,Growth,U0LENA,"Fix onboarding, for real",Activate teams,Signup drop-off,40,20,%,\n'
    "2026-11,company,U0MAYA,Hire well,,,,,,\n"
)


@pytest.fixture
def teams(db: Database) -> None:
    with db.session() as s:
        s.add(Team(key="company", name="Company"))
        s.add(Team(key="growth", name="Growth"))
        s.add(Person(slack_id="U0LENA", name="lena", real_name="Lena Park", email="lena@example.com"))


def run(db: Database, text: str, **kw: object) -> csv_io.ImportReport:
    with db.session() as s:
        return csv_io.import_okrs(db_session=s, text=text, actor_id="U0MAYA", clock=CLOCK, **kw)  # type: ignore[arg-type]


def counts(db: Database) -> tuple[int, int, int]:
    with db.session() as s:
        return (
            s.exec(select(func.count()).select_from(Objective)).one(),
            s.exec(select(func.count()).select_from(KeyResult)).one(),
            s.exec(select(func.count()).select_from(CheckIn)).one(),
        )


def test_import_creates_then_reimport_changes_nothing(db: Database, teams: None) -> None:
    report = run(db, GOOD)
    assert report.ok, report.errors
    assert (report.objectives_created, report.krs_created, report.checkins) == (4, 4, 3)
    assert report.created == [2, 3, 4, 5, 6]
    assert counts(db) == (4, 4, 3)
    with db.session() as s:
        lena = s.exec(select(Objective).where(Objective.title == "Activate teams")).one()
        parent = s.get(Objective, lena.parent_id)
        assert lena.owner_id == "U0LENA" and parent is not None and parent.title == "Grow the business"
    again = run(db, GOOD)
    assert again.ok and again.created == [] and again.updated == [] and again.unchanged == [2, 3, 4, 5, 6]
    assert counts(db) == (4, 4, 3)


def _with_weights(text: str) -> str:
    """An old 10-column file as the export writes it: a `weight` column, empty where none is set."""
    lines = text.rstrip("\n").split("\n")
    return "\n".join([lines[0] + ",weight", *(line + "," for line in lines[1:])]) + "\n"


def test_export_equals_import(db: Database, teams: None) -> None:
    text = GOOD.replace("lena@example.com", "U0LENA").replace(",Growth,", ",growth,")
    assert run(db, text).ok  # a file without the weight column still imports
    with db.session() as s:
        exported = csv_io.export_csv(db_session=s, cycle_key="2026-11")
        data = csv_io.export_json(db_session=s, clock=CLOCK)
    # The blank `current` of a new KR exports as its start value, which re-imports as no change.
    expected = text.replace("Signup drop-off,40,20,%,\n", "Signup drop-off,40,20,%,40\n")
    assert exported == _with_weights(expected)
    assert run(db, exported).unchanged == [2, 3, 4, 5, 6]
    assert run(db, text).unchanged == [2, 3, 4, 5, 6]  # and so does the old 10-column file
    assert json.loads(json.dumps(data))[1]["key_results"][1]["progress"] == 0.25


def test_weights_import_export_and_warn(db: Database, teams: None) -> None:
    text = (
        HEADER.rstrip("\n")
        + ",weight\n"
        + (
            "2026-11,growth,U0LENA,Activate teams,,Activated teams,10,50,,30,0.7\n"
            "2026-11,growth,U0LENA,Activate teams,,Time to value,10,2,days,,30%\n"
            "2026-11,growth,U0LENA,Activate teams,,NPS,0,40,points,,\n"
            "2026-11,company,U0MAYA,Grow,,Revenue,0,10,,,0.5\n"
        )
    )
    report = run(db, text)
    assert report.ok, report.errors
    with db.session() as s:
        weights = {k.title: k.weight for k in s.exec(select(KeyResult)).all()}
        data = csv_io.export_json(db_session=s, clock=CLOCK)
        exported = csv_io.export_csv(db_session=s)
    assert weights == {"Activated teams": 0.7, "Time to value": 0.3, "NPS": None, "Revenue": 0.5}
    activate, grow = data
    assert "without a weight counts for nothing" in (activate["weights_warning"] or "")
    assert [k["share"] for k in activate["key_results"]] == [0.7, 0.3, 0.0]
    assert grow["weights_warning"] == "weights sum to 0.5, not 1 — the roll-up scales them to 1"
    assert grow["progress"] == 0 and grow["key_results"][0]["share"] == 1.0
    assert "Activated teams,10,50,,30,0.7\n" in exported and "NPS,0,40,points,0,\n" in exported
    # A changed weight is an update; an old file without the column leaves weights alone.
    changed = run(db, text.replace(",30,0.7\n", ",30,0.6\n"))
    assert changed.ok and changed.updated == [2] and changed.checkins == 0
    old = "\n".join(line.rsplit(",", 1)[0] for line in text.strip().split("\n")) + "\n"
    assert run(db, old).unchanged == [2, 3, 4, 5]
    with db.session() as s:
        assert s.exec(select(KeyResult.weight).where(KeyResult.title == "Activated teams")).one() == 0.6
    bad = run(db, text.replace(",30,0.7\n", ",30,3\n").replace(",,30%\n", ",,abc\n"))
    assert [(e.line, e.reason.split(" —")[0]) for e in bad.errors] == [
        (2, "Weight 3 must be from 0 to 1"),
        (3, "The weight abc is not a number"),
    ]


def test_rows_with_too_few_or_too_many_values_are_bad_rows(db: Database, teams: None) -> None:
    text = HEADER + (
        "2026-11,company,U0MAYA,Grow the business,,Revenue,100,200,k$,130\n"  # 2: fine
        "2026-11,company,U0MAYA,Short row,,Revenue,100,200\n"  # 3: 8 values
        "2026-11,company,U0MAYA,Long row, with a comma,,Revenue,100,200,k$,130\n"  # 4: 11 values
        "\n"  # blank lines are skipped
        '2026-11,company,U0MAYA,"Quoted, fine",,Revenue,100,200,k$,130\n'  # 6: fine
    )
    report = run(db, text)
    assert [(e.line, e.reason.split(" —")[0]) for e in report.errors] == [
        (3, "8 value(s) but the header has 10 columns"),
        (4, "11 value(s) but the header has 10 columns"),
    ]
    assert "a comma in a title needs quotes" in report.errors[1].reason
    assert counts(db) == (0, 0, 0)


def test_unknown_columns_reject_the_file(db: Database, teams: None) -> None:
    report = run(db, HEADER.rstrip("\n") + ",notes\n2026-11,company,U0MAYA,X,,,,,,,hi\n")
    assert [(e.line, e.reason.split(" —")[0]) for e in report.errors] == [(1, "unknown column(s): notes")]


def test_a_first_import_creates_the_teams_it_names(db: Database) -> None:
    """A fresh install has no teams: the import creates them as product teams and says so."""
    text = HEADER + (
        "2026-11,company,U0MAYA,Grow the business,,Revenue,100,200,k$,130\n"
        "2026-11,User research,U0NINA,Talk to customers,Grow the business,Interviews,0,40,,\n"
        "2026-11,user research,U0NINA,Share what we learn,Grow the business,,,,,\n"
        "2026-11,,U0MAYA,No team,,,,,,\n"
    )
    preview = run(db, text, dry_run=True)
    assert preview.ok and preview.teams_created == [
        ("company", "Company"),
        ("user-research", "User research"),
    ]
    with db.session() as s:
        assert s.exec(select(Team)).all() == []
    report = run(db, text)
    assert report.ok and report.teams_created == preview.teams_created and report.created == [2, 3, 4, 5]
    with db.session() as s:
        teams = {t.key: (t.name, t.kind) for t in s.exec(select(Team)).all()}
        research = s.exec(select(Objective).where(Objective.title == "Talk to customers")).one()
    assert teams == {"company": ("Company", "product"), "user-research": ("User research", "product")}
    assert research.team_id is not None
    again = run(db, text)  # now they exist: matched, not created again
    assert again.ok and again.teams_created == [] and again.unchanged == [2, 3, 4, 5]
    assert run(db, HEADER + "2026-11,user-research,U0NINA,Talk to customers,,,,,,\n").teams_created == []

    from bot.okrs.cli import format_report

    shown = format_report("okrs.csv", preview)
    assert "teams to create (as product teams; flywheel import teams can add details): " in shown
    assert "company (Company), user-research (User research)" in shown
    assert "teams created" in format_report("okrs.csv", report)


def test_a_changed_value_is_an_update_with_a_checkin(db: Database, teams: None) -> None:
    run(db, GOOD)
    changed = GOOD.replace("Revenue,100,200,k$,130", "Revenue,100,200,k$,150").replace(
        ",Hire well,,", ",Hire well,Grow the business,"
    )
    report = run(db, changed)
    assert report.ok and report.updated == [2, 6] and report.created == []
    assert (report.krs_updated, report.objectives_updated, report.checkins) == (1, 1, 1)
    with db.session() as s:
        revenue = s.exec(select(KeyResult).where(KeyResult.title == "Revenue")).one()
        history = s.exec(select(CheckIn).where(CheckIn.key_result_id == revenue.id)).all()
    assert revenue.current == 150 and [c.value for c in history] == [130, 150]


def test_dry_run_previews_and_writes_nothing(db: Database, teams: None) -> None:
    report = run(db, GOOD, dry_run=True)
    assert report.ok and report.dry_run and report.created == [2, 3, 4, 5, 6]
    assert counts(db) == (0, 0, 0)


def test_a_missing_column_rejects_the_file(db: Database, teams: None) -> None:
    text = GOOD.replace(",unit,current", ",current").replace(",k$,", ",")
    report = run(db, text)
    assert [(e.line, e.reason.split(" —")[0]) for e in report.errors] == [(1, "missing column(s): unit")]
    assert counts(db) == (0, 0, 0)


def test_every_bad_row_is_listed_and_nothing_is_imported(db: Database, teams: None) -> None:
    text = HEADER + (
        "2026-11,company,U0MAYA,Good one,,Revenue,100,200,k$,130\n"  # 2: fine
        '2026-11,"**",U0MAYA,Brand,,Reach,0,10,,\n'  # 3: a team name without letters
        "2026-11,company,U0MAYA,Flat,,Same,5,5,,\n"  # 4: target = start
        "2026-11,company,U0MAYA,Words,,Count,zero,10,,\n"  # 5: not a number
        "2026-12,company,U0MAYA,Off cycle,,Thing,0,1,,\n"  # 6: not a cycle start
        "2026-11,company,nobody,Who,,Thing,0,1,,\n"  # 7: bad owner
        f"2026-11,company,U0MAYA,{'x' * 201},,Thing,0,1,,\n"  # 8: title too long
        "2026-11,company,U0MAYA,,,Thing,0,1,,\n"  # 9: empty title
        "2026-11,company,U0MAYA,Orphan,Nowhere,Thing,0,1,,\n"  # 10: unknown parent
        "2026-11,company,ghost@example.com,Ghost,,Thing,0,1,,\n"  # 11: unknown e-mail
    )
    report = run(db, text)
    lines = {e.line: e.reason for e in report.errors}
    assert sorted(lines) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert "The team ** has no letters or digits" in lines[3]
    assert "target equals the start" in lines[4]
    assert "The start zero is not a number" in lines[5] and "`" not in lines[5]
    assert "not the start of a cycle" in lines[6]
    assert "neither a Slack user ID" in lines[7]
    assert "201 characters" in lines[8]
    assert "empty" in lines[9]
    assert "“Nowhere” is not in cycle 2026-11" in lines[10]
    assert "ghost@example.com" in lines[11]
    assert counts(db) == (0, 0, 0)


def test_parents_must_share_the_cycle_and_not_loop(db: Database, teams: None) -> None:
    text = HEADER + (
        "2026-09,company,U0MAYA,Old goal,,,,,,\n"
        "2026-11,company,U0MAYA,New goal,Old goal,,,,,\n"
        "2026-11,company,U0MAYA,A,B,,,,,\n"
        "2026-11,company,U0MAYA,B,A,,,,,\n"
    )
    report = run(db, text)
    reasons = [(e.line, e.reason) for e in report.errors]
    assert (3, "parent objective “Old goal” is not in cycle 2026-11 (it is in cycle 2026-09)") in reasons
    assert {line for line, r in reasons if "cycle of parents" in r} == {4, 5}
    assert counts(db) == (0, 0, 0)


def test_emails_resolve_through_the_lookup(db: Database, teams: None) -> None:
    asked: list[str] = []

    def lookup(email: str) -> str | None:
        asked.append(email)
        return "U0OMAR" if email == "omar@example.com" else None

    text = (
        HEADER
        + "2026-11,growth,Omar@Example.com,Ship it,,,,,,\n2026-11,growth,omar@example.com,Ship more,,,,,,\n"
    )
    assert run(db, text, resolve_email=lookup).ok
    assert asked == ["omar@example.com"]  # cached: one users.lookupByEmail per address
    with db.session() as s:
        assert {o.owner_id for o in s.exec(select(Objective)).all()} == {"U0OMAR"}


def test_the_same_objective_with_a_different_owner_is_a_bad_row(db: Database, teams: None) -> None:
    text = HEADER + "2026-11,growth,U0LENA,Same,,KR a,0,1,,\n2026-11,growth,U0OMAR,Same,,KR b,0,1,,\n"
    report = run(db, text)
    assert [(e.line, "already appears on line 2" in e.reason) for e in report.errors] == [(3, True)]
