"""The offline summarizer on fixed threads: what it must find, and what it must not invent."""

from __future__ import annotations

import re

from bot.demo import review_thread
from bot.reviews import extractive
from bot.reviews.summary import WORD_JOINER, Summary, ThreadMessage

NAMES = {"@omar": "<@U0OMAR>", "@nina": "<@U0NINA>", "@amara": "<@U0AMARA>", "@sofia": "<@U0SOFIA>"}


def thread(pairs: list[tuple[str, str]]) -> list[ThreadMessage]:
    out = []
    for i, (user, text) in enumerate(pairs, 1):
        for name, mention in NAMES.items():  # as the Slack client encodes mentions
            text = text.replace(name, mention)
        out.append(ThreadMessage(i, f"{1700000000 + i}.000100", user, text))
    return out


def demo() -> tuple[list[ThreadMessage], Summary]:
    msgs = thread(review_thread.messages())
    return msgs, extractive.summarize(msgs)


def index(msgs: list[ThreadMessage], ts: str) -> int:
    return next(m.index for m in msgs if m.ts == ts)


def find(items: list, words: str) -> object:
    hits = [i for i in items if words.lower() in i.text.lower()]
    assert hits, f"{words!r} not among {[i.text for i in items]}"
    return hits[0]


def test_the_demo_threads_decisions_are_found() -> None:
    msgs, s = demo()
    for words in (
        "ship behind a flag to 10% of mobile",
        "guest checkout stays on the one-page flow",
        "Agreed on 250 KB",
        "collapsed 'Have a code?' link",
        "launches on the 28th even without Apple Pay",
        "rollback criteria",
    ):
        find(s.decisions, words)
    launch = find(s.decisions, "launches on the 28th")
    assert index(msgs, launch.sources[0]) == 57  # type: ignore[attr-defined]
    # The bare "Agreed." carries what it agreed to.
    assert "A drop of more than 2 points" in find(s.decisions, "rollback criteria").text  # type: ignore[attr-defined]
    assert "launches on the 28th" in s.tldr


def test_the_demo_threads_action_items_have_owners() -> None:
    _, s = demo()
    expected = {
        "usability sessions": "U0NINA",
        "tracking plan": "U0OMAR",
        "bundle-size check": "U0OMAR",
        "experiment dashboard": "U0SOFIA",
        "fallback to card entry": "U0JONAS",
        "accessibility audit": "U0LENA",
        "address editable": "U0OMAR",
        "legal intake": "U0PRIYA",
    }
    for words, owner in expected.items():
        assert find(s.actions, words).owner == owner, words  # type: ignore[attr-defined]
    # "Will do" / "Yes, I'll…" replies confirm an ask rather than adding a second item.
    assert not [a for a in s.actions if a.text.lower().startswith(("will do", "yes,"))][1:]
    nina = find(s.actions, "usability sessions")
    assert len(nina.sources) == 2  # type: ignore[attr-defined]  # the ask and the "On it."


def test_only_unanswered_questions_are_open() -> None:
    _, s = demo()
    texts = " ".join(q.text for q in s.questions)
    for open_question in ("saved addresses for guests", "old 3-step flow", "translations"):
        assert open_question in texts
    for answered in (
        "tokenization is live",
        "PCI scope",
        "sane budget",
        "screen-reader",
        "owner on that audit",
    ):
        assert answered not in texts, answered


def test_tldr_is_short_and_people_are_ranked() -> None:
    msgs, s = demo()
    assert len(re.findall(r"[.!?](?:\s|$)", s.tldr.replace("(v2)", ""))) <= 3
    assert s.people[0] == "U0LENA" and set(s.people) == {m.user for m in msgs}
    assert s.mode == "offline" and s.message_count == len(msgs)
    assert 1 <= len(s.key_points) <= 5


def test_a_small_fixed_thread() -> None:
    msgs = thread(
        [
            ("U1", "Kickoff: the new onboarding email sequence. Draft attached."),
            ("U2", "Should the first email go out on day 0 or day 1?"),
            ("U1", "Day 0, the data says open rates drop after 24h."),
            ("U3", "LGTM on day 0."),
            ("U2", "We'll go with three emails instead of five."),
            ("U3", "<@U2> can you write the copy for email 2 by Friday?"),
            ("U2", "Will do."),
            ("U1", "TODO: set up the A/B test in the mailer."),
            ("U3", "Who signs off on the legal footer for the EU?"),
        ]
    )
    s = extractive.summarize(msgs)
    assert [d.text for d in s.decisions] == [
        "LGTM on day 0. (re: “Day 0, the data says open rates drop after 24h.”)",
        "We'll go with three emails instead of five.",
    ]
    assert [(a.text, a.owner) for a in s.actions] == [
        ("<@U2> can you write the copy for email 2 by Friday?", "U2"),
        ("TODO: set up the A/B test in the mailer.", "U1"),
    ]
    assert [q.text for q in s.questions] == ["Who signs off on the legal footer for the EU?"]


def test_quoted_mass_pings_are_neutralised() -> None:
    msgs = thread(
        [
            ("U1", "<!channel> we decided to freeze deploys on Friday."),
            ("U2", "<!subteam^S0ENG|@eng> I'll post the freeze notice by Thursday."),
            ("U3", "Typed literally: &lt;!here&gt; agreed."),
        ]
    )
    s = extractive.summarize(msgs)
    text = " ".join(i.text for i in s.decisions + s.actions) + s.tldr
    assert "<!" not in text
    assert f"@{WORD_JOINER}channel" in text and f"@{WORD_JOINER}eng" in text


def test_a_200_message_thread_with_chatter_still_shows_what_was_decided() -> None:
    chatter = [
        "+1",
        "nice",
        "thanks!",
        "looking at it now",
        "lol",
        "brb, meeting",
        "interesting :thinking_face:",
        "same here",
        "see the doc: <https://docs.example.com/checkout|checkout doc>",
        "good point",
        "back",
        "hmm",
        "makes sense to me",
    ]
    pairs: list[tuple[str, str]] = []
    users = ["U0MAYA", "U0LENA", "U0OMAR", "U0PRIYA", "U0JONAS", "U0SOFIA", "U0NINA"]
    for i, pair in enumerate(review_thread.messages()):
        pairs.append(pair)
        if i:
            pairs.append((users[i % 7], chatter[i % len(chatter)]))
            if i % 2:
                pairs.append((users[(i + 3) % 7], chatter[(i * 5) % len(chatter)]))
    msgs = thread(pairs[:200] if len(pairs) >= 200 else pairs)
    assert len(msgs) >= 180
    s = extractive.summarize(msgs)
    for words in ("guest checkout stays", "launches on the 28th", "ship behind a flag", "250 KB"):
        find(s.decisions, words)
    for words in ("tracking plan", "fallback to card entry", "accessibility audit"):
        find(s.actions, words)
    noise = {c.lower() for c in chatter}
    assert not [i for i in s.decisions + s.actions + s.questions + s.key_points if i.text.lower() in noise]


def test_an_answer_to_another_question_does_not_close_an_open_one() -> None:
    msgs = thread(
        [
            ("U1", "Kickoff: the referral banner redesign."),
            ("U2", "Should the banner show on the checkout page too?"),
            ("U3", "What's the ETA for the new referral API?"),
            ("U4", "The referral API ships on Friday."),
            ("U5", "Yes."),  # a bare answer belongs to the latest question, not to every one
        ]
    )
    s = extractive.summarize(msgs)
    assert [q.text for q in s.questions] == ["Should the banner show on the checkout page too?"]


def test_a_question_nobody_answers_is_listed_even_when_it_names_a_task() -> None:
    msgs = thread(
        [
            ("U1", "Kickoff: the new pricing page, copy in the doc."),
            ("U2", "Who will review the legal copy?"),  # a question, not an action item of U2's
            ("U1", "I'll send the pricing deck to sales by Friday."),
            ("U3", "When do we freeze the copy for translation?"),
        ]
    )
    s = extractive.summarize(msgs)
    assert [q.text for q in s.questions] == [
        "Who will review the legal copy?",
        "When do we freeze the copy for translation?",
    ]
    assert [(a.text, a.owner) for a in s.actions] == [
        ("I'll send the pricing deck to sales by Friday.", "U1")
    ]


def test_a_question_put_to_someone_by_name_is_answered_by_them() -> None:
    msgs = thread(
        [
            ("U1", "The flag turns it off instantly. Sofia, what threshold should trigger the rollback?"),
            ("U3", "Two more ideas for the banner copy are in the doc."),
            ("U2", "Conversion minus 2 points over 3 days, or errors above 1%."),
        ]
    )
    assert extractive.summarize(msgs).questions  # no names known: nobody answered Sofia's question
    assert extractive.summarize(msgs, {"U2": "Sofia Rossi", "U3": "Omar Haddad"}).questions == []
