"""Shipped defaults, read as package data: the default configs and the demo corpus with its gold.

In a source checkout they are the repository's ``configs/`` and ``corpus/``; in a wheel they are installed as
``treffpunkt.configs`` and ``treffpunkt.corpus``. Never found through ``Path(__file__)``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from treffpunkt.core.errors import TreffpunktError


def _directory(package: str) -> Path:
    root = files(package)
    if not isinstance(root, Path):  # a zipped install: our readers need real files
        raise TreffpunktError(
            f"treffpunkt's package data ({package}) is not on the file system.",
            hint="Install treffpunkt as a regular (unzipped) package.",
        )
    return root


def default_configs() -> Path:
    """The folder of shipped default configs (schema.yaml, *.cfg, ...)."""
    return _directory("treffpunkt.configs")


def default_config(name: str) -> Path:
    return default_configs() / name


def demo_corpus() -> Path:
    """The demo corpus: ``seeds/*.txt`` (raw seed articles) and ``gold/`` (their gold annotations)."""
    return _directory("treffpunkt.corpus")
