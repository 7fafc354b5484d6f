"""Name lists after the NER: German country and city names, and first names (``treffpunkt_NameLists_v1``).

The NER learns names from 190 training articles; on the gold news dev split most of its misses were names that
occur nowhere in them, about half of the missed GPEs countries and capitals (Südkorea, Seoul, Pjöngjang, Prag).
Two lists fill that gap (``configs/names/``, read at ``initialize`` and saved with the model):

* ``places.json``: German names of countries (CLDR territory names) and cities (CLDR exemplar cities), generated
  with babel by ``scripts/make_name_lists.py``. A listed name, or its genitive ("Südkoreas"), that the NER left
  unlabelled becomes GPE; a model entity of exactly that text gets GPE.
* ``first-names.json``: first names from faker's person providers (MIT), filtered on the gold training split. A
  listed first name followed by a capitalised name word (after an optional particle: "Cecilia de Arce") is a PER;
  a PER the NER found for part of it is extended ("Woody" → "Woody Harrelson").

Measured on the gold news dev split with the same trained models (docs/ner.md). The lists are German-news
lists: the component works only when the NER has the news labels PER, ORG, GPE and LOC (LER, with its own label
set, is left alone: there the rules cost F1).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import srsly
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from treffpunkt.core.resources import default_config

NEWS_LABELS = ("PER", "ORG", "GPE", "LOC")
PARTICLES = {"de", "von", "van", "der", "den", "da", "di", "del", "la", "le", "bin", "al", "el", "zu", "ter", "dos"}
NAME_WORD = re.compile(r"^[A-ZÄÖÜ][a-zäöüßéèáàíóúñçšžčćğı']+(-[A-ZÄÖÜa-zäöü][a-zäöüßéèáàíóúñçšžčćğı']+)*\.?$")


def _genitive(name: str) -> str | None:
    return None if name.split()[-1][-1:] in "sßxz" else name + "s"


class NameLists:
    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name
        self.tokenizer = nlp.tokenizer
        self.cfg: dict[str, Any] = {"active": False, "places": [], "first_names": []}
        self._places: dict[str, list[tuple[str, ...]]] = {}
        self._first: set[str] = set()

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Any]] | None = None,
        *,
        nlp: Language | None = None,
        places: str | None = None,
        first_names: str | None = None,
    ) -> None:
        """Read the lists (default: the shipped ``configs/names/``); active only under the news labels."""
        labels = set(nlp.get_pipe("ner").labels) if nlp is not None and "ner" in nlp.pipe_names else set()
        data = srsly.read_json(Path(places) if places else default_config("names/places.json"))
        self.cfg = {
            "active": set(NEWS_LABELS) <= labels,
            "places": sorted({*data["countries"], *data["cities"]}),
            "first_names": sorted(
                srsly.read_json(Path(first_names) if first_names else default_config("names/first-names.json"))
            ),
        }
        self._build()

    def _build(self) -> None:
        names = set(self.cfg["places"])
        names |= {g for n in names if (g := _genitive(n))}
        keys: dict[str, list[tuple[str, ...]]] = {}
        for text in names:
            key = tuple(t.text for t in self.tokenizer(text))
            keys.setdefault(key[0], []).append(key)
        for group in keys.values():
            group.sort(key=len, reverse=True)  # the longest name first ("Neu-Delhi" before "Neu")
        self._places = keys
        self._first = set(self.cfg["first_names"])

    def __call__(self, doc: Doc) -> Doc:
        if self.cfg["active"]:
            self._mark_places(doc)
            self._mark_people(doc)
        return doc

    def _mark_places(self, doc: Doc) -> None:
        words = [t.text for t in doc]
        ents = list(doc.ents)
        by_span = {(e.start, e.end): e for e in ents}
        taken = [False] * len(doc)
        for e in ents:
            taken[e.start : e.end] = [True] * len(e)
        new, relabel = [], {}
        i = 0
        while i < len(doc):
            for key in self._places.get(words[i], ()):
                n = len(key)
                if tuple(words[i : i + n]) != key:
                    continue
                if not any(taken[i : i + n]):
                    new.append(Span(doc, i, i + n, label="GPE"))
                    taken[i : i + n] = [True] * n
                elif (i, i + n) in by_span and by_span[(i, i + n)].label_ != "GPE":
                    relabel[(i, i + n)] = Span(doc, i, i + n, label="GPE")
                i += n - 1
                break
            i += 1
        if new or relabel:
            doc.ents = filter_spans([relabel.get((e.start, e.end), e) for e in ents] + new)

    def _mark_people(self, doc: Doc) -> None:
        at = {i: e for e in doc.ents for i in range(e.start, e.end)}
        found: list[tuple[int, int, set[Span]]] = []
        n, i = len(doc), 0
        while i < n - 1:
            if doc[i].text in self._first and len(doc[i].text) >= 2:
                j = i + 1
                while j + 1 < n and doc[j].text in PARTICLES and NAME_WORD.match(doc[j + 1].text):
                    j += 1
                if j < n and NAME_WORD.match(doc[j].text) and not doc[j].is_stop:
                    inside = {at[k] for k in range(i, j + 1) if k in at}
                    if all(e.label_ == "PER" and e.start >= i and e.end <= j + 1 for e in inside):
                        found.append((i, j + 1, inside))
                        i = j + 1
                        continue
            i += 1
        if found:
            replaced = {e for *_, inside in found for e in inside}
            people = [Span(doc, a, b, label="PER") for a, b, _ in found]
            doc.ents = filter_spans([e for e in doc.ents if e not in replaced] + people)

    def to_disk(self, path: Path, *, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg.json", self.cfg)

    def from_disk(self, path: Path, *, exclude: Iterable[str] = ()) -> NameLists:
        self.cfg = srsly.read_json(Path(path) / "cfg.json")
        self._build()
        return self


@Language.factory("treffpunkt_NameLists_v1", requires=["doc.ents"], assigns=["doc.ents"])
def make_name_lists(nlp: Language, name: str) -> NameLists:
    return NameLists(nlp, name)
