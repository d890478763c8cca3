"""The walk-through in docs/okrs.md works exactly as written in `flywheel demo` (today's date, any day).

The lines are read from the document itself, so the docs cannot drift from what the demo does.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.demo.run import run_demo

DOCS = Path(__file__).resolve().parents[2] / "docs" / "okrs.md"


def walkthrough() -> list[str]:
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("### Walking through it in `flywheel demo`") :]
    block = re.search(r"```\n(.*?)```", section, re.S)
    assert block is not None
    return block.group(1).strip().splitlines()


def test_the_documented_review_walkthrough_runs(capsys: pytest.CaptureFixture[str]) -> None:
    lines = walkthrough()
    assert "clock review" in lines and "clock last-day" in lines
    assert run_demo(lines=lines, db_path=None, user="lena") is True
    out = capsys.readouterr().out
    assert "error:" not in out and "Traceback" not in out
    for expected in (
        "*OKRs of @lena and @priya*",
        ":warning: weights sum to 0.8, not 1 — the roll-up scales them to 1",  # O-3
        "1000% is impossible here",
        "Progress 50% is 50% of the way from 0 to 6: 3.",
        "has no letters or digits",
        "the last week of cycle",
        "== Cycle review (复盘) ·",  # the owners' DMs
        "[Write the review]",
        ":white_check_mark: Review saved.",
        "Carried `KR-9` over into cycle",
        "[#general]\n== Cycle review (复盘)",  # the company review, posted
        "[#growth]\n== Cycle review (复盘)",
        "_Worked:_ The welcome checklist",
        "Carried over from `KR-9` in cycle",  # /okr history KR-27
    ):
        assert expected in out, expected
