"""The /postmortem modals: opening them from buttons and commands, and their submissions.

Opening happens in the acknowledgement (the trigger_id lives 3 s); a button inside a modal pushes
its modal on top. A refused edit opens a small notice instead of the form. Submissions validate
every field and answer bad input with `response_action: errors` on the field at fault (plain text,
nothing changed); after a good one the follow-up — a confirmation, the refreshed list under a
pushed modal, the App Home — runs on the worker pool after the ack.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import date, datetime, time
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.common import views as common_views
from bot.common.errors import UserError
from bot.context import AppContext
from bot.people import service as people
from bot.postmortems import items, modals, service, views
from bot.postmortems.actions import Action, Callback, Field
from bot.postmortems.rules import FIELDS, ActionStatus
from bot.postmortems.viewer import refresh_home, show_message, today_for, viewer_tz

log = logging.getLogger(__name__)


# ---- reading a submission ---------------------------------------------------------------------


def _metadata(body: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads((body.get("view") or {}).get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _values(body: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for block_id, actions in ((body.get("view") or {}).get("state") or {}).get("values", {}).items():
        for entry in actions.values():
            flat[block_id] = entry
    return flat


def _text(values: dict[str, Any], field: str) -> str:
    return str((values.get(field) or {}).get("value") or "")


def _selected(values: dict[str, Any], field: str) -> str | None:
    option = (values.get(field) or {}).get("selected_option")
    return str(option["value"]) if option else None


def _origin(body: dict[str, Any]) -> str | None:
    """Where a click came from: "home", "modal", or the channel of the message."""
    container = body.get("container") or {}
    if container.get("type") == "view":
        return "home" if (body.get("view") or {}).get("type") == "home" else "modal"
    return (body.get("channel") or {}).get("id") or container.get("channel_id")


def _id_of(body: dict[str, Any]) -> int:
    action = body["actions"][0]
    return int(action.get("value") or action["action_id"].split(":")[-1])


# ---- opening ----------------------------------------------------------------------------------


def _show(
    client: WebClient, body_or_trigger: dict[str, Any] | str, view: dict[str, Any], *, push: bool
) -> None:
    trigger = body_or_trigger if isinstance(body_or_trigger, str) else body_or_trigger["trigger_id"]
    if push:
        client.views_push(trigger_id=trigger, view=view)
    else:
        client.views_open(trigger_id=trigger, view=view)


def open_template(
    ctx: AppContext,
    client: WebClient,
    *,
    trigger_id: str,
    user_id: str,
    postmortem_id: int | None,
    origin: str | None,
    channel_id: str | None,
    push: bool = False,
) -> None:
    """The template: empty for a new postmortem, filled for an edit (which needs edit rights)."""
    if postmortem_id is None:
        linked = channel_id if channel_id and channel_id[:1] in "CG" else None
        view = modals.template_modal(
            values={}, participants=[], channel_id=linked, metadata={"pm": None, "origin": origin}
        )
    else:
        with ctx.db.session() as s:
            try:
                d = service.detail(db_session=s, postmortem_id=postmortem_id)
                service.require_edit(
                    db_session=s, pm=d.pm, actor_id=user_id, is_admin=ctx.is_admin(user_id), doing="edit"
                )
            except UserError as err:
                _show(client, trigger_id, modals.notice_modal("Edit postmortem", str(err)), push=push)
                return
        view = modals.template_modal(
            values=service.fields_of(d.pm),
            participants=d.participants,
            channel_id=d.pm.channel_id,
            metadata=modals.pm_metadata(postmortem_id, origin),
            ref=d.ref,
        )
    _show(client, trigger_id, view, push=push)


def _open_for_edit(ctx: AppContext, client: WebClient, body: dict[str, Any], build: Any, title: str) -> None:
    """Load, check the edit right, build and show (pushed when clicked inside a modal)."""
    user_id = body["user"]["id"]
    origin = _origin(body)
    push = origin == "modal"
    tz = viewer_tz(ctx, user_id)
    try:
        with ctx.db.session() as s:
            view = build(s, _id_of(body), tz, today_for(ctx, tz), user_id, origin)
    except UserError as err:
        view = modals.notice_modal(title, str(err))
    _show(client, body, view, push=push)


def _editable(s: Any, ctx: AppContext, postmortem_id: int, user_id: str) -> service.Detail:
    d = service.detail(db_session=s, postmortem_id=postmortem_id)
    service.require_edit(
        db_session=s, pm=d.pm, actor_id=user_id, is_admin=ctx.is_admin(user_id), doing="edit"
    )
    return d


# ---- after a submission -----------------------------------------------------------------------


def _notify(
    ctx: AppContext, client: WebClient, user_id: str, origin: str | None, payload: dict[str, Any]
) -> None:
    body = {k: v for k, v in payload.items() if k in ("text", "blocks")}
    try:
        if origin == "home":
            refresh_home(ctx, client, user_id)
        elif origin and origin[:1] in "CG":
            client.chat_postEphemeral(channel=origin, user=user_id, **body)
        else:
            client.chat_postMessage(channel=user_id, **body)
    except Exception:
        log.exception("could not confirm to %s", user_id)


def _refresh_parent(
    ctx: AppContext, client: WebClient, body: dict[str, Any], which: str, postmortem_id: int
) -> bool:
    """Under a pushed modal, bring the list it was opened from up to date. True when there was one."""
    parent = (body.get("view") or {}).get("previous_view_id")
    if not parent:
        return False
    user_id = body["user"]["id"]
    tz = viewer_tz(ctx, user_id)
    meta = modals.pm_metadata(postmortem_id, "modal")
    try:
        with ctx.db.session() as s:
            d = service.detail(db_session=s, postmortem_id=postmortem_id)
        view = (
            modals.timeline_modal(d, tz=tz, metadata=meta)
            if which == "timeline"
            else modals.actions_modal(d, today=today_for(ctx, tz), metadata=meta)
        )
        client.views_update(view_id=parent, view=view)
    except Exception:
        log.exception("could not refresh the modal under %s", which)
    return True


def plain_error(ctx: AppContext, message: str) -> str:
    """A service's message for a modal's error line, which Slack shows as plain text: mentions
    become names, code marks go, and it fits Slack's 150 characters."""

    def name(m: re.Match[str]) -> str:
        with ctx.db.session() as s:
            person = people.get(db_session=s, slack_id=m.group(1))
        return "@" + (people.display(person, m.group(1)) if person else m.group(1))

    text = re.sub(r"<@([UW][A-Z0-9]+)>", name, message).replace("`", "")
    return text if len(text) <= 150 else text[:149] + "…"


def _field_errors(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in FIELDS:
        raw = _text(values, Field.text(f.key))
        try:
            changes.update(service.clean_fields({f.key: raw}))
        except UserError as err:
            errors[Field.text(f.key)] = err.message[:150]
    changes["severity"] = _selected(values, Field.SEVERITY.value)
    return changes, errors


def _local_datetime(day: str | None, clock_time: str | None, tz: Any) -> datetime:
    try:
        d = date.fromisoformat(day or "")
        h, m = (int(x) for x in (clock_time or "").split(":")[:2])
        return datetime.combine(d, time(h, m), tzinfo=tz)
    except ValueError:
        raise UserError("Pick a date and a time.") from None


# ---- registration -----------------------------------------------------------------------------


def register(app: App, ctx: AppContext) -> None:
    def on_edit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        origin = _origin(body)
        open_template(
            ctx,
            client,
            trigger_id=body["trigger_id"],
            user_id=body["user"]["id"],
            postmortem_id=_id_of(body),
            origin=origin,
            channel_id=None,
            push=origin == "modal",
        )
        ack()

    app.action(Action.EDIT.pattern())(on_edit)

    def opener(kind: str, title: str) -> Any:
        def build(
            s: Any, ident: int, tz: Any, today: date, user_id: str, origin: str | None
        ) -> dict[str, Any]:
            if kind in ("entry", "timeline", "action", "actions"):
                d = _editable(s, ctx, ident, user_id)
                meta = modals.pm_metadata(ident, origin)
                if kind == "entry":
                    return modals.entry_modal(d, tz=tz, now=ctx.clock.now(), metadata=meta)
                if kind == "timeline":
                    return modals.timeline_modal(d, tz=tz, metadata=meta)
                if kind == "action":
                    return modals.action_modal(d, today=today, metadata=meta)
                return modals.actions_modal(d, today=today, metadata=meta)
            if kind == "edit_entry":
                from storage.models.postmortems import TimelineEntry

                entry = s.get(TimelineEntry, ident)
                if entry is None:
                    raise UserError("That timeline entry no longer exists.")
                d = _editable(s, ctx, entry.postmortem_id, user_id)
                return modals.entry_modal(
                    d,
                    tz=tz,
                    now=ctx.clock.now(),
                    metadata=modals.pm_metadata(d.pm.id or 0, origin),
                    entry=entry,
                )
            item = service.get_action_item(db_session=s, action_item_id=ident)
            d = _editable(s, ctx, item.postmortem_id, user_id)
            return modals.action_modal(
                d, today=today, metadata=modals.pm_metadata(d.pm.id or 0, origin), item=item
            )

        def listener(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
            try:
                _open_for_edit(ctx, client, body, build, title)
            except Exception:
                log.exception("could not open %s", title)
            ack()

        return listener

    app.action(Action.ADD_ENTRY.pattern())(opener("entry", "Add timeline entry"))
    app.action(Action.EDIT_TIMELINE.pattern())(opener("timeline", "Edit timeline"))
    app.action(Action.EDIT_ENTRY.pattern())(opener("edit_entry", "Edit timeline entry"))
    app.action(Action.ADD_ACTION.pattern())(opener("action", "Add action item"))
    app.action(Action.EDIT_ACTIONS.pattern())(opener("actions", "Edit action items"))
    app.action(Action.EDIT_ACTION.pattern())(opener("edit_action", "Edit action item"))

    @app.view(Callback.TEMPLATE.value)
    def on_template(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        user_id = body["user"]["id"]
        meta = _metadata(body)
        values = _values(body)
        changes, errors = _field_errors(values)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        participants = list((values.get(Field.PARTICIPANTS.value) or {}).get("selected_users") or [])
        linked = (values.get(Field.CHANNEL.value) or {}).get("selected_conversation")
        title_field = Field.text("title")
        try:
            with ctx.db.session() as s:
                if meta.get("pm"):
                    pm = service.update(
                        db_session=s,
                        actor_id=user_id,
                        is_admin=ctx.is_admin(user_id),
                        postmortem_id=int(meta["pm"]),
                        changes=changes,
                        participants=participants,
                        channel_id=linked,
                        now=ctx.clock.now(),
                    )
                else:
                    title = changes.pop("title")
                    severity = changes.pop("severity")
                    pm = service.create(
                        db_session=s,
                        actor_id=user_id,
                        title=title,
                        severity=severity,
                        channel_id=linked,
                        fields=changes,
                        participants=participants,
                        now=ctx.clock.now(),
                    )
        except UserError as err:
            ack(response_action="errors", errors={title_field: plain_error(ctx, err.message)})
            return
        ack()
        pm_id, origin = pm.id or 0, meta.get("origin")

        def confirm() -> None:
            payload = show_message(ctx, user_id, pm_id) if meta.get("pm") else views.created_message(pm)
            _notify(ctx, client, user_id, origin, payload)

        ctx.executor.submit(confirm)

    def _entry_submit(ack: Ack, body: dict[str, Any], client: WebClient, *, edit: bool) -> None:
        user_id = body["user"]["id"]
        meta = _metadata(body)
        values = _values(body)
        pm_id = int(meta.get("pm") or 0)
        tz = viewer_tz(ctx, user_id)
        text = _text(values, Field.TEXT.value)
        link = _text(values, Field.LINK.value).strip()
        delete = bool((values.get(Field.DELETE.value) or {}).get("selected_options"))
        try:
            at = _local_datetime(
                (values.get(Field.DATE.value) or {}).get("selected_date"),
                (values.get(Field.TIME.value) or {}).get("selected_time"),
                tz,
            )
        except UserError as err:
            ack(response_action="errors", errors={Field.TIME.value: err.message})
            return
        if link and not link.startswith(("https://", "http://")):
            ack(response_action="errors", errors={Field.LINK.value: "A link starts with https://"})
            return
        try:
            with ctx.db.session() as s:
                if edit and delete:
                    items.delete_timeline_entry(
                        db_session=s,
                        actor_id=user_id,
                        is_admin=ctx.is_admin(user_id),
                        postmortem_id=pm_id,
                        entry_id=int(meta.get("entry") or 0),
                    )
                elif edit:
                    items.edit_timeline_entry(
                        db_session=s,
                        actor_id=user_id,
                        is_admin=ctx.is_admin(user_id),
                        postmortem_id=pm_id,
                        entry_id=int(meta.get("entry") or 0),
                        at=at,
                        text=text,
                    )
                else:
                    items.add_timeline_entry(
                        db_session=s,
                        actor_id=user_id,
                        is_admin=ctx.is_admin(user_id),
                        postmortem_id=pm_id,
                        at=at,
                        text=text,
                        source_link=link,
                    )
        except UserError as err:
            ack(response_action="errors", errors={Field.TEXT.value: plain_error(ctx, err.message)})
            return
        ack()

        def after() -> None:
            if _refresh_parent(ctx, client, body, "timeline", pm_id):
                return
            ref = service.pm_ref(pm_id)
            text_ = f":white_check_mark: Added to the timeline of {ref} at {views.when(at, tz)} ({tz.key})."
            _notify(
                ctx,
                client,
                user_id,
                meta.get("origin"),
                {"text": text_, "blocks": [common_views.section(text_)]},
            )

        ctx.executor.submit(after)

    @app.view(Callback.ADD_ENTRY.value)
    def on_add_entry(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        _entry_submit(ack, body, client, edit=False)

    @app.view(Callback.EDIT_ENTRY.value)
    def on_edit_entry(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        _entry_submit(ack, body, client, edit=True)

    def _action_submit(ack: Ack, body: dict[str, Any], client: WebClient, *, edit: bool) -> None:
        user_id = body["user"]["id"]
        meta = _metadata(body)
        values = _values(body)
        pm_id = int(meta.get("pm") or 0)
        tz = viewer_tz(ctx, user_id)
        today = today_for(ctx, tz)
        owner = (values.get(Field.OWNER.value) or {}).get("selected_user") or ""
        try:
            due = date.fromisoformat((values.get(Field.DUE.value) or {}).get("selected_date") or "")
        except ValueError:
            ack(response_action="errors", errors={Field.DUE.value: "Pick a due date."})
            return
        if due < today and not edit:
            ack(
                response_action="errors",
                errors={Field.DUE.value: f"{due.isoformat()} is in the past — pick today or later."},
            )
            return
        kind = _selected(values, Field.KIND.value) or "corrective"
        field = Field.TITLE.value
        try:
            with ctx.db.session() as s:
                if edit:
                    item = items.update_action_item(
                        db_session=s,
                        actor_id=user_id,
                        is_admin=ctx.is_admin(user_id),
                        action_item_id=int(meta.get("item") or 0),
                        today=today,
                        title=_text(values, Field.TITLE.value),
                        owner_id=owner,
                        due_on=due,
                        kind=kind,
                        status=_selected(values, Field.STATUS.value) or ActionStatus.OPEN.value,
                    )
                else:
                    item = items.add_action_item(
                        db_session=s,
                        actor_id=user_id,
                        is_admin=ctx.is_admin(user_id),
                        postmortem_id=pm_id,
                        title=_text(values, Field.TITLE.value),
                        owner_id=owner,
                        due_on=due,
                        today=today,
                        kind=kind,
                    )
                pm = service.get(db_session=s, postmortem_id=item.postmortem_id)
        except UserError as err:
            if "due date" in err.message:
                field = Field.DUE.value
            elif "owner" in err.message or "someone" in err.message:
                field = Field.OWNER.value
            ack(response_action="errors", errors={field: plain_error(ctx, err.message)})
            return
        ack()

        def after() -> None:
            if _refresh_parent(ctx, client, body, "actions", pm.id or 0):
                return
            _notify(ctx, client, user_id, meta.get("origin"), views.action_added(item, pm, today))

        ctx.executor.submit(after)

    @app.view(Callback.ADD_ACTION.value)
    def on_add_action(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        _action_submit(ack, body, client, edit=False)

    @app.view(Callback.EDIT_ACTION.value)
    def on_edit_action(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        _action_submit(ack, body, client, edit=True)

    @app.view(Callback.TIMELINE.value)
    def on_timeline_done(ack: Ack) -> None:
        ack()

    @app.view(Callback.ACTIONS.value)
    def on_actions_done(ack: Ack) -> None:
        ack()
