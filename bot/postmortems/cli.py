"""`flywheel export postmortem PM-n [--format md]`: one postmortem as Markdown on standard output."""

from __future__ import annotations

import typer

from bot.common.errors import UserError


def register(*, import_app: typer.Typer, export_app: typer.Typer) -> None:
    @export_app.command("postmortem")
    def export_postmortem(
        ref: str = typer.Argument(..., help="the postmortem's ID, like PM-3"),
        fmt: str = typer.Option("md", "--format", help="md (Markdown, every field)"),
    ) -> None:
        """Export one postmortem, complete, as Markdown."""
        from bot.cli import settings_or_exit
        from bot.common.ids import Kind, parse_id
        from bot.people import service as people
        from bot.postmortems import markdown, service, workflow
        from bot.postmortems.rules import mentioned_users
        from storage.db import Database
        from storage.migrate import upgrade

        settings = settings_or_exit()
        if fmt.lower() not in ("md", "markdown"):
            typer.echo(f"flywheel: --format {fmt!r} is not supported: use md", err=True)
            raise typer.Exit(2)
        try:
            postmortem_id = parse_id(ref, Kind.POSTMORTEM)
        except UserError as err:
            typer.echo(f"flywheel: {err.message}".replace("`", ""), err=True)
            raise typer.Exit(2) from None
        upgrade(settings.database_url)
        db = Database(settings.database_url)
        try:
            with db.session() as s:
                d = service.detail(db_session=s, postmortem_id=postmortem_id)
                ids = {d.pm.author_id, d.pm.published_by or "", *d.participants}
                ids |= {e.posted_by or "" for e in d.timeline} | {e.added_by for e in d.timeline}
                ids |= {a.owner_id for a in d.actions}
                ids |= set(mentioned_users("\n".join(workflow.checked_texts(d).values())))
                found = people.get_many(db_session=s, slack_ids=[i for i in ids if i])
                names = {uid: people.display(p, uid) for uid, p in found.items()}
        except UserError as err:
            typer.echo(f"flywheel: {err.message.splitlines()[0]}".replace("`", ""), err=True)
            raise typer.Exit(1) from None
        finally:
            db.dispose()
        typer.echo(markdown.to_markdown(d, names=names, tz=settings.tz), nl=False)
