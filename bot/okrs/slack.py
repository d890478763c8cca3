"""/okr listeners: parse, call the service, render, acknowledge.

Reads and small writes are answered in the acknowledgement itself (the app runs with
`process_before_response=True`; a `/okr mine` is two indexed queries). Only what needs the Web
API after the answer — posting a confirmation, sharing to the channel, refreshing the Home — runs
afterwards on the worker pool or in a lazy listener. Modals are opened during the ack phase,
while the 3-second trigger_id is still valid.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.common.errors import UserError
from bot.common.slack import guarded
from bot.context import AppContext
from bot.okrs import parse as p
from bot.okrs import scoring, service, views
from bot.okrs.actions import Action, Callback, Field
from bot.people import service as people

log = logging.getLogger(__name__)


def _clock(ctx: AppContext) -> scoring.Clock:
    return scoring.Clock.from_settings(ctx.settings)


def _cycle_line(ctx: AppContext, key: str) -> str:
    clock = _clock(ctx)
    span = clock.span(key)
    return views.cycle_line(key, span.days_left(clock.now(), clock.tz))


def _resolve_person(ctx: AppContext, request: p.OfPerson) -> str:
    if request.user_id:
        return request.user_id
    with ctx.db.session() as s:
        matches = people.find_by_name(db_session=s, name=request.name or "")
    if not matches:
        raise UserError(f"I don't know anyone called `@{request.name}`.", hint="Mention them: `/okr @name`.")
    if len(matches) > 1:
        names = ", ".join(f"<@{m.slack_id}>" for m in matches[:10])
        raise UserError(f"`@{request.name}` could be {names} — mention the one you mean.")
    return matches[0].slack_id


def answer(ctx: AppContext, user_id: str, parsed: p.Parsed) -> dict[str, Any]:
    """The reply to a parsed `/okr` (anything but the modal): one service call, one view."""
    clock = _clock(ctx)
    shared = parsed.share
    request = parsed.request
    is_admin = ctx.is_admin(user_id)
    cycle = clock.span(parsed.cycle).key if parsed.cycle else None
    if isinstance(request, p.Help):
        return views.help_message()
    if isinstance(request, p.Mine | p.OfPerson):
        owner = user_id if isinstance(request, p.Mine) else _resolve_person(ctx, request)
        with ctx.db.session() as s:
            states = service.objectives_of(db_session=s, owner_id=owner, clock=clock, cycle_key=cycle)
        key = cycle or clock.current().key
        mine = owner == user_id
        return views.objectives_message(
            "Your OKRs" if mine and not shared else f"OKRs of <@{owner}>",
            states,
            cycle_line=_cycle_line(ctx, key),
            empty=(
                "You have no objectives in this cycle. Create one with `/okr new`."
                if mine
                else f"<@{owner}> has no objectives in cycle {key}."
            ),
            share_value=f"<@{owner}>" + (f" cycle:{cycle}" if cycle else ""),
            in_channel=shared,
        )
    if isinstance(request, p.OfTeam):
        with ctx.db.session() as s:
            team = service.find_team(db_session=s, name=request.team)
            states = service.objectives_of_team(db_session=s, team=team, clock=clock, cycle_key=cycle)
        key = cycle or clock.current().key
        return views.objectives_message(
            f"OKRs of {views.esc(team.name)}",
            states,
            cycle_line=_cycle_line(ctx, key),
            empty=f"{views.esc(team.name)} has no objectives in cycle {key}.",
            share_value=f"team {team.key}" + (f" cycle:{cycle}" if cycle else ""),
            in_channel=shared,
        )
    if isinstance(request, p.ShowObjective):
        with ctx.db.session() as s:
            state = service.objective_detail(db_session=s, objective_id=request.objective_id, clock=clock)
        return views.objective_message(state, share_value=state.ref, in_channel=shared)
    if isinstance(request, p.ShowTree):
        with ctx.db.session() as s:
            team = service.find_team(db_session=s, name=request.team) if request.team else None
            result = service.tree(db_session=s, clock=clock, team=team, cycle_key=cycle)
        share = "tree" + (f" {team.key}" if team else "") + (f" cycle:{cycle}" if cycle else "")
        return views.tree_message(result, share_value=share, in_channel=shared)
    if isinstance(request, p.ShowHistory):
        with ctx.db.session() as s:
            hist = service.history(db_session=s, kr_id=request.kr_id, clock=clock)
        return views.history_message(hist, share_value=hist.state.ref, in_channel=shared)
    if isinstance(request, p.Search):
        with ctx.db.session() as s:
            hits, total = service.search(db_session=s, words=request.words, clock=clock)
        return views.search_message(
            request.words, hits, total, share_value=f"search {request.words}", in_channel=shared
        )
    if isinstance(request, p.ShowCycle):
        with ctx.db.session() as s:
            info = service.cycle_info(db_session=s, clock=clock)
        return views.cycle_message(info, in_channel=shared)
    if isinstance(request, p.AtRisk):
        with ctx.db.session() as s:
            team = service.find_team(db_session=s, name=request.team) if request.team else None
            items = service.at_risk(db_session=s, clock=clock, team=team)
        return views.at_risk_message(
            items,
            team=team,
            cycle_key=clock.current().key,
            share_value="atrisk" + (f" {team.key}" if team else ""),
            in_channel=shared,
        )
    if isinstance(request, p.QuickNew):
        with ctx.db.session() as s:
            team = service.find_team(db_session=s, name=request.team) if request.team else None
            objective = service.create_objective(
                db_session=s,
                actor_id=user_id,
                clock=clock,
                title=request.title,
                team=team,
                parent_id=request.parent_id,
                is_admin=is_admin,
            )
        return views.objective_created(objective)
    if isinstance(request, p.AddKr):
        with ctx.db.session() as s:
            kr = service.add_key_result(
                db_session=s,
                actor_id=user_id,
                is_admin=is_admin,
                objective_id=request.objective_id,
                title=request.title,
                target=request.target,
                start=request.start,
                unit=request.unit,
                weight=request.weight,
            )
            objective = service.get_objective(db_session=s, objective_id=kr.objective_id)
            state = scoring.kr_state(kr, clock.elapsed(objective.cycle_key))
        return views.kr_added(state, objective)
    if isinstance(request, p.CheckinCmd):
        with ctx.db.session() as s:
            service.check_in(
                db_session=s,
                actor_id=user_id,
                is_admin=is_admin,
                kr_id=request.kr_id,
                value=request.value,
                percent=request.percent,
                confidence=request.confidence,
                note=request.note,
            )
        return _checked_in_message(ctx, request.kr_id)
    raise UserError("I don't understand that.", hint="`/okr help` lists every form.")


def _checked_in_message(ctx: AppContext, kr_id: int) -> dict[str, Any]:
    clock = _clock(ctx)
    with ctx.db.session() as s:
        kr, objective = service.objective_of_kr(db_session=s, kr_id=kr_id)
        detail = service.objective_detail(db_session=s, objective_id=objective.id or 0, clock=clock)
    state = next(k for k in detail.krs if k.kr.id == kr.id)
    return views.checked_in(state, detail)


# ---- modals ----------------------------------------------------------------------------------


def open_new_modal(
    ctx: AppContext, client: WebClient, *, trigger_id: str, user_id: str, channel_id: str | None
) -> None:
    clock = _clock(ctx)
    with ctx.db.session() as s:
        teams = service.list_teams(db_session=s)
        # The parent picker loads its options as the user types (`parent_options`); here we only
        # need to know whether there is anything to align to.
        with_parent = bool(service.parent_candidates(db_session=s, clock=clock, limit=1))
    view = views.new_objective_modal(
        teams=teams,
        with_parent=with_parent,
        cycle_key=clock.current().key,
        metadata={"channel": channel_id},
    )
    client.views_open(trigger_id=trigger_id, view=view)


def parent_options(ctx: AppContext, user_id: str, query: str) -> dict[str, Any]:
    """The parent picker's options for what the user typed (at most Slack's 100)."""
    with ctx.db.session() as s:
        mine = set() if query.strip() else service.team_ids_of(db_session=s, slack_id=user_id)
        parents = service.parent_candidates(
            db_session=s, clock=_clock(ctx), query=query, limit=views.OPTIONS_LIMIT, team_ids=mine
        )
    return views.parent_options(parents, query=query, my_team_ids=mine)


def _metadata(body: dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads((body.get("view") or {}).get("private_metadata") or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _values(body: dict[str, Any]) -> dict[str, Any]:
    """state.values flattened to field → entry (block_id and action_id are the same Field)."""
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


def _notify(
    ctx: AppContext, client: WebClient, user_id: str, channel_id: str | None, payload: dict[str, Any]
) -> None:
    """A confirmation after a modal: ephemeral where it was started, else a DM."""
    body = {k: v for k, v in payload.items() if k in ("text", "blocks")}
    try:
        if channel_id and not channel_id.startswith("D"):
            client.chat_postEphemeral(channel=channel_id, user=user_id, **body)
        else:
            client.chat_postMessage(channel=user_id, **body)
    except Exception:
        log.exception("could not confirm to %s", user_id)


def _refresh_home(ctx: AppContext, client: WebClient, user_id: str) -> None:
    from bot.home.slack import publish

    try:
        publish(ctx, client, user_id)
    except Exception:
        log.exception("could not refresh the App Home of %s", user_id)


def home_section(ctx: AppContext, user_id: str) -> list[dict[str, Any]]:
    clock = _clock(ctx)
    with ctx.db.session() as s:
        states = service.objectives_of(db_session=s, owner_id=user_id, clock=clock)
    return views.home_section(states, cycle_line=_cycle_line(ctx, clock.current().key))


# ---- registration ----------------------------------------------------------------------------


def register(app: App, ctx: AppContext) -> None:
    ctx.add_home_section(10, home_section)

    @guarded
    def on_command(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        parsed = p.parse(command.get("text"))
        if isinstance(parsed.request, p.NewModal):
            open_new_modal(
                ctx,
                client,
                trigger_id=command["trigger_id"],
                user_id=command["user_id"],
                channel_id=command.get("channel_id"),
            )
            ack()
            return
        ack(**answer(ctx, command["user_id"], parsed))

    app.command("/okr")(on_command)

    @guarded
    def on_checkin_click(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        action = body["actions"][0]
        user_id = body["user"]["id"]
        kr_id = int(action.get("value") or action["action_id"].split(":")[-1])
        clock = _clock(ctx)
        with ctx.db.session() as s:
            try:
                kr, objective = service.objective_of_kr(db_session=s, kr_id=kr_id)
                service.require_edit(
                    db_session=s, objective=objective, actor_id=user_id, is_admin=ctx.is_admin(user_id)
                )
            except UserError as err:
                view = views.notice_modal("Check in", str(err))
            else:
                state = scoring.kr_state(kr, clock.elapsed(objective.cycle_key))
                container = body.get("container") or {}
                origin = "home" if container.get("type") == "view" else (body.get("channel") or {}).get("id")
                view = views.checkin_modal(state, objective, metadata={"channel": origin})
        client.views_open(trigger_id=body["trigger_id"], view=view)
        ack()

    app.action(Action.CHECKIN.pattern())(on_checkin_click)

    @guarded
    def on_new_click(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        open_new_modal(
            ctx, client, trigger_id=body["trigger_id"], user_id=body["user"]["id"], channel_id=None
        )
        ack()

    app.action(Action.NEW.pattern())(on_new_click)

    def on_parent_options(ack: Ack, body: dict[str, Any]) -> None:
        """`block_suggestion` from the create modal's parent picker, answered in the ack."""
        try:
            options = parent_options(ctx, body["user"]["id"], str(body.get("value") or ""))
        except Exception:
            log.exception("parent options failed")
            options = {"options": []}  # Slack then shows "no results" rather than an error
        ack(**options)

    app.options(Field.PARENT.value)(on_parent_options)

    def ack_only(ack: Ack) -> None:
        ack()

    def share(body: dict[str, Any], respond: Respond) -> None:
        """Post what the user was looking at to the channel, as the same query would answer it."""
        user_id = body["user"]["id"]
        value = body["actions"][0].get("value") or ""
        try:
            payload = answer(
                ctx, user_id, p.Parsed(p.parse(value).request, share=True, cycle=p.parse(value).cycle)
            )
        except UserError as err:
            respond(text=str(err), response_type="ephemeral", replace_original=False)
            return
        respond(**payload, replace_original=False)

    app.action(Action.SHARE.pattern())(ack=ack_only, lazy=[share])

    def open_objective(body: dict[str, Any], respond: Respond) -> None:
        value = body["actions"][0].get("value") or body["actions"][0]["action_id"].split(":")[-1]
        try:
            payload = answer(ctx, body["user"]["id"], p.Parsed(p.ShowObjective(int(value))))
        except (UserError, ValueError) as err:
            respond(text=str(err), response_type="ephemeral", replace_original=False)
            return
        respond(**payload, replace_original=False)

    app.action(Action.OPEN_OBJECTIVE.pattern())(ack=ack_only, lazy=[open_objective])

    @app.view(Callback.CHECKIN.value)
    def on_checkin_submit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        user_id = body["user"]["id"]
        meta = _metadata(body)
        values = _values(body)
        field = Field.VALUE.value
        try:
            value, percent = p.parse_value(_text(values, Field.VALUE))
            field = Field.CONFIDENCE.value
            confidence_text = _selected(values, Field.CONFIDENCE)
            confidence = p.parse_confidence(confidence_text) if confidence_text else None
            with ctx.db.session() as s:
                field = Field.VALUE.value
                service.check_in(
                    db_session=s,
                    actor_id=user_id,
                    is_admin=ctx.is_admin(user_id),
                    kr_id=int(meta.get("kr") or 0),
                    value=value,
                    percent=percent,
                    confidence=confidence,
                    note=_text(values, Field.NOTE),
                )
        except UserError as err:
            target = Field.NOTE.value if "note" in err.message.lower() else field
            ack(response_action="errors", errors={target: err.message[:150]})
            return
        ack()
        kr_id = int(meta.get("kr") or 0)
        if meta.get("channel") == "home":
            ctx.executor.submit(_refresh_home, ctx, client, user_id)
        else:
            ctx.executor.submit(
                lambda: _notify(ctx, client, user_id, meta.get("channel"), _checked_in_message(ctx, kr_id))
            )

    @app.view(Callback.NEW_OBJECTIVE.value)
    def on_new_submit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        user_id = body["user"]["id"]
        meta = _metadata(body)
        values = _values(body)
        clock = _clock(ctx)
        errors: dict[str, str] = {}
        krs: list[tuple[str, p.AddKr]] = []
        try:
            title = scoring.clean_text(
                _text(values, Field.TITLE), what="objective title", limit=scoring.TITLE_LIMIT
            )
        except UserError as err:
            errors[Field.TITLE.value] = err.message[:150]
        for i in range(1, views.MODAL_KR_ROWS + 1):
            line = _text(values, Field.KR.nth(i)).strip()
            if not line:
                continue
            try:
                kr = p.parse_kr_line(line)
                scoring.clean_text(kr.title, what="key result title", limit=scoring.TITLE_LIMIT)
                scoring.check_target(kr.start, kr.target)
                krs.append((Field.KR.nth(i), kr))
            except UserError as err:
                errors[Field.KR.nth(i)] = err.message[:150]
        if errors:
            ack(response_action="errors", errors=errors)
            return
        team_id = _selected(values, Field.TEAM)
        parent_id = _selected(values, Field.PARENT)
        field = Field.PARENT.value
        try:
            with ctx.db.session() as s:
                team = service.get_team(db_session=s, team_id=int(team_id)) if team_id else None
                objective = service.create_objective(
                    db_session=s,
                    actor_id=user_id,
                    clock=clock,
                    title=title,
                    team=team,
                    parent_id=int(parent_id) if parent_id else None,
                    description=_text(values, Field.DESCRIPTION),
                    is_admin=ctx.is_admin(user_id),
                )
                for field, kr in krs:  # noqa: B007 (on failure, `field` names the bad row)
                    service.add_key_result(
                        db_session=s,
                        actor_id=user_id,
                        is_admin=ctx.is_admin(user_id),
                        objective_id=objective.id or 0,
                        title=kr.title,
                        target=kr.target,
                        start=kr.start,
                        unit=kr.unit,
                        weight=kr.weight,
                    )
        except UserError as err:
            ack(response_action="errors", errors={field: err.message[:150]})
            return
        ack()
        objective_id = objective.id or 0

        def confirm() -> None:
            with ctx.db.session() as s:
                state = service.objective_detail(db_session=s, objective_id=objective_id, clock=clock)
            _notify(ctx, client, user_id, meta.get("channel"), views.created_from_modal(state))

        ctx.executor.submit(confirm)
