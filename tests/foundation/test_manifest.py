"""The committed manifest matches the code and Slack's own schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft7Validator

from bot import manifest

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT.parent / "shared" / "slack" / "manifest.schema.1.0.0.json"
VENDORED_SCHEMA = ROOT / "tests" / "data" / "manifest.schema.1.0.0.json"


def _schema() -> dict:
    path = SCHEMA if SCHEMA.exists() else VENDORED_SCHEMA
    if not path.exists():
        pytest.fail(f"Slack's manifest schema not found at {SCHEMA} or {VENDORED_SCHEMA}")
    return json.loads(path.read_text())


def test_committed_manifest_is_what_the_code_generates() -> None:
    committed = (ROOT / "slack-manifest.yml").read_text()
    assert committed == manifest.to_yaml(manifest.build()), "run: flywheel manifest > slack-manifest.yml"


@pytest.mark.parametrize("http_url", [None, "https://flywheel.example.com"])
def test_manifest_validates_against_slacks_schema(http_url: str | None) -> None:
    data = yaml.safe_load(manifest.to_yaml(manifest.build(http_url)))
    errors = sorted(Draft7Validator(_schema()).iter_errors(data), key=lambda e: list(e.path))
    assert errors == [], [f"{list(e.path)}: {e.message}" for e in errors]
    if http_url:  # search menus (the /okr new parent picker) need Slack's options load URL
        assert data["settings"]["interactivity"]["message_menu_options_url"] == f"{http_url}/slack/events"


def test_manifest_lists_every_command_and_event_the_app_listens_to() -> None:
    data = manifest.build()
    assert {c["command"] for c in data["features"]["slash_commands"]} == {
        "/okr",
        "/ssp",
        "/postmortem",
        "/review",
        "/digest",
    }
    assert set(data["settings"]["event_subscriptions"]["bot_events"]) == {
        "app_home_opened",
        "app_mention",
        "message.im",
        "reaction_added",
    }
    assert data["features"]["app_home"]["messages_tab_enabled"] is True
