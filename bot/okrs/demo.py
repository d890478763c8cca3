"""The demo company's OKRs: `bot/demo/data/okrs.csv` through the same import as `flywheel import okrs`.

The file is written for cycle 2026-11; the seed moves it to the cycle of the bot's clock so the
demo always shows a live cycle, and dates it to the cycle's first day (as if planned then), so
status reads as it would in a real cycle. Some KRs then get a history of check-ins spread over the
cycle so far (with confidences and notes), a few are left lagging so `/okr atrisk` has something to
say, and #general and #growth follow the cycle review. `clock_points` gives the demo's `clock`
command its named moments (`clock review`, `clock last-day`, …) to walk through the review.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context import AppContext
from bot.okrs import csv_io, review, scoring, service
from bot.people import service as people

log = logging.getLogger(__name__)

CSV_PATH = Path(__file__).resolve().parent.parent / "demo" / "data" / "okrs.csv"

# KR title → check-ins as (days after the cycle started, value, confidence, note). Values in order.
HISTORY: dict[str, list[tuple[int, float, int, str]]] = {
    "Week-1 activation rate": [
        (4, 29, 7, "Baseline after the new welcome checklist"),
        (11, 30.5, 7, "Checklist v2 rolled out to 50%"),
        (18, 31, 6, "Slower than hoped; the invite step loses people"),
    ],
    "Signup drop-off": [
        (5, 44, 5, "Form shortened from 9 to 6 fields"),
        (12, 44, 4, "No movement yet; SSO signups still fail for some domains"),
        (19, 43, 4, "Waiting on Payments for the SSO fix"),
    ],
    "Checkout error rate": [
        (3, 2.1, 7, "Retry on gateway timeouts"),
        (10, 1.6, 8, "Connection pool fix after INC-42"),
        (17, 1.2, 8, "Error budget alerting live"),
    ],
    "Markets live": [
        (6, 0, 5, "Brazil contract signed; Pix integration started"),
        (16, 0, 3, "Pix certification slipped two weeks; Mexico blocked on legal review"),
    ],
    "Offers accepted": [
        (7, 5, 6, "Two senior engineers accepted"),
        (15, 5, 4, "Three offers declined on compensation"),
    ],
    "Weekly active teams": [
        (7, 1380, 8, "Referral launch"),
        (14, 1520, 8, ""),
        (20, 1610, 7, "Holiday dip ahead"),
    ],
}
# Channels that follow the cycle review: (channel, team key or None for the company's).
SUBSCRIPTIONS = (("C0GENERAL", None), ("C0GROWTH", "growth"))


def _current_cycle_csv(text: str, key: str) -> str:
    """The demo CSV with every row moved to the cycle `key`."""
    reader = csv.DictReader(io.StringIO(text))
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=list(reader.fieldnames or csv_io.EXPORT_COLUMNS), lineterminator="\n"
    )
    writer.writeheader()
    for row in reader:
        writer.writerow(row | {"cycle": key})
    return out.getvalue()


def seed(ctx: AppContext, client: WebClient) -> None:
    """Load the demo OKRs (idempotent) and, the first time, their check-in history."""
    clock = scoring.Clock.of(ctx)
    span = clock.current()
    text = _current_cycle_csv(CSV_PATH.read_text(encoding="utf-8"), span.key)
    start, _ = span.bounds(clock.tz)
    latest = clock.now() - timedelta(minutes=5)
    planned = replace(clock, fixed_now=max(min(start + timedelta(hours=9), latest), start))

    def lookup(email: str) -> str | None:
        try:
            user = client.users_lookupByEmail(email=email)["user"]
        except SlackApiError:
            return None
        with ctx.db.session() as s:
            people.upsert_from_slack(db_session=s, user=user)
        return str(user["id"])

    with ctx.db.session() as s:
        report = csv_io.import_okrs(
            db_session=s, text=text, actor_id="U0MAYA", clock=planned, resolve_email=lookup
        )
    if not report.ok:  # the file ships with the code: a failure here is a bug worth shouting about
        problems = "; ".join(f"line {e.line}: {e.reason}" for e in report.errors)
        raise RuntimeError(f"demo OKRs did not import: {problems}")
    if not report.krs_created:
        return  # already seeded (a kept --db): do not repeat the history
    with ctx.db.session() as s:
        krs = service.key_results_by_title(db_session=s, cycle_key=span.key)
        for title, entries in HISTORY.items():
            kr = krs.get(title)
            if kr is None:
                continue
            _, objective = service.objective_of_kr(db_session=s, kr_id=kr.id or 0)
            for days, value, confidence, note in entries:
                service.check_in(
                    db_session=s,
                    actor_id=objective.owner_id,
                    is_admin=False,
                    kr_id=kr.id or 0,
                    value=value,
                    confidence=confidence,
                    note=note,
                    clock=planned,
                    at=max(min(start + timedelta(days=days, hours=10), latest), planned.now()),
                )
        for channel, team_key in SUBSCRIPTIONS:
            team = service.find_team(db_session=s, name=team_key) if team_key else None
            review.subscribe(db_session=s, channel_id=channel, team=team, actor_id="U0MAYA", clock=clock)
    log.info("demo OKRs seeded for cycle %s", span.key)


def clock_points(ctx: AppContext) -> dict[str, tuple[datetime, str]]:
    """Named moments of the current cycle for the demo's `clock` command: name → (when, what)."""
    clock = scoring.Clock.of(ctx)
    span = clock.current()
    upcoming = clock.next(span)
    tz = clock.tz
    return {
        "drafting": (
            clock.drafting_opens(upcoming) + timedelta(hours=9),
            f"cycle {upcoming.key} opens for drafting (15 days before it starts)",
        ),
        "review": (
            clock.review_opens(span) + timedelta(hours=9),
            f"the last week of cycle {span.key}: owners are asked for the review (run `jobs`)",
        ),
        "last-day": (
            datetime.combine(span.last_day, time(12, 5), tzinfo=tz),
            f"the last day of cycle {span.key}, after noon: the review is posted (run `jobs`)",
        ),
        "next-cycle": (
            upcoming.bounds(tz)[0] + timedelta(hours=9),
            f"the first day of cycle {upcoming.key}",
        ),
    }
