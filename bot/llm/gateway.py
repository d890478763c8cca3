"""The model gateway: one place where Flywheel talks to a language model.

Any OpenAI-compatible endpoint (OpenAI, Azure, vLLM, Ollama, llama.cpp's server) is reached
through the official `openai` client. Chat is interactive, so the client's defaults (600 s
timeout, 2 hidden retries with backoff) are replaced by an explicit policy the caller can
reason about: every call carries a *deadline*, each attempt's timeout is what is left of it
(capped by `OPENAI_TIMEOUT`), and at most one retry is made — only for errors worth retrying
(timeouts, connection resets, 429, 5xx) and only when enough time remains. A feature that asks
for a summary therefore knows it gets an answer or an `LLMError` before its deadline, and falls
back to its offline path in time.

Every call is recorded (tokens, latency, outcome) in `llm_usage` and counted in Prometheus;
budgets, deadlines and failure kinds are in `bot.llm.basics`.

The gateway stays generic — messages in, a value out — because postmortem drafts and the DM
assistant use it as well. Where a feature needs structure it passes a JSON schema
(`chat(..., schema=SCHEMA, schema_name="…", validate=…)`): the gateway asks for it in the best
format the endpoint takes (`bot.llm.formats`: `json_schema`, then fallbacks, remembered per
gateway), checks the answer against the schema and hands back the parsed value.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from openai import OpenAI

from bot.config import Settings
from bot.llm.basics import (
    DEFAULT_CONTEXT_TOKENS,
    MAX_ATTEMPTS,
    MAX_RETRY_WAIT,
    MIN_ATTEMPT_SECONDS,
    RETRYABLE,
    ChatResult,
    Deadline,
    InvalidAnswer,
    LLMError,
    classify,
    estimate_messages,
    estimate_tokens,
    retry_after,
)
from bot.llm.formats import (
    LADDER,
    Format,
    FormatRefused,
    NotJSON,
    TextFormat,
    check_schema,
    extract_json,
    next_format,
    portable,
    refuses_format,
    response_format,
    schema_errors,
    with_schema_note,
)
from bot.metrics import Metrics
from storage.db import Database
from storage.models.reviews import LLMUsage

log = logging.getLogger(__name__)

T = TypeVar("T")


class LLMGateway:
    """Chat completions against one configured endpoint, with deadlines, retry and accounting."""

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 12.0,
        context_tokens: int = DEFAULT_CONTEXT_TOKENS,
        db: Database | None = None,
        metrics: Metrics | None = None,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.model = model
        self.timeout = timeout
        self.context_tokens = context_tokens
        self.db = db
        self.metrics = metrics
        self.max_attempts = max(1, max_attempts)
        # The best answer format this endpoint has not refused yet, for this process's lifetime.
        self._format: Format = LADDER[0]
        self._format_lock = threading.Lock()
        # Local servers (llama.cpp, vLLM, Ollama) ignore the key but the client insists on one.
        self.client = OpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",
            timeout=timeout,
            max_retries=0,  # our own policy below, bounded by the caller's deadline
        )

    # --- budgeting -----------------------------------------------------------------------
    def input_budget(self, *, reserve_output: int) -> int:
        """Tokens a prompt may use so that `reserve_output` tokens of answer still fit."""
        return max(256, self.context_tokens - reserve_output - 64)

    def fits(self, messages: Sequence[dict[str, Any]], *, reserve_output: int) -> bool:
        return estimate_messages(messages) <= self.input_budget(reserve_output=reserve_output)

    # --- structured output -------------------------------------------------------------
    @property
    def structured_format(self) -> Format:
        """The answer format this endpoint is asked for next (the best one not yet refused)."""
        with self._format_lock:
            return self._format

    def _step_down(self, refused: Format, message: str) -> None:
        with self._format_lock:
            if self._format is refused:  # parallel calls may learn it at once: step only once
                self._format = next_format(refused, message)
                log.warning(
                    "model endpoint does not take %s answers (%s); asking for %s from now on",
                    refused.value,
                    message[:200],
                    self._format.value,
                )

    # --- the call ------------------------------------------------------------------------
    def chat(
        self,
        messages: Sequence[dict[str, Any]],
        *,
        purpose: str,
        max_tokens: int = 800,
        temperature: float = 0.2,
        deadline: Deadline | None = None,
        validate: Callable[[Any], T] | None = None,
        json_mode: bool = False,
        tools: list[dict[str, Any]] | None = None,
        schema: dict[str, Any] | None = None,
        schema_name: str = "answer",
        text_format: TextFormat[T] | None = None,
    ) -> ChatResult[T]:
        """One chat completion, retried at most once, finished before `deadline` or raising.

        Without `schema`: `validate(text)` turns the answer into the caller's value or raises
        `InvalidAnswer`; `json_mode` asks for `response_format: json_object`.

        With `schema` (a JSON Schema, for OpenAI's strict mode: every property required,
        `additionalProperties: false`): the answer is asked for as structured output in the best
        format the endpoint takes, parsed and checked against the schema's structure (types,
        required and allowed keys, enums — bounds such as `maxLength` or `maxItems` steer
        constrained decoders but are not held against an answer), and `validate(data)` gets the
        parsed JSON (its return value becomes `ChatResult.value`; without `validate`,
        the JSON itself). An endpoint that refuses or ignores a format is asked again at once in
        the next one, and that is remembered for every later call of this gateway; on the last
        rung, plain text, `text_format` (if given) is used instead of the schema in the prompt.

        An invalid answer is recorded as such and raised as `LLMError("invalid")` (it is not
        retried here: the caller decides between repairing it and falling back).
        """
        deadline = deadline or Deadline.after(self.timeout)
        if schema is None:
            return self._complete(
                messages,
                purpose=purpose,
                max_tokens=max_tokens,
                temperature=temperature,
                deadline=deadline,
                answer_format={"type": "json_object"} if json_mode else None,
                tools=tools,
                parse=validate,
                label="plain",
            )
        check_schema(schema)
        for _ in LADDER:  # each refusal steps down one rung; plain text cannot be refused
            fmt = self.structured_format
            try:
                return self._structured(
                    fmt,
                    messages,
                    purpose=purpose,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    deadline=deadline,
                    validate=validate,
                    tools=tools,
                    schema=schema,
                    schema_name=schema_name,
                    text_format=text_format,
                )
            except FormatRefused as refused:
                self._step_down(fmt, str(refused))
        raise LLMError("bad_request", "the model endpoint refused every answer format")

    def _structured(
        self,
        fmt: Format,
        messages: Sequence[dict[str, Any]],
        *,
        purpose: str,
        max_tokens: int,
        temperature: float,
        deadline: Deadline,
        validate: Callable[[Any], T] | None,
        tools: list[dict[str, Any]] | None,
        schema: dict[str, Any],
        schema_name: str,
        text_format: TextFormat[T] | None,
    ) -> ChatResult[T]:
        common: dict[str, Any] = {
            "purpose": purpose,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "deadline": deadline,
            "tools": tools,
            "label": fmt.value,
        }
        if fmt is Format.TEXT and text_format is not None:
            return self._complete(
                text_format.messages, answer_format=None, parse=text_format.validate, **common
            )

        def parse(text: str) -> tuple[Any, Any]:
            expect = schema.get("type") if isinstance(schema.get("type"), str) else None
            try:
                data, chatter = extract_json(text, expect=expect)
            except NotJSON as exc:
                if exc.looks_ignored and fmt is not Format.TEXT:
                    raise FormatRefused(f"{fmt.value} was ignored: {exc}") from None
                raise InvalidAnswer(str(exc)) from None
            # Bounds (lengths, counts) steer a decoder; what every answer must have is the structure.
            errors = schema_errors(data, portable(schema))
            if errors and chatter and fmt is not Format.TEXT:
                # Prose around JSON that does not fit: nothing constrained this answer.
                raise FormatRefused(f"{fmt.value} was ignored: {'; '.join(errors)}")
            if errors:
                raise InvalidAnswer("the answer does not match the schema: " + "; ".join(errors))
            return data, (validate(data) if validate is not None else data)

        native = fmt in (Format.JSON_SCHEMA, Format.JSON_SCHEMA_PORTABLE)
        result: ChatResult[Any] = self._complete(
            messages if native else with_schema_note(messages, schema),
            answer_format=response_format(fmt, schema, schema_name),
            parse=parse,
            **common,
        )
        result.data, result.value = result.value
        return result

    def _complete(
        self,
        messages: Sequence[dict[str, Any]],
        *,
        purpose: str,
        max_tokens: int,
        temperature: float,
        deadline: Deadline,
        answer_format: dict[str, Any] | None,
        tools: list[dict[str, Any]] | None,
        parse: Callable[[str], Any] | None,
        label: str,
    ) -> ChatResult[Any]:
        """The attempt loop: budget check, one retry for transient errors, accounting."""
        if not self.fits(messages, reserve_output=max_tokens):
            self._record(purpose, "over_budget", estimate_messages(messages), 0, 0.0, 0, True, "")
            raise LLMError("over_budget", "the prompt does not fit the model's context window")
        started = time.monotonic()
        attempts = 0
        last: LLMError | None = None
        while attempts < self.max_attempts:
            remaining = deadline.remaining()
            if remaining < (MIN_ATTEMPT_SECONDS if attempts else 0.5):
                break
            attempts += 1
            try:
                kwargs: dict[str, Any] = {
                    "model": self.model,
                    "messages": list(messages),
                    "max_tokens": max_tokens,
                    "temperature": temperature,
                    "timeout": min(self.timeout, remaining),
                }
                if answer_format is not None:
                    kwargs["response_format"] = answer_format
                if tools:
                    kwargs["tools"] = tools
                completion = self.client.chat.completions.create(**kwargs)
                result = self._result(completion, messages, started, attempts)
            except Exception as exc:  # every failure is classified; none escapes unrecorded
                if answer_format is not None and refuses_format(exc):
                    elapsed = time.monotonic() - started
                    self._record(
                        purpose, "format_refused", 0, 0, elapsed, attempts, True, f"{label}: {exc}"[:500]
                    )
                    raise FormatRefused(f"{label} refused: {exc}") from None
                last = exc if isinstance(exc, LLMError) else classify(exc)
                log.warning("model call %s attempt %d failed: %s", purpose, attempts, last)
                if last.kind not in RETRYABLE:
                    break
                wait = min(retry_after(exc) or 0.5 * attempts, MAX_RETRY_WAIT)
                if deadline.remaining() - wait < MIN_ATTEMPT_SECONDS:
                    break
                time.sleep(wait)
                continue
            result.format = label
            if parse is None:
                self._record_ok(purpose, result)
                return result
            try:
                result.value = parse(result.text)
            except FormatRefused as exc:
                self._record_answer(purpose, "format_ignored", result, str(exc))
                raise
            except (InvalidAnswer, ValueError) as exc:
                self._record_answer(purpose, "invalid", result, str(exc))
                raise LLMError("invalid", f"the model's answer did not fit the format: {exc}") from None
            self._record_ok(purpose, result)
            return result
        error = last or LLMError("deadline", "no time left for a model call")
        elapsed = time.monotonic() - started
        self._record(purpose, error.kind, estimate_messages(messages), 0, elapsed, attempts, True, str(error))
        raise error

    def _result(
        self, completion: Any, messages: Sequence[dict[str, Any]], started: float, attempts: int
    ) -> ChatResult[Any]:
        choices = getattr(completion, "choices", None)
        if not choices:
            raise LLMError("malformed", "the answer had no choices")
        choice = choices[0]
        msg = getattr(choice, "message", None)
        text = getattr(msg, "content", None) or ""
        tool_calls = list(getattr(msg, "tool_calls", None) or [])
        if not isinstance(text, str) or (not text.strip() and not tool_calls):
            raise LLMError("malformed", "the answer was empty")
        usage = getattr(completion, "usage", None)
        prompt_tokens = getattr(usage, "prompt_tokens", None)
        completion_tokens = getattr(usage, "completion_tokens", None)
        estimated = not isinstance(prompt_tokens, int) or not isinstance(completion_tokens, int)
        if estimated:
            prompt_tokens = estimate_messages(messages)
            completion_tokens = estimate_tokens(text)
        return ChatResult(
            text=text,
            value=text,
            prompt_tokens=int(prompt_tokens or 0),
            completion_tokens=int(completion_tokens or 0),
            latency_s=time.monotonic() - started,
            model=str(getattr(completion, "model", None) or self.model),
            attempts=attempts,
            estimated=estimated,
            finish_reason=getattr(choice, "finish_reason", None),
            tool_calls=tool_calls,
        )

    # --- accounting ----------------------------------------------------------------------
    def _record_ok(self, purpose: str, result: ChatResult[Any]) -> None:
        self._record_answer(purpose, "ok", result)

    def _record_answer(self, purpose: str, outcome: str, result: ChatResult[Any], error: str = "") -> None:
        self._record(
            purpose,
            outcome,
            result.prompt_tokens,
            result.completion_tokens,
            result.latency_s,
            result.attempts,
            result.estimated,
            error,
        )

    def _record(
        self,
        purpose: str,
        outcome: str,
        prompt_tokens: int,
        completion_tokens: int,
        latency_s: float,
        attempts: int,
        estimated: bool = True,
        error: str = "",
    ) -> None:
        """Count the call in Prometheus and in `llm_usage`; accounting never breaks a request."""
        if self.metrics is not None:
            self.metrics.llm_calls.labels(outcome=outcome).inc()
            if prompt_tokens:
                self.metrics.llm_tokens.labels(kind="prompt").inc(prompt_tokens)
            if completion_tokens:
                self.metrics.llm_tokens.labels(kind="completion").inc(completion_tokens)
        if self.db is None:
            return
        try:
            with self.db.session() as s:
                s.add(
                    LLMUsage(
                        purpose=purpose[:64],
                        model=self.model[:200],
                        outcome=outcome[:32],
                        prompt_tokens=prompt_tokens,
                        completion_tokens=completion_tokens,
                        estimated=estimated,
                        latency_ms=int(latency_s * 1000),
                        attempts=attempts,
                        error=error[:500],
                    )
                )
        except Exception:
            log.exception("could not record model usage")


def build_gateway(settings: Settings, *, db: Database | None, metrics: Metrics | None) -> LLMGateway | None:
    """The gateway the settings ask for, or None for offline mode (FLYWHEEL_LLM=off or no endpoint)."""
    if not settings.llm_enabled:
        return None
    context_tokens = settings.openai_context_tokens or DEFAULT_CONTEXT_TOKENS
    return LLMGateway(
        model=settings.openai_model,
        base_url=settings.openai_base_url,
        api_key=settings.openai_api_key,
        timeout=settings.openai_timeout,
        context_tokens=int(context_tokens),
        db=db,
        metrics=metrics,
    )
