"""/ssp buttons and modal submissions: Claim, Assign, Resolve, Reopen, Open, the rating, the
deflection choices, and the request, offer and assign modals.

A button is acknowledged first and then handled inside the same request (the app runs with
`process_before_response=True`): the service decides, and the answer depends on where the button
was — the intake post is updated in place (by `notify`), an ephemeral answer is replaced, the App
Home is republished, a modal is updated. Refusals come back as an ephemeral line (or a small modal
on the App Home) and change nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.common import views as cv
from bot.common.errors import UserError
from bot.common.slack import SORRY
from bot.context import AppContext
from bot.people import service as people
from bot.requests import faq, modals, notices, notify, queries, service, views
from bot.requests.actions import Action, Callback, Field
from bot.teams import service as teams

log = logging.getLogger(__name__)


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


def _where(body: dict[str, Any]) -> str:
    container = body.get("container") or {}
    if container.get("type") == "view":
        return "home" if (body.get("view") or {}).get("type") == "home" else "modal"
    return "ephemeral" if container.get("is_ephemeral") else "message"


def _refresh_home(ctx: AppContext, client: WebClient, user_id: str) -> None:
    from bot.home.slack import publish

    try:
        publish(ctx, client, user_id)
    except Exception:
        log.exception("could not refresh the App Home of %s", user_id)


def _tell(ctx: AppContext, client: WebClient, body: dict[str, Any], respond: Respond, text: str) -> None:
    """A refusal or a problem, where the user clicked."""
    where = _where(body)
    try:
        if where in ("home", "modal") and body.get("trigger_id"):
            if where == "modal":
                client.views_push(
                    trigger_id=body["trigger_id"], view=modals.notice_modal("Request", f":warning: {text}")
                )
            else:
                client.views_open(
                    trigger_id=body["trigger_id"], view=modals.notice_modal("Request", f":warning: {text}")
                )
        else:
            respond(**cv.error_message(text), replace_original=False)
    except Exception:
        log.exception("could not show a refusal to %s", body.get("user", {}).get("id"))


def _number(value: str) -> int:
    try:
        return int(value.split(":")[0])
    except (ValueError, IndexError):
        raise UserError("That button no longer works; run the command again.") from None


def register(app: App, ctx: AppContext, *, open_request_modal: Callable[..., None]) -> None:
    def button(action: Action, handler: Callable[[dict[str, Any], WebClient, Respond, str], None]) -> None:
        def listener(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
            ack()
            act = body["actions"][0]
            value = str(act.get("value") or act["action_id"].split(":", 1)[-1])
            try:
                handler(body, client, respond, value)
            except UserError as err:
                _tell(ctx, client, body, respond, str(err))
            except Exception:
                log.exception("%s failed", action.value)
                _tell(ctx, client, body, respond, SORRY)

        app.action(action.pattern())(listener)

    def after(body: dict[str, Any], client: WebClient, respond: Respond, change: service.Change) -> None:
        """The requester and the intake post hear of it; the surface clicked on shows the result."""
        user_id = body["user"]["id"]
        notify.submit(ctx, client, change)
        where = _where(body)
        if where == "home":
            ctx.executor.submit(_refresh_home, ctx, client, user_id)
        elif where == "ephemeral":
            now = ctx.clock.now()
            with ctx.db.session() as s:
                detail = queries.status(
                    db_session=s,
                    request_id=change.request.id or 0,
                    user_id=user_id,
                    is_admin=ctx.is_admin(user_id),
                    now=now,
                )
            message = views.detail_message(detail, now, notify.tz_of(ctx, user_id), viewer=user_id)
            message["blocks"].insert(0, cv.section(f":white_check_mark: {notices.done_text(change)}"))
            respond(**message, replace_original=True)
        elif where == "message" and change.request.intake_ts != (body.get("container") or {}).get(
            "message_ts"
        ):
            respond(text=notices.done_text(change), response_type="ephemeral", replace_original=False)

    def verb(fn: Callable[..., service.Change]) -> Callable[[dict[str, Any], WebClient, Respond, str], None]:
        def handler(body: dict[str, Any], client: WebClient, respond: Respond, value: str) -> None:
            user_id = body["user"]["id"]
            with ctx.db.session() as s:
                change = fn(
                    db_session=s,
                    request_id=_number(value),
                    actor_id=user_id,
                    is_admin=ctx.is_admin(user_id),
                    now=ctx.clock.now(),
                )
            after(body, client, respond, change)

        return handler

    button(Action.CLAIM, verb(service.claim))
    button(Action.RESOLVE, verb(service.resolve))
    button(Action.REOPEN, verb(service.reopen))

    def on_assign(body: dict[str, Any], client: WebClient, respond: Respond, value: str) -> None:
        user_id = body["user"]["id"]
        request_id = _number(value)
        with ctx.db.session() as s:
            req, team = service.get_visible(
                db_session=s, request_id=request_id, user_id=user_id, is_admin=ctx.is_admin(user_id)
            )
            if not service.can_triage(
                db_session=s, team=team, user_id=user_id, is_admin=ctx.is_admin(user_id)
            ):
                raise UserError(
                    f"Only members of {team.name} (or an admin) can assign {service.ref(req.id)}."
                )
            ids = sorted(teams.member_ids(db_session=s, team=team))
            known = people.get_many(db_session=s, slack_ids=ids)
            members = [(uid, people.display(known.get(uid), uid)) for uid in ids]
        container = body.get("container") or {}
        meta = {"channel": container.get("channel_id"), "where": _where(body)}
        client.views_open(
            trigger_id=body["trigger_id"], view=modals.assign_modal(request_id, req.summary, members, meta)
        )

    button(Action.ASSIGN, on_assign)

    def on_open(body: dict[str, Any], client: WebClient, respond: Respond, value: str) -> None:
        user_id = body["user"]["id"]
        now = ctx.clock.now()
        with ctx.db.session() as s:
            detail = queries.status(
                db_session=s,
                request_id=_number(value),
                user_id=user_id,
                is_admin=ctx.is_admin(user_id),
                now=now,
            )
        message = views.detail_message(detail, now, notify.tz_of(ctx, user_id), viewer=user_id)
        if _where(body) in ("home", "modal"):
            view = modals.notice_modal(service.ref(detail.request.id), "")
            view["blocks"] = message["blocks"][: cv.VIEW_BLOCK_LIMIT]
            client.views_open(trigger_id=body["trigger_id"], view=view)
        else:
            respond(**message, replace_original=False)

    button(Action.OPEN, on_open)

    def on_rate(body: dict[str, Any], client: WebClient, respond: Respond, value: str) -> None:
        user_id = body["user"]["id"]
        request_id, _, stars = value.partition(":")
        try:
            rating = int(stars)
        except ValueError:
            raise UserError("A rating is a whole number from 1 to 5.") from None
        with ctx.db.session() as s:
            change = service.rate(
                db_session=s,
                request_id=_number(request_id),
                actor_id=user_id,
                is_admin=ctx.is_admin(user_id),
                rating=rating,
                now=ctx.clock.now(),
            )
        respond(**notices.rated_message(change.request), replace_original=True)
        notify.submit(ctx, client, change)

    button(Action.RATE, on_rate)

    def on_answered(body: dict[str, Any], client: WebClient, respond: Respond, value: str) -> None:
        user_id = body["user"]["id"]
        offer_id, _, answered_by = value.partition(":")
        with ctx.db.session() as s:
            offer = faq.deflect(
                db_session=s,
                offer_id=_number(offer_id),
                user_id=user_id,
                answered_by=answered_by,
                now=ctx.clock.now(),
            )
            team = teams.get(db_session=s, team_id=offer.team_id)
        message = views.deflected_message(team)
        if _where(body) == "modal":
            view = modals.notice_modal("Answered", message["blocks"][0]["text"]["text"])
            client.views_update(view_id=body["view"]["id"], view=view)
        else:
            respond(**message, replace_original=True)

    button(Action.ANSWERED, on_answered)

    def on_still_need(body: dict[str, Any], client: WebClient, respond: Respond, value: str) -> None:
        user_id = body["user"]["id"]
        with ctx.db.session() as s:
            change = faq.file_offer(
                db_session=s, offer_id=_number(value), user_id=user_id, now=ctx.clock.now()
            )
        respond(
            **views.created_message(change.request, change.team, notify.tz_of(ctx, user_id)),
            replace_original=True,
        )
        notify.submit(ctx, client, change)

    button(Action.STILL_NEED, on_still_need)

    def on_new(body: dict[str, Any], client: WebClient, respond: Respond, value: str) -> None:
        open_request_modal(ctx, client, trigger_id=body["trigger_id"], user_id=body["user"]["id"])

    button(Action.NEW, on_new)

    @app.view(Callback.REQUEST.value)
    def on_request_submit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        user_id = body["user"]["id"]
        meta = _metadata(body)
        values = _values(body)
        now = ctx.clock.now()
        summary = _text(values, Field.SUMMARY)
        field = Field.SUMMARY.value
        try:
            with ctx.db.session() as s:
                team_id = _selected(values, Field.TEAM)
                field = Field.TEAM.value
                if not team_id:
                    raise UserError("Choose the team to ask.")
                team = teams.get(db_session=s, team_id=int(team_id))
                field = Field.SUMMARY.value
                offer = faq.offer(
                    db_session=s,
                    team=team,
                    user_id=user_id,
                    summary=summary,
                    details=_text(values, Field.DETAILS),
                    urgency=_selected(values, Field.URGENCY) or "normal",
                    source_link=meta.get("source"),
                    now=now,
                )
                found = faq.suggest(
                    db_session=s,
                    team=team,
                    text=f"{offer.summary} {offer.details}",
                    user_id=user_id,
                    is_admin=ctx.is_admin(user_id),
                )
                if found:
                    ack(
                        response_action="update",
                        view=modals.offer_modal(team, offer.id or 0, offer.summary, found, meta),
                    )
                    return
                change = faq.file_offer(db_session=s, offer_id=offer.id or 0, user_id=user_id, now=now)
        except UserError as err:
            ack(response_action="errors", errors={field: err.message[:150]})
            return
        except Exception:
            log.exception("request modal failed")
            ack(response_action="errors", errors={Field.SUMMARY.value: SORRY[:150]})
            return
        ack()
        notify.submit(ctx, client, change, confirm_to=user_id)

    @app.view(Callback.OFFER.value)
    def on_offer_submit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        user_id = body["user"]["id"]
        meta = _metadata(body)
        try:
            with ctx.db.session() as s:
                change = faq.file_offer(
                    db_session=s, offer_id=int(meta.get("offer") or 0), user_id=user_id, now=ctx.clock.now()
                )
        except UserError as err:
            ack(response_action="update", view=modals.notice_modal("Request", f":warning: {err}"))
            return
        ack()
        notify.submit(ctx, client, change, confirm_to=user_id)

    @app.view(Callback.ASSIGN.value)
    def on_assign_submit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        user_id = body["user"]["id"]
        meta = _metadata(body)
        assignee = _selected(_values(body), Field.ASSIGNEE)
        try:
            if not assignee:
                raise UserError("Choose someone.")
            with ctx.db.session() as s:
                change = service.assign(
                    db_session=s,
                    request_id=int(meta.get("request") or 0),
                    actor_id=user_id,
                    is_admin=ctx.is_admin(user_id),
                    assignee_id=assignee,
                    now=ctx.clock.now(),
                )
        except UserError as err:
            ack(response_action="errors", errors={Field.ASSIGNEE.value: err.message[:150]})
            return
        ack()
        notify.submit(ctx, client, change)
        if meta.get("where") == "home":
            ctx.executor.submit(_refresh_home, ctx, client, user_id)
