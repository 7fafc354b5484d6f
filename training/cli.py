"""Training commands mounted at the top level (train, pretrain, evaluate, models, ...)."""

import typer


def register(app: typer.Typer) -> None:
    """Add the training commands to the root app."""
