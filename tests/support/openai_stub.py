"""A local OpenAI-compatible server for tests: real HTTP on 127.0.0.1, answers a test scripts.

The gateway under test uses the real `openai` client against it, so timeouts, status codes,
Retry-After headers and malformed bodies travel the same path they would from a real endpoint.
By default it answers every chat completion with a well-formed summary that cites the messages
it was given — as five-section text, or as JSON when the request asks for a JSON schema
(`response_format` `json_schema`, or `json_object` with a `schema`); a test queues other replies
(delays, 5xx, 429, garbage, injection echoes) with `queue(...)` or replaces the default with
`always(...)`.

Structured output, as endpoints differ: `formats` lists the `response_format` kinds the server
takes (`json_schema`, `json_object`, `text`; default all), and any other is refused with
`refusal_status` and an error naming `response_format`, as OpenAI, llama.cpp and vLLM do.
`enforce=True` plays a constrained decoder: every answer to a schema request is checked against
the schema, and a scripted reply that does not match is a 500 (a test bug, loudly).
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class Reply:
    """One scripted answer. `content` is the assistant text; `body` a raw body instead of JSON."""

    content: str | None = None
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    usage: bool = True
    error: str | None = None  # the error message of a non-200 reply


Script = Reply | Callable[[dict[str, Any]], Reply]


def prompt_text(request: dict[str, Any], role: str = "user") -> str:
    return "\n".join(
        str(m.get("content") or "") for m in request.get("messages", []) if m.get("role") == role
    )


def cited_numbers(text: str) -> list[int]:
    """The message numbers a prompt shows: `12 A: …` / `[12] <@U…>: …` lines, or `[3, 7]` citations."""
    lines = [int(n) for n in re.findall(r"^\[?(\d+)\]?[ :]", text, re.M)]
    return lines or sorted({int(n) for n in re.findall(r"\[(\d+)(?:[,\]])", text)})


def requested_schema(request: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema a request asks the answer to match, in either request form."""
    fmt = request.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return (fmt.get("json_schema") or {}).get("schema")
    if fmt.get("type") == "json_object":
        return fmt.get("schema")
    return None


def _shape(request: dict[str, Any]) -> tuple[int, int, str, str]:
    text = prompt_text(request)
    numbers = cited_numbers(text) or [1]
    users = re.findall(r"<@([UW][A-Z0-9]+)>", text)
    owner = users[0] if users else "U0LENA"
    kind = "merged" if "<<SUMMARIES" in text else "updated" if "<<SUMMARY SO FAR" in text else "chunk"
    return numbers[0], numbers[-1], owner, kind


def summary_json_for(request: dict[str, Any]) -> str:
    """The same well-formed summary as `summary_for`, as JSON for the summary schema."""
    first, last, owner, kind = _shape(request)
    return json.dumps(
        {
            "tldr": f"Stub {kind} summary of messages {first} to {last}. The team reviewed the proposal.",
            "decisions": [{"text": f"Ship the stub decision from message {first}", "messages": [first]}],
            "open_questions": [
                {"text": f"Is the stub question from message {last} answered?", "messages": [last]}
            ],
            "action_items": [
                {"owner": f"<@{owner}>", "task": f"follow up on message {last}", "messages": [last]}
            ],
        }
    )


def example_for(schema: dict[str, Any]) -> Any:
    """A small value that fits a JSON schema (for schemas other than the summary's)."""
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return example_for(schema[key][0])
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: example_for(props[name]) for name in schema.get("required", list(props))}
    if kind == "array":
        return [example_for(schema.get("items", {}))] * max(1, int(schema.get("minItems", 1)))
    if kind == "string":
        return "stub".ljust(int(schema.get("minLength", 0)), "x")
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return True
    return None


def answer_for(request: dict[str, Any]) -> str:
    """The default answer: JSON for a schema request (the summary's, or any other), else text."""
    schema = requested_schema(request)
    if schema is None:
        return summary_for(request)
    if "tldr" in (schema.get("properties") or {}):
        return summary_json_for(request)
    return json.dumps(example_for(schema))


def summary_for(request: dict[str, Any]) -> str:
    """A well-formed five-section answer citing the first and last message the prompt shows."""
    first, last, owner, kind = _shape(request)
    return (
        f"TL;DR: Stub {kind} summary of messages {first} to {last}. The team reviewed the proposal.\n"
        f"Decisions:\n- Ship the stub decision from message {first} [{first}]\n"
        f"Open questions:\n- Is the stub question from message {last} answered? [{last}]\n"
        f"Action items:\n- <@{owner}>: follow up on message {last} [{last}]\n"
        f"People:\n- <@{owner}>: took part\n"
    )


FORMATS = ("json_schema", "json_object", "text")


class OpenAIStub:
    def __init__(
        self,
        *,
        formats: tuple[str, ...] = FORMATS,
        enforce: bool = False,
        refusal_status: int = 400,
    ) -> None:
        self.requests: list[dict[str, Any]] = []
        self.times: list[float] = []
        self._queue: deque[Script] = deque()
        self._default: Script = lambda req: Reply(content=answer_for(req))
        self._lock = threading.Lock()
        self.formats = formats
        self.enforce = enforce
        self.refusal_status = refusal_status
        self.model = "stub-model"
        app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
            ]
        )
        self._server = uvicorn.Server(
            uvicorn.Config(
                app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1
            )
        )
        self._thread: threading.Thread | None = None
        self.url = ""

    # --- scripting -----------------------------------------------------------------------
    def queue(self, *replies: Script) -> None:
        """Answer the next requests with these, in order; then the default again."""
        with self._lock:
            self._queue.extend(replies)

    def always(self, reply: Script) -> None:
        with self._lock:
            self._default = reply

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        return list(self.requests)

    def formats_asked(self) -> list[str]:
        """Each request's `response_format` kind so far (`text` for none), in order."""
        return [str((r.get("response_format") or {}).get("type") or "text") for r in self.requests]

    def _refusal(self, payload: dict[str, Any]) -> Response | None:
        kind = str((payload.get("response_format") or {}).get("type") or "text")
        if kind in self.formats:
            return None
        message = (
            f"Invalid parameter: 'response_format' of type '{kind}' is not supported by this server; "
            f"expected one of {', '.join(repr(f) for f in self.formats)}."
        )
        error = {"message": message, "type": "invalid_request_error", "param": "response_format"}
        return JSONResponse({"error": {**error, "code": None}}, status_code=self.refusal_status)

    def _unenforced(self, payload: dict[str, Any], content: str) -> Response | None:
        """As a constrained decoder: an answer to a schema request always matches the schema."""
        schema = requested_schema(payload)
        if not self.enforce or schema is None:
            return None
        try:
            jsonschema.validate(json.loads(content), schema)
        except (ValueError, jsonschema.ValidationError) as exc:
            # Worded so that the gateway does not take it for a refusal of the answer format.
            detail = getattr(exc, "message", str(exc))[:200]
            error = {"message": f"stub: a scripted reply breaks the requested constraints: {detail}"}
            return JSONResponse({"error": error}, status_code=500)
        return None

    # --- server --------------------------------------------------------------------------
    def start(self) -> OpenAIStub:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="openai-stub", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the OpenAI stub did not start")
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{port}/v1"
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)

    async def _models(self, request: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": self.model, "object": "model"}]})

    async def _chat(self, request: Request) -> Response:
        payload = await request.json()
        with self._lock:
            self.requests.append(payload)
            self.times.append(time.monotonic())
            script = self._queue.popleft() if self._queue else self._default
        refusal = self._refusal(payload)
        if refusal is not None:
            return refusal
        reply = script(payload) if callable(script) else script
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.body is not None:
            return Response(
                reply.body, status_code=reply.status, headers=reply.headers, media_type="application/json"
            )
        if reply.status != 200:
            message = reply.error or f"stub error {reply.status}"
            error = {"error": {"message": message, "type": "server_error"}}
            return JSONResponse(error, status_code=reply.status, headers=reply.headers)
        content = reply.content if reply.content is not None else answer_for(payload)
        unenforced = self._unenforced(payload, content)
        if unenforced is not None:
            return unenforced
        body: dict[str, Any] = {
            "id": "chatcmpl-stub",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": payload.get("model", self.model),
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
            ],
        }
        if reply.usage:
            prompt_chars = sum(len(str(m.get("content") or "")) for m in payload.get("messages", []))
            body["usage"] = {
                "prompt_tokens": prompt_chars // 4,
                "completion_tokens": len(content) // 4,
                "total_tokens": prompt_chars // 4 + len(content) // 4,
            }
        return JSONResponse(body, headers=reply.headers)
