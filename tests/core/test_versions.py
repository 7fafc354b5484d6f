"""One model-version resolver: every command that takes a version resolves it the same way."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy

from treffpunkt.annotation.labelstudio.push import _ModelPredictor
from treffpunkt.core.resources import default_config
from treffpunkt.core.schema import load_schema
from treffpunkt.core.versions import ModelNotFound, resolve
from treffpunkt.core.workspace import init_workspace


def test_versions_push_resolves_a_bare_name_like_evaluate(tmp_path):
    # Regression: `evaluate quickstart` found quickstart-002, `annotate push --model quickstart` did not.
    ws = init_workspace(tmp_path / "ws")
    for version in ("quickstart-001", "quickstart-002"):
        spacy.blank("de").to_disk(ws.models_dir / version)
    assert resolve(ws, "quickstart") == ws.models_dir / "quickstart-002"
    predictor = _ModelPredictor.load(ws, "quickstart", load_schema(default_config("schema.yaml")))
    assert predictor.version == "quickstart-002"
    with pytest.raises(ModelNotFound, match="known: quickstart-001, quickstart-002"):
        _ModelPredictor.load(ws, "nope", load_schema(default_config("schema.yaml")))
    assert resolve(ws, Path(ws.models_dir / "quickstart-001")) == ws.models_dir / "quickstart-001"
