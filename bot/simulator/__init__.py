"""A local Slack stand-in for end-to-end tests and ``flywheel demo``.

``Simulator`` composes the in-memory workspace, the Web API server the bot's WebClient calls
(``sim.api_url``) and the player that sends signed requests to the bot (``sim.bot_url``). It
needs no network beyond loopback and no Slack credentials. Given an app-level token the app is in
Socket Mode: ``apps.connections.open`` returns the simulator's own WebSocket URL and the player
delivers every command, event and interaction as an envelope there (``sim.socket``).

    with Simulator(signing_secret="s3cret") as sim:
        sim.add_user("U1", "lena", email="lena@example.com")
        sim.add_channel("C1", "general", members=["U1"])
        sim.bot_url = "http://127.0.0.1:3000/slack/events"
        sim.command("U1", "/okr", "mine", "C1")
        sim.settle()
        for output in sim.take_outputs():
            print(sim.render_output(output))
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from bot.simulator.feed import ApiCall, Output, Recorder
from bot.simulator.player import Delivery, InteractionError, Player
from bot.simulator.render import render_message, render_output
from bot.simulator.socket_mode import SocketConnection, SocketModeServer
from bot.simulator.webapi import SlackWebApi, WebApiServer
from bot.simulator.workspace import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    Channel,
    Message,
    SlackError,
    User,
    View,
    Workspace,
)

__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "TEAM_DOMAIN",
    "TEAM_ID",
    "ApiCall",
    "Channel",
    "Delivery",
    "InteractionError",
    "Message",
    "Output",
    "Simulator",
    "SlackError",
    "SocketConnection",
    "SocketModeServer",
    "User",
    "View",
    "Workspace",
]

T = TypeVar("T")


class Simulator(Player):
    """The simulated Slack: workspace + Web API server + player + the bot-output feed."""

    def __init__(
        self,
        signing_secret: str,
        bot_token: str = "xoxb-sim",
        *,
        bot_url: str | None = None,
        app_token: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.signing_secret = signing_secret
        self.bot_token = bot_token
        self.bot_url = bot_url
        self.app_token = app_token
        self.workspace = Workspace(clock=clock)
        self.recorder = Recorder()
        self.api = SlackWebApi(self.workspace, self.recorder, bot_token)
        self._server = WebApiServer(self.api)
        # Socket Mode on: the app-level token opens connections, and deliveries go through them.
        self.socket = SocketModeServer() if app_token else None
        self.api.app_token, self.api.socket = app_token, self.socket
        self._http: httpx.Client | None = None
        self._started = False

    # ---- lifecycle ----------------------------------------------------------------------------

    def start(self) -> Simulator:
        if not self._started:
            self._server.start()
            if self.socket is not None:
                self.socket.start()
            self._http = httpx.Client(timeout=10.0)
            self._started = True
        return self

    def stop(self) -> None:
        if self._started:
            if self.socket is not None:
                self.socket.stop()
            self._server.stop()
            if self._http is not None:
                self._http.close()
                self._http = None
            self._started = False

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def api_url(self) -> str:
        """Base URL for ``WebClient(base_url=...)``, with the trailing slash slack_sdk expects."""
        return f"http://127.0.0.1:{self._server.port}/api/"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}"

    # ---- workspace seeding and lookup -----------------------------------------------------------

    def add_user(
        self,
        id: str,
        name: str,
        *,
        real_name: str = "",
        display_name: str = "",
        email: str | None = None,
        tz: str = "UTC",
        is_admin: bool = False,
        is_bot: bool = False,
    ) -> User:
        return self.workspace.add_user(
            id,
            name,
            real_name=real_name,
            display_name=display_name,
            email=email,
            tz=tz,
            is_admin=is_admin,
            is_bot=is_bot,
        )

    def add_channel(
        self,
        id: str,
        name: str,
        members: list[str] | None = None,
        is_private: bool = False,
        *,
        topic: str = "",
        purpose: str = "",
        bot_member: bool = True,
    ) -> Channel:
        return self.workspace.add_channel(
            id, name, members, is_private=is_private, topic=topic, purpose=purpose, bot_member=bot_member
        )

    def user_by_name(self, name: str) -> User | None:
        return self.workspace.user_by_name(name)

    def channel_by_name(self, name: str) -> Channel | None:
        return self.workspace.channel_by_name(name)

    def im_channel(self, user_id: str) -> str:
        """The ID of the bot's DM channel with ``user_id``."""
        return self.workspace.open_im(user_id).id

    def messages(self, channel_id: str) -> list[Message]:
        """All messages of a channel (top level and replies), oldest first."""
        with self.workspace.lock:
            return list(self.workspace.messages.get(channel_id, []))

    def thread(self, channel_id: str, ts: str) -> list[Message]:
        return self.workspace.thread(channel_id, ts)

    def top_view(self, user_id: str) -> View | None:
        return self.workspace.top_view(user_id)

    def home_view(self, user_id: str) -> View | None:
        return self.workspace.home_view(user_id)

    def permalink(self, channel_id: str, ts: str) -> str:
        return self.api.permalink(channel_id, self.workspace.find_message(channel_id, ts))

    # ---- calls, failures, waiting ---------------------------------------------------------------

    @property
    def calls(self) -> list[ApiCall]:
        with self.recorder.lock:
            return list(self.recorder.calls)

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        error: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail: HTTP ``status`` (429 with Retry-After),
        or, when ``error`` is given, HTTP 200 with ``{"ok": false, "error": error}``."""
        self.api.fail_next(method, status=status, retry_after=retry_after, error=error, times=times)

    def limit_rate(self, *, per_second: float = 1.0, burst: int = 3) -> Any:
        """Enforce Slack's posting limit (429 + Retry-After per channel); see ``ratelimit.py``."""
        from bot.simulator.ratelimit import PostingLimit

        self.api.limiter = PostingLimit(per_second=per_second, burst=burst)
        return self.api.limiter

    def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0, interval: float = 0.02) -> T:
        """Poll ``predicate`` until it returns something truthy, and return that."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout} s")
            time.sleep(interval)

    def settle(self, idle: float = 0.25, timeout: float = 15.0) -> None:
        """Wait until no request to the bot is in flight and the bot has been quiet for ``idle`` s.

        The bot's lazy listeners keep calling the Web API after their ack; this is how a test
        knows they are done without sleeping a fixed time.
        """
        deadline = time.monotonic() + timeout
        while self.recorder.idle_for() < idle:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the bot was still busy after {timeout} s")
            time.sleep(min(0.02, idle / 4))

    # ---- output feed --------------------------------------------------------------------------

    @property
    def outputs(self) -> list[Output]:
        with self.recorder.lock:
            return list(self.recorder.outputs)

    def take_outputs(self) -> list[Output]:
        """Outputs produced since the previous ``take_outputs()`` (the demo prints these)."""
        return self.recorder.take()

    def outputs_for(self, user_id: str) -> list[Output]:
        """Outputs shown to ``user_id`` directly (ephemeral, DM, modal, home, errors)."""
        return [o for o in self.outputs if o.user == user_id]

    def render(self, text: str | None, blocks: list[dict[str, Any]] | None = None) -> str:
        return render_message(text, blocks, self.workspace)

    def render_output(self, output: Output) -> str:
        """A readable block for one output, headed by where and to whom it was shown."""
        return render_output(output, self.workspace)
