"""/digest end to end: a person typing the command in a channel, the real app answering over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import func, select

from bot.demo.run import DemoStack
from storage.models.digests import DigestSubscription
from tests.digests.support import NINE_BERLIN, delivered


@pytest.fixture
def env(slack_env: DemoStack) -> Iterator[DemoStack]:
    slack_env.fw.ctx.clock.freeze(NINE_BERLIN - timedelta(hours=1))
    slack_env.sim.take_outputs()
    yield slack_env


def say(env: DemoStack, user: str, text: str, channel: str = "C0GROWTH", outputs: int = 1) -> str:
    """Run `/digest <text>` and return everything shown for it (at least `outputs` of them:
    a lazy listener answers after the acknowledgement), rendered."""
    before = len(env.sim.outputs)
    env.sim.command(user, "/digest", text, channel_id=channel)
    env.sim.wait_for(lambda: len(env.sim.outputs) >= before + outputs, timeout=15)
    env.sim.settle()
    return "\n".join(env.sim.render_output(o) for o in env.sim.take_outputs())


def count(env: DemoStack) -> int:
    with env.db.session() as s:
        return int(s.exec(select(func.count()).select_from(DigestSubscription)).one())


def test_add_list_remove(env: DemoStack) -> None:
    assert "This channel has no digests yet" in say(env, "U0LENA", "")
    out = say(env, "U0LENA", "add okr daily 09:00 tz:Europe/Berlin")
    assert "[ephemeral to @lena in #growth]" in out
    assert "`D-1`: the OKR digest will be posted here daily 09:00 Europe/Berlin" in out
    assert "First one: Mon 6 Dec 09:00 CET" in out
    out = say(env, "U0OMAR", "add reviews weekly FRIDAY 17:30 tz:america/new_york")
    assert "`D-2`: the Product-review digest will be posted here weekly Fri 17:30 America/New_York" in out
    out = say(env, "U0MAYA", "list")
    assert "`D-1` *OKR* · daily 09:00 Europe/Berlin · next Mon 6 Dec 09:00 CET · added by @lena" in out
    assert "`D-2` *Product-review* · weekly Fri 17:30 America/New_York · next Fri 10 Dec 17:30 EST" in out
    # Slack shows the times in each reader's own zone: they are date tokens.
    raw = env.sim.outputs[-1].blocks
    assert (
        f"<!date^{int(NINE_BERLIN.timestamp())}^{{date_short_pretty}} {{time}}|Mon 6 Dec 09:00 CET>"
        in str(raw)
    )
    # Any member of the channel may remove one; it answers with what stopped.
    assert "`D-1` removed: no more OKR digest daily 09:00 Europe/Berlin here." in say(
        env, "U0OMAR", "remove d-1"
    )
    assert count(env) == 1


def test_help_names_every_form(env: DemoStack) -> None:
    out = say(env, "U0LENA", "help")
    for form in ("/digest add <okr|ssp|postmortems|reviews> daily HH:MM [tz:<zone>]", "/digest remove D-n"):
        assert form in out
    assert "/digest preview <kind>" in out and "else in UTC" in out


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        (
            "add kudos daily 09:00",
            "`kudos` is not a digest kind — pick one of `okr`, `ssp`, `postmortems`, `reviews`.",
        ),
        ("add okr daily 9am", "`9am` is not a time — give it as 24-hour `HH:MM`, like `09:00` or `17:30`."),
        ("add okr daily 24:00", "`24:00` is not a time"),
        ("add okr weekly someday 09:00", "`someday` is not a day — use `mon`, `tue`"),
        (
            "add okr weekly 09:00",
            "A weekly digest needs a day and a time, like `/digest add okr weekly mon 09:00`.",
        ),
        ("add okr hourly 09:00", "How often? I got `hourly`; say `daily` or `weekly`."),
        ("add okr daily 09:00 tz:Europe/Atlantis", "`Europe/Atlantis` is not a time zone I know"),
        ("add okr daily 09:00 tz:UTC tz:UTC", "Give the time zone once"),
        ("remove 7", "`7` is not a digest ID — expected something like `D-12`."),
        ("remove", "Which one? Give its ID: `/digest remove D-3`"),
        ("preview", "Which digest? `/digest preview <okr|ssp|postmortems|reviews>`."),
        ("subscribe okr", "I don't understand `/digest subscribe okr`."),
    ],
)
def test_bad_input_gets_a_clear_answer_and_changes_nothing(env: DemoStack, text: str, answer: str) -> None:
    out = say(env, "U0LENA", text)
    assert answer in out and "Traceback" not in out
    assert count(env) == 0 and env.sim.calls_to("chat.postMessage") == []


def test_a_duplicate_and_the_twenty_first_subscription_are_refused(env: DemoStack) -> None:
    for hour in range(20):
        assert "will be posted here" in say(env, "U0LENA", f"add okr daily {hour:02d}:15")
    assert "This channel already gets that digest: `D-4` (okr, daily 03:15 UTC)." in say(
        env, "U0OMAR", "add okr daily 03:15"
    )
    out = say(env, "U0OMAR", "add okr daily 21:15")
    assert "This channel already has 20 digests, the most one channel can have." in out
    assert count(env) == 20
    # Another channel has its own twenty.
    assert "will be posted here" in say(env, "U0MAYA", "add okr daily 21:15", channel="C0GENERAL")


def test_removing_another_channels_subscription_reveals_nothing(env: DemoStack) -> None:
    say(env, "U0PRIYA", "add okr daily 09:00", channel="C0PAYMENTS")
    out = say(env, "U0LENA", "remove D-1")
    assert "There is no digest `D-1` in this channel. `/digest` lists this channel's digests." in out
    assert "payments" not in out.split("]", 1)[1] and count(env) == 1


def test_a_digest_needs_the_bot_in_the_channel_and_a_channel(env: DemoStack) -> None:
    env.sim.add_channel("C0QUIET", "quiet", members=["U0LENA"], bot_member=False)
    out = say(env, "U0LENA", "add okr daily 09:00", channel="C0QUIET")
    assert "I'm not a member of #quiet, so I can't post digests there yet." in out
    out = say(env, "U0LENA", "add okr daily 09:00", channel=env.sim.im_channel("U0LENA"))
    assert "Digests are posted in channels" in out
    assert count(env) == 0
    assert "I'm not a member of #quiet" in say(env, "U0LENA", "preview okr", channel="C0QUIET", outputs=2)


def test_preview_posts_the_digest_in_the_channel_now_and_is_not_a_delivery(env: DemoStack) -> None:
    out = say(env, "U0LENA", "preview okr", outputs=2)
    assert "Putting together the OKR digest" in out
    assert "[#growth]\n== OKR digest ==" in out and "Preview asked for by @lena" in out
    assert delivered(env, "C0GROWTH") == []  # a preview is not a scheduled period
    out = say(env, "U0LENA", "preview reviews", outputs=2)
    assert "== Product-review digest ==" in out and "No product-review channels are registered" in out
    for kind, title in (("ssp", "Shared-service"), ("postmortems", "Postmortem")):
        out = say(env, "U0LENA", f"preview {kind}", outputs=2)
        assert f"== {title} digest ==" in out and "Preview asked for by @lena" in out


def test_a_subscription_added_by_command_is_delivered_by_the_job(env: DemoStack) -> None:
    from bot.digests.deliver import run_due

    say(env, "U0LENA", "add okr daily 09:00 tz:Europe/Berlin")
    env.fw.ctx.clock.freeze(NINE_BERLIN)
    run_due(env.fw.ctx, env.fw.app.client)
    run_due(env.fw.ctx, env.fw.app.client)
    env.sim.settle()
    assert delivered(env, "C0GROWTH") == ["digest:D-1:2027-12-06"]
    assert "== Daily OKR digest ==" in env.sim.render_output(env.sim.take_outputs()[-1])
