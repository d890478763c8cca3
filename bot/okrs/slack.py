"""/okr listeners: parse, call the service, render, acknowledge.

Reads and small writes are answered in the acknowledgement itself (the app runs with
`process_before_response=True`; a `/okr mine` is one indexed query). Only what needs the Web
API after the answer — posting a confirmation, sharing to the channel, refreshing the Home — runs
afterwards on the worker pool or in a lazy listener. Modals are opened during the ack phase,
while the 3-second trigger_id is still valid. The cycle review's listeners and job are in
`review_slack.py`. Every "now" is the app's clock (`ctx.clock`, through `scoring.Clock.of`).
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
from bot.okrs import modals, queries, review, review_slack, scoring, service, views
from bot.okrs import parse as p
from bot.okrs.actions import Action, Callback, Field
from bot.okrs.checks import TITLE_LIMIT, Mode, check_target, clean_title
from bot.okrs.notify import notify
from bot.people import service as people

log = logging.getLogger(__name__)

IGNORED_HINT = {
    p.OfPerson: "`/okr @user` takes people and `cycle:`",
    p.ShowObjective: "`/okr O-n` shows one objective",
    p.ShowHistory: "`/okr history KR-n` shows one key result",
    p.ShowCycle: "`/okr cycle` takes nothing more",
    p.WriteReview: "`/okr review write O-n` opens one objective's review",
    p.CarryOver: "`/okr carry KR-n` carries one key result",
}


def _clock(ctx: AppContext) -> scoring.Clock:
    return scoring.Clock.of(ctx)


def _cycle_line(clock: scoring.Clock, key: str) -> str:
    span = clock.span(key)
    return views.cycle_line(key, span.days_left(clock.now(), clock.tz))


def _resolve_people(ctx: AppContext, request: p.OfPerson) -> list[str]:
    found = list(request.user_ids)
    if request.names:
        with ctx.db.session() as s:
            for name in request.names:
                matches = people.find_by_name(db_session=s, name=name)
                if not matches:
                    raise UserError(
                        f"I don't know anyone called `@{name}`.", hint="Mention them: `/okr @name`."
                    )
                if len(matches) > 1:
                    names = ", ".join(f"<@{m.slack_id}>" for m in matches[:10])
                    raise UserError(f"`@{name}` could be {names} — mention the one you mean.")
                if matches[0].slack_id not in found:
                    found.append(matches[0].slack_id)
    return found


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def answer(
    ctx: AppContext, user_id: str, parsed: p.Parsed, *, channel_id: str | None = None
) -> dict[str, Any]:
    """The reply to a parsed `/okr` (anything but a modal): one service call, one view; words the
    form had no use for are named at the end."""
    payload = _answer(ctx, user_id, parsed, channel_id)
    if parsed.ignored:
        hint = IGNORED_HINT.get(type(parsed.request), "")
        payload = views.add_context(
            payload, f"Ignored `{views.esc(parsed.ignored[:80])}`" + (f" — {hint}." if hint else ".")
        )
    return payload


def _answer(ctx: AppContext, user_id: str, parsed: p.Parsed, channel_id: str | None) -> dict[str, Any]:
    clock = _clock(ctx)
    shared = parsed.share
    request = parsed.request
    is_admin = ctx.is_admin(user_id)
    cycle = clock.span(parsed.cycle).key if parsed.cycle else None
    if isinstance(request, p.Help):
        return views.help_message()
    if isinstance(request, p.Mine | p.OfPerson):
        owners = [user_id] if isinstance(request, p.Mine) else _resolve_people(ctx, request)
        with ctx.db.engine.connect() as conn:  # a read: no session, no commit (the hot path)
            by_owner = {
                o: service.objectives_of(db_session=conn, owner_id=o, clock=clock, cycle_key=cycle)
                for o in owners
            }
        key = cycle or clock.current().key
        mine = owners == [user_id]
        mentions = [f"<@{o}>" for o in owners]
        title = "Your OKRs" if mine and not shared else f"OKRs of {_and(mentions)}"
        payload = views.objectives_message(
            title,
            [s for o in owners for s in by_owner[o]],
            cycle_line=_cycle_line(clock, key),
            empty=(
                "You have no objectives in this cycle. Create one with `/okr new`."
                if mine
                else f"{_and(mentions)} {'has' if len(owners) == 1 else 'have'} no objectives in cycle {key}."
            ),
            share_value=" ".join(mentions) + (f" cycle:{cycle}" if cycle else ""),
            in_channel=shared,
        )
        empty = [f"<@{o}>" for o in owners if not by_owner[o]]
        if len(owners) > 1 and empty and len(empty) < len(owners):
            payload = views.add_context(payload, f"{_and(empty)}: no objectives in cycle {key}.")
        return payload
    if isinstance(request, p.OfTeam):
        with ctx.db.session() as s:
            team = service.find_team(db_session=s, name=request.team)
            states = service.objectives_of_team(db_session=s, team=team, clock=clock, cycle_key=cycle)
        key = cycle or clock.current().key
        return views.objectives_message(
            f"OKRs of {views.esc(team.name)}",
            states,
            cycle_line=_cycle_line(clock, key),
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
            result = queries.tree(db_session=s, clock=clock, team=team, cycle_key=cycle)
        share = "tree" + (f" {team.key}" if team else "") + (f" cycle:{cycle}" if cycle else "")
        return views.tree_message(result, share_value=share, in_channel=shared)
    if isinstance(request, p.ShowHistory):
        with ctx.db.session() as s:
            hist = queries.history(db_session=s, kr_id=request.kr_id, clock=clock)
            may_carry = (
                not shared
                and hist.state.progress < 1.0
                and service.can_edit(
                    db_session=s, objective=hist.objective, actor_id=user_id, is_admin=is_admin
                )
            )
        carry_to = review.carry_target(clock, hist.objective) if may_carry else None
        return views.history_message(hist, share_value=hist.state.ref, in_channel=shared, carry_to=carry_to)
    if isinstance(request, p.Search):
        with ctx.db.session() as s:
            hits, total = queries.search(db_session=s, words=request.words, clock=clock)
        return views.search_message(
            request.words, hits, total, share_value=f"search {request.words}", in_channel=shared
        )
    if isinstance(request, p.ShowCycle):
        with ctx.db.session() as s:
            info = queries.cycle_info(db_session=s, clock=clock)
        return views.cycle_message(info, in_channel=shared)
    if isinstance(request, p.AtRisk):
        with ctx.db.session() as s:
            team = service.find_team(db_session=s, name=request.team) if request.team else None
            items = queries.at_risk(db_session=s, clock=clock, team=team)
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
                cycle_key=request.cycle,
                is_admin=is_admin,
                require_open=True,
            )
        return views.objective_created(objective, in_channel=shared)
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
                clock=clock,
            )
            state = service.objective_detail(db_session=s, objective_id=kr.objective_id, clock=clock)
        kr_state = next(k for k in state.krs if k.kr.id == kr.id)
        return views.kr_added(kr_state, state, in_channel=shared)
    if isinstance(request, p.CheckinCmd):
        with ctx.db.session() as s:
            result = service.check_in(
                db_session=s,
                actor_id=user_id,
                is_admin=is_admin,
                kr_id=request.kr_id,
                value=request.value,
                mode=request.mode,
                confidence=request.confidence,
                note=request.note,
                clock=clock,
            )
        return _checked_in_message(ctx, result, in_channel=shared)
    if isinstance(request, p.ShowReview | p.Subscribe | p.CarryOver):
        return review_slack.answer(ctx, user_id, channel_id, parsed)
    raise UserError("I don't understand that.", hint="`/okr help` lists every form.")


def _checked_in_message(
    ctx: AppContext, result: service.CheckinResult, *, in_channel: bool = False
) -> dict[str, Any]:
    clock = _clock(ctx)
    with ctx.db.session() as s:
        detail = service.objective_detail(db_session=s, objective_id=result.kr.objective_id, clock=clock)
    state = next(k for k in detail.krs if k.kr.id == result.kr.id)
    return views.checked_in(
        state, detail, understood=result.understood, notes=result.notes, in_channel=in_channel
    )


# ---- modals ----------------------------------------------------------------------------------


def open_new_modal(
    ctx: AppContext,
    client: WebClient,
    *,
    trigger_id: str,
    user_id: str,
    channel_id: str | None,
    cycle: str | None = None,
) -> None:
    clock = _clock(ctx)
    current = clock.current()
    drafting = service.drafting_cycle(clock)
    cycles = [current, *([drafting] if drafting else [])]
    chosen = service.check_open(clock=clock, cycle_key=cycle).key if cycle else current.key
    with ctx.db.session() as s:
        teams = service.list_teams(db_session=s)
        # The parent picker loads its options as the user types (`parent_options`); here we only
        # need to know whether there is anything to align to.
        with_parent = any(
            queries.parent_candidates(db_session=s, clock=clock, limit=1, cycle_key=c.key) for c in cycles
        )
    view = modals.new_objective_modal(
        teams=teams,
        with_parent=with_parent,
        cycles=cycles,
        cycle_key=chosen,
        metadata={"channel": channel_id, "cycle": chosen},
    )
    client.views_open(trigger_id=trigger_id, view=view)


def parent_options(ctx: AppContext, user_id: str, query: str, cycle_key: str | None = None) -> dict[str, Any]:
    """The parent picker's options for what the user typed (at most Slack's 100), in the cycle the
    form has selected."""
    with ctx.db.session() as s:
        mine = set() if query.strip() else service.team_ids_of(db_session=s, slack_id=user_id)
        parents = queries.parent_candidates(
            db_session=s,
            clock=_clock(ctx),
            query=query,
            limit=modals.OPTIONS_LIMIT,
            team_ids=mine,
            cycle_key=cycle_key,
        )
    return modals.parent_options(parents, query=query, my_team_ids=mine)


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


def _refresh_home(ctx: AppContext, client: WebClient, user_id: str) -> None:
    from bot.home.slack import publish

    try:
        publish(ctx, client, user_id)
    except Exception:
        log.exception("could not refresh the App Home of %s", user_id)


def home_section(ctx: AppContext, user_id: str) -> list[dict[str, Any]]:
    clock = _clock(ctx)
    current = clock.current()
    with ctx.db.engine.connect() as conn:
        states = service.objectives_of(db_session=conn, owner_id=user_id, clock=clock)
    reviewing = current.key if review.in_review_week(clock, current) else None
    return views.home_section(states, cycle_line=_cycle_line(clock, current.key), review=reviewing)


def read_checkin(values: dict[str, Any]) -> tuple[float, Mode, str]:
    """The check-in modal's value or progress (exactly one), and which field an error belongs to."""
    raw_value, raw_progress = _text(values, Field.VALUE).strip(), _text(values, Field.PROGRESS).strip()
    if raw_value and raw_progress:
        raise UserError("Fill in a new value or a progress, not both.")
    if raw_progress:
        return p.parse_progress(raw_progress), Mode.PROGRESS, Field.PROGRESS.value
    if not raw_value:
        raise UserError("Give a new value (or a progress, a share of the way).")
    number, percent = p.parse_value(raw_value)
    return number, Mode.PERCENT if percent else Mode.VALUE, Field.VALUE.value


# ---- registration ----------------------------------------------------------------------------


def register(app: App, ctx: AppContext) -> None:
    ctx.add_home_section(10, home_section)
    review_slack.register(app, ctx)

    @guarded
    def on_command(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        parsed = p.parse(command.get("text"))
        if isinstance(parsed.request, p.NewModal | p.WriteReview):
            if isinstance(parsed.request, p.NewModal):
                open_new_modal(
                    ctx,
                    client,
                    trigger_id=command["trigger_id"],
                    user_id=command["user_id"],
                    channel_id=command.get("channel_id"),
                    cycle=parsed.request.cycle,
                )
            else:
                review_slack.open_review_modal(
                    ctx,
                    client,
                    trigger_id=command["trigger_id"],
                    user_id=command["user_id"],
                    objective_id=parsed.request.objective_id,
                    channel_id=command.get("channel_id"),
                )
            ack()
            return
        ack(**answer(ctx, command["user_id"], parsed, channel_id=command.get("channel_id")))

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
                view = modals.notice_modal("Check in", str(err))
            else:
                state = service.kr_state_of(s, kr, objective, clock)
                container = body.get("container") or {}
                origin = "home" if container.get("type") == "view" else (body.get("channel") or {}).get("id")
                view = modals.checkin_modal(state, objective, metadata={"channel": origin})
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
            chosen = _selected(_values(body), Field.CYCLE) or _metadata(body).get("cycle")
            options = parent_options(ctx, body["user"]["id"], str(body.get("value") or ""), chosen)
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
        channel = (body.get("channel") or {}).get("id")
        try:
            again = p.parse(value)
            payload = answer(
                ctx, user_id, p.Parsed(again.request, share=True, cycle=again.cycle), channel_id=channel
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
        clock = _clock(ctx)
        try:
            number, mode, field = read_checkin(values)
            confidence_text = _selected(values, Field.CONFIDENCE)
            confidence = p.parse_confidence(confidence_text) if confidence_text else None
            with ctx.db.session() as s:
                result = service.check_in(
                    db_session=s,
                    actor_id=user_id,
                    is_admin=ctx.is_admin(user_id),
                    kr_id=int(meta.get("kr") or 0),
                    value=number,
                    mode=mode,
                    confidence=confidence,
                    note=_text(values, Field.NOTE),
                    clock=clock,
                )
        except UserError as err:
            target = Field.NOTE.value if "note" in err.message.lower() else field
            ack(**modals.modal_errors({target: err.message}))
            return
        ack()
        if meta.get("channel") == "home":
            ctx.executor.submit(_refresh_home, ctx, client, user_id)
            if not (result.understood or result.notes):
                return  # the refreshed Home shows it; a DM only when there is something to say
        ctx.executor.submit(
            lambda: notify(client, user_id, meta.get("channel"), _checked_in_message(ctx, result))
        )

    @app.view(Callback.NEW_OBJECTIVE.value)
    def on_new_submit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        user_id = body["user"]["id"]
        meta = _metadata(body)
        values = _values(body)
        clock = _clock(ctx)
        errors: dict[str, str] = {}
        krs: list[tuple[str, p.AddKr]] = []
        title = ""
        try:
            title = clean_title(_text(values, Field.TITLE), what="objective title", limit=TITLE_LIMIT)
        except UserError as err:
            errors[Field.TITLE.value] = err.message
        for i in range(1, modals.MODAL_KR_ROWS + 1):
            line = _text(values, Field.KR.nth(i)).strip()
            if not line:
                continue
            try:
                kr = p.parse_kr_line(line)
                clean_title(kr.title, what="key result title")
                check_target(kr.start, kr.target)
                krs.append((Field.KR.nth(i), kr))
            except UserError as err:
                errors[Field.KR.nth(i)] = err.message
        cycle_key = _selected(values, Field.CYCLE) or meta.get("cycle") or clock.current().key
        if errors:
            ack(**modals.modal_errors(errors))
            return
        team_id = _selected(values, Field.TEAM)
        parent_id = _selected(values, Field.PARENT)
        field = Field.PARENT.value if parent_id else Field.TITLE.value
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
                    cycle_key=str(cycle_key),
                    is_admin=ctx.is_admin(user_id),
                    require_open=True,
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
                        clock=clock,
                    )
        except UserError as err:
            ack(**modals.modal_errors({field: err.message}))
            return
        ack()
        objective_id = objective.id or 0

        def confirm() -> None:
            with ctx.db.session() as s:
                state = service.objective_detail(db_session=s, objective_id=objective_id, clock=clock)
            notify(client, user_id, meta.get("channel"), views.created_from_modal(state))

        ctx.executor.submit(confirm)
