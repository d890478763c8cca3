"""The OKR service: progress math, cycles and status, permissions, validation, search and the tree."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.common.errors import Forbidden, NotFound, UserError
from bot.okrs import checks, queries, scoring
from bot.okrs import service as svc
from bot.okrs.checks import Mode
from bot.okrs.scoring import Status
from storage.db import Database
from storage.models import AuditLog, Team
from storage.models.okrs import CheckIn, KeyResult, Objective

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
CLOCK = scoring.Clock(months=2, tz=ZoneInfo("UTC"), fixed_now=NOW)


@pytest.fixture
def org(db: Database) -> dict[str, int]:
    """Maya's company objective with Lena's aligned team objective and one KR each."""
    with db.session() as s:
        growth = Team(key="growth", name="Growth")
        s.add(growth)
        s.flush()
        company = svc.create_objective(
            db_session=s, actor_id="U0MAYA", clock=CLOCK, title="Grow the business"
        )
        team_obj = svc.create_objective(
            db_session=s,
            actor_id="U0LENA",
            clock=CLOCK,
            title="Activate teams",
            team=growth,
            parent_id=company.id,
        )
        kr = svc.add_key_result(
            db_session=s,
            clock=CLOCK,
            actor_id="U0LENA",
            is_admin=False,
            objective_id=team_obj.id or 0,
            title="Activated",
            target=50,
        )
        return {
            "company": company.id or 0,
            "team": team_obj.id or 0,
            "kr": kr.id or 0,
            "growth": growth.id or 0,
        }


# ---- progress and score ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "target", "current", "expected"),
    [
        (0, 100, 25, 0.25),
        (10, 50, 30, 0.5),
        (300, 100, 250, 0.25),  # latency 300 → 100 ms: a decreasing target
        (300, 100, 100, 1.0),
        (300, 100, 50, 1.0),  # beyond the target is clamped
        (300, 100, 400, 0.0),  # worse than the start is clamped
        (0, 100, -5, 0.0),
        (0, 100, 130, 1.0),
    ],
)
def test_kr_progress(start: float, target: float, current: float, expected: float) -> None:
    assert scoring.kr_progress(start=start, target=target, current=current) == pytest.approx(expected)


def test_objective_progress_is_the_weighted_mean() -> None:
    krs = [
        KeyResult(objective_id=1, title="a", start=0, target=100, current=100, weight=3),
        KeyResult(objective_id=1, title="b", start=300, target=100, current=300, weight=1),
    ]
    assert scoring.objective_progress(krs) == pytest.approx(0.75)
    assert scoring.score(0.75) == 0.8
    assert scoring.objective_progress([]) == 0.0


# ---- cycles and status -----------------------------------------------------------------------


def test_cycles_are_aligned_to_january() -> None:
    assert scoring.cycle_for(date(2026, 11, 22), 2).key == "2026-11"
    assert scoring.cycle_for(date(2026, 12, 31), 2).ends_on == date(2027, 1, 1)
    assert scoring.cycle_for(date(2026, 2, 28), 2).key == "2026-01"
    assert scoring.cycle_for(date(2026, 8, 1), 3).key == "2026-07"
    with pytest.raises(UserError, match="start of a cycle"):
        scoring.cycle_span("2026-12", 2)
    with pytest.raises(UserError, match="not a cycle"):
        scoring.cycle_span("Nov 2026", 2)


def test_cycle_starts_at_midnight_in_the_company_zone() -> None:
    span = scoring.cycle_span("2026-11", 2)
    tz = ZoneInfo("Asia/Tokyo")
    start = datetime(2026, 11, 1, tzinfo=tz)
    assert span.elapsed(start - timedelta(minutes=1), tz) == 0.0
    assert span.elapsed(start + timedelta(days=61) / 2, tz) == pytest.approx(0.5)
    assert span.days_left(datetime(2026, 12, 31, 12, tzinfo=tz), tz) == 1


def test_status_at_the_start_of_a_cycle() -> None:
    # Nothing is behind yet: only a low confidence flags a KR.
    assert scoring.status_for(progress=0.0, elapsed=0.0, confidence=None) == Status.ON_TRACK
    assert scoring.status_for(progress=0.0, elapsed=0.0, confidence=5) == Status.AT_RISK
    assert scoring.status_for(progress=0.0, elapsed=0.0, confidence=2) == Status.OFF_TRACK


def test_status_at_the_end_of_a_cycle() -> None:
    assert scoring.status_for(progress=1.0, elapsed=1.0, confidence=None) == Status.ON_TRACK
    assert scoring.status_for(progress=0.9, elapsed=1.0, confidence=9) == Status.ON_TRACK
    assert scoring.status_for(progress=0.7, elapsed=1.0, confidence=None) == Status.AT_RISK
    assert scoring.status_for(progress=0.4, elapsed=1.0, confidence=10) == Status.OFF_TRACK


def test_status_uses_the_cycle_clock(db: Database, org: dict[str, int]) -> None:
    """The same KR is on track on the first day and off track on the last."""
    first = scoring.Clock(months=2, fixed_now=datetime(2026, 11, 1, 1, tzinfo=UTC))
    last = scoring.Clock(months=2, fixed_now=datetime(2026, 12, 31, 23, tzinfo=UTC))
    with db.session() as s:
        svc.check_in(db_session=s, clock=CLOCK, actor_id="U0LENA", is_admin=False, kr_id=org["kr"], value=10)
        early = svc.objectives_of(db_session=s, owner_id="U0LENA", clock=first)[0]
        late = svc.objectives_of(db_session=s, owner_id="U0LENA", clock=last)[0]
    assert early.krs[0].status == Status.ON_TRACK
    assert late.krs[0].status == Status.OFF_TRACK


# ---- permissions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "is_admin", "allowed"),
    [
        ("U0LENA", False, True),  # the owner
        ("U0MAYA", False, True),  # the owner of the parent objective
        ("U0TOM", True, True),  # an admin
        ("U0OMAR", False, False),  # a teammate is not enough
        ("U0TOM", False, False),
    ],
)
def test_permission_matrix(
    db: Database, org: dict[str, int], actor: str, is_admin: bool, allowed: bool
) -> None:
    def attempt() -> None:
        with db.session() as s:
            svc.check_in(
                db_session=s,
                clock=CLOCK,
                actor_id=actor,
                is_admin=is_admin,
                kr_id=org["kr"],
                value=20,
                confidence=7,
            )

    if allowed:
        attempt()
    else:
        with pytest.raises(Forbidden, match="Only <@U0LENA>"):
            attempt()
    with db.session() as s:
        kr = s.get(KeyResult, org["kr"])
        assert kr is not None
        assert kr.current == (20 if allowed else 0)
        assert len(s.exec(select(CheckIn)).all()) == (1 if allowed else 0)
        audits = s.exec(select(AuditLog).where(AuditLog.action == "okr.checkin")).all()
        assert [a.actor_id for a in audits] == ([actor] if allowed else [])


def test_adding_a_kr_needs_edit_rights(db: Database, org: dict[str, int]) -> None:
    with db.session() as s, pytest.raises(Forbidden):
        svc.add_key_result(
            db_session=s,
            clock=CLOCK,
            actor_id="U0OMAR",
            is_admin=False,
            objective_id=org["company"],
            title="x",
            target=1,
        )
    with db.session() as s:
        assert s.exec(select(KeyResult).where(KeyResult.objective_id == org["company"])).all() == []


def test_the_parent_owner_rights_do_not_reach_the_grandparent(db: Database, org: dict[str, int]) -> None:
    with db.session() as s:
        company = s.get(Objective, org["company"])
        assert company is not None
        assert not svc.can_edit(db_session=s, objective=company, actor_id="U0LENA", is_admin=False)


# ---- check-ins -------------------------------------------------------------------------------


def test_checkin_history_is_never_overwritten(db: Database, org: dict[str, int]) -> None:
    with db.session() as s:
        for value, conf in ((10, 6), (20, 7), (15, 4)):
            svc.check_in(
                db_session=s,
                clock=CLOCK,
                actor_id="U0LENA",
                is_admin=False,
                kr_id=org["kr"],
                value=value,
                confidence=conf,
            )
    with db.session() as s:
        h = queries.history(db_session=s, kr_id=org["kr"], clock=CLOCK)
    assert [c.value for c in h.checkins] == [15, 20, 10]
    assert h.total == 3
    assert (h.kr.current, h.kr.confidence) == (15, 4)


def test_a_backdated_checkin_does_not_replace_the_latest_value(db: Database, org: dict[str, int]) -> None:
    with db.session() as s:
        svc.check_in(db_session=s, clock=CLOCK, actor_id="U0LENA", is_admin=False, kr_id=org["kr"], value=30)
        svc.check_in(
            db_session=s,
            clock=CLOCK,
            actor_id="U0LENA",
            is_admin=False,
            kr_id=org["kr"],
            value=5,
            at=NOW - timedelta(days=30),
        )
    with db.session() as s:
        kr = s.get(KeyResult, org["kr"])
        assert kr is not None and kr.current == 30


def test_percent_is_the_unit_on_a_percent_kr_and_progress_is_a_share_of_the_way(
    db: Database, org: dict[str, int]
) -> None:
    """`60%` on a KR in ms is 60% of the way (it cannot be a value there); on a KR in % it is the
    value; `progress:` is a share of the way on both — and the result says which was understood."""
    with db.session() as s:
        kr = svc.add_key_result(
            db_session=s,
            clock=CLOCK,
            actor_id="U0LENA",
            is_admin=False,
            objective_id=org["team"],
            title="p95",
            start=300,
            target=100,
            unit="ms",
        )
        pct = svc.add_key_result(
            db_session=s,
            clock=CLOCK,
            actor_id="U0LENA",
            is_admin=False,
            objective_id=org["team"],
            title="share",
            start=28,
            target=40,
            unit="%",
        )
        way = svc.check_in(
            db_session=s,
            clock=CLOCK,
            actor_id="U0LENA",
            is_admin=False,
            kr_id=kr.id or 0,
            value=60,
            mode=Mode.PERCENT,
        )
        assert kr.current == pytest.approx(180)
        assert "60% of the way from 300 ms to 100 ms: 180 ms" in (way.understood or "")
        unit = svc.check_in(
            db_session=s,
            clock=CLOCK,
            actor_id="U0LENA",
            is_admin=False,
            kr_id=pct.id or 0,
            value=35,
            mode=Mode.PERCENT,
        )
        assert pct.current == 35 and "is the value 35%" in (unit.understood or "")
        progress = svc.check_in(
            db_session=s,
            clock=CLOCK,
            actor_id="U0LENA",
            is_admin=False,
            kr_id=pct.id or 0,
            value=50,
            mode=Mode.PROGRESS,
        )
        assert pct.current == 34 and "50% of the way from 28% to 40%: 34%" in (progress.understood or "")
        plain = svc.check_in(
            db_session=s, clock=CLOCK, actor_id="U0LENA", is_admin=False, kr_id=pct.id or 0, value=36
        )
        assert pct.current == 36 and plain.understood is None and plain.notes == []


@pytest.mark.parametrize("confidence", [0, 11, -3])
def test_confidence_outside_1_to_10_is_refused(db: Database, org: dict[str, int], confidence: int) -> None:
    with db.session() as s, pytest.raises(UserError, match="outside 1–10"):
        svc.check_in(
            db_session=s,
            clock=CLOCK,
            actor_id="U0LENA",
            is_admin=False,
            kr_id=org["kr"],
            value=1,
            confidence=confidence,
        )
    with db.session() as s:
        assert s.exec(select(CheckIn)).all() == []


def test_unknown_ids_are_named(db: Database, org: dict[str, int]) -> None:
    with db.session() as s:
        with pytest.raises(NotFound, match="no key result KR-999"):
            svc.check_in(db_session=s, clock=CLOCK, actor_id="U0LENA", is_admin=False, kr_id=999, value=1)
        with pytest.raises(NotFound, match="no objective O-777"):
            svc.objective_detail(db_session=s, objective_id=777, clock=CLOCK)
        with pytest.raises(NotFound, match="no parent objective O-55"):
            svc.create_objective(db_session=s, actor_id="U0LENA", clock=CLOCK, title="x", parent_id=55)


@pytest.mark.parametrize("text", ["abc", "", "12x", "nan", "inf", "1e400"])
def test_values_that_are_not_numbers(text: str) -> None:
    with pytest.raises(UserError, match="not a number|out of range"):
        checks.parse_number(text)


def test_numbers_people_type() -> None:
    assert checks.parse_number("1,200") == 1200
    assert checks.parse_number("-3.5") == -3.5
    assert checks.parse_number(" 42 ") == 42


# ---- validation of objectives and KRs --------------------------------------------------------


def test_kr_target_equal_to_start_is_refused(db: Database, org: dict[str, int]) -> None:
    with db.session() as s, pytest.raises(UserError, match="target equals the start"):
        svc.add_key_result(
            db_session=s,
            clock=CLOCK,
            actor_id="U0LENA",
            is_admin=False,
            objective_id=org["team"],
            title="flat",
            start=5,
            target=5,
        )


def test_titles_empty_or_too_long(db: Database) -> None:
    with db.session() as s:
        with pytest.raises(UserError, match="is 201 characters long; the limit is 200"):
            svc.create_objective(db_session=s, actor_id="U0LENA", clock=CLOCK, title="x" * 201)
        with pytest.raises(UserError, match="empty"):
            svc.create_objective(db_session=s, actor_id="U0LENA", clock=CLOCK, title=" \u200b\t ")
        ok = svc.create_objective(db_session=s, actor_id="U0LENA", clock=CLOCK, title="é" * 200)
        assert len(ok.title) == 200


def test_a_parent_in_another_cycle_is_refused(db: Database, org: dict[str, int]) -> None:
    with db.session() as s, pytest.raises(UserError, match="belongs to cycle 2026-11, not 2027-01"):
        svc.create_objective(
            db_session=s,
            actor_id="U0LENA",
            clock=CLOCK,
            title="Next",
            parent_id=org["company"],
            cycle_key="2027-01",
        )


def test_a_cycle_of_parents_is_refused(db: Database, org: dict[str, int]) -> None:
    with db.session() as s:
        child = svc.create_objective(
            db_session=s, actor_id="U0LENA", clock=CLOCK, title="Sub", parent_id=org["team"]
        )
        child_id = child.id or 0
    with db.session() as s, pytest.raises(UserError, match="cycle of parents"):
        svc.set_parent(
            db_session=s,
            clock=CLOCK,
            actor_id="U0MAYA",
            is_admin=True,
            objective_id=org["company"],
            parent_id=child_id,
        )
    with db.session() as s, pytest.raises(UserError, match="its own parent"):
        svc.set_parent(
            db_session=s,
            clock=CLOCK,
            actor_id="U0MAYA",
            is_admin=True,
            objective_id=org["company"],
            parent_id=org["company"],
        )
    with db.session() as s:
        company = s.get(Objective, org["company"])
        assert company is not None and company.parent_id is None


# ---- reading ---------------------------------------------------------------------------------


def test_search_covers_titles_and_checkin_notes(db: Database, org: dict[str, int]) -> None:
    with db.session() as s:
        svc.check_in(
            db_session=s,
            clock=CLOCK,
            actor_id="U0LENA",
            is_admin=False,
            kr_id=org["kr"],
            value=12,
            note="Onboarding emails shipped",
        )
    with db.session() as s:
        by_note, total = queries.search(db_session=s, words="onboarding EMAILS", clock=CLOCK)
        by_title, _ = queries.search(db_session=s, words="grow", clock=CLOCK)
        nothing, none = queries.search(db_session=s, words="onboarding payroll", clock=CLOCK)
        wildcard, _ = queries.search(db_session=s, words="%", clock=CLOCK)
    assert [h.state.objective.id for h in by_note] == [org["team"]] and total == 1
    assert "KR-1 note" in by_note[0].matched
    assert [h.state.objective.id for h in by_title] == [org["company"]]
    assert (nothing, none) == ([], 0)
    assert wildcard == []


def test_parent_candidates_rank_what_was_typed(db: Database, org: dict[str, int]) -> None:
    """The create modal's parent search: exact ref, then title prefix, then substring, then refs
    that start with the number; the empty search is the top of the tree, the asker's teams next."""
    company, team = org["company"], org["team"]  # O-1 "Grow the business", O-2 "Activate teams"

    def make(title: str, parent: int | None = None, *, growth: bool = False, cycle: str | None = None) -> int:
        with db.session() as s:
            squad = s.get(Team, org["growth"]) if growth else None
            o = svc.create_objective(
                db_session=s,
                actor_id="U0MAYA",
                clock=CLOCK,
                title=title,
                parent_id=parent,
                team=squad,
                cycle_key=cycle,
            )
            return o.id or 0

    reactivate = make("Reactivate churned teams", company)  # O-3: "activ" inside
    activation = make("Activation everywhere", team, growth=True)  # O-4: "activ" first
    active = make("Active customers double")  # O-5: company level, "activ" first
    wildcard = make("Payments at 100% uptime")  # O-6
    fillers = [make(f"Filler {i}", company) for i in range(6)]  # O-7 … O-12
    make("Activate last cycle", cycle="2026-09")  # another cycle: never offered

    def ids(query: str, **kw: object) -> list[int]:
        with db.session() as s:
            found = queries.parent_candidates(db_session=s, clock=CLOCK, query=query, **kw)
            return [o.id or 0 for o in found]

    # Title prefix before substring; company objectives first within a rank; the current cycle only.
    assert ids("activ") == ids("  ACTIV ") == [active, team, activation, reactivate]
    # A ref, with or without the dash, in any case, comes first — then refs starting with its number.
    assert ids("O-4") == ids("o4") == [activation]
    assert ids("O-1") == [company, 10, 11, 12] and set(fillers) >= {10, 11, 12}
    # The picker's own label, as a person would paste it.
    assert ids("O-2 activate t") == [team]
    # LIKE's wildcards are plain characters.
    assert ids("100%") == ids("%") == [wildcard]
    assert ids("_") == [] and ids("nothing like this") == []
    # No query: company objectives, then the asker's teams', then the rest; `limit` is kept.
    everything = ids("", team_ids={org["growth"]})
    assert everything == [company, active, wildcard, team, activation, reactivate, *fillers]
    assert ids("", limit=3) == [company, active, wildcard]


def test_tree_caps_and_counts(db: Database) -> None:
    """3 levels, 200 objectives: the caps bound what is loaded and the counts say what is hidden."""
    with db.session() as s:
        roots = [
            svc.create_objective(db_session=s, actor_id="U0MAYA", clock=CLOCK, title=f"Root {i}")
            for i in range(4)
        ]
        for r in roots:
            for j in range(9):
                child = svc.create_objective(
                    db_session=s, actor_id="U0LENA", clock=CLOCK, title=f"Child {j}", parent_id=r.id
                )
                for k in range(4):
                    svc.create_objective(
                        db_session=s, actor_id="U0OMAR", clock=CLOCK, title=f"Leaf {k}", parent_id=child.id
                    )
    with db.session() as s:
        t = queries.tree(db_session=s, clock=CLOCK, roots_shown=2, children_shown=6, grandchildren_shown=3)
    assert t.total == 4 + 36 + 144
    assert len(t.roots) == 4 and t.roots[0].descendants == 45
    assert t.roots[0].state is not None and t.roots[2].state is None  # not shown → not loaded
    assert t.roots[0].children[6].state is None


def test_at_risk_lists_the_lagging_krs(db: Database, org: dict[str, int]) -> None:
    with db.session() as s:
        svc.check_in(
            db_session=s,
            clock=CLOCK,
            actor_id="U0LENA",
            is_admin=False,
            kr_id=org["kr"],
            value=1,
            confidence=3,
        )
    with db.session() as s:
        items = queries.at_risk(db_session=s, clock=CLOCK)
        growth = s.get(Team, org["growth"])
        assert growth is not None
        team_items = queries.at_risk(db_session=s, clock=CLOCK, team=growth)
    assert [(i.state.kr.id, i.state.status) for i in items] == [(org["kr"], Status.OFF_TRACK)]
    assert len(team_items) == 1


def test_a_confidence_lasts_until_the_next_checkin(db: Database, org: dict[str, int]) -> None:
    """A check-in without a confidence ends the previous one: it is not carried forward."""
    with db.session() as s:
        svc.check_in(
            db_session=s,
            clock=CLOCK,
            actor_id="U0LENA",
            is_admin=False,
            kr_id=org["kr"],
            value=5,
            confidence=3,
        )
        kr = s.get(KeyResult, org["kr"])
        assert kr is not None and (kr.confidence, kr.confidence_at) == (3, NOW)
        later = scoring.Clock(months=2, fixed_now=NOW + timedelta(days=1))
        svc.check_in(db_session=s, clock=later, actor_id="U0LENA", is_admin=False, kr_id=org["kr"], value=6)
        assert (kr.confidence, kr.confidence_at, kr.last_checkin_at) == (None, None, later.now())
        state = svc.objective_detail(db_session=s, objective_id=org["team"], clock=later).krs[0]
    assert state.confidence is None and not state.stale_confidence


def test_stored_times_follow_the_clock(db: Database, org: dict[str, int]) -> None:
    """The app's clock, not the machine's, stamps what is stored (the demo's `clock` moves both)."""
    moved = scoring.Clock(months=2, fixed_now=datetime(2026, 12, 24, 9, tzinfo=UTC))
    with db.session() as s:
        objective = svc.create_objective(db_session=s, actor_id="U0LENA", clock=moved, title="Later")
        kr = svc.add_key_result(
            db_session=s,
            clock=moved,
            actor_id="U0LENA",
            is_admin=False,
            objective_id=objective.id or 0,
            title="k",
            target=3,
        )
        result = svc.check_in(
            db_session=s, clock=moved, actor_id="U0LENA", is_admin=False, kr_id=kr.id or 0, value=1
        )
    assert objective.created_at == kr.created_at == result.entry.at == moved.now()


def test_activity_for_digests(db: Database, org: dict[str, int]) -> None:
    """Check-ins since a time, top movers and KRs quiet for 7 days — what the digests list."""
    from bot.okrs import activity

    week_ago = NOW - timedelta(days=7)
    with db.session() as s:
        other = svc.add_key_result(
            db_session=s,
            clock=CLOCK,
            actor_id="U0LENA",
            is_admin=False,
            objective_id=org["team"],
            title="Quiet one",
            target=10,
        )
        svc.check_in(
            db_session=s,
            clock=CLOCK,
            actor_id="U0LENA",
            is_admin=False,
            kr_id=org["kr"],
            value=10,
            at=NOW - timedelta(days=10),
        )
        svc.check_in(
            db_session=s,
            clock=CLOCK,
            actor_id="U0LENA",
            is_admin=False,
            kr_id=org["kr"],
            value=30,
            at=NOW - timedelta(days=2),
        )
        other_id = other.id or 0
        other.created_at = NOW - timedelta(days=9)
    with db.session() as s:
        recent = activity.checkins_since(db_session=s, clock=CLOCK, since=week_ago)
        movers = activity.top_movers(db_session=s, clock=CLOCK, since=week_ago)
        quiet = activity.stale_key_results(db_session=s, clock=CLOCK)
    assert [e.checkin.value for e in recent] == [30]
    assert [(m.state.kr.id, round(m.before, 2), round(m.gain, 2)) for m in movers] == [(org["kr"], 0.2, 0.4)]
    assert [q.state.kr.id for q in quiet] == [other_id]  # created 9 days ago, never checked in


def test_activity_windows_for_digests(db: Database, org: dict[str, int]) -> None:
    """A digest's period `(since, until]`: check-ins with the value before each and a total, movers
    both ways by size of change, and progress per team with the KRs in trouble — all on the same
    status rules as `/okr` (a *done* or *not started* KR is never at risk)."""
    from bot.okrs import activity

    since, until = NOW - timedelta(days=1), NOW - timedelta(hours=1)
    with db.session() as s:
        growth = s.get(Team, org["growth"])
        extra = [
            svc.add_key_result(
                db_session=s,
                clock=CLOCK,
                actor_id="U0LENA",
                is_admin=False,
                objective_id=org["team"],
                title=title,
                target=10,
            ).id
            or 0
            for title in ("Fell back", "Finished", "Untouched")
        ]
        fell, finished, untouched = extra

        def check(kr_id: int, value: float, at: datetime, confidence: int | None = None) -> None:
            svc.check_in(
                db_session=s,
                clock=CLOCK,
                actor_id="U0LENA",
                is_admin=False,
                kr_id=kr_id,
                value=value,
                confidence=confidence,
                at=at,
            )

        check(org["kr"], 10, since - timedelta(days=3))
        check(org["kr"], 20, since)  # at `since`: the last digest's, not this one's
        check(org["kr"], 35, since + timedelta(hours=2), confidence=2)
        check(fell, 6, since - timedelta(days=2))
        check(fell, 4, since + timedelta(hours=3))
        check(finished, 10, since + timedelta(hours=4), confidence=1)  # at target: done
        check(fell, 5, until + timedelta(minutes=1))  # after the window
    with db.session() as s:
        page = activity.checkins_between(db_session=s, clock=CLOCK, since=since, until=until, limit=2)
        movers = activity.movers_between(db_session=s, clock=CLOCK, since=since, until=until)
        rising = activity.top_movers(db_session=s, clock=CLOCK, since=since)
        progress = activity.cycle_progress(db_session=s, clock=CLOCK)
        at_risk = queries.at_risk(db_session=s, clock=CLOCK)
        # The same movers from the cycle the caller already read, for the team and for nobody.
        reused = activity.movers_between(db_session=s, clock=CLOCK, since=since, until=until, cycle=progress)
        other = Team(key="other", name="Other")
        s.add(other)
        s.flush()
        none = activity.movers_between(
            db_session=s, clock=CLOCK, since=since, until=until, team=other, cycle=progress
        )
        in_team = activity.checkins_between(
            db_session=s, clock=CLOCK, since=since, until=until, team=growth, limit=10
        )
    assert page.total == 3 and len(in_team.items) == 3
    assert [(e.kr.id, e.checkin.value, e.previous) for e in page.items] == [
        (finished, 10, None),
        (fell, 4, 6),
    ]
    assert [e.previous for e in in_team.items][-1] == 20  # org KR: 20 → 35
    # Against the value at `since`, now: org 20 → 35 of 50 (+0.3); Fell back 6 → 5 (−0.1, its
    # later check-in counts: the digest says where a KR is now); Finished 0 → 10 (+1.0).
    assert [(m.state.kr.id, round(m.gain, 2)) for m in movers.items] == [
        (finished, 1.0),
        (org["kr"], 0.3),
        (fell, -0.1),
    ]
    assert movers.total == 3 and none.items == [] and none.total == 0
    assert [(m.state.kr.id, m.gain) for m in reused.items] == [(m.state.kr.id, m.gain) for m in movers.items]
    assert [m.state.kr.id for m in rising] == [finished, org["kr"]]  # top_movers: rises only
    states = {m.state.kr.id: m.state for m in movers.items}
    assert states[finished].status == Status.DONE  # confidence 1 does not make it at risk
    assert [(t.name, t.objectives) for t in progress.teams] == [("Growth", 1), ("No team", 1)]
    assert progress.teams[0].statuses == {
        Status.OFF_TRACK: 1,
        Status.ON_TRACK: 1,
        Status.DONE: 1,
        Status.NOT_STARTED: 1,
    }
    assert [r.state.kr.id for r in progress.risks] == [r.state.kr.id for r in at_risk] == [org["kr"]]
    assert untouched not in {r.state.kr.id for r in progress.risks}
