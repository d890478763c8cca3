"""The demo company's past postmortems, written through the service like anyone's would be.

Two published write-ups in English and one in Chinese, each with a timeline and action items —
one overdue (Jonas), one due tomorrow (Tom), one for Lena (who the demo starts as) — so `/postmortem
list`, `search`, `actions overdue`, the App Home and the reminder job (`jobs`) have something to
show. The incident channel #inc-42-checkout-errors is left undrafted: `/postmortem draft` there is
the demo's first step. Idempotent: nothing is added when postmortems exist.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from slack_sdk import WebClient
from sqlmodel import func, select

from bot.context import AppContext
from bot.postmortems import items, service, workflow
from bot.postmortems.rules import ActionKind
from storage.models.postmortems import Postmortem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Seeded:
    days_ago: int
    title: str
    severity: int
    author: str
    participants: tuple[str, ...]
    fields: dict[str, str]
    timeline: tuple[tuple[int, str | None, str], ...]  # (minutes after the start, who posted, text)
    actions: tuple[
        tuple[str, str, int, ActionKind, bool], ...
    ]  # (title, owner, due in days from today, kind, done)
    channel: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


POSTMORTEMS: tuple[Seeded, ...] = (
    Seeded(
        days_ago=40,
        title="Login outage: expired TLS certificate on the auth service",
        severity=2,
        author="U0TOM",
        participants=("U0OMAR", "U0LENA"),
        fields={
            "summary": (
                "The TLS certificate of auth.flywheel-demo.example expired at 09:00 UTC. Logins and "
                "token refreshes failed for 47 minutes until a new certificate was issued and deployed."
            ),
            "impact": "Nobody could log in; sessions that needed a token refresh were signed out.",
            "impact_who": "All web and mobile users",
            "impact_count": "about 9,000 failed logins",
            "impact_duration": "47 minutes",
            "detection": "Customer support tickets 6 minutes in; no certificate-expiry alert existed.",
            "contributing_factors": (
                "- The certificate was renewed by hand once a year, from a calendar reminder that went "
                "to a shared inbox nobody read.\n- Monitoring checked that the login page answered, not "
                "that its certificate was valid."
            ),
            "went_well": "The fix was known at once; a new certificate was live 20 minutes after diagnosis.",
            "went_poorly": "The status page was updated only after 30 minutes.",
            "got_lucky": "It happened on a Sunday morning, our quietest hour.",
            "links": "https://status.flywheel-demo.example/incidents/17",
        },
        timeline=(
            (0, None, "Certificate of auth.flywheel-demo.example expires; logins start failing"),
            (6, "U0LENA", "Support reports a spike of 'cannot log in' tickets"),
            (14, "U0TOM", "Diagnosed: expired TLS certificate on the auth load balancer"),
            (34, "U0TOM", "New certificate issued and deployed"),
            (47, "U0OMAR", "Login success rate back to normal"),
        ),
        actions=(
            (
                "Automate certificate renewal, alerting 14 days before any expiry",
                "U0TOM",
                1,
                ActionKind.PREVENTATIVE,
                False,
            ),
            (
                "Add a status-page banner template for login outages",
                "U0LENA",
                5,
                ActionKind.CORRECTIVE,
                False,
            ),
            (
                "Probe certificate validity from outside, every 5 minutes",
                "U0OMAR",
                -20,
                ActionKind.DETECTIVE,
                True,
            ),
        ),
    ),
    Seeded(
        days_ago=20,
        title="Payouts delayed: settlement batch stuck on a lock",
        severity=3,
        author="U0PRIYA",
        participants=("U0JONAS", "U0TOM"),
        channel="C0PAYMENTS",
        fields={
            "summary": (
                "The nightly settlement batch waited on a database lock held by a long-running report, "
                "so merchant payouts went out 5 hours late."
            ),
            "impact": "Merchants were paid late; 31 contacted support.",
            "impact_who": "Merchants due a payout that night",
            "impact_count": "1,240 payouts",
            "impact_duration": "5 hours late",
            "detection": "A merchant's e-mail at 07:40; the batch has no runtime alert.",
            "contributing_factors": (
                "- The batch and the finance report both lock the settlements table, and nothing "
                "orders them.\n- The batch cannot resume from a checkpoint, so a restart begins again."
            ),
            "went_well": "Finance and payments worked one plan; merchants heard from us within the hour.",
            "went_poorly": "The restart took 3 hours because the batch starts from scratch.",
            "got_lucky": "It was not the end of the month, when payouts are four times larger.",
            "links": "https://grafana.flywheel-demo.example/d/settlements",
        },
        timeline=(
            (0, None, "Settlement batch starts and waits on a lock held by the finance report"),
            (280, "U0PRIYA", "A merchant e-mails: no payout received"),
            (290, "U0JONAS", "Found the batch blocked on the settlements table lock; report cancelled"),
            (300, "U0TOM", "Batch restarted from the beginning"),
            (480, "U0JONAS", "All payouts sent"),
        ),
        actions=(
            (
                "Alert when the settlement batch runs longer than 30 minutes",
                "U0JONAS",
                -3,
                ActionKind.DETECTIVE,
                False,
            ),
            (
                "Make the settlement batch resumable from its last checkpoint",
                "U0TOM",
                1,
                ActionKind.CORRECTIVE,
                False,
            ),
            (
                "Schedule the finance report outside the batch window",
                "U0PRIYA",
                -10,
                ActionKind.PREVENTATIVE,
                True,
            ),
        ),
    ),
    Seeded(
        days_ago=9,
        title="推荐服务超时：发布后缓存未预热",
        severity=3,
        author="U0KENJI",
        participants=("U0SOFIA",),
        fields={
            "summary": "推荐服务发布后缓存为空，请求全部打到数据库，接口超时 25 分钟，首页推荐位为空。",
            "impact": "首页推荐位为空，点击率下降。",
            "impact_who": "所有首页访客",
            "impact_count": "约 30% 的首页请求超时",
            "impact_duration": "25 分钟",
            "detection": "延迟告警在发布 4 分钟后触发。",
            "contributing_factors": "- 发布流程没有缓存预热步骤。\n- 数据库连接数上限低于冷启动时的并发。",
            "went_well": "告警及时，回滚迅速。",
            "went_poorly": "回滚后缓存仍为空，又花了 15 分钟手动预热。",
            "got_lucky": "发布发生在低峰时段。",
            "links": "",
        },
        timeline=(
            (0, "U0KENJI", "推荐服务新版本发布"),
            (4, None, "接口延迟告警触发"),
            (10, "U0SOFIA", "确认缓存为空，请求全部打到数据库"),
            (25, "U0KENJI", "手动预热完成，延迟恢复正常"),
        ),
        actions=(("在发布流水线中加入缓存预热步骤", "U0KENJI", -5, ActionKind.PREVENTATIVE, True),),
    ),
)


def seed(ctx: AppContext, client: WebClient) -> None:
    """Write the demo postmortems (once): created, reviewed and published at their past dates."""
    with ctx.db.session() as s:
        if s.exec(select(func.count()).select_from(Postmortem)).one():
            return
    now = ctx.clock.now()
    today = now.date()
    for spec in POSTMORTEMS:
        day = (now - timedelta(days=spec.days_ago)).date()
        started = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
        with ctx.db.session() as s:
            pm = service.create(
                db_session=s,
                actor_id=spec.author,
                title=spec.title,
                severity=spec.severity,
                channel_id=spec.channel,
                fields=spec.fields,
                participants=spec.participants,
                now=started,
            )
            pid = pm.id or 0
            for minutes, who, text in spec.timeline:
                items.add_timeline_entry(
                    db_session=s,
                    actor_id=spec.author,
                    is_admin=False,
                    postmortem_id=pid,
                    at=started + timedelta(minutes=minutes),
                    text=text,
                    posted_by=who,
                )
            for title, owner, due_in, kind, done in spec.actions:
                item = items.add_action_item(
                    db_session=s,
                    actor_id=spec.author,
                    is_admin=False,
                    postmortem_id=pid,
                    title=title,
                    owner_id=owner,
                    due_on=today + timedelta(days=due_in),
                    today=day,
                    kind=kind,
                )
                if done:
                    items.complete_action_item(
                        db_session=s, actor_id=owner, is_admin=False, action_item_id=item.id or 0
                    )
            written = started + timedelta(days=2)
            workflow.request_review(
                db_session=s,
                actor_id=spec.author,
                is_admin=False,
                postmortem_id=pid,
                confirmed=True,
                now=written,
            )
            workflow.publish(
                db_session=s,
                actor_id=spec.author,
                is_admin=False,
                postmortem_id=pid,
                confirmed=True,
                now=written + timedelta(days=1),
            )
    log.info("demo postmortems seeded")
