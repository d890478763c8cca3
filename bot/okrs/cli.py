"""`flywheel import okrs FILE.csv [--dry-run]`, `flywheel export okrs [--cycle KEY] [--format csv|json]`
and `flywheel export review --cycle KEY [--format md]`.

The import is all or nothing: every bad row is printed with its line and reason and nothing is
written; otherwise it reports which lines created or updated something, and which teams it created.
Owners given by e-mail are looked up among the people Flywheel knows, then with Slack's
`users.lookupByEmail` when a bot token is configured.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.okrs import csv_io, review, review_md, scoring
from bot.okrs.checks import plain_text

log = logging.getLogger(__name__)
CLI_ACTOR = "cli"


def _ranges(lines: list[int]) -> str:
    """[2, 3, 4, 7] → `2-4, 7`: short enough to read for a thousand rows."""
    out: list[str] = []
    start = prev = None
    for n in lines:
        if start is None:
            start = prev = n
        elif n == (prev or 0) + 1:
            prev = n
        else:
            out.append(f"{start}-{prev}" if start != prev else str(start))
            start = prev = n
    if start is not None:
        out.append(f"{start}-{prev}" if start != prev else str(start))
    return ", ".join(out)


def format_report(name: str, report: csv_io.ImportReport) -> str:
    if report.errors:
        lines = [
            f"{name}: rejected — nothing was imported. {len(report.errors)} problem(s):",
            *(f"  line {e.line}: {e.reason}" for e in report.errors),
        ]
        return "\n".join(lines)
    head = "would import" if report.dry_run else "imported"
    lines = [
        f"{name}: {head} {report.rows} row(s) — {len(report.created)} created, "
        f"{len(report.updated)} updated, {len(report.unchanged)} unchanged, 0 rejected",
        f"  objectives: {report.objectives_created} new, {report.objectives_updated} changed; "
        f"key results: {report.krs_created} new, {report.krs_updated} changed; "
        f"check-ins recorded: {report.checkins}",
    ]
    if report.teams_created:
        teams = ", ".join(f"{key} ({name})" if key != name else key for key, name in report.teams_created)
        verb = "teams to create" if report.dry_run else "teams created"
        lines.append(f"  {verb} (as product teams; flywheel import teams can add details): {teams}")
    if report.created:
        lines.append(f"  created: line {_ranges(report.created)}")
    if report.updated:
        lines.append(f"  updated: line {_ranges(report.updated)}")
    if report.dry_run:
        lines.append("  (dry run: nothing was written)")
    return "\n".join(lines)


def email_resolver(settings: object, db: object) -> object:
    """users.lookupByEmail through the configured Web API, remembering the person; None without a token."""
    token = getattr(settings, "slack_bot_token", None)
    if not token:
        return None
    from slack_sdk.errors import SlackApiError

    from bot.app import make_client
    from bot.people import service as people

    client = make_client(settings)  # type: ignore[arg-type]

    def resolve(email: str) -> str | None:
        try:
            user = client.users_lookupByEmail(email=email)["user"]
        except SlackApiError as exc:
            if exc.response.get("error") != "users_not_found":
                log.warning("users.lookupByEmail failed for %s: %s", email, exc.response.get("error"))
            return None
        with db.session() as s:  # type: ignore[attr-defined]
            people.upsert_from_slack(db_session=s, user=user)
        return str(user["id"])

    return resolve


def register(*, import_app: typer.Typer, export_app: typer.Typer) -> None:
    register_review(export_app)

    @import_app.command("okrs")
    def import_okrs(
        file: Annotated[Path, typer.Argument(help="CSV: cycle,team,owner,objective,parent_objective,…")],
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="show what would change; write nothing")
        ] = False,
    ) -> None:
        """Bulk load OKRs from a CSV file (one row per key result); all or nothing."""
        from bot.cli import settings_or_exit
        from storage.db import Database
        from storage.migrate import upgrade

        settings = settings_or_exit()
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            typer.echo(f"flywheel: cannot read {file}: {exc}", err=True)
            raise typer.Exit(2) from None
        upgrade(settings.database_url)
        db = Database(settings.database_url)
        try:
            with db.session() as s:
                report = csv_io.import_okrs(
                    db_session=s,
                    text=text,
                    actor_id=CLI_ACTOR,
                    clock=scoring.Clock.from_settings(settings),
                    resolve_email=email_resolver(settings, db),  # type: ignore[arg-type]
                    dry_run=dry_run,
                )
        finally:
            db.dispose()
        typer.echo(format_report(file.name, report), err=not report.ok)
        raise typer.Exit(0 if report.ok else 1)

    @export_app.command("okrs")
    def export_okrs(
        cycle: str | None = typer.Option(None, "--cycle", help="a cycle key like 2026-11 (default: all)"),
        fmt: str = typer.Option("csv", "--format", help="csv (re-importable) or json"),
    ) -> None:
        """Export OKRs as CSV (the import format) or JSON (with IDs, progress and status)."""
        if fmt not in ("csv", "json"):
            typer.echo(f"flywheel: --format {fmt!r} is not supported: use csv or json", err=True)
            raise typer.Exit(2)
        with _export_db(cycle) as (db, clock, key):
            with db.session() as s:
                if fmt == "csv":
                    typer.echo(csv_io.export_csv(db_session=s, cycle_key=key), nl=False)
                else:
                    data = csv_io.export_json(db_session=s, clock=clock, cycle_key=key)
                    typer.echo(json.dumps({"cycle": key, "objectives": data}, indent=2, ensure_ascii=False))


@contextmanager
def _export_db(cycle: str | None) -> Iterator[tuple[Any, scoring.Clock, str | None]]:
    """Settings, the cycle key checked (one line and exit 2 if bad), the migrated database."""
    from bot.cli import settings_or_exit
    from bot.common.errors import UserError
    from storage.db import Database
    from storage.migrate import upgrade

    settings = settings_or_exit()
    clock = scoring.Clock.from_settings(settings)
    try:
        key = clock.span(cycle).key if cycle else None
    except UserError as err:
        typer.echo(f"flywheel: {plain_text(err.message)}", err=True)
        raise typer.Exit(2) from None
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    try:
        yield db, clock, key
    finally:
        db.dispose()


def _review_markdown(db: object, clock: scoring.Clock, cycle_key: str) -> str:
    with db.session() as s:  # type: ignore[attr-defined]
        company = review.report(db_session=s, clock=clock, cycle_key=cycle_key)
        teams = [line.team for line in company.teams if line.team is not None]
        per_team = [review.report(db_session=s, clock=clock, cycle_key=cycle_key, team=t) for t in teams]
    return review_md.to_markdown(company, per_team)


def register_review(export_app: typer.Typer) -> None:
    @export_app.command("review")
    def export_review(
        cycle: str = typer.Option(..., "--cycle", help="the cycle key, like 2026-11"),
        fmt: str = typer.Option("md", "--format", help="md (Markdown)"),
    ) -> None:
        """Export a cycle's review (复盘): every team's scores, met and missed, and reflections."""
        if fmt != "md":
            typer.echo(f"flywheel: --format {fmt!r} is not supported: use md", err=True)
            raise typer.Exit(2)
        with _export_db(cycle) as (db, clock, key):
            typer.echo(_review_markdown(db, clock, key or ""), nl=False)
