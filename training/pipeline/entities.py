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

from collections import Counter
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
        """Each capitalised entity of ``labels`` (:func:`name_key`) → its label (the first one seen wins)."""
        found: dict[tuple[str, ...], str] = {}
        for ent in doc.ents:
            if ent.label_ not in self.labels or not ent.text[:1].isupper():
                continue
            found.setdefault(name_key([t.text for t in ent]), ent.label_)
            if ent.label_ == self.surname_label and len(ent) > 1:
                if ent[-1].text[:1].isupper():
                    found.setdefault(name_key([ent[-1].text]), ent.label_)
                if ent[0].is_title and len(ent[0]) > 1 and not ent[0].text.endswith("."):
                    found.setdefault((ent[0].text,), ent.label_)  # "Guo" of "Guo Jianmei"
        return found

    def __call__(self, doc: Doc) -> Doc:
        doc.ents = [span for span in map(_trimmed, doc.ents) if span is not None]
        ents = split_glued_names(doc.ents, self.surname_label)
        ents = surnames_win(ents, self.surname_label)
        doc.ents = capital_names(ents) if "GPE" in self.labels else ents
        names = self.names(doc)
        if not names:
            return doc
        words = [t.text for t in doc]
        single = [name_key([w])[0] for w in words]  # one-word names are looked up by their key
        taken = [False] * len(doc)
        for ent in doc.ents:
            taken[ent.start : ent.end] = [True] * len(ent)
        added = []
        for key, label in sorted(names.items(), key=lambda item: -len(item[0])):
            n = len(key)
            for i in range(len(doc) - n + 1):
                first = single[i] if n == 1 else words[i]
                if first == key[0] and name_key(words[i : i + n]) == key and not any(taken[i : i + n]):
                    added.append(Span(doc, i, i + n, label=label))
                    taken[i : i + n] = [True] * n
        if added:
            doc.ents = filter_spans([*doc.ents, *added])
        return doc


def name_key(words: Sequence[str]) -> tuple[str, ...]:
    """A name's words with a German genitive ending taken off the last one, so "Nato-Russland-Rates",
    "Nato-Russland-Rats" and "Nato-Russland-Rat" (or "Dunfords" and "Dunford") are one name."""
    *head, last = words
    for ending in ("es", "s"):
        if last.endswith(ending) and len(last) - len(ending) >= 3 and last[-len(ending) - 1].islower():
            return (*head, last[: -len(ending)])
    return (*head, last)


def split_glued_names(ents: Sequence[Span], person: str | None) -> list[Span]:
    """A person name that swallowed the next word, when that word is an entity of its own at least twice elsewhere
    in the doc and never part of another name: "ruft Generalsekretär Jens Stoltenberg Russland zu Gesprächen auf"
    → "Jens Stoltenberg" (PER) + "Russland" (GPE, as elsewhere)."""
    alone: dict[str, Counter[str]] = {}
    inside: Counter[str] = Counter()
    for ent in ents:
        if len(ent) == 1 and ent.label_ != person:
            alone.setdefault(ent.text, Counter())[ent.label_] += 1
        elif len(ent) > 1:
            inside.update(t.text for t in ent)
    out = []
    for ent in ents:
        last = ent[-1].text
        seen = alone.get(last)
        if ent.label_ == person and len(ent) > 2 and seen and seen.total() >= 2 and inside[last] == 1:
            label = seen.most_common(1)[0][0]
            out += [
                Span(ent.doc, ent.start, ent.end - 1, label=person),
                Span(ent.doc, ent.end - 1, ent.end, label=label),
            ]
        else:
            out.append(ent)
    return out


def surnames_win(ents: Sequence[Span], person: str | None) -> list[Span]:
    """A one-word name that is the last word of a longer person name in the doc is that person, whatever the NER
    said: "Jérôme Boateng" (PER) … "Boateng" (GPE) → PER."""
    surnames = {ent[-1].text for ent in ents if ent.label_ == person and len(ent) > 1 and ent[-1].is_title}
    return [
        Span(ent.doc, ent.start, ent.end, label=person)
        if person and len(ent) == 1 and ent.text in surnames and ent.label_ in ("GPE", "ORG", "LOC")
        else ent
        for ent in ents
    ]


def capital_names(ents: Sequence[Span], place: str = "GPE") -> list[Span]:
    """A name right after "Hauptstadt" ("in der aserbaidschanischen Hauptstadt Baku", "Landeshauptstadt") is a
    city: it gets the place label whatever the NER said (it took the unseen "Baku" for a person)."""
    out = []
    for ent in ents:
        before = ent.doc[ent.start - 1] if ent.start > 0 else None
        if before is not None and before.lower_.endswith("hauptstadt") and ent.label_ != place:
            ent = Span(ent.doc, ent.start, ent.end, label=place)
        out.append(ent)
    return out


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
