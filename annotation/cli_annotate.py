"""``treffpunkt annotate``: one typer app composed from per-feature command modules."""

import typer

app = typer.Typer(no_args_is_help=True)


def _register_all() -> None:
    # Each feature module adds its commands with ``register(app)``; modules import heavy libraries lazily.
    import importlib

    for name in ("annotation.cli_loop", "annotation.cli_convert", "annotation.cli_agreement", "annotation.cli_gold"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name != name:  # a real missing dependency, not a feature module still to be written
                raise
            continue
        module.register(app)


_register_all()
