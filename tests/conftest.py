"""Shared fixtures: a migrated database, settings, and the full stack over real HTTP.

`slack_env` is the real app wired to the Slack simulator (`bot/simulator/`), seeded with the demo
company's people, teams and channels — the same stack `flywheel demo` runs. Every test that uses
it (or `slack_env_factory`) runs twice: `[http]`, the app on uvicorn taking signed requests, and
`[socket]`, the app connected in Socket Mode taking envelopes on its WebSocket. A test about the
HTTP contract alone (signatures, url_verification) is marked `@pytest.mark.http_only`.
PostgreSQL tests use the server at 127.0.0.1:5432; with CI=true they must run, elsewhere they
skip when no server answers.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.config import EXPECTATIONS, Settings, load_settings
from bot.demo.run import TRANSPORTS, DemoStack, start_stack
from storage.db import Database
from storage.migrate import upgrade

SIGNING_SECRET = "test-signing-secret"
PG_BASE = os.environ.get("FLYWHEEL_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "http_only: runs over HTTP only (not parametrised over Socket Mode)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The end-to-end stack runs over each transport; the test id shows which ([http], [socket])."""
    if "transport" in metafunc.fixturenames:
        http_only = metafunc.definition.get_closest_marker("http_only") is not None
        metafunc.parametrize("transport", ["http"] if http_only else list(TRANSPORTS), scope="function")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing from the developer's shell or .env leaks into a test's settings."""
    for name in [*EXPECTATIONS, "OPENAI_API_KEY", "OPENAI_MODEL", "DATABASE_URL"]:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "DATABASE_URL": f"sqlite:///{tmp_path}/flywheel.db",
            "FLYWHEEL_LLM": "off",
            "_env_file": None,
        }
        values.update(overrides)
        return load_settings(**values)

    return make


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path}/service.db"
    upgrade(url)
    database = Database(url)
    yield database
    database.dispose()


@pytest.fixture
def slack_env_factory(tmp_path: Path, transport: str) -> Iterator[Callable[..., DemoStack]]:
    """Build stacks with setting overrides, e.g. `slack_env_factory(FLYWHEEL_ADMINS="U0TOM")`,
    over the test's transport (`http` or `socket`)."""
    stacks: list[DemoStack] = []

    def make(*, conversations: bool = False, features: bool = False, **overrides: object) -> DemoStack:
        url = overrides.pop("DATABASE_URL", None) or f"sqlite:///{tmp_path}/e2e-{len(stacks)}.db"
        stack = start_stack(
            str(url), transport=transport, conversations=conversations, features=features, **overrides
        )
        stacks.append(stack)
        return stack

    yield make
    for stack in stacks:
        stack.close()


@pytest.fixture
def slack_env(slack_env_factory: Callable[..., DemoStack]) -> DemoStack:
    return slack_env_factory()


def _pg_available() -> str | None:
    import psycopg

    try:
        with psycopg.connect(PG_BASE.replace("postgresql+psycopg", "postgresql"), connect_timeout=3):
            return None
    except Exception as exc:  # any failure to connect means "no server here"
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    reason = _pg_available()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL at 127.0.0.1:5432 is unreachable: {reason}")
        pytest.skip(
            f"PostgreSQL at 127.0.0.1:5432 is not reachable ({reason}); set up the server to run this"
        )
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = PG_BASE.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_BASE}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
