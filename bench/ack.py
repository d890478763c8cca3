"""Benchmark (not a test): how long a person waits for `/okr mine`, `/okr @user`, `/ssp mine`
and `/ssp queue` — answers given in the acknowledgement itself.

    .venv/bin/python bench/ack.py [--seconds 10] [--connections 8]

What it does, all on loopback:

1. builds a SQLite database through the migrations with 10,000 objectives, 50,000 key results
   and 5,000 people (the bench user owns 2 objectives with 5 KRs each in the current cycle), and
   on top of it 8 service teams and 50,000 shared-service requests (the bench user has 6 open
   ones (of 12) and is on a team with a few hundred open), and prints SQLite's query plans for
   `/okr mine`, `/ssp mine` and `/ssp queue`;
2. starts the Slack simulator as the bot's Web API (in this process; nothing calls it on the hot
   path) and two servers, each in its own process so neither shares a GIL with the load generator:
   the real bot exactly as `flywheel serve` builds it (`bot.app.build_app` + `bot.server.build_asgi`
   on uvicorn), and a bare Bolt `App(process_before_response=True)` that only acknowledges, on the
   same uvicorn + Starlette stack with the same dispatch;
3. sends signed slash commands with wrk (8 connections = 8 concurrent senders; a signature stays
   valid for 5 minutes, so fixed headers are fine) and reports answers/s, p50 and p99 of the time
   until the acknowledgement — which carries the answer — is back. Without wrk it falls back to a
   Python load generator in a separate process (slower: it then measures itself, too).

Targets (issues 3 and 7): p99 under 20 ms and at least 0.3× the bare app's answers/s.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import multiprocessing as mp
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
USER = "U0BENCH"
OTHER = "U0OTHER"
N_PEOPLE, N_OBJECTIVES, KRS_PER_OBJECTIVE = 5_000, 10_000, 5
N_SERVICE_TEAMS, N_REQUESTS = 8, 50_000


# ---- data -------------------------------------------------------------------------------------


def build_database(url: str) -> str:
    """Migrate and fill; returns the query plan of `/okr mine`'s objectives query."""
    from sqlalchemy import insert, text

    from bot.okrs import scoring, service
    from storage.db import Database
    from storage.migrate import upgrade
    from storage.models import Person, Team
    from storage.models.okrs import KeyResult, Objective, OkrCycle

    upgrade(url)
    db = Database(url)
    clock = scoring.Clock()
    now = clock.now()
    current = clock.current()
    cycles = [current, scoring.cycle_for(current.starts_on - timedelta(days=1), 2)]
    cycles.append(scoring.cycle_for(cycles[-1].starts_on - timedelta(days=1), 2))
    rng = random.Random(7)
    with db.session() as s:
        for c in cycles:
            s.add(OkrCycle(key=c.key, starts_on=c.starts_on, ends_on=c.ends_on))
        teams = [Team(key=f"team{i}", name=f"Team {i}") for i in range(40)]
        s.add_all(teams)
        s.flush()
        people = [
            {
                "slack_id": f"U{i:07d}",
                "name": f"person{i}",
                "real_name": f"Person {i}",
                "email": None,
                "tz": "UTC",
                "is_admin": False,
                "refreshed_at": now,
            }
            for i in range(N_PEOPLE - 2)
        ]
        people += [
            {
                "slack_id": USER,
                "name": "bench",
                "real_name": "Bench User",
                "email": None,
                "tz": "UTC",
                "is_admin": False,
                "refreshed_at": now,
            },
            {
                "slack_id": OTHER,
                "name": "other",
                "real_name": "Other Person",
                "email": None,
                "tz": "UTC",
                "is_admin": False,
                "refreshed_at": now,
            },
        ]
        s.execute(insert(Person), people)
        objectives = []
        for i in range(N_OBJECTIVES):
            owner = (
                USER
                if i in (5000, 5001)
                else OTHER
                if i in (6000, 6001)
                else people[rng.randrange(N_PEOPLE - 2)]["slack_id"]
            )
            # 60% in the current cycle: the single-column scan DESIGN §4 warns about would be long.
            cycle = (
                current.key if owner in (USER, OTHER) or rng.random() < 0.6 else rng.choice(cycles[1:]).key
            )
            objectives.append(
                {
                    "id": i + 1,
                    "cycle_key": cycle,
                    "team_id": teams[i % 40].id,
                    "owner_id": owner,
                    "parent_id": None,
                    "title": f"Objective {i} for the bench",
                    "description": "",
                    "created_by": owner,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        s.execute(insert(Objective), objectives)
        krs = [
            {
                "objective_id": o["id"],
                "position": k,
                "title": f"Key result {k} of objective {o['id']}",
                "start": 0.0,
                "target": 100.0,
                "current": float(rng.randrange(0, 100)),
                "unit": "%",
                "weight": 1.0,
                "confidence": rng.randrange(3, 10),
                "last_checkin_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for o in objectives
            for k in range(KRS_PER_OBJECTIVE)
        ]
        s.execute(insert(KeyResult), krs)
    add_requests(db, rng)
    with db.session() as s:
        s.connection().execute(text("ANALYZE"))
    plans = {
        "/okr mine": _plan(
            db, service._statement(db_session_for(db), "owner"), {"owner": USER, "cycle": current.key}
        ),
    }
    from bot.requests import queries

    session = db_session_for(db)
    plans["/ssp mine"] = _plan(db, queries._statement(session, "mine"), {"user": USER})
    plans["/ssp queue"] = _plan(db, queries._statement(session, "myqueue"), {"user": USER, "limit": 10})
    session.close()
    db.dispose()
    return "\n".join(f"query plan of {name}: {plan}" for name, plan in plans.items())


BENCH_TEAM_ID = 0  # set by add_requests: the service team the bench user is on


def db_session_for(db: Any) -> Any:
    from sqlmodel import Session

    return Session(db.engine)


def _plan(db: Any, statement: Any, values: dict[str, Any]) -> str:
    """SQLite's plan for a statement with these values bound."""
    sql = str(statement.params(**values).compile(db.engine, compile_kwargs={"literal_binds": True}))
    with db.engine.connect() as conn:
        plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").fetchall()
    return "; ".join(str(row[-1]) for row in plan)


def add_requests(db: Any, rng: random.Random) -> None:
    """8 service teams and 50,000 requests: 80% closed, 5% resolved, 15% open across the teams."""
    global BENCH_TEAM_ID
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from storage.models import Team, TeamMember
    from storage.models.requests import ServiceRequest

    now = datetime.now(UTC)
    with db.session() as s:
        service_teams = [
            Team(
                key=f"svc{i}",
                name=f"Service {i}",
                kind="service",
                channel_id=f"C0SVC{i}",
                lead_id=f"U{i:07d}",
                first_response_sla="4h",
                resolution_sla="3d",
                business_hours="Mon-Fri 09:00-18:00 Europe/Berlin",
                confidential=i % 4 == 0,
            )
            for i in range(N_SERVICE_TEAMS)
        ]
        s.add_all(service_teams)
        s.flush()
        BENCH_TEAM_ID = service_teams[1].id or 0
        for t in service_teams:
            s.add_all(
                TeamMember(team_id=t.id or 0, slack_id=f"U{j:07d}") for j in range(t.id or 0, 5000, 700)
            )
        s.add(TeamMember(team_id=BENCH_TEAM_ID, slack_id=USER))
        rows = []
        for i in range(N_REQUESTS):
            team = service_teams[rng.randrange(N_SERVICE_TEAMS)]
            requester = USER if i % (N_REQUESTS // 12) == 0 else f"U{rng.randrange(N_PEOPLE - 2):07d}"
            mine_open = requester == USER and (i // (N_REQUESTS // 12)) % 2 == 0
            roll = rng.random()
            status = (
                "closed"
                if roll < 0.8
                else "resolved"
                if roll < 0.85
                else rng.choice(("new", "in_progress", "waiting"))
            )
            if requester == USER:  # 6 open, 6 closed
                status = ("new" if i % 4 else "in_progress") if mine_open else "closed"
            created = now - timedelta(
                days=rng.uniform(0, 365) if status in ("closed", "resolved") else rng.uniform(0, 5)
            )
            running = status in ("new", "in_progress")
            rows.append(
                {
                    "team_id": team.id,
                    "requester_id": requester,
                    "summary": f"Request {i}: please help with the quarterly numbers for our launch",
                    "details": "",
                    "urgency": rng.choice(("low", "normal", "normal", "high")),
                    "status": status,
                    "assignee_id": None if status == "new" else f"U{rng.randrange(N_PEOPLE - 2):07d}",
                    "created_at": created,
                    "updated_at": created,
                    "first_response_at": None if status == "new" else created + timedelta(hours=1),
                    "resolved_at": created + timedelta(days=1) if status in ("closed", "resolved") else None,
                    "first_response_due": created + timedelta(hours=4),
                    "resolution_due": created + timedelta(days=3) if running else None,
                    "resolution_warn_at": created + timedelta(days=2) if running else None,
                    "next_check_at": created + timedelta(days=2) if running else None,
                    "clock_started_at": created if running else None,
                    "resolution_used_s": 0,
                    "first_response_warned": False,
                    "first_response_breached": False,
                    "resolution_warned": False,
                    "resolution_breached": rng.random() < 0.1,
                    "rating": rng.randrange(1, 6) if status == "closed" else None,
                }
            )
        s.execute(insert(ServiceRequest), rows)


# ---- servers (each in its own process) ---------------------------------------------------------


def _bolt_request_asgi(app: Any) -> Any:
    """The same Starlette route as `bot.server.build_asgi`, around any Bolt App."""
    from starlette.applications import Starlette
    from starlette.routing import Route

    from bot.server import events_endpoint

    return Starlette(routes=[Route("/slack/events", events_endpoint(app), methods=["POST"])])


def serve_bot(db_url: str, api_url: str, port: int) -> None:
    import logging

    import uvicorn

    from bot.app import build_app
    from bot.config import load_settings
    from bot.server import build_asgi

    logging.basicConfig(level=logging.WARNING)
    settings = load_settings(
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api_url,
        DATABASE_URL=db_url,
        FLYWHEEL_LLM="off",
        _env_file=None,
    )
    fw = build_app(settings)  # as `flywheel serve` does (token verification included)
    uvicorn.run(
        build_asgi(fw), host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off"
    )


def serve_bare(api_url: str, port: int) -> None:
    import logging

    import uvicorn
    from slack_bolt import App
    from slack_sdk import WebClient

    logging.basicConfig(level=logging.WARNING)
    app = App(
        client=WebClient(token=TOKEN, base_url=api_url), signing_secret=SECRET, process_before_response=True
    )

    def ack_only(ack: Any) -> None:
        ack()

    app.command("/okr")(ack_only)
    app.command("/ssp")(ack_only)

    uvicorn.run(
        _bolt_request_asgi(app),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_listening(port: int, proc: mp.Process, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.is_alive():
            raise RuntimeError(f"server on port {port} exited with {proc.exitcode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


# ---- requests and load -------------------------------------------------------------------------


def signed(text: str, user_id: str = USER, command: str = "/okr") -> tuple[str, dict[str, str]]:
    body = urllib.parse.urlencode(
        {
            "token": "x",
            "team_id": "T0FLYWHEEL",
            "team_domain": "flywheel-demo",
            "channel_id": "C0GENERAL",
            "channel_name": "general",
            "user_id": user_id,
            "user_name": "bench",
            "command": command,
            "text": text,
            "api_app_id": "A0FLYWHEEL",
            "is_enterprise_install": "false",
            "response_url": "http://127.0.0.1:9/response/none",
            "trigger_id": "1.2.bench",
        }
    )
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sig,
    }
    return body, headers


def check_answer(port: int, text: str, expect: str | None, command: str = "/okr") -> str:
    """One request, to make sure the benchmark measures a real answer, not an error."""
    import httpx

    body, headers = signed(text, command=command)
    response = httpx.post(f"http://127.0.0.1:{port}/slack/events", content=body, headers=headers, timeout=10)
    response.raise_for_status()
    if expect is not None and expect not in response.text:
        raise RuntimeError(f"unexpected answer to {command} {text}: {response.text[:300]}")
    return response.text


def run_wrk(port: int, text: str, seconds: int, connections: int, command: str = "/okr") -> dict[str, float]:
    body, headers = signed(text, command=command)
    lua = "\n".join(
        ['wrk.method = "POST"', f"wrk.body = {json.dumps(body)}"]
        + [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
        + [
            "done = function(summary, latency, requests)",
            '  io.write(string.format("RESULT %d %d %d %f %f\\n", summary.requests, summary.errors.status,',
            "    summary.duration, latency:percentile(50), latency:percentile(99)))",
            "end",
        ]
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua)
        script = f.name
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t",
                str(min(2, connections)),
                "-c",
                str(connections),
                "-d",
                f"{seconds}s",
                "-s",
                script,
                f"http://127.0.0.1:{port}/slack/events",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script)
    match = re.search(r"RESULT (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+)", out)
    if not match:
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    requests, bad, micros, p50, p99 = (float(g) for g in match.groups())
    if bad:
        raise RuntimeError(f"{int(bad)} non-2xx answers from {command} {text}")
    return {"rps": requests / (micros / 1e6), "p50": p50 / 1000, "p99": p99 / 1000, "n": requests}


def _python_sender(port: int, body: str, headers: dict[str, str], until: float, out: Any) -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port)
    lat: list[float] = []
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        conn.request("POST", "/slack/events", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}")
        lat.append(time.perf_counter() - t0)
    out.put(lat)


def _python_load(port: int, text: str, seconds: int, connections: int, out: Any, command: str) -> None:
    import threading

    body, headers = signed(text, command=command)
    until = time.perf_counter() + seconds
    inner: Any = __import__("queue").Queue()
    threads = [
        threading.Thread(target=_python_sender, args=(port, body, headers, until, inner))
        for _ in range(connections)
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    lat = sorted(x for _ in threads for x in inner.get())
    out.put(
        {
            "rps": len(lat) / elapsed,
            "p50": lat[len(lat) // 2] * 1000,
            "p99": lat[int(len(lat) * 0.99)] * 1000,
            "n": len(lat),
        }
    )


def run_python(
    port: int, text: str, seconds: int, connections: int, command: str = "/okr"
) -> dict[str, float]:
    out: Any = mp.Queue()
    proc = mp.Process(target=_python_load, args=(port, text, seconds, connections, out, command))
    proc.start()
    result = out.get()
    proc.join()
    return result


# ---- main -------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc): what a request costs, whatever else runs."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _median_run(results: list[dict[str, float]]) -> dict[str, float]:
    """The round with the median throughput (its own p50/p99 with it, so the figures belong together)."""
    ordered = sorted(results, key=lambda r: r["rps"])
    return ordered[len(ordered) // 2]


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import sqlite3

    return (
        f"{os.cpu_count()} cores ({cpu or 'unknown CPU'}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="duration of each run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the median is reported")
    parser.add_argument("--connections", type=int, default=8, help="concurrent senders")
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator, not wrk")
    args = parser.parse_args()

    use_wrk = not args.python_load and shutil.which("wrk") is not None
    if not use_wrk and not args.python_load:
        print(
            "wrk is not installed (apt-get update && apt-get install -y wrk); using a Python load generator,"
        )
        print("which is slower and shares the measurement's CPU — figures are pessimistic.")
    load = run_wrk if use_wrk else run_python

    from bot.simulator import Simulator

    with tempfile.TemporaryDirectory(prefix="ack-bench-") as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        t0 = time.perf_counter()
        plan = build_database(url)
        print(f"machine: {machine()}")
        print(
            f"data: {N_OBJECTIVES:,} objectives, {N_OBJECTIVES * KRS_PER_OBJECTIVE:,} key results, "
            f"{N_PEOPLE:,} people, {N_SERVICE_TEAMS} service teams, {N_REQUESTS:,} requests "
            f"(built in {time.perf_counter() - t0:.1f} s)"
        )
        print(plan)
        sim = Simulator(signing_secret=SECRET, bot_token=TOKEN).start()
        ctx = mp.get_context("spawn")
        bot_port, bare_port = free_port(), free_port()
        bot = ctx.Process(target=serve_bot, args=(url, sim.api_url, bot_port), daemon=True)
        bare = ctx.Process(target=serve_bare, args=(sim.api_url, bare_port), daemon=True)
        bot.start()
        bare.start()
        try:
            wait_listening(bot_port, bot)
            wait_listening(bare_port, bare)
            answer = check_answer(bot_port, "mine", "Objective 5000 for the bench")
            check_answer(bot_port, f"<@{OTHER}|other>", "Objective 6000 for the bench")
            blocks = len(json.loads(answer).get("blocks", []))
            print(f"/okr mine answers with {blocks} blocks (2 objectives, 10 KRs) in the acknowledgement")
            mine = json.loads(check_answer(bot_port, "mine", "Your requests", "/ssp"))
            queue = json.loads(check_answer(bot_port, "queue", "Queue of Service 1", "/ssp"))
            print(
                f"/ssp mine answers with {len(mine['blocks'])} blocks, "
                f"/ssp queue with {len(queue['blocks'])} ({queue['text']})"
            )
            for port, text, command in (
                (bot_port, "mine", "/okr"),
                (bot_port, "queue", "/ssp"),
                (bare_port, "mine", "/okr"),
            ):
                load(port, text, 2, args.connections, command)  # warm up
            calls_before = len(sim.calls)
            configs = [
                (
                    "bare Bolt App(process_before_response=True), ack only",
                    bare_port,
                    "/okr",
                    "mine",
                    bare.pid,
                ),
                ("Flywheel `/okr mine`", bot_port, "/okr", "mine", bot.pid),
                ("Flywheel `/okr @user`", bot_port, "/okr", f"<@{OTHER}|other>", bot.pid),
                ("Flywheel `/ssp mine`", bot_port, "/ssp", "mine", bot.pid),
                ("Flywheel `/ssp queue`", bot_port, "/ssp", "queue", bot.pid),
            ]
            # Interleaved rounds, then the median round of each: a shared machine's noise hits
            # one round, not one configuration.
            runs: dict[str, list[dict[str, float]]] = {name: [] for name, *_ in configs}
            for _ in range(args.rounds):
                for name, port, command, text, pid in configs:
                    cpu_before = cpu_seconds(pid)
                    result = load(port, text, args.seconds, args.connections, command)
                    result["cpu_ms"] = (cpu_seconds(pid) - cpu_before) * 1000 / max(result["n"], 1)
                    runs[name].append(result)
            rows = [(name, _median_run(results)) for name, results in runs.items()]
            api_calls = len(sim.calls) - calls_before
        finally:
            for proc in (bot, bare):
                proc.terminate()
                proc.join(5)
            sim.stop()

    generator = "wrk -t2" if use_wrk else "Python (separate process)"
    print(
        f"\n{args.connections} concurrent senders, {args.rounds} interleaved rounds of {args.seconds} s "
        f"(median round shown), load by {generator}; "
        f"Web API calls during the runs: {api_calls}\n"
    )
    print("| configuration | answers/s | p50 | p99 | server CPU per answer |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, r in rows:
        print(f"| {name} | {r['rps']:,.0f} | {r['p50']:.1f} ms | {r['p99']:.1f} ms | {r['cpu_ms']:.2f} ms |")
    bare_rps = rows[0][1]["rps"]
    ok = True
    print()
    for name, r in rows[1:]:
        ratio = r["rps"] / bare_rps
        good = r["p99"] < 20 and ratio >= 0.3
        ok &= good
        print(
            f"{name}: p99 {r['p99']:.1f} ms (target < 20), {ratio:.2f}× the bare app (target ≥ 0.3) — "
            f"{'meets' if good else 'MISSES'} the targets"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
