"""``treffpunkt pretrain``: spaCy tok2vec pretraining (characters objective) on all corpus articles.

The training config (default.cfg) is merged with configs/pretrain.cfg, so the pretrained weights fit the tok2vec
that ``treffpunkt train --pretrained FILE`` initialises (``[initialize] init_tok2vec``).
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from treffpunkt.annotation.ingest.corpus import iter_articles
from treffpunkt.core.errors import InputError
from treffpunkt.core.io import atomic_open
from treffpunkt.core.workspace import Workspace
from treffpunkt.training.train.config import load_config, resolve_config_path

#: JsonlCorpus skips docs longer than max_length tokens; articles are cut into chunks of about this many chars.
CHUNK_CHARS = 1500
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass
class PretrainResult:
    weights: Path
    seconds: float
    epochs: int
    words: int
    texts: int
    stopped: str | None = None


def corpus_texts(ws: Workspace) -> Iterator[str]:
    """Every article's text, annotated or not."""
    for article in iter_articles(ws):
        if article.text:
            yield article.text


def chunks(text: str, size: int = CHUNK_CHARS) -> Iterator[str]:
    """Paragraphs, and long paragraphs cut at sentence ends into pieces of about ``size`` characters."""
    for para in (p.strip() for p in text.split("\n")):
        if not para:
            continue
        piece = ""
        for sentence in _SENTENCE_END.split(para):
            if piece and len(piece) + len(sentence) > size:
                yield piece
                piece = ""
            piece = f"{piece} {sentence}".strip()
        if piece:
            yield piece


def pretrain_config(
    train_config: Path, pretrain_cfg: Path, raw_text: Path, overrides: Mapping[str, Any] | None = None
) -> Any:
    config = load_config(train_config).merge(load_config(pretrain_cfg))
    config["paths"]["raw_text"] = str(raw_text)
    for dotted, value in (overrides or {}).items():
        node = config
        *parents, key = dotted.split(".")
        for part in parents:
            node = node[part]
        node[key] = value
    return config


def pretrain_texts(
    config: Any,
    texts: Iterable[str],
    out_dir: Path,
    *,
    max_seconds: float | None = None,
    seed: int | None = 0,
    stdout: IO[str] = sys.stderr,
    clock: Any = time.perf_counter,
) -> str:
    """Pretrain on raw texts with a training config that has a [pretraining] block; returns the weights file.

    Mirrors ``spacy.training.pretrain.pretrain`` but stops cleanly on a time budget or Ctrl-C, keeping the
    weights learnt so far.
    """
    return str(
        _pretrain(config, texts, Path(out_dir), max_seconds=max_seconds, seed=seed, stdout=stdout, clock=clock).weights
    )


def _pretrain(
    config: Any,
    texts: Iterable[str],
    out_dir: Path,
    *,
    max_seconds: float | None,
    seed: int | None,
    stdout: IO[str],
    clock: Any = time.perf_counter,
) -> PretrainResult:
    from spacy.schemas import ConfigSchemaPretrain
    from spacy.training.pretrain import create_pretraining_model, ensure_docs, make_update
    from spacy.util import dot_to_object, load_model_from_config, registry
    from thinc.api import fix_random_seed

    if "pretraining" not in config or not config["pretraining"]:
        raise InputError(
            "The config has no [pretraining] block.",
            hint="Merge configs/pretrain.cfg into it (treffpunkt pretrain does).",
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    raw = out_dir / "raw_text.jsonl"
    n_texts = 0
    with atomic_open(raw) as handle:
        for text in texts:
            for piece in chunks(text):
                handle.write(json.dumps({"text": piece}, ensure_ascii=False) + "\n")
                n_texts += 1
    if n_texts == 0:
        raise InputError("No article texts to pretrain on.", hint="Add articles first (`treffpunkt corpus add ...`).")
    config["paths"]["raw_text"] = str(raw)
    config["initialize"]["init_tok2vec"] = None  # we are creating it
    if seed is not None:
        fix_random_seed(seed)
    nlp = load_model_from_config(config)
    resolved = nlp.config.interpolate()
    P = registry.resolve(resolved["pretraining"], schema=ConfigSchemaPretrain)
    corpus = registry.resolve({"corpus": dot_to_object(resolved, P["corpus"])})["corpus"]
    model = create_pretraining_model(nlp, P)
    optimizer = P["optimizer"]
    objective = model.attrs["loss"]
    weights = out_dir / "tok2vec.bin"

    def save() -> None:
        with model.use_params(optimizer.averages), atomic_open(weights, "wb") as handle:
            handle.write(model.get_ref("tok2vec").to_bytes())

    start = clock()
    words = 0
    epoch = 0
    stopped: str | None = None
    try:
        for epoch in range(P["max_epochs"]):
            loss = 0.0
            for batch in P["batcher"](corpus(nlp)):
                docs = ensure_docs(batch)
                loss += make_update(model, docs, optimizer, objective)
                words += sum(len(d) for d in docs)
                if max_seconds is not None and clock() - start > max_seconds:
                    stopped = "time budget"
                    break
            stdout.write(f"pretrain epoch {epoch}: loss {loss:.1f}, {words} words, {clock() - start:.0f} s\n")
            save()
            if stopped:
                break
    except KeyboardInterrupt:
        stopped = "interrupted"
    save()
    return PretrainResult(weights, clock() - start, epoch + 1, words, n_texts, stopped)


def pretrain(
    ws: Workspace,
    *,
    config: Path | str | None = None,
    out: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    max_seconds: float | None = None,
    seed: int | None = 0,
    stdout: IO[str] = sys.stderr,
) -> PretrainResult:
    """Pretrain the tok2vec of ``config`` (default.cfg) on all corpus articles; returns where the weights are."""
    ws.ensure()
    train_cfg = resolve_config_path(ws, config)
    out_dir = (
        Path(out).parent
        if out and Path(out).suffix == ".bin"
        else Path(out or ws.models_dir / "pretrain" / train_cfg.stem)
    )
    cfg = pretrain_config(train_cfg, ws.config_path("pretrain.cfg"), out_dir / "raw_text.jsonl", overrides)
    result = _pretrain(cfg, corpus_texts(ws), out_dir, max_seconds=max_seconds, seed=seed, stdout=stdout)
    if out and Path(out).suffix == ".bin" and Path(out) != result.weights:
        result.weights.replace(out)
        result.weights = Path(out)
    (result.weights.parent / "raw_text.jsonl").unlink(missing_ok=True)  # a copy of the corpus; not worth keeping
    return result
