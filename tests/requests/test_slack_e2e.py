"""/ssp end to end: the real app over HTTP, driven through the Slack simulator like people would.

A message in #growth → the *Ask a service team* shortcut → the prefilled modal (linking back) →
the FAQ answers first → "Still need help" → the intake post in #analytics-requests → Claim
(the post updates in place) → waiting on the requester → her comment resumes it → resolved →
the rating buttons → rated, closed. Every change reaches the requester by DM.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import func, select

from bot.demo.run import DemoStack
from bot.requests.actions import Field
from storage.models.requests import RequestEvent, RequestOffer, ServiceRequest


@pytest.fixture
def env(slack_env: DemoStack) -> Iterator[DemoStack]:
    slack_env.sim.take_outputs()
    yield slack_env


def shown(env: DemoStack, user: str | None = None) -> str:
    env.sim.settle()
    return "\n".join(
        env.sim.render_output(o) for o in env.sim.take_outputs() if user is None or o.user in (user, None)
    )


def only(env: DemoStack) -> ServiceRequest:
    with env.db.session() as s:
        return s.exec(select(ServiceRequest)).one()


def test_from_a_message_to_the_rating(env: DemoStack) -> None:
    sim = env.sim
    ts = sim.post_message(
        "C0GROWTH", "U0LENA", "How do I get access to the metrics dashboards? Need them for the QBR"
    )
    sim.message_shortcut("U0LENA", "ask_service_team", "C0GROWTH", ts)
    seen = shown(env, "U0LENA")
    link = f"https://flywheel-demo.slack.com/archives/C0GROWTH/p{ts.replace('.', '')}"
    assert '[modal "Ask a service team"' in seen and link in seen
    assert "(How do I get access to the metrics dashboards? Need them for the QBR)" in seen

    # The modal offers the FAQ entry before filing.
    sim.submit_view("U0LENA", {Field.TEAM.value: "Analytics", Field.URGENCY.value: "high"})
    seen = shown(env, "U0LENA")
    assert '[modal "Before you file"' in seen and "analytics-viewers" in seen and "[This answered it]" in seen
    with env.db.session() as s:
        assert s.exec(select(func.count()).select_from(ServiceRequest)).one() == 0
    sim.submit_view("U0LENA")  # Still need help
    seen = shown(env)
    req = only(env)
    ref = f"REQ-{req.id}"
    assert req.source_link == link and req.urgency == "high" and req.status == "new"
    assert f"[#analytics-requests]\n*`{ref}` How do I get access" in seen
    assert f"Filed `{ref}` with *Analytics*" in seen  # the requester's receipt, by DM
    intake = sim.messages("C0ANALYTICS")[-1]

    # Kenji claims it from the intake post: the post updates in place; Lena hears of it.
    sim.click("U0KENJI", f"ssp_claim:{req.id}", message=intake)
    seen = shown(env)
    assert f"[updated in #analytics-requests {intake.ts}]" in seen and "assigned to @kenji" in seen
    assert "[DM to @lena]\n@kenji claimed" in seen
    assert only(env).status == "in_progress" and only(env).first_response_at is not None

    sim.command("U0KENJI", "/ssp", f"wait {ref} Which QBR deck is it for?", channel_id="C0ANALYTICS")
    seen = shown(env)
    assert "waits on @lena" in seen and "[DM to @lena]\n@kenji needs something from you" in seen
    assert only(env).status == "waiting" and only(env).resolution_due is None

    sim.command("U0LENA", "/ssp", f"comment {ref} The Growth QBR on Friday", channel_id="C0GROWTH")
    seen = shown(env)
    assert "in progress again" in seen and only(env).status == "in_progress"

    # Resolved from the intake post's button; the requester is asked for a rating.
    sim.click(
        "U0KENJI", f"ssp_resolve:{req.id}", message=sim.workspace.find_message("C0ANALYTICS", intake.ts)
    )
    seen = shown(env)
    assert "[DM to @lena]\n:star:" in seen and "[1] [2] [3] [4] [5]" in seen
    assert only(env).status == "resolved"

    sim.click_button("U0LENA", "5")
    seen = shown(env)
    assert "you rated" in seen and "5/5. It is now closed." in seen
    assert only(env).status == "closed" and only(env).rating == 5
    sim.command("U0LENA", "/ssp", f"rate {ref} 4", channel_id="C0GROWTH")
    assert "You already rated" in shown(env, "U0LENA") and only(env).rating == 5

    # The history has every step, in order.
    with env.db.session() as s:
        kinds = [
            (e.kind, e.to_status)
            for e in s.exec(
                select(RequestEvent).where(RequestEvent.request_id == req.id).order_by(RequestEvent.id)
            )
        ]
    assert kinds == [
        ("created", "new"),
        ("assigned", None),
        ("status", "in_progress"),
        ("status", "waiting"),
        ("comment", None),
        ("status", "in_progress"),
        ("status", "resolved"),
        ("rating", None),
        ("status", "closed"),
    ]
    sim.command("U0LENA", "/ssp", ref, channel_id="C0GROWTH")
    seen = shown(env, "U0LENA")
    assert "rated 5/5" in seen and "moved it waiting → *in progress*" in seen


def test_quick_request_deflected_by_the_faq_counts(env: DemoStack) -> None:
    sim = env.sim
    sim.command("U0OMAR", "/ssp", "request analytics how do i get dashboard access?", channel_id="C0GROWTH")
    seen = shown(env, "U0OMAR")
    assert "Before you ask Analytics" in seen and "analytics-viewers" in seen
    sim.click_button("U0OMAR", "This answered it")
    assert "Glad that helped — nothing was filed" in shown(env, "U0OMAR")
    with env.db.session() as s:
        assert s.exec(select(func.count()).select_from(ServiceRequest)).one() == 0
        assert s.exec(select(RequestOffer.outcome)).all() == ["deflected"]
    sim.command("U0OMAR", "/ssp", "stats analytics", channel_id="C0GROWTH")
    assert "1 deflected by the FAQ" in shown(env, "U0OMAR")
    # In Chinese too: 仪表盘 … 访问权限 matches the Chinese FAQ entry.
    sim.command("U0OMAR", "/ssp", "request analytics 我需要仪表盘的访问权限", channel_id="C0GROWTH")
    seen = shown(env, "U0OMAR")
    assert "如何获取仪表盘的访问权限" in seen
    sim.click_button("U0OMAR", "Still need help")
    seen = shown(env)
    assert "Filed `REQ-1` with *Analytics*" in seen and "[#analytics-requests]" in seen


BAD_INPUT = [
    ("request nowhere Please help", "There is no service team `nowhere`"),
    ("request growth Please help", "There is no service team `growth`"),
    ("request analytics " + "x" * 3001, "3,001 characters long; the limit is 3,000"),
    ("REQ-999", "There is no request REQ-999"),
    ("claim REQ-999", "There is no request REQ-999"),
    ("claim", "Which request?"),
    ("claim REQ-1", "Only members of Analytics (or an admin) can claim REQ-1"),
    ("assign REQ-1 <@U0OMAR|omar>", "Only members of Analytics (or an admin) can assign REQ-1"),
    ("rate REQ-1 4", "Only @lena, who asked, can rate REQ-1"),
    ("comment REQ-1", "The comment is empty"),
    ("faq add analytics What? | Nothing", "Only members of Analytics (or an admin) can add to its FAQ"),
    ("queue analytics", "Only members of Analytics and admins can see its queue"),
    ("queue", "You are not on a service team"),
    ("frobnicate", "I don't understand `/ssp frobnicate`"),
]


def test_bad_input_gets_a_clear_answer_and_changes_nothing(env: DemoStack) -> None:
    sim = env.sim
    sim.command("U0LENA", "/ssp", "request analytics Retention by cohort", channel_id="C0GROWTH")
    shown(env)

    def snapshot() -> tuple[object, ...]:
        with env.db.session() as s:
            req = s.exec(select(ServiceRequest)).one()
            events = s.exec(select(func.count()).select_from(RequestEvent)).one()
            return (req.status, req.assignee_id, req.rating, events)

    before = snapshot()
    lena = [
        ("rate REQ-1 0", "A rating is a whole number from 1 to 5, not `0`"),
        ("rate REQ-1 five", "A rating is a whole number from 1 to 5, not `five`"),
        ("rate REQ-1 3", "you can rate it once it is resolved"),
        ("reopen REQ-1", "REQ-1 is new, not resolved"),
    ]
    for user, cases in (("U0OMAR", BAD_INPUT), ("U0LENA", lena)):
        for text, message in cases:
            sim.command(user, "/ssp", text, channel_id="C0GROWTH")
            seen = shown(env, user)
            assert ":warning:" in seen and message in seen, (text, seen)
    sim.command("U0LENA", "/ssp", "request analytics", channel_id="C0GROWTH")  # the form, team chosen
    assert "(Analytics)" in shown(env, "U0LENA")
    sim.submit_view("U0LENA", {Field.SUMMARY.value: "   "})
    assert "The summary is empty" in shown(env, "U0LENA")
    sim.close_view("U0LENA")
    # A member: assigning outside the team, resolving twice.
    sim.command("U0SOFIA", "/ssp", "assign REQ-1 <@U0OMAR|omar>", channel_id="C0ANALYTICS")
    assert "@omar is not on Analytics" in shown(env, "U0SOFIA")
    assert snapshot() == before
    sim.command("U0SOFIA", "/ssp", "resolve REQ-1 Done", channel_id="C0ANALYTICS")
    shown(env)
    after = snapshot()
    sim.command("U0SOFIA", "/ssp", "resolve REQ-1 Done again", channel_id="C0ANALYTICS")
    assert "REQ-1 is already resolved" in shown(env, "U0SOFIA")
    sim.command("U0LENA", "/ssp", "rate REQ-1 9", channel_id="C0GROWTH")
    assert "not `9`" in shown(env, "U0LENA")
    assert snapshot() == after
    sim.command("U0OMAR", "/ssp", "help", channel_id="C0GROWTH")
    assert "/ssp request" in shown(env, "U0OMAR")
