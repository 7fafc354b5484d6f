"""``treffpunkt studio start|stop|status``: the workspace's local Label Studio server."""

from __future__ import annotations

from typing import Annotated

import typer

from treffpunkt.cli._app import studio_app
from treffpunkt.core import workspace
from treffpunkt.core.console import console, err_console


@studio_app.command("start")
def start_cli(
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0 = any free port).")] = 8080,
    host: Annotated[
        str, typer.Option("--host", help="Interface to bind. Anything but 127.0.0.1 exposes the server to the network.")
    ] = "127.0.0.1",
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait until the server is healthy.")] = 240.0,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="postgresql://USER:PASSWORD@HOST:PORT/DB to keep Label Studio's data in PostgreSQL (remembered for later "
            "starts; `sqlite` switches back). Default: TREFFPUNKT_STUDIO_DATABASE from the environment or .env, else SQLite.",
            show_default=False,
        ),
    ] = None,
    serve: Annotated[
        bool, typer.Option("--serve", help="Also start the ML backend (`treffpunkt serve`) in the background.")
    ] = False,
    model: Annotated[
        str | None, typer.Option("--model", help="With --serve: the version to serve (default: newest).")
    ] = None,
) -> None:
    """Start Label Studio for this workspace in the background (or reuse the running one)."""
    from treffpunkt.annotation.labelstudio import server as studio

    if host not in studio.LOCAL_HOSTS:
        _warn_exposed(host)
    ws = workspace.current()
    db = studio.resolve_database(ws, database, remember=False)
    if db is None and not (studio.data_dir(ws) / "label_studio.sqlite3").exists():
        err_console.print("First start: Label Studio sets up its database (about a minute)…")
    elif db is not None:
        err_console.print(f"Database: {db.masked_url} (first start on an empty database sets it up, about a minute)")
    state = studio.start(ws, port=port, host=host, timeout=timeout, database=database)
    verb = "Already running" if state.reused else f"Started in {state.started_in_s} s"
    console.print(f"{verb}: Label Studio at [bold]{state.url}[/] (pid {state.pid})")
    if state.reused and state.exposed and host in studio.LOCAL_HOSTS:
        _warn_exposed(state.host or "")
    if state.database:
        console.print(f"Database: {state.database}")
    _print_login(state)
    if serve:
        from treffpunkt.serve import server as backend

        found = backend.start_background(ws, model=model)
        console.print(f"ML backend at [bold]{found.url}[/] serving {found.model_version} (pid {found.pid}).")
        console.print("Connect it to the project once: treffpunkt annotate connect-model")


@studio_app.command("stop")
def stop_cli() -> None:
    """Stop the workspace's Label Studio server."""
    from treffpunkt.annotation.labelstudio import server as studio
    from treffpunkt.serve import state as backend

    ws = workspace.current()
    if backend.stop(ws):
        console.print("Stopped the ML backend.")
    if studio.stop(ws):
        console.print("Stopped Label Studio.")
    else:
        console.print("Label Studio was not running.")


@studio_app.command("status")
def status_cli() -> None:
    """Whether the workspace's Label Studio runs, where, and where its login and log are."""
    from treffpunkt.annotation.labelstudio import server as studio

    ws = workspace.current()
    state = studio.status(ws)
    if state.running:
        console.print(f"Running: Label Studio at [bold]{state.url}[/] (pid {state.pid})")
    else:
        console.print("Not running. Start it with `treffpunkt studio start`.")
    if state.running and state.exposed:
        _warn_exposed(state.host or "")
    _print_login(state)
    if state.database:
        console.print(f"Database: {state.database}")
    console.print(f"Data:  {state.data_dir}")
    if state.log_path:
        console.print(f"Log:   {state.log_path}")
    _print_backend(ws)
    if not state.running:
        raise typer.Exit(3)


def _print_backend(ws: object) -> None:
    from treffpunkt.serve import state as backend

    found = backend.status(ws)  # type: ignore[arg-type]
    if found.running:
        console.print(f"ML backend: healthy at {found.url}, serving {found.model_version}")
    elif found.url:  # started but not answering: say what is wrong
        console.print(f"[yellow]ML backend: not answering[/] ({found.problem}). Label Studio works without it.")
    else:
        console.print("ML backend: not started (`treffpunkt serve` or `studio start --serve`).")


def _warn_exposed(host: str) -> None:
    err_console.print(
        f"[yellow]Warning:[/] Label Studio listens on {host}, not only on 127.0.0.1: anyone who can reach this machine "
        "over the network can reach it (plain HTTP, no TLS). For a team, put it behind a firewall or a reverse proxy "
        "with TLS; for yourself, leave out --host."
    )


def _print_login(state: object) -> None:
    # The password and API token are never printed: only where they are stored.
    username = getattr(state, "username", None)
    path = getattr(state, "credentials_path", None)
    if username and path:
        console.print(f"Login: {username} (password and API token in {path}, readable only by you)")
