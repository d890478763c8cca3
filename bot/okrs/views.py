"""Block Kit for /okr: pure functions from service results to message and Home payloads
(modals are in `modals.py`, the cycle review in `review_views.py`).

Every builder keeps within Slack's limits (50 blocks a message, 100 a modal or Home, 3,000
characters a section): long lists end with "and N more" and a command to drill down.
"""

from __future__ import annotations

from typing import Any

from bot.common import views
from bot.common.ids import Kind, format_id
from bot.okrs.actions import Action
from bot.okrs.checks import fmt_number, fmt_value
from bot.okrs.csv_io import IMPORT_AUTHOR
from bot.okrs.queries import CycleInfo, History, RiskItem, SearchHit, Tree, TreeNode
from bot.okrs.scoring import CycleSpan, KrState, ObjectiveState, Status
from storage.models import Team
from storage.models.okrs import Objective

Block = views.Block
# Leave room for the header, the footer and the share button.
MESSAGE_BUDGET = views.MESSAGE_BLOCK_LIMIT - 4

HELP = [
    ("/okr  ·  /okr mine", "your objectives and key results in the current cycle"),
    ("/okr @user [@user…]  ·  /okr team <name>  ·  /okr O-12", "people's, a team's, or one objective"),
    ("/okr tree [team]", "the alignment tree from company objectives down"),
    ("/okr new [cycle:<key>]", "create an objective in a form"),
    ("/okr new <title> [team:<name>] [parent:O-n] [cycle:<key>]", "quick create"),
    (
        "/okr kr O-n <title> target:<number> [start:<number>] [unit:<text>] [weight:<0–1>]",
        "add a key result (weight: its share of the objective)",
    ),
    ("/okr checkin KR-n <value> [confidence:<1-10>] [note…]", "record progress"),
    ("/okr checkin KR-n progress:<0–100>% [note…]", "record progress as a share of the way"),
    ("/okr history KR-n  ·  /okr search <words>", "a key result's check-ins; search titles and notes"),
    ("/okr cycle  ·  /okr atrisk [team]", "the current cycle with days left; key results at risk"),
    ("/okr review [team] [cycle:<key>]", "the cycle review (复盘): scores, met and missed, reflections"),
    ("/okr review write [O-n]", "give final scores and write your reflections"),
    ("/okr review subscribe [team]  ·  unsubscribe [team]", "post the review here on the cycle's last day"),
    ("/okr carry KR-n", "carry an unfinished key result over into the next cycle"),
]

STATUS_ICON = {
    Status.DONE: ":white_check_mark:",
    Status.ON_TRACK: ":large_green_circle:",
    Status.AT_RISK: ":large_yellow_circle:",
    Status.OFF_TRACK: ":red_circle:",
    Status.NOT_STARTED: ":white_circle:",
}


def help_message() -> dict[str, Any]:
    return views.help_message(
        "/okr — objectives and key results",
        HELP,  # escaped by the shared helper
        "Every OKR is visible to everyone; add `share` (first or last word) to post in the channel. "
        "On a key result measured in %, `60%` is the value 60%; a share of the way is "
        "`progress:60%` (or `60% of the way`). "
        "Read-only forms also take `cycle:2026-09` for another cycle.",
    )


def add_context(payload: dict[str, Any], text: str) -> dict[str, Any]:
    """One more context line on a message, above its Share button (e.g. what was ignored)."""
    blocks = list(payload.get("blocks") or [])
    at = len(blocks) - 1 if blocks and blocks[-1].get("type") == "actions" else len(blocks)
    blocks.insert(at, views.context(text))
    return payload | {"blocks": blocks[: views.MESSAGE_BLOCK_LIMIT]}


# ---- small pieces ----------------------------------------------------------------------------


def oid(number: int | None) -> str:
    return format_id(Kind.OBJECTIVE, number or 0)


def esc(text: str) -> str:
    """Escape user text for mrkdwn, so a title cannot forge a mention or a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_BARS = ["`" + "▓" * i + "░" * (10 - i) + "`" for i in range(11)]


def bar(progress: float, width: int = 10) -> str:
    filled = round(max(0.0, min(1.0, progress)) * width)
    return _BARS[filled] if width == 10 else "`" + "▓" * filled + "░" * (width - filled) + "`"


def badge(status: Status | None) -> str:
    if status is None:
        return ":white_circle: no key results yet"
    return f"{STATUS_ICON[status]} {status.value}"


def weight_label(k: KrState) -> str:
    """` · weight 0.4` next to a KR: its weight as set, and its real share when that differs."""
    set_weight = k.kr.weight
    if set_weight is None:  # equal shares say nothing; next to set weights, the share it gets
        return f" · weight {fmt_number(round(k.weight, 2))} (not set)" if k.weighted else ""
    shown = f" · weight {fmt_number(round(set_weight, 3))}"
    if abs(set_weight - k.weight) > 0.005:
        shown += f" (counts {fmt_number(round(k.weight, 2))})"
    return shown


def confidence_label(k: KrState) -> str:
    if k.confidence is not None:
        return f" · confidence {k.confidence}/10"
    if k.stale_confidence:
        return f" · confidence {k.kr.confidence}/10 (over 14 days old, not counted)"
    return ""


def value(number: float, unit: str) -> str:
    return fmt_value(number, unit)


def who(user_id: str) -> str:
    return "the CSV import" if user_id == IMPORT_AUTHOR else f"<@{user_id}>"


def kr_line(k: KrState) -> str:
    kr = k.kr
    return (
        f"`{k.ref}` {esc(kr.title)}\n"
        f"{bar(k.progress)} {round(k.progress * 100)}% · {value(kr.current, kr.unit)} "
        f"(from {value(kr.start, kr.unit)} to {value(kr.target, kr.unit)}){weight_label(k)}"
        f"{confidence_label(k)} · {badge(k.status)}"
    )


def objective_line(s: ObjectiveState) -> str:
    o = s.objective
    team = f"{esc(s.team.name)} · " if s.team else ""
    parent = f" · aligned to `{format_id(Kind.OBJECTIVE, o.parent_id)}`" if o.parent_id else ""
    warning = f"\n:warning: {esc(s.weights_warning)}" if s.weights_warning else ""
    return (
        f"*`{s.ref}` {esc(o.title)}*\n"
        f"{team}<@{o.owner_id}> · score *{s.score:.1f}* {bar(s.progress)} · {badge(s.status)}{parent}"
        f"{warning}"
    )


def checkin_button(k: KrState) -> Block:
    return views.button("Check in", Action.CHECKIN.for_id(k.kr.id or 0), str(k.kr.id))


def open_button(objective_id: int, label: str = "Open") -> Block:
    return views.button(label, Action.OPEN_OBJECTIVE.for_id(objective_id), str(objective_id))


def objective_blocks(s: ObjectiveState, *, checkin_buttons: bool = True, kr_limit: int = 25) -> list[Block]:
    """One section for the objective, one per KR (with its Check-in button)."""
    blocks: list[Block] = [views.section(objective_line(s))]
    for k in s.krs[:kr_limit]:
        extra = {"accessory": checkin_button(k)} if checkin_buttons else {}
        blocks.append(views.section(kr_line(k), **extra))
    if len(s.krs) > kr_limit:
        blocks.append(views.context(f"…and {len(s.krs) - kr_limit} more key results — `/okr {s.ref}`"))
    if not s.krs:
        blocks.append(
            views.context(
                f"No key results yet — add one with `/okr kr {s.ref} &lt;title&gt; target:&lt;number&gt;`"
            )
        )
    return blocks


def share_actions(share_value: str | None) -> list[Block]:
    if not share_value:
        return []
    return [views.actions(views.button("Share in channel", Action.SHARE.value, share_value))]


def _fit(groups: list[list[Block]], budget: int, more: str) -> tuple[list[Block], int]:
    """Whole groups while they fit in `budget` blocks; returns the blocks and how many were left out."""
    out: list[Block] = []
    for i, group in enumerate(groups):
        if len(out) + len(group) > budget:
            left = len(groups) - i
            out.append(views.context(more.format(n=left)))
            return out, left
        out.extend(group)
    return out, 0


# ---- messages --------------------------------------------------------------------------------


def objectives_message(
    title: str,
    states: list[ObjectiveState],
    *,
    cycle_line: str,
    empty: str,
    share_value: str | None,
    in_channel: bool = False,
) -> dict[str, Any]:
    """`/okr mine`, `/okr @user`, `/okr team`: each objective with its KRs, progress and status."""
    blocks: list[Block] = [views.section(f"*{title}*"), views.context(cycle_line)]
    if not states:
        blocks.append(views.section(empty))
    groups = [objective_blocks(s) + [views.divider()] for s in states]
    fitted, _ = _fit(
        groups, MESSAGE_BUDGET - len(blocks), "…and {n} more objectives — open one with `/okr O-n`."
    )
    blocks.extend(fitted)
    if not in_channel:
        blocks.extend(share_actions(share_value))
    fallback = f"{title}: " + "; ".join(f"{s.ref} {s.objective.title} ({s.score:.1f})" for s in states[:10])
    return views.message(fallback if states else f"{title}: {empty}", blocks, in_channel=in_channel)


def objective_message(
    s: ObjectiveState, *, share_value: str | None, in_channel: bool = False
) -> dict[str, Any]:
    """`/okr O-12`: the objective, its KRs, its parent and its aligned children."""
    o = s.objective
    blocks: list[Block] = objective_blocks(s)
    if o.description:
        blocks.insert(1, views.context(esc(o.description)[:2900]))
    blocks.append(views.context(f"Cycle {o.cycle_key}"))
    if s.parent is not None:
        parent_line = f"Aligned to `{format_id(Kind.OBJECTIVE, s.parent.id or 0)}` {esc(s.parent.title)}"
        blocks.append(views.section(parent_line, accessory=open_button(s.parent.id or 0)))
    if s.children:
        lines = [
            f"`{c.ref}` {esc(c.objective.title)} — <@{c.objective.owner_id}> · {c.score:.1f} "
            f"{bar(c.progress)} {badge(c.status)}"
            for c in s.children[:40]
        ]
        more = f"\n…and {len(s.children) - 40} more" if len(s.children) > 40 else ""
        blocks.append(views.section(f"*Aligned objectives ({len(s.children)})*"))
        blocks.extend(views.sections("\n".join(lines) + more))
        drill = [open_button(c.objective.id or 0, c.ref) for c in s.children[:5]]
        blocks.append(views.actions(*drill))
    blocks = blocks[:MESSAGE_BUDGET]
    if not in_channel:
        blocks.extend(share_actions(share_value))
    return views.message(f"{s.ref} {o.title} — score {s.score:.1f}", blocks, in_channel=in_channel)


def _tree_line(node: TreeNode, depth: int) -> str:
    s = node.state
    assert s is not None
    o = s.objective
    indent = "      " * depth + ("↳ " if depth else "")
    team = f" · {esc(s.team.name)}" if s.team and depth else ""
    return (
        f"{indent}`{s.ref}` *{esc(o.title[:90])}*{team} · <@{o.owner_id}> · {s.score:.1f} "
        f"{STATUS_ICON[s.status] if s.status else ':white_circle:'}"
    )


def tree_message(tree: Tree, *, share_value: str | None, in_channel: bool = False) -> dict[str, Any]:
    """The alignment tree, three levels, within Slack's limits.

    Each company objective is one section (its subtree as indented lines, split at 3,000 chars)
    with an Open button. The service decided which nodes to show (they carry a `state`); what is
    left out is counted: "…and N more aligned to `O-1`", with the command or button to drill down.
    """
    scope = f"team {esc(tree.team.name)}" if tree.team else "company"
    blocks: list[Block] = [
        views.header(f"OKR tree · {tree.cycle_key}"),
        views.context(
            f"{tree.total} objectives in the {scope} tree · :large_green_circle: on track · "
            ":large_yellow_circle: at risk · :red_circle: off track"
        ),
    ]
    if not tree.roots:
        blocks.append(views.section("No objectives in this cycle yet. Create one with `/okr new`."))
    shown_roots = 0
    for root in tree.roots:
        if root.state is None or len(blocks) >= MESSAGE_BUDGET - 2:
            break
        shown_roots += 1
        lines = [_tree_line(root, 0)]
        children = [c for c in root.children if c.state is not None]
        for child in children:
            lines.append(_tree_line(child, 1))
            grandchildren = [g for g in child.children if g.state is not None]
            lines.extend(_tree_line(g, 2) for g in grandchildren)
            hidden = child.descendants - len(grandchildren)
            if hidden > 0:
                lines.append(f"{'      ' * 2}…and {hidden} more under `{oid(child.objective.id)}`")
        if len(root.children) > len(children):
            lines.append(
                f"      …and {len(root.children) - len(children)} more aligned to "
                f"`{oid(root.objective.id)}` — `/okr {oid(root.objective.id)}`"
            )
        for i, piece in enumerate(views.split_text("\n".join(lines))):
            extra = {"accessory": open_button(root.objective.id or 0)} if i == 0 else {}
            blocks.append(views.section(piece, **extra))
    if len(tree.roots) > shown_roots:
        blocks.append(
            views.context(
                f"…and {len(tree.roots) - shown_roots} more top-level objectives — "
                "narrow it with `/okr tree &lt;team&gt;` or open one with `/okr O-n`."
            )
        )
    else:
        blocks.append(
            views.context("Drill down: `/okr tree &lt;team&gt;` · `/okr O-n` · `/okr team &lt;name&gt;`")
        )
    blocks = blocks[:MESSAGE_BUDGET]
    if not in_channel:
        blocks.extend(share_actions(share_value))
    return views.message(f"OKR tree {tree.cycle_key}: {tree.total} objectives", blocks, in_channel=in_channel)


def _checkin_lines(checkins: list[Any], unit: str) -> list[str]:
    lines = []
    for c in checkins:
        conf = f" · confidence {c.confidence}/10" if c.confidence is not None else ""
        note = f" — _{esc(c.note)}_" if c.note else ""
        when = f"<!date^{int(c.at.timestamp())}^{{date_short}}|{c.at:%Y-%m-%d}>"
        lines.append(f"{when} {value(c.value, unit)}{conf} · {who(c.author_id)}{note}")
    return lines


def history_message(
    h: History, *, share_value: str | None, in_channel: bool = False, carry_to: CycleSpan | None = None
) -> dict[str, Any]:
    """A KR's check-ins, then those of the KRs it continues (carried over from earlier cycles).

    `carry_to`: the cycle it can be carried over into now (adds a Carry over button)."""
    kr = h.kr
    blocks: list[Block] = [
        views.section(kr_line(h.state), accessory=checkin_button(h.state)),
        views.context(
            f"Part of `{format_id(Kind.OBJECTIVE, h.objective.id or 0)}` {esc(h.objective.title)} · "
            f"<@{h.objective.owner_id}> · cycle {h.objective.cycle_key}"
        ),
    ]
    if not h.checkins:
        blocks.append(views.section("No check-ins yet."))
    lines = _checkin_lines(h.checkins, kr.unit)
    if lines:
        blocks.append(views.section(f"*Check-ins ({h.total})*"))
        blocks.extend(views.sections("\n".join(lines)))
    if h.total > len(h.checkins):
        blocks.append(views.context(f"…and {h.total - len(h.checkins)} older check-ins (all are kept)."))
    for e in h.earlier:
        ref = format_id(Kind.KEY_RESULT, e.kr.id or 0)
        head = (
            f"*Carried over from `{ref}` in cycle {e.cycle_key}* — {value(e.kr.current, e.kr.unit)} "
            f"(from {value(e.kr.start, e.kr.unit)} to {value(e.kr.target, e.kr.unit)}), "
            f"{e.total} check-in{'s' if e.total != 1 else ''}"
        )
        blocks.append(views.section(head))
        if e.checkins:
            more = (
                f"\n…and {e.total - len(e.checkins)} more — `/okr history {ref}`"
                if e.total > len(e.checkins)
                else ""
            )
            blocks.extend(views.sections("\n".join(_checkin_lines(e.checkins, e.kr.unit)) + more))
    for later, cycle in h.carried_to:
        ref = format_id(Kind.KEY_RESULT, later.id or 0)
        blocks.append(
            views.context(f":arrow_right: Carried over to `{ref}` in cycle {cycle} — `/okr history {ref}`")
        )
    if carry_to is not None and not h.carried_to:
        blocks.append(views.actions(carry_button(h.state, carry_to)))
    blocks = blocks[:MESSAGE_BUDGET]
    if not in_channel:
        blocks.extend(share_actions(share_value))
    return views.message(f"{h.state.ref} {kr.title}: {fmt_number(kr.current)}", blocks, in_channel=in_channel)


def carry_button(k: KrState, to: CycleSpan) -> Block:
    return views.button(f"Carry {k.ref} over to {to.key}", Action.CARRY.for_id(k.kr.id or 0), str(k.kr.id))


def search_message(
    words: str, hits: list[SearchHit], total: int, *, share_value: str | None, in_channel: bool = False
) -> dict[str, Any]:
    if not hits:
        return views.message(
            f"No OKRs match “{words}”.",
            [
                views.section(
                    f"No OKRs match “{esc(words)}”. Search looks in titles, descriptions and check-in notes."
                )
            ],
        )
    lines = []
    for h in hits:
        where = [m for m in h.matched if m != "objective"]
        lines.append(
            f"`{h.state.ref}` *{esc(h.state.objective.title)}* — <@{h.state.objective.owner_id}> · "
            f"{h.state.objective.cycle_key} · {h.state.score:.1f} {badge(h.state.status)}"
            + (f" · matched in {', '.join(where)}" if where else "")
        )
    blocks: list[Block] = [
        views.section(f"*{total} objective{'s' if total != 1 else ''} match “{esc(words)}”*")
    ]
    blocks.extend(views.sections("\n".join(lines)))
    if total > len(hits):
        blocks.append(views.context(f"…and {total - len(hits)} more — add words to narrow the search."))
    if not in_channel:
        blocks.extend(share_actions(share_value))
    return views.message(f"{total} OKRs match {words}", blocks, in_channel=in_channel)


def _day(when: Any) -> str:
    return f"<!date^{int(when.timestamp())}^{{date_short}}|{when:%Y-%m-%d}>"


def cycle_message(info: CycleInfo, *, in_channel: bool = False) -> dict[str, Any]:
    span = info.span
    text = (
        f"*Cycle {span.key}*: {span.starts_on:%b %-d} – {span.last_day:%b %-d, %Y} · "
        f"*{info.days_left} day{'s' if info.days_left != 1 else ''} left* {bar(info.elapsed)} "
        f"{round(info.elapsed * 100)}% elapsed\n"
        f"{info.objectives} objectives · {info.key_results} key results"
    )
    blocks: list[Block] = [views.section(text)]
    lines = []
    if info.review_opens is not None:
        lines.append(
            f"Cycle review (复盘): owners are asked from {_day(info.review_opens)}; the review is posted on "
            f"{span.last_day:%b %-d} — `/okr review`"
        )
    if info.next_span is not None and info.drafting_opens is not None:
        if info.drafting_open:
            lines.append(
                f"Cycle {info.next_span.key} is open for drafting: "
                f"`/okr new &lt;title&gt; cycle:{info.next_span.key}`"
            )
        else:
            lines.append(f"Cycle {info.next_span.key} opens for drafting on {_day(info.drafting_opens)}")
    if lines:
        blocks.append(views.context("\n".join(lines)))
    return views.message(f"Cycle {span.key}: {info.days_left} days left", blocks, in_channel=in_channel)


def at_risk_message(
    items: list[RiskItem],
    *,
    team: Team | None,
    cycle_key: str,
    share_value: str | None,
    in_channel: bool = False,
) -> dict[str, Any]:
    scope = f" in {esc(team.name)}" if team else ""
    if not items:
        return views.message(
            f"No key results at risk{scope}.",
            [views.section(f":tada: No key results at risk{scope} in cycle {cycle_key}.")],
            in_channel=in_channel,
        )
    lines = [
        f"{kr_line(i.state)}\n      ↳ `{oid(i.objective.id)}` {esc(i.objective.title)} · "
        f"<@{i.objective.owner_id}>{' · ' + esc(i.team.name) if i.team else ''}"
        for i in items[:40]
    ]
    blocks: list[Block] = [
        views.section(
            f"*{len(items)} key result{'s' if len(items) != 1 else ''} at risk{scope}* · cycle {cycle_key}"
        )
    ]
    blocks.extend(views.sections("\n".join(lines))[: MESSAGE_BUDGET - 3])
    if len(items) > 40:
        blocks.append(
            views.context(f"…and {len(items) - 40} more — narrow it with `/okr atrisk &lt;team&gt;`.")
        )
    if not in_channel:
        blocks.extend(share_actions(share_value))
    return views.message(f"{len(items)} KRs at risk{scope}", blocks, in_channel=in_channel)


def objective_created(o: Objective, *, in_channel: bool = False) -> dict[str, Any]:
    ref = format_id(Kind.OBJECTIVE, o.id or 0)
    parent = f", aligned to `{format_id(Kind.OBJECTIVE, o.parent_id)}`" if o.parent_id else ""
    return views.message(
        f"Created {ref} {o.title}",
        [
            views.section(
                f":white_check_mark: Created `{ref}` *{esc(o.title)}* in cycle {o.cycle_key}{parent}."
            ),
            views.context(
                f"Add key results: `/okr kr {ref} &lt;title&gt; target:&lt;number&gt; "
                "[start:&lt;number&gt;] [unit:&lt;text&gt;] [weight:&lt;0–1&gt;]`"
            ),
        ],
        in_channel=in_channel,
    )


def kr_added(k: KrState, objective: ObjectiveState, *, in_channel: bool = False) -> dict[str, Any]:
    blocks: list[Block] = [
        views.section(
            f":white_check_mark: Added to `{objective.ref}` {esc(objective.objective.title)}:\n{kr_line(k)}",
            accessory=checkin_button(k),
        )
    ]
    if objective.weights_warning:
        blocks.append(
            views.context(
                f":warning: `{objective.ref}`: {esc(objective.weights_warning)} — "
                "weights are each key result's share of the objective (0–1) and should sum to 1."
            )
        )
    return views.message(f"Added {k.ref} to {objective.ref}", blocks, in_channel=in_channel)


def checked_in(
    k: KrState,
    objective: ObjectiveState,
    *,
    understood: str | None = None,
    notes: list[str] | None = None,
    in_channel: bool = False,
) -> dict[str, Any]:
    """The confirmation: the KR as it is now, how the input was read, and anything unusual."""
    blocks: list[Block] = [
        views.section(f":white_check_mark: Checked in.\n{kr_line(k)}", accessory=checkin_button(k))
    ]
    said = [f":information_source: {understood}"] if understood else []
    said += [f":warning: {n}" for n in notes or []]
    if said:
        blocks.append(views.context("\n".join(said)))
    blocks.append(
        views.context(
            f"`{objective.ref}` {esc(objective.objective.title)} · score *{objective.score:.1f}* "
            f"{bar(objective.progress)} · {badge(objective.status)}"
        )
    )
    return views.message(f"Checked in {k.ref}: {fmt_number(k.kr.current)}", blocks, in_channel=in_channel)


def created_from_modal(s: ObjectiveState) -> dict[str, Any]:
    return views.message(
        f"Created {s.ref} {s.objective.title}",
        [views.section(f":white_check_mark: Created `{s.ref}`."), *objective_blocks(s)],
    )


# ---- App Home --------------------------------------------------------------------------------


def home_section(
    states: list[ObjectiveState], *, cycle_line: str, review: str | None = None, limit: int = 40
) -> list[Block]:
    """ "My OKRs" on the App Home: every KR with a Check-in button, within `limit` blocks; in the
    review week, a line and a button to write the cycle review (`review` is the cycle's key)."""
    blocks: list[Block] = [
        views.section("*My OKRs*", accessory=views.button("New objective", Action.NEW.value)),
        views.context(cycle_line),
    ]
    if review and states:
        blocks.append(
            views.section(
                f":memo: Cycle {review} ends soon — give your key results their final scores and "
                "write what worked, what didn't and what next.",
                accessory=views.button("Write the review", Action.REVIEW.for_id(review), review),
            )
        )
    if not states:
        blocks.append(views.section("You have no objectives in this cycle yet. Create one with `/okr new`."))
        return blocks
    groups = [objective_blocks(s) for s in states]
    fitted, _ = _fit(groups, limit - len(blocks), "…and {n} more objectives — `/okr mine` shows them all.")
    blocks.extend(fitted)
    return blocks


def cycle_line(info_key: str, days_left: int) -> str:
    return f"Cycle {info_key} · {days_left} day{'s' if days_left != 1 else ''} left"
