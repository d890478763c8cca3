"""The model gateway: one place where Flywheel talks to a language model.

Any OpenAI-compatible endpoint (OpenAI, Azure, vLLM, Ollama, llama.cpp's server) is reached
through the official `openai` client. Chat is interactive, so the client's defaults (600 s
timeout, 2 hidden retries with backoff) are replaced by an explicit policy the caller can
reason about: every call carries a *deadline*, each attempt's timeout is what is left of it
(capped by `OPENAI_TIMEOUT`), and at most one retry is made — only for errors worth retrying
(timeouts, connection resets, 429, 5xx) and only when enough time remains. A feature that asks
for a summary therefore knows it gets an answer or an `LLMError` before its deadline, and falls
back to its offline path in time.

Token budgeting works without a tokenizer download: `estimate_tokens` over-counts on purpose
(four characters per token for ASCII, one per character otherwise), so a prompt that fits the
estimate fits the model. Every call is recorded (tokens, latency, outcome) in `llm_usage` and
counted in Prometheus.

The gateway stays generic — messages in, text out, an optional validation hook, optional JSON
mode and tools — because postmortem drafts and the DM assistant use it as well.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import openai
from openai import OpenAI

from bot.config import Settings
from bot.metrics import Metrics
from storage.db import Database
from storage.models.reviews import LLMUsage

log = logging.getLogger(__name__)

T = TypeVar("T")

# A context window we can assume of any model worth configuring; override per deployment
# (OPENAI_CONTEXT_TOKENS when Settings carries it) for small local models.
DEFAULT_CONTEXT_TOKENS = 16_384
# Retry at most once, and only if this much time is left for the second attempt.
MAX_ATTEMPTS = 2
MIN_ATTEMPT_SECONDS = 1.5
# A server's Retry-After is honoured up to this long; longer means "not within this request".
MAX_RETRY_WAIT = 3.0
# Every message costs a few tokens of framing (role, separators) in the chat template.
TOKENS_PER_MESSAGE = 4


def estimate_tokens(text: str) -> int:
    """A safe over-estimate of the token count without a tokenizer.

    BPE tokenizers average ~4 characters per token on English and code; CJK and other scripts
    are close to one token per character (often more for rare ones), so non-ASCII characters
    count one each. Over-estimating only makes chunks smaller; under-estimating would overflow
    the model's context.
    """
    if not text:
        return 0
    ascii_chars = sum(1 for ch in text if ord(ch) < 128)
    return math.ceil(ascii_chars / 4) + (len(text) - ascii_chars)


def estimate_messages(messages: Sequence[dict[str, Any]]) -> int:
    return sum(estimate_tokens(str(m.get("content") or "")) + TOKENS_PER_MESSAGE for m in messages) + 3


class LLMError(Exception):
    """The model gave no usable answer; `kind` says why (and is the metrics outcome label)."""

    def __init__(self, kind: str, message: str = "") -> None:
        super().__init__(message or kind)
        self.kind = kind


class InvalidAnswer(ValueError):
    """Raised by a validation hook: the answer's shape is wrong (the gateway records `invalid`)."""


@dataclass
class ChatResult(Generic[T]):
    """A model's answer with its cost. `value` is what the validation hook returned (or the text)."""

    text: str
    value: T
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    model: str
    attempts: int = 1
    estimated: bool = False
    finish_reason: str | None = None
    tool_calls: list[Any] = field(default_factory=list)


@dataclass
class Deadline:
    """An absolute point in monotonic time that a whole piece of work must finish by."""

    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def expired(self, margin: float = 0.0) -> bool:
        return self.remaining() <= margin


_RETRYABLE = {"timeout", "connection", "rate_limited", "server_error"}


def _classify(exc: Exception) -> LLMError:
    """Map the client's exceptions onto the outcomes we record and act on."""
    if isinstance(exc, openai.APITimeoutError):
        return LLMError("timeout", "the model did not answer in time")
    if isinstance(exc, openai.APIConnectionError):
        return LLMError("connection", "could not reach the model endpoint")
    if isinstance(exc, openai.RateLimitError):
        return LLMError("rate_limited", "the model endpoint is rate limiting us")
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code >= 500:
            return LLMError("server_error", f"the model endpoint failed ({exc.status_code})")
        if exc.status_code in (401, 403):
            return LLMError("auth", f"the model endpoint refused our credentials ({exc.status_code})")
        return LLMError("bad_request", f"the model endpoint rejected the request ({exc.status_code})")
    if isinstance(exc, openai.APIResponseValidationError | ValueError | TypeError | KeyError):
        return LLMError("malformed", "the model endpoint sent a malformed answer")
    return LLMError("error", f"unexpected model error: {type(exc).__name__}")


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


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

    # --- the call ------------------------------------------------------------------------
    def chat(
        self,
        messages: Sequence[dict[str, Any]],
        *,
        purpose: str,
        max_tokens: int = 800,
        temperature: float = 0.2,
        deadline: Deadline | None = None,
        validate: Callable[[str], T] | None = None,
        json_mode: bool = False,
        tools: list[dict[str, Any]] | None = None,
    ) -> ChatResult[T]:
        """One chat completion, retried at most once, finished before `deadline` or raising.

        `validate(text)` turns the answer into the caller's value or raises `InvalidAnswer`;
        an invalid answer is recorded as such and raised as `LLMError("invalid")` (it is not
        retried here: the caller decides between repairing it and falling back).
        """
        deadline = deadline or Deadline.after(self.timeout)
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
                if json_mode:
                    kwargs["response_format"] = {"type": "json_object"}
                if tools:
                    kwargs["tools"] = tools
                completion = self.client.chat.completions.create(**kwargs)
                result = self._result(completion, messages, started, attempts)
            except Exception as exc:  # every failure is classified; none escapes unrecorded
                last = exc if isinstance(exc, LLMError) else _classify(exc)
                log.warning("model call %s attempt %d failed: %s", purpose, attempts, last)
                if last.kind not in _RETRYABLE:
                    break
                wait = min(_retry_after(exc) or 0.5 * attempts, MAX_RETRY_WAIT)
                if deadline.remaining() - wait < MIN_ATTEMPT_SECONDS:
                    break
                time.sleep(wait)
                continue
            if validate is None:
                self._record_ok(purpose, result)
                return result
            try:
                result.value = validate(result.text)
            except (InvalidAnswer, ValueError) as exc:
                self._record(
                    purpose,
                    "invalid",
                    result.prompt_tokens,
                    result.completion_tokens,
                    result.latency_s,
                    attempts,
                    result.estimated,
                    str(exc),
                )
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
        self._record(
            purpose,
            "ok",
            result.prompt_tokens,
            result.completion_tokens,
            result.latency_s,
            result.attempts,
            result.estimated,
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
