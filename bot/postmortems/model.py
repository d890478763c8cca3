"""The two model calls of postmortems: a first draft from an incident channel, and extra blame findings.

Each call is one small function with the JSON schema of its answer defined next to it. Today the
gateway is asked for JSON mode (`json_mode=True`) and the answer is validated here against that
schema's rules; when the gateway gains JSON-schema structured output, pass the schema instead and
keep the same validation (DESIGN §4: the answer is validated either way).

The model's text is untrusted, like user input: it is parsed as JSON, checked field by field,
trimmed to the limits, stripped of markup and pings (`rules.from_slack` + `neutralise_pings`), and
mentions survive only for people who were in the channel. A finding must quote its field exactly
— an invented quote is dropped. Any failure raises `LLMError`; callers fall back to the rules.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import prompts
from bot.llm import Deadline, InvalidAnswer, LLMError
from bot.postmortems.blameless import Finding
from bot.postmortems.drafting import DraftEntry
from bot.postmortems.rules import from_slack, neutralise_pings

DRAFT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "minLength": 1, "maxLength": 800},
        "contributing_factors": {
            "type": "array",
            "minItems": 1,
            "maxItems": 6,
            "items": {"type": "string", "minLength": 1, "maxLength": 300},
        },
    },
    "required": ["summary", "contributing_factors"],
    "additionalProperties": False,
}
BLAME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "findings": {
            "type": "array",
            "maxItems": 10,
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "quote": {"type": "string", "minLength": 1, "maxLength": 120},
                    "why": {"type": "string", "maxLength": 300},
                    "rephrase": {"type": "string", "maxLength": 300},
                },
                "required": ["field", "quote", "why", "rephrase"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["findings"],
    "additionalProperties": False,
}
DRAFT_MAX_TOKENS = 600
BLAME_MAX_TOKENS = 700
_USER = re.compile(r"<@([UW][A-Z0-9]+)>")


@dataclass(frozen=True)
class ModelDraft:
    summary: str
    contributing_factors: list[str]
    model: str


def _json_object(text: str) -> dict[str, Any]:
    body = text.strip()
    fenced = re.match(r"^```(?:json)?\s*(.*?)\s*```$", body, re.S)
    if fenced:
        body = fenced.group(1)
    if not body.startswith("{"):
        start, end = body.find("{"), body.rfind("}")
        if start < 0 or end <= start:
            raise InvalidAnswer("no JSON object")
        body = body[start : end + 1]
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise InvalidAnswer(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidAnswer("not a JSON object")
    return data


def _clean(value: Any, limit: int, allowed_users: set[str]) -> str:
    if not isinstance(value, str):
        raise InvalidAnswer("a text field is not a string")
    text = neutralise_pings(from_slack(value))
    text = _USER.sub(lambda m: m.group(0) if m.group(1) in allowed_users else f"@{m.group(1)}", text)
    text = " ".join(text.split())
    return text[: limit - 1] + "…" if len(text) > limit else text


def validate_draft(text: str, *, allowed_users: set[str]) -> tuple[str, list[str]]:
    """The model's draft answer → (summary, factors), validated as DRAFT_SCHEMA says."""
    data = _json_object(text)
    props = DRAFT_SCHEMA["properties"]
    summary = _clean(data.get("summary"), props["summary"]["maxLength"], allowed_users)
    raw = data.get("contributing_factors")
    if not isinstance(raw, list):
        raise InvalidAnswer("contributing_factors is not a list")
    limit = props["contributing_factors"]["items"]["maxLength"]
    factors = [f for f in (_clean(v, limit, allowed_users) for v in raw) if f]
    factors = list(dict.fromkeys(factors))[: props["contributing_factors"]["maxItems"]]
    if not summary or not factors:
        raise InvalidAnswer("an empty summary or no contributing factors")
    return summary, factors


def _fit_lines(llm: Any, lines: list[str], channel: str) -> list[str]:
    """As many lines as fit the model, keeping the start and the end of the incident."""
    kept = list(lines)
    for _ in range(12):
        msgs = prompts.messages("postmortem_draft", nonce="0" * 12, channel=channel, messages="\n".join(kept))
        if llm.fits(msgs, reserve_output=DRAFT_MAX_TOKENS):
            return kept
        if len(kept) <= 4:
            break
        cut = max(1, len(kept) // 4)
        middle = len(kept) // 2
        kept = (
            kept[: middle - cut // 2] + [f"[… {cut} messages left out …]"] + kept[middle + (cut - cut // 2) :]
        )
    raise LLMError("over_budget", "the channel does not fit the model")


def draft(
    llm: Any,
    *,
    channel_name: str,
    entries: Sequence[DraftEntry],
    names: Mapping[str, str],
    deadline: Deadline,
) -> ModelDraft:
    """A first summary and contributing factors from the channel's messages (`DRAFT_SCHEMA`)."""
    lines = []
    for i, e in enumerate(entries, 1):
        who = f"<@{e.user}>" if e.user else "someone"
        name = names.get(e.user or "")
        lines.append(f"[{i}] {who}{f' ({name})' if name else ''}: {' '.join(e.text.split())}")
    allowed = {e.user for e in entries if e.user}
    kept = _fit_lines(llm, lines, channel_name)
    msgs = prompts.messages(
        "postmortem_draft", nonce=secrets.token_hex(6), channel=channel_name, messages="\n".join(kept)
    )
    result = llm.chat(
        msgs,
        purpose="postmortem.draft",
        max_tokens=DRAFT_MAX_TOKENS,
        deadline=deadline,
        json_mode=True,
        validate=lambda text: validate_draft(text, allowed_users=allowed),
    )
    summary, factors = result.value
    return ModelDraft(summary=summary, contributing_factors=factors, model=result.model)


def validate_findings(text: str, *, fields: Mapping[str, str]) -> list[Finding]:
    """The model's findings → `Finding`s whose quotes really are in their fields (`BLAME_SCHEMA`)."""
    data = _json_object(text)
    raw = data.get("findings")
    if not isinstance(raw, list):
        raise InvalidAnswer("findings is not a list")
    out: list[Finding] = []
    for item in raw[: BLAME_SCHEMA["properties"]["findings"]["maxItems"]]:
        if not isinstance(item, dict):
            continue
        field, quote = item.get("field"), item.get("quote")
        if (
            not isinstance(field, str)
            or not isinstance(quote, str)
            or field not in fields
            or not quote.strip()
        ):
            continue
        at = fields[field].find(quote.strip())
        if at < 0:
            continue  # a quote the text does not contain is the model's invention
        quote = quote.strip()
        why = _clean(item.get("why") or "Blames a person.", 300, set()) or "Blames a person."
        rephrase = _clean(item.get("rephrase") or "", 300, set())
        out.append(
            Finding(
                field=field,
                start=at,
                end=at + len(quote),
                text=quote,
                rule="model",
                message=why,
                suggestion=rephrase or "Describe the system and the conditions rather than the person.",
                source="model",
            )
        )
    return out


def blame_findings(llm: Any, *, fields: Mapping[str, str], deadline: Deadline) -> list[Finding]:
    """Findings the model adds to the rule-based check (`BLAME_SCHEMA`); the rules always run too."""
    body = "\n".join(
        f"[{key}] {' '.join(text.split())}" for key, text in fields.items() if text and text.strip()
    )
    if not body:
        return []
    msgs = prompts.messages("postmortem_blame", nonce=secrets.token_hex(6), fields=body)
    if not llm.fits(msgs, reserve_output=BLAME_MAX_TOKENS):
        raise LLMError("over_budget", "the postmortem does not fit the model")
    result = llm.chat(
        msgs,
        purpose="postmortem.blame",
        max_tokens=BLAME_MAX_TOKENS,
        deadline=deadline,
        json_mode=True,
        validate=lambda text: validate_findings(text, fields=fields),
    )
    findings: list[Finding] = result.value
    return findings
