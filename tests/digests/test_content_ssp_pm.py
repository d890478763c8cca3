"""The shared-service and postmortem digests on the demo company's seeded data, and the rule that a
confidential team's requests appear only where everyone in the channel may see them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.demo.run import DemoStack
from bot.digests import views
from bot.digests.content import Builder, PostmortemContent, SspContent, Window
from bot.digests.parse import DigestKind
from storage.models import Team
from storage.models.requests import RequestEvent, ServiceRequest
from tests.digests.support import BERLIN


@pytest.fixture
def env(slack_env_factory: Callable[..., DemoStack]) -> DemoStack:
    stack = slack_env_factory(features=True, FLYWHEEL_ADMINS="U0MAYA")
    stack.sim.take_outputs()
    return stack


def window(env: DemoStack, days: int = 7) -> Window:
    now = env.fw.ctx.clock.now()
    return Window(since=now - timedelta(days=days), until=now, tz=BERLIN)


def requests_of(env: DemoStack, team_key: str, *, open_only: bool = True) -> list[ServiceRequest]:
    with env.db.session() as s:
        team = s.exec(select(Team).where(Team.key == team_key)).one()
        rows = s.exec(select(ServiceRequest).where(ServiceRequest.team_id == team.id)).all()
    return [r for r in rows if not open_only or r.status in ("new", "in_progress", "waiting")]


def breach(env: DemoStack, req: ServiceRequest, hours_ago: float) -> None:
    with env.db.session() as s:
        s.add(
            RequestEvent(
                request_id=req.id or 0,
                actor_id="flywheel",
                kind="sla_breach",
                detail="resolution",
                at=env.fw.ctx.clock.now() - timedelta(hours=hours_ago),
            )
        )


def ssp(env: DemoStack, channel: str) -> tuple[SspContent, str]:
    w = window(env)
    content = Builder(env.fw.ctx, env.fw.app.client).build(DigestKind.SSP, w, channel)
    assert isinstance(content, SspContent)
    payload = views.digest_message(content, kind=DigestKind.SSP, window=w, cadence="daily", sub_ref="D-9")
    assert len(payload["blocks"]) <= 50
    return content, env.sim.render(payload["text"], payload["blocks"])


def test_the_ssp_digest_shows_a_confidential_teams_requests_only_to_a_channel_of_its_own(
    env: DemoStack,
) -> None:
    [legal] = requests_of(env, "legal")
    analytics = requests_of(env, "analytics")
    breach(env, legal, 2)
    breach(env, analytics[0], 1)
    env.sim.add_channel("C0MIXED", "legal-and-growth", members=["U0AMARA", "U0LENA"])
    env.sim.add_channel("C0ADMIN", "legal-and-ceo", members=["U0AMARA", "U0MAYA"])

    content, shown = ssp(env, "C0GENERAL")
    assert {st.team.key for st in content.stats} >= {"legal", "hr", "analytics", "research"}
    assert (content.breaches_total, content.breaches_hidden) == (1, 1)
    assert legal.summary not in shown and f"REQ-{legal.id}" not in shown
    assert analytics[0].summary in shown and "resolution SLA missed 1h ago" in shown
    assert "…plus 1 in confidential teams, not shown in this channel." in shown
    assert "*Legal* :lock: — 1 open (1 waiting on the requester)" in shown  # counts are for everyone
    # Someone in the channel is not in Legal: still counts only.
    assert legal.summary not in ssp(env, "C0MIXED")[1]
    # Everyone is in Legal, or an admin: the details are shown.
    for channel in ("C0LEGAL", "C0ADMIN"):
        content, shown = ssp(env, channel)
        assert legal.summary in shown and content.breaches_hidden == 0 and content.oldest_hidden == 0


def test_the_ssp_digest_lists_the_oldest_open_first(env: DemoStack) -> None:
    content, shown = ssp(env, "C0GENERAL")
    ages = [r.created_at for r in content.oldest]
    assert ages == sorted(ages) and content.oldest_total == len(content.oldest)
    assert "*Oldest open*" in shown and "Open per team" in shown


def test_the_postmortem_digest_lists_published_ones_and_overdue_action_items(env: DemoStack) -> None:
    w = window(env, days=14)
    content = Builder(env.fw.ctx, env.fw.app.client).build(DigestKind.POSTMORTEMS, w, "C0GENERAL")
    assert isinstance(content, PostmortemContent)
    assert content.published_total >= 1 and content.overdue_total >= 1
    payload = views.digest_message(
        content, kind=DigestKind.POSTMORTEMS, window=w, cadence="weekly", sub_ref="D-2"
    )
    shown = env.sim.render(payload["text"], payload["blocks"])
    pm = content.published[0]
    item, parent = content.overdue[0]
    days = (content.today - item.due_on).days
    assert f"`PM-{pm.id}`" in shown and "*Published*" in shown
    assert f"`AI-{item.id}`" in shown and f"{days} day{'s' if days != 1 else ''} overdue" in shown
    assert f"from `PM-{parent.id}`" in shown
    # A window with nothing published says so.
    quiet = Window(since=w.until - timedelta(seconds=1), until=w.until, tz=BERLIN)
    content = Builder(env.fw.ctx, env.fw.app.client).build(DigestKind.POSTMORTEMS, quiet, "C0GENERAL")
    payload = views.digest_message(
        content, kind=DigestKind.POSTMORTEMS, window=quiet, cadence=None, requested_by="U0LENA"
    )
    assert "No postmortems were published in this period." in env.sim.render(
        payload["text"], payload["blocks"]
    )
