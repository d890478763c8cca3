"""The demo's own commands beyond the simulator's: move the bot's clock and run its periodic jobs.

`clock +6d` makes every feature see a later "now" (SLA clocks, reminders, the cycle review…);
`jobs` runs the periodic jobs at once, so what they would announce later shows now. Features name
moments worth jumping to (`clock review`: the last week of the OKR cycle) through `named_points`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot import jobs
from bot.context import AppContext
from bot.simulator.repl import DemoShell, ExtraCommand

_OFFSET = re.compile(r"^([+-])\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)$", re.IGNORECASE)
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _show(ctx: AppContext) -> str:
    now = ctx.clock.now()
    note = "" if ctx.clock.is_real else " (moved; `clock reset` for real time)"
    return f"bot clock: {now:%a %Y-%m-%d %H:%M} UTC{note}"


def named_points(ctx: AppContext) -> dict[str, tuple[datetime, str]]:
    """Moments features offer to `clock <name>`: name → (when, what happens then)."""
    points: dict[str, tuple[datetime, str]] = {}
    try:
        from bot.okrs.demo import clock_points
    except ImportError:
        return points
    points.update(clock_points(ctx))
    return points


def clock_command(ctx: AppContext) -> ExtraCommand:
    def run(shell: DemoShell, rest: str) -> bool:
        arg = rest.strip()
        if not arg:
            shell.say(_show(ctx))
            return True
        named = named_points(ctx)
        if arg.lower() in named:
            when, what = named[arg.lower()]
            ctx.clock.advance(when - ctx.clock.now())
            shell.say(f"{_show(ctx)} — {what}")
            return True
        if arg.lower() == "reset":
            ctx.clock.reset()
            shell.say(_show(ctx))
            return True
        match = _OFFSET.match(arg)
        if match:
            sign, amount, unit = match.groups()
            delta = timedelta(**{_UNITS[unit.lower()]: float(amount)})
            ctx.clock.advance(delta if sign == "+" else -delta)
            shell.say(_show(ctx))
            return True
        try:
            target = datetime.fromisoformat(arg)
        except ValueError:
            names = " | ".join(named)
            raise ValueError(
                "usage: clock [+3d | +2h | -30m | 2026-12-24 09:00 | reset"
                + (f" | {names}]" if names else "]")
            ) from None
        target = target if target.tzinfo else target.replace(tzinfo=UTC)
        ctx.clock.advance(target - ctx.clock.now())
        shell.say(_show(ctx))
        return True

    return run


def jobs_command(ctx: AppContext, client: object) -> ExtraCommand:
    def run(shell: DemoShell, rest: str) -> bool:
        if not ctx.jobs:
            shell.say("(no periodic jobs registered)")
            return True
        failures = jobs.run_all(ctx, client)
        shell.say(f"ran {len(ctx.jobs)} periodic jobs: {', '.join(j.name for j in ctx.jobs)}")
        shell.after(None)
        return failures == 0

    return run


def extra_commands(ctx: AppContext, client: object) -> dict[str, tuple[str, ExtraCommand]]:
    return {
        "clock": (
            "clock [+3d|+2h|-30m|YYYY-MM-DD HH:MM|reset|review|last-day|next-cycle|drafting]"
            "   show or move the bot's clock",
            clock_command(ctx),
        ),
        "jobs": (
            "jobs                      run the bot's periodic jobs now (SLA watcher, reminders…)",
            jobs_command(ctx, client),
        ),
    }
