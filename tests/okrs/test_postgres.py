"""The OKR service on PostgreSQL: the same migrations, the hot-path aggregate query, import and export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.okrs import activity, csv_io, queries, scoring
from bot.okrs import service as svc
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Team

pytestmark = pytest.mark.postgres
CLOCK = scoring.Clock(months=2, fixed_now=datetime(2026, 11, 22, 12, tzinfo=UTC))
CSV = (
    "cycle,team,owner,objective,parent_objective,key_result,start,target,unit,current,weight\n"
    "2026-11,company,U0MAYA,Grow,,Revenue,100,200,k$,130,\n"
    "2026-11,growth,U0LENA,Activate “new” teams,Grow,Latency,300,100,ms,250,0.25\n"
    "2026-11,growth,U0LENA,Activate “new” teams,Grow,Activation,10,50,%,20.5,0.75\n"
    "2026-11,growth,U0LENA,No KRs yet,Grow,,,,,,\n"
)


def test_okrs_on_postgresql(pg_url: str) -> None:
    upgrade(pg_url)
    db = Database(pg_url)
    try:
        with db.session() as s:
            s.add(Team(key="company", name="Company"))
            s.add(Team(key="growth", name="Growth"))
        with db.session() as s:
            assert csv_io.import_okrs(db_session=s, text=CSV, actor_id="U0MAYA", clock=CLOCK).ok
        with db.session() as s:
            mine = svc.objectives_of(db_session=s, owner_id="U0LENA", clock=CLOCK)
            growth = svc.find_team(db_session=s, name="GROWTH")
            team = svc.objectives_of_team(db_session=s, team=growth, clock=CLOCK)
            hits, total = queries.search(db_session=s, words="latency", clock=CLOCK)
            # The parent picker's ranked search (CASE, CAST of the id, escaped LIKE) and its opening list.
            picked = queries.parent_candidates(db_session=s, clock=CLOCK, query="o-1")
            activ = queries.parent_candidates(db_session=s, clock=CLOCK, query="activ")
            opening = queries.parent_candidates(db_session=s, clock=CLOCK, team_ids={growth.id or 0})
            # The digest's reads: the whole cycle as one aggregate, and the window's correlated
            # "value before" subqueries (the import's check-ins are at CLOCK's now).
            progress = activity.cycle_progress(db_session=s, clock=CLOCK)
            window = {"since": CLOCK.now() - timedelta(days=1), "until": CLOCK.now()}
            checkins = activity.checkins_between(db_session=s, clock=CLOCK, limit=2, **window)
            movers = activity.movers_between(db_session=s, clock=CLOCK, **window)
            exported = csv_io.export_csv(db_session=s)
            again = csv_io.import_okrs(db_session=s, text=exported, actor_id="U0MAYA", clock=CLOCK)
        assert [(o.objective.title, [k.kr.title for k in o.krs]) for o in mine] == [
            ("Activate “new” teams", ["Latency", "Activation"]),
            ("No KRs yet", []),
        ]
        assert mine[0].team is not None and mine[0].team.name == "Growth"
        assert mine[0].krs[0].progress == pytest.approx(0.25) and mine[0].krs[1].kr.current == 20.5
        # The hot path's timestamps come from PostgreSQL as epoch seconds: created and checked in at
        # CLOCK, so the status reads the KRs' own time (none elapsed yet) and the weights count.
        assert mine[0].krs[0].kr.created_at == pytest.approx(CLOCK.now().timestamp())
        assert [k.status for k in mine[0].krs] == [scoring.Status.ON_TRACK, scoring.Status.ON_TRACK]
        assert mine[0].progress == pytest.approx(0.25 * 0.25 + 0.75 * 0.2625)
        assert len(team) == 2 and total == 1 and hits[0].state.objective.title == "Activate “new” teams"
        assert [o.title for o in picked] == ["Grow"] and [o.title for o in activ] == ["Activate “new” teams"]
        assert [o.title for o in opening] == ["Grow", "Activate “new” teams", "No KRs yet"]
        assert [(t.name, t.objectives) for t in progress.teams] == [("Company", 1), ("Growth", 2)]
        assert progress.teams[0].progress == pytest.approx(0.3) and progress.risks == []
        assert checkins.total == 3 and [e.previous for e in checkins.items] == [None, None]
        assert sorted(round(m.gain, 4) for m in movers.items) == [0.25, 0.2625, 0.3]
        assert exported == CSV
        assert again.ok and again.created == [] and again.updated == []
    finally:
        db.dispose()
