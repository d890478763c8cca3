"""Seed the demo company into a simulator workspace and the bot's database.

The workspace side is what Slack would hold (people, channels, the review thread, the incident
channel's chatter); the database side is what Flywheel would hold after an admin's set-up
(people, teams, and each feature's own data through that feature's own import path).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import select

from bot.demo import company
from storage.models import Person, Team, TeamMember

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.context import AppContext
    from bot.simulator import Simulator

log = logging.getLogger(__name__)

# The incident channel's chatter: (minutes after the alert, who, what). The alert fired at 14:02 UTC
# the day before the demo starts, so `/postmortem draft` there shows a timeline at real times.
INCIDENT_CHATTER: tuple[tuple[int, str, str], ...] = (
    (0, "U0TOM", "Alert: checkout error rate 12% (threshold 2%) since 14:02 UTC"),
    (3, "U0JONAS", "Looking. Errors are 502s from the payment gateway adapter"),
    (6, "U0PRIYA", "Declaring an incident, sev 2. Tom is incident commander"),
    (11, "U0JONAS", "The adapter's connection pool is exhausted: 5 connections, 40 requests waiting"),
    (14, "U0TOM", "Rolled back the 13:55 deploy of payments-adapter"),
    (
        29,
        "U0JONAS",
        "Error rate back under 1% at 14:31; the connection pool size was cut to 5 in that deploy",
    ),
    (33, "U0TOM", "Root cause: Jonas forgot to check the pool size in review"),
    (41, "U0PRIYA", "Customer support says about 1,800 checkouts failed; refunds not needed, retries worked"),
    (45, "U0MAYA", "谢谢大家。复盘时请关注为什么评审和 CI 都没有拦住这个配置变更。"),
)
INCIDENT_STARTED = (1, 14, 2)  # days before today, hour, minute (UTC)


def incident_ts(minutes: int, *, now: float | None = None) -> str:
    """The ts of a chatter line: `minutes` after the alert, which fired yesterday at 14:02 UTC."""
    from datetime import UTC, datetime, timedelta

    today = datetime.fromtimestamp(now if now is not None else time.time(), tz=UTC).date()
    days, hour, minute = INCIDENT_STARTED
    start = datetime(today.year, today.month, today.day, hour, minute, tzinfo=UTC) - timedelta(days=days)
    return f"{(start + timedelta(minutes=minutes)).timestamp():.6f}"


def seed_workspace(sim: Simulator) -> None:
    """People and channels as Slack would have them, plus the long review thread."""
    for u in company.USERS:
        sim.add_user(u.id, u.name, real_name=u.real_name, email=u.email, tz=u.tz, is_admin=u.is_admin)
    for c in company.CHANNELS:
        sim.add_channel(c.id, c.name, members=list(c.members), is_private=c.is_private)


def seed_conversations(sim: Simulator) -> None:
    """The product-review threads and the incident channel's messages."""
    seed_review_threads(sim)
    for minutes, user_id, text in INCIDENT_CHATTER:
        sim.post_message("C0INC42", user_id, text, ts=incident_ts(minutes))


# The review threads are posted at fixed times, so their links are the same in every run of the
# demo (a link copied from the README works): 2026-01-05 08:00 UTC, a message every 90 s; the
# Chinese thread two days later.
REVIEW_THREAD_START = 1_767_600_000
CHINESE_THREAD_START = REVIEW_THREAD_START + 2 * 86_400
SEED_STEP_SECONDS = 90


def seeded_ts(start: int, n: int) -> str:
    """The ts of the `n`th message (0 = the parent) of a thread seeded at `start`."""
    return f"{start + n * SEED_STEP_SECONDS}.000100"


def seed_review_threads(sim: Simulator) -> None:
    try:
        from bot.demo import review_thread
    except ImportError:  # the summaries feature ships the threads
        return
    threads = (
        ("C0REVIEW", REVIEW_THREAD_START, review_thread.messages()),
        ("C0REVIEWZH", CHINESE_THREAD_START, review_thread.chinese_messages()),
    )
    for channel, start, msgs in threads:
        if not msgs:
            continue
        root = sim.post_message(channel, msgs[0][0], msgs[0][1], ts=seeded_ts(start, 0))
        for n, (user_id, text) in enumerate(msgs[1:], 1):
            sim.post_message(channel, user_id, text, thread_ts=root, ts=seeded_ts(start, n))


TEAMS_YAML = Path(__file__).resolve().parent / "data" / "teams.yaml"


def seed_database(ctx: AppContext) -> None:
    """People and teams, as an admin's set-up would leave them. Idempotent.

    Product teams come from `company.TEAMS`; the service teams from `data/teams.yaml` through the
    same import as `flywheel import teams`.
    """
    with ctx.db.session() as s:
        for u in company.USERS:
            s.merge(
                Person(
                    slack_id=u.id,
                    name=u.name,
                    real_name=u.real_name,
                    email=u.email,
                    tz=u.tz,
                    is_admin=u.is_admin,
                )
            )
        for t in company.TEAMS:
            team = s.exec(select(Team).where(Team.key == t.key)).first()
            if team is None:
                team = Team(key=t.key, name=t.name)
            team.name, team.kind, team.lead_id = t.name, t.kind, t.lead
            team.channel_id, team.description = t.channel, t.description
            s.add(team)
            s.flush()
            existing = set(s.exec(select(TeamMember.slack_id).where(TeamMember.team_id == team.id)).all())
            for member in t.members:
                if member not in existing:
                    s.add(TeamMember(team_id=team.id, slack_id=member))
    from bot.teams import yaml_io

    with ctx.db.session() as s:
        report = yaml_io.import_teams(
            db_session=s, text=TEAMS_YAML.read_text(encoding="utf-8"), actor_id="U0MAYA"
        )
    if not report.ok:  # the file ships with the code: a failure here is a bug worth shouting about
        raise RuntimeError(
            "demo teams did not import: " + "; ".join(f"line {e.line}: {e.reason}" for e in report.errors)
        )


def seed_features(ctx: AppContext, client: WebClient) -> None:
    """Each feature's demo data, through the feature's own import path."""
    try:
        from bot.okrs import demo as okr_demo
    except ImportError:
        return
    okr_demo.seed(ctx, client)
    from bot.postmortems import demo as postmortem_demo

    postmortem_demo.seed(ctx, client)
    from bot.requests import demo as requests_demo

    requests_demo.seed(ctx, client)
    from bot.digests import demo as digest_demo

    digest_demo.seed(ctx, client)
