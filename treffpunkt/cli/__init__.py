"""The ``treffpunkt`` command line: one app (``_app.py``), one module per command group."""

from treffpunkt.cli import (  # noqa: F401  (registers commands)
    annotate,
    corpus,
    demo,
    evaluate,
    models,
    predict,
    serve,
    studio,
    sweep,
    train,
    vectors,
)
from treffpunkt.cli._app import app, main

__all__ = ["app", "main"]
