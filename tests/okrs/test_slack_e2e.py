"""/okr end to end: the real app over HTTP, driven through the Slack simulator like a person would.

import (the CLI) → a colleague reads `/okr @owner` → the owner checks in by command and by modal →
a non-owner is refused and nothing changes → `/okr tree` → the export equals the import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlmodel import func, select
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.demo.run import DemoStack
from bot.okrs import scoring, service
from bot.okrs.actions import Field
from storage.models.okrs import CheckIn, KeyResult, Objective

HEADER = "cycle,team,owner,objective,parent_objective,key_result,start,target,unit,current\n"
CSV = HEADER + (
    "2026-11,company,U0MAYA,Double weekly active teams,,Weekly active teams,1200,2400,,1500\n"
    "2026-11,growth,lena@flywheel-demo.example,Activate new teams,Double weekly active teams,"
    "Activation rate,28,40,%,31\n"
    "2026-11,growth,U0LENA,Activate new teams,Double weekly active teams,Signup drop-off,45,30,%,44\n"
    "2026-11,payments,U0PRIYA,Checkout that never fails,,Checkout error rate,2.4,0.5,%,2\n"
)


@pytest.fixture
def env(slack_env: DemoStack) -> Iterator[DemoStack]:
    slack_env.sim.take_outputs()
    yield slack_env


def cli_run(env: DemoStack, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={"DATABASE_URL": env.db.url})
    return result.exit_code, result.output


def shown(env: DemoStack, user: str) -> str:
    """Everything shown to `user` since the last call, rendered as text."""
    env.sim.settle()
    return "\n".join(env.sim.render_output(o) for o in env.sim.take_outputs() if o.user in (user, None))


def kr_state(env: DemoStack, title: str) -> tuple[float, int | None, int]:
    with env.db.session() as s:
        kr = s.exec(select(KeyResult).where(KeyResult.title == title)).one()
        n = s.exec(select(func.count()).select_from(CheckIn).where(CheckIn.key_result_id == kr.id)).one()
        return kr.current, kr.confidence, int(n)


def kr_id(env: DemoStack, title: str) -> int:
    with env.db.session() as s:
        return s.exec(select(KeyResult.id).where(KeyResult.title == title)).one() or 0


def test_import_read_checkin_refuse_tree_export(env: DemoStack, tmp_path: Path) -> None:
    sim = env.sim
    source = tmp_path / "okrs.csv"
    source.write_text(CSV, encoding="utf-8")

    code, out = cli_run(env, "import", "okrs", str(source))
    assert code == 0, out
    assert "4 created, 0 updated, 0 unchanged, 0 rejected" in out

    # A colleague reads the owner's OKRs.
    sim.command("U0OMAR", "/okr", "<@U0LENA|lena>", channel_id="C0GROWTH")
    seen = shown(env, "U0OMAR")
    assert "[ephemeral to @omar in #growth]" in seen
    assert "Activate new teams" in seen and "Growth · @lena" in seen
    assert "Activation rate" in seen and "25% · 31%" in seen
    assert "aligned to `O-1`" in seen

    # The owner checks in by command…
    activation, drop_off = kr_id(env, "Activation rate"), kr_id(env, "Signup drop-off")
    sim.command(
        "U0LENA", "/okr", f"checkin KR-{activation} 34 confidence:7 invite fix shipped", channel_id="C0GROWTH"
    )
    seen = shown(env, "U0LENA")
    assert "Checked in" in seen and "50% · 34%" in seen and "confidence 7/10" in seen
    assert kr_state(env, "Activation rate") == (34, 7, 2)

    # …and by the Check-in button and its modal, after one invalid try.
    sim.command("U0LENA", "/okr", "mine", channel_id="C0GROWTH")
    assert "Your OKRs" in shown(env, "U0LENA")
    sim.click_button("U0LENA", f"okr_checkin:{drop_off}")
    assert '[modal "Check in"' in shown(env, "U0LENA")
    sim.submit_view("U0LENA", {Field.VALUE.value: "about forty"})
    assert "is not a number" in shown(env, "U0LENA")
    assert kr_state(env, "Signup drop-off") == (44, None, 1)
    sim.submit_view(
        "U0LENA", {Field.VALUE.value: "40", Field.CONFIDENCE.value: "8", Field.NOTE.value: "SSO fixed"}
    )
    seen = shown(env, "U0LENA")
    assert "Checked in" in seen and "33% · 40%" in seen
    assert kr_state(env, "Signup drop-off") == (40, 8, 2)

    # A non-owner who is not an admin is refused, by command and by button; nothing changes.
    sim.command("U0OMAR", "/okr", f"checkin KR-{activation} 99", channel_id="C0GROWTH")
    assert "Only @lena (the owner of O-2)" in shown(env, "U0OMAR")
    sim.command("U0OMAR", "/okr", "<@U0LENA>", channel_id="C0GROWTH")
    shown(env, "U0OMAR")
    sim.click_button("U0OMAR", f"okr_checkin:{activation}")
    assert "Only @lena" in shown(env, "U0OMAR")
    assert kr_state(env, "Activation rate") == (34, 7, 2)

    # The tree: the company objective with the team objective aligned under it.
    sim.command("U0OMAR", "/okr", "tree", channel_id="C0GROWTH")
    seen = shown(env, "U0OMAR")
    company = seen.index("`O-1` *Double weekly active teams*")
    assert seen.index("↳ `O-2` *Activate new teams*") > company
    assert "3 objectives in the company tree" in seen

    # The export is the import, with the values the check-ins recorded; re-importing changes nothing.
    code, exported = cli_run(env, "export", "okrs", "--cycle", "2026-11")
    assert code == 0
    expected = (
        CSV.replace("lena@flywheel-demo.example", "U0LENA")
        .replace("Activation rate,28,40,%,31", "Activation rate,28,40,%,34")
        .replace("Signup drop-off,45,30,%,44", "Signup drop-off,45,30,%,40")
    )
    rows = expected.rstrip("\n").split("\n")  # the export adds the weight column, empty when unset
    assert exported == "\n".join([rows[0] + ",weight", *(r + "," for r in rows[1:])]) + "\n"
    source.write_text(exported, encoding="utf-8")
    code, out = cli_run(env, "import", "okrs", str(source))
    assert code == 0 and "0 created, 0 updated, 4 unchanged" in out


BAD_INPUT = [
    ("O-999", "There is no objective O-999"),
    ("checkin KR-999 5", "There is no key result KR-999"),
    ("checkin KR-1 lots", "The value `lots` is not a number"),
    ("checkin KR-1 5 confidence:11", "Confidence `11` is outside 1–10"),
    ("checkin KR-1 5 confidence:high", "Confidence `high` must be a whole number"),
    ("kr O-1 Flat line target:5 start:5", "target equals the start (5)"),
    ("kr O-1 Reach target:ten", "The target `ten` is not a number"),
    ("new " + "x" * 201, "201 characters long; the limit is 200"),
    ("new parent:O-1", "The objective title is empty"),
    ("new Side quest parent:O-77", "There is no parent objective O-77"),
    ("team marketing", "There is no team `marketing`"),
    ("history", "Which key result?"),
    ("frobnicate the thing", "I don't understand `/okr frobnicate the thing`"),
    ("@nobody", "I don't know anyone called `@nobody`"),
]


def test_bad_input_gets_a_clear_answer_and_changes_nothing(env: DemoStack, tmp_path: Path) -> None:
    source = tmp_path / "okrs.csv"
    source.write_text(CSV, encoding="utf-8")
    assert cli_run(env, "import", "okrs", str(source))[0] == 0

    def snapshot() -> tuple[int, int, int]:
        with env.db.session() as s:
            return tuple(  # type: ignore[return-value]
                int(s.exec(select(func.count()).select_from(t)).one())
                for t in (Objective, KeyResult, CheckIn)
            )

    before = snapshot()
    for text, message in BAD_INPUT:
        env.sim.command("U0MAYA", "/okr", text, channel_id="C0GENERAL")
        seen = shown(env, "U0MAYA")
        assert ":warning:" in seen and message in seen, (text, seen)
    assert snapshot() == before
    env.sim.command("U0MAYA", "/okr", "@lena", channel_id="C0GENERAL", raw_text=True)  # typed, not a mention
    assert "OKRs of @lena" in shown(env, "U0MAYA")


def test_bad_csv_lists_every_row_and_imports_nothing(env: DemoStack, tmp_path: Path) -> None:
    source = tmp_path / "bad.csv"
    source.write_text(
        CSV + '2026-11,"?!",U0LENA,X,,Y,0,1,,\n2026-11,growth,U0LENA,Z,,Flat,3,3,,\n2026-11,growth\n',
        encoding="utf-8",
    )
    code, out = cli_run(env, "import", "okrs", str(source))
    assert code == 1
    assert "rejected — nothing was imported. 3 problem(s)" in out
    assert "line 6: The team ?! has no letters or digits" in out
    assert "line 7: The target equals the start" in out
    assert "line 8: 2 value(s) but the header has 10 columns" in out
    with env.db.session() as s:
        assert s.exec(select(func.count()).select_from(Objective)).one() == 0


def test_create_by_modal_and_command_then_share_and_home(env: DemoStack, tmp_path: Path) -> None:
    sim = env.sim
    source = tmp_path / "okrs.csv"
    source.write_text(CSV, encoding="utf-8")
    assert cli_run(env, "import", "okrs", str(source))[0] == 0

    sim.command("U0OMAR", "/okr", "new", channel_id="C0GROWTH")
    assert '[modal "New objective"' in shown(env, "U0OMAR")
    sim.submit_view(
        "U0OMAR",
        {
            Field.TITLE.value: "Referral loop that pays for itself",
            Field.TEAM.value: "Growth",
            Field.PARENT.value: "O-1 Double weekly active teams",
            Field.KR.nth(1): "Referred signups per week target:200 start:80",
            Field.KR.nth(2): "Cost per team target:90",  # start 0 → fine, it is a different KR
            Field.KR.nth(3): "Broken target:nope",
        },
    )
    seen = shown(env, "U0OMAR")
    assert "with errors" in seen and "The target nope is not a number" in seen  # plain text
    with env.db.session() as s:
        assert s.exec(select(func.count()).select_from(Objective)).one() == 3
    sim.submit_view("U0OMAR", {Field.KR.nth(3): ""})
    seen = shown(env, "U0OMAR")
    assert "Created `O-4`" in seen and "Referred signups per week" in seen
    with env.db.session() as s:
        created = s.get(Objective, 4)
        assert created is not None and (created.owner_id, created.parent_id) == ("U0OMAR", 1)

    sim.command("U0OMAR", "/okr", "new Fewer support tickets team:growth parent:O-2", channel_id="C0GROWTH")
    assert "Created `O-5`" in shown(env, "U0OMAR")
    sim.command(
        "U0OMAR", "/okr", "kr O-5 Tickets per 100 teams target:4 start:9 unit:tickets", channel_id="C0GROWTH"
    )
    assert "9 tickets (from 9 tickets to 4 tickets)" in shown(env, "U0OMAR")

    # Sharing posts the same answer in the channel for everyone.
    sim.command("U0OMAR", "/okr", "team growth", channel_id="C0GROWTH")
    shown(env, "U0OMAR")
    sim.click_button("U0OMAR", "Share in channel")
    env.sim.settle()
    posted = [m for m in sim.messages("C0GROWTH") if "Fewer support tickets" in (m.text + str(m.blocks))]
    assert posted, "the shared answer was not posted in #growth"

    # App Home: My OKRs with a Check-in button that works from there.
    sim.open_home("U0LENA")
    seen = shown(env, "U0LENA")
    assert "My OKRs" in seen and "Activation rate" in seen and "[Check in]" in seen
    sim.click_button("U0LENA", f"okr_checkin:{kr_id(env, 'Activation rate')}")
    sim.submit_view("U0LENA", {Field.VALUE.value: "50%"})  # half of the way from 28 to 40 %
    env.sim.settle()
    assert kr_state(env, "Activation rate")[0] == 50  # a KR measured in % takes 50% as the value
    home = sim.home_view("U0LENA")
    assert home is not None and "50% · 50%" not in str(home.payload)  # progress 100% after 50 ≥ 40
    assert "100% · 50%" in str(home.payload)


def test_a_tree_of_200_objectives_stays_readable_and_drills_down(env: DemoStack, tmp_path: Path) -> None:
    """3 levels, 200 objectives: within Slack's limits, with "and N more" and working drill-downs."""
    rows = []
    teams = ["growth", "payments", "analytics", "legal"]
    for r in range(8):
        root = f"Company goal {r} " + "with a long and descriptive title " * 3
        rows.append(f"2026-11,company,U0MAYA,{root},,,,,,")
        for c in range(8):
            child = f"Team goal {r}.{c}"
            rows.append(f"2026-11,{teams[c % 4]},U0LENA,{child},{root},Metric {r}.{c},0,10,,{c}")
            for g in range(2):
                rows.append(f"2026-11,{teams[c % 4]},U0OMAR,Leaf {r}.{c}.{g},{child},,,,,")
    assert len(rows) == 8 + 64 + 128 == 200
    source = tmp_path / "big.csv"
    source.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    assert cli_run(env, "import", "okrs", str(source))[0] == 0

    env.sim.command("U0NINA", "/okr", "tree", channel_id="C0GENERAL")
    env.sim.settle()
    [out] = [o for o in env.sim.take_outputs() if o.user == "U0NINA"]
    assert out.kind == "ephemeral" and out.blocks is not None  # the simulator refuses what Slack refuses
    assert len(out.blocks) <= 50
    assert all(len((b.get("text") or {}).get("text", "")) <= 3000 for b in out.blocks)
    seen = env.sim.render_output(out)
    assert "200 objectives in the company tree" in seen
    assert "…and 2 more aligned to `O-1`" in seen  # 8 children, 6 shown
    assert "…and 4 more top-level objectives" not in seen  # all 8 roots fit
    assert "↳ `O-3` *Leaf 0.0.0*" in seen  # the third level is there

    env.sim.click_button("U0NINA", "okr_open:1")
    seen = shown(env, "U0NINA")
    assert "Aligned objectives (8)" in seen and "Team goal 0.7" in seen

    env.sim.command("U0NINA", "/okr", "tree legal share", channel_id="C0GENERAL")
    env.sim.settle()
    posted = env.sim.messages("C0GENERAL")[-1]
    assert "OKR tree" in str(posted.blocks) and "team Legal" in str(posted.blocks)


def test_the_parent_picker_finds_any_objective_of_a_big_cycle(
    slack_env_factory: Callable[..., DemoStack],
) -> None:
    """Hundreds of objectives: the modal's parent picker asks the app (`block_suggestion`) and finds
    one far past the first 100, by title or by ref; the new objective is aligned to it."""
    env = slack_env_factory(features=True)  # the demo company's OKRs, O-1 … O-13
    sim = env.sim
    clock = scoring.Clock.from_settings(env.fw.ctx.settings)
    with env.db.session() as s:
        for i in range(140):
            service.create_objective(
                db_session=s, actor_id="U0MAYA", clock=clock, title=f"Initiative {i:03}", parent_id=1
            )
        lisbon = service.create_objective(
            db_session=s, actor_id="U0MAYA", clock=clock, title="Open an office in Lisbon", parent_id=1
        ).id
        total = s.exec(select(func.count()).select_from(Objective)).one()
    assert lisbon is not None and lisbon > 150 and total > 150
    sim.take_outputs()

    sim.command("U0OMAR", "/okr", "new", channel_id="C0GROWTH")
    seen = shown(env, "U0OMAR")
    assert "Aligned to (parent objective) (optional): [search…]" in seen
    assert "parent:O-n" in seen  # the quick-create hint stays

    # Opening the menu (no query) lists the top of the tree within Slack's 100 options.
    opened = sim.suggest("U0OMAR", Field.PARENT.value)
    assert len(opened) == 100 and opened[0]["text"]["text"].startswith("O-1 ")
    assert f"O-{lisbon} " not in str(opened)
    # Typing part of the title, or the ref, finds it.
    found = sim.suggest("U0OMAR", Field.PARENT.value, "lisbon")
    assert [o["text"]["text"] for o in found] == [f"O-{lisbon} Open an office in Lisbon"]
    assert sim.suggest("U0OMAR", Field.PARENT.value, f"o{lisbon}")[0]["value"] == str(lisbon)

    sim.submit_view(
        "U0OMAR",
        {Field.TITLE.value: "Iberian launch", Field.TEAM.value: "Growth", Field.PARENT.value: f"O-{lisbon}"},
    )
    assert sim.last_suggestion is not None
    sent = sim.last_suggestion.sent
    assert (sent["type"], sent["value"]) == ("block_suggestion", f"O-{lisbon}")  # what was typed
    seen = shown(env, "U0OMAR")
    assert "Created `O-" in seen and f"aligned to `O-{lisbon}`" in seen
    with env.db.session() as s:
        created = s.exec(select(Objective).where(Objective.title == "Iberian launch")).one()
        assert (created.owner_id, created.parent_id) == ("U0OMAR", lisbon)
