"""A local OpenAI-compatible server for tests: real HTTP on 127.0.0.1, answers a test scripts.

The gateway under test uses the real `openai` client against it, so timeouts, status codes,
Retry-After headers and malformed bodies travel the same path they would from a real endpoint.
By default it answers every chat completion with a well-formed summary that cites the messages
it was given; a test queues other replies (delays, 5xx, 429, garbage, injection echoes) with
`queue(...)` or replaces the default with `always(...)`.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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


Script = Reply | Callable[[dict[str, Any]], Reply]


def prompt_text(request: dict[str, Any], role: str = "user") -> str:
    return "\n".join(
        str(m.get("content") or "") for m in request.get("messages", []) if m.get("role") == role
    )


def cited_numbers(text: str) -> list[int]:
    """The message numbers a prompt shows: `[12] <@U…>: …` lines, or `[3, 7]` citations."""
    lines = [int(n) for n in re.findall(r"^\[(\d+)\]", text, re.M)]
    return lines or sorted({int(n) for n in re.findall(r"\[(\d+)(?:[,\]])", text)})


def summary_for(request: dict[str, Any]) -> str:
    """A well-formed five-section answer citing the first and last message the prompt shows."""
    text = prompt_text(request)
    numbers = cited_numbers(text) or [1]
    users = re.findall(r"<@([UW][A-Z0-9]+)>", text)
    owner = users[0] if users else "U0LENA"
    first, last = numbers[0], numbers[-1]
    kind = "merged" if "<<SUMMARIES" in text else "updated" if "<<NEW REPLIES" in text else "chunk"
    return (
        f"TL;DR: Stub {kind} summary of messages {first} to {last}. The team reviewed the proposal.\n"
        f"Decisions:\n- Ship the stub decision from message {first} [{first}]\n"
        f"Open questions:\n- Is the stub question from message {last} answered? [{last}]\n"
        f"Action items:\n- <@{owner}>: follow up on message {last} [{last}]\n"
        f"People:\n- <@{owner}>: took part\n"
    )


class OpenAIStub:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.times: list[float] = []
        self._queue: deque[Script] = deque()
        self._default: Script = lambda req: Reply(content=summary_for(req))
        self._lock = threading.Lock()
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
        reply = script(payload) if callable(script) else script
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.body is not None:
            return Response(
                reply.body, status_code=reply.status, headers=reply.headers, media_type="application/json"
            )
        if reply.status != 200:
            error = {"error": {"message": f"stub error {reply.status}", "type": "server_error"}}
            return JSONResponse(error, status_code=reply.status, headers=reply.headers)
        content = reply.content if reply.content is not None else summary_for(payload)
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
