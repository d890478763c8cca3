"""Structured output through the gateway, against real HTTP servers that take different formats.

One server enforces the JSON schema (as OpenAI, llama.cpp's server, vLLM and Ollama do); one
takes no schema at all (plain text only); one is llama-cpp-python's kind (`json_object` with a
`schema`, and a 500 for `json_schema`); one is OpenAI's strict mode rejecting a keyword; one
silently ignores the format. Each time the caller gets the same parsed, checked value, and an
endpoint's refusal is paid for once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import select

from bot.llm import Format, InvalidAnswer, LLMError, LLMGateway, TextFormat
from bot.metrics import Metrics
from storage.db import Database
from storage.models.reviews import LLMUsage
from tests.support.openai_stub import OpenAIStub, Reply, requested_schema

Factory = Callable[..., OpenAIStub]

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "greeting": {"type": "string", "maxLength": 40},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
    },
    "required": ["greeting", "tags"],
    "additionalProperties": False,
}
ASK = [
    {"role": "system", "content": "You greet people. Answer in JSON."},
    {"role": "user", "content": "Greet Lena."},
]
GOOD = json.dumps({"greeting": "Hello Lena", "tags": ["warm"]})


def gateway(stub: OpenAIStub, db: Database | None = None) -> LLMGateway:
    return LLMGateway(
        model="stub-model", base_url=stub.url, api_key="x", timeout=3.0, db=db, metrics=Metrics()
    )


def upper(data: dict[str, Any]) -> str:
    if not data["greeting"].strip():
        raise InvalidAnswer("empty greeting")
    return str(data["greeting"]).upper()


def outcomes(db: Database) -> list[str]:
    with db.session() as s:
        return [u.outcome for u in s.exec(select(LLMUsage).order_by(LLMUsage.id)).all()]  # type: ignore[arg-type]


def test_an_enforcing_endpoint_gets_json_schema_and_the_value_comes_back(
    openai_stub_factory: Factory, db: Database
) -> None:
    stub = openai_stub_factory(enforce=True)
    stub.always(Reply(content=GOOD))
    llm = gateway(stub, db)
    result = llm.chat(ASK, purpose="test.greet", schema=SCHEMA, schema_name="greeting", validate=upper)
    assert result.value == "HELLO LENA" and result.data == {"greeting": "Hello Lena", "tags": ["warm"]}
    assert result.format == Format.JSON_SCHEMA
    (request,) = stub.requests
    assert request["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "greeting", "strict": True, "schema": SCHEMA},
    }
    assert request["messages"] == ASK  # the endpoint has the schema; the prompt is not padded
    assert outcomes(db) == ["ok"]
    # Without `validate`, the parsed JSON is the value.
    assert llm.chat(ASK, purpose="test", schema=SCHEMA).value == {"greeting": "Hello Lena", "tags": ["warm"]}


def test_a_text_only_endpoint_falls_back_to_text_once_and_remembers(
    openai_stub_factory: Factory, db: Database
) -> None:
    stub = openai_stub_factory(formats=("text",))
    stub.always(Reply(content="Here you go:\n" + GOOD))
    llm = gateway(stub, db)
    first = llm.chat(ASK, purpose="test", schema=SCHEMA, validate=upper)
    assert first.value == "HELLO LENA" and first.format == Format.TEXT
    assert stub.formats_asked() == ["json_schema", "json_object", "text"]
    # On plain text the schema is in the prompt.
    system = stub.requests[-1]["messages"][0]["content"]
    assert system.startswith("You greet people.") and '"maxLength":40' in system
    second = llm.chat(ASK, purpose="test", schema=SCHEMA, validate=upper)
    assert second.value == "HELLO LENA"
    assert stub.formats_asked()[3:] == ["text"]  # the second call does not try the schema again
    assert llm.structured_format is Format.TEXT
    assert outcomes(db) == ["format_refused", "format_refused", "ok", "ok"]


def test_the_callers_text_format_is_used_when_no_schema_is_taken(openai_stub_factory: Factory) -> None:
    stub = openai_stub_factory(formats=("text",))
    stub.always(Reply(content="GREETING: hello lena"))
    text_messages = [{"role": "user", "content": "Greet Lena. Answer as `GREETING: text`."}]

    def parse_text(text: str) -> str:
        if not text.startswith("GREETING:"):
            raise InvalidAnswer("no greeting line")
        return text.split(":", 1)[1].strip().upper()

    fallback = TextFormat(messages=text_messages, validate=parse_text)
    llm = gateway(stub)
    result = llm.chat(ASK, purpose="test", schema=SCHEMA, validate=upper, text_format=fallback)
    assert result.value == "HELLO LENA" and result.format == Format.TEXT and result.data is None
    assert stub.requests[-1]["messages"] == text_messages and "response_format" not in stub.requests[-1]


def test_llama_cpp_python_style_endpoint_gets_json_object_with_the_schema(
    openai_stub_factory: Factory,
) -> None:
    """llama-cpp-python answers `json_schema` with a 500 naming response_format; that is a refusal,
    not a server error to retry, and its own form (`json_object` + `schema`) is grammar-enforced."""
    stub = openai_stub_factory(formats=("json_object", "text"), refusal_status=500, enforce=True)
    stub.always(Reply(content=GOOD))
    llm = gateway(stub)
    assert llm.chat(ASK, purpose="test", schema=SCHEMA, validate=upper).format == Format.JSON_OBJECT
    assert stub.formats_asked() == ["json_schema", "json_object"]
    assert stub.requests[1]["response_format"] == {"type": "json_object", "schema": SCHEMA}
    assert "JSON Schema" in stub.requests[1]["messages"][0]["content"]
    llm.chat(ASK, purpose="test", schema=SCHEMA)
    assert stub.formats_asked() == ["json_schema", "json_object", "json_object"]


def test_strict_mode_keyword_trouble_steps_to_the_portable_schema(openai_stub_factory: Factory) -> None:
    """OpenAI's strict mode rejects some keywords: the schema goes without them, the answer is
    checked for its structure, and bounds the endpoint did not enforce are the caller's to clip."""
    stub = openai_stub_factory()

    def strict(request: dict[str, Any]) -> Reply:
        if "maxLength" in json.dumps(requested_schema(request)):
            return Reply(
                status=400, error="Invalid schema for response_format 'answer': 'maxLength' is not permitted."
            )
        greeting = "Hello Lena, " + "x" * 60 if len(stub.requests) < 3 else "Hi"
        return Reply(
            content=json.dumps({"greeting": greeting, "tags": []} if len(stub.requests) < 4 else {"tags": []})
        )

    stub.always(strict)
    llm = gateway(stub)
    assert llm.chat(ASK, purpose="test", schema=SCHEMA, validate=lambda d: d["greeting"][:40]).value == (
        "Hello Lena, " + "x" * 28
    )
    assert llm.structured_format is Format.JSON_SCHEMA_PORTABLE
    sent = requested_schema(stub.requests[1])
    assert sent is not None and "maxLength" not in json.dumps(sent) and "maxItems" not in json.dumps(sent)
    assert sent["required"] == ["greeting", "tags"] and sent["additionalProperties"] is False
    assert llm.chat(ASK, purpose="test", schema=SCHEMA).value == {"greeting": "Hi", "tags": []}
    with pytest.raises(LLMError) as err:  # a required key missing is a broken answer on any format
        llm.chat(ASK, purpose="test", schema=SCHEMA)
    assert err.value.kind == "invalid"
    assert stub.formats_asked() == ["json_schema"] * 4


def test_an_endpoint_that_ignores_the_format_is_noticed(openai_stub_factory: Factory, db: Database) -> None:
    """A 200 answer with no JSON in it cannot come from a constrained decoder: the format was ignored."""
    stub = openai_stub_factory()  # takes every format, enforces none
    stub.always(lambda req: Reply(content="GREETING: hi" if "response_format" not in req else "Hi Lena!"))
    llm = gateway(stub, db)
    fallback = TextFormat(messages=ASK, validate=lambda text: text.split(":")[1].strip())
    assert llm.chat(ASK, purpose="test", schema=SCHEMA, text_format=fallback).value == "hi"
    assert stub.formats_asked() == ["json_schema", "json_object", "text"]
    assert outcomes(db) == ["format_ignored", "format_ignored", "ok"]


@pytest.mark.parametrize(
    "content",
    [
        json.dumps({"greeting": "Hello"}),  # a required key missing
        json.dumps({"greeting": "Hello", "tags": [], "extra": 1}),  # not allowed
        '{"greeting": "Hello Le',  # cut off at the output limit
    ],
)
def test_answers_that_break_the_schema_are_invalid_without_changing_the_format(
    openai_stub: OpenAIStub, content: str
) -> None:
    openai_stub.always(Reply(content=content))
    llm = gateway(openai_stub)
    with pytest.raises(LLMError) as err:
        llm.chat(ASK, purpose="test", schema=SCHEMA, validate=upper)
    assert err.value.kind == "invalid"
    assert llm.structured_format is Format.JSON_SCHEMA and len(openai_stub.requests) == 1


def test_transient_failures_are_retried_on_the_same_format(openai_stub: OpenAIStub) -> None:
    openai_stub.queue(Reply(status=503), Reply(content=GOOD))
    llm = gateway(openai_stub)
    result = llm.chat(ASK, purpose="test", schema=SCHEMA, validate=upper)
    assert result.value == "HELLO LENA" and result.attempts == 2
    assert openai_stub.formats_asked() == ["json_schema", "json_schema"]


def test_a_broken_schema_is_the_callers_bug(openai_stub: OpenAIStub) -> None:
    with pytest.raises(ValueError, match="schema itself is invalid"):
        gateway(openai_stub).chat(ASK, purpose="test", schema={"type": "nonsense"})
    assert openai_stub.requests == []


def test_json_mode_callers_keep_working(openai_stub: OpenAIStub) -> None:
    """The postmortem draft calls `chat(..., json_mode=True, validate=...)` with the text."""
    openai_stub.queue(Reply(content=GOOD))
    result = gateway(openai_stub).chat(ASK, purpose="test", json_mode=True, validate=json.loads)
    assert result.value == {"greeting": "Hello Lena", "tags": ["warm"]} and result.format == "plain"
    assert openai_stub.requests[0]["response_format"] == {"type": "json_object"}
