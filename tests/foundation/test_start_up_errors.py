"""What a new user tripped over at start-up: a refused token and a request URL that is no URL.

Both used to print pages (a 68-line traceback; a manifest pointing Slack at `not-a-url`); both
are one line naming the setting now, like every other bad setting. `flywheel serve` runs as a real
process against the simulator, which answers auth.test like Slack does for a wrong or revoked token.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.simulator import Simulator
from tests.foundation.test_cli import _flywheel


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("token", "failure", "reason"),
    [
        ("xoxb-wrong-token", None, "invalid_auth: Slack does not know this token"),
        ("xoxb-the-token", "token_revoked", "token_revoked: the token was revoked"),
    ],
)
def test_serve_with_a_refused_token_is_one_line(
    tmp_path: Path, token: str, failure: str | None, reason: str
) -> None:
    sim = Simulator(signing_secret="s", bot_token="xoxb-the-token").start()
    try:
        if failure:
            sim.fail_next("auth.test", error=failure)
        result = _flywheel(
            "serve",
            env={
                "SLACK_BOT_TOKEN": token,
                "SLACK_SIGNING_SECRET": "s",
                "SLACK_API_URL": sim.api_url,
                "DATABASE_URL": f"sqlite:///{tmp_path}/serve.db",
                "PORT": str(_free_port()),
                "LOG_LEVEL": "INFO",
            },
            cwd=tmp_path,
        )
    finally:
        sim.stop()
    assert result.returncode == 2
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert lines == [
        f"flywheel: SLACK_BOT_TOKEN was refused by Slack ({reason}): expected the app's current "
        "Bot User OAuth Token (xoxb-…, OAuth & Permissions)"
    ]
    assert not (tmp_path / "serve.db").exists()  # nothing was started, not even the migrations


def test_serve_with_an_unreachable_slack_api_is_one_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}/api/"
    result = _flywheel(
        "serve",
        env={"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": url},
        cwd=tmp_path,
    )
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1
    assert lines[0].startswith(f"flywheel: SLACK_API_URL {url} could not be reached to check SLACK_BOT_TOKEN")


@pytest.mark.parametrize(
    "url", ["not-a-url", "http://flywheel.example.com", "https://", "https://x y.com", "ftp://a.b"]
)
def test_manifest_refuses_a_request_url_that_is_not_https(url: str) -> None:
    result = _flywheel("manifest", "--http-url", url)
    assert result.returncode == 2 and result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--http-url" in lines[0] and "https://" in lines[0]


def test_manifest_takes_a_base_url_with_a_trailing_slash() -> None:
    result = _flywheel("manifest", "--http-url", "https://flywheel.example.com/")
    assert result.returncode == 0 and "https://flywheel.example.com/slack/events" in result.stdout
    assert "https://flywheel.example.com//slack" not in result.stdout
