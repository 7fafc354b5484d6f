"""A model version trained before the namespace move still loads: registered names never change, entry points move."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

MODEL = Path(__file__).resolve().parents[2] / "data" / "premove_model"


def test_premove_model_loads_with_spacy_load_in_a_fresh_process():
    # A fresh interpreter: nothing of ours imported, so spaCy must find the factories through the entry points.
    code = (
        "import json, sys, spacy\n"
        f"nlp = spacy.load({str(MODEL)!r})\n"
        "doc = nlp('Nato-Generalsekretär Jens Stoltenberg hat mit Waleri Gerassimow telefoniert.')\n"
        "print(json.dumps({'pipe': nlp.pipe_names, 'factories': [nlp.get_pipe_meta(n).factory for n in nlp.pipe_names],"
        " 'events_group': 'events' in doc.spans, 'modules': sorted(m for m in sys.modules if m.startswith(('treffpunkt', 'training', 'annotation')))}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert "treffpunkt_EventSpancat_v1" in out["factories"] and "ner" in out["pipe"]
    assert out["events_group"]
    # the components came from the new modules; the old top-level names are gone
    assert "treffpunkt.training.pipeline.components" in out["modules"]
    assert not [m for m in out["modules"] if m.startswith(("training", "annotation"))]


def test_premove_model_role_classifier_loads():
    from treffpunkt.training.pipeline.roles import load_roles

    meta = json.loads((MODEL / "meta.json").read_text(encoding="utf-8"))
    assert meta["treffpunkt"]["version"] == "premove-001"
    roles = load_roles(MODEL)
    assert roles is not None and roles.kind == "classifier"
