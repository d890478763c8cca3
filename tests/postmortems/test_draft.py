"""A draft from a channel's history: every page read, entries in time order at each message's own time.

The history is served by the simulator's Web API over HTTP, capped at 3 messages a page, so a
channel of a dozen messages spans several pages — read newest first, as Slack returns them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from slack_sdk import WebClient

from bot.common.errors import UserError
from bot.postmortems import channel, drafting, items
from bot.postmortems import service as svc
from bot.simulator import Simulator
from storage.db import Database

START = 1796047320  # 2026-11-30 14:02:00 UTC


@pytest.fixture
def sim() -> Iterator[Simulator]:
    s = Simulator(signing_secret="secret", bot_token="xoxb-t").start()
    for uid, name in [("U0TOM", "tom"), ("U0JONAS", "jonas"), ("U0PRIYA", "priya")]:
        s.add_user(uid, name)
    s.add_channel("C0INC", "inc-7-login-errors", members=["U0TOM", "U0JONAS", "U0PRIYA"])
    yield s
    s.stop()


def _ts(minutes: int, micro: int = 0) -> str:
    return f"{START + minutes * 60}.{micro:06d}"


def _seed(sim: Simulator) -> list[str]:
    """Twelve human messages (posted out of order), a bot post and a thread reply."""
    said = []
    for i in [3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10]:
        who = ["U0TOM", "U0JONAS", "U0PRIYA"][i % 3]
        ts = _ts(i, i)
        sim.post_message(
            "C0INC", who, f"step {i}: <@U0TOM> check <https://grafana.example/d/x|the dashboard>", ts=ts
        )
        said.append(ts)
    sim.workspace.post_message(
        "C0INC", text="Flywheel says hi", user="U0FLYWHEEL", bot_id="B0FLYWHEEL", ts=_ts(12)
    )
    sim.post_message("C0INC", "U0JONAS", "reply in a thread", thread_ts=_ts(0, 0), ts=_ts(14))
    return sorted(said, key=float)


def test_every_page_is_read_and_entries_are_in_time_order_at_their_own_time(
    sim: Simulator, db: Database
) -> None:
    said = _seed(sim)
    sim.api.cap_page("conversations.history", 3)
    client = WebClient(token="xoxb-t", base_url=sim.api_url)

    raw = channel.history(client, "C0INC")
    pages = sim.calls_to("conversations.history")
    assert len(pages) >= 5, "a dozen messages at 3 a page span several pages"
    assert [float(m["ts"]) for m in raw] == sorted(
        (float(m["ts"]) for m in raw), reverse=True
    )  # newest first

    entries = drafting.timeline_from(
        raw,
        channel_id="C0INC",
        workspace_url=channel.workspace_url(client),
        bot_user_id=channel.bot_user_id(client),
    )
    # The bot's own post stays out; the thread reply is not in the channel's history.
    human = entries
    assert [e.ts for e in human] == said
    assert human[0].text == "step 0: <@U0TOM> check the dashboard (https://grafana.example/d/x)"
    assert human[0].link == f"https://flywheel-demo.slack.com/archives/C0INC/p{said[0].replace('.', '')}"

    with db.session() as s:
        drafted = items.draft_from_channel(
            db_session=s,
            actor_id="U0PRIYA",
            channel_id="C0INC",
            channel_name="inc-7-login-errors",
            entries=human,
        )
        d = svc.detail(db_session=s, postmortem_id=drafted.pm.id or 0)
    assert drafted.created and drafted.added == 12
    assert d.pm.title == "INC-7: login errors" and d.pm.channel_id == "C0INC"
    assert [e.at for e in d.timeline] == [datetime.fromtimestamp(float(ts), tz=UTC) for ts in said]
    assert d.timeline[0].at == datetime(2026, 11, 30, 14, 2, 0, tzinfo=UTC)
    assert d.timeline[3].at == datetime(2026, 11, 30, 14, 5, 0, 3, tzinfo=UTC)
    assert set(d.participants) == {"U0TOM", "U0JONAS"}  # the author is not listed twice


def test_drafting_again_adds_only_the_new_messages(sim: Simulator, db: Database) -> None:
    said = _seed(sim)
    sim.api.cap_page("conversations.history", 4)
    client = WebClient(token="xoxb-t", base_url=sim.api_url)

    def draft() -> items.Drafted:
        entries = drafting.timeline_from(
            channel.history(client, "C0INC"),
            channel_id="C0INC",
            workspace_url="https://x.slack.com/",
            bot_user_id="U0FLYWHEEL",
        )
        with db.session() as s:
            return items.draft_from_channel(
                db_session=s,
                actor_id="U0TOM",
                channel_id="C0INC",
                channel_name="inc-7-login-errors",
                entries=entries,
            )

    first = draft()
    sim.post_message("C0INC", "U0JONAS", "Declaring sev 1 after all", ts=_ts(30))
    second = draft()
    assert (second.created, second.added, second.pm.id) == (False, 1, first.pm.id)
    with db.session() as s:
        d = svc.detail(db_session=s, postmortem_id=first.pm.id or 0)
    assert len(d.timeline) == first.added + 1 and d.timeline[-1].text == "Declaring sev 1 after all"
    assert len(said) == 12


def test_severity_title_and_speakers_come_from_the_chatter() -> None:
    entries = [
        drafting.DraftEntry(ts="1.000001", user="U0TOM", text="Alert fired", link=""),
        drafting.DraftEntry(ts="2.000001", user="U0PRIYA", text="Declaring an incident, SEV-2", link=""),
        drafting.DraftEntry(ts="3.000001", user="U0TOM", text="now sev 1", link=""),
    ]
    assert drafting.severity_from(entries) == 2
    assert drafting.speakers(entries) == ["U0TOM", "U0PRIYA"]
    assert drafting.title_from_channel("inc-42-checkout-errors") == "INC-42: checkout errors"
    assert drafting.title_from_channel("payments-war-room") == "Incident in #payments-war-room"


def test_a_channel_the_bot_cannot_read_gets_a_clear_answer(sim: Simulator) -> None:
    sim.add_channel("C0OPEN", "open", members=["U0TOM"], bot_member=False)
    sim.add_channel("C0SECRET", "secret", members=["U0TOM"], is_private=True, bot_member=False)
    client = WebClient(token="xoxb-t", base_url=sim.api_url)
    with pytest.raises(UserError, match="Invite me with `/invite @Flywheel`"):
        channel.history(client, "C0OPEN")
    with pytest.raises(UserError, match="I can't read this channel's history"):
        channel.history(client, "C0SECRET")
