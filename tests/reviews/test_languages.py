"""Chinese and mixed threads offline: sentences, cue words, answered questions, headings, counts."""

from __future__ import annotations

from bot.demo import review_thread
from bot.reviews import extractive, views
from bot.reviews.i18n import count
from bot.reviews.service import Result
from bot.reviews.summary import Item, Summary, ThreadMessage
from bot.reviews.text import content_words, language, sentences
from tests.reviews.test_extractive import thread


def numbers(msgs: list[ThreadMessage], items: list[Item]) -> list[int]:
    index = {m.ts: m.index for m in msgs}
    return [index[i.sources[0]] for i in items]


def owned(items: list[Item], words: str) -> str | None:
    hits = [i for i in items if words in i.text]
    assert hits, f"{words!r} not among {[i.text for i in items]}"
    return hits[0].owner


def test_chinese_sentences_end_at_full_width_punctuation() -> None:
    assert sentences("决定：先上 10% 灰度。谁来负责埋点？我来，周五前完成！好的") == (
        "决定：先上 10% 灰度。",
        "谁来负责埋点？",
        "我来，周五前完成！",
        "好的",
    )
    assert sentences("可以吗?我觉得可以；下周再看。") == ("可以吗?", "我觉得可以；", "下周再看。")
    assert sentences("他说“好的。”然后走了") == ("他说“好的。”", "然后走了")
    # English keeps its rules: no break after "e.g.", a decimal, or a quoted question mid-sentence.
    assert sentences("We use e.g. Stripe. v3.5 ships. A 'Have a code?' link stays.") == (
        "We use e.g. Stripe.",
        "v3.5 ships.",
        "A 'Have a code?' link stays.",
    )


def test_chinese_words_are_compared_by_two_character_pieces() -> None:
    assert {"埋点", "方案"} <= content_words("周五前把埋点方案发出来")
    assert content_words("谁来负责埋点？") & content_words("我来负责，周五前把埋点方案发出来") >= {
        "负责",
        "埋点",
    }
    assert "我们" not in content_words("我们决定")  # a pronoun says nothing about the topic


def test_the_thread_language_is_the_language_most_of_it_is_written_in() -> None:
    assert language(m for _, m in review_thread.chinese_messages()) == "zh"
    assert language(m for _, m in review_thread.messages()) == "en"
    assert language(["Apple Pay 的 SDK 还没接好，预计下周", "ok"]) == "zh"
    assert language(["Decision: we launch the annual plan at 15% on April 1.", "好的"]) == "en"


def test_a_chinese_review_thread() -> None:
    msgs = thread(review_thread.chinese_messages())
    s = extractive.summarize(msgs)
    assert s.lang == "zh"
    assert numbers(msgs, s.decisions) == [10, 11, 18, 22]
    assert "那就先灰度 10% 的新用户" in s.decisions[0].text
    assert s.decisions[1].text.startswith(
        "同意。（回应：“好，那就先灰度"
    )  # a bare 同意 says what it agrees to
    # Only the two questions nobody answered; the risk, test, tracking and legal ones were answered.
    assert numbers(msgs, s.questions) == [20, 21]
    assert s.questions[0].text == "跳过引导的用户怎么办？首页的任务清单要不要一直显示？"
    assert owned(s.actions, "可用性测试") == "U0NINA"
    assert owned(s.actions, "埋点方案") == "U0OMAR"
    assert owned(s.actions, "风控规则") == "U0KENJI"
    assert owned(s.actions, "隐私说明") == "U0AMARA"
    assert len(next(a for a in s.actions if "可用性测试" in a.text).sources) == 2  # the ask and 好的
    assert s.tldr == (
        "<@U0LENA> 发起了讨论：“产品评审：新用户引导（onboarding）改版 v2”。"
        "最新决定：“定了：v2 在 3 月 28 日开始灰度，3 月 21 日前完成开发和测试”。"
        "共 25 条消息；决定 4 项，待解决问题 2 个，待办 5 项。"
    )


MIXED = [
    ("U0PRIYA", "Pricing page review: new annual plan with a 15% discount. Figma is in the canvas."),
    ("U0KENJI", "年付折扣 15% 会不会影响月付的转化？"),
    ("U0SOFIA", "Based on last quarter's test, monthly conversion dropped only 0.4 points. 影响不大。"),
    ("U0MAYA", "Decision: we launch the annual plan at 15% on April 1."),
    ("U0KENJI", "好的，那就按 15% 上线。中文定价页我来改，周五前完成。"),
    ("U0PRIYA", "@sofia can you add the annual plan to the revenue dashboard by Friday?"),
    ("U0SOFIA", "Will do."),
    ("U0OMAR", "Who owns the invoice template change?"),
    ("U0PRIYA", "还有，企业版要不要也加年付？"),
    ("U0MAYA", "Omar, the billing team owns the invoice template."),
]


def test_a_mixed_chinese_and_english_thread() -> None:
    msgs = thread(MIXED)
    s = extractive.summarize(msgs)
    assert s.lang == "en"  # most of it is English
    assert numbers(msgs, s.decisions) == [4, 5]
    assert s.decisions[1].text.startswith("好的，那就按 15% 上线。")
    assert owned(s.actions, "中文定价页") == "U0KENJI"
    assert owned(s.actions, "revenue dashboard") == "U0SOFIA"
    # 影响不大 answers the Chinese question; the billing team answers Omar; 企业版 stays open.
    assert numbers(msgs, s.questions) == [9]


def result(summary: Summary, n: int) -> Result:
    links = {
        f"{1700000000 + i}.000100": f"https://acme.slack.com/archives/C1/p{1700000000 + i}000100"
        for i in range(n)
    }
    first = next(iter(links))
    return Result(summary=summary, channel_id="C1", thread_ts=first, thread_link=links[first], links=links)


def rendered(page: dict) -> str:
    parts = [page["text"]]
    for block in page["blocks"]:
        if block["type"] == "section":
            parts.append(block["text"]["text"])
        elif block["type"] in ("context",):
            parts.append(block["elements"][0]["text"])
        elif block["type"] == "header":
            parts.append(block["text"]["text"])
        elif block["type"] == "actions":
            parts.append(block["elements"][0]["text"]["text"])
    return "\n".join(parts)


def test_a_chinese_summary_has_chinese_headings_and_counts() -> None:
    msgs = thread(review_thread.chinese_messages())
    summary = extractive.summarize(msgs)
    summary.people = ["U0LENA", "U0MAYA"]
    res = result(summary, len(msgs))
    res.names = {"U0LENA": "Lena Park", "U0MAYA": "Maya Chen"}
    (page,) = views.summary_messages(res)
    text = rendered(page)
    for heading in (
        "讨论串摘要",
        "*概要*",
        "*决定*",
        "*待解决的问题*",
        "*待办事项*",
        "*要点*",
        "分享到讨论串",
    ):
        assert heading in text, heading
    assert "*离线摘要* — 由规则从讨论串中摘出，并非模型撰写。" in text
    assert "25 条消息 · 2 人参与" in text and "*参与者：*Lena Park、Maya Chen" in text
    for english in ("Decisions", "Open questions", "Action items", "messages", "Offline summary", "People"):
        assert english not in text, english


def test_counts_are_singular_and_plural_as_they_should_be() -> None:
    msgs = thread([("U1", "Should we ship the referral banner on Friday?")])
    s = extractive.summarize(msgs)
    assert s.tldr.endswith("1 message: 0 decisions, 1 open question and 0 action items found.")
    s.people = ["U1"]
    text = rendered(views.summary_messages(result(s, 1))[0])
    assert "1 message · 1 person" in text
    assert (count("en", "message", 2), count("en", "person", 2), count("en", "action", 1)) == (
        "2 messages",
        "2 people",
        "1 action item",
    )
    assert (
        count("en", "message", 1000) == "1,000 messages" and count("zh", "question", 1) == "待解决问题 1 个"
    )
    digest = str(views.digest_blocks([result(s, 1)]))
    assert "1 message · 0 decisions · 1 open question · 0 action items" in digest
