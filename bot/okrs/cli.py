"""`flywheel import okrs` / `flywheel export okrs` (filled in by the OKR feature)."""

from __future__ import annotations

import typer


def register(*, import_app: typer.Typer, export_app: typer.Typer) -> None:
    @import_app.command("okrs")
    def import_okrs(file: str, dry_run: bool = typer.Option(False, "--dry-run")) -> None:
        """Bulk load OKRs from a CSV file."""
        typer.echo("OKR import is not available in this version yet.", err=True)
        raise typer.Exit(2)

    @export_app.command("okrs")
    def export_okrs(
        cycle: str | None = typer.Option(None, "--cycle"), fmt: str = typer.Option("csv", "--format")
    ) -> None:
        """Export OKRs as CSV or JSON."""
        typer.echo("OKR export is not available in this version yet.", err=True)
        raise typer.Exit(2)
