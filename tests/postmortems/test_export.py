"""Markdown export of a complete postmortem, compared field by field — and the CLI that prints it."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from typer.testing import CliRunner

from bot.cli import app as cli
from bot.postmortems import items, markdown, workflow
from bot.postmortems import service as svc
from bot.postmortems.rules import FIELDS
from storage.db import Database
from storage.migrate import upgrade
from tests.postmortems.conftest import COMPLETE, NOW, make_complete

NAMES = {"U0PRIYA": "Priya Nair", "U0JONAS": "Jonas Weber", "U0TOM": "Tom Becker"}


def _sections(text: str) -> dict[str, str]:
    """`## Heading` → the body under it (up to the next heading)."""
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return {title: body.strip() for title, body in zip(parts[1::2], parts[2::2], strict=True)}


def _published(db: Database) -> int:
    pid = make_complete(db)
    with db.session() as s:
        workflow.request_review(
            db_session=s, actor_id="U0PRIYA", is_admin=False, postmortem_id=pid, confirmed=True, now=NOW
        )
        workflow.publish(
            db_session=s, actor_id="U0JONAS", is_admin=False, postmortem_id=pid, confirmed=True, now=NOW
        )
        item = svc.action_items_of(db_session=s, owner_id="U0TOM")[0][0][0]
        items.complete_action_item(
            db_session=s, actor_id="U0TOM", is_admin=False, action_item_id=item.id or 0
        )
    return pid


def test_every_field_is_in_the_export(db: Database) -> None:
    pid = _published(db)
    with db.session() as s:
        d = svc.detail(db_session=s, postmortem_id=pid)
    text = markdown.to_markdown(d, names=NAMES, tz=ZoneInfo("UTC"))
    sections = _sections(text)

    assert text.startswith("# PM-1 INC-42: checkout errors\n")
    head = text.split("## ")[0]
    assert "| Severity | SEV2 — major: a core feature broken or badly degraded |" in head
    assert "| Status | published |" in head
    assert "| Author | Priya Nair (U0PRIYA) |" in head
    assert "| Participants | Jonas Weber (U0JONAS) |" in head
    assert "| Linked channel | C0INC42 |" in head
    assert "| Created | 2026-12-01 10:00 |" in head
    assert "| Sent for review | 2026-12-02 10:00 |" in head
    assert "| Published | 2026-12-02 10:00 by Jonas Weber (U0JONAS) |" in head
    assert "| Times | UTC |" in head

    # The template's prose fields, exactly as stored (mentions as names).
    for f in FIELDS:
        if f.key in ("title", "impact", "impact_who", "impact_count", "impact_duration", "links"):
            continue
        assert sections[f.label] == COMPLETE[f.key].replace("<@U0TOM>", "@Tom Becker"), f.label
    impact = sections["Impact"]
    assert impact.startswith(COMPLETE["impact"])
    assert "- **Who was affected:** Checkout customers in the EU" in impact
    assert "- **How many:** about 1,800 failed checkouts" in impact
    assert "- **How long:** 29 minutes" in impact
    assert sections["Links"].splitlines() == [f"- {x}" for x in COMPLETE["links"].splitlines()]

    # The timeline: one row per entry, in time order, with who posted it, its source and who added it.
    rows = [r for r in sections["Timeline"].splitlines() if r.startswith("| 2026")]
    assert rows == [
        "| 2026-12-01 14:02 | Tom Becker (U0TOM) | Alert: checkout error rate 12% | "
        "https://acme.slack.com/archives/C0INC42/p1796047320000000 | Priya Nair (U0PRIYA) |",
        "| 2026-12-01 14:16 | — | Rolled back the 13:55 deploy | — | Priya Nair (U0PRIYA) |",
    ]
    # The action items: owner, due date, type, status (and when it was done).
    rows = [r for r in sections["Action items"].splitlines() if r.startswith("| AI-")]
    assert (
        rows[0]
        == "| AI-1 | Load-test pool changes in CI | Jonas Weber (U0JONAS) | 2026-12-11 | preventative "
        "| open |"
    )
    assert rows[1].startswith(
        "| AI-2 | Alert on pool saturation | Tom Becker (U0TOM) | 2026-12-03 | detective | done ("
    )
    assert len(rows) == 2
    # The section order is the template's.
    assert list(sections) == [
        "Summary",
        "Impact",
        "Detection",
        "Timeline",
        "Contributing factors",
        "What went well",
        "What went poorly",
        "Where we got lucky",
        "Action items",
        "Links",
    ]


def test_table_cells_keep_pipes_and_line_breaks() -> None:
    assert markdown.cell("a | b\nc") == "a \\| b<br>c"


def test_an_empty_postmortem_says_so_in_each_section(db: Database) -> None:
    with db.session() as s:
        pm = svc.create(db_session=s, actor_id="U0TOM", title="Empty", now=datetime(2026, 12, 1, tzinfo=UTC))
        d = svc.detail(db_session=s, postmortem_id=pm.id or 0)
    sections = _sections(markdown.to_markdown(d, names={}, tz=ZoneInfo("Europe/Berlin")))
    assert sections["Summary"] == "_Not written._" and sections["Timeline"] == "_No entries._"
    assert sections["Action items"] == "_None._" and sections["Links"] == "_None._"


def test_the_cli_prints_it_and_explains_bad_ids(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    upgrade(url)
    db = Database(url)
    pid = _published(db)
    db.dispose()
    runner = CliRunner()
    env = {"DATABASE_URL": url, "FLYWHEEL_TIMEZONE": "UTC"}
    result = runner.invoke(cli, ["export", "postmortem", f"pm-{pid}", "--format", "md"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# PM-1 INC-42: checkout errors\n") and "## Action items" in result.output
    assert "| Author | U0PRIYA |" in result.output  # nobody in the people table: IDs stand
    missing = runner.invoke(cli, ["export", "postmortem", "PM-9"], env=env)
    assert missing.exit_code == 1 and "There is no postmortem PM-9" in missing.output
    wrong = runner.invoke(cli, ["export", "postmortem", "KR-3"], env=env)
    assert wrong.exit_code == 2 and "is not a postmortem ID" in wrong.output
    fmt = runner.invoke(cli, ["export", "postmortem", "PM-1", "--format", "pdf"], env=env)
    assert fmt.exit_code == 2 and "use md" in fmt.output
