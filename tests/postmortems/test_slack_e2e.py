"""/postmortem end to end: the real app over HTTP, driven through the Slack simulator like people would.

`/postmortem draft` in the demo's incident channel → the template modal → an action item by modal
(after a bad due date) → a refused move → review, where the blameless check stops to show a
finding → "Send for review anyway" → a fix in the "Edit timeline" modals → publish, announced in
#postmortems. Then :pushpin: idempotence, "Publish anyway", bad input, the App Home and reminders.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.demo import seed
from bot.demo.run import DemoStack
from bot.jobs import run_all
from bot.postmortems import items, reminders, workflow
from bot.postmortems import service as svc
from bot.postmortems.actions import Field
from storage.models import Delivery
from storage.models.postmortems import ActionItem, Postmortem, TimelineEntry

INC = "C0INC42"
ANNOUNCE = "C0POSTMORTEMS"
Factory = Callable[..., DemoStack]


@pytest.fixture
def env(slack_env_factory: Factory) -> DemoStack:
    stack = slack_env_factory(conversations=True)
    stack.sim.take_outputs()
    return stack


def shown(env: DemoStack, user: str, *, until: str | None = None) -> str:
    """Everything shown to `user` (and posted in channels) since the last call, as text.

    Slow answers arrive after a "working on it" line: with `until`, wait (up to 15 s) for that text.
    """
    parts: list[str] = []
    deadline = time.monotonic() + 15
    while True:
        env.sim.settle()
        parts += [env.sim.render_output(o) for o in env.sim.take_outputs() if o.user in (user, None)]
        text = "\n".join(parts)
        if until is None or until in text or time.monotonic() > deadline:
            return text
        time.sleep(0.05)


def pm_row(env: DemoStack, pm_id: int) -> Postmortem:
    with env.db.session() as s:
        return svc.get(db_session=s, postmortem_id=pm_id)


def timeline(env: DemoStack, pm_id: int) -> list[TimelineEntry]:
    with env.db.session() as s:
        return svc.timeline_of(s, pm_id)


def test_draft_in_the_incident_channel_to_publish(env: DemoStack) -> None:
    sim = env.sim
    sim.command("U0PRIYA", "/postmortem", "draft", INC)
    seen = shown(env, "U0PRIYA", until="Drafted")
    assert "Reading this channel to draft a postmortem" in seen
    assert "Drafted *PM-1* from this channel: 9 messages on the timeline." in seen
    assert "Offline draft: the timeline only" in seen
    assert "SEV2 · :memo: draft · author @priya · participants @jonas, @maya, @tom" in seen

    # Every message of the channel, in order, at the time it was posted (Priya reads Singapore time).
    entries = timeline(env, 1)
    expected = [
        datetime.fromtimestamp(float(seed.incident_ts(m)), tz=UTC) for m, _, _ in seed.INCIDENT_CHATTER
    ]
    assert [e.at for e in entries] == expected
    assert [e.text for e in entries] == [t for _, _, t in seed.INCIDENT_CHATTER]
    first_local = expected[0].astimezone(ZoneInfo("Asia/Singapore"))
    assert f"`{first_local:%Y-%m-%d %H:%M}` @tom: Alert: checkout error rate 12%" in seen

    # The template modal, from the draft's Edit button; long fields are multiline.
    sim.click_button("U0PRIYA", "pm_edit:1")
    seen = shown(env, "U0PRIYA")
    assert '[modal "Edit PM-1" for @priya]' in seen
    view = sim.top_view("U0PRIYA")
    assert view is not None
    inputs = {b["block_id"]: b["element"] for b in view.payload["blocks"] if b["type"] == "input"}
    assert inputs[Field.text("summary")]["multiline"] and not inputs[Field.text("title")]["multiline"]
    sim.submit_view(
        "U0PRIYA",
        {
            "summary": "Checkout failed for 29 minutes after a deploy cut the adapter's pool to 5.",
            "impact": "Customers could not pay; retries worked, so no refunds were needed.",
            "who": "Checkout customers",
            "how many": "about 1,800 failed checkouts",
            "how long": "29 minutes",
            "detection": "The checkout error-rate alert, at 14:02 UTC.",
            "contributing": "- The pool size change passed review and CI without a load test.",
            "went well": "The rollback took 3 minutes.",
        },
    )
    seen = shown(env, "U0PRIYA")
    assert (
        "*Who:* Checkout customers · *How many:* about 1,800 failed checkouts · *How long:* 29 minutes"
        in seen
    )
    assert pm_row(env, 1).impact_count == "about 1,800 failed checkouts"

    # An action item by modal: a past due date is refused on its field, then it is added.
    sim.command("U0PRIYA", "/postmortem", "PM-1", INC)
    shown(env, "U0PRIYA")
    sim.click_button("U0PRIYA", "Add action item")
    assert '[modal "Add action item"' in shown(env, "U0PRIYA")
    yesterday = (env.fw.ctx.clock.now().astimezone(ZoneInfo("Asia/Singapore")) - timedelta(days=1)).date()
    sim.submit_view(
        "U0PRIYA",
        {"action item": "Load-test pool changes in CI", "owner": "U0JONAS", "due": yesterday.isoformat()},
    )
    assert "is in the past — pick today or later" in shown(env, "U0PRIYA")
    sim.submit_view(
        "U0PRIYA",
        {
            "action item": "Load-test pool changes in CI",
            "owner": "U0JONAS",
            "due": "2099-01-15",
            "type": "preventative",
        },
    )
    assert "Added `AI-1` Load-test pool changes in CI — @jonas · preventative · due 2099-01-15" in shown(
        env, "U0PRIYA"
    )

    # Someone who is neither author, participant nor admin may not move it.
    sim.command("U0OMAR", "/postmortem", "review PM-1", "C0GENERAL")
    assert "Only @priya (the author of PM-1), its participants or an admin can move it" in shown(
        env, "U0OMAR"
    )
    assert pm_row(env, 1).status == "draft"

    # Review: the check finds blame in the timeline and nothing moves until she says so.
    sim.command("U0PRIYA", "/postmortem", "review PM-1", INC)
    seen = shown(env, "U0PRIYA", until="blameless check")
    assert "Before *PM-1* goes to review: the blameless check found 1 passage that points at people." in seen
    assert (
        "“Jonas forgot”" in seen
        and "nothing in the process enforced checking the pool size in review" in seen
    )
    assert pm_row(env, 1).status == "draft"
    sim.click_button("U0PRIYA", "Send for review anyway")
    assert "*PM-1* is in review." in shown(env, "U0PRIYA")
    assert pm_row(env, 1).status == "in_review"

    # Publish: the same finding; this time she rephrases the entry in the timeline modals.
    sim.command("U0PRIYA", "/postmortem", "publish PM-1", INC)
    seen = shown(env, "U0PRIYA", until="Publish anyway")
    assert "Before *PM-1* is published" in seen and "[Publish anyway]" in seen
    assert pm_row(env, 1).status == "in_review"
    blameful = next(e for e in timeline(env, 1) if "forgot" in e.text)
    sim.command("U0PRIYA", "/postmortem", "PM-1", INC)
    shown(env, "U0PRIYA")
    sim.click_button("U0PRIYA", "Edit timeline")
    assert '[modal "Edit timeline"' in shown(env, "U0PRIYA")
    sim.click_button("U0PRIYA", f"pm_entry_edit:{blameful.id}")
    assert '[modal "Edit timeline entry"' in shown(env, "U0PRIYA")
    sim.submit_view(
        "U0PRIYA", {"what happened": "Root cause: the pool size change passed review without a load check"}
    )
    seen = shown(env, "U0PRIYA")
    assert (
        '[modal "Edit timeline"' in seen and "passed review without a load check" in seen
    )  # the list under it, refreshed
    assert next(e for e in timeline(env, 1) if e.id == blameful.id).at == blameful.at  # the time is kept
    sim.close_view("U0PRIYA")

    sim.command("U0PRIYA", "/postmortem", "publish PM-1", INC)
    seen = shown(env, "U0PRIYA", until="is published")
    assert "*PM-1* is published and announced in #postmortems." in seen
    assert "[#postmortems]\n== Postmortem published: PM-1 INC-42: checkout errors ==" in seen
    announced = [m for m in sim.messages(ANNOUNCE) if m.bot_id]
    assert len(announced) == 1 and "Load-test pool changes in CI" in str(announced[0].blocks)
    row = pm_row(env, 1)
    assert (row.status, row.published_by) == ("published", "U0PRIYA") and row.published_at is not None


def test_pushpin_adds_a_message_once_at_its_posted_time(env: DemoStack) -> None:
    sim = env.sim
    sim.command("U0TOM", "/postmortem", "new Checkout errors again sev:3", INC)
    assert "Drafted PM-1 *Checkout errors again* (SEV3)" in shown(env, "U0TOM")
    posted = seed.incident_ts(50)
    sim.post_message(INC, "U0JONAS", "Pool size restored to 40 in the config repo", ts=posted)
    sim.react("U0TOM", INC, posted, "pushpin")
    seen = shown(env, "U0TOM", until=":pushpin: Added")
    at = datetime.fromtimestamp(float(posted), tz=UTC)
    local = at.astimezone(ZoneInfo("America/New_York"))
    assert (
        f":pushpin: Added to the timeline of `PM-1` at {local:%Y-%m-%d %H:%M} (when it was posted)." in seen
    )

    # Pinned again by someone else, unpinned and pinned again, and another emoji: still one entry.
    sim.react("U0PRIYA", INC, posted, "pushpin")
    sim.workspace.remove_reaction(INC, posted, "pushpin", "U0TOM")
    sim.react("U0TOM", INC, posted, "pushpin")
    sim.react("U0MAYA", INC, posted, "eyes")
    assert ":pushpin: Added" not in shown(env, "U0TOM")
    entries = timeline(env, 1)
    assert [(e.at, e.text, e.posted_by, e.added_by) for e in entries] == [
        (at, "Pool size restored to 40 in the config repo", "U0JONAS", "U0TOM")
    ]
    assert entries[0].source_link.endswith(f"/archives/{INC}/p{posted.replace('.', '')}")

    # A thread reply is found through its thread; a pin in an unlinked channel adds nothing.
    reply = sim.post_message(INC, "U0PRIYA", "Confirmed on the dashboard", thread_ts=posted)
    sim.react("U0TOM", INC, reply, "pushpin")
    general = sim.post_message("C0GENERAL", "U0TOM", "Lunch?")
    sim.react("U0TOM", "C0GENERAL", general, "pushpin")
    assert "Added to the timeline of `PM-1`" in shown(env, "U0TOM", until=":pushpin: Added")
    texts = [e.text for e in timeline(env, 1)]
    assert texts == ["Pool size restored to 40 in the config repo", "Confirmed on the dashboard"]
    assert "thread_ts=" in timeline(env, 1)[1].source_link


def test_publish_names_empty_fields_then_publish_anyway(env: DemoStack) -> None:
    sim = env.sim
    sim.command("U0TOM", "/postmortem", "new Queue backlog sev:4", "C0PAYMENTS")
    shown(env, "U0TOM")
    with env.db.session() as s:
        workflow.request_review(
            db_session=s, actor_id="U0TOM", is_admin=False, postmortem_id=1, confirmed=True
        )
    sim.command("U0TOM", "/postmortem", "publish PM-1", "C0PAYMENTS")
    seen = shown(env, "U0TOM", until="can't be published")
    assert (
        "PM-1 can't be published yet: summary, impact, detection, contributing factors and timeline "
        "(at least one entry) are empty." in seen
    )
    with env.db.session() as s:
        svc.update(
            db_session=s,
            actor_id="U0TOM",
            is_admin=False,
            postmortem_id=1,
            changes={
                "summary": "The queue backed up.",
                "impact": "Emails were late.",
                "detection": "A dashboard.",
                "contributing_factors": "The on-call engineer ignored the lag alert.",
            },
        )
        items.add_timeline_entry(
            db_session=s,
            actor_id="U0TOM",
            is_admin=False,
            postmortem_id=1,
            at=datetime(2026, 12, 1, 9, tzinfo=UTC),
            text="Backlog starts",
        )
    sim.command("U0TOM", "/postmortem", "publish PM-1", "C0PAYMENTS")
    seen = shown(env, "U0TOM", until="Publish anyway")
    assert "“The on-call engineer ignored”" in seen and "*1. Contributing factors*" in seen
    findings = [e for e in sim.workspace.ephemerals if e.user == "U0TOM"][-1]
    sim.click_button("U0TOM", "Publish anyway")
    seen = shown(env, "U0TOM", until="is published")
    assert (
        "*PM-1* is published and announced in #postmortems. (1 blameless-check warning acknowledged.)" in seen
    )
    assert pm_row(env, 1).status == "published"
    # A second click (a double tap on the old message) changes nothing and announces nothing twice.
    sim.click("U0TOM", "pm_publish_anyway:1", "1", ephemeral=findings)
    assert "already published" in shown(env, "U0TOM", until="already published")
    assert len([m for m in sim.messages(ANNOUNCE) if m.bot_id]) == 1


def test_bad_input_gets_a_clear_answer_and_changes_nothing(env: DemoStack) -> None:
    sim = env.sim
    cases = [
        ("new Outage sev:7", "Severity `7` is not one of 1, 2, 3 or 4"),
        ("action PM-1 Fix it owner:@nobody due:tomorrow", "There is no postmortem PM-1"),
        ("publish PM-99", "There is no postmortem PM-99"),
        ("frobnicate", "I don't know `frobnicate`."),
        ("draft now", "`/postmortem draft` takes nothing else"),
        ("list someday", "`someday` is not a status."),
        ("action PM-1 Fix it due:tomorrow", "Who owns the action item? Add `owner:@name`."),
    ]
    for text, answer in cases:
        sim.command("U0TOM", "/postmortem", text, INC)
        seen = shown(env, "U0TOM")
        assert answer in seen, (text, seen)
    sim.command("U0TOM", "/postmortem", "draft", sim.im_channel("U0TOM"))
    assert "Run `/postmortem draft` in the incident channel" in shown(env, "U0TOM")
    sim.command("U0TOM", "/postmortem", "new Outage sev:2", INC)
    shown(env, "U0TOM")
    for text, answer in [
        ("action PM-1 Fix it owner:@nobody due:tomorrow", "I don't know anyone called `@nobody`."),
        ("action PM-1 Fix it owner:@jonas due:2001-01-01", "The due date 2001-01-01 is in the past"),
        ("action PM-1 Fix it owner:@jonas due:whenever", "I can't read the due date `whenever`"),
        ("action PM-1 Fix it owner:@jonas due:tomorrow type:urgent", "`urgent` is not an action item type"),
    ]:
        sim.command("U0TOM", "/postmortem", text, INC)
        assert answer in shown(env, "U0TOM"), text
    with env.db.session() as s:
        assert s.exec(select(ActionItem)).all() == []
        assert len(s.exec(select(Postmortem)).all()) == 1

    # The timeline modal refuses an entry with no text, on its field; nothing is added.
    sim.command("U0TOM", "/postmortem", "PM-1", INC)
    shown(env, "U0TOM")
    sim.click_button("U0TOM", "Add timeline entry")
    shown(env, "U0TOM")
    sim.submit_view("U0TOM", {"what happened": "   "})
    seen = shown(env, "U0TOM")
    assert "with errors" in seen and "The timeline entry is empty" in seen
    assert timeline(env, 1) == []
    sim.submit_view(
        "U0TOM", {"what happened": "Paged the payments on-call", "date": "2026-11-30", "time": "14:06"}
    )
    assert "Added to the timeline of PM-1 at 2026-11-30 14:06 (America/New_York)" in shown(
        env, "U0TOM", until="Added to the timeline"
    )
    (entry,) = timeline(env, 1)
    assert entry.at == datetime(2026, 11, 30, 19, 6, tzinfo=UTC)  # 14:06 in New York

    # Someone else may read it but gets no edit buttons, and an Edit click opens a notice, not the form.
    sim.command("U0OMAR", "/postmortem", "PM-1", "C0GENERAL")
    seen = shown(env, "U0OMAR")
    assert "Only its author, participants and admins can change it." in seen and "[Edit]" not in seen
    card = [e for e in sim.workspace.ephemerals if e.user == "U0OMAR"][-1]
    sim.click("U0OMAR", "pm_edit:1", "1", ephemeral=card)  # a stale or forged click
    assert "Only @tom (the author of PM-1), its participants or an admin can edit it." in shown(env, "U0OMAR")


def test_app_home_lists_my_action_items_and_reminders_come_once_a_day(env: DemoStack) -> None:
    sim, ctx = env.sim, env.fw.ctx
    now = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # 04:00 on the 2nd in Berlin, 22:00 on the 1st in New York
    ctx.clock.freeze(now)
    with env.db.session() as s:
        pm = svc.create(db_session=s, actor_id="U0PRIYA", title="Payout delay", severity=3)
        for title, owner, due in [
            ("Alert on batch runtime", "U0JONAS", now.date() - timedelta(days=2)),
            ("Resumable batch", "U0TOM", now.date()),  # tomorrow, in New York
            ("Runbook", "U0JONAS", now.date() + timedelta(days=9)),
        ]:
            items.add_action_item(
                db_session=s,
                actor_id="U0PRIYA",
                is_admin=False,
                postmortem_id=pm.id or 0,
                title=title,
                owner_id=owner,
                due_on=due,
                today=due - timedelta(days=20),
            )

    sim.open_home("U0JONAS")
    seen = shown(env, "U0JONAS")
    assert "== My action items ==" in seen
    assert (
        "`AI-1` Alert on batch runtime — @jonas · corrective · :red_circle: overdue since 2026-11-30 (2 days)"
        in seen
    )
    assert "`AI-3` Runbook" in seen and "due 2026-12-11" in seen

    assert reminders.run(ctx, env.fw.app.client) == 2
    env.sim.settle()
    dms = {o.user: env.sim.render_output(o) for o in env.sim.take_outputs() if o.kind == "message"}
    assert set(dms) == {"U0JONAS", "U0TOM"}
    assert "Alert on batch runtime" in dms["U0JONAS"] and "Runbook" not in dms["U0JONAS"]
    assert ":large_yellow_circle: due tomorrow" in dms["U0TOM"]

    # The same day — another run, the demo's `jobs`, a second replica — stays silent.
    assert reminders.run(ctx, env.fw.app.client) == 0
    assert run_all(ctx, env.fw.app.client) == 0
    env.sim.settle()
    assert [o for o in env.sim.take_outputs() if o.kind == "message"] == []
    with env.db.session() as s:
        keys = sorted(d.key for d in s.exec(select(Delivery).where(Delivery.kind == "pm_reminder")).all())
    assert keys == ["pm:remind:AI-1:2026-12-02", "pm:remind:AI-2:2026-12-01"]  # each owner's own day

    # The next day both are reminded again (Tom's is now due today in New York).
    ctx.clock.advance(timedelta(days=1))
    assert reminders.run(ctx, env.fw.app.client) == 2
    env.sim.settle()
    env.sim.take_outputs()

    # Done from the App Home: the item leaves the list and no reminder follows.
    sim.open_home("U0JONAS")
    shown(env, "U0JONAS")
    sim.click_button("U0JONAS", "pm_action_done:1")
    seen = shown(env, "U0JONAS")
    assert "[App Home of @jonas]" in seen and "Alert on batch runtime" not in seen
    ctx.clock.advance(timedelta(days=1))
    reminders.run(ctx, env.fw.app.client)
    env.sim.settle()
    dms = [
        env.sim.render_output(o)
        for o in env.sim.take_outputs()
        if o.kind == "message" and o.user == "U0JONAS"
    ]
    assert dms == []
