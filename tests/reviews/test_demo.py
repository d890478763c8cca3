"""The demo's review threads: the same links in every run, so the README's examples keep working."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.demo import review_thread, seed
from bot.simulator import Simulator

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"https://flywheel-demo\.slack\.com/archives/(C[A-Z0-9]+)/p(\d{10})(\d{6})")


def seeded() -> Simulator:
    sim = Simulator(signing_secret="demo-secret", bot_token="xoxb-demo-token")
    seed.seed_workspace(sim)
    seed.seed_conversations(sim)
    return sim


def test_seeded_review_threads_have_the_same_timestamps_in_every_run() -> None:
    first, second = seeded(), seeded()
    for channel, start, count in (
        ("C0REVIEW", seed.REVIEW_THREAD_START, len(review_thread.messages())),
        ("C0REVIEWZH", seed.CHINESE_THREAD_START, len(review_thread.chinese_messages())),
    ):
        root = seed.seeded_ts(start, 0)
        a = [m.ts for m in first.thread(channel, root)]
        b = [m.ts for m in second.thread(channel, root)]
        assert a == b and len(a) == count
        assert first.permalink(channel, a[-1]) == second.permalink(channel, b[-1])


@pytest.mark.parametrize("doc", ["README.md", "docs/reviews.md"])
def test_review_links_in_the_docs_point_at_seeded_threads(doc: str) -> None:
    sim = seeded()
    links = LINK.findall((ROOT / doc).read_text(encoding="utf-8"))
    assert links, f"{doc} shows no demo review link"
    for channel, sec, usec in links:
        message = sim.workspace.find_message(channel, f"{sec}.{usec}")  # raises when there is none
        assert not message.is_reply  # the thread's own link
