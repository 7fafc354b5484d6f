"""``treffpunkt quickstart``: the whole loop on the embedded demo corpus (seeds + gold annotations).

Order matters for idempotency: the gold tasks go in *with* their annotations first (skipped when already there),
so the plain push afterwards finds every seed present and adds nothing.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotation.workspace import DEMO_CORPUS, Workspace, init_workspace

DEFAULT_HOME = Path("quickstart-workspace")


@dataclass
class QuickstartResult:
    workspace: Path
    studio_url: str | None
    steps: dict[str, Any] = field(default_factory=dict)


def quickstart(home: Path = DEFAULT_HOME, *, config: str = "fast.cfg", port: int = 8080) -> QuickstartResult:
    """Run every stage once: studio, setup, ingest, gold annotations, pull, train, evaluate, pre-annotate."""
    from annotation import corpus, project, pull, push, studio
    from training import evaluate, train

    ws = Workspace(Path(home).resolve())
    if not (ws.configs_dir / "schema.yaml").exists():
        init_workspace(ws.root, force=True)
    ws.ensure()
    result = QuickstartResult(ws.root, None)
    if os.environ.get("LABEL_STUDIO_URL"):  # a server of the team's: use it, start nothing
        result.studio_url = os.environ["LABEL_STUDIO_URL"]
        result.steps["login"], result.steps["credentials"] = "(your account)", "LABEL_STUDIO_API_KEY"
    else:
        status = studio.start(ws, port=port)
        result.studio_url = status.url
        result.steps["login"] = status.username
        result.steps["credentials"] = status.credentials_path
    setup = project.setup(ws)
    result.steps["project"] = setup.project.id
    report = corpus.add(ws, [DEMO_CORPUS / "seeds"])
    result.steps["ingest"] = report
    gold = json.loads((DEMO_CORPUS / "gold" / "seeds.json").read_text(encoding="utf-8"))
    result.steps["gold"] = push.import_annotated_tasks(ws, setup.project, gold)
    result.steps["push"] = push.push(ws)
    pulled = pull.pull(ws)
    result.steps["pull"] = pulled
    trained = train.train(ws, config=config, data=pulled.converted_dir, name="quickstart")
    result.steps["train"] = trained
    result.steps["evaluate"] = evaluate.evaluate(ws, trained.path, data=pulled.converted_dir)
    result.steps["predictions"] = push.push(ws, model=trained.path)
    return result
