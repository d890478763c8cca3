"""Block Kit for the cycle review (复盘): the owners' DM, the review modal, the review report.

Pure functions, within Slack's limits (50 blocks a message, 100 a modal, 3,000 characters a
section): what does not fit ends with "…and N more" and the command that shows the rest.
"""

from __future__ import annotations

import json
from typing import Any

from bot.common import views
from bot.okrs.actions import Action, Callback, Field
from bot.okrs.checks import fmt_number
from bot.okrs.modals import text_input
from bot.okrs.review import MET, Report, ReviewItem
from bot.okrs.scoring import CycleSpan, KrState
from bot.okrs.views import (
    MESSAGE_BUDGET,
    badge,
    bar,
    carry_button,
    esc,
    kr_line,
    share_actions,
    value,
)
from storage.models import Team

Block = views.Block
MODAL_BUDGET = views.VIEW_BLOCK_LIMIT - 2
CARRY_BUTTONS = 10
REFLECTION_SHOWN = 280


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def review_button(cycle_key: str, label: str = "Write the review") -> Block:
    return views.button(label, Action.REVIEW.for_id(cycle_key), cycle_key, style="primary")


def review_dm(
    *,
    span: CycleSpan,
    items: list[ReviewItem],
    unfinished: list[KrState],
    carry_to: CycleSpan | None,
) -> dict[str, Any]:
    """The owner's invitation, a week before the end: the button to the modal, and carry-overs."""
    krs = sum(len(i.state.krs) for i in items)
    lines = [
        f"`{i.state.ref}` {esc(i.state.objective.title)} — computed score *{i.state.score:.1f}*"
        for i in items[:10]
    ]
    if len(items) > 10:
        lines.append(f"…and {len(items) - 10} more")
    blocks: list[Block] = [
        views.header(f"Cycle review (复盘) · {span.key}"),
        views.section(
            f"Cycle {span.key} ends on {span.last_day:%A, %b %-d}. Time to look back: "
            + (
                f"give each of your {krs} key result{'s' if krs != 1 else ''} its final score (0.0–1.0 — "
                "the computed one is filled in) and write"
                if krs
                else "write"
            )
            + ", for each objective, what worked, what didn't and what next.",
            accessory=review_button(span.key),
        ),
    ]
    if lines:
        blocks.append(views.context("\n".join(lines)))
    if unfinished and carry_to is not None:
        blocks.append(
            views.section(
                f"*Not finished?* Carry a key result over into {carry_to.key}: a new key result there, "
                "starting where this one stands, with its history linked."
            )
        )
        for k in unfinished[:CARRY_BUTTONS]:
            kr = k.kr
            line = (
                f"`{k.ref}` {esc(_short(kr.title, 80))} — {value(kr.current, kr.unit)} of "
                f"{value(kr.target, kr.unit)} · {badge(k.status)}"
            )
            blocks.append(views.section(line, accessory=carry_button(k, carry_to)))
        if len(unfinished) > CARRY_BUTTONS:
            blocks.append(
                views.context(f"…and {len(unfinished) - CARRY_BUTTONS} more — `/okr carry KR-n` for each.")
            )
    blocks.append(
        views.context(
            f"The review is posted on {span.last_day:%b %-d} to the channels that follow it "
            "(`/okr review subscribe`). `/okr review` shows it any time."
        )
    )
    return views.message(
        f"Cycle {span.key} ends soon — time for the review", blocks[: views.MESSAGE_BLOCK_LIMIT]
    )


def review_modal(items: list[ReviewItem], *, cycle_key: str, metadata: dict[str, Any]) -> dict[str, Any]:
    """Per objective: each KR's final score (pre-filled: the owner's if given, else computed) and
    the three reflections. Objectives that do not fit in 100 blocks are named at the end."""
    blocks: list[Block] = [
        views.context(
            f"Cycle {cycle_key}. A final score is 0.0–1.0 (0.7 means met); "
            "leave the computed one if it is right."
        )
    ]
    shown: list[int] = []
    left = 0
    for item in items:
        s = item.state
        group: list[Block] = [
            views.divider(),
            views.section(f"*`{s.ref}` {esc(s.objective.title)}* · computed score {s.score:.1f}"),
        ]
        for k in s.krs:
            current = k.kr.final_score if k.kr.final_score is not None else k.score
            group.append(
                text_input(
                    Field.FINAL.nth(k.kr.id or 0),
                    f"{k.ref} {k.kr.title[:110]} — final score",
                    optional=True,
                    initial=f"{current:.1f}" if k.kr.final_score is None else fmt_number(current),
                    placeholder="0.0–1.0",
                    hint=(
                        f"Now {_plain(value(k.kr.current, k.kr.unit))} of "
                        f"{_plain(value(k.kr.target, k.kr.unit))} "
                        f"(from {_plain(value(k.kr.start, k.kr.unit))}) · computed {k.score:.1f}"
                    ),
                    max_length=8,
                )
            )
        r = item.reflection
        number = s.objective.id or 0
        for field, label, text in (
            (Field.WORKED, "what worked", r.worked if r else ""),
            (Field.DIDNT, "what didn't", r.didnt if r else ""),
            (Field.NEXT, "what next", r.next if r else ""),
        ):
            group.append(
                text_input(
                    field.nth(number),
                    f"{s.ref} · {label}",
                    optional=True,
                    initial=text or None,
                    multiline=True,
                    max_length=1000,
                )
            )
        if len(blocks) + len(group) > MODAL_BUDGET - 1:
            left += 1
            continue
        blocks.extend(group)
        shown.append(number)
    if left:
        blocks.append(
            views.context(
                f"…and {left} more objective{'s' if left != 1 else ''} — `/okr review write O-n` for each."
            )
        )
    return {
        "type": "modal",
        "callback_id": Callback.REVIEW.value,
        "title": views.plain(f"Review {cycle_key}"[:24]),
        "submit": views.plain("Save"),
        "close": views.plain("Cancel"),
        "private_metadata": json.dumps(metadata | {"cycle": cycle_key, "objectives": shown})[:3000],
        "blocks": blocks,
    }


def _plain(text: str) -> str:
    from bot.okrs.checks import plain_text

    return plain_text(text)


def review_saved(items: list[ReviewItem], *, span: CycleSpan) -> dict[str, Any]:
    lines = [
        f"`{i.state.ref}` {esc(i.state.objective.title)} — score *{i.score:.1f}* "
        + ("(met)" if i.met else "(missed)")
        + (
            " · reflection saved"
            if i.reflection and (i.reflection.worked or i.reflection.didnt or i.reflection.next)
            else ""
        )
        for i in items
    ]
    return views.message(
        "Review saved",
        [
            views.section(":white_check_mark: Review saved.\n" + "\n".join(lines)),
            views.context(
                f"It is part of the cycle review posted on {span.last_day:%b %-d} — `/okr review` shows it; "
                "you can change it until two weeks after the cycle ends."
            ),
        ],
    )


def _distribution(report: Report) -> str:
    rows = report.distribution
    total = sum(n for _, _, n in rows) or 1
    return "\n".join(
        f"`{band}` {bar(n / total)} {n} key result{'s' if n != 1 else ''} — {meaning}"
        for band, meaning, n in rows
    )


def _items_line(items: list[ReviewItem], limit: int = 12) -> str:
    parts = [
        f"`{i.state.ref}` {esc(_short(i.state.objective.title, 60))} *{i.score:.1f}*" for i in items[:limit]
    ]
    if len(items) > limit:
        parts.append(f"…and {len(items) - limit} more")
    return " · ".join(parts) or "none"


def _reflection_text(item: ReviewItem) -> str | None:
    r = item.reflection
    if r is None or not (r.worked or r.didnt or r.next):
        return None
    parts = []
    for label, text in (("Worked", r.worked), ("Didn't", r.didnt), ("Next", r.next)):
        if text:
            parts.append(f"_{label}:_ {esc(_short(text, REFLECTION_SHOWN))}")
    o = item.state.objective
    head = f"*`{item.state.ref}` {esc(_short(o.title, 80))}* · {item.score:.1f} · <@{o.owner_id}>"
    return head + "\n" + "\n".join(parts)


def review_message(report: Report, *, share_value: str | None, in_channel: bool = False) -> dict[str, Any]:
    """The review of a cycle for a team or the company: figures, distribution, met and missed,
    the per-team lines (company) and the reflections, within one message."""
    scope = esc(report.team.name) if report.team else "Company"
    span = report.span
    status = (
        "final"
        if report.final
        else f"in progress — the cycle ends {span.last_day:%b %-d}; scores can still change"
    )
    blocks: list[Block] = [
        views.header(f"Cycle review (复盘) · {span.key} · {report.team.name if report.team else 'Company'}"),
        views.context(f"{span.starts_on:%b %-d} – {span.last_day:%b %-d, %Y} · {status}"),
    ]
    if not report.items:
        blocks.append(views.section(f"{scope} has no objectives in cycle {span.key}."))
        if not in_channel:
            blocks.extend(share_actions(share_value))
        return views.message(
            f"Cycle review {span.key} · {scope}: no objectives", blocks, in_channel=in_channel
        )
    wrote, owners = report.owners
    krs = len(report.kr_scores)
    blocks.append(
        views.section(
            f"*{len(report.items)} objective{'s' if len(report.items) != 1 else ''}* · {krs} key results · "
            f"average score *{report.average:.2f}* · *{len(report.met)} met* (≥ {MET}), "
            f"*{len(report.missed)} missed* · {wrote} of {owners} owner{'s' if owners != 1 else ''} reviewed"
        )
    )
    blocks.append(views.section("*Key result scores*\n" + _distribution(report)))
    blocks.append(views.section(f"*Met* — {_items_line(report.met)}"))
    blocks.append(views.section(f"*Missed* — {_items_line(report.missed)}"))
    if report.teams:
        lines = [
            f"{esc(t.team.name) if t.team else 'No team'}: "
            f"{t.objectives} objective{'s' if t.objectives != 1 else ''} · "
            f"average {t.average:.2f} · {t.met} met"
            for t in report.teams
        ]
        blocks.extend(views.sections("*By team*\n" + "\n".join(lines)))
    # Reflections: the company review shows the company-level objectives' (top of the tree), a team
    # review its own; the rest is one command or the export away.
    pool = [i for i in report.items if report.team is not None or not i.state.objective.parent_id]
    texts = [t for t in (_reflection_text(i) for i in pool) if t]
    budget = MESSAGE_BUDGET - len(blocks) - 2
    if texts:
        blocks.append(views.section("*Reflections*"))
        shown = 0
        for text in texts:
            if shown >= budget:
                break
            blocks.append(views.section(text))
            shown += 1
        if len(texts) > shown:
            blocks.append(views.context(f"…and {len(texts) - shown} more reflections."))
    else:
        elsewhere = sum(1 for i in report.items if _reflection_text(i))
        blocks.append(
            views.context(
                f"{elsewhere} reflection{'s are' if elsewhere != 1 else ' is'} in the team reviews — "
                "`/okr review &lt;team&gt;`."
                if elsewhere
                else "No reflections written yet."
            )
        )
    blocks.append(
        views.context(
            "Team reviews: `/okr review &lt;team&gt;` · everything: "
            f"`flywheel export review --cycle {span.key} --format md`"
        )
    )
    blocks = blocks[:MESSAGE_BUDGET]
    if not in_channel:
        blocks.extend(share_actions(share_value))
    fallback = (
        f"Cycle review {span.key} · {report.team.name if report.team else 'Company'}: "
        f"{len(report.met)} met, {len(report.missed)} missed, average {report.average:.2f}"
    )
    return views.message(fallback, blocks, in_channel=in_channel)


def subscribed(
    channel_id: str, team: Team | None, *, on: bool, changed: bool, others: list[str]
) -> dict[str, Any]:
    what = f"{esc(team.name)}'s cycle review" if team else "the company's cycle review"
    if on:
        head = (
            f":white_check_mark: <#{channel_id}> will get {what} on each cycle's last day."
            if changed
            else f"<#{channel_id}> already gets {what}."
        )
    else:
        head = (
            f":white_check_mark: <#{channel_id}> will no longer get {what}."
            if changed
            else f"<#{channel_id}> was not getting {what}."
        )
    lines = [head]
    if others:
        lines.append("This channel gets: " + ", ".join(others) + ".")
    if on and changed:
        lines.append("Flywheel must be in the channel to post (`/invite @Flywheel`).")
    return views.message(plain_fallback(head), [views.section("\n".join(lines))])


def plain_fallback(text: str) -> str:
    return text.replace(":white_check_mark: ", "")


def carried(
    new: KrState, old_ref: str, objective_ref: str, cycle_key: str, *, in_channel: bool = False
) -> dict[str, Any]:
    return views.message(
        f"Carried {old_ref} over as {new.ref}",
        [
            views.section(
                f":arrows_counterclockwise: Carried `{old_ref}` over into cycle {cycle_key} as `{new.ref}` "
                f"(in `{objective_ref}`):\n{kr_line(new)}"
            ),
            views.context(f"Its history links back: `/okr history {new.ref}`."),
        ],
        in_channel=in_channel,
    )
