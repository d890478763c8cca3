"""Block Kit for /postmortem messages, the App Home section and DMs: pure functions returning dicts.

Stored text is untrusted (what people typed, what a channel said, what a model wrote): it is
escaped for mrkdwn, and only user mentions `<@U…>` are let through, so no text can forge a link
or ping a channel. Times are shown in the viewer's time zone. Every message stays within Slack's
limits (50 blocks, 3,000 characters a section); long lists end with "and N more".
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.common import views
from bot.postmortems.actions import Action
from bot.postmortems.blameless import Finding
from bot.postmortems.rules import FIELDS, ActionStatus, Status
from bot.postmortems.search import Hit
from bot.postmortems.service import Detail, ai_ref, pm_ref
from storage.models.postmortems import ActionItem, Postmortem, TimelineEntry

Block = views.Block
MESSAGE_BUDGET = views.MESSAGE_BLOCK_LIMIT - 3
TIMELINE_SHOWN = 40
HOME_ITEMS = 5

HELP = [
    ("/postmortem new [title] [sev:<1-4>]", "the template in a form, or a quick draft with a title"),
    ("/postmortem draft", "in an incident channel: a draft whose timeline comes from the channel"),
    ("/postmortem list [draft|review|published]  ·  /postmortem PM-n", "browse"),
    ("/postmortem search <words>", "search every postmortem (English and 中文)"),
    ("/postmortem edit PM-n  ·  /postmortem check PM-n", "edit the template; run the blameless check"),
    ("/postmortem review PM-n  ·  /postmortem publish PM-n", "draft → in review → published"),
    (
        "/postmortem action PM-n <title> owner:@user due:<YYYY-MM-DD> "
        "[type:detective|preventative|corrective]",
        "add an action item (due also takes tomorrow, next friday…)",
    ),
    ("/postmortem done AI-n  ·  /postmortem actions [mine|overdue|PM-n|@user]", "close one; list them"),
]
STATUS_ICON = {
    Status.DRAFT: ":memo:",
    Status.IN_REVIEW: ":mag:",
    Status.PUBLISHED: ":white_check_mark:",
}
KIND_LABEL = {"detective": "detective", "preventative": "preventative", "corrective": "corrective"}
_KEPT_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]+)&gt;")


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else many or word + 's'}"


def help_message() -> dict[str, Any]:
    return views.help_message(
        "/postmortem — blameless postmortems",
        HELP,
        "React with :pushpin: to a message in a linked channel to add it to the timeline, at the time "
        "it was posted. Before review and publishing, the text is checked for blame.",
    )


# ---- small pieces ----------------------------------------------------------------------------


def show(text: str) -> str:
    """Untrusted text for mrkdwn: escaped, with user mentions kept (they render as names)."""
    return _KEPT_MENTION.sub(lambda m: f"<@{m.group(1)}>", views.escape(text or ""))


def local(at: datetime, tz: ZoneInfo) -> datetime:
    return at.astimezone(tz)


def when(at: datetime, tz: ZoneInfo) -> str:
    return local(at, tz).strftime("%Y-%m-%d %H:%M")


def severity(pm: Postmortem) -> str:
    return f"SEV{pm.severity}" if pm.severity else "no severity yet"


def status_badge(pm: Postmortem) -> str:
    status = Status(pm.status)
    return f"{STATUS_ICON[status]} {status.label}"


def due_label(item: ActionItem, today: date) -> str:
    if item.status == ActionStatus.DONE.value:
        return ":white_check_mark: done"
    days = (item.due_on - today).days
    if days < 0:
        return (
            f":red_circle: overdue since {item.due_on.isoformat()} ({-days} day{'s' if days != -1 else ''})"
        )
    if days == 0:
        return ":large_orange_circle: due today"
    if days == 1:
        return ":large_yellow_circle: due tomorrow"
    return f"due {item.due_on.isoformat()}"


def action_line(item: ActionItem, today: date, *, with_pm: Postmortem | None = None) -> str:
    pm = f" · `{pm_ref(with_pm.id)}` {show(with_pm.title)}" if with_pm is not None else ""
    kind = KIND_LABEL.get(item.kind, item.kind)
    return (
        f"`{ai_ref(item.id)}` {show(item.title)} — <@{item.owner_id}> · {kind} · {due_label(item, today)}{pm}"
    )


def entry_line(entry: TimelineEntry, tz: ZoneInfo) -> str:
    who = f" <@{entry.posted_by}>:" if entry.posted_by else ""
    text = show(" ".join(entry.text.split()))[:600]
    link = f" <{entry.source_link}|link>" if entry.source_link.startswith("https://") else ""
    return f"`{when(entry.at, tz)}`{who} {text}{link}"


def pm_line(pm: Postmortem) -> str:
    return f"`{pm_ref(pm.id)}` *{show(pm.title)}* · {severity(pm)} · {status_badge(pm)} · <@{pm.author_id}>"


def open_button(pm_id: int, label: str = "Open") -> Block:
    return views.button(label, Action.OPEN.for_id(pm_id), str(pm_id))


def _cap(blocks: list[Block], tail: list[Block], more: str) -> list[Block]:
    room = MESSAGE_BUDGET - len(tail)
    if len(blocks) > room:
        blocks = blocks[: room - 1] + [views.context(more)]
    return blocks + tail


# ---- one postmortem --------------------------------------------------------------------------


def edit_buttons(d: Detail) -> list[Block]:
    pid = d.pm.id or 0
    buttons = [
        views.button("Edit", Action.EDIT.for_id(pid), str(pid)),
        views.button("Add timeline entry", Action.ADD_ENTRY.for_id(pid), str(pid)),
        views.button("Edit timeline", Action.EDIT_TIMELINE.for_id(pid), str(pid)),
        views.button("Add action item", Action.ADD_ACTION.for_id(pid), str(pid)),
        views.button("Edit action items", Action.EDIT_ACTIONS.for_id(pid), str(pid)),
        views.button("Check for blame", Action.CHECK.for_id(pid), str(pid)),
    ]
    if d.status == Status.DRAFT:
        buttons.append(views.button("Send for review", Action.REVIEW.for_id(pid), str(pid), style="primary"))
    elif d.status == Status.IN_REVIEW:
        buttons.append(views.button("Publish", Action.PUBLISH.for_id(pid), str(pid), style="primary"))
    return [views.actions(*buttons)]


def postmortem_blocks(d: Detail, *, tz: ZoneInfo, today: date) -> list[Block]:
    pm = d.pm
    people = ", ".join(f"<@{u}>" for u in d.participants) or "none yet"
    channel = f" · linked to <#{pm.channel_id}>" if pm.channel_id else ""
    drafted = (
        f" · first summary drafted by a model ({views.escape(pm.drafted_with)}) — check it"
        if pm.drafted_with
        else ""
    )
    blocks: list[Block] = [
        views.header(f"{d.ref} {pm.title}"[:150]),
        views.context(
            f"{severity(pm)} · {status_badge(pm)} · author <@{pm.author_id}> · participants {people}{channel}"
            f"{drafted}"
        ),
    ]
    impact_facts = [
        f"*{label}:* {show(value)}"
        for label, value in (
            ("Who", pm.impact_who),
            ("How many", pm.impact_count),
            ("How long", pm.impact_duration),
        )
        if value
    ]
    for f in FIELDS:
        if f.key in ("title", "impact_who", "impact_count", "impact_duration"):
            continue
        value = getattr(pm, f.key) or ""
        body = show(value) if value.strip() else "_not written yet_"
        if f.key == "impact" and impact_facts:
            body = (body + "\n" if value.strip() else "") + " · ".join(impact_facts)
        blocks.extend(views.sections(f"*{f.label}*\n{body}"))
    blocks.append(views.section(f"*Timeline* ({len(d.timeline)}) · times in {tz.key}"))
    if d.timeline:
        lines = [entry_line(e, tz) for e in d.timeline[:TIMELINE_SHOWN]]
        if len(d.timeline) > TIMELINE_SHOWN:
            lines.append(f"…and {len(d.timeline) - TIMELINE_SHOWN} more — *Edit timeline* shows them all")
        blocks.extend(views.sections("\n".join(lines)))
    else:
        blocks.append(
            views.context(
                "No entries yet — *Add timeline entry*, or :pushpin: a message in the linked channel."
            )
        )
    blocks.append(views.section(f"*Action items* ({len(d.actions)})"))
    if d.actions:
        blocks.extend(views.sections("\n".join(action_line(a, today) for a in d.actions)))
    else:
        blocks.append(
            views.context(f"None yet — `/postmortem action {d.ref} &lt;title&gt; owner:@user due:YYYY-MM-DD`")
        )
    return blocks


def postmortem_message(d: Detail, *, tz: ZoneInfo, today: date, can_edit: bool) -> dict[str, Any]:
    """`/postmortem PM-n`: every field, the timeline and the action items, with the edit buttons."""
    tail = (
        edit_buttons(d)
        if can_edit
        else [views.context("Only its author, participants and admins can change it.")]
    )
    blocks = _cap(
        postmortem_blocks(d, tz=tz, today=today), tail, f"…more than fits — `/postmortem edit {d.ref}`"
    )
    return views.message(f"{d.ref} {d.pm.title}", blocks)


# ---- lists ------------------------------------------------------------------------------------


def list_message(rows: list[Postmortem], total: int, status: Status | None) -> dict[str, Any]:
    what = f"{status.label} postmortems" if status else "Postmortems"
    blocks: list[Block] = [views.section(f"*{what.capitalize()}* ({total})")]
    if not rows:
        blocks.append(views.section("None yet. Start one with `/postmortem new` or `/postmortem draft`."))
    for pm in rows:
        blocks.append(views.section(pm_line(pm), accessory=open_button(pm.id or 0)))
    if total > len(rows):
        blocks.append(
            views.context(f"…and {total - len(rows)} more — narrow it: `/postmortem list published`")
        )
    text = f"{what}: " + "; ".join(f"{pm_ref(p.id)} {p.title}" for p in rows[:10])
    return views.message(text, blocks[: views.MESSAGE_BLOCK_LIMIT])


def search_message(words: str, hits: list[Hit], total: int) -> dict[str, Any]:
    blocks: list[Block] = [views.section(f"*Postmortems matching* “{views.escape(words)}” ({total})")]
    if not hits:
        blocks.append(views.section("Nothing matches. Try fewer or other words."))
    for h in hits:
        blocks.append(
            views.section(
                f"{pm_line(h.pm)}\n_{h.where}:_ {show(h.snippet)}", accessory=open_button(h.pm.id or 0)
            )
        )
    if total > len(hits):
        blocks.append(views.context(f"…and {total - len(hits)} more — add words to narrow it."))
    return views.message(f"{total} postmortems match “{words}”", blocks)


def actions_message(
    title: str, pairs: list[tuple[ActionItem, Postmortem]], today: date, empty: str
) -> dict[str, Any]:
    blocks: list[Block] = [views.section(f"*{title}* ({len(pairs)})")]
    if not pairs:
        blocks.append(views.section(empty))
    for item, pm in pairs[: MESSAGE_BUDGET - 2]:
        extra = (
            {"accessory": views.button("Done", Action.DONE.for_id(item.id or 0), str(item.id))}
            if item.status == ActionStatus.OPEN.value
            else {}
        )
        blocks.append(views.section(action_line(item, today, with_pm=pm), **extra))
    if len(pairs) > MESSAGE_BUDGET - 2:
        blocks.append(views.context(f"…and {len(pairs) - (MESSAGE_BUDGET - 2)} more"))
    return views.message(f"{title}: {len(pairs)}", blocks)


# ---- confirmations -----------------------------------------------------------------------------


def created_message(pm: Postmortem) -> dict[str, Any]:
    text = f":memo: Drafted {pm_ref(pm.id)} *{show(pm.title)}* ({severity(pm)})."
    blocks = [
        views.section(text, accessory=open_button(pm.id or 0)),
        views.context(
            f"Fill in the template with `/postmortem edit {pm_ref(pm.id)}`, "
            f"then `/postmortem review {pm_ref(pm.id)}`."
        ),
    ]
    return views.message(text, blocks)


def drafted_message(
    d: Detail, *, added: int, created: bool, mode: str, tz: ZoneInfo, today: date, note: str = ""
) -> dict[str, Any]:
    """After `/postmortem draft`: what was drafted, from how many messages, and the postmortem itself."""
    if created:
        head = f":memo: Drafted *{d.ref}* from this channel: {plural(added, 'message')} on the timeline."
    else:
        head = (
            f":memo: *{d.ref}* is already drafted from this channel; "
            f"{plural(added, 'new message')} added to its timeline."
        )
    label = {
        "model": "The summary and contributing factors are a model's first draft — check them.",
        "offline": "Offline draft: the timeline only — write the summary and the rest with *Edit*.",
        "fallback": "The model could not be used: this is the timeline only — write the summary with *Edit*.",
        "kept": "The fields you wrote are unchanged.",
    }[mode]
    top = [views.section(head), views.context(label + (f" {note}" if note else ""))]
    blocks = _cap(
        top + postmortem_blocks(d, tz=tz, today=today), edit_buttons(d), f"…more — `/postmortem {d.ref}`"
    )
    return views.message(head, blocks)


def findings_blocks(findings: list[Finding], labels: dict[str, str]) -> list[Block]:
    blocks: list[Block] = []
    for i, f in enumerate(findings[:20], 1):
        where = labels.get(f.field, f.field)
        source = " _(model)_" if f.source == "model" else ""
        blocks.append(
            views.section(
                f"*{i}. {views.escape(where)}*{source}: “{show(f.text)}”\n{show(f.message)}\n"
                f":bulb: {show(f.suggestion)}"
            )
        )
    if len(findings) > 20:
        blocks.append(views.context(f"…and {len(findings) - 20} more"))
    return blocks


def findings_message(
    d: Detail, findings: list[Finding], labels: dict[str, str], *, target: Status | None
) -> dict[str, Any]:
    """The blameless check's findings; before a move, with "… anyway" and "Edit" — it warns, never blocks."""
    pid = d.pm.id or 0
    if not findings:
        text = f":white_check_mark: No blame found in {d.ref}. Nicely blameless."
        return views.message(text, [views.section(text)])
    verb = "points" if len(findings) == 1 else "point"
    found = f"the blameless check found {plural(len(findings), 'passage')} that {verb} at people"
    lead = {
        None: f":mag: In *{d.ref}* {found}.",
        Status.IN_REVIEW: f":warning: Before *{d.ref}* goes to review: {found}.",
        Status.PUBLISHED: f":warning: Before *{d.ref}* is published: {found}.",
    }[target]
    blocks = [views.section(lead), *findings_blocks(findings, labels)]
    buttons = [views.button("Edit", Action.EDIT.for_id(pid), str(pid))]
    if target == Status.IN_REVIEW:
        buttons.insert(0, views.button("Send for review anyway", Action.REVIEW_ANYWAY.for_id(pid), str(pid)))
        blocks.append(
            views.context("Nothing has changed yet. Rephrase and try again, or go ahead: it is a warning.")
        )
    elif target == Status.PUBLISHED:
        buttons.insert(
            0, views.button("Publish anyway", Action.PUBLISH_ANYWAY.for_id(pid), str(pid), style="danger")
        )
        blocks.append(
            views.context("Nothing has changed yet. Rephrase and try again, or go ahead: it is a warning.")
        )
    blocks = blocks[:MESSAGE_BUDGET] + [views.actions(*buttons)]
    return views.message(lead, blocks)


def moved_message(pm: Postmortem, target: Status, *, announced_in: str | None, warned: int) -> dict[str, Any]:
    ref = pm_ref(pm.id)
    if target == Status.IN_REVIEW:
        text = (
            f":mag: *{ref}* is in review. Read it with `/postmortem {ref}`; then `/postmortem publish {ref}`."
        )
    else:
        where = f" and announced in <#{announced_in}>" if announced_in else ""
        text = f":white_check_mark: *{ref}* is published{where}."
    extra = f" ({plural(warned, 'blameless-check warning')} acknowledged.)" if warned else ""
    blocks = [views.section(text + extra, accessory=open_button(pm.id or 0))]
    if target == Status.PUBLISHED and not announced_in:
        blocks.append(
            views.context(
                "No announcement: set `FLYWHEEL_POSTMORTEM_CHANNEL` to the channel that should hear of it."
            )
        )
    return views.message(text, blocks)


def announcement(d: Detail, *, today: date) -> dict[str, Any]:
    """The post in the postmortem channel when one is published (no edit buttons: it is shared)."""
    pm = d.pm
    impact = " · ".join(x for x in (pm.impact_who, pm.impact_count, pm.impact_duration) if x)
    open_items = [a for a in d.actions if a.status == ActionStatus.OPEN.value]
    blocks: list[Block] = [
        views.header(f"Postmortem published: {d.ref} {pm.title}"[:150]),
        views.context(f"{severity(pm)} · by <@{pm.author_id}> · {len(d.timeline)} timeline entries"),
        *views.sections(f"*Summary*\n{show(pm.summary)}"),
    ]
    if pm.impact or impact:
        blocks.extend(
            views.sections(f"*Impact*\n{show(pm.impact)}" + (f"\n{show(impact)}" if impact else ""))
        )
    if pm.contributing_factors:
        blocks.extend(views.sections(f"*Contributing factors*\n{show(pm.contributing_factors)}"))
    if d.actions:
        lines = [action_line(a, today) for a in d.actions[:15]]
        blocks.extend(
            views.sections(
                f"*Action items* ({len(open_items)} open of {len(d.actions)})\n" + "\n".join(lines)
            )
        )
    blocks.append(views.actions(open_button(pm.id or 0, "Read the postmortem")))
    return views.message(
        f"Postmortem published: {d.ref} {pm.title}", blocks[: views.MESSAGE_BLOCK_LIMIT], in_channel=True
    )


def action_added(item: ActionItem, pm: Postmortem, today: date) -> dict[str, Any]:
    text = f":white_check_mark: Added {action_line(item, today)} to `{pm_ref(pm.id)}`."
    return views.message(text, [views.section(text)])


def action_done(item: ActionItem) -> dict[str, Any]:
    text = f":white_check_mark: `{ai_ref(item.id)}` {show(item.title)} is done."
    return views.message(text, [views.section(text)])


def pinned_message(added: list[tuple[Postmortem, TimelineEntry]], tz: ZoneInfo) -> dict[str, Any]:
    refs = ", ".join(f"`{pm_ref(pm.id)}`" for pm, _ in added)
    at = when(added[0][1].at, tz)
    text = f":pushpin: Added to the timeline of {refs} at {at} (when it was posted)."
    return {"text": text, "blocks": [views.section(text)]}


def reminder_message(items: list[tuple[ActionItem, Postmortem]], today: date) -> dict[str, Any]:
    """The owner's daily DM: action items due tomorrow (or today) and overdue ones."""
    text = f":alarm_clock: Postmortem action items need your attention: {plural(len(items), 'item')}."
    blocks: list[Block] = [views.section(text)]
    for item, pm in items[: MESSAGE_BUDGET - 2]:
        blocks.append(
            views.section(
                action_line(item, today, with_pm=pm),
                accessory=views.button("Done", Action.DONE.for_id(item.id or 0), str(item.id)),
            )
        )
    blocks.append(views.context("All of yours: `/postmortem actions` · close one: `/postmortem done AI-n`"))
    return {"text": text, "blocks": blocks}


# ---- App Home -----------------------------------------------------------------------------------


def home_section(
    pairs: list[tuple[ActionItem, Postmortem]], total: int, today: date, drafting: list[Postmortem]
) -> list[Block]:
    """ "My action items" (and the postmortems I am writing), small: a handful and "and N more"."""
    blocks: list[Block] = [views.header("My action items")]
    if not pairs:
        blocks.append(views.context("No open postmortem action items. :tada:"))
    for item, pm in pairs[:HOME_ITEMS]:
        blocks.append(
            views.section(
                action_line(item, today, with_pm=pm),
                accessory=views.button("Done", Action.DONE.for_id(item.id or 0), str(item.id)),
            )
        )
    if total > HOME_ITEMS:
        blocks.append(views.context(f"…and {total - HOME_ITEMS} more — `/postmortem actions`"))
    if drafting:
        lines = " · ".join(
            f"`{pm_ref(p.id)}` {show(p.title)} ({Status(p.status).label})" for p in drafting[:3]
        )
        more = f" · and {len(drafting) - 3} more" if len(drafting) > 3 else ""
        blocks.append(views.context(f":memo: Your postmortems in progress: {lines}{more}"))
    return blocks
