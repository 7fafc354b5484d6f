"""Batch prediction at corpus scale: articles in, sharded JSONL event records out.

Articles are cut into shards of ``shard_size`` in input order. Each shard is one unit of work — run in this
process, in a pool of ``processes`` worker processes, or on a Dask cluster — and comes back as the shard's
record lines, which this process writes atomically to ``<out>/shard-NNNNN.jsonl``. ``manifest.json`` records
each finished shard with the hash of its input and the model version, so a rerun skips finished shards and
recomputes only missing, changed or stale ones. Every worker loads the model once and keeps it (module cache;
on Dask a worker plugin that also ships the model directory to workers on other machines).
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from treffpunkt.core.console import progress_bar
from treffpunkt.core.errors import TreffpunktError
from treffpunkt.core.io import atomic_open, read_jsonl, sha256_file, write_json
from treffpunkt.core.schema import Schema, load_schema
from treffpunkt.core.versions import read_meta, resolve
from treffpunkt.core.workspace import Workspace
from treffpunkt.training.pipeline.records import RecordBuilder
from treffpunkt.training.pipeline.roles import RolesConfig, load_roles_config, role_assigner, roles_apply

MANIFEST = "manifest.json"
SHARD_PATTERN = "shard-{:05d}.jsonl"
DEFAULT_BATCH_SIZE = 64
DEFAULT_SHARD_SIZE = 500


class PredictError(TreffpunktError):
    """Prediction cannot run (model, input or output problem)."""


@dataclass(frozen=True)
class ModelSpec:
    """Everything a worker needs to build records; picklable, small."""

    path: str
    model_version: str
    schema: Schema
    roles_config: RolesConfig
    batch_size: int = DEFAULT_BATCH_SIZE
    code: str | None = None  # a Python file with extra registered components (like spaCy's --code)

    @property
    def key(self) -> str:
        return f"{self.model_version}:{self.path}:{self.code}"


def model_spec(
    ws: Workspace, version: str | Path, *, batch_size: int | None = None, code: Path | None = None
) -> ModelSpec:
    """The spec of a workspace's model version (name, name-NNN, alias or directory) with its schema and roles."""
    model_dir = resolve(ws, version)
    name = read_meta(model_dir).get("treffpunkt", {}).get("version", model_dir.name)
    schema = load_schema(ws.schema_path)
    return ModelSpec(
        str(model_dir),
        name,
        schema,
        load_roles_config(ws.config_path("roles.yaml"), schema if roles_apply(schema) else None),
        batch_size=batch_size or DEFAULT_BATCH_SIZE,
        code=str(code) if code else None,
    )


@dataclass
class PredictResult:
    out: Path
    shards_dir: Path
    model_version: str
    articles: int = 0
    events: int = 0
    words: int = 0
    shards_written: list[str] = field(default_factory=list)
    shards_skipped: list[str] = field(default_factory=list)
    stale_removed: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def articles_per_s(self) -> float:
        return self.articles / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(out=str(self.out), shards_dir=str(self.shards_dir), articles_per_s=round(self.articles_per_s, 2))
        return data


# ---------------------------------------------------------------------------------------------- the work unit
class _Context:
    """A loaded model plus record builder, created once per process."""

    def __init__(self, spec: ModelSpec) -> None:
        import spacy

        if spec.code:
            from spacy.util import import_file

            import_file("treffpunkt_predict_code", spec.code)
        self.spec = spec
        self.nlp = spacy.load(spec.path)
        roles = role_assigner(Path(spec.path), spec.schema, spec.roles_config)
        self.builder = RecordBuilder(spec.schema, roles, spec.roles_config, spec.model_version)


_CONTEXTS: dict[str, _Context] = {}


def _context(spec: ModelSpec) -> _Context:
    if spec.key not in _CONTEXTS:
        _CONTEXTS[spec.key] = _Context(spec)
    return _CONTEXTS[spec.key]


def run_shard(spec: ModelSpec, articles: list[dict[str, Any]]) -> tuple[list[str], int]:
    """Predict one shard: its record lines (JSON) and its token count."""
    ctx = _context(spec)
    lines: list[str] = []
    words = 0
    texts = (a["text"] for a in articles)
    for article, doc in zip(articles, ctx.nlp.pipe(texts, batch_size=spec.batch_size), strict=True):
        words += len(doc)
        for record in ctx.builder.records(doc, article["id"], article.get("published")):
            lines.append(json.dumps(record, ensure_ascii=False))
    return lines, words


def _init_worker(spec: ModelSpec) -> None:
    _context(spec)


# ---------------------------------------------------------------------------------------------- shards
@dataclass
class _Shard:
    index: int
    articles: list[dict[str, Any]]
    input_hash: str

    @property
    def name(self) -> str:
        return SHARD_PATTERN.format(self.index)


def _as_row(article: Any) -> dict[str, Any]:
    if isinstance(article, dict):
        return {"id": str(article["id"]), "text": article["text"], "published": article.get("published")}
    return {"id": article.id, "text": article.text, "published": article.published}


def _shards(articles: Iterable[Any], shard_size: int) -> Iterator[_Shard]:
    batch: list[dict[str, Any]] = []
    index = 0
    for article in articles:
        batch.append(_as_row(article))
        if len(batch) == shard_size:
            yield _make_shard(index, batch)
            index, batch = index + 1, []
    if batch:
        yield _make_shard(index, batch)


def _make_shard(index: int, rows: list[dict[str, Any]]) -> _Shard:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps([row["id"], row["published"], row["text"]], ensure_ascii=False).encode())
    return _Shard(index, rows, digest.hexdigest())


class _Manifest:
    def __init__(self, directory: Path, model_version: str, shard_size: int) -> None:
        self.path = directory / MANIFEST
        self.model_version = model_version
        self.shard_size = shard_size
        data = json.loads(self.path.read_text(encoding="utf-8")) if self.path.exists() else {}
        self.shards: dict[str, dict[str, Any]] = data.get("shards", {})

    def done(self, shard: _Shard, directory: Path) -> bool:
        entry = self.shards.get(shard.name)
        path = directory / shard.name
        return bool(
            entry
            and entry["input_hash"] == shard.input_hash
            and entry["model_version"] == self.model_version
            and path.exists()
            and sha256_file(path) == entry["sha256"]
        )

    def record(self, shard: _Shard, path: Path, events: int, words: int) -> None:
        self.shards[shard.name] = {
            "input_hash": shard.input_hash,
            "model_version": self.model_version,
            "articles": len(shard.articles),
            "events": events,
            "words": words,
            "sha256": sha256_file(path),
        }
        self.save()

    def save(self) -> None:
        write_json(
            self.path,
            {
                "model_version": self.model_version,
                "shard_size": self.shard_size,
                "shards": dict(sorted(self.shards.items())),
            },
        )


# ---------------------------------------------------------------------------------------------- executors
class _Local:
    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec

    def map(self, shards: Iterable[_Shard]) -> Iterator[tuple[_Shard, list[str], int]]:
        for shard in shards:
            yield (shard, *run_shard(self.spec, shard.articles))

    def close(self) -> None:
        pass


class _Pool:
    """Worker processes, each loading the model once.

    Started by a fork server that has imported spaCy already: as safe as spawning when this process runs threads
    (progress bar, Dask client) but without paying spaCy's import per worker and per run.
    """

    def __init__(self, spec: ModelSpec, processes: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("forkserver")
        # what every worker needs before it can load a model: imported once in the server, inherited by each fork
        context.set_forkserver_preload(
            [
                "spacy",
                "sklearn.linear_model",
                "dateparser",
                "treffpunkt.training.predict.batch",
                "treffpunkt.training.pipeline.records",
                "treffpunkt.training.pipeline.roles",
            ]
        )
        self.spec = spec
        self.depth = processes * 2
        self.pool = ProcessPoolExecutor(processes, mp_context=context, initializer=_init_worker, initargs=(spec,))

    def map(self, shards: Iterable[_Shard]) -> Iterator[tuple[_Shard, list[str], int]]:
        from concurrent.futures import FIRST_COMPLETED, wait

        pending: dict[Any, _Shard] = {}
        source = iter(shards)
        exhausted = False
        while pending or not exhausted:
            while not exhausted and len(pending) < self.depth:  # bounded: the input is streamed, not loaded whole
                shard = next(source, None)
                if shard is None:
                    exhausted = True
                else:
                    pending[self.pool.submit(run_shard, self.spec, shard.articles)] = shard
            if not pending:
                break
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                yield (pending.pop(future), *future.result())

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


class _Dask:
    """Shards as tasks on an existing Dask cluster; a worker plugin ships and loads the model once per worker."""

    def __init__(self, spec: ModelSpec, address: str) -> None:
        from distributed import Client

        try:
            self.client = Client(address, timeout="20s")
        except OSError as err:
            raise PredictError(
                f"No Dask scheduler answered at {address}: {err}",
                hint="Start one with `dask scheduler` and `dask worker ADDRESS`, or drop --dask.",
            ) from err
        plugin = _model_plugin(spec, _archive(Path(spec.path)), _read(spec.code))
        self.client.register_plugin(plugin, name=f"treffpunkt-model-{spec.model_version}")
        self.spec = spec
        self.depth = max(2, 2 * len(self.client.scheduler_info().get("workers", {})))

    def map(self, shards: Iterable[_Shard]) -> Iterator[tuple[_Shard, list[str], int]]:
        from distributed import as_completed

        source = iter(shards)
        pending: dict[Any, _Shard] = {}
        for shard in source:
            pending[self.client.submit(_dask_shard, self.spec.key, shard.articles, pure=False)] = shard
            if len(pending) >= self.depth:
                break
        stream = as_completed(list(pending))
        for future in stream:
            shard = pending.pop(future)
            lines, words = future.result()
            future.release()
            yield shard, lines, words
            nxt = next(source, None)
            if nxt is not None:
                new = self.client.submit(_dask_shard, self.spec.key, nxt.articles, pure=False)
                pending[new] = nxt
                stream.add(new)

    def close(self) -> None:
        self.client.close()


def _archive(path: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(path, arcname="model")
    return buffer.getvalue()


def _read(code: str | None) -> str | None:
    return Path(code).read_text(encoding="utf-8") if code else None


def _model_plugin(spec: ModelSpec, archive: bytes, code: str | None) -> Any:
    """A Dask worker plugin that unpacks the model into the worker's local directory and loads it once.

    Defined here so that ``distributed`` is imported only for --dask (cloudpickle ships the class by value).
    """
    from distributed.diagnostics.plugin import WorkerPlugin

    class ModelPlugin(WorkerPlugin):
        def __init__(self) -> None:
            self.spec, self.archive, self.code = spec, archive, code

        def setup(self, worker: Any) -> None:
            # the class travels by value: reach the worker's real module (not a pickled copy of its globals)
            from treffpunkt.training.predict import batch as here

            target = Path(worker.local_directory) / f"treffpunkt-model-{self.spec.model_version}"
            if not target.exists():
                with tarfile.open(fileobj=io.BytesIO(self.archive), mode="r:gz") as tar:
                    tar.extractall(target, filter="data")
            code_path = None
            if self.code is not None:
                code_path = target / "predict_code.py"
                code_path.write_text(self.code, encoding="utf-8")
            local = here.ModelSpec(
                str(target / "model"),
                self.spec.model_version,
                self.spec.schema,
                self.spec.roles_config,
                self.spec.batch_size,
                str(code_path) if code_path else None,
            )
            here._CONTEXTS[self.spec.key] = here._Context(local)  # tasks look the model up by the client's key

        def teardown(self, worker: Any) -> None:
            from treffpunkt.training.predict import batch as here

            here._CONTEXTS.pop(self.spec.key, None)

    return ModelPlugin()


def _dask_shard(key: str, articles: list[dict[str, Any]]) -> tuple[list[str], int]:
    ctx = _CONTEXTS.get(key)
    if ctx is None:
        raise PredictError(
            f"This Dask worker has no model loaded for {key}.",
            hint="The worker plugin did not run; restart the workers.",
        )
    return run_shard(ctx.spec, articles)


# ---------------------------------------------------------------------------------------------- entry point
def predict(
    spec: ModelSpec,
    articles: Iterable[Any],
    out: Path,
    *,
    shard_size: int = DEFAULT_SHARD_SIZE,
    processes: int = 1,
    dask_address: str | None = None,
    total: int | None = None,
) -> PredictResult:
    """Predict event records for ``articles``; ``out`` is a directory of shards, or a ``.jsonl`` file."""

    if shard_size < 1 or processes < 1:
        raise PredictError(f"shard size and processes must be positive (got {shard_size}, {processes}).")
    if not Path(spec.path).exists():
        raise PredictError(
            f"Model version directory {spec.path} does not exist.", hint="List versions with `treffpunkt models`."
        )
    out = Path(out)
    single_file = out.suffix == ".jsonl"
    shards_dir = out.with_name(out.name + ".shards") if single_file else out
    shards_dir.mkdir(parents=True, exist_ok=True)
    manifest = _Manifest(shards_dir, spec.model_version, shard_size)
    result = PredictResult(out, shards_dir, spec.model_version)
    seen: list[str] = []
    started = time.perf_counter()

    def todo() -> Iterator[_Shard]:
        for shard in _shards(articles, shard_size):
            seen.append(shard.name)
            if manifest.done(shard, shards_dir):
                result.shards_skipped.append(shard.name)
                result.articles += len(shard.articles)
                result.events += manifest.shards[shard.name]["events"]
                result.words += manifest.shards[shard.name].get("words", 0)
                continue
            yield shard

    executor = (
        _Dask(spec, dask_address) if dask_address else (_Pool(spec, processes) if processes > 1 else _Local(spec))
    )
    try:
        with progress_bar("articles") as bar:
            task = bar.add_task("predict", total=total)
            for shard, lines, words in executor.map(todo()):
                path = shards_dir / shard.name
                with atomic_open(path) as handle:
                    handle.writelines(line + "\n" for line in lines)
                manifest.record(shard, path, len(lines), words)
                result.shards_written.append(shard.name)
                result.articles += len(shard.articles)
                result.events += len(lines)
                result.words += words
                rate = result.articles / max(time.perf_counter() - started, 1e-9)
                bar.update(task, completed=result.articles, description=f"predict {rate:,.0f} articles/s")
    finally:
        executor.close()
    # shards left from a longer earlier input would mix old records in: remove them and say so
    for name in sorted(set(manifest.shards) - set(seen)):
        (shards_dir / name).unlink(missing_ok=True)
        manifest.shards.pop(name)
        result.stale_removed.append(name)
    manifest.save()
    if single_file:
        with atomic_open(out) as handle:
            for name in seen:
                with (shards_dir / name).open(encoding="utf-8") as part:
                    handle.writelines(part)
    result.seconds = time.perf_counter() - started
    return result


def read_records(out: Path) -> list[dict[str, Any]]:
    """All records of a predict output (a ``.jsonl`` file or a shard directory), in shard order."""
    out = Path(out)
    if out.is_file():
        return list(read_jsonl(out))
    return [row for path in sorted(out.glob("shard-*.jsonl")) for row in read_jsonl(path)]
