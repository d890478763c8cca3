"""Status people believe, weights and check-in values: the rules of docs/okrs.md as tables of cases.

Each row is one situation a person would recognise; the comment says what the old rule showed
where it differs (the reason the rule changed).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.common.errors import UserError
from bot.okrs import checks, scoring
from bot.okrs.checks import Mode
from bot.okrs.scoring import KrState, Status
from storage.models.okrs import KeyResult, Objective

START = datetime(2026, 11, 1, tzinfo=UTC)  # cycle 2026-11: Nov 1 – Dec 31 (61 days)
END = datetime(2027, 1, 1, tzinfo=UTC)
DAYS = (END - START).days


def at(share: float) -> datetime:
    """The instant when `share` of cycle 2026-11 has passed."""
    return START + (END - START) * share


def kr(
    *,
    start: float = 0,
    target: float = 100,
    current: float = 0,
    created: datetime = START,
    checked_in: datetime | None = None,
    confidence: int | None = None,
    confidence_at: datetime | None = None,
    weight: float | None = None,
) -> KeyResult:
    return KeyResult(
        id=1,
        objective_id=1,
        title="kr",
        start=start,
        target=target,
        current=current,
        weight=weight,
        created_at=created,
        last_checkin_at=checked_in,
        confidence=confidence,
        confidence_at=confidence_at or (checked_in if confidence is not None else None),
    )


STATUS_CASES = [
    # (what, now as a share of the cycle, the KR, expected status)
    ("created mid-cycle, nothing yet (was: off track)", 0.5, kr(created=at(0.5)), Status.NOT_STARTED),
    (
        "created mid-cycle, a first check-in a day later",
        0.52,
        kr(created=at(0.5), current=5, checked_in=at(0.52)),
        Status.ON_TRACK,
    ),
    (
        "created mid-cycle, a quarter of its own time gone, no check-in",
        0.5 + 0.5 * 0.3,
        kr(created=at(0.5)),
        Status.AT_RISK,
    ),
    ("no check-in, a fifth of the cycle gone", 0.2, kr(), Status.NOT_STARTED),
    ("no check-in, 30% of the cycle gone", 0.3, kr(), Status.AT_RISK),
    ("no check-in, half the cycle gone", 0.5, kr(), Status.OFF_TRACK),
    ("checked in early at 0 (it started: it has a colour)", 0.1, kr(checked_in=at(0.05)), Status.ON_TRACK),
    (
        "at the target with a low old confidence (was: off track)",
        0.6,
        kr(current=100, checked_in=at(0.55), confidence=2),
        Status.DONE,
    ),
    ("past the target", 0.3, kr(current=130, checked_in=at(0.3)), Status.DONE),
    (
        "a decreasing KR at its target",
        0.4,
        kr(start=300, target=100, current=100, checked_in=at(0.4)),
        Status.DONE,
    ),
    (
        "on pace, a confidence of 3 given 15 days ago (was: off track)",
        0.6,
        kr(current=55, checked_in=at(0.6) - timedelta(days=15), confidence=3),
        Status.ON_TRACK,
    ),
    (
        "on pace, a confidence of 3 given 2 days ago",
        0.6,
        kr(current=55, checked_in=at(0.6) - timedelta(days=2), confidence=3),
        Status.OFF_TRACK,
    ),
    (
        "on pace, a confidence of 5 given 14 days ago (still counts)",
        0.6,
        kr(current=55, checked_in=at(0.6) - timedelta(days=14), confidence=5),
        Status.AT_RISK,
    ),
    ("behind at the end of the cycle", 1.0, kr(current=70, checked_in=at(0.9)), Status.AT_RISK),
    ("far behind at the end", 1.0, kr(current=40, checked_in=at(0.9)), Status.OFF_TRACK),
]


@pytest.mark.parametrize(
    ("what", "share", "key_result", "expected"), STATUS_CASES, ids=[c[0] for c in STATUS_CASES]
)
def test_kr_status(what: str, share: float, key_result: KeyResult, expected: Status) -> None:
    clock = scoring.Clock(months=2, fixed_now=at(share))
    state = scoring.kr_state(key_result, clock.moment("2026-11"))
    assert state.status == expected, what


def test_a_stale_confidence_is_shown_as_not_counted() -> None:
    clock = scoring.Clock(months=2, fixed_now=at(0.6))
    state = scoring.kr_state(kr(current=55, checked_in=at(0.3), confidence=3), clock.moment("2026-11"))
    assert (state.confidence, state.stale_confidence) == (None, True)


def _states(*pairs: tuple[Status, float]) -> list[KrState]:
    return [KrState(kr=kr(), progress=0.5, status=status, weight=w) for status, w in pairs]


OBJECTIVE_CASES = [
    ("no key results", [], None),
    ("every KR done", _states((Status.DONE, 0.5), (Status.DONE, 0.5)), Status.DONE),
    ("none started", _states((Status.NOT_STARTED, 0.5), (Status.NOT_STARTED, 0.5)), Status.NOT_STARTED),
    (
        "half on track, half off track",
        _states((Status.ON_TRACK, 0.5), (Status.OFF_TRACK, 0.5)),
        Status.AT_RISK,
    ),
    ("the heavy KR off track", _states((Status.OFF_TRACK, 0.8), (Status.ON_TRACK, 0.2)), Status.OFF_TRACK),
    ("a light KR off track", _states((Status.OFF_TRACK, 0.2), (Status.ON_TRACK, 0.8)), Status.ON_TRACK),
    (
        "one of three at risk",
        _states(*[(Status.ON_TRACK, 1 / 3)] * 2, (Status.AT_RISK, 1 / 3)),
        Status.ON_TRACK,
    ),
    ("done and at risk", _states((Status.DONE, 0.5), (Status.AT_RISK, 0.5)), Status.AT_RISK),
    (
        "a KR not started does not dilute the others",
        _states((Status.NOT_STARTED, 0.5), (Status.OFF_TRACK, 0.5)),
        Status.OFF_TRACK,
    ),
]


@pytest.mark.parametrize(("what", "states", "expected"), OBJECTIVE_CASES, ids=[c[0] for c in OBJECTIVE_CASES])
def test_objective_status_follows_its_krs_and_weights(
    what: str, states: list[KrState], expected: Status | None
) -> None:
    assert scoring.objective_status(states) == expected, what


WEIGHT_CASES = [
    ("none set: equal shares", [None, None], [0.5, 0.5], None),
    ("one set: the others share the rest", [0.5, None, None], [0.5, 0.25, 0.25], None),
    ("all set, summing to 1", [0.6, 0.4], [0.6, 0.4], None),
    ("all set, summing to 0.8", [0.5, 0.3], [0.625, 0.375], "weights sum to 0.8, not 1"),
    ("set ones take it all", [1.0, None], [1.0, 0.0], "1 key result without a weight counts for nothing"),
    ("all zero", [0.0, 0.0], [0.5, 0.5], "every weight is 0"),
    ("old relative weights (3 and 1) keep their shares", [3.0, 1.0], [0.75, 0.25], "weights sum to 4, not 1"),
]


@pytest.mark.parametrize(
    ("what", "weights", "shares", "warning"), WEIGHT_CASES, ids=[c[0] for c in WEIGHT_CASES]
)
def test_effective_weights(
    what: str, weights: list[float | None], shares: list[float], warning: str | None
) -> None:
    got, note = scoring.effective_weights(weights)
    assert got == pytest.approx(shares) and sum(got) == pytest.approx(1.0)
    if warning is None:
        assert note is None
    else:
        assert note is not None and warning in note


def test_the_objective_rolls_up_with_normalised_weights() -> None:
    clock = scoring.Clock(months=2, fixed_now=at(0.5))
    objective = Objective(id=1, cycle_key="2026-11", owner_id="U0LENA", title="o")
    krs = [
        kr(current=100, checked_in=at(0.4), weight=0.6),  # done
        kr(current=0, checked_in=at(0.4), weight=0.2),  # off track
    ]
    state = scoring.objective_state(objective, None, krs, clock)
    assert state.progress == pytest.approx(0.75)  # 0.6/0.8 × 1 + 0.2/0.8 × 0
    assert state.weights_warning == "weights sum to 0.8, not 1 — the roll-up scales them to 1"
    # A quarter of the (normalised) weight off track is 0.25 × 2 = 0.5 of trouble: at risk.
    assert state.status == Status.AT_RISK


VALUE_CASES = [
    # (KR start, target, unit, value, refused?, note expected)
    (28, 40, "%", -50, "cannot be below 0%", None),
    (28, 40, "%", 1000, "cannot be above 100%", None),
    (28, 40, "%", 50, None, "past the target 40%"),
    (28, 40, "%", 20, None, "behind the start 28%"),
    (28, 40, "%", 35, None, None),
    (98, 110, "%", 120, None, "past the target 110%"),  # retention above 100% is real
    (0, 6, "", -1, "a count, which cannot be below 0", None),
    (0, 6, "", 9, None, "past the target 6"),
    (12, 30, "points", -5, None, "behind the start 12 points"),  # an NPS can be negative
    (3.9, 4.5, "/5", 6, "a rating out of 5, which cannot be above 5 /5", None),
    (900, 300, "ms", -10, "cannot be below 0 ms", None),
    (900, 300, "ms", 200, None, "past the target 300 ms"),
    (140, 90, "$", 150, None, "behind the start $140"),
    (0.4, 0.6, "", -1, None, "behind the start 0.4"),  # a unit-less ratio: nothing assumed
]


@pytest.mark.parametrize(("start", "target", "unit", "value", "refused", "note"), VALUE_CASES)
def test_checkin_values_by_unit(
    start: float, target: float, unit: str, value: float, refused: str | None, note: str | None
) -> None:
    if refused:
        with pytest.raises(UserError, match=refused.replace("(", r"\(").replace("/", "/")):
            checks.check_value(start=start, target=target, unit=unit, value=value)
        return
    notes = checks.check_value(start=start, target=target, unit=unit, value=value)
    assert (note in notes[0]) if note else notes == []


@pytest.mark.parametrize(
    ("unit", "typed", "mode", "value", "understood"),
    [
        ("%", 60, Mode.PERCENT, 60, "`60%` is the value 60%"),
        ("%", 60, Mode.VALUE, 60, None),
        ("%", 50, Mode.PROGRESS, 34, "50% of the way from 28% to 40%: 34%"),
        (
            "",
            50,
            Mode.PERCENT,
            34,
            "read as 50% of the way from 28 to 40: 34 (this key result is not measured in %)",
        ),
        ("", 50, Mode.PROGRESS, 34, "50% of the way from 28 to 40: 34"),
    ],
)
def test_percent_is_the_unit_on_percent_krs_and_progress_is_its_own_word(
    unit: str, typed: float, mode: Mode, value: float, understood: str | None
) -> None:
    resolved = checks.resolve(start=28, target=40, unit=unit, number=typed, mode=mode)
    assert resolved.value == pytest.approx(value)
    assert (understood in (resolved.understood or "")) if understood else resolved.understood is None


@pytest.mark.parametrize(
    ("typed", "title"),
    [
        ('"Grow revenue"', "Grow revenue"),
        ("“增长”", "增长"),
        ("KR 2", "KR 2"),
        ("Grow market share", "Grow market share"),
    ],
)
def test_titles(typed: str, title: str) -> None:
    assert checks.clean_title(typed, what="objective title") == title


@pytest.mark.parametrize("typed", ['"', "“”", "---", "…", " \u200b "])
def test_titles_need_a_letter_or_digit(typed: str) -> None:
    with pytest.raises(UserError, match="has no letters or digits|is empty"):
        checks.clean_title(typed, what="objective title")


@pytest.mark.parametrize(
    ("typed", "weight"), [("0.3", 0.3), ("30%", 0.3), ("1", 1.0), ("0", 0.0), ("", None)]
)
def test_weights_people_type(typed: str, weight: float | None) -> None:
    assert checks.parse_weight(typed) == weight


@pytest.mark.parametrize("typed", ["1.5", "-0.1", "150%", "lots"])
def test_weights_outside_0_to_1_are_refused(typed: str) -> None:
    with pytest.raises(UserError, match="from 0 to 1|not a number"):
        checks.parse_weight(typed)
