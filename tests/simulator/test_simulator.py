"""The Slack simulator checked against slack_sdk's real WebClient and a real Bolt app.

If the simulator drifts from Slack, every end-to-end test built on it lies; these tests pin the
shapes and behaviours the bot relies on (pagination, permalinks, limits, 429s, triggers,
signatures, interactivity) to what slack_sdk and Bolt themselves accept.
"""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier

from bot.simulator import APP_ID, BOT_USER_ID, TEAM_ID, InteractionError, Simulator
from bot.simulator.render import mrkdwn, render_blocks
from bot.simulator.repl import DemoShell

SECRET = "sim-test-secret"
TOKEN = "xoxb-sim"


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(signing_secret=SECRET, bot_token=TOKEN) as s:
        s.add_user("U0LENA", "lena", real_name="Lena Park", email="lena@example.com", tz="Asia/Singapore")
        s.add_user("U0OMAR", "omar", real_name="Omar Diaz", email="omar@example.com")
        s.add_channel("C0GENERAL", "general", members=["U0LENA", "U0OMAR"])
        s.add_channel("C0SECRET", "secret", members=["U0OMAR"], is_private=True, bot_member=False)
        yield s


@pytest.fixture
def client(sim: Simulator) -> WebClient:
    return WebClient(token=TOKEN, base_url=sim.api_url)


class _Receiver:
    """A tiny HTTP endpoint standing in for the bot: records requests, answers via ``respond``."""

    def __init__(self, respond: Callable[[bytes, dict[str, str]], tuple[int, bytes]]) -> None:
        self.requests: list[tuple[bytes, dict[str, str]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items()}
                outer.requests.append((body, headers))
                status, answer = respond(body, headers)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/slack/events"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(sim: Simulator) -> Iterator[_Receiver]:
    r = _Receiver(lambda body, headers: (200, b""))
    sim.bot_url = r.url
    yield r
    r.close()


def _bolt_receiver(app: App) -> Callable[[bytes, dict[str, str]], tuple[int, bytes]]:
    def respond(body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        response = app.dispatch(
            BoltRequest(body=body.decode(), headers={k.lower(): [v] for k, v in headers.items()})
        )
        return response.status, response.body.encode()

    return respond


# ---- Web API ---------------------------------------------------------------------------------------


def test_thread_round_trip_with_three_pages(sim: Simulator, client: WebClient) -> None:
    root = sim.post_message("C0GENERAL", "U0LENA", "Review: the new onboarding flow")
    for i in range(6):
        sim.post_message("C0GENERAL", "U0OMAR" if i % 2 else "U0LENA", f"reply {i}", thread_ts=root)
    posted = client.chat_postMessage(channel="C0GENERAL", thread_ts=root, text="bot reply")
    assert posted["ok"] and posted["message"]["thread_ts"] == root

    pages, cursor, seen = 0, None, []
    while True:
        page = client.conversations_replies(channel="C0GENERAL", ts=root, limit=3, cursor=cursor)
        pages += 1
        seen.extend(m["ts"] for m in page["messages"])
        cursor = page["response_metadata"]["next_cursor"]
        assert page["has_more"] == bool(cursor)
        if not cursor:
            break
    assert pages == 3
    assert len(seen) == 8 and seen == sorted(seen, key=float) and seen[0] == root

    history = client.conversations_history(channel="C0GENERAL")["messages"]
    assert [m["ts"] for m in history] == [root]  # replies are not in history
    assert history[0]["reply_count"] == 7 and history[0]["latest_reply"] == posted["ts"]
    assert set(history[0]["reply_users"]) == {"U0LENA", "U0OMAR", BOT_USER_ID}

    older = client.conversations_history(channel="C0GENERAL", latest=root, inclusive=True)["messages"]
    assert [m["ts"] for m in older] == [root]
    assert client.conversations_history(channel="C0GENERAL", oldest=root)["messages"] == []


def test_permalinks_and_lookups(sim: Simulator, client: WebClient) -> None:
    root = sim.post_message("C0GENERAL", "U0LENA", "hello")
    reply = sim.post_message("C0GENERAL", "U0OMAR", "hi", thread_ts=root)
    link = client.chat_getPermalink(channel="C0GENERAL", message_ts=root)["permalink"]
    assert link == f"https://flywheel-demo.slack.com/archives/C0GENERAL/p{root.replace('.', '')}"
    link = client.chat_getPermalink(channel="C0GENERAL", message_ts=reply)["permalink"]
    assert link.endswith(f"/p{reply.replace('.', '')}?thread_ts={root}&cid=C0GENERAL")

    assert client.users_lookupByEmail(email="LENA@example.com")["user"]["id"] == "U0LENA"
    with pytest.raises(SlackApiError) as miss:
        client.users_lookupByEmail(email="nobody@example.com")
    assert miss.value.response["error"] == "users_not_found"

    assert client.auth_test()["user_id"] == BOT_USER_ID
    im = client.conversations_open(users="U0LENA")["channel"]["id"]
    assert im.startswith("D") and client.conversations_open(users=["U0LENA"])["channel"]["id"] == im
    client.chat_postMessage(channel="U0LENA", text="to the user id")  # a user ID posts to the DM
    assert sim.messages(im)[-1].text == "to the user id"

    members = client.conversations_members(channel="C0GENERAL", limit=2)
    assert members["members"] == ["U0LENA", "U0OMAR"] and members["response_metadata"]["next_cursor"]
    users = client.users_list(limit=2)
    assert len(users["members"]) == 2 and users["response_metadata"]["next_cursor"]

    for method, kwargs, error in [
        ("conversations_info", {"channel": "C0NOPE"}, "channel_not_found"),
        ("conversations_info", {"channel": "C0SECRET"}, "channel_not_found"),  # private, bot not in it
        ("users_info", {"user": "U0NOPE"}, "user_not_found"),
    ]:
        with pytest.raises(SlackApiError) as err:
            getattr(client, method)(**kwargs)
        assert err.value.response["error"] == error
    with pytest.raises(SlackApiError) as err:
        client.api_call("nope.nothing")
    assert err.value.response["error"] == "unknown_method"
    with pytest.raises(SlackApiError) as err:
        WebClient(base_url=sim.api_url).auth_test()
    assert err.value.response["error"] == "not_authed"
    assert [c.method for c in sim.calls_to("users.lookupByEmail")] == ["users.lookupByEmail"] * 2


def test_rate_limit_is_retried_and_the_message_arrives_once(sim: Simulator) -> None:
    client = WebClient(token=TOKEN, base_url=sim.api_url, retry_handlers=[RateLimitErrorRetryHandler(1)])
    sim.fail_next("chat.postMessage", status=429, retry_after=0)
    response = client.chat_postMessage(channel="C0GENERAL", text="hello after a 429")
    assert response["ok"]
    assert [m.text for m in sim.messages("C0GENERAL")] == ["hello after a 429"]
    assert [c.status for c in sim.calls_to("chat.postMessage")] == [429, 200]

    sim.fail_next("chat.postMessage", error="fatal_error")
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C0GENERAL", text="x")
    assert err.value.response["error"] == "fatal_error"


def test_trigger_ids_expire_and_are_single_use(sim: Simulator, client: WebClient) -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Check in"}, "blocks": []}
    clock = [1000.0]
    sim.workspace.clock = lambda: clock[0]
    trigger = sim.workspace.issue_trigger("U0LENA")
    clock[0] += 3.5
    with pytest.raises(SlackApiError) as err:
        client.views_open(trigger_id=trigger, view=view)
    assert err.value.response["error"] == "expired_trigger_id"
    with pytest.raises(SlackApiError) as err:
        client.views_open(trigger_id="123.456.abc", view=view)
    assert err.value.response["error"] == "invalid_trigger_id"

    trigger = sim.workspace.issue_trigger("U0LENA")
    opened = client.views_open(trigger_id=trigger, view=view)["view"]
    assert opened["id"].startswith("V") and sim.top_view("U0LENA").id == opened["id"]
    with pytest.raises(SlackApiError) as err:
        client.views_open(trigger_id=trigger, view=view)
    assert err.value.response["error"] == "exchanged_trigger_id"
    with pytest.raises(SlackApiError) as err:
        client.views_update(view_id=opened["id"], hash="stale", view=view)
    assert err.value.response["error"] == "hash_conflict"
    long_title = dict(view, title={"type": "plain_text", "text": "x" * 25})
    with pytest.raises(SlackApiError) as err:
        client.views_update(view_id=opened["id"], view=long_title)
    assert err.value.response["error"] == "invalid_arguments"


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_slack_limits(sim: Simulator, client: WebClient) -> None:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "ok"}}
    cases = [
        ({"blocks": [section] * 51, "text": "t"}, "invalid_blocks"),
        (
            {"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}], "text": "t"},
            "invalid_blocks",
        ),
        ({"text": "x" * 40_001}, "msg_too_long"),
        ({}, "no_text"),
    ]
    for kwargs, error in cases:
        with pytest.raises(SlackApiError) as err:
            client.chat_postMessage(channel="C0GENERAL", **kwargs)
        assert err.value.response["error"] == error
    assert client.chat_postMessage(channel="C0GENERAL", blocks=[section] * 50, text="t")["ok"]
    home = {"type": "home", "blocks": [section] * 101}
    with pytest.raises(SlackApiError) as err:
        client.views_publish(user_id="U0LENA", view=home)
    assert err.value.response["error"] == "invalid_arguments"
    assert client.views_publish(user_id="U0LENA", view={"type": "home", "blocks": [section] * 100})["ok"]


def test_rendering_resolves_names_and_shows_buttons(sim: Simulator) -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "Your OKRs"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "Owner <@U0LENA> in <#C0GENERAL|general>, <!here>"},
            "accessory": {
                "type": "button",
                "text": {"type": "plain_text", "text": "Check in"},
                "action_id": "ci",
            },
        },
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": "*Score* 0.7"}, {"type": "mrkdwn", "text": "x"}],
        },
        {"type": "divider"},
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "<https://example.com|docs> · <@U0OMAR|omar>"}],
        },
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Share"}, "action_id": "share"},
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Open"},
                    "url": "https://example.com/o",
                },
            ],
        },
        {"type": "image", "image_url": "https://example.com/a.png", "alt_text": "chart"},
    ]
    text = render_blocks(blocks, sim.workspace)
    assert "== Your OKRs ==" in text
    assert "Owner @lena in #general, @here  [Check in]" in text
    assert "---" in text and "[Share]" in text and "[image: chart]" in text
    assert "docs <https://example.com> · @omar" in text
    assert mrkdwn("a &lt;b&gt; <mailto:x@y.z> :tada:") == "a <b> x@y.z :tada:"
    assert sim.render("plain <@U0OMAR>") == "plain @omar"


# ---- the player --------------------------------------------------------------------------------------


def test_signatures_verify_and_can_be_forged(sim: Simulator, receiver: _Receiver) -> None:
    verifier = SignatureVerifier(SECRET)
    sim.command("U0LENA", "/okr", "mine @omar #general", "C0GENERAL")
    body, headers = receiver.requests[-1]
    assert verifier.is_valid_request(body, headers)
    form = urllib.parse.parse_qs(body.decode())
    assert form["text"] == ["mine <@U0OMAR|omar> <#C0GENERAL|general>"]
    assert form["response_url"][0].startswith(sim.base_url + "/response/")
    assert form["trigger_id"][0] in sim.workspace.triggers and form["api_app_id"] == ["A0FLYWHEEL"]

    sim.event({"type": "app_home_opened", "user": "U0LENA", "tab": "home"}, event_id="Ev1", retry_num=1)
    body, headers = receiver.requests[-1]
    assert verifier.is_valid_request(body, headers)
    assert headers["X-Slack-Retry-Num"] == "1" and headers["X-Slack-Retry-Reason"] == "http_timeout"
    envelope = json.loads(body)
    assert envelope["type"] == "event_callback" and envelope["event_id"] == "Ev1"
    assert envelope["authorizations"][0]["user_id"] == BOT_USER_ID

    sim.command("U0LENA", "/okr", "", "C0GENERAL", timestamp=int(time.time()) - 600)
    assert not verifier.is_valid_request(*receiver.requests[-1])
    sim.command("U0LENA", "/okr", "", "C0GENERAL", signature="v0=forged")
    assert not verifier.is_valid_request(*receiver.requests[-1])


def _bolt_app(sim: Simulator) -> App:
    app = App(
        signing_secret=SECRET,
        client=WebClient(token=TOKEN, base_url=sim.api_url),
        process_before_response=True,
    )
    checkin_view = {
        "type": "modal",
        "callback_id": "checkin",
        "title": {"type": "plain_text", "text": "Check in"},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            {
                "type": "input",
                "block_id": "value",
                "label": {"type": "plain_text", "text": "Value"},
                "element": {"type": "plain_text_input", "action_id": "v"},
            },
            {
                "type": "input",
                "block_id": "conf",
                "label": {"type": "plain_text", "text": "Confidence"},
                "element": {
                    "type": "static_select",
                    "action_id": "c",
                    "options": [
                        {"text": {"type": "plain_text", "text": str(i)}, "value": str(i)}
                        for i in range(1, 11)
                    ],
                    "initial_option": {"text": {"type": "plain_text", "text": "5"}, "value": "5"},
                },
            },
            {
                "type": "input",
                "block_id": "note",
                "optional": True,
                "label": {"type": "plain_text", "text": "Note"},
                "element": {"type": "plain_text_input", "action_id": "n", "initial_value": "steady"},
            },
        ],
    }

    @app.command("/okr")
    def okr(ack: Any, command: dict[str, Any], respond: Any) -> None:
        ack(
            blocks=[
                {"type": "section", "text": {"type": "mrkdwn", "text": f"Hi <@{command['user_id']}>"}},
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": "Check in"},
                            "action_id": "checkin",
                            "value": "KR-1",
                        }
                    ],
                },
            ],
            text="hi",
        )

    @app.action("checkin")
    def open_checkin(ack: Any, body: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=checkin_view)

    @app.view("checkin")
    def save(ack: Any, view: dict[str, Any], client: WebClient, body: dict[str, Any]) -> None:
        values = view["state"]["values"]
        value = values["value"]["v"]["value"]
        if not value.isdigit():
            ack(response_action="errors", errors={"value": "Enter a number"})
            return
        ack()
        client.chat_postMessage(
            channel=body["user"]["id"],
            text=f"KR-1 = {value} conf {values['conf']['c']['selected_option']['value']} "
            f"note {values['note']['n']['value']}",
        )

    @app.event("app_mention")
    def mentioned(event: dict[str, Any], say: Any) -> None:
        say(text=f"heard {event['text']}", thread_ts=event.get("thread_ts") or event["ts"])

    return app


def test_bolt_round_trip_command_button_modal(sim: Simulator) -> None:
    app = _bolt_app(sim)
    receiver = _Receiver(_bolt_receiver(app))
    sim.bot_url = receiver.url
    try:
        sim.command("lena", "/okr", "mine", "C0GENERAL")
        sim.settle(idle=0.05)
        [ack] = sim.take_outputs()
        assert ack.kind == "ephemeral" and ack.user == "U0LENA"
        rendered = sim.render_output(ack)
        assert rendered.startswith("[ephemeral to @lena in #general]") and "Hi @lena" in rendered
        assert "[Check in]" in rendered

        sim.click_button("U0LENA", "check in")
        sim.settle(idle=0.05)
        [modal] = sim.take_outputs()
        assert modal.kind == "modal" and sim.render_output(modal).startswith('[modal "Check in" for @lena]')
        assert "Confidence: [1 | 2" in sim.render_output(modal)

        sim.submit_view("U0LENA", {"Value": "abc"})
        [errors] = sim.take_outputs()
        assert errors.raw["errors"] == {"value": "Enter a number"} and sim.top_view("U0LENA") is not None
        assert "! Enter a number" in sim.render_output(errors)

        sim.submit_view("U0LENA", {"v": "42", "conf": "8"})
        sim.settle(idle=0.05)
        dm, closed = sim.take_outputs()  # the listener posts before it acks (process_before_response)
        assert closed.kind == "modal_closed" and sim.top_view("U0LENA") is None
        assert dm.text == "KR-1 = 42 conf 8 note steady"
        assert sim.render_output(dm).startswith("[DM to @lena]")

        sim.mention("U0OMAR", "C0GENERAL", "summarize @lena")
        sim.settle(idle=0.05)
        [reply] = sim.take_outputs()
        assert reply.thread_ts and reply.text == f"heard <@{BOT_USER_ID}> summarize <@U0LENA>"
        assert "[#general, thread" in sim.render_output(reply)
    finally:
        receiver.close()


def test_demo_shell_runs_a_script(sim: Simulator) -> None:
    app = _bolt_app(sim)
    receiver = _Receiver(_bolt_receiver(app))
    sim.bot_url = receiver.url
    out = io.StringIO()
    try:
        shell = DemoShell(sim, user_id="U0LENA", channel_id="C0GENERAL", out=out)
        failures = shell.run(
            [
                "# a comment",
                "/okr mine",
                "click Check in",
                "submit Value=7; Confidence=9",
                "post hello team",
                "thread last",
                "mention what now?",
                "frobnicate",
                "as omar",
                "history 5",
                "quit",
                "dm never reached",
            ]
        )
    finally:
        receiver.close()
    text = out.getvalue()
    assert failures == 1
    assert "lena@#general> /okr mine" in text and "[ephemeral to @lena in #general]" in text
    assert '[modal "Check in" for @lena]' in text and "KR-1 = 7 conf 9" in text
    assert "error: unknown command 'frobnicate' (type `help` for the commands)" in text
    assert "now acting as @omar" in text and "never reached" not in text


def test_modal_fields_can_be_named_by_part_of_their_label() -> None:
    from bot.simulator.player import Player

    inputs = [
        {
            "type": "input",
            "block_id": "v",
            "label": {"type": "plain_text", "text": "New value (%)"},
            "element": {"type": "plain_text_input", "action_id": "v"},
        },
        {
            "type": "input",
            "block_id": "n",
            "label": {"type": "plain_text", "text": "Note"},
            "element": {"type": "plain_text_input", "action_id": "n"},
        },
        {
            "type": "input",
            "block_id": "k1",
            "label": {"type": "plain_text", "text": "Key result 1"},
            "element": {"type": "plain_text_input", "action_id": "k1"},
        },
    ]
    # An exact label wins over a partial one; a partial one fills the first free field it names.
    assert Player._assign_fields(inputs, ["value", "note", "key result 1"]) == {
        "v": "value",
        "n": "note",
        "k1": "key result 1",
    }
    assert Player._assign_fields(inputs, ["unknown"]) == {}


def test_external_select_loads_its_options_by_block_suggestion(sim: Simulator) -> None:
    """A search menu (external_select): what is typed goes to the app as a signed block_suggestion,
    the choice is made among the options it answers, and the submission carries that option."""
    app = App(
        signing_secret=SECRET,
        client=WebClient(token=TOKEN, base_url=sim.api_url),
        process_before_response=True,
    )
    cities = {"lis": "LIS Lisbon", "por": "POR Porto", "osl": "OSL Oslo", "ber": "BER Berlin"}

    def option(value: str) -> dict[str, Any]:
        return {"text": {"type": "plain_text", "text": cities[value]}, "value": value}

    def select(action_id: str, **extra: Any) -> dict[str, Any]:
        return {"type": "external_select", "action_id": action_id, **extra}

    view = {
        "type": "modal",
        "callback_id": "trip",
        "title": {"type": "plain_text", "text": "Trip"},
        "submit": {"type": "plain_text", "text": "Go"},
        "blocks": [
            {
                "type": "input",
                "block_id": "to",
                "label": {"type": "plain_text", "text": "Destination"},
                "element": select("city", min_query_length=0),
            },
            {
                "type": "input",
                "block_id": "via",
                "optional": True,
                "label": {"type": "plain_text", "text": "Stopover"},
                "element": select("stop", initial_option=option("osl")),  # default min_query_length 3
            },
        ],
    }
    submitted: list[dict[str, Any]] = []

    @app.command("/trip")
    def trip(ack: Any, command: dict[str, Any], client: WebClient) -> None:
        client.views_open(trigger_id=command["trigger_id"], view=view)
        ack()

    def suggest(ack: Any, body: dict[str, Any]) -> None:
        typed = body["value"].lower()
        hits = [v for v, text in cities.items() if typed in text.lower()]
        if typed:
            ack(options=[option(v) for v in hits])
        else:  # the menu as it opens: grouped
            ack(
                option_groups=[{"label": {"type": "plain_text", "text": "South"}, "options": [option("lis")]}]
            )

    app.options("city")(suggest)
    app.options("stop")(suggest)

    @app.view("trip")
    def save(ack: Any, view: dict[str, Any]) -> None:
        submitted.append(view["state"]["values"])
        ack()

    receiver = _Receiver(_bolt_receiver(app))
    sim.bot_url = receiver.url
    try:
        sim.command("lena", "/trip", "", "C0GENERAL")
        sim.settle(idle=0.05)
        [modal] = sim.take_outputs()
        rendered = sim.render_output(modal)
        assert (
            "Destination: [search…]" in rendered and "Stopover (optional): [search…] (OSL Oslo)" in rendered
        )
        view_id = sim.top_view("U0LENA").id  # type: ignore[union-attr]

        # The menu opens (an empty query) and lists the grouped options, flattened.
        assert [o["value"] for o in sim.suggest("lena", "city")] == ["lis"]
        # Picking by typing: the request is exactly Slack's, signed, with the typed text as `value`.
        assert sim.select("lena", "city", "LIS") is None  # an input block: no block_actions
        body, headers = receiver.requests[-1]
        assert SignatureVerifier(SECRET).is_valid_request(body, headers)
        assert headers["Content-Type"] == "application/x-www-form-urlencoded"
        form = urllib.parse.parse_qs(body.decode())
        assert list(form) == ["payload"]
        payload = json.loads(form["payload"][0])
        assert payload["type"] == "block_suggestion" and "trigger_id" not in payload
        assert (payload["action_id"], payload["block_id"], payload["value"]) == ("city", "to", "LIS")
        assert payload["user"]["id"] == "U0LENA" and payload["team"]["id"] == TEAM_ID
        assert payload["api_app_id"] == APP_ID
        assert payload["container"] == {"type": "view", "view_id": view_id}
        assert payload["view"]["id"] == view_id and payload["view"]["callback_id"] == "trip"
        # "LIS" is the first word of the only option "LIS Lisbon": chosen, shown in the modal.
        state = sim.top_view("U0LENA").state_values  # type: ignore[union-attr]
        assert state["to"]["city"]["selected_option"] == option("lis")

        # No match, or too short a query for the menu's min_query_length: nothing to choose.
        with pytest.raises(InteractionError, match="no option 'Paris'"):
            sim.select("lena", "city", "Paris")
        with pytest.raises(InteractionError, match="at least 3 characters"):
            sim.select("lena", "stop", "PO")
        sent = len(receiver.requests)

        sim.submit_view("lena", {"Stopover": "POR"})  # a suggestion, then the submission
        assert len(receiver.requests) == sent + 2
        suggestion = json.loads(urllib.parse.parse_qs(receiver.requests[-2][0].decode())["payload"][0])
        assert (suggestion["type"], suggestion["value"]) == ("block_suggestion", "POR")
        [values] = submitted
        assert values["to"]["city"]["selected_option"]["value"] == "lis"
        assert values["via"]["stop"]["selected_option"] == option("por")
    finally:
        receiver.close()
