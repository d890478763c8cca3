from tests.support.fixtures import openai_stub  # noqa: F401
