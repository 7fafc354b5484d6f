"""Push corpus articles into the Label Studio project as tasks, optionally with a model's pre-annotations.

Identity of a task is ``data.article_id``, read back from the server's tasks before every push: re-running, also
after an interrupted run, never duplicates. Tasks go in chunks through the bulk import API, predictions inline;
tasks already in the project get predictions through the bulk predictions API (one request per chunk).

``--order uncertainty`` (needs ``--model``): what the annotator sees —
- *Label All Tasks* serves the least certain task first: the project is switched to Label Studio's
  "Uncertainty sampling", which orders tasks with a prediction of the project's model version by ascending score;
- new tasks are imported least certain first, so the Data Manager's default order (by id) shows them that way;
- a Data Manager tab "Least certain first" lists all tasks sorted by prediction score, ascending.
The project's ``model_version`` is set to the pushed version, so Label Studio shows that version's predictions as
pre-annotations; predictions of older versions stay on the tasks but are not shown by default.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from annotation.article import Article
from annotation.client import Studio, connect
from annotation.console import progress_bar
from annotation.errors import InputError
from annotation.preannotate import PredictionReport, doc_to_prediction
from annotation.project import ProjectRef, iter_tasks, require_project
from annotation.schema import Schema, load_schema
from annotation.workspace import Workspace

T = TypeVar("T")
ORDERS = ("corpus", "uncertainty")
UNCERTAINTY_VIEW = "Least certain first"


@dataclass
class PushResult:
    project: ProjectRef
    imported: int = 0
    already_present: int = 0
    #: corpus articles left out by --limit
    not_pushed: int = 0
    predicted_existing: int = 0
    model_version: str | None = None
    order: str = "corpus"
    requests: int = 0
    seconds: float = 0.0
    predictions: PredictionReport = field(default_factory=PredictionReport)

    @property
    def tasks_per_s(self) -> float:
        return self.imported / self.seconds if self.seconds else 0.0


def article_task_data(article: Article) -> dict[str, Any]:
    """Task ``data`` for an article (docs/architecture.md: Label Studio tasks)."""
    return {
        "text": article.text,
        "title": article.title,
        "article_id": article.id,
        "cluster": article.cluster,
        "source": article.source or "",
        "url": article.url or "",
        "published": article.published or "",
    }


def load_corpus(ws: Workspace) -> list[Article]:
    """The workspace's articles (through annotation.corpus when present)."""
    try:
        from annotation.corpus import load_articles
    except ImportError:
        load_articles = None
    if load_articles is not None:
        return list(load_articles(ws))
    if not ws.articles_path.exists():
        return []
    from annotation.io import read_jsonl

    return [Article.model_validate(row) for row in read_jsonl(ws.articles_path)]


def resolve_model(ws: Workspace, model: str | Path) -> Path:
    """A model version directory: a path, or a version name under the workspace's models/."""
    candidates = [Path(model), ws.models_dir / str(model)]
    for path in candidates:
        if (path / "config.cfg").exists():
            return path.resolve()
    known = sorted(p.name for p in ws.models_dir.glob("*") if (p / "config.cfg").exists()) if ws.models_dir.exists() else []
    raise InputError(
        f"No model version {model!r}: neither {candidates[0]} nor {candidates[1]} is a spaCy pipeline directory.",
        hint=f"Known versions: {', '.join(known) or 'none yet'} (train one with `treffpunkt train`).",
    )


def existing_tasks(studio: Studio, project_id: int) -> dict[str, int]:
    """article_id -> task id of the tasks already in the project."""
    found: dict[str, int] = {}
    for task in iter_tasks(studio, project_id):
        article_id = (task.data or {}).get("article_id")
        if article_id is not None:
            found.setdefault(str(article_id), int(task.id))
    return found


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def import_chunk(studio: Studio, project_id: int, tasks: list[dict[str, Any]]) -> int:
    """One bulk import request; returns the number of tasks the server created."""
    # idempotent=False: a lost answer must not import the chunk twice; a rerun of push fills in what is missing.
    response = studio.call(studio.sdk.projects.import_tasks, project_id, request=tasks, what="task import", idempotent=False)
    count = getattr(response, "task_count", None)
    return int(count) if count is not None else len(tasks)


def push(
    ws: Workspace,
    *,
    model: str | Path | None = None,
    limit: int | None = None,
    order: str = "corpus",
    batch_size: int = 500,
    articles: Iterable[Article] | None = None,
    schema: Schema | None = None,
    studio: Studio | None = None,
) -> PushResult:
    """Import articles not yet in the project; with ``model``, attach its predictions (new and existing tasks)."""
    if order not in ORDERS:
        raise InputError(f"Unknown order {order!r}.", hint=f"Use one of: {', '.join(ORDERS)}.")
    if order == "uncertainty" and model is None:
        raise InputError("--order uncertainty needs --model: the order comes from the model's scores.")
    if batch_size < 1:
        raise InputError("--batch-size must be at least 1.")
    began = time.perf_counter()
    studio = studio or connect(ws)
    ref = require_project(studio, ws)
    schema = schema or load_schema(ws.schema_path)
    corpus = list(articles) if articles is not None else load_corpus(ws)
    present = existing_tasks(studio, ref.id)
    result = PushResult(project=ref, order=order)
    result.requests += 1 + len(present) // 1000

    new = [a for a in _unique(corpus) if a.id not in present]
    result.already_present = len(corpus) - len(new)
    if limit is not None and len(new) > limit:
        result.not_pushed = len(new) - limit
        new = new[:limit]
    tasks = [{"data": article_task_data(a)} for a in new]

    nlp = None
    if model is not None:
        import spacy

        model_dir = resolve_model(ws, model)
        nlp = spacy.load(model_dir)
        result.model_version = model_dir.name

    with progress_bar("tasks") as bar:
        if nlp is not None and order == "uncertainty":
            job = bar.add_task("Predicting", total=len(tasks))
            for batch in chunks(tasks, batch_size):
                _attach_predictions(nlp, batch, schema, result)
                bar.advance(job, len(batch))
            # least certain first; tasks without a score last
            tasks.sort(key=lambda t: (t["predictions"][0].get("score") is None, t["predictions"][0].get("score") or 0.0))
        job = bar.add_task("Importing", total=len(tasks))
        # One import request in flight on a worker thread while the next chunk is predicted: the server's work
        # (a separate process) overlaps with the model's. Requests still go one at a time, in order.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending: tuple[Future[int], int] | None = None
            for batch in chunks(tasks, batch_size):
                if nlp is not None and order != "uncertainty":
                    _attach_predictions(nlp, batch, schema, result)
                if pending is not None:
                    result.imported += pending[0].result()
                    bar.advance(job, pending[1])
                pending = (pool.submit(import_chunk, studio, ref.id, list(batch)), len(batch))
                result.requests += 1
            if pending is not None:
                result.imported += pending[0].result()
                bar.advance(job, pending[1])
        if nlp is not None:
            result.predicted_existing = _predict_existing(studio, ref.id, set(present.values()), nlp, schema, result, batch_size, bar)
    if nlp is not None:
        _show_version(studio, ref.id, result.model_version, uncertainty=order == "uncertainty")
    result.seconds = time.perf_counter() - began
    return result


def _unique(articles: list[Article]) -> list[Article]:
    seen: set[str] = set()
    out = []
    for article in articles:
        if article.id not in seen:
            seen.add(article.id)
            out.append(article)
    return out


def _attach_predictions(nlp: Any, tasks: Sequence[dict[str, Any]], schema: Schema, result: PushResult) -> None:
    texts = [t["data"]["text"] for t in tasks]
    for task, doc in zip(tasks, nlp.pipe(texts), strict=True):
        task["predictions"] = [doc_to_prediction(doc, schema, model_version=result.model_version or "", report=result.predictions)]


def _predict_existing(
    studio: Studio, project_id: int, task_ids: set[int], nlp: Any, schema: Schema, result: PushResult, batch_size: int, bar: Any
) -> int:
    """Predictions for tasks (present before this push) lacking one of this model version; one request per chunk."""
    if not task_ids:
        return 0
    version = result.model_version
    todo: list[tuple[int, str]] = []
    for task in iter_tasks(studio, project_id, fields="all"):
        if int(task.id) not in task_ids:
            continue
        versions = {(p.get("model_version") if isinstance(p, dict) else getattr(p, "model_version", None)) for p in task.predictions or []}
        if version not in versions:
            todo.append((int(task.id), (task.data or {}).get("text", "")))
    if not todo:
        return 0
    job = bar.add_task("Predicting existing tasks", total=len(todo))
    done = 0
    for batch in chunks(todo, batch_size):
        predictions = []
        for (task_id, _), doc in zip(batch, nlp.pipe(text for _, text in batch), strict=True):
            prediction = doc_to_prediction(doc, schema, model_version=version or "", report=result.predictions)
            predictions.append({"task": task_id, **prediction})
        studio.call(studio.sdk.projects.import_predictions, project_id, request=predictions, what="predictions import")
        result.requests += 1
        done += len(batch)
        bar.advance(job, len(batch))
    return done


def _show_version(studio: Studio, project_id: int, version: str | None, *, uncertainty: bool) -> None:
    """Show this version's predictions as pre-annotations; with uncertainty order, serve low scores first."""
    options: dict[str, Any] = {"model_version": version, "show_collab_predictions": True}
    if uncertainty:
        options["sampling"] = "Uncertainty sampling"
    studio.call(studio.sdk.projects.update, project_id, **options, what="project settings update")
    if uncertainty:
        views = studio.call(studio.sdk.views.list, project=project_id, what="view listing")
        if not any((v.data or {}).get("title") == UNCERTAINTY_VIEW for v in views):
            studio.call(
                studio.sdk.views.create, project=project_id,
                data={"title": UNCERTAINTY_VIEW, "ordering": ["tasks:predictions_score"]}, what="view creation",
            )  # fmt: skip


def import_annotated_tasks(
    target: Studio | Workspace, project: ProjectRef | int, tasks: list[dict[str, Any]], *, batch_size: int = 500
) -> PushResult:
    """Import Label Studio tasks that carry inline ``annotations`` (gold or converted corpora) as if annotated.

    Tasks whose ``data.article_id`` is already in the project are skipped, so this is safe to rerun.
    """
    studio = target if isinstance(target, Studio) else connect(target)
    ref = project if isinstance(project, ProjectRef) else ProjectRef(int(project), "", studio.url)
    began = time.perf_counter()
    present = existing_tasks(studio, ref.id)
    result = PushResult(project=ref)
    fresh: list[dict[str, Any]] = []
    seen: set[str] = set()
    for task in tasks:
        article_id = str((task.get("data") or {}).get("article_id", ""))
        if not article_id:
            raise InputError("A task to import has no data.article_id.", hint="Every task needs data.article_id (its identity).")
        if article_id in present or article_id in seen:
            result.already_present += 1
            continue
        seen.add(article_id)
        fresh.append(task)
    for batch in chunks(fresh, batch_size):
        result.imported += import_chunk(studio, ref.id, list(batch))
        result.requests += 1
    result.seconds = time.perf_counter() - began
    return result
