"""Settings: defaults, derived values and one-line errors naming the variable."""

from __future__ import annotations

import pytest

from bot.config import SettingsError, load_settings


def _load(**values: object):  # type: ignore[no-untyped-def]
    return load_settings(_env_file=None, **values)


def test_defaults_follow_the_design() -> None:
    s = _load()
    assert s.database_url == "sqlite:///flywheel.db"
    assert s.port == 3000 and s.flywheel_okr_cycle_months == 2 and s.flywheel_timezone == "UTC"
    assert s.llm_enabled is False and s.socket_mode is False
    assert s.slack_api_url == "https://slack.com/api/"


def test_llm_auto_turns_on_with_a_base_url_and_off_wins() -> None:
    assert _load(OPENAI_BASE_URL="http://127.0.0.1:8080/v1").llm_enabled is True
    assert _load(OPENAI_BASE_URL="http://127.0.0.1:8080/v1", FLYWHEEL_LLM="off").llm_enabled is False


def test_postgres_urls_use_psycopg3() -> None:
    assert _load(DATABASE_URL="postgresql://u@h/db").database_url == "postgresql+psycopg://u@h/db"


def test_admins_are_parsed() -> None:
    assert _load(FLYWHEEL_ADMINS="U0MAYA, U0TOM").admins == {"U0MAYA", "U0TOM"}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FLYWHEEL_TIMEZONE", "Mars/Olympus"),
        ("FLYWHEEL_OKR_CYCLE_MONTHS", "5"),
        ("FLYWHEEL_LLM", "maybe"),
        ("PORT", "99999"),
        ("SLACK_BOT_TOKEN", "xoxp-user-token"),
        ("FLYWHEEL_ADMINS", "lena"),
        ("DATABASE_URL", "mysql://x@y/z"),
        ("SLACK_API_URL", "ftp://x"),
    ],
)
def test_a_malformed_value_names_the_variable_in_one_line(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as err:
        _load(**{name: value})
    message = str(err.value)
    assert message.startswith(name) and "\n" not in message and "expected" in message


def test_secrets_are_not_echoed_in_errors() -> None:
    with pytest.raises(SettingsError) as err:
        _load(SLACK_BOT_TOKEN="xoxp-secret-value")
    assert "secret-value" not in str(err.value)
