"""``treffpunkt vectors``: floret word vectors trained on the workspace's articles (plus extra files).

No pretrained German vectors can be downloaded here, so we make our own: every article text, tokenised with the
pipeline's own tokenizer (``spacy.blank("de")``, so the vector keys are the tokens the model sees), trains a
floret model (``configs/vectors.yaml``); its table is converted to a spaCy vectors folder, the value for
``--paths.vectors`` of any training config (with ``include_static_vectors = true``). Extra files (e.g. the 10kGNAD CSV) are read and cleaned by the
ingest readers without being added to the corpus; their rejections come back in the result.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field

from treffpunkt.annotation.ingest.corpus import IngestOptions, IngestReport, articles_from_paths, iter_articles
from treffpunkt.core.config import StrictConfig, load_config
from treffpunkt.core.errors import InputError, TreffpunktError
from treffpunkt.core.io import atomic_open
from treffpunkt.core.resources import default_config
from treffpunkt.core.workspace import Workspace


class VectorsConfig(StrictConfig):
    """``configs/vectors.yaml``: floret's hyper-parameters."""

    dim: int = Field(gt=0)
    minn: int = Field(ge=1)
    maxn: int = Field(ge=1)
    bucket: int = Field(gt=0)
    hash_count: int = Field(ge=1, le=4)
    epoch: int = Field(ge=1)
    min_count: int = Field(ge=1)
    model: Literal["cbow", "skipgram"]
    window: int = Field(ge=1)
    threads: int = Field(ge=1)


def load_vectors_config(ws: Workspace | None = None) -> VectorsConfig:
    path = ws.config_path("vectors.yaml") if ws else default_config("vectors.yaml")
    return load_config(path, VectorsConfig, what="Vectors config", defaults=default_config("vectors.yaml"))


class FloretMissing(TreffpunktError):
    """The floret package is not installed."""


@dataclass
class VectorsResult:
    path: Path
    texts: int
    words: int
    rows: int
    dim: int
    seconds: float
    extra_report: IngestReport | None = None


def tokenized_lines(texts: Iterable[str]) -> Iterator[tuple[str, int]]:
    """One line per paragraph: its tokens (spaCy's German tokenizer) joined by spaces, and the token count."""
    import spacy

    tokenizer = spacy.blank("de").tokenizer
    for text in texts:
        for para in text.split("\n"):
            tokens = [t.text for t in tokenizer(para) if not t.is_space]
            if tokens:
                yield " ".join(tokens), len(tokens)


def _floret():  # noqa: ANN202 - the module's own type
    try:
        import floret
    except ImportError as err:
        raise FloretMissing(
            "The floret package is not installed.", hint="Install the project (`make install`) or `pip install floret`."
        ) from err
    return floret


def vectors_from_texts(
    texts: Iterable[str], out: Path, *, config: VectorsConfig, extra_report: IngestReport | None = None
) -> VectorsResult:
    """Train floret on ``texts`` and write a spaCy vectors folder (a blank German pipeline with the table) to ``out``."""
    import spacy
    from spacy.training.initialize import convert_vectors

    floret = _floret()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="treffpunkt-vectors-") as tmp:
        corpus = Path(tmp) / "corpus.txt"
        counts = {"texts": 0, "words": 0}

        def counted() -> Iterator[str]:
            for text in texts:
                counts["texts"] += 1
                yield text

        with corpus.open("w", encoding="utf-8") as handle:
            for line, words in tokenized_lines(counted()):
                handle.write(line + "\n")
                counts["words"] += words
        if counts["words"] == 0:
            raise InputError(
                "No article text to train vectors on.",
                hint="Add articles (`treffpunkt corpus add ...`) or pass --extra FILE.",
            )
        model = floret.train_unsupervised(
            str(corpus),
            model=config.model,
            mode="floret",
            dim=config.dim,
            minn=config.minn,
            maxn=config.maxn,
            bucket=config.bucket,
            hashCount=config.hash_count,
            epoch=config.epoch,
            minCount=config.min_count,
            ws=config.window,
            thread=config.threads,
            verbose=0,
        )
        table = Path(tmp) / "vectors.floret"
        model.save_floret_vectors(str(table))
        nlp = spacy.blank("de")
        convert_vectors(nlp, table, truncate=0, prune=-1, mode="floret")
    out.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out)
    with atomic_open(out / "treffpunkt-vectors.json") as handle:
        handle.write(config.model_dump_json(indent=2) + "\n")
    if extra_report is not None:  # what the extra files gave and what they lost, beside the vectors
        with atomic_open(out / "extra-report.json") as handle:
            handle.write(extra_report.model_dump_json(indent=2) + "\n")
    return VectorsResult(
        out, counts["texts"], counts["words"], nlp.vocab.vectors.shape[0], nlp.vocab.vectors.shape[1],
        time.perf_counter() - start, extra_report,
    )  # fmt: skip


def workspace_texts(
    ws: Workspace, extra: Sequence[Path], *, progress: bool = False
) -> tuple[list[str], IngestReport | None]:
    """The corpus's article texts plus the cleaned texts of ``extra`` files (not added to the corpus)."""
    texts = [a.text for a in iter_articles(ws) if a.text]
    if not extra:
        return texts, None
    articles, report = articles_from_paths(list(extra), options=IngestOptions(progress=progress), ws=ws)
    return texts + [a.text for a in articles if a.text], report


def train_vectors(
    ws: Workspace,
    *,
    extra: Sequence[Path] = (),
    name: str = "floret",
    out: Path | None = None,
    progress: bool = False,
) -> VectorsResult:
    """Vectors from every corpus article plus ``extra`` files, saved to ``out`` (default models/vectors/<name>)."""
    ws.ensure()
    config = load_vectors_config(ws)
    texts, report = workspace_texts(ws, extra, progress=progress)
    return vectors_from_texts(texts, Path(out or ws.models_dir / "vectors" / name), config=config, extra_report=report)
