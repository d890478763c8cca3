"""Slack's contract, end to end: signatures and url_verification (HTTP mode), retries, 429s and
health in both modes."""

from __future__ import annotations

import time

import httpx
import pytest

from bot.demo.run import DemoStack


def test_signed_command_gets_its_answer(slack_env: DemoStack) -> None:
    sim = slack_env.sim
    delivery = sim.command("U0LENA", "/okr", "help", channel_id="C0GENERAL")
    assert delivery.status == 200
    outputs = sim.take_outputs()
    text = "\n".join(sim.render_output(o) for o in outputs)
    assert "/okr checkin KR-n" in text
    assert any(o.kind == "ephemeral" and o.user == "U0LENA" for o in outputs)


@pytest.mark.http_only
def test_forged_and_stale_signatures_are_refused_and_change_nothing(slack_env: DemoStack) -> None:
    sim = slack_env.sim
    sim.take_outputs()
    calls_before = len(sim.calls)
    forged = sim.command("U0LENA", "/okr", "help", channel_id="C0GENERAL", signature="v0=" + "0" * 64)
    stale = sim.command("U0LENA", "/okr", "help", channel_id="C0GENERAL", timestamp=int(time.time()) - 600)
    assert forged.status == 401
    assert stale.status == 401
    sim.settle()
    # Slack itself tells the user the command failed; the bot showed and did nothing.
    assert [o.kind for o in sim.take_outputs()] == ["error", "error"]
    assert len(sim.calls) == calls_before
    with slack_env.db.session() as s:
        from sqlmodel import select

        from storage.models import ProcessedEvent

        assert s.exec(select(ProcessedEvent)).all() == []


@pytest.mark.http_only
def test_forged_event_is_not_recorded(slack_env: DemoStack) -> None:
    sim = slack_env.sim
    delivery = sim.event(
        {"type": "app_home_opened", "user": "U0LENA", "tab": "home", "channel": "D0LENA"},
        event_id="EvFORGED1",
        signature="v0=" + "f" * 64,
    )
    assert delivery.status == 401
    sim.settle()
    assert sim.calls_to("views.publish") == []


@pytest.mark.http_only
def test_url_verification_returns_the_challenge(slack_env: DemoStack) -> None:
    delivery = slack_env.sim.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    assert delivery.status == 200
    assert "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in delivery.text


def _dm_event(user: str, channel: str, text: str) -> dict:
    return {
        "type": "message",
        "channel_type": "im",
        "user": user,
        "channel": channel,
        "text": text,
        "ts": f"{time.time():.6f}",
    }


def test_an_event_delivered_four_times_has_one_effect(slack_env: DemoStack) -> None:
    sim = slack_env.sim
    dm = sim.im_channel("U0OMAR")
    event = _dm_event("U0OMAR", dm, "hello")
    first = sim.event(event, event_id="Ev0DEDUPE1")
    repeats = [sim.event(event, event_id="Ev0DEDUPE1", retry_num=n) for n in (1, 2, 3)]
    assert first.status == 200 and all(r.status == 200 for r in repeats)
    sim.settle()
    posted = [c for c in sim.calls_to("chat.postMessage") if c.params.get("channel") == dm]
    assert len(posted) == 1


def test_a_retry_whose_first_delivery_was_lost_is_handled(slack_env: DemoStack) -> None:
    sim = slack_env.sim
    dm = sim.im_channel("U0KENJI")
    sim.event(_dm_event("U0KENJI", dm, "hi"), event_id="Ev0LOSTFIRST", retry_num=1)
    sim.settle()
    posted = [c for c in sim.calls_to("chat.postMessage") if c.params.get("channel") == dm]
    assert len(posted) == 1


def test_rate_limited_post_is_retried_after_retry_after_and_arrives_once(slack_env: DemoStack) -> None:
    sim = slack_env.sim
    dm = sim.im_channel("U0NINA")
    sim.fail_next("chat.postMessage", status=429, retry_after=1)
    started = time.monotonic()
    sim.event(_dm_event("U0NINA", dm, "hello there"), event_id="Ev0RATELIMIT")
    sim.wait_for(lambda: [c for c in sim.calls_to("chat.postMessage") if c.status == 200], timeout=10)
    sim.settle()
    calls = [c for c in sim.calls_to("chat.postMessage") if c.params.get("channel") == dm]
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].time - calls[0].time >= 0.9
    assert time.monotonic() - started >= 0.9
    delivered = [m for m in sim.messages(dm) if m.user == "U0FLYWHEEL" or getattr(m, "bot_id", None)]
    assert len(delivered) == 1


def test_healthz_and_metrics(slack_env: DemoStack) -> None:
    health = httpx.get(f"{slack_env.server.url}/healthz", timeout=5)
    assert health.status_code == 200
    assert health.json() == {"status": "ok", "db": "ok"}
    slack_env.sim.command("U0LENA", "/okr", "help", channel_id="C0GENERAL")
    metrics = httpx.get(f"{slack_env.server.url}/metrics", timeout=5)
    assert metrics.status_code == 200
    assert 'flywheel_slack_requests_total{kind="command"}' in metrics.text
    # the acknowledgement's latency is observed around the whole dispatch, not a middleware step
    assert 'flywheel_request_seconds_count{kind="command"}' in metrics.text


def test_healthz_is_503_when_the_database_is_unreachable(slack_env_factory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    stack = slack_env_factory()
    stack.db.dispose()
    # Point the engine at a database that cannot be opened: a path inside a missing directory.
    from storage.db import Database

    stack.fw.ctx.db = Database(f"sqlite:///{tmp_path}/missing/dir/x.db")
    health = httpx.get(f"{stack.server.url}/healthz", timeout=5)
    assert health.status_code == 503
    assert health.json()["db"] == "unreachable"
