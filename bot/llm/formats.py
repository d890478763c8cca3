"""Structured output for the model gateway: which answer format an endpoint takes, and JSON checks.

Endpoints differ in how they accept a JSON schema, and some accept none:

1. `json_schema` — `response_format: {"type": "json_schema", "json_schema": {name, strict, schema}}`,
   the OpenAI API's form, which OpenAI, llama.cpp's `llama-server`, vLLM and Ollama turn into
   constrained decoding;
2. the same with a *portable* schema — OpenAI's strict mode rejects some keywords (string
   lengths, numeric bounds); they are dropped and checked by us afterwards instead;
3. `json_object` with a `schema` key — the form of llama-cpp-python's server and older
   llama.cpp servers (grammar-constrained as well);
4. `text` — no `response_format` at all: the caller's own text format, or the schema written
   into the prompt and the JSON read out of the answer.

The gateway starts at the top and steps down when an endpoint refuses a format (an HTTP error
naming `response_format` / the schema) or plainly ignores it (a 200 answer with no JSON in it,
which no constrained decoder can produce). The step is remembered by the gateway, so an endpoint
pays for each refusal once per process. Every answer is checked against the schema's structure
either way (`jsonschema`, on the portable schema: types, required and allowed keys), so the
caller gets the same shape whichever format carried it; bounds are the caller's to clip.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any, Generic, TypeVar

import openai
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

import prompts

T = TypeVar("T")


class Format(StrEnum):
    """The ways of asking for structure, best first (the order the gateway tries them)."""

    JSON_SCHEMA = "json_schema"
    JSON_SCHEMA_PORTABLE = "json_schema_portable"
    JSON_OBJECT = "json_object_schema"
    TEXT = "text"


LADDER: tuple[Format, ...] = tuple(Format)

# Keywords outside the subset every schema-enforcing API accepts; dropped for format 2.
NON_PORTABLE = frozenset(
    {
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
        "uniqueItems",
        "default",
        "examples",
    }
)

# An error is about the answer format when it names it; other 4xx/5xx are ordinary failures.
_FORMAT_ERROR = re.compile(r"response_format|json_schema|json_object|\bschema\b|grammar", re.IGNORECASE)
# A complaint about the schema's keywords (not about the format as such), e.g. OpenAI's
# "Invalid schema for response_format 'x': 'maxLength' is not permitted".
_SCHEMA_KEYWORD_ERROR = re.compile(
    r"invalid schema|not permitted|\b(?:minLength|maxLength|minItems|maxItems|uniqueItems|multipleOf"
    r"|exclusiveMinimum|exclusiveMaximum|minimum|maximum)\b",
    re.IGNORECASE,
)
REFUSAL_STATUSES = frozenset({400, 404, 405, 415, 422, 500, 501})


def response_format(fmt: Format, schema: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The `response_format` request field for `fmt` (None for plain text)."""
    if fmt is Format.JSON_SCHEMA:
        return {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}}
    if fmt is Format.JSON_SCHEMA_PORTABLE:
        return {
            "type": "json_schema",
            "json_schema": {"name": name, "strict": True, "schema": portable(schema)},
        }
    if fmt is Format.JSON_OBJECT:
        return {"type": "json_object", "schema": schema}
    return None


def portable(schema: Any) -> Any:
    """The schema without the keywords strict-mode APIs reject (checked locally instead)."""
    if isinstance(schema, dict):
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
                # Property names are data, not keywords: a property called "format" stays.
                out[key] = {name: portable(sub) for name, sub in value.items()}
            elif key not in NON_PORTABLE:
                out[key] = portable(value)
        return out
    if isinstance(schema, list):
        return [portable(x) for x in schema]
    return copy.deepcopy(schema)


def is_format_refusal(status: int | None, message: str) -> bool:
    """Did the endpoint reject the request because of the answer format we asked for?"""
    return status in REFUSAL_STATUSES and bool(_FORMAT_ERROR.search(message or ""))


def next_format(current: Format, message: str) -> Format:
    """Where to go after `current` was refused: keyword trouble → the portable schema."""
    if current is Format.JSON_SCHEMA:
        keyword_trouble = _SCHEMA_KEYWORD_ERROR.search(message or "")
        return Format.JSON_SCHEMA_PORTABLE if keyword_trouble else Format.JSON_OBJECT
    index = LADDER.index(current)
    return LADDER[min(index + 1, len(LADDER) - 1)]


class NotJSON(ValueError):
    """The answer holds no JSON value at all; `looks_ignored` when it is plainly prose."""

    def __init__(self, message: str, *, looks_ignored: bool) -> None:
        super().__init__(message)
        self.looks_ignored = looks_ignored


_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```\s*$")


def extract_json(text: str, *, expect: str | None = None) -> tuple[Any, bool]:
    """The JSON value in an answer — as is, inside a code fence, or after some chatter — and
    whether there was chatter before it (which no constrained decoder writes).

    `expect` ("object" / "array") is the schema's top-level type: a `[3]` citation in prose is
    not taken for the answer.
    """
    stripped = _FENCE.sub("", (text or "").strip()).strip()
    try:
        return json.loads(stripped, strict=False), False
    except ValueError:
        pass
    openers = {"object": "{", "array": "["}.get(expect or "", "{[")
    starts = [i for i in (stripped.find(c) for c in openers) if i >= 0]
    if not starts:
        raise NotJSON("the answer is not JSON", looks_ignored=True)
    start = min(starts)
    try:
        value, _ = json.JSONDecoder(strict=False).raw_decode(stripped[start:])
    except ValueError as exc:
        # JSON that stops early (the output limit) or is broken: the format held, the answer did not.
        raise NotJSON(f"the answer is not valid JSON: {exc}", looks_ignored=start > 0) from None
    return value, start > 0


@lru_cache(maxsize=64)
def _validator(schema_json: str) -> Draft202012Validator:
    schema = json.loads(schema_json)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def schema_errors(value: Any, schema: dict[str, Any], limit: int = 3) -> list[str]:
    """Where `value` breaks `schema` (empty when it fits), as short readable paths."""
    try:
        validator = _validator(json.dumps(schema, sort_keys=True))
    except SchemaError as exc:
        raise ValueError(f"the schema itself is invalid: {exc.message}") from None
    out = []
    for error in sorted(validator.iter_errors(value), key=lambda e: list(e.path))[:limit]:
        where = "/".join(str(p) for p in error.path) or "(top)"
        out.append(f"{where}: {error.message[:160]}")
    return out


def check_schema(schema: dict[str, Any]) -> None:
    """Fail early, in the caller's code, on a schema that is not valid JSON Schema."""
    schema_errors(None, schema)


@dataclass(frozen=True)
class TextFormat(Generic[T]):
    """The caller's own text version of a structured request, for endpoints that take no schema.

    `messages` ask for the answer in a text format and `validate(text)` parses it into the same
    value the schema path gives. Without one, such endpoints get the schema in the prompt and
    the JSON is read out of their answer.
    """

    messages: Sequence[dict[str, Any]]
    validate: Callable[[str], T]


class FormatRefused(Exception):
    """The endpoint refused (or ignored) the answer format: the gateway steps down and retries."""


def refuses_format(exc: Exception) -> bool:
    """An HTTP error that names the answer format: the endpoint does not take it."""
    if not isinstance(exc, openai.APIStatusError):
        return False
    return is_format_refusal(exc.status_code, f"{exc} {exc.body!r}")


def with_schema_note(messages: Sequence[dict[str, Any]], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages with the schema written into the system prompt (`prompts/answer_as_json.md`),
    for endpoints that do not take it as a request field (and OpenAI's JSON mode, which insists
    on the word JSON in the prompt)."""
    schema_text = json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
    note = "\n\n".join(m["content"] for m in prompts.messages("answer_as_json", schema=schema_text))
    out = [dict(m) for m in messages]
    for m in out:
        if m.get("role") == "system":
            m["content"] = f"{m.get('content') or ''}\n\n{note.strip()}"
            return out
    return [{"role": "system", "content": note.strip()}, *out]
