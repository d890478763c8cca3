"""Block Kit limits: long answers end with "and N more" instead of exceeding what Slack accepts."""

from __future__ import annotations

from bot.okrs import modals, scoring, views
from storage.models.okrs import KeyResult, Objective


def _states(n_objectives: int, n_krs: int) -> list[scoring.ObjectiveState]:
    clock = scoring.Clock()
    out = []
    for i in range(n_objectives):
        o = Objective(
            id=i + 1, cycle_key="2026-11", owner_id="U0LENA", title=f"Objective {i} <b>&" + "x" * 150
        )
        krs = [
            KeyResult(
                id=i * 10 + k, objective_id=i + 1, title=f"KR {k}", start=0, target=10, current=k, unit="%"
            )
            for k in range(n_krs)
        ]
        out.append(scoring.objective_state(o, None, krs, clock))
    return out


def test_a_long_list_fits_in_one_message() -> None:
    payload = views.objectives_message(
        "Your OKRs", _states(30, 5), cycle_line="Cycle 2026-11", empty="none", share_value="<@U0LENA>"
    )
    blocks = payload["blocks"]
    assert len(blocks) <= 50
    assert blocks[-1]["type"] == "actions"  # the Share button survives the cut
    more = [b for b in blocks if b["type"] == "context" and "more objectives" in b["elements"][0]["text"]]
    shown = sum(1 for b in blocks if b["type"] == "section" and b["text"]["text"].startswith("*`O-"))
    assert (shown, more[0]["elements"][0]["text"][:23]) == (6, "…and 24 more objectives")
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in blocks)
    # User text cannot forge markup: <b> and & are escaped.
    assert "&lt;b&gt;&amp;" in blocks[2]["text"]["text"]


def test_the_home_section_stays_within_its_share_of_the_home() -> None:
    blocks = views.home_section(_states(12, 5), cycle_line="Cycle 2026-11 · 40 days left")
    assert len(blocks) <= 40
    assert "`/okr mine` shows them all" in str(blocks[-1])


def test_parent_options_stay_within_slacks_100() -> None:
    """The parent picker's answer: grouped as the menu opens, ranked for a search, never past 100."""
    company = [Objective(id=i, cycle_key="2026-11", owner_id="U0MAYA", title=f"Goal {i}") for i in (1, 2)]
    ours = [Objective(id=3, cycle_key="2026-11", owner_id="U0LENA", title="Ours", parent_id=1, team_id=7)]
    others = [
        Objective(id=i, cycle_key="2026-11", owner_id="U0OMAR", title="x" * 100, parent_id=2)
        for i in range(4, 150)
    ]
    opened = modals.parent_options(company + ours + others, query="", my_team_ids={7})
    groups = opened["option_groups"]
    assert [g["label"]["text"] for g in groups] == ["Company and top level", "Your teams", "Other"]
    assert sum(len(g["options"]) for g in groups) == modals.OPTIONS_LIMIT
    assert groups[0]["options"][0]["text"]["text"] == "O-1 Goal 1" and groups[0]["options"][0]["value"] == "1"
    assert all(len(o["text"]["text"]) <= 75 for g in groups for o in g["options"])
    searched = modals.parent_options(others, query="xx")
    assert "option_groups" not in searched and len(searched["options"]) == modals.OPTIONS_LIMIT
    assert modals.parent_options([], query="") == {"options": []}
