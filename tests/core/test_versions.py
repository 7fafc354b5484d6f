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


def test_versions_aliases_resolve_move_and_show_in_models_list(ws):
    from typer.testing import CliRunner

    from treffpunkt.cli import app
    from treffpunkt.core.errors import TreffpunktError
    from treffpunkt.core.versions import read_aliases, resolve, set_alias

    for name in ("events-001", "events-002"):
        (ws.models_dir / name).mkdir(parents=True)
        (ws.models_dir / name / "config.cfg").write_text("[nlp]\n", encoding="utf-8")
    assert set_alias(ws, "events-001", "production") == ("events-001", None)
    assert resolve(ws, "production") == ws.models_dir / "events-001"
    # a bare name means the newest version; promoting it moves the alias and says from where
    runner = CliRunner()
    out = runner.invoke(app, ["--home", str(ws.root), "models", "promote", "events", "--alias", "production"])
    assert out.exit_code == 0 and "production → events-002 (was events-001)" in out.output
    assert read_aliases(ws) == {"production": "events-002"}
    assert resolve(ws, "production") == ws.models_dir / "events-002"
    listed = runner.invoke(app, ["--home", str(ws.root), "models", "list"])
    row = next(line for line in listed.output.splitlines() if "events-002" in line)
    assert "production" in row
    for bad in ("events-001", "events-009", "no/slash"):
        with pytest.raises(TreffpunktError):
            set_alias(ws, "events-001", bad)
    with pytest.raises(TreffpunktError):
        set_alias(ws, "nothing-001", "staging")
