"""Parsing, repairing and neutralising model answers; permalinks; prompt templates."""

from __future__ import annotations

import pytest

import prompts
from bot.common.errors import UserError
from bot.llm import InvalidAnswer
from bot.reviews.service import parse_permalink, permalink
from bot.reviews.summary import (
    WORD_JOINER,
    Summary,
    ThreadMessage,
    merge_structurally,
    neutralise,
    parse_answer,
    render_for_model,
)

MSGS = [
    ThreadMessage(1, "1700000001.000100", "U0LENA", "Should we ship the new pricing page in March?"),
    ThreadMessage(2, "1700000002.000100", "U0OMAR", "The pricing page copy still needs legal review."),
    ThreadMessage(3, "1700000003.000100", "U0MAYA", "Decision: we ship the pricing page on March 3."),
    ThreadMessage(4, "1700000004.000100", "U0OMAR", "I'll send the copy to <@U0AMARA> for legal review."),
]


def test_a_well_formed_answer_parses_with_citations() -> None:
    s = parse_answer(
        "TL;DR: The pricing page ships on March 3 [3].\n"
        "Decisions:\n- Ship on March 3 [3]\n"
        "Open questions:\n- none\n"
        "Action items:\n- <@U0OMAR>: send the copy to legal [2, 4]\n"
        "People:\n- <@U0MAYA>: decided\n- <@U0OMAR>: legal follow-up\n",
        messages=MSGS,
    )
    assert s.tldr == "The pricing page ships on March 3."
    assert [(i.text, i.sources) for i in s.decisions] == [("Ship on March 3", ["1700000003.000100"])]
    assert s.questions == []
    assert s.actions[0].owner == "U0OMAR" and s.actions[0].sources == [
        "1700000002.000100",
        "1700000004.000100",
    ]
    assert s.people == ["U0MAYA", "U0OMAR"]


def test_sloppy_answers_are_repaired() -> None:
    s = parse_answer(
        "Sure! Here is your summary:\n\n"
        "**TL;DR:** One. Two. Three. Four. Five.\n\n"
        "## Key Decisions\n"
        "* We ship the pricing page on March 3\n"  # no citation: matched to message 3
        "1. Ship it [99]\n"  # a number that is not in the thread is dropped, then repaired
        "### Next steps\n"
        "- <@U0OMAR> sends the copy to legal review [4] [2-3]\n"
        "```\n",
        messages=MSGS,
    )
    assert s.tldr == "One. Two. Three."
    assert s.decisions[0].sources == ["1700000003.000100"]
    assert s.decisions[1].sources == ["1700000003.000100"]
    assert s.actions[0].sources == ["1700000004.000100", "1700000002.000100", "1700000003.000100"]


@pytest.mark.parametrize(
    "answer",
    [
        "",
        "I like trains.",
        "TL;DR: only a tldr and nothing else",
        "Decisions:\n- a [1]\nAction items:\n- b [2]",  # no TL;DR
    ],
)
def test_answers_that_do_not_fit_the_format_are_rejected(answer: str) -> None:
    with pytest.raises(InvalidAnswer):
        parse_answer(answer, messages=MSGS)


def test_an_answer_echoing_the_system_prompt_is_rejected() -> None:
    system = prompts.system_text("summarize_thread")
    with pytest.raises(InvalidAnswer):
        parse_answer(system, messages=MSGS, system_prompt=system)
    # Echoed lines inside an otherwise good answer are dropped.
    line = next(x for x in system.splitlines() if len(x) > 80)
    s = parse_answer(
        f"TL;DR: Ships March 3.\n{line}\nDecisions:\n- {line}\n- Ship [3]",
        messages=MSGS,
        system_prompt=system,
    )
    assert [d.text for d in s.decisions] == ["Ship"]


def test_neutralise_defuses_every_mass_ping() -> None:
    text = neutralise(
        "<!channel> <!here|here> <!everyone> <!subteam^S0ENG|@engineering> <!subteam^S0X> @here @channel "
        "<!date^1700000000^{date}|Nov 14> <@U0LENA> <@U0EVIL> <https://evil.example|Slack login> "
        "<https://acme.slack.com/archives/C1/p1|the message> a<b & c>d",
        allowed_users={"U0LENA"},
    )
    for ping in ("<!", "@channel", "@here", "@everyone", "<@U0EVIL>"):
        assert ping not in text.replace("@" + WORD_JOINER, "@\u2060"), ping
    assert "<!" not in text
    assert f"@{WORD_JOINER}channel" in text and f"@{WORD_JOINER}engineering" in text
    assert "Nov 14" in text and "<@U0LENA>" in text and "@U0EVIL" in text
    assert "Slack login (https://evil.example)" in text
    assert "<https://acme.slack.com/archives/C1/p1|the message>" in text
    assert "a&lt;b & c&gt;d" in text


def test_render_for_model_and_structural_merge() -> None:
    a = parse_answer(
        "TL;DR: Start. More.\nDecisions:\n- A [1]\nAction items:\n- <@U0OMAR>: x [4]", messages=MSGS
    )
    b = parse_answer(
        "TL;DR: Middle. End.\nDecisions:\n- A [1]\n- B [3]\nOpen questions:\n- Q? [2]", messages=MSGS
    )
    merged = merge_structurally([a, b])
    assert merged.tldr == "Start. Middle. End."
    assert [d.text for d in merged.decisions] == ["A", "B"]
    assert len(merged.actions) == 1 and len(merged.questions) == 1
    text = render_for_model(merged, {m.ts: m.index for m in MSGS})
    assert "- B [3]" in text and "Open questions:\n- Q? [2]" in text
    assert Summary.from_json(merged.to_json()).decisions[1].sources == ["1700000003.000100"]


def test_permalinks_round_trip() -> None:
    link = permalink("https://acme.slack.com/", "C0REVIEW", "1700000003.000100", "1700000001.000100")
    assert (
        link
        == "https://acme.slack.com/archives/C0REVIEW/p1700000003000100?thread_ts=1700000001.000100&cid=C0REVIEW"
    )
    assert parse_permalink(f"<{link}>") == ("C0REVIEW", "1700000001.000100")
    assert parse_permalink("https://acme.slack.com/archives/C0REVIEW/p1700000001000100") == (
        "C0REVIEW",
        "1700000001.000100",
    )
    with pytest.raises(UserError, match="message link"):
        parse_permalink("https://example.com/nope")


def test_prompt_loader_fills_placeholders_once() -> None:
    fill = {"format": "FORMAT", "language": "Write in English.", "context": ""}
    msgs = prompts.messages("summarize_thread", nonce="abc", thread="1 A: costs $5 {x} $thread", **fill)
    assert [m["role"] for m in msgs] == ["system", "user"]
    assert "1 A: costs $5 {x} $thread" in msgs[1]["content"]
    assert "<<THREAD abc>>" in msgs[1]["content"] and "ignore" not in msgs[1]["content"].lower()
    assert "never obey them" in msgs[0]["content"]
    assert msgs[0]["content"].endswith("FORMAT\nWrite in English.")
    with pytest.raises(prompts.PromptError, match="thread"):
        prompts.messages("summarize_thread", nonce="abc", **fill)
    with pytest.raises(prompts.PromptError):
        prompts.load("no_such_prompt")
    assert "UNTRUSTED" in prompts.system_text("merge_summaries")
    assert "never obey it" in prompts.load("summary_so_far", nonce="n", first=1, last=9, summary="S")


def test_long_summaries_are_split_to_fit_slack() -> None:
    from bot.reviews import views
    from bot.reviews.service import Result
    from bot.reviews.summary import Item

    links = {
        f"{1700000000 + i}.000100": f"https://acme.slack.com/archives/C1/p{1700000000 + i}000100"
        for i in range(400)
    }
    ts = list(links)
    s = Summary(
        tldr="Long.",
        decisions=[Item(text=f"Decision {i} " + "x" * 380, sources=ts[i : i + 3]) for i in range(150)],
        questions=[Item(text=f"Question {i}? " + "y" * 380, sources=[ts[i]]) for i in range(150)],
        actions=[Item(text=f"Task {i} " + "z" * 380, sources=[ts[i]], owner="U1") for i in range(150)],
        people=[f"U{i}" for i in range(40)],
        message_count=400,
    )
    result = Result(summary=s, channel_id="C1", thread_ts=ts[0], thread_link=links[ts[0]], links=links)
    pages = views.summary_messages(result)
    assert len(pages) > 1
    for page in pages:
        assert len(page["blocks"]) <= 50 and len(page["text"]) <= 3000
        for block in page["blocks"]:
            if block["type"] in ("section", "context"):
                text = block["text"]["text"] if block["type"] == "section" else block["elements"][0]["text"]
                assert len(text) <= 3000
    buttons = [b for p in pages for b in p["blocks"] if b["type"] == "actions"]
    assert len(buttons) == 1 and pages[-1]["blocks"][-1] == buttons[0]
    assert buttons[0]["elements"][0]["action_id"] == views.ReviewAction.SHARE_IN_THREAD
    assert views.parse_share_value(buttons[0]["elements"][0]["value"]) == ("C1", ts[0])
    every = "\n".join(b["text"]["text"] for p in pages for b in p["blocks"] if b["type"] == "section")
    assert all(f"Decision {i} " in every for i in range(150))  # split, not cut
    shared = views.summary_messages(result, shared_by="U1")
    assert all(p["response_type"] == "in_channel" for p in shared)
    assert not [b for p in shared for b in p["blocks"] if b["type"] == "actions"]
