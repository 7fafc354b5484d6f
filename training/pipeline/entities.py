"""Entity post-processing after the statistical NER: document-level consistency and the cold-start patterns.

News names a person in full once ("Alexander Gauland") and by surname after that ("Gauland"): the NER, which
sees a few words of context, misses most of those later mentions (on the gold news dev split, about half of its
missed PER spans were such surnames). ``treffpunkt_EntityConsistency_v1`` labels every other, unlabelled
occurrence of a predicted name the same way, and a PER's last word as PER. The ROLE and DATE patterns of
``configs/patterns/`` (chosen on train+dev, precision above the model's) join through spaCy's own ``span_ruler``
(``treffpunkt.entity_patterns.v1`` reads them at ``initialize``; the ruler saves them with the model). Pattern
spans win over the model's, but what they displace of a longer model entity is kept
(``treffpunkt.keep_displaced_names.v1``): the model's "General Petr Pavel" (ROLE) becomes the pattern's "General"
(ROLE) plus "Petr Pavel" (PER), where spaCy's own filter dropped the name. Figures: docs/ner.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans, registry

from treffpunkt.annotation.patterns.ruler import patterns_dir, read_pattern_file


@registry.misc("treffpunkt.entity_patterns.v1")
def entity_patterns(labels: Sequence[str], folder: str | None = None) -> list[dict[str, Any]]:
    """The patterns of ``labels`` in ``folder/*.jsonl`` (default: the shipped configs/patterns/)."""
    files = sorted(Path(folder or patterns_dir(None)).glob("*.jsonl"))
    wanted = set(labels)
    return [row for file in files for _, row in read_pattern_file(file) if row["label"] in wanted]


@registry.misc("treffpunkt.keep_displaced_names.v1")
def keep_displaced_names(
    name_after: Sequence[str] = ("ROLE",), name_label: str = "PER"
) -> Callable[[Iterable[Span], Iterable[Span]], list[Span]]:
    """The span ruler's ``ents_filter``: new (pattern) spans win, as in ``spacy.prioritize_new_ents_filter.v1``,
    and the title-case words a pattern cut off the end of an older entity stay an entity: with the old label, or
    ``name_label`` when the old entity had the pattern's own label in ``name_after`` (the model read role + name
    as one role)."""

    def keep(entities: Iterable[Span], spans: Iterable[Span]) -> list[Span]:
        new = filter_spans(spans)
        covered = {i for span in new for i in range(span.start, span.end)}
        by_token = {i: span for span in new for i in range(span.start, span.end)}
        kept = list(new)
        for ent in entities:
            inside = [i for i in range(ent.start, ent.end) if i in covered]
            if not inside:
                kept.append(ent)
                continue
            rest = ent.doc[inside[-1] + 1 : ent.end]
            if inside[0] != ent.start or not len(rest) or not rest[0].is_title:
                continue
            if not all(t.is_title or not t.is_alpha or t.is_upper for t in rest):
                continue
            label = name_label if ent.label_ == by_token[inside[-1]].label_ and ent.label_ in name_after else ent.label_
            kept.append(Span(ent.doc, rest.start, rest.end, label=label))
        return filter_spans(kept)

    return keep


def _trimmed(span: Span) -> Span | None:
    """The span without whitespace tokens at its edges ("Stoltenberg\\n\\n" -> "Stoltenberg"); None if nothing is left."""
    start, end = span.start, span.end
    doc = span.doc
    while start < end and doc[start].is_space:
        start += 1
    while end > start and doc[end - 1].is_space:
        end -= 1
    if start == end:
        return None
    return span if (start, end) == (span.start, span.end) else Span(doc, start, end, label=span.label_)


class EntityConsistency:
    """Give every unlabelled repeat of a predicted name in a doc the name's label (longest names first)."""

    def __init__(self, name: str, labels: Sequence[str], surname_label: str | None) -> None:
        self.name = name
        self.labels = set(labels)
        self.surname_label = surname_label

    def names(self, doc: Doc) -> dict[tuple[str, ...], str]:
        """Token texts of each capitalised entity of ``labels`` → its label (the first one seen wins)."""
        found: dict[tuple[str, ...], str] = {}
        for ent in doc.ents:
            if ent.label_ not in self.labels or not ent.text[:1].isupper():
                continue
            found.setdefault(tuple(t.text for t in ent), ent.label_)
            if ent.label_ == self.surname_label and len(ent) > 1 and ent[-1].text[:1].isupper():
                found.setdefault((ent[-1].text,), ent.label_)
        return found

    def __call__(self, doc: Doc) -> Doc:
        doc.ents = [span for span in map(_trimmed, doc.ents) if span is not None]
        names = self.names(doc)
        if not names:
            return doc
        words = [t.text for t in doc]
        taken = [False] * len(doc)
        for ent in doc.ents:
            taken[ent.start : ent.end] = [True] * len(ent)
        added = []
        for key, label in sorted(names.items(), key=lambda item: -len(item[0])):
            n = len(key)
            for i in range(len(doc) - n + 1):
                if words[i] == key[0] and tuple(words[i : i + n]) == key and not any(taken[i : i + n]):
                    added.append(Span(doc, i, i + n, label=label))
                    taken[i : i + n] = [True] * n
        if added:
            doc.ents = filter_spans([*doc.ents, *added])
        return doc


@Language.factory(
    "treffpunkt_EntityConsistency_v1",
    default_config={"labels": ["PER", "ORG", "GPE", "LOC"], "surname_label": "PER"},
    requires=["doc.ents"],
    assigns=["doc.ents"],
)
def make_entity_consistency(
    nlp: Language, name: str, labels: list[str], surname_label: str | None
) -> EntityConsistency:
    return EntityConsistency(name, labels, surname_label)
