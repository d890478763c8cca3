"""Fixtures shared by the model and summary tests (imported by their conftest files)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.openai_stub import OpenAIStub


@pytest.fixture
def openai_stub() -> Iterator[OpenAIStub]:
    stub = OpenAIStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def openai_stub_factory() -> Iterator[Callable[..., OpenAIStub]]:
    """Stubs with other abilities, e.g. `make(formats=("text",))` or `make(enforce=True)`."""
    started: list[OpenAIStub] = []

    def make(**options: object) -> OpenAIStub:
        stub = OpenAIStub(**options).start()  # type: ignore[arg-type]
        started.append(stub)
        return stub

    yield make
    for stub in started:
        stub.stop()
