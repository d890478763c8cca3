"""Input checks shared by every entry point (command, modal, CSV, demo): pure, no session, no Slack.

One place decides what a title, a number, a weight or a check-in value may be, so `/okr kr`,
the create modal and `flywheel import okrs` refuse the same things with the same words. Messages
are mrkdwn (user text in them is escaped); modal errors turn them into plain text.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from bot.common.errors import UserError
from bot.common.views import escape

TITLE_LIMIT = 200
DESCRIPTION_LIMIT = 2000
NOTE_LIMIT = 2000
UNIT_LIMIT = 32
REFLECTION_LIMIT = 1000

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_QUOTES = {'"': '"', "“": "”", "'": "'", "「": "」", "『": "』"}


def clean_text(text: str | None, *, what: str, limit: int, required: bool = True) -> str:
    """NFC, no control or direction-override characters, trimmed; empty or too long is refused."""
    cleaned = _CONTROL.sub("", unicodedata.normalize("NFC", text or "")).strip()
    cleaned = re.sub(r"[ \t]+", " ", cleaned)
    if required and not cleaned:
        raise UserError(f"The {what} is empty — please write one.")
    if len(cleaned) > limit:
        raise UserError(f"The {what} is {len(cleaned)} characters long; the limit is {limit}.")
    return cleaned


def plain_text(message: str) -> str:
    """A mrkdwn message as plain text (modal errors, the CLI): no `&lt;` escapes, no backticks."""
    import html

    return html.unescape(message.replace("`", ""))


def clean_title(
    text: str | None, *, what: str, limit: int = TITLE_LIMIT, example: str = "Make checkout effortless"
) -> str:
    """A title: `clean_text`, one pair of surrounding quotes dropped, and at least one letter or digit.

    `/okr new "` would otherwise create an objective called `"`; `/okr new "Grow revenue"` means
    the words, not the quotes. Any script counts (`增长` is letters).
    """
    cleaned = clean_text(text, what=what, limit=limit + 2)
    if len(cleaned) >= 2 and _QUOTES.get(cleaned[0]) == cleaned[-1]:
        cleaned = cleaned[1:-1].strip()
    if not any(ch.isalnum() for ch in cleaned):
        shown = escape(cleaned[:20]) or "(nothing)"
        raise UserError(
            f"The {what} `{shown}` has no letters or digits — write what it is about, e.g. `{example}`."
        )
    if len(cleaned) > limit:
        raise UserError(f"The {what} is {len(cleaned)} characters long; the limit is {limit}.")
    return cleaned


def parse_number(text: str | None, *, what: str = "value") -> float:
    """`42`, `-3.5`, `1,200` → a finite float; anything else names the problem."""
    raw = (text or "").strip().replace("_", "")
    if _THOUSANDS.match(raw):
        raw = raw.replace(",", "")
    if not raw or not _NUMBER.match(raw):
        shown = escape((text or "").strip()[:40]) or "(nothing)"
        raise UserError(f"The {what} `{shown}` is not a number — expected something like `42` or `12.5`.")
    value = float(raw)
    if not math.isfinite(value) or abs(value) > 1e15:
        raise UserError(f"The {what} `{escape(raw[:40])}` is out of range.")
    return value


def check_confidence(confidence: int | None) -> int | None:
    if confidence is None:
        return None
    if isinstance(confidence, float) and not confidence.is_integer():
        raise UserError(f"Confidence `{confidence}` must be a whole number from 1 to 10.")
    if not 1 <= int(confidence) <= 10:
        raise UserError(f"Confidence `{confidence:g}` is outside 1–10 — use 1 (no chance) to 10 (certain).")
    return int(confidence)


def check_weight(weight: float | None) -> float | None:
    """A KR's share of its objective, 0 to 1 (None: not set — it shares what the others leave)."""
    if weight is None:
        return None
    if not math.isfinite(weight) or not 0 <= weight <= 1:
        raise UserError(
            f"Weight `{weight:g}` must be from 0 to 1 — a share of the objective, like `0.3` or `30%`."
        )
    return round(weight, 6)


def parse_weight(text: str | None) -> float | None:
    """`0.3`, `30%` → 0.3; empty → None (not set)."""
    raw = (text or "").strip()
    if not raw:
        return None
    if raw.endswith("%"):
        return check_weight(parse_number(raw[:-1], what="weight") / 100)
    return check_weight(parse_number(raw, what="weight"))


def check_target(start: float, target: float) -> None:
    if start == target:
        raise UserError(
            f"The target equals the start ({fmt_number(start)}), so progress cannot be measured — "
            "set a target above the start, or below it for a value you want to reduce."
        )


def fmt_number(value: float) -> str:
    """12.0 → `12`, 0.125 → `0.125`: short, exact enough, and round-trips through the CSV."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}" if abs(value) >= 1e-4 else repr(value)


def fmt_value(number: float, unit: str) -> str:
    """A value with its unit as people write it: `40%`, `$90`, `300 ms` (unit escaped for mrkdwn)."""
    unit = unit.strip()
    if not unit:
        return fmt_number(number)
    if unit == "%":
        return f"{fmt_number(number)}%"
    if unit in ("$", "€", "£", "¥"):
        return f"{unit}{fmt_number(number)}"
    return f"{fmt_number(number)} {escape(unit)}"


# --------------------------------------------------------------------------------------------
# Check-in values: what was typed, what it means for this KR, and what the unit allows
# --------------------------------------------------------------------------------------------

# Units whose values can be negative even when the KR's start and target are not.
SIGNED_UNITS = {"points", "pts", "pt", "pp", "score", "°", "°c", "°f", "degrees", "delta", "net"}
CURRENCIES = {"$", "€", "£", "¥", "k$", "m$", "$k", "$m"}
_RATING = re.compile(r"^/\s*(\d+(?:\.\d+)?)$")


class Mode(StrEnum):
    """How a check-in's number was given."""

    VALUE = "value"  # `35`: the KR's value
    PERCENT = "percent"  # `35%`: the value on a %-KR, a share of the way on any other
    PROGRESS = "progress"  # `progress:35%` (or `35% of the way`): always a share of the way


def is_percent_unit(unit: str) -> bool:
    return unit.strip().lower() in ("%", "percent", "pct")


@dataclass(frozen=True)
class Resolved:
    value: float
    understood: str | None  # how a `%` or a progress was read, for the confirmation


def resolve(*, start: float, target: float, unit: str, number: float, mode: Mode) -> Resolved:
    """The value a check-in records. `60%` is the unit on a %-KR and only there; a share of the way
    is `progress:60%` everywhere (and `60%` on a KR that is not measured in %, where it cannot be a
    value). The confirmation says which reading was taken."""
    way = f"from {fmt_value(start, unit)} to {fmt_value(target, unit)}"
    if mode == Mode.VALUE:
        return Resolved(number, None)
    if mode == Mode.PERCENT and is_percent_unit(unit):
        return Resolved(
            number,
            f"`{fmt_number(number)}%` is the value {fmt_value(number, unit)} "
            f"(for a share of the way {way}, use `progress:{fmt_number(number)}%`).",
        )
    value = round(start + (target - start) * number / 100.0, 9)
    value = float(f"{value:.10g}")
    if mode == Mode.PERCENT:
        return Resolved(
            value,
            f"`{fmt_number(number)}%` is read as {fmt_number(number)}% of the way {way}: "
            f"{fmt_value(value, unit)} (this key result is not measured in %).",
        )
    return Resolved(
        value,
        f"Progress {fmt_number(number)}% is {fmt_number(number)}% of the way {way}: "
        f"{fmt_value(value, unit)}.",
    )


def limits(*, start: float, target: float, unit: str) -> tuple[float | None, float | None, str]:
    """The values this KR's unit makes impossible: (lowest, highest, what the unit is), or Nones.

    * a share (`%` with start and target within 0–100) lies within 0–100 %;
    * a rating (`/5`) lies within 0 and its scale;
    * anything else measured from zero up — counts, durations, sizes, unit-less whole numbers —
      cannot be negative, unless its unit is a signed one (`points`, `pp`, `°C`, money…).
    A KR whose own start or target lies outside those bounds is evidently not such a quantity.
    """
    u = unit.strip().lower()
    lo, hi = min(start, target), max(start, target)
    if is_percent_unit(u):
        if lo >= 0 and hi <= 100:
            return 0.0, 100.0, "a share"
        return None, None, ""
    rating = _RATING.match(u)
    if rating:
        scale = float(rating.group(1))
        if lo >= 0 and hi <= scale:
            return 0.0, scale, f"a rating out of {fmt_number(scale)}"
        return None, None, ""
    if u in SIGNED_UNITS or u in CURRENCIES or lo < 0:
        return None, None, ""
    if not u and not (start == int(start) and target == int(target)):
        return None, None, ""  # a unit-less ratio like 0.4 → 0.6: nothing to assume
    return 0.0, None, ("a count" if not u else f"a quantity in {escape(unit.strip())}")


def check_value(*, start: float, target: float, unit: str, value: float) -> list[str]:
    """Refuse values the unit makes impossible; return notes for values outside start…target.

    Out-of-range values are real (over-achievement, a setback), so they are recorded — but the
    answer says so, because a typo (`1000` for `10.00`) looks the same.
    """
    low, high, what = limits(start=start, target=target, unit=unit)
    shown = fmt_value(value, unit)
    if low is not None and value < low:
        raise UserError(
            f"{shown} is impossible here: this key result measures {what}, which cannot be below "
            f"{fmt_value(low, unit)}. Nothing was recorded."
        )
    if high is not None and value > high:
        raise UserError(
            f"{shown} is impossible here: this key result measures {what}, which cannot be above "
            f"{fmt_value(high, unit)}. Nothing was recorded."
        )
    notes: list[str] = []
    beyond_target = (value > target) if target > start else (value < target)
    behind_start = (value < start) if target > start else (value > start)
    if beyond_target:
        notes.append(
            f"{shown} is past the target {fmt_value(target, unit)} — recorded; progress counts as 100%."
        )
    elif behind_start:
        notes.append(
            f"{shown} is behind the start {fmt_value(start, unit)} — recorded; progress counts as 0%."
        )
    return notes
