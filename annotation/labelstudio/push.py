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
pre-annotations; predictions of older versions stay on the tasks but are not shown by default. What that field does
in Label Studio 1.23 (checked in its source and tests/test_push_pull.py): the task an annotator is served in
*Label All Tasks* carries only predictions of the project's ``model_version`` (``show_collab_predictions`` on);
the Data Manager's "Prediction score" column, sorting by it and uncertainty sampling average only that version's
scores. The task API and the Data Manager's task view still list every version's predictions.

``annotate predict --model VERSION`` (:func:`predict_existing`) does the same for tasks already in the project;
``annotate preannotate`` (:func:`save_predictions`) writes predictions to a JSONL file that ``push --predictions``
imports without running a model.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from treffpunkt.annotation.convert.reader import iter_export
from treffpunkt.annotation.ingest.corpus import load_articles
from treffpunkt.annotation.labelstudio.client import Studio, connect
from treffpunkt.annotation.labelstudio.predictions import PredictionReport, doc_to_prediction
from treffpunkt.annotation.labelstudio.project import ProjectRef, ensure_view, iter_tasks, require_project
from treffpunkt.annotation.patterns.ruler import pattern_pipeline
from treffpunkt.core.article import Article
from treffpunkt.core.console import progress_bar
from treffpunkt.core.errors import InputError
from treffpunkt.core.io import read_jsonl, write_jsonl
from treffpunkt.core.schema import Schema, load_schema
from treffpunkt.core.versions import resolve
from treffpunkt.core.workspace import Workspace

T = TypeVar("T")
ORDERS = ("corpus", "uncertainty")
UNCERTAINTY_VIEW = "Least certain first"
#: tasks per import request while a model predicts inline (push --model); see push()
PIPELINED_CHUNK = 100


@dataclass
class PushResult:
    project: ProjectRef
    imported: int = 0
    already_present: int = 0
    #: corpus articles left out by --limit
    not_pushed: int = 0
    predicted_existing: int = 0
    #: --predictions FILE: article ids of pushed/existing tasks the file has no prediction for (pushed without one)
    without_prediction: list[str] = field(default_factory=list)
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
    """The workspace's articles."""
    return list(load_articles(ws))


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
    response = studio.call(
        studio.sdk.projects.import_tasks, project_id, request=tasks, what="task import", idempotent=False
    )
    count = getattr(response, "task_count", None)
    return int(count) if count is not None else len(tasks)


def push(
    ws: Workspace,
    *,
    model: str | Path | Predictor | None = None,
    limit: int | None = None,
    order: str = "corpus",
    batch_size: int = 500,
    articles: Iterable[Article] | None = None,
    schema: Schema | None = None,
    studio: Studio | None = None,
    predictions: Path | None = None,
    patterns: bool = False,
) -> PushResult:
    """Import articles not yet in the project; with ``model``, attach its predictions (new and existing tasks).

    ``predictions``: a JSONL file of precomputed predictions (:func:`save_predictions`, ``annotate preannotate``)
    used instead of running a model here; its ``model_version`` is the version pushed. ``patterns``: pre-annotate
    with the cold-start patterns of ``configs/patterns/`` (version ``patterns-<hash>``), no model needed.
    """
    _check_options(order, batch_size)
    if sum((model is not None, predictions is not None, patterns)) > 1:
        raise InputError(
            "Give one of --model, --predictions and --patterns.", hint="Each names the source of the pre-annotations."
        )
    if order == "uncertainty" and model is None and predictions is None:
        raise InputError(
            "--order uncertainty needs --model (or --predictions): the order comes from the model's scores."
        )
    precomputed = (
        _FilePredictor.read(predictions) if predictions is not None else None
    )  # bad file: fail before any request
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

    nlp: Predictor | None = None
    if model is not None or patterns:
        nlp = model_predictor(ws, model, schema) if model is not None else _ModelPredictor.patterns(ws, schema)
        result.model_version = nlp.version
    elif precomputed is not None:
        nlp = precomputed
        result.model_version = nlp.version

    with progress_bar("tasks") as bar:
        if nlp is not None and order == "uncertainty":
            job = bar.add_task("Predicting", total=len(tasks))
            for batch in chunks(tasks, batch_size):
                _attach_predictions(nlp, batch, result)
                bar.advance(job, len(batch))
            # least certain first; tasks without a score last
            tasks.sort(key=lambda t: (_score(t) is None, _score(t) or 0.0))
        job = bar.add_task("Importing", total=len(tasks))
        # One import request in flight on a worker thread while the next chunk is predicted: the server's work
        # (a separate process) overlaps with the model's. Requests still go one at a time, in order.
        # While a model runs inline, requests carry at most PIPELINED_CHUNK tasks: the first request cannot start
        # before its chunk is predicted and the last one overlaps nothing, so smaller chunks leave less unoverlapped.
        inline = nlp is not None and not isinstance(nlp, _FilePredictor) and order != "uncertainty"
        step = min(batch_size, PIPELINED_CHUNK) if inline else batch_size
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending: tuple[Future[int], int] | None = None
            for batch in chunks(tasks, step):
                if nlp is not None and order != "uncertainty":
                    _attach_predictions(nlp, batch, result)
                if pending is not None:
                    result.imported += pending[0].result()
                    bar.advance(job, pending[1])
                pending = (pool.submit(import_chunk, studio, ref.id, list(batch)), len(batch))
                result.requests += 1
            if pending is not None:
                result.imported += pending[0].result()
                bar.advance(job, pending[1])
        if nlp is not None:
            result.predicted_existing = _predict_existing(
                studio, ref.id, set(present.values()), nlp, result, batch_size, bar
            )
    if nlp is not None:
        _show_version(studio, ref.id, result.model_version, uncertainty=order == "uncertainty")
    result.seconds = time.perf_counter() - began
    return result


def _check_options(order: str, batch_size: int) -> None:
    if order not in ORDERS:
        raise InputError(f"Unknown order {order!r}.", hint=f"Use one of: {', '.join(ORDERS)}.")
    if batch_size < 1:
        raise InputError("--batch-size must be at least 1.")


def _score(task: dict[str, Any]) -> float | None:
    return task["predictions"][0].get("score") if task.get("predictions") else None


def _unique(articles: list[Article]) -> list[Article]:
    seen: set[str] = set()
    out = []
    for article in articles:
        if article.id not in seen:
            seen.add(article.id)
            out.append(article)
    return out


class Predictor(Protocol):
    """Anything that turns task data into Label Studio predictions under a version name. Callers above this layer
    pass richer ones (the CLI passes treffpunkt.serve.model.ServedModel, which adds the version's actor roles)."""

    version: str

    def __call__(self, datas: Sequence[dict[str, Any]], report: PredictionReport) -> list[dict[str, Any] | None]: ...


def model_predictor(ws: Workspace, model: str | Path | Predictor, schema: Schema) -> Predictor:
    """A model version (name or path) loaded as a predictor; a ready :class:`Predictor` is used as it is."""
    return _ModelPredictor.load(ws, model, schema) if isinstance(model, str | Path) else model


@dataclass
class _ModelPredictor:
    """Predictions from a spaCy pipeline (a model version directory)."""

    nlp: Any
    schema: Schema
    version: str

    @classmethod
    def patterns(cls, ws: Workspace, schema: Schema) -> _ModelPredictor:
        """The cold-start patterns of ``configs/patterns/`` as a predictor (version ``patterns-<hash>``)."""
        nlp, version = pattern_pipeline(ws, schema)
        return cls(nlp, schema, version)

    @classmethod
    def load(cls, ws: Workspace, model: str | Path, schema: Schema) -> _ModelPredictor:
        import spacy

        model_dir = resolve(ws, model).resolve()
        return cls(spacy.load(model_dir), schema, model_dir.name)

    def __call__(self, datas: Sequence[dict[str, Any]], report: PredictionReport) -> list[dict[str, Any] | None]:
        docs = self.nlp.pipe(d.get("text", "") for d in datas)
        return [doc_to_prediction(doc, self.schema, model_version=self.version, report=report) for doc in docs]


@dataclass
class _FilePredictor:
    """Precomputed predictions (a :func:`save_predictions` file), looked up by article id."""

    by_article: dict[str, dict[str, Any]]
    version: str

    @classmethod
    def read(cls, path: Path) -> _FilePredictor:

        path = Path(path)
        if not path.exists():
            raise InputError(
                f"No predictions file {path}.",
                hint="Write one with `treffpunkt annotate preannotate --model VERSION --out FILE`.",
            )
        by_article: dict[str, dict[str, Any]] = {}
        try:
            for row in read_jsonl(path):
                if not isinstance(row, dict) or "article_id" not in row or not isinstance(row.get("prediction"), dict):
                    raise InputError(
                        f"{path} is not a predictions file: a line lacks article_id or prediction.",
                        hint="Write one with `treffpunkt annotate preannotate --model VERSION --out FILE`.",
                    )
                by_article[str(row["article_id"])] = row["prediction"]
        except ValueError as err:  # a line that is not JSON (InputError is not a ValueError)
            raise InputError(
                f"{path} is not valid JSONL: {err}", hint="Write it with `treffpunkt annotate preannotate`."
            ) from err
        versions = sorted({str(p.get("model_version", "")) for p in by_article.values()})
        if len(versions) != 1 or not versions[0]:
            raise InputError(
                f"{path} holds predictions of {len(versions)} model versions ({', '.join(versions) or 'none'}); push needs exactly one.",
                hint="Write one file per model version.",
            )
        return cls(by_article, versions[0])

    def __call__(self, datas: Sequence[dict[str, Any]], report: PredictionReport) -> list[dict[str, Any] | None]:
        out = [self.by_article.get(str(d.get("article_id"))) for d in datas]
        report.regions += sum(len(p.get("result", [])) for p in out if p is not None)
        return out


def _attach_predictions(nlp: Predictor, tasks: Sequence[dict[str, Any]], result: PushResult) -> None:
    for task, prediction in zip(tasks, nlp([t["data"] for t in tasks], result.predictions), strict=True):
        if prediction is None:
            result.without_prediction.append(str(task["data"].get("article_id")))
        else:
            task["predictions"] = [prediction]


def save_predictions(
    ws: Workspace,
    *,
    model: str | Path | Predictor | None,
    out: Path,
    articles: Iterable[Article] | None = None,
    schema: Schema | None = None,
    batch_size: int = 500,
    patterns: bool = False,
) -> tuple[int, PredictionReport, str]:
    """Run a model version over the corpus and write Label Studio predictions to a JSONL file for ``push --predictions``.

    One line per article: ``{"article_id", "prediction": {"model_version", "score", "result"}}``. Lets the model run
    where it runs best (a GPU machine, a batch job) and the push be a plain bulk import. Returns (lines, report, version).
    """

    schema = schema or load_schema(ws.schema_path)
    if (model is not None) + patterns != 1:
        raise InputError("Give --model or --patterns (one of them).")
    predictor = model_predictor(ws, model, schema) if model is not None else _ModelPredictor.patterns(ws, schema)
    corpus = _unique(list(articles) if articles is not None else load_corpus(ws))
    report = PredictionReport()

    with progress_bar("articles") as bar:
        job = bar.add_task("Predicting", total=len(corpus))

        def rows() -> Iterator[dict[str, Any]]:
            for batch in chunks(corpus, batch_size):
                for article, prediction in zip(
                    batch, predictor([article_task_data(a) for a in batch], report), strict=True
                ):
                    yield {"article_id": article.id, "prediction": prediction}
                bar.advance(job, len(batch))

        lines = write_jsonl(Path(out), rows())
    return lines, report, predictor.version


def predict_existing(
    ws: Workspace,
    *,
    model: str | Path | Predictor,
    order: str = "corpus",
    batch_size: int = 500,
    schema: Schema | None = None,
    studio: Studio | None = None,
) -> PushResult:
    """``annotate predict``: attach a model version's predictions to the tasks already in the project.

    Tasks that already hold a prediction of this version are skipped (rerunning adds nothing). Predictions go in
    through the bulk predictions API, one request per ``batch_size`` tasks. Older versions' predictions stay on
    the tasks; the project's ``model_version`` is set to this version, so Label Studio shows (and scores, for
    uncertainty sampling and the score column) only this version's predictions.
    """
    _check_options(order, batch_size)
    began = time.perf_counter()
    studio = studio or connect(ws)
    ref = require_project(studio, ws)
    nlp = model_predictor(ws, model, schema or load_schema(ws.schema_path))
    result = PushResult(project=ref, order=order, model_version=nlp.version)
    with progress_bar("tasks") as bar:
        result.predicted_existing = _predict_existing(studio, ref.id, None, nlp, result, batch_size, bar)
    _show_version(studio, ref.id, result.model_version, uncertainty=order == "uncertainty")
    result.requests += 2 + (2 if order == "uncertainty" else 0)  # task listing + project update (+ view list/create)
    result.seconds = time.perf_counter() - began
    return result


def _task_model_versions(task: Any) -> set[str]:
    """Every model version with a prediction on the task.

    ``task.predictions`` in a task listing holds only the project's current ``model_version`` (Label Studio
    filters it); ``predictions_model_versions`` lists them all, so stale versions are not predicted twice.
    """
    raw = getattr(task, "predictions_model_versions", None)
    if raw is None and getattr(task, "model_extra", None):
        raw = task.model_extra.get("predictions_model_versions")
    if isinstance(raw, str):
        raw = [v.strip() for v in raw.split(",")]
    versions = {str(v) for v in raw or [] if v}
    versions |= {
        (p.get("model_version") if isinstance(p, dict) else getattr(p, "model_version", None))
        for p in task.predictions or []
    }
    return versions


def _predict_existing(
    studio: Studio,
    project_id: int,
    task_ids: set[int] | None,
    nlp: Predictor,
    result: PushResult,
    batch_size: int,
    bar: Any,
) -> int:
    """Predictions for tasks (``task_ids``; None = all in the project) lacking one of this model version; one request per chunk."""
    if task_ids is not None and not task_ids:
        return 0
    version = result.model_version
    todo: list[tuple[int, dict[str, Any]]] = []
    for task in iter_tasks(studio, project_id, fields="all"):
        if task_ids is not None and int(task.id) not in task_ids:
            continue
        if version not in _task_model_versions(task):
            todo.append((int(task.id), task.data or {}))
    if not todo:
        return 0
    job = bar.add_task("Predicting existing tasks", total=len(todo))
    done = 0
    for batch in chunks(todo, batch_size):
        predictions = []
        for (task_id, data), prediction in zip(batch, nlp([d for _, d in batch], result.predictions), strict=True):
            if prediction is None:
                result.without_prediction.append(str(data.get("article_id")))
            else:
                predictions.append({"task": task_id, **prediction})
        if predictions:
            # like task imports: a lost answer must not attach the predictions twice; a rerun adds only what is missing
            studio.call(
                studio.sdk.projects.import_predictions,
                project_id,
                request=predictions,
                what="predictions import",
                idempotent=False,
            )
            result.requests += 1
        done += len(predictions)
        bar.advance(job, len(batch))
    return done


def _show_version(studio: Studio, project_id: int, version: str | None, *, uncertainty: bool) -> None:
    """Show this version's predictions as pre-annotations; with uncertainty order, serve low scores first."""
    options: dict[str, Any] = {"model_version": version, "show_collab_predictions": True}
    if uncertainty:
        options["sampling"] = "Uncertainty sampling"
    studio.call(studio.sdk.projects.update, project_id, **options, what="project settings update")
    if uncertainty:
        ensure_view(studio, project_id, UNCERTAINTY_VIEW, {"ordering": ["tasks:predictions_score"]})


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
            raise InputError(
                "A task to import has no data.article_id.", hint="Every task needs data.article_id (its identity)."
            )
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


def import_gold(
    ws: Workspace,
    export: Path,
    *,
    annotators: Sequence[int] | None = None,
    batch_size: int = 500,
    studio: Studio | None = None,
) -> PushResult:
    """``annotate import-gold``: load a stored Label Studio export (e.g. the gold news corpus) into the project.

    Tasks keep their annotations (and data such as ``split``); tasks already in the project (same article id) are
    skipped, so a rerun adds nothing. ``annotate pull`` then gives the same annotations back. ``annotators``: user
    ids of this server, one per annotator of the export (its ``completed_by`` ids in ascending order), so that a
    double-annotated export comes in as the work of that many people.
    """
    studio = studio or connect(ws)
    tasks = [
        {key: task[key] for key in ("data", "annotations", "predictions", "meta") if key in task}
        for task in iter_export(Path(export))
    ]
    if annotators is not None:
        tasks = map_annotators(tasks, annotators, Path(export).name)
    return import_annotated_tasks(studio, require_project(studio, ws), tasks, batch_size=batch_size)


def map_annotators(tasks: list[dict[str, Any]], users: Sequence[int], source: str) -> list[dict[str, Any]]:
    """The tasks with each annotation's ``completed_by`` replaced: the export's i-th annotator id → ``users[i]``."""
    ids = sorted({a.get("completed_by") for t in tasks for a in t.get("annotations", [])}, key=str)
    if len(ids) != len(users):
        raise InputError(
            f"{source} has {len(ids)} annotator(s) ({', '.join(map(str, ids))}), but {len(users)} were given.",
            hint="Pass one e-mail per annotator of the export, in the order of its completed_by ids.",
        )
    to_user = dict(zip(ids, users, strict=True))
    return [
        {**t, "annotations": [{**a, "completed_by": to_user[a.get("completed_by")]} for a in t.get("annotations", [])]}
        for t in tasks
    ]
