"""``treffpunkt studio start|stop|status``: the workspace's local Label Studio server."""

from __future__ import annotations

from typing import Annotated

import typer

from annotation import workspace
from annotation.console import console, err_console

app = typer.Typer(no_args_is_help=True)

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@app.command("start")
def start_cli(
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0 = any free port).")] = 8080,
    host: Annotated[
        str, typer.Option("--host", help="Interface to bind. Anything but 127.0.0.1 exposes the server to the network.")
    ] = "127.0.0.1",
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait until the server is healthy.")] = 240.0,
) -> None:
    """Start Label Studio for this workspace in the background (or reuse the running one)."""
    from annotation import studio

    if host not in LOCAL_HOSTS:
        err_console.print(
            f"[yellow]Warning:[/] binding to {host}: anyone who can reach this machine can reach Label Studio. "
            "Use a firewall or a reverse proxy with TLS for teams."
        )
    ws = workspace.current()
    if not (studio.data_dir(ws) / "label_studio.sqlite3").exists():
        err_console.print("First start: Label Studio sets up its database (about a minute)…")
    state = studio.start(ws, port=port, host=host, timeout=timeout)
    verb = "Already running" if state.reused else f"Started in {state.started_in_s} s"
    console.print(f"{verb}: Label Studio at [bold]{state.url}[/] (pid {state.pid})")
    _print_login(state)


@app.command("stop")
def stop_cli() -> None:
    """Stop the workspace's Label Studio server."""
    from annotation import studio

    ws = workspace.current()
    if studio.stop(ws):
        console.print("Stopped Label Studio.")
    else:
        console.print("Label Studio was not running.")


@app.command("status")
def status_cli() -> None:
    """Whether the workspace's Label Studio runs, where, and where its login and log are."""
    from annotation import studio

    ws = workspace.current()
    state = studio.status(ws)
    if state.running:
        console.print(f"Running: Label Studio at [bold]{state.url}[/] (pid {state.pid})")
    else:
        console.print("Not running. Start it with `treffpunkt studio start`.")
    _print_login(state)
    console.print(f"Data:  {state.data_dir}")
    if state.log_path:
        console.print(f"Log:   {state.log_path}")
    if not state.running:
        raise typer.Exit(3)


def _print_login(state: object) -> None:
    # The password and API token are never printed: only where they are stored.
    username = getattr(state, "username", None)
    path = getattr(state, "credentials_path", None)
    if username and path:
        console.print(f"Login: {username} (password and API token in {path}, readable only by you)")
