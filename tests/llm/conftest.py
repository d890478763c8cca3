from tests.support.fixtures import openai_stub, openai_stub_factory  # noqa: F401
