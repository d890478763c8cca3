"""What every model call needs besides the client: token estimates, deadlines and failures.

Token budgeting works without a tokenizer download: `estimate_tokens` over-counts on purpose
(four characters per token for ASCII, one per character otherwise), so a prompt that fits the
estimate fits the model. A *deadline* bounds a whole piece of work (several calls, retries),
and every failure is one `LLMError` whose `kind` says what happened.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import openai

T = TypeVar("T")

# A context window we can assume of any model worth configuring; override per deployment
# (OPENAI_CONTEXT_TOKENS) for small local models.
DEFAULT_CONTEXT_TOKENS = 16_384
# Retry at most once, and only if this much time is left for the second attempt.
MAX_ATTEMPTS = 2
MIN_ATTEMPT_SECONDS = 1.5
# A server's Retry-After is honoured up to this long; longer means "not within this request".
MAX_RETRY_WAIT = 3.0
# Every message costs a few tokens of framing (role, separators) in the chat template.
TOKENS_PER_MESSAGE = 4


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def estimate_tokens(text: str) -> int:
    """A safe over-estimate of the token count without a tokenizer.

    BPE tokenizers average ~4 characters per token on English and code; CJK and other scripts
    are close to one token per character (often more for rare ones), so non-ASCII characters
    count one each. Over-estimating only makes chunks smaller; under-estimating would overflow
    the model's context.
    """
    if not text:
        return 0
    if text.isascii():
        return math.ceil(len(text) / 4)
    ascii_chars = len(_NON_ASCII.sub("", text))
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
    """A model's answer with its cost.

    `value` is what the validation hook returned — else the parsed JSON (with a schema) or the
    text. `data` is the parsed JSON of a structured answer (None for a text-format answer), and
    `format` the way the answer was asked for (`bot.llm_formats.Format` values; `"plain"` for a
    call without a schema).
    """

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
    format: str = "plain"
    data: Any = None


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


RETRYABLE = {"timeout", "connection", "rate_limited", "server_error"}


def classify(exc: Exception) -> LLMError:
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


def retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    value = headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
