"""The model gateway: one place where Flywheel talks to a language model.

`LLMGateway.chat` sends messages to any OpenAI-compatible endpoint (OpenAI, Azure, vLLM, Ollama,
llama.cpp) under a deadline, and — given a JSON schema — returns the parsed, schema-checked
value in the best structured-output format the endpoint takes. `build_gateway` makes the one
gateway of a running app (`ctx.llm`), or None in offline mode.

- `bot.llm.gateway`: the client, the attempt loop, structured output, accounting;
- `bot.llm.formats`: the answer formats an endpoint may take and the JSON checks;
- `bot.llm.basics`: token estimates, deadlines, failure kinds.
"""

from bot.llm.basics import (
    DEFAULT_CONTEXT_TOKENS,
    ChatResult,
    Deadline,
    InvalidAnswer,
    LLMError,
    estimate_messages,
    estimate_tokens,
)
from bot.llm.formats import Format, TextFormat, with_schema_note
from bot.llm.gateway import LLMGateway, build_gateway

__all__ = [
    "DEFAULT_CONTEXT_TOKENS",
    "ChatResult",
    "Deadline",
    "Format",
    "InvalidAnswer",
    "LLMError",
    "LLMGateway",
    "TextFormat",
    "build_gateway",
    "estimate_messages",
    "estimate_tokens",
    "with_schema_note",
]
