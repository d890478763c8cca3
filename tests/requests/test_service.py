"""The service on SQLite and PostgreSQL: ranking (English and Chinese), the lifecycle's rules,
per-team stats, and the hot-path queries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.common.errors import Forbidden, NotFound, UserError
from bot.requests import faq, queries, search, service
from storage.db import Database
from storage.migrate import upgrade
from tests.requests.support import MONDAY_BERLIN, load_teams, team


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path}/s.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    upgrade(url)
    db = Database(url)
    load_teams(db)
    search.invalidate()
    yield db
    db.dispose()


def test_tokens_cover_english_and_chinese() -> None:
    assert search.tokens("How long does the NDA take?") == ["long", "nda", "take"]
    assert search.tokens("合同审核") == ["合", "同", "审", "核", "合同", "同审", "审核"]
    assert "dpa" in search.tokens("DPA 审核 for PayFast")


def test_ranking_finds_the_closest_answers_first(database: Database) -> None:
    legal = team(database, "legal")
    with database.session() as s:
        found = faq.suggest(
            db_session=s,
            team=legal,
            text="how long will my contract review take",
            user_id="U0AMARA",
            is_admin=False,
        )
        assert found and found[0].title == "How long does a contract review take?"
        found = faq.suggest(db_session=s, team=legal, text="审核合同要多久", user_id="U0LENA", is_admin=False)
        assert found and found[0].title == "合同审核需要多长时间？"
        assert (
            faq.suggest(db_session=s, team=legal, text="parking permit", user_id="U0LENA", is_admin=False)
            == []
        )
    # A resolved request becomes a suggestion once the index sees it (no manual invalidation).
    with database.session() as s:
        rid = service.create(
            db_session=s,
            team=legal,
            requester_id="U0LENA",
            summary="Parking permit for the office",
            now=MONDAY_BERLIN,
        ).request.id
        service.resolve(
            db_session=s,
            request_id=rid or 0,
            actor_id="U0AMARA",
            is_admin=False,
            note="Facilities handle it",
            now=MONDAY_BERLIN,
        )
    with database.session() as s:
        lena = faq.suggest(db_session=s, team=legal, text="parking permit", user_id="U0LENA", is_admin=False)
        other = faq.suggest(db_session=s, team=legal, text="parking permit", user_id="U0OMAR", is_admin=False)
    assert [x.ref for x in lena] == [f"REQ-{rid}"] and lena[0].answer == "Facilities handle it"
    assert other == []  # legal is confidential


def test_lifecycle_rules(database: Database) -> None:
    analytics = team(database, "analytics")
    now = MONDAY_BERLIN
    with database.session() as s:
        rid = (
            service.create(
                db_session=s, team=analytics, requester_id="U0LENA", summary="Churn by plan", now=now
            ).request.id
            or 0
        )
        with pytest.raises(Forbidden):
            service.claim(db_session=s, request_id=rid, actor_id="U0OMAR", is_admin=False, now=now)
        with pytest.raises(UserError, match="not on Analytics"):
            service.assign(
                db_session=s,
                request_id=rid,
                actor_id="U0SOFIA",
                is_admin=False,
                assignee_id="U0OMAR",
                now=now,
            )
        change = service.claim(
            db_session=s, request_id=rid, actor_id="U0OMAR", is_admin=True, now=now
        )  # an admin may
        assert change.request.status == "in_progress"
        with pytest.raises(UserError, match="already yours"):
            service.claim(db_session=s, request_id=rid, actor_id="U0OMAR", is_admin=True, now=now)
        service.resolve(
            db_session=s, request_id=rid, actor_id="U0LENA", is_admin=False, now=now + timedelta(hours=1)
        )
        with pytest.raises(UserError, match="already resolved"):
            service.resolve(db_session=s, request_id=rid, actor_id="U0SOFIA", is_admin=False, now=now)
        with pytest.raises(Forbidden):
            service.rate(db_session=s, request_id=rid, actor_id="U0SOFIA", is_admin=False, rating=5, now=now)
        with pytest.raises(UserError, match="1 to 5"):
            service.rate(db_session=s, request_id=rid, actor_id="U0LENA", is_admin=False, rating=6, now=now)
        service.reopen(
            db_session=s, request_id=rid, actor_id="U0LENA", is_admin=False, now=now + timedelta(hours=2)
        )
        service.resolve(
            db_session=s, request_id=rid, actor_id="U0SOFIA", is_admin=False, now=now + timedelta(hours=3)
        )
        service.rate(db_session=s, request_id=rid, actor_id="U0LENA", is_admin=False, rating=4, now=now)
        with pytest.raises(UserError, match="already rated"):
            service.rate(db_session=s, request_id=rid, actor_id="U0LENA", is_admin=False, rating=5, now=now)
        with pytest.raises(NotFound):
            service.claim(db_session=s, request_id=9999, actor_id="U0SOFIA", is_admin=False, now=now)
        with pytest.raises(UserError, match="summary is empty"):
            service.create(db_session=s, team=analytics, requester_id="U0LENA", summary=" \n ", now=now)


def test_stats_and_queues(database: Database) -> None:
    analytics = team(database, "analytics")
    now = MONDAY_BERLIN
    with database.session() as s:
        ids = [
            service.create(
                db_session=s, team=analytics, requester_id="U0LENA", summary=f"Ask {i}", now=now
            ).request.id
            or 0
            for i in range(4)
        ]
        # First responses after 1h and 3h; resolutions after 2h and 6h; one waits; ratings 5 and 3.
        for rid, first, done, rating in ((ids[0], 1, 2, 5), (ids[1], 3, 6, 3)):
            service.claim(
                db_session=s,
                request_id=rid,
                actor_id="U0KENJI",
                is_admin=False,
                now=now + timedelta(hours=first),
            )
            service.resolve(
                db_session=s,
                request_id=rid,
                actor_id="U0KENJI",
                is_admin=False,
                now=now + timedelta(hours=done),
            )
            service.rate(
                db_session=s,
                request_id=rid,
                actor_id="U0LENA",
                is_admin=False,
                rating=rating,
                now=now + timedelta(hours=done),
            )
        service.wait(
            db_session=s,
            request_id=ids[2],
            actor_id="U0SOFIA",
            is_admin=False,
            note="Which plan?",
            now=now + timedelta(hours=1),
        )
        offer = faq.offer(db_session=s, team=analytics, user_id="U0OMAR", summary="dashboard access", now=now)
        faq.deflect(db_session=s, offer_id=offer.id or 0, user_id="U0OMAR", answered_by="FAQ-1", now=now)
    with database.session() as s:
        st = queries.stats(db_session=s, team=analytics, now=now + timedelta(hours=8))
        assert (st.open, st.waiting, st.filed, st.resolved, st.deflections) == (2, 1, 4, 2, 1)
        assert st.median_first_response == timedelta(hours=1)  # 1h, 3h and the wait's 1h
        assert st.median_resolution == timedelta(hours=4)
        assert st.csat == 4.0 and st.ratings == 2 and st.satisfied == 0.5
        mine = queries.mine(db_session=s, user_id="U0LENA")
        assert [r.id for r in mine] == [ids[3], ids[2]]  # open ones, newest first; closed are gone
        q = queries.queue(db_session=s, team_list=[analytics], limit=1)
        assert q.total == 2 and [r.id for r in q.rows] == [ids[3]]  # running SLA before the paused one
        with pytest.raises(Forbidden):
            queries.queue_teams(db_session=s, user_id="U0LENA", is_admin=False, team_name="analytics")
        assert [
            t.key
            for t in queries.queue_teams(db_session=s, user_id="U0KENJI", is_admin=False, team_name=None)
        ] == ["analytics"]


def test_breaches_and_oldest_for_an_audience(database: Database) -> None:
    """The digest's lists (`bot.requests.stats`): breaches announced in `(since, until]` and the
    oldest open requests, in detail only for the teams the audience may see — a count otherwise."""
    from bot.requests import stats
    from storage.models.requests import RequestEvent

    analytics, legal = team(database, "analytics"), team(database, "legal")
    now = MONDAY_BERLIN
    with database.session() as s:
        made = {}
        for name, t, age in (("a-old", analytics, 30), ("a-new", analytics, 2), ("l-old", legal, 40)):
            made[name] = service.create(
                db_session=s, team=t, requester_id="U0LENA", summary=name, now=now - timedelta(hours=age)
            ).request
        for name, hours_ago in (("a-old", 1), ("a-new", 30), ("l-old", 2)):  # a-new: before the window
            s.add(
                RequestEvent(
                    request_id=made[name].id or 0,
                    actor_id="flywheel",
                    kind="sla_breach",
                    detail="first_response",
                    at=now - timedelta(hours=hours_ago),
                )
            )
    since = now - timedelta(days=1)
    with database.session() as s:
        lines, total, hidden = stats.breaches_between(
            db_session=s, since=since, until=now, team_ids={analytics.id or 0}, limit=5
        )
        oldest, open_total, open_hidden = stats.oldest_open(
            db_session=s, team_ids={analytics.id or 0}, limit=1
        )
        nobody = stats.breaches_between(db_session=s, since=since, until=now, team_ids=set(), limit=5)
    assert [(r.summary, r.team_name, r.clock) for r in lines] == [("a-old", "Analytics", "first_response")]
    assert (total, hidden) == (1, 1)  # legal's breach is counted, not shown
    assert [r.summary for r in oldest] == ["a-old"] and (open_total, open_hidden) == (2, 1)
    assert nobody[0] == [] and nobody[1:] == (0, 2)
