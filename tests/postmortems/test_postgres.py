"""Postmortems on PostgreSQL: the same migration, the workflow, the once-per-message timeline,
search (English and Chinese), the Markdown export and the reminder claims."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.exc import IntegrityError

from bot.common import delivery
from bot.postmortems import items, markdown, search, workflow
from bot.postmortems import service as svc
from storage.db import Database
from storage.migrate import upgrade
from storage.models.postmortems import TimelineEntry
from tests.postmortems.conftest import make_complete

pytestmark = pytest.mark.postgres


def test_postmortems_on_postgresql(pg_url: str) -> None:
    upgrade(pg_url)
    db = Database(pg_url)
    try:
        pid = make_complete(db)
        with db.session() as s:
            svc.create(db_session=s, actor_id="U0TOM", title="推荐服务超时", fields={"summary": "缓存未预热"})
        with db.session() as s:
            assert (
                items.add_pinned_message(
                    db_session=s,
                    actor_id="U0LENA",
                    channel_id="C0INC42",
                    ts="1796047320.000000",
                    text="again",
                    posted_by="U0TOM",
                    link="",
                )
                == []
            )
        # The unique (postmortem, channel, ts) holds on PostgreSQL too, whatever the caller checks.
        with pytest.raises(IntegrityError), db.session() as s:
            s.add(
                TimelineEntry(
                    postmortem_id=pid,
                    at=datetime.now(UTC),
                    text="dup",
                    source_channel="C0INC42",
                    source_ts="1796047320.000000",
                    added_by="U0TOM",
                )
            )
            s.flush()
        with db.session() as s:
            assert workflow.request_review(
                db_session=s, actor_id="U0PRIYA", is_admin=False, postmortem_id=pid
            ).done
            assert workflow.publish(db_session=s, actor_id="U0PRIYA", is_admin=False, postmortem_id=pid).done
            since = svc.published_since(db_session=s, since=datetime.now(UTC) - timedelta(minutes=5))
            assert [p.id for p in since] == [pid]
            hits, _ = search.search(db_session=s, words="pool saturation")
            assert hits[0].pm.id == pid
            hits, _ = search.search(db_session=s, words="缓存")
            assert [h.pm.title for h in hits] == ["推荐服务超时"]
            d = svc.detail(db_session=s, postmortem_id=pid)
            text = markdown.to_markdown(d, names={}, tz=ZoneInfo("UTC"))
            assert "| 2026-12-01 14:02 | U0TOM | Alert: checkout error rate 12% |" in text
            assert delivery.claim(db_session=s, key="pm:remind:AI-1:2026-12-02", kind="pm_reminder")
        with db.session() as s:
            assert not delivery.claim(db_session=s, key="pm:remind:AI-1:2026-12-02", kind="pm_reminder")
    finally:
        db.dispose()
