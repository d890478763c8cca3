"""The model gateway against a real HTTP server: timeouts, retries, accounting, budgets."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from sqlmodel import select

from bot.config import Settings
from bot.llm import (
    Deadline,
    InvalidAnswer,
    LLMError,
    LLMGateway,
    build_gateway,
    estimate_messages,
    estimate_tokens,
)
from bot.metrics import Metrics
from storage.db import Database
from storage.models.reviews import LLMUsage
from tests.support.openai_stub import OpenAIStub, Reply

HELLO = [{"role": "user", "content": "Say hello."}]


def gateway(stub: OpenAIStub, db: Database | None = None, **kw: object) -> tuple[LLMGateway, Metrics]:
    metrics = Metrics()
    options: dict[str, object] = {"timeout": 2.0}
    options.update(kw)
    gw = LLMGateway(model="stub-model", base_url=stub.url, api_key="x", db=db, metrics=metrics, **options)  # type: ignore[arg-type]
    return gw, metrics


def usage_rows(db: Database) -> list[LLMUsage]:
    with db.session() as s:
        return list(s.exec(select(LLMUsage).order_by(LLMUsage.id)).all())  # type: ignore[arg-type]


def counter(metrics: Metrics, name: str, **labels: str) -> float:
    value = metrics.registry.get_sample_value(name, labels)
    return value or 0.0


def test_answer_is_returned_and_recorded(openai_stub: OpenAIStub, db: Database) -> None:
    openai_stub.queue(Reply(content="Hello there"))
    gw, metrics = gateway(openai_stub, db)
    result = gw.chat(HELLO, purpose="test.hello", max_tokens=20)
    assert result.text == "Hello there"
    assert result.prompt_tokens > 0 and result.completion_tokens > 0 and not result.estimated
    (row,) = usage_rows(db)
    assert (row.purpose, row.outcome, row.attempts) == ("test.hello", "ok", 1)
    assert row.prompt_tokens == result.prompt_tokens and row.completion_tokens == result.completion_tokens
    assert counter(metrics, "flywheel_llm_calls_total", outcome="ok") == 1
    assert counter(metrics, "flywheel_llm_tokens_total", kind="completion") == result.completion_tokens
    # The explicit policy: no hidden client retries, our own timeout.
    assert gw.client.max_retries == 0
    assert openai_stub.requests[0]["max_tokens"] == 20


def test_usage_is_estimated_when_the_server_gives_none(openai_stub: OpenAIStub, db: Database) -> None:
    openai_stub.queue(Reply(content="x" * 400, usage=False))
    gw, _ = gateway(openai_stub, db)
    result = gw.chat(HELLO, purpose="test")
    assert result.estimated and result.completion_tokens == 100
    assert usage_rows(db)[0].estimated


def test_timeout_is_retried_once_then_raised_quickly(openai_stub: OpenAIStub, db: Database) -> None:
    openai_stub.always(Reply(content="late", delay=5))
    gw, metrics = gateway(openai_stub, db, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(LLMError) as err:
        gw.chat(HELLO, purpose="test", deadline=Deadline.after(10))
    elapsed = time.monotonic() - started
    assert err.value.kind == "timeout"
    assert len(openai_stub.requests) == 2 and elapsed < 3
    (row,) = usage_rows(db)
    assert (row.outcome, row.attempts) == ("timeout", 2)
    assert counter(metrics, "flywheel_llm_calls_total", outcome="timeout") == 1


def test_the_deadline_bounds_the_whole_call(openai_stub: OpenAIStub) -> None:
    openai_stub.always(Reply(content="late", delay=10))
    gw, _ = gateway(openai_stub, timeout=12)
    started = time.monotonic()
    with pytest.raises(LLMError):
        gw.chat(HELLO, purpose="test", deadline=Deadline.after(1.0))
    assert time.monotonic() - started < 1.6
    assert len(openai_stub.requests) == 1  # no time left for a retry


def test_rate_limit_waits_for_retry_after_then_succeeds(openai_stub: OpenAIStub, db: Database) -> None:
    openai_stub.queue(Reply(status=429, headers={"retry-after": "1"}), Reply(content="fine"))
    gw, _ = gateway(openai_stub, db)
    result = gw.chat(HELLO, purpose="test", deadline=Deadline.after(10))
    assert result.text == "fine" and result.attempts == 2
    assert openai_stub.times[1] - openai_stub.times[0] >= 0.9
    assert usage_rows(db)[0].attempts == 2


def test_server_errors_give_up_after_one_retry(openai_stub: OpenAIStub) -> None:
    openai_stub.always(Reply(status=503))
    gw, _ = gateway(openai_stub)
    with pytest.raises(LLMError) as err:
        gw.chat(HELLO, purpose="test", deadline=Deadline.after(10))
    assert err.value.kind == "server_error" and len(openai_stub.requests) == 2


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (Reply(body="this is not json"), "malformed"),
        (Reply(body='{"id": "x", "choices": []}'), "malformed"),
        (Reply(content=""), "malformed"),
        (Reply(status=400), "bad_request"),
        (Reply(status=401), "auth"),
    ],
)
def test_failures_that_a_retry_cannot_fix_are_not_retried(
    openai_stub: OpenAIStub, reply: Reply, kind: str
) -> None:
    openai_stub.always(reply)
    gw, _ = gateway(openai_stub)
    with pytest.raises(LLMError) as err:
        gw.chat(HELLO, purpose="test")
    assert err.value.kind == kind
    assert len(openai_stub.requests) == 1


def test_validation_hook_turns_answers_into_values(openai_stub: OpenAIStub, db: Database) -> None:
    def numbers_only(text: str) -> int:
        if not text.strip().isdigit():
            raise InvalidAnswer("not a number")
        return int(text)

    openai_stub.queue(Reply(content="42"), Reply(content="forty-two"))
    gw, metrics = gateway(openai_stub, db)
    assert gw.chat(HELLO, purpose="test", validate=numbers_only).value == 42
    with pytest.raises(LLMError) as err:
        gw.chat(HELLO, purpose="test", validate=numbers_only)
    assert err.value.kind == "invalid"
    assert [r.outcome for r in usage_rows(db)] == ["ok", "invalid"]
    assert counter(metrics, "flywheel_llm_calls_total", outcome="invalid") == 1


def test_prompts_over_the_budget_are_refused_before_sending(openai_stub: OpenAIStub) -> None:
    gw, _ = gateway(openai_stub, context_tokens=1000)
    with pytest.raises(LLMError) as err:
        gw.chat([{"role": "user", "content": "word " * 2000}], purpose="test", max_tokens=200)
    assert err.value.kind == "over_budget"
    assert openai_stub.requests == []


def test_json_mode_and_tools_are_passed_through(openai_stub: OpenAIStub) -> None:
    gw, _ = gateway(openai_stub)
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
    gw.chat(HELLO, purpose="test", json_mode=True, tools=[tool])
    sent = openai_stub.requests[0]
    assert sent["response_format"] == {"type": "json_object"} and sent["tools"][0]["function"]["name"] == "f"


def test_token_estimate_errs_on_the_safe_side() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd" * 100) == 100
    assert estimate_tokens("決定しました") == 6  # one per CJK character
    english = "We decided to ship the one-page checkout behind a flag to ten percent of mobile users."
    assert estimate_tokens(english) >= len(english.split())  # a real tokenizer gives about one per word
    assert estimate_messages(HELLO) > estimate_tokens("Say hello.")


def test_build_gateway_follows_the_settings(make_settings: Callable[..., Settings]) -> None:
    assert build_gateway(make_settings(FLYWHEEL_LLM="off", OPENAI_API_KEY="k"), db=None, metrics=None) is None
    assert build_gateway(make_settings(FLYWHEEL_LLM="auto"), db=None, metrics=None) is None
    gw = build_gateway(
        make_settings(FLYWHEEL_LLM="auto", OPENAI_BASE_URL="http://127.0.0.1:9/v1", OPENAI_TIMEOUT="3"),
        db=None,
        metrics=None,
    )
    assert gw is not None and gw.timeout == 3 and gw.client.max_retries == 0
    assert str(gw.client.base_url).startswith("http://127.0.0.1:9/v1")
    forced = build_gateway(make_settings(FLYWHEEL_LLM="openai", OPENAI_MODEL="m1"), db=None, metrics=None)
    assert forced is not None and forced.model == "m1"


def test_unreachable_endpoint_is_a_connection_error() -> None:
    gw = LLMGateway(model="m", base_url="http://127.0.0.1:9/v1", api_key="x", timeout=2)
    started = time.monotonic()
    with pytest.raises(LLMError) as err:
        gw.chat(HELLO, purpose="test", deadline=Deadline.after(4))
    assert err.value.kind == "connection" and time.monotonic() - started < 4.5
