"""``treffpunkt quickstart``: the whole loop on the embedded demo corpus (seeds + gold annotations).

Order matters for idempotency: the gold tasks go in *with* their annotations first (skipped when already there),
so the plain push afterwards finds every seed present and adds nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from treffpunkt.annotation.ingest import corpus
from treffpunkt.annotation.labelstudio import project, pull, push
from treffpunkt.annotation.labelstudio import server as studio
from treffpunkt.core.resources import demo_corpus
from treffpunkt.core.settings import settings
from treffpunkt.core.workspace import Workspace, init_workspace
from treffpunkt.training.evaluation import evaluate
from treffpunkt.training.train import trainer as train

DEFAULT_HOME = Path("quickstart-workspace")


@dataclass
class QuickstartResult:
    workspace: Path
    studio_url: str | None
    steps: dict[str, Any] = field(default_factory=dict)


def quickstart(home: Path = DEFAULT_HOME, *, config: str = "fast.cfg", port: int = 8080) -> QuickstartResult:
    """Run every stage once: studio, setup, ingest, gold annotations, pull, train, evaluate, pre-annotate."""
    ws = Workspace(Path(home).resolve())
    if not (ws.configs_dir / "schema.yaml").exists():
        init_workspace(ws.root, force=True)
    ws.ensure()
    result = QuickstartResult(ws.root, None)
    conf = settings(ws)
    if conf.label_studio_url:  # a server of the team's (environment or the workspace's .env): start nothing
        result.studio_url = conf.label_studio_url
        result.steps["login"], result.steps["credentials"] = "(your account)", "LABEL_STUDIO_API_KEY"
    else:
        status = studio.start(ws, port=port)
        result.studio_url = status.url
        result.steps["login"] = status.username
        result.steps["credentials"] = status.credentials_path
    setup = project.setup(ws)
    result.steps["project"] = setup.project.id
    report = corpus.add(ws, [demo_corpus() / "seeds"])
    result.steps["ingest"] = report
    gold = json.loads((demo_corpus() / "gold" / "seeds.json").read_text(encoding="utf-8"))
    result.steps["gold"] = push.import_annotated_tasks(ws, setup.project, gold)
    result.steps["push"] = push.push(ws)
    pulled = pull.pull(ws)
    result.steps["pull"] = pulled
    trained = train.train(ws, config=config, data=pulled.converted_dir, name="quickstart")
    result.steps["train"] = trained
    result.steps["evaluate"] = evaluate.evaluate(ws, trained.path, data=pulled.converted_dir)
    result.steps["predictions"] = push.push(ws, model=trained.path)
    return result
