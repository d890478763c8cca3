"""SLA arithmetic in business hours: a weekend, a holiday-free week, time zones, pauses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.requests import service, sla
from bot.teams import hours as bt
from bot.teams import service as teams
from storage.db import Database
from storage.models.requests import ServiceRequest
from tests.requests.support import MONDAY_BERLIN, MONDAY_SGT, load_teams, team

SGT = bt.parse_hours("Mon-Fri 09:00-18:00 Asia/Singapore")
BERLIN = bt.parse_hours("Mon-Fri 09:00-18:00 Europe/Berlin")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_adding_business_time_skips_the_weekend() -> None:
    friday_5pm_sgt = utc(2026, 12, 4, 9, 0)  # Fri 17:00 in Singapore
    # 1 hour on Friday, 3 on Monday from 09:00 → Monday 12:00 SGT = 04:00 UTC.
    assert bt.add(friday_5pm_sgt, timedelta(hours=4), SGT) == utc(2026, 12, 7, 4, 0)
    assert bt.elapsed(friday_5pm_sgt, utc(2026, 12, 7, 4, 0), SGT) == timedelta(hours=4)
    # Saturday and Sunday count nothing.
    assert bt.elapsed(utc(2026, 12, 5, 2, 0), utc(2026, 12, 6, 12, 0), SGT) == timedelta(0)


def test_a_holiday_free_week_of_working_days() -> None:
    # 3d with 9-hour days is 27 hours: Monday 09:00 → Wednesday 18:00 (Singapore).
    three_days = bt.parse_duration("3d").within(SGT)
    assert three_days == timedelta(hours=27)
    assert bt.add(MONDAY_SGT, three_days, SGT) == utc(2026, 12, 9, 10, 0)
    # A full week Monday 09:00 → next Monday 09:00 holds five working days.
    assert bt.elapsed(MONDAY_SGT, MONDAY_SGT + timedelta(days=7), SGT) == timedelta(hours=45)


def test_the_same_instant_counts_differently_in_each_zone() -> None:
    # 02:00 UTC Monday is 10:00 in Singapore (an hour of work done) and 03:00 in Berlin (none yet).
    at = utc(2026, 12, 7, 2, 0)
    assert bt.elapsed(MONDAY_SGT, at, SGT) == timedelta(hours=1)
    assert bt.elapsed(utc(2026, 12, 7, 0, 0), at, BERLIN) == timedelta(0)
    assert bt.add(at, timedelta(hours=1), BERLIN) == utc(2026, 12, 7, 9, 0)  # 10:00 Berlin
    # Around the clock when a team sets no hours.
    assert bt.add(at, timedelta(hours=30), None) == at + timedelta(hours=30)


def test_due_times_warnings_and_a_pause(db: Database) -> None:
    load_teams(db)
    legal = team(db, "legal")
    with db.session() as s:
        change = service.create(
            db_session=s, team=legal, requester_id="U0LENA", summary="DPA review", now=MONDAY_SGT
        )
        req = change.request
        # First response 4h → Monday 13:00 SGT, warned at 80% (3h12m) → 12:12.
        assert req.first_response_due == utc(2026, 12, 7, 5, 0)
        assert req.first_response_warn_at == utc(2026, 12, 7, 4, 12)
        # Resolution 3d = 27h → Wednesday 18:00 SGT; warning at 21.6h → Wednesday 12:36.
        assert req.resolution_due == utc(2026, 12, 9, 10, 0)
        assert req.resolution_warn_at == utc(2026, 12, 9, 4, 36)
        assert req.next_check_at == req.first_response_warn_at
        rid = req.id or 0
        # Claimed Monday 10:00: first response done; in progress.
        service.claim(
            db_session=s,
            request_id=rid,
            actor_id="U0AMARA",
            is_admin=False,
            now=MONDAY_SGT + timedelta(hours=1),
        )
        # Monday 18:00 SGT (9h used) it waits on the requester over the weekend-free week…
        service.wait(
            db_session=s,
            request_id=rid,
            actor_id="U0AMARA",
            is_admin=False,
            note="Send the DPA",
            now=utc(2026, 12, 7, 10, 0),
        )
        req = s.get(ServiceRequest, rid)
        assert req is not None and req.resolution_due is None and req.resolution_used_s == 9 * 3600
        # …until Thursday 09:00, when the requester answers: 18h are left → Friday 18:00 SGT.
        service.comment(
            db_session=s,
            request_id=rid,
            actor_id="U0LENA",
            is_admin=False,
            text="Attached",
            now=utc(2026, 12, 10, 1, 0),
        )
        req = s.get(ServiceRequest, rid)
        assert req is not None and req.status == "in_progress"
        assert req.resolution_due == utc(2026, 12, 11, 10, 0)
        left = sla.resolution_left(req, teams.slas_of(legal), utc(2026, 12, 10, 2, 0))
        assert left == timedelta(hours=17)


def test_a_pause_over_a_weekend_in_berlin(db: Database) -> None:
    load_teams(db)
    analytics = team(db, "analytics")
    friday_noon = utc(2026, 12, 11, 11, 0)  # Fri 12:00 Berlin
    with db.session() as s:
        rid = (
            service.create(
                db_session=s, team=analytics, requester_id="U0LENA", summary="Funnel", now=MONDAY_BERLIN
            ).request.id
            or 0
        )
        # 2d = 18h from Monday 09:00 → Tuesday 18:00 Berlin.
        assert s.get(ServiceRequest, rid).resolution_due == utc(2026, 12, 8, 17, 0)  # type: ignore[union-attr]
        service.wait(
            db_session=s,
            request_id=rid,
            actor_id="U0SOFIA",
            is_admin=False,
            note="?",
            now=MONDAY_BERLIN + timedelta(hours=3),
        )
        service.comment(
            db_session=s, request_id=rid, actor_id="U0LENA", is_admin=False, text="!", now=friday_noon
        )
        req = s.get(ServiceRequest, rid)
        # 3h used before the pause, 15h left from Friday 12:00: 6h Friday, 9h Monday → Monday 18:00.
        assert req is not None and req.resolution_due == utc(2026, 12, 14, 17, 0)
        service.resolve(
            db_session=s, request_id=rid, actor_id="U0SOFIA", is_admin=False, now=utc(2026, 12, 14, 9, 0)
        )
        req = s.get(ServiceRequest, rid)
        assert req is not None and sla.resolution_time(req) == timedelta(hours=3 + 6 + 1)
