"""Errors whose message is meant for the user.

A service raises `UserError` when input is bad or an action is not allowed; the listener shows
the message as it is. Anything else is a bug: logged in full, shown to the user as one line.
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input or a refused action; `str(err)` is shown to the user verbatim."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class NotFound(UserError):
    """Unknown or invisible record. Confidential records raise this too, revealing nothing."""


class Forbidden(UserError):
    """The actor may read but not change this record."""
