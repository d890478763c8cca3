"""Block Kit for /ssp messages, DMs, the intake post and the App Home: pure functions → dicts.

Times are shown with Slack's `<!date^…>` (each reader sees their own zone); the fallback text is
in the zone of the person the message is for (`tz`), or the team's business-hours zone for channel
posts. User text is always escaped. Modals are in `modals.py`.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.common import views
from bot.requests import service
from bot.requests.actions import Action
from bot.requests.faq import Suggestion, faq_ref
from bot.requests.queries import CatalogueEntry, Detail, Queue, RequestRow
from bot.requests.stats import TeamStats
from bot.teams import service as teams
from storage.models import Team
from storage.models.requests import RequestEvent, RequestOffer, ServiceRequest, TeamFaq

Block = views.Block
esc = views.escape
LIST_LIMIT = 20
QUEUE_LIMIT = 10  # the most urgent ten: what a triager acts on next; the rest are counted
MESSAGE_BUDGET = views.MESSAGE_BLOCK_LIMIT - 4

HELP = [
    ("/ssp", "the catalogue of service teams: what each does, its SLAs and hours"),
    (
        "/ssp request  ·  /ssp request <team> <summary…> [urgency:high]",
        "ask a team for help (form, or quick)",
    ),
    ("/ssp mine  ·  /ssp REQ-n", "your open requests; one request with its history"),
    ("/ssp queue [team]", "a team's open requests, most urgent SLA first (members and admins)"),
    ("/ssp claim REQ-n  ·  /ssp assign REQ-n @user", "triage (team members)"),
    ("/ssp wait REQ-n <question>", "wait on the requester: the SLA clock pauses until they comment"),
    ("/ssp comment REQ-n <text>  ·  /ssp resolve REQ-n [note]  ·  /ssp reopen REQ-n", "follow up"),
    ("/ssp rate REQ-n <1-5>", "rate a resolved request (the requester; once)"),
    ("/ssp faq [team]  ·  /ssp faq add <team> <question> | <answer>", "a team's FAQ (members add)"),
    ("/ssp stats [team]", "open, breached, median first response and resolution, CSAT, deflections"),
]
STATUS_ICON = {
    "new": ":new:",
    "in_progress": ":large_blue_circle:",
    "waiting": ":double_vertical_bar:",
    "resolved": ":white_check_mark:",
    "closed": ":lock:",
}
URGENCY_ICON = {
    "low": "",
    "normal": "",
    "high": ":small_orange_diamond: high",
    "urgent": ":rotating_light: urgent",
}


def help_message() -> dict[str, Any]:
    return views.help_message(
        "/ssp — shared-service requests",
        HELP,
        "Lifecycle: new → in progress → waiting → resolved → closed (a rating closes it; reopen goes "
        "back to in progress). Confidential teams' requests are visible only to the requester, the "
        "team and admins.",
    )


# ---- small pieces ----------------------------------------------------------------------------


def duration(delta: timedelta | None) -> str:
    """`27h`, `4h 30m`, `45m`: business time in hours, since a working day is not 24 of them."""
    if delta is None:
        return "—"
    minutes = int(abs(delta.total_seconds()) // 60)
    hours, mins = divmod(minutes, 60)
    parts = [f"{hours}h" if hours else "", f"{mins}m" if mins and hours < 10 else ""]
    text = " ".join(p for p in parts if p) or "0m"
    return f"-{text}" if delta.total_seconds() < 0 else text


@functools.lru_cache(maxsize=256)
def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz or "UTC")
    except Exception:
        return ZoneInfo("UTC")


def when(at: datetime | None, tz: str = "UTC") -> str:
    if at is None:
        return "—"
    local = at.astimezone(_zone(tz))
    fallback = local.strftime("%a %b %-d %H:%M ") + (local.tzname() or "UTC")
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def status_badge(status: str) -> str:
    return f"{STATUS_ICON.get(status, '')} {service.status_label(status)}".strip()


def sla_text(team: Team) -> str:
    slas = teams.slas_of(team)
    if not slas.any:
        return "no SLA set"
    parts = []
    if slas.first_response:
        parts.append(f"first response {slas.first_response.text}")
    if slas.resolution:
        parts.append(f"resolution {slas.resolution.text}")
    hours = f" ({esc(slas.hours.text)})" if slas.hours else " (around the clock)"
    return ", ".join(parts) + hours


def due_part(row: RequestRow | ServiceRequest, now: datetime, tz: str) -> str:
    if row.status == "waiting":
        return "SLA paused (waiting on the requester)"
    if row.status in service.DONE:
        return ""
    if row.first_response_at is None and row.first_response_due is not None:
        late = " :fire: *overdue*" if now >= row.first_response_due else ""
        return f"first response due {when(row.first_response_due, tz)}{late}"
    if row.resolution_due is not None:
        late = " :fire: *overdue*" if now >= row.resolution_due else ""
        return f"due {when(row.resolution_due, tz)}{late}"
    return ""


def row_line(row: RequestRow, now: datetime, tz: str, *, show_requester: bool = False) -> str:
    bits = [esc(row.team_name), status_badge(row.status)]
    if URGENCY_ICON.get(row.urgency):
        bits.append(URGENCY_ICON[row.urgency])
    bits.append(f"<@{row.assignee_id}>" if row.assignee_id else "unassigned")
    if show_requester:
        bits.append(f"from <@{row.requester_id}>")
    due = due_part(row, now, tz)
    if due:
        bits.append(due)
    if row.breached:
        bits.append(":rotating_light: SLA breached")
    if row.status == "resolved" and row.rating is None and not show_requester:
        bits.append("rate it: `/ssp rate " + row.ref + " 1-5`")
    return f"`{row.ref}` *{esc(row.summary[:150])}*\n" + " · ".join(bits)


def open_button(request_id: int, label: str = "Open") -> Block:
    return views.button(label, Action.OPEN.for_id(request_id), str(request_id))


# ---- answers to /ssp -------------------------------------------------------------------------


def catalogue_message(entries: list[CatalogueEntry]) -> dict[str, Any]:
    blocks: list[Block] = [
        views.header("Service teams"),
        views.context("Ask with `/ssp request` or `/ssp request <team> <summary…>`."),
    ]
    if not entries:
        blocks.append(
            views.section("No service teams yet. An admin adds them with `flywheel import teams FILE.yaml`.")
        )
    for e in entries[: MESSAGE_BUDGET - 3]:
        t = e.team
        lock = " :lock: confidential" if t.confidential else ""
        lead = f" · lead <@{t.lead_id}>" if t.lead_id else ""
        channel = f" · intake <#{t.channel_id}>" if t.channel_id else ""
        faq = f" · FAQ: {e.faq_count} (`/ssp faq {t.key}`)" if e.faq_count else ""
        blocks.append(
            views.section(
                f"*{esc(t.name)}* (`{t.key}`){lock}\n{esc(t.description) or '_no description_'}\n"
                f"SLA: {sla_text(t)}{lead}{channel}{faq} · {e.open_count} open"
            )
        )
    return views.message(f"{len(entries)} service teams", blocks)


def created_message(req: ServiceRequest, team: Team, tz: str) -> dict[str, Any]:
    due = due_part(req, req.created_at, tz)
    lines = [
        f":white_check_mark: Filed `{service.ref(req.id)}` with *{esc(team.name)}*: {esc(req.summary[:300])}"
    ]
    if due:
        lines.append(due[0].upper() + due[1:])
    return views.message(
        f"Filed {service.ref(req.id)} with {team.name}",
        [
            views.section("\n".join(lines), accessory=open_button(req.id or 0)),
            views.context(
                f"You'll get a DM on every change. "
                f"Follow it with `/ssp {service.ref(req.id)}` or `/ssp mine`."
            ),
        ],
    )


def mine_message(rows: list[RequestRow], now: datetime, tz: str) -> dict[str, Any]:
    blocks: list[Block] = [views.section("*Your requests*")]
    if not rows:
        blocks.append(
            views.section("You have no open requests. Ask a team with `/ssp request`; `/ssp` lists them.")
        )
    for row in rows[:LIST_LIMIT]:
        blocks.append(views.section(row_line(row, now, tz), accessory=open_button(row.id)))
    if len(rows) > LIST_LIMIT:
        blocks.append(views.context(f"…and {len(rows) - LIST_LIMIT} more — open one with `/ssp REQ-n`."))
    fallback = "Your requests: " + "; ".join(f"{r.ref} {r.summary[:60]} ({r.status})" for r in rows[:10])
    return views.message(fallback if rows else "You have no open requests.", blocks)


def queue_rows(q: Queue, now: datetime, tz: str, limit: int) -> list[Block]:
    """A queue's first `limit` requests, each with Claim (unassigned) or Open."""
    if not q.rows:
        return [views.section(":tada: Nothing open.")]
    blocks = []
    for row in q.rows[:limit]:
        button = (
            views.button("Claim", Action.CLAIM.for_id(row.id), str(row.id))
            if row.assignee_id is None
            else open_button(row.id)
        )
        blocks.append(views.section(row_line(row, now, tz, show_requester=True), accessory=button))
    return blocks


def queue_message(q: Queue, now: datetime, tz: str) -> dict[str, Any]:
    names = ", ".join(esc(t.name) for t in q.teams)
    blocks: list[Block] = [
        views.section(f"*Queue of {names}* · {q.total} open"),
        views.context("Most urgent SLA first; paused (waiting) requests last. Claim one to take it."),
    ]
    blocks.extend(queue_rows(q, now, tz, QUEUE_LIMIT))
    if q.total > len(q.rows[:QUEUE_LIMIT]):
        more = q.total - len(q.rows[:QUEUE_LIMIT])
        blocks.append(
            views.context(f"…and {more} more open — claim from the top, or open one with `/ssp REQ-n`.")
        )
    return views.message(f"Queue of {names}: {q.total} open", blocks)


EVENT_TEXT = {
    "created": "filed it",
    "assigned": "assigned it to {detail}",
    "comment": "commented: {detail}",
    "rating": "rated it {detail}/5",
    "sla_warning": "{detail}: 80% of the SLA used",
    "sla_breach": "{detail}: SLA breached",
}


def event_line(e: RequestEvent, tz: str) -> str:
    who = "Flywheel" if e.actor_id == service.WATCHER else f"<@{e.actor_id}>"
    if e.kind == "status":
        old, new = service.status_label(e.from_status or ""), service.status_label(e.to_status or "")
        text = f"moved it {old} → *{new}*"
        if e.detail:
            text += f": {esc(e.detail[:500])}"
    else:
        detail = e.detail
        if e.kind == "assigned":
            detail = f"<@{e.detail}>"
        elif e.kind in ("sla_warning", "sla_breach"):
            detail = e.detail.replace("_", " ")
        else:
            detail = esc(detail[:500])
        text = EVENT_TEXT.get(e.kind, e.kind).format(detail=detail)
    return f"{when(e.at, tz)} {who} {text}"


def detail_message(d: Detail, now: datetime, tz: str, *, viewer: str) -> dict[str, Any]:
    req, team = d.request, d.team
    head = (
        f"*`{service.ref(req.id)}` {esc(req.summary[:500])}*\n"
        f"{esc(team.name)} · {status_badge(req.status)} · from <@{req.requester_id}> · "
        + (f"assigned to <@{req.assignee_id}>" if req.assignee_id else "unassigned")
        + (f" · {URGENCY_ICON[req.urgency]}" if URGENCY_ICON.get(req.urgency) else "")
    )
    blocks: list[Block] = [views.section(head)]
    if req.details:
        blocks.extend(views.sections(esc(req.details[:2900]))[:2])
    facts = []
    due = due_part(req, now, tz)
    if due:
        facts.append(due)
    if d.resolution_left is not None and req.status not in service.DONE:
        facts.append(f"resolution SLA left: {duration(d.resolution_left)} of business time")
    if req.first_response_breached or req.resolution_breached:
        facts.append(":rotating_light: SLA breached")
    if req.rating is not None:
        facts.append(f"rated {req.rating}/5")
    if req.source_link:
        facts.append(f"<{req.source_link}|original message>")
    if facts:
        blocks.append(views.context(" · ".join(facts)))
    lines = [event_line(e, tz) for e in d.events]
    if lines:
        blocks.append(views.section("*History*"))
        blocks.extend(views.sections("\n".join(lines))[:6])
    buttons = _actions_for(req, team_side=d.viewer_is_team, is_requester=viewer == req.requester_id)
    if buttons:
        blocks.append(views.actions(*buttons))
    return views.message(
        f"{service.ref(req.id)} {req.summary[:100]} — {service.status_label(req.status)}", blocks
    )


def _actions_for(req: ServiceRequest, *, team_side: bool, is_requester: bool) -> list[Block]:
    rid = req.id or 0
    out: list[Block] = []
    if req.status in service.OPEN:
        if team_side:
            out.append(views.button("Claim", Action.CLAIM.for_id(rid), str(rid), style="primary"))
            out.append(views.button("Assign", Action.ASSIGN.for_id(rid), str(rid)))
        if team_side or is_requester:
            out.append(views.button("Resolve", Action.RESOLVE.for_id(rid), str(rid)))
    elif team_side or is_requester:
        out.append(views.button("Reopen", Action.REOPEN.for_id(rid), str(rid)))
    return out


# ---- deflection ----------------------------------------------------------------------------------


def suggestion_block(s: Suggestion, offer_id: int) -> Block:
    if s.kind == "faq":
        text = f":bulb: *{esc(s.title[:200])}*\n{esc(s.answer[:1200])}"
    else:
        answer = f"\n{esc(s.answer[:1000])}" if s.answer else ""
        text = f":mag: Similar resolved request `{s.ref}`: *{esc(s.title[:200])}*{answer}"
    return views.section(
        text,
        accessory=views.button(
            "This answered it", Action.ANSWERED.for_id(f"{offer_id}:{s.ref}"), f"{offer_id}:{s.ref}"
        ),
    )


def suggestions_message(team: Team, offer: RequestOffer, found: list[Suggestion]) -> dict[str, Any]:
    oid = offer.id or 0
    blocks: list[Block] = [
        views.section(
            f"*Before you ask {esc(team.name)}* — these might answer “{esc(offer.summary[:200])}”:"
        ),
        *(suggestion_block(s, oid) for s in found),
        views.actions(
            views.button(
                "Still need help — file it", Action.STILL_NEED.for_id(oid), str(oid), style="primary"
            )
        ),
    ]
    return views.message(f"Before you ask {team.name}: {len(found)} possible answers", blocks)


def deflected_message(team: Team) -> dict[str, Any]:
    text = f"Glad that helped — nothing was filed with {team.name}."
    return views.message(text, [views.section(f":raised_hands: {esc(text)}")])


# ---- FAQ and stats ------------------------------------------------------------------------------


def faq_message(team: Team, entries: list[TeamFaq]) -> dict[str, Any]:
    blocks: list[Block] = [views.section(f"*FAQ of {esc(team.name)}*")]
    if not entries:
        blocks.append(
            views.section(
                f"No entries yet. Members add them with `/ssp faq add {team.key} <question> | <answer>`."
            )
        )
    for f in entries[: MESSAGE_BUDGET - 2]:
        blocks.append(views.section(f"*{esc(f.question[:300])}* ({faq_ref(f.id)})\n{esc(f.answer[:2500])}"))
    if len(entries) > MESSAGE_BUDGET - 2:
        blocks.append(views.context(f"…and {len(entries) - MESSAGE_BUDGET + 2} more."))
    return views.message(f"FAQ of {team.name}: {len(entries)} entries", blocks)


def faq_index_message(entries: list[CatalogueEntry]) -> dict[str, Any]:
    lines = [f"`/ssp faq {e.team.key}` — {esc(e.team.name)}: {e.faq_count} entries" for e in entries]
    blocks = [
        views.section("*Service teams' FAQs*"),
        *views.sections("\n".join(lines) or "No service teams yet."),
    ]
    return views.message("Service teams' FAQs", blocks)


def faq_added(team: Team, entry: TeamFaq, created: bool) -> dict[str, Any]:
    verb = "Added to" if created else "Updated in"
    text = (
        f":white_check_mark: {verb} the FAQ of {esc(team.name)} ({faq_ref(entry.id)}): "
        f"*{esc(entry.question[:300])}*"
    )
    return views.message(f"{verb} the FAQ of {team.name}", [views.section(text)])


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)}%"


def stats_line(s: TeamStats) -> str:
    csat = (
        f"{s.csat:.1f}/5 ({s.ratings} ratings, {_pct(s.satisfied)} 4–5)"
        if s.csat is not None
        else "no ratings"
    )
    return (
        f"*{esc(s.team.name)}* — open {s.open} ({s.waiting} waiting) · breached now {s.breached_open}\n"
        f"last {s.days} days: {s.filed} filed, {s.resolved} resolved, {s.breached} breached · median first "
        f"response {duration(s.median_first_response)} · median resolution {duration(s.median_resolution)} · "
        f"CSAT {csat} · {s.deflections} deflected by the FAQ"
    )


def stats_message(all_stats: list[TeamStats]) -> dict[str, Any]:
    blocks: list[Block] = [views.section("*Service team stats*")]
    blocks.extend(views.section(stats_line(s)) for s in all_stats[: MESSAGE_BUDGET - 2])
    if not all_stats:
        blocks.append(views.section("No service teams yet."))
    blocks.append(
        views.context(
            "Times are business time in each team's hours; resolution excludes time waiting on the requester."
        )
    )
    return views.message("Service team stats", blocks)


# ---- App Home -----------------------------------------------------------------------------------


def home_mine(rows: list[RequestRow], now: datetime, tz: str, limit: int = 5) -> list[Block]:
    blocks: list[Block] = [
        views.section("*My requests*", accessory=views.button("New request", Action.NEW.value))
    ]
    if not rows:
        blocks.append(
            views.section("No open requests. Ask a service team with *New request* or `/ssp request`.")
        )
    for row in rows[:limit]:
        blocks.append(views.section(row_line(row, now, tz), accessory=open_button(row.id)))
    if len(rows) > limit:
        blocks.append(views.context(f"…and {len(rows) - limit} more — `/ssp mine`"))
    return blocks


def home_queue(q: Queue, now: datetime, tz: str, limit: int = 5) -> list[Block]:
    names = ", ".join(esc(t.name) for t in q.teams)
    blocks: list[Block] = [views.section(f"*My team's queue* · {names} · {q.total} open")]
    blocks.extend(queue_rows(q, now, tz, limit))
    if q.total > limit:
        blocks.append(views.context(f"…and {q.total - limit} more — `/ssp queue`"))
    return blocks
