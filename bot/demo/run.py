"""`flywheel demo`: the real bot, served over HTTP on loopback, against the Slack simulator."""

from __future__ import annotations

import logging
import secrets
import sys
import tempfile
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bot.app import Flywheel, build_app
from bot.config import load_settings
from bot.demo import company, seed
from bot.server import build_asgi
from bot.serving import RunningServer, start_in_thread
from bot.simulator import Simulator
from storage.db import Database
from storage.migrate import upgrade

log = logging.getLogger(__name__)


@dataclass
class DemoStack:
    sim: Simulator
    fw: Flywheel
    server: RunningServer
    db: Database

    def close(self) -> None:
        self.server.stop()
        self.sim.stop()
        self.fw.ctx.executor.shutdown(wait=False, cancel_futures=True)
        self.db.dispose()


def start_stack(
    db_url: str, *, conversations: bool = True, features: bool = True, **setting_overrides: object
) -> DemoStack:
    """Simulator + migrated database + the real app on uvicorn, wired together and seeded.

    The tests use this too, so the demo and the end-to-end suite run the very same stack.
    """
    secret = secrets.token_hex(16)
    sim = Simulator(signing_secret=secret, bot_token="xoxb-demo-token")
    sim.start()
    try:
        seed.seed_workspace(sim)
        if conversations:
            seed.seed_conversations(sim)
        values: dict[str, object] = {
            "SLACK_BOT_TOKEN": "xoxb-demo-token",
            "SLACK_SIGNING_SECRET": secret,
            "SLACK_API_URL": sim.api_url,
            "DATABASE_URL": db_url,
            "FLYWHEEL_LLM": "off",
            "FLYWHEEL_ADMINS": ",".join(u.id for u in company.USERS if u.is_admin),
            "FLYWHEEL_POSTMORTEM_CHANNEL": company.POSTMORTEM_CHANNEL,
            "_env_file": None,
        }
        values.update(setting_overrides)
        settings = load_settings(**values)
        upgrade(settings.database_url)
        db = Database(settings.database_url)
        fw = build_app(settings, db=db)
        seed.seed_database(fw.ctx)
        if features:
            seed.seed_features(fw.ctx, fw.app.client)
        server = start_in_thread(build_asgi(fw))
        sim.bot_url = f"{server.url}/slack/events"
    except BaseException:
        sim.stop()
        raise
    return DemoStack(sim=sim, fw=fw, server=server, db=db)


def run_demo(*, lines: Iterable[str] | None, db_path: str | None, user: str, verbose: bool = False) -> bool:
    """Interactive when `lines` is None; otherwise run them and report whether all were understood."""
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
        demo = start_stack(url)
        stack.callback(demo.close)
        demo.sim.take_outputs()  # seeding output is not the user's
        if lines is None:
            print(_banner(start_user.name))
        from bot.demo.commands import extra_commands

        if lines is None:  # interactive: periodic jobs run on their own; scripts use `jobs`
            from bot.jobs import JobRunner

            runner = JobRunner(demo.fw.ctx, demo.fw.app.client).start()
            stack.callback(runner.stop)
        shell = DemoShell(
            demo.sim,
            user_id=start_user.id,
            channel_id="C0GENERAL",
            out=sys.stdout,
            extra=extra_commands(demo.fw.ctx, demo.fw.app.client),
        )
        return shell.run(lines) == 0
    return True


def _banner(name: str) -> str:
    people = ", ".join(f"{u.name} ({u.title})" for u in company.USERS)
    return (
        "Flywheel demo — the real bot against a local Slack simulator (no network, no token).\n"
        f"You are {name} in #general. People: {people}.\n"
        "Try: /okr mine · /okr tree · click Check in · as maya · in #product-review · "
        "shortcut summarize_thread last · in #inc-42-checkout-errors · /postmortem draft · "
        "home · help · quit\n"
    )
