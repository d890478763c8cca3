"""Fixtures for the postmortem tests: a complete postmortem, written through the service."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.postmortems import items
from bot.postmortems import service as svc
from storage.db import Database
from storage.models import Person
from tests.support.fixtures import openai_stub  # noqa: F401

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
TODAY = NOW.date()

COMPLETE = {
    "summary": "Checkout failed for 29 minutes after a deploy cut the adapter's connection pool to 5.",
    "impact": "Customers could not pay | retries worked.\nNo refunds were needed.",
    "impact_who": "Checkout customers in the EU",
    "impact_count": "about 1,800 failed checkouts",
    "impact_duration": "29 minutes",
    "detection": "The error-rate alert fired at 14:02 UTC, 7 minutes after the deploy.",
    "contributing_factors": (
        "- The pool size change passed review and CI without a load test.\n- No alert on pool saturation."
    ),
    "went_well": "The rollback took 3 minutes; <@U0TOM> led the response.",
    "went_poorly": "The status page was updated late.",
    "got_lucky": "It happened outside the evening peak.",
    "links": "https://grafana.example/d/checkout\nhttps://github.example/payments/pull/812",
}


@pytest.fixture
def people(db: Database) -> None:
    with db.session() as s:
        for sid, name, real, tz in [
            ("U0PRIYA", "priya", "Priya Nair", "Asia/Singapore"),
            ("U0JONAS", "jonas", "Jonas Weber", "Europe/Berlin"),
            ("U0TOM", "tom", "Tom Becker", "America/New_York"),
            ("U0LENA", "lena", "Lena Park", "Europe/Berlin"),
        ]:
            s.add(Person(slack_id=sid, name=name, real_name=real, tz=tz))


def make_complete(
    db: Database, *, author: str = "U0PRIYA", participants: tuple[str, ...] = ("U0JONAS",)
) -> int:
    """A draft with every field, two timeline entries and two action items; returns its ID."""
    with db.session() as s:
        pm = svc.create(
            db_session=s,
            actor_id=author,
            title="INC-42: checkout errors",
            severity=2,
            channel_id="C0INC42",
            fields=COMPLETE,
            participants=participants,
            now=NOW - timedelta(days=1),
        )
        pid = pm.id or 0
        start = datetime(2026, 12, 1, 14, 2, tzinfo=UTC)
        items.add_timeline_entry(
            db_session=s,
            actor_id=author,
            is_admin=False,
            postmortem_id=pid,
            at=start,
            text="Alert: checkout error rate 12%",
            source_channel="C0INC42",
            source_ts="1796047320.000000",
            source_link="https://acme.slack.com/archives/C0INC42/p1796047320000000",
            posted_by="U0TOM",
        )
        items.add_timeline_entry(
            db_session=s,
            actor_id=author,
            is_admin=False,
            postmortem_id=pid,
            at=start + timedelta(minutes=14),
            text="Rolled back the 13:55 deploy",
            posted_by=None,
        )
        items.add_action_item(
            db_session=s,
            actor_id=author,
            is_admin=False,
            postmortem_id=pid,
            title="Load-test pool changes in CI",
            owner_id="U0JONAS",
            due_on=date(2026, 12, 11),
            today=TODAY,
            kind="preventative",
        )
        items.add_action_item(
            db_session=s,
            actor_id=author,
            is_admin=False,
            postmortem_id=pid,
            title="Alert on pool saturation",
            owner_id="U0TOM",
            due_on=date(2026, 12, 3),
            today=TODAY,
            kind="detective",
        )
    return pid
