"""`flywheel import teams FILE.yaml [--dry-run]`: the teams file, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.teams import yaml_io

CLI_ACTOR = "cli"


def register(*, import_app: typer.Typer) -> None:
    @import_app.command("teams")
    def import_teams(
        file: Annotated[Path, typer.Argument(help="YAML: teams: [- key, name, channel, lead, members, …]")],
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="show what would change; write nothing")
        ] = False,
    ) -> None:
        """Create or update product and service teams, their SLAs and FAQ from a YAML file."""
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
                report = yaml_io.import_teams(db_session=s, text=text, actor_id=CLI_ACTOR, dry_run=dry_run)
        finally:
            db.dispose()
        typer.echo(yaml_io.format_report(file.name, report), err=not report.ok)
        raise typer.Exit(0 if report.ok else 1)
