"""``treffpunkt serve [status|stop]``: the workspace's model as a Label Studio ML backend."""

from __future__ import annotations

from typing import Annotated

import typer

from treffpunkt.cli._app import serve_app
from treffpunkt.core import workspace
from treffpunkt.core.console import console, err_console


@serve_app.callback(invoke_without_command=True)
def serve_cli(
    ctx: typer.Context,
    model: Annotated[
        str | None, typer.Option("--model", help="Model version to serve (default: the newest in models/).")
    ] = None,
    host: Annotated[
        str | None, typer.Option("--host", help="Interface to bind (default: serve.yaml, 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default: serve.yaml, 9090; 0 = any free).")] = None,
    auth: Annotated[
        bool,
        typer.Option("--auth", help="Require HTTP basic auth (credentials in .treffpunkt/serve/auth.json, 0600)."),
    ] = False,
) -> None:
    """Run the ML backend in the foreground: Label Studio asks it for predictions and tells it about annotations."""
    if ctx.invoked_subcommand is not None:
        return
    from treffpunkt.serve.config import load_serve_config
    from treffpunkt.serve.server import serve

    ws = workspace.current()
    config = load_serve_config(ws)
    host = host or config.host
    if host not in ("127.0.0.1", "localhost"):
        err_console.print(
            f"[yellow]Warning:[/] the backend listens on {host}: anyone on the network can query the model"
            + ("" if auth else " and queue retrains (add --auth)")
            + "."
        )
    err_console.print(f"Loading the model and serving on http://{host}:{port if port is not None else config.port} …")
    serve(ws, model=model, host=host, port=config.port if port is None else port, auth=auth, config=config)


@serve_app.command("status")
def status_cli() -> None:
    """Whether the backend runs, which version it serves, and every retrain (queued/running/promoted/rejected)."""
    from treffpunkt.serve.retrain import read_jobs
    from treffpunkt.serve.state import status

    ws = workspace.current()
    state = status(ws)
    if state.running:
        console.print(f"Running: ML backend at [bold]{state.url}[/] (pid {state.pid}), serving {state.model_version}")
    else:
        console.print(f"Not running: {state.problem}")
    jobs = state.jobs if state.jobs is not None else [vars(j) for j in read_jobs(ws)]
    for job in jobs:
        scores = job.get("scores") or {}
        figures = (
            f" {scores['metric']}: {scores['serving']:.3f} → {scores['candidate']:.3f}" if "candidate" in scores else ""
        )
        console.print(
            f"#{job['id']} {job['state']:<9} {job.get('candidate') or '-':<14} queued {job['queued_at']} "
            f"({job['trigger']}){figures}" + (f" — {job['reason']}" if job.get("reason") else "")
        )
    if not jobs:
        console.print("No retrains yet.")
    if not state.running:
        raise typer.Exit(3)


@serve_app.command("stop")
def stop_cli() -> None:
    """Stop the backend started by `studio start --serve`."""
    from treffpunkt.serve.state import stop

    console.print("Stopped the ML backend." if stop(workspace.current()) else "The ML backend was not running.")
