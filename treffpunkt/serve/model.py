"""The served model: loaded once per process, swapped atomically when a retrained version is promoted.

A request takes the current :class:`ServedModel` once and uses it to the end, so requests in flight during a
promotion finish on the old version; only requests that start afterwards see the new one.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from treffpunkt.annotation.labelstudio.predictions import PredictionReport, doc_to_prediction
from treffpunkt.core import versions
from treffpunkt.core.schema import Schema, load_schema
from treffpunkt.core.workspace import Workspace
from treffpunkt.training.evaluation.evaluate import version_roles
from treffpunkt.training.pipeline.roles import set_predicted_relations


@dataclass(frozen=True)
class ServedModel:
    """A model version ready to predict Label Studio regions: pipeline, role assigner, schema."""

    version: str
    path: Path
    nlp: Any
    roles: Any
    schema: Schema
    # one prediction at a time per loaded pipeline: spaCy components are not documented as thread-safe, and on the
    # CPU parallel calls would only compete for the same cores
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    @classmethod
    def load(cls, ws: Workspace, model: str | Path) -> ServedModel:
        import spacy

        path = versions.resolve(ws, model).resolve()
        schema = load_schema(ws.schema_path)
        return cls(path.name, path, spacy.load(path), version_roles(ws, path, schema), schema)

    def predict(self, texts: Sequence[str], report: PredictionReport | None = None) -> list[dict[str, Any]]:
        """One prediction (``result`` with entities, events and relations, ``score``, ``model_version``) per text."""
        report = report if report is not None else PredictionReport()
        with self.lock:
            return [
                doc_to_prediction(set_predicted_relations(doc, self.roles), self.schema, model_version=self.version,
                                  report=report)
                for doc in self.nlp.pipe(texts)
            ]  # fmt: skip

    def __call__(self, datas: Sequence[dict[str, Any]], report: PredictionReport) -> list[dict[str, Any]]:
        """The push predictor interface (``annotate push --model``): task data in, predictions out."""
        return self.predict([d.get("text", "") for d in datas], report)


class ModelSlot:
    """The version being served. ``current`` is read without a lock (a reference read is atomic)."""

    def __init__(self, model: ServedModel) -> None:
        self._model = model
        self._lock = threading.Lock()

    @property
    def current(self) -> ServedModel:
        return self._model

    def swap(self, model: ServedModel) -> ServedModel:
        """Serve ``model`` from now on; returns the one it replaced."""
        with self._lock:
            old, self._model = self._model, model
        return old
