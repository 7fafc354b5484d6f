"""The whole loop on the demo corpus against the suite's real Label Studio server (issue 5)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from treffpunkt.annotation.labelstudio.client import connect
from treffpunkt.core.workspace import Workspace

pytestmark = [pytest.mark.studio, pytest.mark.slow]


def test_quickstart_runs_whole_loop_and_reruns_without_duplicates(
    studio_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from treffpunkt.demo.quickstart import quickstart

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    first = quickstart(studio_ws.root)
    trained = first.steps["train"]
    assert first.steps["gold"].imported == 5

    studio = connect(studio_ws)
    project_id = first.steps["project"]
    tasks = list(studio.sdk.tasks.list(project=project_id, fields="all"))
    assert len(tasks) == 5
    assert all(task.predictions for task in tasks)
    versions = {
        pred["model_version"] if isinstance(pred, dict) else pred.model_version
        for task in tasks
        for pred in task.predictions
    }
    assert trained.version in versions

    evaluation = json.loads(Path(first.steps["evaluate"].report_path).read_text())
    scores = evaluation["scores"]
    # real values, not just keys: the seeds' NER is learnable in one fast run, and scores are probabilities
    assert 0.2 < scores["ents_f"] <= 1.0
    assert 0.0 <= scores["events_f"] <= 1.0 and scores["n_docs"] >= 1
    assert set(scores["ents_per_type"]) <= {"PER", "ORG", "GPE", "LOC", "ROLE", "DATE"}
    assert trained.wandb_path and Path(trained.wandb_path).is_dir()
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import spacy; nlp = spacy.load({str(trained.path)!r}); print(len(nlp('Stoltenberg traf Biden in Washington.').ents) >= 0)",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert loaded.returncode == 0 and "True" in loaded.stdout, loaded.stderr

    second = quickstart(studio_ws.root)
    assert second.steps["gold"].imported == 0 and second.steps["push"].imported == 0
    assert len(list(studio.sdk.tasks.list(project=project_id, fields="all"))) == 5
