"""`flywheel demo`: the real bot against the Slack simulator, over HTTP on loopback or in Socket Mode."""

from __future__ import annotations

import logging
import secrets
import sys
import tempfile
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.app import Flywheel, build_app
from bot.config import Settings, load_settings
from bot.demo import company, seed
from bot.server import build_asgi
from bot.serving import RunningServer, start_in_thread
from bot.simulator import Simulator
from storage.db import Database
from storage.migrate import upgrade

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode.base_handler import BaseSocketModeHandler

log = logging.getLogger(__name__)


TRANSPORTS = ("http", "socket")
DEMO_BOT_TOKEN = "xoxb-demo-token"
DEMO_APP_TOKEN = "xapp-demo-token"


@dataclass
class BotInstance:
    """One running copy of the bot: its app, its health/metrics server, its database handle and,
    in Socket Mode, its connection handler."""

    fw: Flywheel
    server: RunningServer
    db: Database
    handler: BaseSocketModeHandler | None = None

    def close(self) -> None:
        if self.handler is not None:
            self.handler.close()
        self.server.stop()
        self.fw.ctx.executor.shutdown(wait=False, cancel_futures=True)
        self.db.dispose()


@dataclass
class DemoStack:
    """The simulator and the bot wired together. ``transport`` is how Slack reaches the bot:
    ``http`` (signed requests to /slack/events) or ``socket`` (Socket Mode envelopes)."""

    sim: Simulator
    bot: BotInstance
    transport: str = "http"
    settings: Settings | None = None
    others: list[BotInstance] = field(default_factory=list)

    @property
    def fw(self) -> Flywheel:
        return self.bot.fw

    @property
    def server(self) -> RunningServer:
        return self.bot.server

    @property
    def db(self) -> Database:
        return self.bot.db

    def add_instance(self) -> BotInstance:
        """Another copy of the bot on the same database and the same Slack (Socket Mode only:
        Slack delivers each envelope to any one of an app's connections)."""
        if self.transport != "socket" or self.settings is None:
            raise ValueError("a second instance needs Socket Mode; in HTTP mode Slack posts to one URL")
        db = Database(self.settings.database_url)
        instance = _start_bot(self.sim, self.settings, build_app(self.settings, db=db), db)
        self.others.append(instance)
        return instance

    def close(self) -> None:
        for instance in [*self.others, self.bot]:
            instance.close()
        self.sim.stop()


def start_stack(
    db_url: str,
    *,
    transport: str = "http",
    conversations: bool = True,
    features: bool = True,
    **setting_overrides: object,
) -> DemoStack:
    """Simulator + migrated database + the real app (on uvicorn, or connected in Socket Mode),
    wired together and seeded.

    The tests use this too, so the demo and the end-to-end suite run the very same stack.
    """
    if transport not in TRANSPORTS:
        raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)}, not {transport!r}")
    secret = secrets.token_hex(16)
    app_token = DEMO_APP_TOKEN if transport == "socket" else None
    sim = Simulator(signing_secret=secret, bot_token=DEMO_BOT_TOKEN, app_token=app_token)
    sim.start()
    try:
        seed.seed_workspace(sim)
        if conversations:
            seed.seed_conversations(sim)
        values: dict[str, object] = {
            "SLACK_BOT_TOKEN": DEMO_BOT_TOKEN,
            "SLACK_SIGNING_SECRET": secret,
            "SLACK_API_URL": sim.api_url,
            "DATABASE_URL": db_url,
            "FLYWHEEL_LLM": "off",
            "FLYWHEEL_ADMINS": ",".join(u.id for u in company.USERS if u.is_admin),
            "FLYWHEEL_POSTMORTEM_CHANNEL": company.POSTMORTEM_CHANNEL,
            "_env_file": None,
        }
        if app_token:
            values["SLACK_APP_TOKEN"] = app_token
        values.update(setting_overrides)
        settings = load_settings(**values)
        upgrade(settings.database_url)
        db = Database(settings.database_url)
        fw = build_app(settings, db=db)
        seed.seed_database(fw.ctx)
        if features:
            seed.seed_features(fw.ctx, fw.app.client)
        bot = _start_bot(sim, settings, fw, db)
    except BaseException:
        sim.stop()
        raise
    return DemoStack(sim=sim, bot=bot, transport=transport, settings=settings)


def _start_bot(sim: Simulator, settings: Settings, fw: Flywheel, db: Database) -> BotInstance:
    """Serve the app: /slack/events (HTTP mode) or a Socket Mode connection, and /healthz and
    /metrics either way, as `flywheel serve` does."""
    if not settings.socket_mode:
        server = start_in_thread(build_asgi(fw))
        sim.bot_url = f"{server.url}/slack/events"
        return BotInstance(fw=fw, server=server, db=db)
    from bot.socket_mode import socket_mode_handler

    assert sim.socket is not None and settings.slack_app_token
    server = start_in_thread(build_asgi(fw, events=False))
    newest = max((c.id for c in sim.socket.connections), default=0)
    handler = socket_mode_handler(fw.app, settings.slack_app_token)
    handler.connect()
    try:
        sim.socket.wait_for_connection(newer_than=newest, timeout=10)
    except TimeoutError:
        handler.close()
        server.stop()
        raise
    return BotInstance(fw=fw, server=server, db=db, handler=handler)


def run_demo(
    *,
    lines: Iterable[str] | None,
    db_path: str | None,
    user: str,
    verbose: bool = False,
    socket: bool = False,
) -> bool:
    """Interactive when `lines` is None; otherwise run them and report whether all were understood.
    ``socket``: the bot connects in Socket Mode (as with SLACK_APP_TOKEN) instead of taking HTTP."""
    from bot import logs
    from bot.simulator.repl import DemoShell

    # The transcript is the point; the bot's own log lines only with --verbose.
    logs.setup("INFO" if verbose else "WARNING", "console")
    try:
        start_user = company.user(user)
    except KeyError:
        print(
            f"flywheel: no demo user {user!r}; pick one of {', '.join(u.name for u in company.USERS)}",
            file=sys.stderr,
        )
        return False
    with ExitStack() as stack:
        if db_path:
            url = f"sqlite:///{Path(db_path).resolve()}"
        else:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="flywheel-demo-"))
            url = f"sqlite:///{tmp}/demo.db"
        demo = start_stack(url, transport="socket" if socket else "http")
        stack.callback(demo.close)
        demo.sim.take_outputs()  # seeding output is not the user's
        if lines is None:
            print(_banner(start_user.name, socket=socket))
        from bot.demo.commands import extra_commands

        if lines is None:  # interactive: the scheduler runs jobs and digests; scripts use `jobs`
            from bot.scheduler import Scheduler

            scheduler = Scheduler(demo.fw.ctx, demo.fw.app.client).start()
            stack.callback(scheduler.stop)
        shell = DemoShell(
            demo.sim,
            user_id=start_user.id,
            channel_id="C0GENERAL",
            out=sys.stdout,
            extra=extra_commands(demo.fw.ctx, demo.fw.app.client),
        )
        return shell.run(lines) == 0
    return True


def _banner(name: str, *, socket: bool = False) -> str:
    people = ", ".join(f"{u.name} ({u.title})" for u in company.USERS)
    mode = (
        "The bot is in Socket Mode: Slack's messages reach it over a WebSocket it opened; "
        "try `socket refresh` and `socket drop` to watch it reconnect.\n"
        if socket
        else ""
    )
    return (
        "Flywheel demo — the real bot against a local Slack simulator (no network, no token).\n"
        f"You are {name} in #general. People: {people}.\n"
        + mode
        + "Try: /okr mine · /okr tree · click Check in · as maya · in #product-review · "
        "shortcut summarize_thread last · in #inc-42-checkout-errors · /postmortem draft · "
        "home · help · quit\n"
    )
