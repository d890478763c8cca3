"""The simulator's Socket Mode, checked as a raw WebSocket client sees it and against slack_sdk.

What an app relies on: ``apps.connections.open`` only with the app-level token, a single-use URL,
``hello`` first, envelopes shaped like Slack's with the payload the HTTP request would carry,
acks matched by envelope ID (their payload shown like an HTTP answer), unacknowledged events
redelivered with ``retry_attempt``, and ``disconnect`` / dropped connections.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from bot.simulator import APP_ID, InteractionError, Simulator
from bot.simulator.socket_mode import MAX_CONNECTIONS

SECRET = "sim-socket-secret"
BOT_TOKEN = "xoxb-sim"
APP_TOKEN = "xapp-1-sim"

# What a raw app answers to an envelope: the ack's payload, None for a bare ack, or False for none.
Responder = Callable[[dict[str, Any]], dict[str, Any] | None | bool]


class RawApp:
    """A WebSocket client standing in for the bot: records every message, acks as told."""

    def __init__(self, url: str, respond: Responder = lambda envelope: None) -> None:
        self.ws: ClientConnection = connect(url, open_timeout=5, legacy=True)
        self.hello = json.loads(self.ws.recv(timeout=5))
        self.messages: list[dict[str, Any]] = []
        self.respond = respond
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for raw in self.ws:
                message = json.loads(raw)
                self.messages.append(message)
                if "envelope_id" not in message:
                    continue
                answer = self.respond(message)
                if answer is False:
                    continue
                ack: dict[str, Any] = {"envelope_id": message["envelope_id"]}
                if isinstance(answer, dict):
                    ack["payload"] = answer
                self.ws.send(json.dumps(ack))
        except ConnectionClosed:
            pass
        finally:
            self.closed.set()

    def envelopes(self, kind: str | None = None) -> list[dict[str, Any]]:
        return [m for m in self.messages if "envelope_id" in m and (kind is None or m["type"] == kind)]

    def close(self) -> None:
        self.ws.close()
        self.thread.join(timeout=5)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(signing_secret=SECRET, bot_token=BOT_TOKEN, app_token=APP_TOKEN) as s:
        s.add_user("U0LENA", "lena", real_name="Lena Park")
        s.add_channel("C0GENERAL", "general", members=["U0LENA"])
        yield s


@pytest.fixture
def open_app(sim: Simulator) -> Iterator[Callable[..., RawApp]]:
    apps: list[RawApp] = []
    client = WebClient(token=APP_TOKEN, base_url=sim.api_url)

    def make(respond: Responder = lambda envelope: None) -> RawApp:
        assert sim.socket is not None
        newest = max((c.id for c in sim.socket.connections), default=0)
        app = RawApp(client.apps_connections_open(app_token=APP_TOKEN)["url"], respond)
        sim.socket.wait_for_connection(newer_than=newest)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


def test_connections_open_takes_the_app_token_and_hands_out_a_single_use_url(sim: Simulator) -> None:
    app_client = WebClient(token=APP_TOKEN, base_url=sim.api_url)
    url = app_client.apps_connections_open(app_token=APP_TOKEN)["url"]
    assert url.startswith("ws://127.0.0.1:") and "/link/?ticket=" in url and f"app_id={APP_ID}" in url

    with pytest.raises(SlackApiError) as bot_token:
        WebClient(token=BOT_TOKEN, base_url=sim.api_url).apps_connections_open(app_token=BOT_TOKEN)
    assert bot_token.value.response["error"] == "not_allowed_token_type"
    with pytest.raises(SlackApiError) as wrong:
        app_client.apps_connections_open(app_token="xapp-1-forged")
    assert wrong.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as other_method:
        WebClient(token=APP_TOKEN, base_url=sim.api_url).chat_postMessage(channel="C0GENERAL", text="x")
    assert other_method.value.response["error"] == "not_allowed_token_type"

    first = RawApp(url)
    assert first.hello["type"] == "hello"
    assert first.hello["num_connections"] == 1 and first.hello["connection_info"] == {"app_id": APP_ID}
    with pytest.raises(InvalidStatus) as reused:
        connect(url, open_timeout=5, legacy=True)
    assert reused.value.response.status_code == 401
    first.close()


def test_a_command_is_an_envelope_and_its_ack_payload_is_shown_like_an_http_answer(
    sim: Simulator, open_app: Callable[..., RawApp]
) -> None:
    app = open_app(lambda envelope: {"text": f"pong {envelope['payload']['text']}"})
    delivery = sim.command("U0LENA", "/okr", "mine please", "C0GENERAL")
    assert delivery.ok and delivery.transport == "socket" and delivery.json == {"text": "pong mine please"}
    [envelope] = app.envelopes("slash_commands")
    assert envelope["accepts_response_payload"] is True
    payload = envelope["payload"]
    assert payload == delivery.sent
    assert (payload["command"], payload["user_id"], payload["channel_id"]) == ("/okr", "U0LENA", "C0GENERAL")
    assert payload["response_url"].startswith("http://127.0.0.1:") and payload["trigger_id"]
    assert "retry_attempt" not in envelope
    [shown] = sim.take_outputs()
    assert (shown.kind, shown.user, shown.text, shown.via) == (
        "ephemeral",
        "U0LENA",
        "pong mine please",
        "ack",
    )


def test_interactions_say_whether_their_ack_may_answer(
    sim: Simulator, open_app: Callable[..., RawApp]
) -> None:
    app = open_app()
    message = sim.workspace.post_message(
        "C0GENERAL",
        text="pick",
        user="U0FLYWHEEL",
        bot_id="B0FLYWHEEL",
        blocks=[
            {
                "type": "actions",
                "block_id": "b",
                "elements": [
                    {"type": "button", "action_id": "go", "text": {"type": "plain_text", "text": "Go"}}
                ],
            }
        ],
    )
    assert sim.click("U0LENA", "go", message=message).ok
    [envelope] = app.envelopes("interactive")
    assert envelope["payload"]["type"] == "block_actions" and envelope["accepts_response_payload"] is False
    assert envelope["payload"]["actions"][0]["action_id"] == "go"


def test_an_event_not_acknowledged_is_redelivered_with_its_retry_attempt(
    sim: Simulator, open_app: Callable[..., RawApp]
) -> None:
    deaf = open_app(lambda envelope: False)  # receives, never acks
    listening = open_app()
    started = time.monotonic()
    delivery = sim.mention("U0LENA", "C0GENERAL", "hello")
    assert delivery.ok and delivery.exchange is not None
    # round robin: the first connection got it and stayed silent; 3 s later the other one acked it
    assert [outcome for _, outcome in delivery.exchange.attempts] == ["no ack", "acked"]
    assert time.monotonic() - started >= 3.0
    [first] = deaf.envelopes("events_api")
    [retry] = listening.envelopes("events_api")
    assert (first["retry_attempt"], first["retry_reason"]) == (0, "")
    assert (retry["retry_attempt"], retry["retry_reason"]) == (1, "timeout")
    assert first["payload"]["event_id"] == retry["payload"]["event_id"]
    assert first["envelope_id"] != retry["envelope_id"]
    assert retry["payload"]["event"]["type"] == "app_mention"


def test_a_given_retry_number_is_sent_as_retry_attempt(
    sim: Simulator, open_app: Callable[..., RawApp]
) -> None:
    app = open_app()
    sim.event({"type": "app_home_opened", "user": "U0LENA", "tab": "home"}, event_id="Ev1", retry_num=2)
    [envelope] = app.envelopes("events_api")
    assert (envelope["retry_attempt"], envelope["retry_reason"]) == (2, "http_timeout")


def test_an_unanswered_command_is_shown_as_slacks_error_and_not_retried(
    sim: Simulator, open_app: Callable[..., RawApp]
) -> None:
    app = open_app(lambda envelope: False)
    delivery = sim.command("U0LENA", "/okr", "mine", "C0GENERAL")
    assert delivery.status == 504 and delivery.elapsed >= 3.0
    assert len(app.envelopes()) == 1
    [shown] = sim.take_outputs()
    assert shown.kind == "error" and "operation_timeout" in shown.text


def test_without_a_connection_a_command_fails_like_slack_says(sim: Simulator) -> None:
    delivery = sim.command("U0LENA", "/okr", "mine", "C0GENERAL")
    assert delivery.status == 503
    [shown] = sim.take_outputs()
    assert shown.kind == "error" and "dispatch_failed" in shown.text


def test_signatures_and_url_verification_belong_to_http_mode(sim: Simulator) -> None:
    with pytest.raises(InteractionError, match="signed in HTTP mode only"):
        sim.command("U0LENA", "/okr", "mine", "C0GENERAL", signature="v0=" + "0" * 64)
    with pytest.raises(InteractionError, match="HTTP mode"):
        sim.url_verification("challenge")


def test_disconnect_asks_the_app_to_move_and_then_closes(
    sim: Simulator, open_app: Callable[..., RawApp]
) -> None:
    app = open_app()
    assert sim.socket is not None
    [conn] = sim.socket.disconnect("link_disabled", close_after=0.2)
    assert app.closed.wait(5)
    assert app.messages[-1] == {
        "type": "disconnect",
        "reason": "link_disabled",
        "debug_info": {"host": "applink-sim"},
    }
    assert sim.wait_for(lambda: conn.state == "closed")


def test_dropped_connections_end_without_a_word(sim: Simulator, open_app: Callable[..., RawApp]) -> None:
    assert sim.socket is not None
    closed = open_app()
    sim.socket.drop(connection=sim.socket.live()[0])
    assert closed.closed.wait(5)
    assert not any(m.get("type") == "disconnect" for m in closed.messages)

    silent = open_app()
    [conn] = sim.socket.drop(silent=True)
    assert conn.state == "silent" and sim.socket.live() == []
    pong = silent.ws.ping()
    assert not pong.wait(1.0)  # a half-open link: no pong, no close
    assert not silent.closed.is_set()


def test_slack_allows_ten_connections(sim: Simulator, open_app: Callable[..., RawApp]) -> None:
    for _ in range(MAX_CONNECTIONS):
        open_app()
    with pytest.raises(SlackApiError) as refused:
        WebClient(token=APP_TOKEN, base_url=sim.api_url).apps_connections_open(app_token=APP_TOKEN)
    assert refused.value.response["error"] == "too_many_websockets"
