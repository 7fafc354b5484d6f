"""The gold news corpus ``corpus/gold/news/``: 10kGNAD articles selected by meeting cues, annotated as phrase specs,
built into a Label Studio export with frozen train/dev/test splits.

Selection (fixed seed, :func:`select`): every article of the categories International, Inland, Wirtschaft, Etat and
Panorama whose text carries a meeting cue (:data:`CUES`), plus :data:`NEGATIVES` randomly drawn articles of those
categories without any cue (so precision is measured); :data:`DOUBLE` of all chosen articles are annotated twice,
independently. Splits (:func:`freeze_splits`) go by story cluster with a fixed seed; they travel in each task's
``data.split``, so ``annotate convert`` keeps them whatever ``configs/convert.yaml`` says.

Specs name phrases, never offsets (the seed gold's format, :mod:`treffpunkt.demo.gold`): ``specs/<id>.yaml`` is the
adjudicated gold; ``double/annotator-1`` and ``double/annotator-2`` hold the two independent passes of the doubly
annotated articles, from which ``agreement-export.json`` is built for ``annotate agreement``.

Rebuild: ``python -m treffpunkt.demo.news --gnad ../shared/data/gnad/test.csv`` (the test tells you when needed).
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import spacy

from treffpunkt.annotation.convert.docs import SplitRatios, convert_tasks, load_convert_options, split_groups
from treffpunkt.annotation.convert.reader import iter_export
from treffpunkt.annotation.ingest.corpus import IngestOptions, articles_from_paths
from treffpunkt.core.article import Article
from treffpunkt.core.config import read_yaml
from treffpunkt.core.errors import InputError
from treffpunkt.core.io import write_json, write_sha256
from treffpunkt.core.resources import default_config, demo_corpus
from treffpunkt.core.schema import Schema, load_schema
from treffpunkt.demo.gold import resolve_seed, task_data, to_task

CATEGORIES = ("International", "Inland", "Wirtschaft", "Etat", "Panorama")
#: Meeting cues: calls, meetings, summits, visits, talks, negotiations, conferences, invitations, sessions, refusals.
CUES = re.compile(
    "|".join(
        [
            r"\b(telefonier\w*|Telefonat\w*|Telefongespräch\w*|Videokonferenz\w*)\b",
            r"\b(treffen|trifft|trafen?|getroffen|Treffen|Treffens|\w+treffen)\b",
            r"\b(Gipfel\w*|\w+gipfel\w*)\b",
            r"\b(Besuch|Besuchs|Besuche|Besuchen|besuchte\w*|besucht|besuchen|empfing\w*|empfangen|empfängt"
            r"|Staatsbesuch\w*)\b",
            r"\b(Gespräch|Gespräche|Gesprächen|Gesprächs|\w+gespräch\w*)\b",
            r"\b(Verhandlung\w*|verhandel\w*|\w+verhandlung\w*)\b",
            r"\b(Konferenz\w*|\w+konferenz\w*)\b",
            r"\b(Einladung\w*|einladen|eingeladen|lädt \w+ ein|lud \w+ ein)\b",
            r"\b(Ministerrat\w*|Sondersitzung\w*|Sicherheitsrat\w*|Rat|Rats|Rates|Tagung\w*|Sitzung\w*)\b",
            r"\b(abgesagt|absagen|Absage\w*|sagte \w+ ab)\b",
        ]
    )
)
SEED = 13
NEGATIVES = 60
DOUBLE = 60
#: Frozen split shares: the test split must hold at least 50 articles.
SPLITS = SplitRatios(train=0.6, dev=0.2, test=0.2)


@dataclass(frozen=True)
class Selected:
    id: str
    kind: str  # "cue" or "negative"
    category: str
    double: bool


def news_dir() -> Path:
    return demo_corpus() / "gold" / "news"


def load_gnad(path: Path) -> list[Article]:
    """The 10kGNAD test articles exactly as ``treffpunkt corpus add`` stores them (same text, id, cluster)."""
    if not Path(path).is_file():
        raise InputError(f"10kGNAD file {path} not found.", hint="Pass --gnad ../shared/data/gnad/test.csv.")
    articles, _ = articles_from_paths([Path(path)], options=IngestOptions(progress=False))
    return articles


def select(
    articles: Iterable[Article], *, seed: int = SEED, negatives: int = NEGATIVES, double: int = DOUBLE
) -> list[Selected]:
    """Cue articles (corpus order) and seeded negatives; ``double`` of them drawn for a second annotation."""
    pool = [a for a in articles if a.meta.get("category") in CATEGORIES]
    cue = [a for a in pool if CUES.search(a.text)]
    rest = sorted((a for a in pool if not CUES.search(a.text)), key=lambda a: a.id)
    drawn = random.Random(seed).sample(rest, negatives)
    chosen = [(a, "cue") for a in cue] + [(a, "negative") for a in drawn]
    twice = {a.id for a, _ in random.Random(seed).sample(chosen, double)}
    selected = [Selected(a.id, kind, a.meta["category"], a.id in twice) for a, kind in chosen]
    return sorted(selected, key=lambda s: (not s.double, s.id))


def freeze_splits(selected: Sequence[Selected], articles: dict[str, Article], *, seed: int = SEED) -> dict[str, str]:
    """Article id → train/dev/test, whole story clusters together (shares :data:`SPLITS`)."""
    sizes: dict[str, int] = {}
    for s in selected:
        key = articles[s.id].cluster
        sizes[key] = sizes.get(key, 0) + 1
    split_of, _ = split_groups(sizes, SPLITS, seed=seed)
    return {s.id: split_of[articles[s.id].cluster] for s in selected}


def _gold(article: Article, spec_path: Path, schema: Schema, nlp: Any, extra: dict[str, Any]) -> Any:
    data = {**task_data(article), **extra}
    spec = read_yaml(spec_path, what="Gold spec") or {}
    return resolve_seed(article.id, data, spec, schema, nlp)


def build_export(
    selected: Sequence[Selected], articles: dict[str, Article], splits: dict[str, str], spec_dir: Path, schema: Schema
) -> list[dict[str, Any]]:
    """The gold as a Label Studio JSON export: one task per article, one ground-truth annotation."""
    nlp = spacy.blank(schema.language)
    tasks = []
    for n, s in enumerate(selected, start=1):
        extra = {"category": s.category, "selection": s.kind, "split": splits[s.id]}
        task = to_task(n, _gold(articles[s.id], spec_dir / f"{s.id}.yaml", schema, nlp, extra))
        task["meta"] = {"gold": "news"}
        tasks.append(task)
    return tasks


def build_agreement_export(
    selected: Sequence[Selected], articles: dict[str, Article], double_dir: Path, schema: Schema
) -> list[dict[str, Any]]:
    """The doubly annotated articles with both independent annotations (two annotators), for ``annotate agreement``."""
    nlp = spacy.blank(schema.language)
    tasks = []
    for n, s in enumerate((s for s in selected if s.double), start=1):
        annotations = []
        for k in (1, 2):
            gold = _gold(articles[s.id], double_dir / f"annotator-{k}" / f"{s.id}.yaml", schema, nlp, {})
            annotation = to_task(n, gold)["annotations"][0]
            annotation.update(id=n * 10 + k, completed_by=k, ground_truth=False)  # Label Studio exports user ids
            annotations.append(annotation)
        tasks.append({"id": n, "data": task_data(articles[s.id]), "annotations": annotations, "predictions": []})
    return tasks


def build(gnad: Path, *, out: Path | None = None, schema: Schema | None = None) -> dict[str, Path]:
    """Select, freeze the splits and write selection.json, splits.json, export.json and agreement-export.json."""
    out = Path(out) if out else news_dir()
    schema = schema or load_schema(default_config("schema.yaml"))
    by_id = {a.id: a for a in load_gnad(gnad)}
    selected = select(by_id.values())
    splits = freeze_splits(selected, by_id)
    paths = {
        "selection": out / "selection.json",
        "splits": out / "splits.json",
        "export": out / "export.json",
        "agreement": out / "agreement-export.json",
    }
    write_json(paths["selection"], [asdict(s) for s in selected], perms=0o644)
    write_json(paths["splits"], {"seed": SEED, "shares": SPLITS.model_dump(), "splits": splits}, perms=0o644)
    export = build_export(selected, by_id, splits, out / "specs", schema)
    write_json(paths["export"], export, perms=0o644, indent=None)
    write_json(
        paths["agreement"], build_agreement_export(selected, by_id, out / "double", schema), perms=0o644, indent=None
    )
    for name in ("export", "agreement"):
        write_sha256(paths[name])
    return paths


def gold_docs(splits: Sequence[str], *, folder: Path | None = None, schema: Schema | None = None) -> list[Any]:
    """The stored gold export's Docs of the given frozen splits (as ``annotate convert`` makes them), in export order."""
    folder = Path(folder) if folder else news_dir()
    schema = schema or load_schema(default_config("schema.yaml"))
    frozen = json.loads((folder / "splits.json").read_text(encoding="utf-8"))["splits"]
    tasks = [t for t in iter_export(folder / "export.json") if frozen[t["data"]["article_id"]] in splits]
    _, docs = convert_tasks(tasks, schema=schema, opts=load_convert_options())
    return [doc for _, doc in docs]


def stored_selection(folder: Path | None = None) -> list[Selected]:
    path = (Path(folder) if folder else news_dir()) / "selection.json"
    return [Selected(**row) for row in json.loads(path.read_text(encoding="utf-8"))]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m treffpunkt.demo.news", description=__doc__.splitlines()[0])
    parser.add_argument("--gnad", type=Path, required=True, help="10kGNAD test.csv (../shared/data/gnad/test.csv)")
    parser.add_argument("--out", type=Path, default=None, help="Output folder (default: corpus/gold/news)")
    args = parser.parse_args(argv)
    for name, path in build(args.gnad, out=args.out).items():
        print(f"{name}: {path}")


if __name__ == "__main__":
    main()
