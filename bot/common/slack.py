"""Listener plumbing shared by every feature: safe acknowledgement and user-facing errors.

A listener wrapped with `guarded` never lets a traceback reach Slack: a `UserError` is shown as
it is, anything else is logged with its traceback and the user gets one calm line.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from bot.common import views
from bot.common.errors import UserError

log = logging.getLogger(__name__)

SORRY = "Sorry — something went wrong on our side. It has been logged; please try again in a moment."


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an ack-phase listener (it must take `ack` and `body`, and may take more Bolt args)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ack = kwargs.get("ack")
        try:
            return fn(*args, **kwargs)
        except UserError as err:
            if ack is not None and not getattr(ack, "response", None):
                ack(**views.error_message(str(err)))
            else:
                _respond(kwargs, views.error_message(str(err)))
        except Exception:
            log.exception("listener %s failed", fn.__name__)
            if ack is not None and not getattr(ack, "response", None):
                ack(**views.error_message(SORRY))
            else:
                _respond(kwargs, views.error_message(SORRY))
        return None

    return wrapper


def _respond(kwargs: dict[str, Any], payload: dict[str, Any]) -> None:
    respond = kwargs.get("respond")
    if respond is None:
        return
    try:
        respond(**payload)
    except Exception:
        log.exception("could not tell the user about an error")


def is_help(text: str) -> bool:
    return (text or "").strip().lower() in ("help", "-h", "--help", "?")


def register_help_only(app: Any, command: str, help_payload: Callable[[], dict[str, Any]]) -> None:
    """A command whose feature has not landed yet: `help` shows the grammar, anything else says so."""

    @app.command(command)
    def _only_help(ack: Any, command: dict[str, Any]) -> None:
        if is_help(command.get("text", "")) or not (command.get("text") or "").strip():
            ack(**help_payload())
        else:
            ack(
                **views.error_message(
                    f"`{command['command']} {command.get('text', '').strip()}` is not available "
                    f"in this version of Flywheel yet. "
                    f"Type `{command['command']} help` to see what the command will do."
                )
            )
