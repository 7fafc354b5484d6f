"""Tokenise like the annotation did: special cases learnt from the training data (``[initialize.before_init]``).

Corpora imported from CoNLL (LER) keep abbreviations and citations whole ("Rn.", "Art.", "Aufl.", "§§",
"883/2004") where spaCy's German tokenizer splits them, so their entities can never be predicted exactly (2,256
tokens of LER's dev split). Before training, every training token ending in "." (and "§§") that spaCy would split
becomes a tokenizer special case, and digit/digit stays one token when the training data writes it so. The
tokenizer is saved with the model. Our own converter tokenises with spaCy's tokenizer, so for Label Studio
exports this changes nothing. LER dev, same CPU budget: 0.702 → 0.749 (seed 0), 0.667 → 0.731 (seed 1); docs/ner.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spacy.symbols import ORTH
from spacy.tokens import DocBin
from spacy.util import registry

SLASHED = re.compile(r"^\d+/\d+$")


def learn_token_exceptions(nlp: Any, train_path: str | Path | None) -> dict[str, int]:
    """Add the training data's whole tokens that the tokenizer would split; returns what was added."""
    if not train_path or not Path(train_path).exists():
        return {"special_cases": 0, "slashed": 0}
    cases: set[str] = set()
    slashed = 0
    for doc in DocBin().from_disk(train_path).get_docs(nlp.vocab):
        for token in doc:
            if len(token.text) > 1 and (token.text.endswith(".") or token.text == "§§"):
                cases.add(token.text)
            slashed += bool(SLASHED.match(token.text))
    added = [text for text in sorted(cases) if len(nlp.tokenizer(text)) > 1]
    for text in added:
        nlp.tokenizer.add_special_case(text, [{ORTH: text}])
    if slashed:
        nlp.tokenizer.token_match = SLASHED.match
    return {"special_cases": len(added), "slashed": slashed}


@registry.callbacks("treffpunkt.train_token_exceptions.v1")
def train_token_exceptions(train_path: str | None = None) -> Callable[[Any], Any]:
    def before_init(nlp: Any) -> Any:
        learn_token_exceptions(nlp, train_path)
        return nlp

    return before_init
