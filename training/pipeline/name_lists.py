"""Name lists and word lists after the NER (``treffpunkt_NameLists_v1``).

The NER learns names from 190 training articles; on the gold news dev split most of its misses were names that
occur nowhere in them (half of the missed GPEs were countries and capitals: Südkorea, Seoul, Pjöngjang, Prag), and
most of its spurious names were capitalised German nouns ("Hausarrest", "Villa", "Möwen"). The lists of
``configs/names/`` (read at ``initialize``, saved with the model; the README there gives sources and licences):

* ``places.json`` (CLDR): a country or city name, or its genitive ("Südkoreas"), that the NER left unlabelled
  becomes GPE, and a model entity of exactly that text gets GPE; a world region ("Südostasien") fills as LOC.
* ``towns.json`` (GeoNames' cities of 15,000 people or more): fills unlabelled words as GPE ("Leoben").
* ``first-names.json`` (faker): a first name followed by a capitalised name word (after an optional particle:
  "Cecilia de Arce") is a PER; a PER the NER found for part of it is extended ("Woody" → "Woody Harrelson").
* ``name-suffixes.json``: an unlabelled word ending like a venue or an institution ("Herrengasse",
  "Verteidigungsministerium") is LOC or ORG; an unlabelled mixed-case acronym ("AfD", "PwC", "VwGH") is an ORG.
* ``common-nouns.txt`` (Wiktionary's German common nouns): a one-word PER, GPE or LOC that is a common noun is no
  name and is dropped, unless it is a listed place, a word of a longer name in the same article, or a name of the
  training data ("Kurz", "Winter" as persons).

Measured on the gold news dev split with the same trained models (docs/ner.md). The lists are German-news
lists: the component works only when the NER has the news labels PER, ORG, GPE and LOC (LER, with its own label
set, is left alone: there the rules cost F1).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection, Iterable
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
#: Mixed-case acronyms of three to six letters with at least two capitals: "AfD", "PwC", "VwGH", "PiS".
ACRONYM = re.compile(r"(?=.*[a-z])(?=.*[A-Z].*[A-Z])[A-Z][A-Za-z]{1,4}[A-Z]")
NOT_ACRONYMS = {"GmbH", "mbH", "AöR", "KGaA", "SpA", "PhD", "ZiB"}
#: One-word entities of these labels are dropped when they are common nouns (ORG names are often nouns: "Bundesheer").
NOUN_CHECKED = ("PER", "GPE", "LOC")


def _genitive(name: str) -> str | None:
    return None if name.split()[-1][-1:] in "sßxz" else name + "s"


PhraseKeys = dict[str, list[tuple[str, ...]]]


class NameLists:
    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name
        self.tokenizer = nlp.tokenizer
        self.cfg: dict[str, Any] = {"active": False}
        self._places: PhraseKeys = {}
        self._towns: PhraseKeys = {}
        self._regions: PhraseKeys = {}
        self._first: set[str] = set()
        self._nouns: set[str] = set()
        self._suffixes: list[tuple[str, re.Pattern[str]]] = []

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Any]] | None = None,
        *,
        nlp: Language | None = None,
        places: str | None = None,
        towns: str | None = None,
        first_names: str | None = None,
        suffixes: str | None = None,
        common_nouns: str | None = None,
    ) -> None:
        """Read the lists (default: the shipped ``configs/names/``); active only under the news labels.

        The training data's own one-word names that are also common nouns are kept apart, so that the noun check
        never drops a name the annotators marked ("Kurz").
        """
        labels = set(nlp.get_pipe("ner").labels) if nlp is not None and "ner" in nlp.pipe_names else set()
        place_lists = srsly.read_json(_names_file(places, "places.json"))
        nouns = set(_names_file(common_nouns, "common-nouns.txt").read_text(encoding="utf-8").split())
        trained = {ent.text for eg in get_examples() for ent in eg.reference.ents} if get_examples else set()
        self.cfg = {
            "active": set(NEWS_LABELS) <= labels,
            "places": sorted({*place_lists["countries"], *place_lists["cities"]}),
            "regions": sorted(place_lists.get("regions", [])),
            "towns": sorted(srsly.read_json(_names_file(towns, "towns.json"))),
            "first_names": sorted(srsly.read_json(_names_file(first_names, "first-names.json"))),
            "suffixes": srsly.read_json(_names_file(suffixes, "name-suffixes.json")),
            "common_nouns": sorted(nouns - trained),
        }
        self._build()

    def _build(self) -> None:
        lists = {key: self.cfg.get(key, []) for key in ("places", "regions", "towns", "first_names", "common_nouns")}
        self._places = self._keys(lists["places"], genitive=True)
        self._regions = self._keys(lists["regions"], genitive=True)
        self._towns = self._keys(lists["towns"], genitive=False)
        self._first = set(lists["first_names"])
        self._nouns = set(lists["common_nouns"]) - set(lists["places"]) - set(lists["towns"])
        # versions saved before a list existed have none of it: they run as they were evaluated
        self._suffixes = [(label, re.compile(rx)) for label, rx in self.cfg.get("suffixes", {}).items()]

    def _keys(self, names: Collection[str], *, genitive: bool) -> PhraseKeys:
        """Each name's tokens, looked up by the first token, longest first ("Neu-Delhi" before "Neu")."""
        found = set(names) | ({g for n in names if (g := _genitive(n))} if genitive else set())
        keys: PhraseKeys = {}
        for text in found:
            key = tuple(t.text for t in self.tokenizer(text))
            keys.setdefault(key[0], []).append(key)
        for group in keys.values():
            group.sort(key=len, reverse=True)
        return keys

    def __call__(self, doc: Doc) -> Doc:
        if self.cfg["active"]:
            _mark_listed(doc, self._places, "GPE", relabel=True)
            self._mark_people(doc)
            _mark_listed(doc, self._towns, "GPE", relabel=False)
            _mark_listed(doc, self._regions, "LOC", relabel=False)
            self._mark_word_shapes(doc)
            self._drop_common_nouns(doc)
        return doc

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

    def _mark_word_shapes(self, doc: Doc) -> None:
        """Unlabelled mixed-case acronyms become ORG, unlabelled words with a venue/institution ending LOC/ORG."""
        taken = {i for e in doc.ents for i in range(e.start, e.end)}
        new = []
        for token in doc:
            if token.i in taken:
                continue
            if token.text not in NOT_ACRONYMS and ACRONYM.fullmatch(token.text):
                new.append(Span(doc, token.i, token.i + 1, label="ORG"))
                continue
            label = next((label for label, rx in self._suffixes if rx.fullmatch(token.text)), None)
            if label is not None:
                new.append(Span(doc, token.i, token.i + 1, label=label))
        if new:
            doc.ents = filter_spans([*doc.ents, *new])

    def _drop_common_nouns(self, doc: Doc) -> None:
        in_longer_names = {t.text for e in doc.ents if len(e) > 1 for t in e}
        doc.ents = [
            e
            for e in doc.ents
            if not (
                len(e) == 1 and e.label_ in NOUN_CHECKED and e.text in self._nouns and e.text not in in_longer_names
            )
        ]

    def to_disk(self, path: Path, *, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg.json", self.cfg)

    def from_disk(self, path: Path, *, exclude: Iterable[str] = ()) -> NameLists:
        self.cfg = srsly.read_json(Path(path) / "cfg.json")
        self._build()
        return self


@functools.cache
def country_codes() -> dict[str, str]:
    """Place name (and its genitive, "Russlands") -> ISO code of its country, from the shipped lists
    (``places.json``'s ``country_of``: countries and CLDR cities; ``towns.json``)."""
    codes = {
        **srsly.read_json(_names_file(None, "towns.json")),
        **srsly.read_json(_names_file(None, "places.json"))["country_of"],
    }
    return {**{g: code for name, code in codes.items() if (g := _genitive(name))}, **codes}


def _names_file(path: str | None, default: str) -> Path:
    return Path(path) if path else default_config(f"names/{default}")


def _mark_listed(doc: Doc, keys: PhraseKeys, label: str, *, relabel: bool) -> None:
    """Label unlabelled occurrences of the listed names; with ``relabel``, also a model entity of exactly a name."""
    words = [t.text for t in doc]
    ents = list(doc.ents)
    by_span = {(e.start, e.end): e for e in ents}
    taken = [False] * len(doc)
    for e in ents:
        taken[e.start : e.end] = [True] * len(e)
    new, relabelled = [], {}
    i = 0
    while i < len(doc):
        for key in keys.get(words[i], ()):
            n = len(key)
            if tuple(words[i : i + n]) != key:
                continue
            if not any(taken[i : i + n]):
                new.append(Span(doc, i, i + n, label=label))
                taken[i : i + n] = [True] * n
            elif relabel and (i, i + n) in by_span and by_span[(i, i + n)].label_ != label:
                relabelled[(i, i + n)] = Span(doc, i, i + n, label=label)
            i += n - 1
            break
        i += 1
    if new or relabelled:
        doc.ents = filter_spans([relabelled.get((e.start, e.end), e) for e in ents] + new)


@Language.factory("treffpunkt_NameLists_v1", requires=["doc.ents"], assigns=["doc.ents"])
def make_name_lists(nlp: Language, name: str) -> NameLists:
    return NameLists(nlp, name)
