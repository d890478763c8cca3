"""Fire times from APScheduler's CronTrigger across DST changes, periods, and the catch-up plan."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.digests.schedule import LATE_LIMIT, Rule, plan

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def fires(rule: Rule, start: datetime, n: int) -> list[datetime]:
    out = [rule.first_at_or_after(start)]
    while len(out) < n:
        out.append(rule.next_after(out[-1]))
    return out


@pytest.mark.parametrize(
    ("tz", "change", "utc_before", "utc_after"),
    [
        # Berlin: CET (+1) → CEST (+2) on 29 March 2026, back on 25 October 2026.
        (BERLIN, datetime(2026, 3, 26, tzinfo=UTC), "08:00", "07:00"),
        (BERLIN, datetime(2026, 10, 22, tzinfo=UTC), "07:00", "08:00"),
        # New York: EST (−5) → EDT (−4) on 8 March 2026, back on 1 November 2026.
        (NEW_YORK, datetime(2026, 3, 5, tzinfo=UTC), "14:00", "13:00"),
        (NEW_YORK, datetime(2026, 10, 29, tzinfo=UTC), "13:00", "14:00"),
    ],
)
def test_daily_nine_oclock_stays_nine_oclock_on_the_wall_across_dst(
    tz: ZoneInfo, change: datetime, utc_before: str, utc_after: str
) -> None:
    rule = Rule("daily", time(9, 0), tz)
    got = fires(rule, change, 8)
    local = [f.astimezone(tz) for f in got]
    assert [f"{t:%H:%M}" for t in local] == ["09:00"] * 8
    assert [t.date() for t in local] == [local[0].date() + timedelta(days=i) for i in range(8)]
    utc = [f"{f.astimezone(UTC):%H:%M}" for f in got]
    assert utc[0] == utc_before and utc[-1] == utc_after
    assert len(set(rule.period(f) for f in got)) == 8


@pytest.mark.parametrize("tz", [BERLIN, NEW_YORK])
def test_weekly_monday_is_seven_local_days_apart_through_both_changes(tz: ZoneInfo) -> None:
    rule = Rule("weekly", time(9, 30), tz, "mon")
    got = fires(rule, datetime(2026, 2, 20, tzinfo=UTC), 40)  # February → November
    local = [f.astimezone(tz) for f in got]
    assert all(t.weekday() == 0 and f"{t:%H:%M}" == "09:30" for t in local)
    gaps = {(b - a) for a, b in zip(got, got[1:], strict=False)}
    assert gaps == {timedelta(days=7), timedelta(days=7, hours=-1), timedelta(days=7, hours=1)}


def test_a_time_in_the_repeated_autumn_hour_is_one_period() -> None:
    """02:30 happens twice in Berlin on 25 Oct 2026; the trigger fires at both, the period is one."""
    rule = Rule("daily", time(2, 30), BERLIN)
    got = fires(rule, datetime(2026, 10, 24, 12, tzinfo=UTC), 3)
    assert [rule.period(f) for f in got] == ["2026-10-25", "2026-10-25", "2026-10-26"]
    # A bot down over both fire times sends that day once.
    p = plan(rule, got[0], got[1] + timedelta(minutes=5))
    assert p.send == got[1] and p.skipped == [] and p.next_run_at == got[2]


def test_a_time_in_the_skipped_spring_hour_fires_once_that_day() -> None:
    rule = Rule("daily", time(2, 30), NEW_YORK)
    got = fires(rule, datetime(2026, 3, 7, 12, tzinfo=UTC), 3)
    assert [rule.period(f) for f in got] == ["2026-03-08", "2026-03-09", "2026-03-10"]
    assert got[0].astimezone(NEW_YORK).strftime("%H:%M") == "03:30"  # 02:30 does not exist that day


def test_plan_sends_a_digest_one_hour_late_and_skips_one_eight_hours_late() -> None:
    rule = Rule("daily", time(9, 0), BERLIN)
    fire = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # 09:00 CET
    late = plan(rule, fire, fire + timedelta(hours=1))
    assert late.send == fire and late.skipped == [] and late.next_run_at == fire + timedelta(days=1)
    too_late = plan(rule, fire, fire + timedelta(hours=8))
    assert too_late.send is None and too_late.skipped == [fire]
    assert plan(rule, fire, fire + LATE_LIMIT - timedelta(seconds=1)).send == fire
    assert plan(rule, fire, fire + LATE_LIMIT).send is None


def test_plan_after_days_down_sends_only_the_latest_period_in_time() -> None:
    rule = Rule("daily", time(9, 0), BERLIN)
    fire = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    now = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)  # three days later, 2 h after that day's fire
    p = plan(rule, fire, now)
    assert p.send == datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    assert [rule.period(f) for f in p.skipped] == ["2026-12-01", "2026-12-02", "2026-12-03"]
    # Down for a year: only the last week's fire times are walked.
    p = plan(rule, fire - timedelta(days=365), now)
    assert (
        p.send is not None
        and len(p.skipped) <= 8
        and p.next_run_at == datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    )


def test_plan_before_the_fire_time_does_nothing() -> None:
    rule = Rule("weekly", time(9, 0), NEW_YORK, "fri")
    fire = rule.first_at_or_after(datetime(2026, 12, 1, tzinfo=UTC))
    p = plan(rule, fire, fire - timedelta(seconds=1))
    assert p.send is None and p.skipped == [] and p.next_run_at == fire


def test_latest_fire_at_or_before_and_describe() -> None:
    rule = Rule("weekly", time(10, 0), ZoneInfo("Asia/Tokyo"), "mon")
    monday_10_tokyo = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    assert rule.latest_at_or_before(monday_10_tokyo) == monday_10_tokyo
    assert rule.latest_at_or_before(monday_10_tokyo - timedelta(seconds=1)) == monday_10_tokyo - timedelta(
        days=7
    )
    assert rule.describe() == "weekly Mon 10:00 Asia/Tokyo"


@pytest.mark.parametrize("tz", [BERLIN, NEW_YORK])
@pytest.mark.parametrize("at", [time(0, 0), time(0, 30), time(1, 30), time(2, 30), time(3, 0), time(23, 30)])
def test_a_daily_digest_has_exactly_one_period_per_local_day_for_a_whole_year(tz: ZoneInfo, at: time) -> None:
    """Including the days next to both DST changes, where APScheduler 3.11 alone skips a day for
    times before the change hour (a daily 00:30 in Berlin would miss 30 March 2026)."""
    rule = Rule("daily", at, tz)
    got = fires(rule, datetime(2026, 1, 1, tzinfo=UTC), 400)
    periods = sorted({rule.period(f) for f in got})
    first = datetime.fromisoformat(periods[0]).date()
    assert periods == [(first + timedelta(days=i)).isoformat() for i in range(len(periods))]
    assert len(periods) >= 365
    assert all(b > a for a, b in zip(got, got[1:], strict=False))


def test_a_weekly_sunday_midnight_digest_is_not_a_week_late_after_the_spring_change() -> None:
    rule = Rule("weekly", time(0, 0), BERLIN, "sun")
    got = fires(rule, datetime(2026, 3, 20, tzinfo=UTC), 3)
    assert [rule.period(f) for f in got] == ["2026-03-22", "2026-03-29", "2026-04-05"]
