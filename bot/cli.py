"""The `flywheel` command line: serve, demo, db, import, export, manifest.

Every command turns a bad setting or bad input into one line on stderr and a non-zero exit;
tracebacks go to the log only.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer

from bot.config import Settings, SettingsError, load_settings

app = typer.Typer(
    help="Flywheel — OKRs, service requests, postmortems and review summaries in Slack.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
import_app = typer.Typer(
    help="Bulk load from files (idempotent, all or nothing per file).", no_args_is_help=True
)
export_app = typer.Typer(help="Export data.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")

log = logging.getLogger("flywheel")


def settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as err:
        typer.echo(f"flywheel: {err}", err=True)
        raise typer.Exit(2) from None


def _setup_logging(settings: Settings) -> None:
    from bot import logs

    logs.setup(settings.log_level, settings.log_format)


@app.command()
def serve(port: int | None = typer.Option(None, "--port", help="HTTP port (default: PORT or 3000)")) -> None:
    """Run the bot: Socket Mode when SLACK_APP_TOKEN is set, otherwise HTTP on --port."""
    settings = settings_or_exit()
    try:
        settings.require_for_serve()
    except SettingsError as err:
        typer.echo(f"flywheel: {err}", err=True)
        raise typer.Exit(2) from None
    _setup_logging(settings)
    from bot.runner import run

    try:
        run(settings, port=port or settings.port)
    except SettingsError as err:
        typer.echo(f"flywheel: {err}", err=True)
        raise typer.Exit(2) from None


@app.command()
def demo(
    script: str | None = typer.Option(None, "--script", help="run lines from FILE (or - for stdin) and exit"),
    db: str | None = typer.Option(None, "--db", help="SQLite file to keep (default: a temporary one)"),
    user: str = typer.Option("lena", "--as", help="who you are at the start (name or user ID)"),
    verbose: bool = typer.Option(False, "--verbose", help="also print the bot's log lines"),
    socket: bool = typer.Option(
        False, "--socket", help="run the bot in Socket Mode (a WebSocket to the simulator) instead of HTTP"
    ),
) -> None:
    """Try the real bot against a local Slack simulator with a seeded demo company. No token, no network."""
    from bot.demo.run import run_demo

    settings_or_exit()  # a malformed .env should fail here the same way as everywhere
    lines = None
    if script is not None:
        if script == "-":
            lines = sys.stdin.read().splitlines()
        else:
            path = Path(script)
            if not path.is_file():
                typer.echo(f"flywheel: script file {script!r} not found", err=True)
                raise typer.Exit(2)
            lines = path.read_text(encoding="utf-8").splitlines()
    ok = run_demo(lines=lines, db_path=db, user=user, verbose=verbose, socket=socket)
    raise typer.Exit(0 if ok or lines is None else 1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (Alembic)."""
    settings = settings_or_exit()
    from storage.migrate import upgrade

    try:
        upgrade(settings.database_url)
    except Exception as exc:  # a connection error is the usual cause; say it in one line
        log.debug("upgrade failed", exc_info=True)
        typer.echo(
            f"flywheel: could not upgrade {_safe_url(settings.database_url)}: {_first_line(exc)}", err=True
        )
        raise typer.Exit(1) from None
    typer.echo(f"database {_safe_url(settings.database_url)} is up to date")


@app.command()
def manifest(
    http_url: str | None = typer.Option(None, "--http-url", help="public base URL for HTTP mode"),
) -> None:
    """Print the Slack app manifest (YAML) for this version of the code."""
    from bot import manifest as m

    try:
        data = m.build(http_url)
    except ValueError as err:
        typer.echo(f"flywheel: {err}", err=True)
        raise typer.Exit(2) from None
    typer.echo(m.to_yaml(data), nl=False)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "the database"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _register_features() -> None:
    from bot.okrs import cli as okrs_cli
    from bot.postmortems import cli as postmortems_cli

    okrs_cli.register(import_app=import_app, export_app=export_app)
    postmortems_cli.register(import_app=import_app, export_app=export_app)
    from bot.teams import cli as teams_cli

    teams_cli.register(import_app=import_app)


_register_features()


def main() -> None:
    try:
        app()
    except SettingsError as err:
        typer.echo(f"flywheel: {err}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # the user gets one line; the log (LOG_LEVEL=DEBUG) gets the traceback
        log.debug("unhandled error", exc_info=True)
        logging.getLogger("flywheel").error("unhandled error", exc_info=exc)
        typer.echo(
            f"flywheel: unexpected error: {_first_line(exc)} (run with LOG_LEVEL=DEBUG for details)", err=True
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
