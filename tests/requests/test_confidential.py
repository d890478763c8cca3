"""A confidential team's request does not exist for outsiders — on every path that can show it:
commands, buttons, DMs, the App Home, the intake post and the suggestions offered before filing."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlmodel import select

from bot.common.errors import NotFound
from bot.demo.run import DemoStack
from bot.requests import faq, queries
from bot.teams import service as teams
from storage.models.requests import ServiceRequest

OUTSIDER, REQUESTER, MEMBER, ADMIN = "U0OMAR", "U0JONAS", "U0AMARA", "U0MAYA"


@pytest.fixture
def env(slack_env: DemoStack) -> Iterator[DemoStack]:
    slack_env.sim.take_outputs()
    yield slack_env


def shown(env: DemoStack, user: str) -> str:
    env.sim.settle()
    return "\n".join(env.sim.render_output(o) for o in env.sim.take_outputs() if o.user in (user, None))


def _file(env: DemoStack) -> tuple[int, str]:
    env.sim.command(
        REQUESTER, "/ssp", "request legal Vendor DPA for PayFast before the pilot", channel_id="C0PAYMENTS"
    )
    env.sim.settle()
    with env.db.session() as s:
        req = s.exec(select(ServiceRequest)).one()
    return req.id or 0, f"REQ-{req.id}"


def _normalise(text: str, ref: str) -> str:
    return re.sub(r"@\w+", "@x", text.replace(ref, "REQ-n").replace("REQ-999", "REQ-n"))


def test_outsiders_get_not_found_everywhere(env: DemoStack) -> None:
    sim = env.sim
    rid, ref = _file(env)
    outputs = sim.take_outputs()
    # The intake post went to the team's (private) channel only.
    posts = [o for o in outputs if o.kind == "message" and o.channel and not o.channel.startswith("D")]
    assert [o.channel for o in posts] == ["C0LEGAL"]
    intake = sim.messages("C0LEGAL")[-1]

    # Commands: the answer is the very one an unknown ID gets.
    sim.command(OUTSIDER, "/ssp", "REQ-999", channel_id="C0GENERAL")
    unknown = shown(env, OUTSIDER)
    for text in (
        ref,
        f"status {ref}",
        f"claim {ref}",
        f"comment {ref} hello",
        f"resolve {ref}",
        f"reopen {ref}",
    ):
        sim.command(OUTSIDER, "/ssp", text, channel_id="C0GENERAL")
        seen = shown(env, OUTSIDER)
        assert f"There is no request {ref}." in seen and "PayFast" not in seen, (text, seen)
    sim.command(OUTSIDER, "/ssp", ref, channel_id="C0GENERAL")
    assert _normalise(shown(env, OUTSIDER), ref) == _normalise(unknown, ref)
    sim.command(OUTSIDER, "/ssp", "queue legal", channel_id="C0GENERAL")
    seen = shown(env, OUTSIDER)
    assert "Only members of Legal" in seen and "PayFast" not in seen

    # Buttons: someone who got hold of the intake post's buttons (or forged a click).
    for action in (
        f"ssp_open:{rid}",
        f"ssp_claim:{rid}",
        f"ssp_assign:{rid}",
        f"ssp_resolve:{rid}",
        f"ssp_rate:{rid}:5",
    ):
        sim.click(OUTSIDER, action, value=action.split(":", 1)[1], message=intake)
        seen = shown(env, OUTSIDER)
        assert f"There is no request {ref}." in seen and "PayFast" not in seen, (action, seen)
    with env.db.session() as s:
        req = s.get(ServiceRequest, rid)
        assert req is not None and req.status == "new" and req.assignee_id is None

    # The App Home: the outsider's shows nothing of it; the requester's and the member's do.
    for user, visible in ((OUTSIDER, False), (REQUESTER, True), (MEMBER, True)):
        sim.open_home(user)
        seen = shown(env, user)
        assert ("PayFast" in seen) is visible, (user, seen)

    # The member triages; every DM about it goes to the requester or the team, nobody else.
    sim.command(MEMBER, "/ssp", f"claim {ref}", channel_id="C0LEGAL")
    sim.command(MEMBER, "/ssp", f"resolve {ref} Signed our DPA template", channel_id="C0LEGAL")
    sim.settle()
    told = {o.user for o in sim.take_outputs() if "PayFast" in sim.render_output(o) or ref in (o.text or "")}
    assert told <= {REQUESTER, MEMBER, None}
    dm_users = {c.params.get("channel") for c in sim.calls_to("chat.postMessage")}
    assert OUTSIDER not in dm_users

    # Admins and members can read it.
    for user in (ADMIN, MEMBER, REQUESTER):
        sim.command(user, "/ssp", ref, channel_id="C0GENERAL")
        assert "PayFast" in shown(env, user)


def test_suggestions_never_offer_a_confidential_request_to_outsiders(env: DemoStack) -> None:
    rid, ref = _file(env)
    env.sim.command(MEMBER, "/ssp", f"resolve {ref} Signed on our DPA template", channel_id="C0LEGAL")
    env.sim.settle()
    env.sim.take_outputs()
    question = "DPA for the PayFast vendor"
    with env.db.session() as s:
        legal = teams.find_service(db_session=s, name="legal")
        for user, admin, expected in (
            (OUTSIDER, False, False),
            (REQUESTER, False, True),
            (MEMBER, False, True),
            (ADMIN, True, True),
        ):
            refs = [
                x.ref
                for x in faq.suggest(db_session=s, team=legal, text=question, user_id=user, is_admin=admin)
            ]
            assert (ref in refs) is expected, (user, refs)
        with pytest.raises(NotFound):
            queries.status(
                db_session=s, request_id=rid, user_id=OUTSIDER, is_admin=False, now=env.fw.ctx.clock.now()
            )
    # Through Slack: the outsider asking the same is not shown it (and may still file).
    env.sim.command(OUTSIDER, "/ssp", f"request legal {question}", channel_id="C0GENERAL")
    seen = shown(env, OUTSIDER)
    assert ref not in seen and "PayFast before the pilot" not in seen
    env.sim.command(REQUESTER, "/ssp", f"request legal {question}", channel_id="C0GENERAL")
    seen = shown(env, REQUESTER)
    assert f"Similar resolved request `{ref}`" in seen and "Signed on our DPA template" in seen


def test_a_team_that_is_not_confidential_is_open_to_read(env: DemoStack) -> None:
    env.sim.command(
        REQUESTER, "/ssp", "request research Diary study about invoicing habits", channel_id="C0GENERAL"
    )
    env.sim.settle()
    env.sim.take_outputs()
    env.sim.command(OUTSIDER, "/ssp", "REQ-1", channel_id="C0GENERAL")
    seen = shown(env, OUTSIDER)
    assert "Diary study about invoicing habits" in seen
    env.sim.command(OUTSIDER, "/ssp", "claim REQ-1", channel_id="C0GENERAL")
    assert "Only members of User research (or an admin) can claim REQ-1" in shown(env, OUTSIDER)
