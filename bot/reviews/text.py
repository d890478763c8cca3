"""Text rules for English, Chinese and mixed threads: sentences, content words, the language.

Chinese has no spaces between words and ends sentences with full-width punctuation that needs
no space after it (`。！？；`), so English-only rules see one long "word" per Chinese sentence and
no sentence ends at all. Here:

- `sentences` splits after `。！？；…` (and `!?` followed by Chinese or a space) straight away,
  and after `.`/`!`/`?` followed by a space as before — not after "e.g." or "3.5";
- `content_words` gives English words of 3+ letters and, for runs of Chinese characters,
  their two-character pieces (the usual way to compare Chinese text without a dictionary), less
  stopwords of both languages;
- `language` says whether a thread is mostly Chinese (`zh`) or English (`en`), by the share of
  Chinese characters against Latin words, message by message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_CHAR = re.compile(f"[{HAN}]")
_HAN_RUN = re.compile(f"[{HAN}]+")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")

# A sentence ends after Chinese end punctuation (with its closing quotes), at once; after ASCII
# ! or ? followed by a space or a Chinese character; after a full stop followed by a space —
# but not after an abbreviation; and at every line break. Ends are marked, then cut.
_NOT_AFTER = r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)(?<!\bvs)(?<!\bMr)(?<!\bMs)(?<!\bDr)"
_CLOSE = "[”’」』）)\"']"
# After a closing quote, a lowercase word goes on the same sentence: "a 'Have a code?' link".
_ENDS = re.compile(
    rf"([。！？；…]+{_CLOSE}*)\s*"
    rf"|([!?]+)(?:\s+|(?=[{HAN}]))"
    rf"|([!?]+{_CLOSE}+)(?:\s+(?=[^a-z\s])|(?=[{HAN}]))"
    rf"|({_NOT_AFTER}\.)\s+"
    rf"|({_NOT_AFTER}\.{_CLOSE}+)\s+(?=[^a-z\s])"
)
_MARK = "\x00"
_TRIM = " \t-•*>"

STOPWORDS_EN = frozenset(
    "the and for that this with are was were have has had but not you your our their they them "
    "what when where which who why how will would could should can just also into from about then "
    "than there here been being some any all its it's let's lets we'll i'll yes no ok okay".split()
)
# Two-character pieces that carry no topic: pronouns, "this/that", "can/should", "is it"…
STOPWORDS_ZH = frozenset(
    "我们 你们 他们 大家 这个 那个 这些 那些 一个 一下 什么 怎么 为什么 可以 可能 应该 需要 是不 不是 "
    "就是 还是 但是 因为 所以 如果 然后 已经 现在 没有 有没 一些 这样 那样 这边 那边 觉得 的话 是否 "
    "要不 不要 一起 时候 问题 谢谢 好的 收到".split()
)


@lru_cache(maxsize=16384)
def sentences(text: str) -> tuple[str, ...]:
    """The sentences of a message, in order, trimmed; fragments under 2 characters dropped."""
    marked = _ENDS.sub(lambda m: next(g for g in m.groups() if g) + _MARK, text or "")
    out = []
    for piece in re.split(f"{_MARK}|\n+", marked):
        piece = piece.strip(_TRIM)
        if len(piece) >= 2:
            out.append(piece)
    return tuple(out)


def han_count(text: str) -> int:
    return len(_HAN_CHAR.findall(text))


def has_han(text: str) -> bool:
    return _HAN_CHAR.search(text) is not None


@lru_cache(maxsize=16384)
def content_words(text: str) -> frozenset[str]:
    """Words to compare texts by: English words of 3+ letters, Chinese two-character pieces."""
    words = {w.lower() for w in re.findall(r"[^\W\d_]{3,}", _HAN_RUN.sub(" ", text))} - STOPWORDS_EN
    for run in _HAN_RUN.findall(text):
        if len(run) == 1:
            continue
        words.update(run[i : i + 2] for i in range(len(run) - 1))
    return frozenset(words - STOPWORDS_ZH)


def is_chinese(text: str) -> bool:
    """Mostly Chinese: a Chinese character is about a word, so compare them with Latin words."""
    han = han_count(text)
    return han > 0 and han >= len(_LATIN_WORD.findall(text))


def language(texts: Iterable[str]) -> str:
    """`zh` when most of the thread (weighted by length) is written in Chinese, else `en`."""
    zh = en = 0
    for text in texts:
        weight = len(text)
        if is_chinese(text):
            zh += weight
        else:
            en += weight
    return "zh" if zh > en else "en"
