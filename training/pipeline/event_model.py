"""The spaCy event backend's network: a neural sentence encoder plus a sparse bag of words and trigger cues.

spaCy's span categorizer alone (tok2vec → mean/max pooling → logistic) learned nothing on the gold news corpus:
events are rare (under 5 % of sentences) and the pooled vector of a long sentence hides the one verb that makes
it an event. Like spaCy's ``TextCatEnsemble`` for documents, the logits here are the sum of

- the neural path: the shared tok2vec, pooled over the sentence (``spacy.mean_max_reducer.v1``), then linear;
- a sparse linear path over hashed features of the sentence: lower-cased words, word bigrams and the labels of
  the trigger cues found in it (``doc.spans["event_cues"]``, see event_cues.py), learning "this word/cue means
  that label" directly, as the TF-IDF baseline does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy
from spacy.attrs import LOWER
from spacy.ml.models.spancat import build_spancat_model
from spacy.strings import hash_string
from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Linear, Logistic, Model, NumpyOps, SparseLinear_v2, add, chain
from thinc.types import Floats2d, Ragged

from treffpunkt.training.pipeline.event_cues import CUES_KEY

CUE_PREFIX = "event-cue:"
_NGRAM_OPS = NumpyOps()  # features are built on the CPU in numpy whatever ops the model runs on


def sentence_feature_keys(doc: Doc, start: int, end: int, lower: numpy.ndarray, ngram_size: int) -> numpy.ndarray:
    """Unique hashed features of tokens ``start:end``: words, n-grams up to ``ngram_size``, cue labels."""
    words = numpy.ascontiguousarray(lower[start:end], dtype="uint64")
    parts = [words]
    for n in range(2, ngram_size + 1):
        if len(words) >= n:
            parts.append(_NGRAM_OPS.ngrams(n, words))  # the n-gram hashing of spaCy's bag-of-words textcat
    cues = [hash_string(CUE_PREFIX + s.label_) for s in doc.spans.get(CUES_KEY, []) if start <= s.start < end]
    parts.append(numpy.asarray(cues, dtype="uint64"))
    return numpy.unique(numpy.concatenate(parts))


def sentence_features(ngram_size: int, value: float) -> Model[tuple[list[Doc], Ragged], Any]:
    """(docs, span indices) → (keys, values, lengths) for ``SparseLinear``: each present feature has ``value``."""
    return Model("sentence_features", _features_forward, attrs={"ngram_size": ngram_size, "value": value})


def _features_forward(model: Model, inputs: tuple[list[Doc], Ragged], is_train: bool) -> tuple[Any, Callable]:
    docs, indices = inputs
    ngram_size = model.attrs["ngram_size"]
    keys: list[numpy.ndarray] = []
    offset = 0
    spans = model.ops.to_numpy(indices.dataXd)
    lengths = model.ops.to_numpy(indices.lengths)
    for doc, n in zip(docs, lengths, strict=True):
        lower = doc.to_array(LOWER)
        for start, end in spans[offset : offset + int(n)]:
            keys.append(sentence_feature_keys(doc, int(start), int(end), lower, ngram_size))
        offset += int(n)
    flat = numpy.concatenate(keys) if keys else numpy.zeros((0,), dtype="uint64")
    out = (
        model.ops.asarray(flat, dtype="uint64"),
        model.ops.asarray(numpy.full(len(flat), model.attrs["value"], dtype="float32"), dtype="f"),
        model.ops.asarray1i([len(k) for k in keys]),
    )
    # fixed features: no gradient for the input (an empty tuple, which thinc's add() sums with the neural path's)
    return out, lambda d_out: ()


@registry.architectures("treffpunkt.SentenceEventModel.v1")
def build_sentence_event_model(
    tok2vec: Model[list[Doc], list[Floats2d]],
    reducer: Model[Ragged, Floats2d],
    ngram_size: int = 2,
    sparse_length: int = 2**18,
    sparse_value: float = 1.0,
) -> Model[tuple[list[Doc], Ragged], Floats2d]:
    """Sentence spans → label probabilities: sigmoid(neural logits + sparse word/cue logits).

    ``sparse_value`` is the input value of a present feature. Adam moves each weight by about the learning rate
    per step whatever the gradient's size, so a larger value lets the sparse path move its logits that many
    times faster: it sees each word only a few times in a short budget.
    """
    neural = build_spancat_model(tok2vec, reducer, Linear())
    sparse = chain(sentence_features(ngram_size, sparse_value), SparseLinear_v2(length=sparse_length))
    model = chain(add(neural, sparse), Logistic())
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("reducer", reducer)
    return model
