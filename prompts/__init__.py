"""Prompt templates, kept as files so they are reviewed like code and never inlined.

A template is Markdown with `$name` placeholders (`string.Template`: a single substitution
pass, so `$` or `{}` inside thread text is never re-interpreted) and optional role markers —
a line `=== system ===` or `=== user ===` — that split it into chat messages.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from string import Template

HERE = Path(__file__).resolve().parent
_ROLE = re.compile(r"^=== (system|user|assistant) ===[ \t]*$", re.MULTILINE)


class PromptError(Exception):
    """A template is missing, or a placeholder was not given a value."""


@lru_cache(maxsize=64)
def _source(name: str) -> str:
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise PromptError(f"bad prompt name {name!r}")
    for suffix in (".md", ".txt"):
        path = HERE / f"{name}{suffix}"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise PromptError(f"no prompt template named {name!r} in {HERE}")


def load(name: str, **variables: object) -> str:
    """The template `name` with every `$placeholder` filled; a missing value is an error."""
    try:
        return Template(_source(name)).substitute({k: str(v) for k, v in variables.items()})
    except KeyError as exc:
        raise PromptError(f"prompt {name!r} needs a value for {exc.args[0]!r}") from None


def messages(name: str, **variables: object) -> list[dict[str, str]]:
    """The template as chat messages, split at its `=== role ===` lines (all `user` without any)."""
    text = load(name, **variables)
    parts = _ROLE.split(text)
    if len(parts) == 1:
        return [{"role": "user", "content": text.strip()}]
    out: list[dict[str, str]] = []
    # parts = [preamble, role1, body1, role2, body2, ...]; the preamble is a comment for humans.
    for role, body in zip(parts[1::2], parts[2::2], strict=True):
        if body.strip():
            out.append({"role": role, "content": body.strip()})
    return out


def system_text(name: str, **variables: object) -> str:
    """The system part of a template, e.g. to check that an answer does not echo it.

    Placeholders of the other parts need no value here.
    """
    parts = _ROLE.split(_source(name))
    bodies = [body for role, body in zip(parts[1::2], parts[2::2], strict=True) if role == "system"]
    values = {k: str(v) for k, v in variables.items()}
    return "\n".join(Template(b).safe_substitute(values).strip() for b in bodies)
