"""Pretrained tok2vec weights really reach the trained pipeline's tok2vec (spaCy ignores them silently otherwise)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
TEXTS = [
    "Die Stadt Leipzig plant ein neues Fest im Sommer. Der Bürgermeister sprach am Montag im Rathaus.",
    "In Hamburg demonstrierten am Samstag tausende Menschen gegen steigende Mieten und für mehr Wohnungen.",
] * 4


@pytest.mark.slow
@pytest.mark.parametrize("config_name", ["default", "fast", "sklearn"])
def test_pretrain_weights_load_into_tok2vec(training_data, tmp_path, config_name):
    from spacy.training.initialize import init_nlp

    from treffpunkt.training.train.pretrain import pretrain_config, pretrain_texts
    from treffpunkt.training.train.trainer import prepare_config

    default = REPO / "configs" / f"{config_name}.cfg"
    cfg = pretrain_config(
        default, REPO / "configs" / "pretrain.cfg", tmp_path / "raw.jsonl", {"pretraining.max_epochs": 1}
    )
    weights = Path(pretrain_texts(cfg, TEXTS, tmp_path / "pre", seed=0))
    saved = weights.read_bytes()

    plain = init_nlp(prepare_config(default, data=training_data, event_labels=["Demo"]), use_gpu=-1)
    assert plain.get_pipe("tok2vec").model.to_bytes() != saved  # random init differs from the pretrained weights

    nlp = init_nlp(prepare_config(default, data=training_data, event_labels=["Demo"], pretrained=weights), use_gpu=-1)
    assert nlp.get_pipe("tok2vec").model.to_bytes() == saved
