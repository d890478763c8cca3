"""Benchmark (not a test): 1,000 digest subscriptions due at once, against Slack's posting limit.

    .venv/bin/python bench/digest_fanout.py [--runs 3] [--channels 50] [--per-channel 20] [--burst 3]

What it does, all on loopback:

1. a SQLite database through the migrations, with an OKR cycle worth digesting (300 objectives,
   900 key results, 900 check-ins) and `channels × per-channel` OKR digest subscriptions, every
   one due now;
2. the Slack simulator in a process of its own (so its CPU is not counted as the bot's), with
   Slack's `chat.postMessage` limit on: about one message per second per channel, bursts of
   `--burst`, HTTP 429 with `Retry-After` beyond that (`bot/simulator/ratelimit.py`);
3. the digest job exactly as the scheduler runs it (`bot.digests.deliver.run_due`): content built,
   a delivery claimed with each message, posts in one lane per channel, 429s waited out;
4. side by side, in the same run: the least time the limit allows (`(per-channel − burst) / rate`)
   and a bare poster — the same rendered message posted in the same lanes with no database, no
   claims and no content — to show what exactly-once costs.

Reported per run: wall time to deliver all, its ratio to the least time, CPU time per digest in the
bot's process, 429s answered, duplicates and losses (from the messages' delivery keys as Slack
holds them). Targets (issue 10): ≤ 1.1× the least time, < 20 ms CPU per digest, 0 duplicates,
0 losses.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"


# ---- the simulator, in its own process ----------------------------------------------------------


def _simulator(conn: Any, channels: int, per_second: float, burst: int) -> None:
    from bot.common.delivery import MARKER
    from bot.simulator import BOT_USER_ID, Simulator

    sim = Simulator(signing_secret=SECRET, bot_token=TOKEN).start()
    for i in range(channels):
        sim.add_channel(f"C0BENCH{i:04d}", f"bench-{i}", members=[])
    limit = sim.limit_rate(per_second=per_second, burst=burst)
    conn.send(sim.api_url)
    conn.recv()  # "stats"
    keys: Counter[str] = Counter()
    posts = 0
    spans: list[tuple[float, float]] = []
    for i in range(channels):
        times = []
        for m in sim.messages(f"C0BENCH{i:04d}"):
            if m.user == BOT_USER_ID:
                posts += 1
                times.append(float(m.ts))
                meta = m.metadata or {}
                if meta.get("event_type") == MARKER:
                    keys[meta["event_payload"]["key"]] += 1
        if times:
            spans.append((min(times), max(times)))
    first = min((a for a, _ in spans), default=0.0)
    slowest = max((b - a for a, b in spans), default=0.0)
    latest_start = max((a for a, _ in spans), default=0.0) - first
    conn.send(
        {
            "posts": posts,
            "keys": dict(keys),
            "limited": limit.limited,
            "slowest_channel": slowest,
            "latest_first_post": latest_start,
        }
    )
    sim.stop()


class SimProcess:
    def __init__(self, channels: int, per_second: float, burst: int) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_simulator, args=(child, channels, per_second, burst), daemon=True)
        self.proc.start()
        self.api_url: str = self.conn.recv()

    def stats(self) -> dict[str, Any]:
        self.conn.send("stats")
        stats = self.conn.recv()
        self.proc.join(timeout=10)
        return stats


# ---- data ---------------------------------------------------------------------------------------


def seed_okrs(db: Any, settings: Any, now: datetime) -> None:
    import random

    from bot.okrs import scoring, service
    from storage.models import Team

    clock = scoring.Clock(months=settings.flywheel_okr_cycle_months, tz=settings.tz, fixed_now=now)
    rng = random.Random(10)
    with db.session() as s:
        teams = [Team(key=f"team{i}", name=f"Team {i}") for i in range(12)]
        s.add_all(teams)
        s.flush()
        for i in range(300):
            owner = f"U0OWNER{i % 40:03d}"
            objective = service.create_objective(
                db_session=s, actor_id=owner, clock=clock, title=f"Objective {i}", team=teams[i % 12]
            )
            for j in range(3):
                kr = service.add_key_result(
                    db_session=s,
                    actor_id=owner,
                    is_admin=False,
                    objective_id=objective.id or 0,
                    title=f"Key result {i}.{j}",
                    target=100,
                    clock=clock,
                )
                service.check_in(
                    db_session=s,
                    clock=clock,
                    actor_id=owner,
                    is_admin=False,
                    kr_id=kr.id or 0,
                    value=rng.uniform(0, 80),
                    confidence=rng.randint(2, 9),
                    note="steady progress",
                    at=now - timedelta(hours=rng.uniform(1, 40)),
                )


def subscribe_all(db: Any, channels: int, per_channel: int, now: datetime) -> int:
    from datetime import time as clock_time

    from storage.models.digests import DigestSubscription

    with db.session() as s:
        for c in range(channels):
            for k in range(per_channel):
                s.add(
                    DigestSubscription(
                        channel_id=f"C0BENCH{c:04d}",
                        kind="okr",
                        cadence="daily",
                        weekday="",
                        at_time=f"{clock_time(k, 0):%H:%M}",
                        tz="UTC",
                        created_by="U0BENCH",
                        next_run_at=now,
                    )
                )
    return channels * per_channel


# ---- one run ------------------------------------------------------------------------------------


def run_flywheel(args: argparse.Namespace, seeded: Path, now: datetime) -> dict[str, Any]:
    import shutil

    from bot.app import build_app
    from bot.config import load_settings
    from bot.digests.deliver import run_due
    from storage.db import Database

    sim = SimProcess(args.channels, args.rate, args.burst)
    with tempfile.TemporaryDirectory(prefix="flywheel-fanout-") as tmp:
        path = Path(tmp) / "run.db"
        shutil.copy(seeded, path)
        url = f"sqlite:///{path}"
        settings = load_settings(
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=sim.api_url,
            DATABASE_URL=url,
            FLYWHEEL_LLM="off",
            _env_file=None,
        )
        db = Database(url)
        fw = build_app(settings, db=db, token_verification=False)
        fw.ctx.clock.freeze(now)
        total = subscribe_all(db, args.channels, args.per_channel, now)
        cpu, wall = time.process_time(), time.perf_counter()
        report = run_due(fw.ctx, fw.app.client)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        fw.ctx.executor.shutdown()
        db.dispose()
    stats = sim.stats()
    keys = stats["keys"]
    return {
        "wall": wall,
        "cpu_ms": cpu * 1000 / total,
        "sent": report.count("sent"),
        "limited": stats["limited"],
        "duplicates": sum(n - 1 for n in keys.values() if n > 1),
        "losses": total - len(keys),
        "posts": stats["posts"],
        "slowest_channel": stats["slowest_channel"],
        "latest_first_post": stats["latest_first_post"],
    }


def run_bare(args: argparse.Namespace, message: dict[str, Any]) -> dict[str, Any]:
    """The same message, the same lanes, no database or claims: posting alone."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    sim = SimProcess(args.channels, args.rate, args.burst)
    client = WebClient(token=TOKEN, base_url=sim.api_url, retry_handlers=[])

    def lane(c: int) -> None:
        for k in range(args.per_channel):
            key = f"bare:{c}:{k}"
            while True:
                try:
                    client.chat_postMessage(
                        channel=f"C0BENCH{c:04d}",
                        text=message["text"],
                        blocks=message["blocks"],
                        metadata={"event_type": "flywheel_delivery", "event_payload": {"key": key}},
                    )
                    break
                except SlackApiError as err:
                    if err.response.status_code != 429:
                        raise
                    time.sleep(float(err.response.headers.get("Retry-After", 1)))

    total = args.channels * args.per_channel
    cpu, wall = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(max_workers=min(100, args.channels)) as pool:
        list(pool.map(lane, range(args.channels)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stats = sim.stats()
    return {"wall": wall, "cpu_ms": cpu * 1000 / total, "limited": stats["limited"], "posts": stats["posts"]}


def sample_message(seeded: Path, now: datetime) -> tuple[dict[str, Any], float, float]:
    """One rendered OKR digest (for the bare poster), and what building one costs with no cache
    (ms CPU): the whole digest, and its window part alone (check-ins, movers) — what each further
    subscription with a different "since" costs in the same run."""
    from bot.config import load_settings
    from bot.context import AppContext
    from bot.digests import views
    from bot.digests.content import Window, okr_content
    from bot.digests.parse import DigestKind
    from bot.okrs import activity
    from bot.okrs.scoring import Clock
    from storage.db import Database

    url = f"sqlite:///{seeded}"
    settings = load_settings(DATABASE_URL=url, FLYWHEEL_LLM="off", _env_file=None)
    db = Database(url)
    ctx = AppContext(settings=settings, db=db, executor=ThreadPoolExecutor(1))
    ctx.clock.freeze(now)
    window = Window(since=now - timedelta(days=1), until=now, tz=settings.tz)
    okr_content(ctx, window)  # warm
    started = time.process_time()
    for _ in range(10):
        content = okr_content(ctx, window)
    full_ms = (time.process_time() - started) * 100
    with db.session() as s:
        snapshot = activity.cycle_progress(db_session=s, clock=Clock.of(ctx))
    started = time.process_time()
    for i in range(10):
        okr_content(
            ctx, Window(since=window.since - timedelta(minutes=i), until=now, tz=settings.tz), snapshot
        )
    window_ms = (time.process_time() - started) * 100
    message = views.digest_message(
        content, kind=DigestKind.OKR, window=window, cadence="daily", sub_ref="D-1"
    )
    ctx.executor.shutdown()
    db.dispose()
    return message, full_ms, window_ms


def spread(values: list[float], fmt: str) -> str:
    lo, hi, mid = min(values), max(values), statistics.median(values)
    return f"{fmt.format(mid)} (range {fmt.format(lo)}–{fmt.format(hi)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--per-channel", type=int, default=20)
    parser.add_argument("--rate", type=float, default=1.0, help="posts per second per channel")
    parser.add_argument("--burst", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import logging

    logging.basicConfig(level=logging.WARNING)
    from bot.config import load_settings
    from bot.simulator.ratelimit import PostingLimit
    from storage.db import Database
    from storage.migrate import upgrade

    now = datetime.now(UTC).replace(microsecond=0)
    total = args.channels * args.per_channel
    least = PostingLimit(per_second=args.rate, burst=args.burst).least_time(
        [args.per_channel] * args.channels
    )
    with tempfile.TemporaryDirectory(prefix="flywheel-fanout-seed-") as tmp:
        seeded = Path(tmp) / "seed.db"
        url = f"sqlite:///{seeded}"
        upgrade(url)
        db = Database(url)
        seed_okrs(db, load_settings(DATABASE_URL=url, _env_file=None), now)
        db.dispose()
        message, full_ms, window_ms = sample_message(seeded, now)
        print(
            f"{total} OKR digests due at once in {args.channels} channels ({args.per_channel} each); "
            f"Slack's limit: {args.rate:g}/s per channel, bursts of {args.burst} → least time {least:.1f} s"
        )
        print(
            f"one OKR digest built with nothing cached: {full_ms:.1f} ms CPU (300 objectives, 900 KRs); "
            f'its window part alone (another "since" in the same run): {window_ms:.1f} ms'
        )
        fly, bare = [], []
        for i in range(args.runs):
            fly.append(run_flywheel(args, seeded, now))
            bare.append(run_bare(args, message))
            f, b = fly[-1], bare[-1]
            print(
                f"run {i + 1}: flywheel {f['wall']:.2f} s ({f['wall'] / least:.3f}× least), "
                f"{f['cpu_ms']:.2f} ms CPU/digest, {f['limited']} 429s, {f['duplicates']} duplicates, "
                f"{f['losses']} lost (slowest channel {f['slowest_channel']:.2f} s, "
                f"last channel's first post at {f['latest_first_post']:.2f} s) · "
                f"bare poster {b['wall']:.2f} s ({b['wall'] / least:.3f}×), "
                f"{b['cpu_ms']:.2f} ms CPU/post, {b['limited']} 429s"
            )
    print()
    print("| | time to deliver all | × least time | CPU per digest | 429s | duplicates | losses |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(f"| least time the limit allows | {least:.1f} s | 1.00× | — | — | — | — |")
    for name, runs, exact in (
        ("Flywheel (`run_due`: content, claims, lanes)", fly, True),
        ("bare poster (same lanes, no database)", bare, False),
    ):
        cells = [
            spread([r["wall"] for r in runs], "{:.2f} s"),
            spread([r["wall"] / least for r in runs], "{:.3f}×"),
            spread([r["cpu_ms"] for r in runs], "{:.2f} ms"),
            spread([float(r["limited"]) for r in runs], "{:.0f}"),
            str(sum(r["duplicates"] for r in runs)) if exact else "—",
            str(sum(r["losses"] for r in runs)) if exact else "—",
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
