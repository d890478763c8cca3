"""Systems-focused rephrasings for the blameless check's findings, and why each was flagged.

Built from the sentence itself where it can be: the thing that was "forgotten" or "missed" becomes
what the process did not enforce ("Bob forgot the review" → "nothing in the process enforced the
review"); a possessive cause loses its person ("Jonas's deploy took down checkout" → "The deploy
took down checkout"). Chinese findings get Chinese advice. Pure functions over strings.
"""

from __future__ import annotations

import re

CHECK_VERBS = (
    r"check|test|review|verify|validate|follow|notice|read|double-?check|look|run|wait|confirm|"
    r"escalate|respond|update|tell|inform|communicate|ask|monitor|watch|roll\s+back|revert|page"
)


_CLAUSE_END = re.compile(r"[,;:.!?，。；：！？]|\s(?:and|but|so|because|which|after|before|when|while)\s")


def _object_after(text: str, end: int, words: int = 8) -> str:
    """The words after the cue up to the clause's end (the thing that was forgotten, missed…)."""
    rest = text[end:]
    stop = _CLAUSE_END.search(rest)
    chunk = (rest[: stop.start()] if stop else rest).strip()
    return " ".join(chunk.split()[:words])


def _gerund(verb: str) -> str:
    v = verb.lower()
    if v.endswith("ie"):
        return v[:-2] + "ying"
    if v.endswith("e") and not v.endswith(("ee", "ye", "oe")):
        return v[:-1] + "ing"
    if len(v) <= 4 and re.fullmatch(r"[^aeiou]*[aeiou][bdgmnprt]", v):
        return v + v[-1] + "ing"
    return v + "ing"


def _as_task(obj: str) -> str:
    """`to run the migration` → `running the migration`; `the review` stays."""
    obj = re.sub(r"^(?:than\s+)?(?:to|about)\s+", "", obj.strip(), flags=re.IGNORECASE)
    obj = re.sub(r"^(?:have|has|been)\s+", "", obj)
    words = obj.split()
    if not words:
        return "that step"
    first = words[0]
    if first.lower() in {
        "the",
        "a",
        "an",
        "our",
        "its",
        "their",
        "his",
        "her",
        "any",
        "this",
        "that",
        "every",
    }:
        return obj
    if re.fullmatch(r"[a-z]+", first) and not first.endswith("ing"):
        base = first[:-2] if first.endswith("ed") and len(first) > 4 else first
        return " ".join([_gerund(base), *words[1:]])
    return obj


_JUDGEMENT_CUE = re.compile(
    r"careless|negligen|sloppy|lazy|reckless|incompeten|inattentive|stupid|idiot", re.I
)


def suggest(rule: str, cue: str, text: str, end: int, person: str | None, span_start: int) -> str:
    """A systems-focused rephrasing, built from what the sentence says was missed or caused."""
    cue_l = " ".join(cue.lower().split())
    obj = _object_after(text, end)
    if rule in ("zh-person-verb", "zh-blame"):
        return suggest_zh(cue)
    if rule == "person-cause" and person and re.match(r".*(?:'s|’s|'|’)\s", text[span_start:end] + " "):
        # A possessive: take the person out, keep the sentence ("Jonas's deploy caused" → "The deploy…").
        tail = re.sub(rf"^{re.escape(person)}(?:'s|’s|'|’)\s+", "", text[span_start:end])
        sentence = f"The {tail} {_object_after(text, end, 10)}".strip()
        return (
            f"“{sentence}” — then say what let the change through (review, tests, canary), not whose it was."
        )
    if rule == "person-cause":
        return (
            "Say what caused it, not who: e.g. “a configuration change caused the errors, and nothing in "
            "the pipeline stopped it before production”."
        )
    if _JUDGEMENT_CUE.search(cue_l):
        return (
            "Describe the action and its circumstances neutrally: what information, tooling or time was "
            "missing? e.g. “the change was made under time pressure, without a review step”."
        )
    if "known" in cue_l:
        task = _as_task(obj) if obj else "the step"
        return f"Say what hid the risk instead: e.g. “nothing warned that {task} was risky”."
    if any(w in cue_l for w in ("should", "ought", "could have")):
        task = _as_task(obj) if obj else "the right step"
        return (
            f"Hindsight names a person; describe the gap instead: e.g. “nothing prompted {task} "
            "(no alert, runbook step or check pointed to it)”."
        )
    if any(w in cue_l for w in ("ignor", "miss", "overlook")):
        thing = obj or "the signal"
        return (
            f"Describe why it was easy to miss: e.g. “{thing} did not stand out — nothing made it "
            "actionable or required an acknowledgement”."
        )
    if any(w in cue_l for w in ("forg", "bother", "neglect", "fail", "did", "never")):
        last = cue_l.split()[-1]
        for stem in (last, re.sub(r"(?:ed|s|ing)$", "", last), re.sub(r"(?:d|s)$", "", last)):
            if last not in ("bother", "bothered") and re.fullmatch(rf"(?:{CHECK_VERBS})", stem):
                obj = f"{stem} {obj}".strip()
                break
        task = _as_task(obj) if obj else "that step"
        return (
            f"Describe what let it happen: e.g. “nothing in the process enforced {task}” — what made "
            "it easy to skip, rather than who skipped it."
        )
    if rule == "judgement" and "error" in cue_l:
        return (
            "“Human error” is where the investigation starts: name the missing safeguard, e.g. “the "
            "console accepted a destructive command without a confirmation step”."
        )
    if rule == "judgement":
        return (
            "Describe the action and its circumstances neutrally: what information, tooling or time was "
            "missing? e.g. “the change was made under time pressure, without a review step”."
        )
    if any(w in cue_l for w in ("caused", "broke", "down", "introduced", "responsible")):
        return (
            "Say what caused it, not who: e.g. “the change reached production without a test covering "
            "this path”."
        )
    return (
        "Name the conditions, not the person: e.g. “the change was accepted without a check that would "
        "have caught it”."
    )


def suggest_zh(cue: str) -> str:
    if any(w in cue for w in ("忘", "没", "未", "漏", "忽略", "无视")):
        return "描述是什么让它发生，而不是谁漏掉了：例如“发布流程没有强制这一步，未经检查的变更也能上线”。"
    if any(w in cue for w in ("应该", "本应", "本该", "早该")):
        return "事后看来的“应该”指向个人；请描述缺口：例如“没有告警、手册或检查提示这一步”。"
    if "导致" in cue:
        return "说明是什么导致的，而不是谁：例如“一次配置变更导致了错误，流水线没有在上线前拦住它”。"
    if any(w in cue for w in ("粗心", "马虎", "疏忽", "偷懒", "不负责任", "失职", "玩忽职守")):
        return (
            "中性地描述当时的操作和处境：缺少了什么信息、工具或时间？例如“变更在时间压力下进行，没有评审”。"
        )
    if "人为" in cue or "失误" in cue or "错" in cue:
        return "“人为失误”只是调查的起点：请写出缺失的保护措施，例如“控制台执行危险命令前没有二次确认”。"
    return "描述系统和流程的条件，而不是个人：例如“变更在没有能发现问题的检查的情况下被合入”。"


def message(rule: str, person: str | None, cue: str) -> str:
    cue = " ".join(cue.split())
    if rule.startswith("zh-"):
        if person:
            return f"把原因指向了具体的人（{person}）：“{cue}”。"
        return f"“{cue}”是在评判人，而不是描述系统。"
    if rule in ("person-verb", "zh-person-verb"):
        return f"Points at a person ({person}) with “{cue}”."
    if rule == "person-cause":
        return f"Names a person ({person}) as the cause."
    if rule in ("blame-noun", "zh-blame") and person:
        return f"Assigns blame to a person ({person})."
    return f"“{cue}” judges people rather than describing the system."
