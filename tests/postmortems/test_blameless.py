"""The blameless check against its corpus: every blameful sentence flagged, no blameless one.

A false positive fails as much as a miss. Precision and recall are printed (`pytest -s`) so a
change to the rules shows what it costs.
"""

from __future__ import annotations

import pytest

from bot.postmortems.blameless import People, check, check_text
from tests.postmortems.corpus import BLAMEFUL_EN, BLAMEFUL_ZH, BLAMELESS_EN, BLAMELESS_ZH, CORPUS, PEOPLE

PEOPLE_INDEX = People.from_names(PEOPLE)


def _score(sentence: str, expected: list[str]) -> tuple[int, int, int, list[str]]:
    """(true positives, false positives, misses, the flagged spans) for one sentence."""
    findings = check_text("summary", sentence, PEOPLE_INDEX)
    spans = [f.text for f in findings]
    matched = [f for f in findings if any(e in f.text for e in expected)]
    covered = [e for e in expected if any(e in f.text for f in findings)]
    tp = min(len(matched), len(covered))
    return tp, len(findings) - tp, len(expected) - tp, spans


def test_the_corpus_is_big_and_balanced() -> None:
    assert len(CORPUS) >= 40
    assert len(BLAMEFUL_EN) >= 10 and len(BLAMELESS_EN) >= 10
    assert len(BLAMEFUL_ZH) >= 5 and len(BLAMELESS_ZH) >= 5


def test_precision_and_recall_over_the_corpus() -> None:
    tp = fp = fn = 0
    wrong: list[str] = []
    for sentence, expected in CORPUS:
        t, f, n, spans = _score(sentence, expected)
        tp, fp, fn = tp + t, fp + f, fn + n
        if f or n:
            wrong.append(f"{sentence!r}: expected {expected}, flagged {spans}")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    print(
        f"\nblameless check over {len(CORPUS)} sentences: {tp} findings right, {fp} false positives, "
        f"{fn} misses — precision {precision:.3f}, recall {recall:.3f}"
    )
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(("sentence", "expected"), CORPUS, ids=[s[:40] for s, _ in CORPUS])
def test_each_sentence(sentence: str, expected: list[str]) -> None:
    _, fp, fn, spans = _score(sentence, expected)
    assert (fp, fn) == (0, 0), f"flagged {spans}, expected {expected}"


def test_a_finding_has_its_field_span_and_a_systems_rephrasing() -> None:
    text = "Checkout failed for 29 minutes. Bob forgot the review before merging."
    (finding,) = check({"summary": "All good.", "contributing_factors": text}, PEOPLE_INDEX)
    assert finding.field == "contributing_factors"
    assert text[finding.start : finding.end] == finding.text == "Bob forgot"
    assert finding.person == "Bob"
    assert "nothing in the process enforced the review" in finding.suggestion
    assert "Bob" not in finding.suggestion


def test_a_possessive_cause_is_rephrased_without_the_person() -> None:
    (finding,) = check_text("summary", "Jonas's deploy took down checkout for 29 minutes.", PEOPLE_INDEX)
    assert finding.rule == "person-cause"
    assert finding.suggestion.startswith("“The deploy took down checkout for 29 minutes”")


def test_names_come_from_the_people_table() -> None:
    # "failed to" is systems language unless a known person is its subject.
    sentence = "Amara failed to approve the contract change."
    assert check_text("summary", sentence) == []
    (finding,) = check_text("summary", sentence, People.from_names(["Amara Okafor"]))
    assert finding.text == "Amara failed to"


def test_chinese_findings_are_explained_in_chinese() -> None:
    (finding,) = check_text("went_poorly", "小王忘了续期证书。", PEOPLE_INDEX)
    assert finding.message == "把原因指向了具体的人（小王）：“忘了”。"
    assert "发布流程" in finding.suggestion


def test_mixed_language_text_finds_both() -> None:
    text = "Rollback took 20 minutes. 这是人为失误。 Tom should have paged the payments team."
    spans = [f.text for f in check_text("summary", text, PEOPLE_INDEX)]
    assert spans == ["人为失误", "Tom should have"]


def test_empty_and_whitespace_fields_have_no_findings() -> None:
    assert check({"summary": "", "impact": "   \n"}) == []
