"""The `flywheel` command as a user runs it: a real process, real exit codes, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _flywheel(*args: str, stdin: str = "", env: dict[str, str] | None = None, cwd: Path | None = None):  # type: ignore[no-untyped-def]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FLYWHEEL_", "OPENAI_"))}
    full_env.pop("DATABASE_URL", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or ROOT,
        timeout=120,
    )


def test_demo_script_from_stdin_prints_help_and_exits_0(tmp_path: Path) -> None:
    result = _flywheel("demo", "--script", "-", stdin="/okr help\n", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "/okr checkin KR-n" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_demo_script_with_an_unknown_line_says_so_and_fails(tmp_path: Path) -> None:
    result = _flywheel("demo", "--script", "-", stdin="frobnicate the widgets\n", cwd=tmp_path)
    assert result.returncode != 0
    assert "frobnicate" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_a_bad_setting_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    result = _flywheel("db", "upgrade", env={"FLYWHEEL_TIMEZONE": "Mars/Olympus"}, cwd=tmp_path)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "FLYWHEEL_TIMEZONE" in lines[0] and "IANA" in lines[0]


def test_serve_without_a_token_exits_with_one_line(tmp_path: Path) -> None:
    result = _flywheel("serve", cwd=tmp_path)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "SLACK_BOT_TOKEN" in lines[0]


def test_a_malformed_dotenv_value_is_named(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("FLYWHEEL_OKR_CYCLE_MONTHS=5\n")
    result = _flywheel("db", "upgrade", cwd=tmp_path)
    assert result.returncode != 0
    assert "FLYWHEEL_OKR_CYCLE_MONTHS" in result.stderr and "Traceback" not in result.stderr


def test_db_upgrade_creates_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    result = _flywheel("db", "upgrade", env={"DATABASE_URL": url}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "cli.db").exists()


def test_manifest_with_http_url_points_every_url_at_slack_events() -> None:
    result = _flywheel("manifest", "--http-url", "https://flywheel.example.com")
    assert result.returncode == 0
    manifest = yaml.safe_load(result.stdout)
    assert manifest["settings"]["socket_mode_enabled"] is False
    url = "https://flywheel.example.com/slack/events"
    assert manifest["settings"]["event_subscriptions"]["request_url"] == url
    assert manifest["settings"]["interactivity"]["request_url"] == url
    assert {c["url"] for c in manifest["features"]["slash_commands"]} == {url}
