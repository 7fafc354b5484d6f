"""``treffpunkt vectors``: floret vectors from the workspace's articles plus extra files, usable by spaCy."""

from __future__ import annotations

import json

import pytest
import yaml

from treffpunkt.core.errors import ConfigError, InputError
from treffpunkt.training.train.vectors import load_vectors_config, tokenized_lines, train_vectors

TINY = {"dim": 8, "bucket": 2000, "epoch": 2, "min_count": 1, "minn": 3, "maxn": 5}


@pytest.fixture
def tiny_ws(ws, seeds_dir):
    """A workspace with the five seed articles and a tiny floret config (seconds, not minutes)."""
    from treffpunkt.annotation.ingest.corpus import IngestOptions, add

    add(ws, sorted(seeds_dir.glob("*.txt")), options=IngestOptions(progress=False))
    (ws.configs_dir / "vectors.yaml").write_text(yaml.safe_dump(TINY), encoding="utf-8")
    return ws


def test_vectors_tokenized_lines_use_the_pipeline_tokenizer():
    lines = list(tokenized_lines(["Merkel traf Putin.\n\nIn Wien, am Montag."]))
    assert lines == [("Merkel traf Putin .", 4), ("In Wien , am Montag .", 6)]


def test_vectors_config_keeps_shipped_defaults_for_missing_keys(tiny_ws):
    config = load_vectors_config(tiny_ws)
    assert (config.dim, config.bucket) == (8, 2000)
    assert config.model == "cbow"  # left out of the workspace file: the shipped default


def test_vectors_config_rejects_unknown_keys(tiny_ws):
    (tiny_ws.configs_dir / "vectors.yaml").write_text("dims: 8\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="dims"):
        load_vectors_config(tiny_ws)


@pytest.mark.slow
def test_vectors_from_corpus_and_extra_file_load_in_spacy(tiny_ws, tmp_path):
    import spacy

    extra = tmp_path / "more.csv"
    text = "Der Außenminister empfing seinen Amtskollegen am Dienstag in Wien zu langen Gesprächen. " * 3
    extra.write_text(f"Inland;'{text}'\nInland;'kurz'\n", encoding="utf-8")
    result = train_vectors(tiny_ws, extra=[extra], name="tiny")

    assert result.path == tiny_ws.models_dir / "vectors" / "tiny"
    assert result.texts == 5 + 1  # five seeds and the one usable CSV row
    assert result.extra_report is not None and result.extra_report.rejected == 1  # "kurz" is too short
    saved = json.loads((result.path / "extra-report.json").read_text(encoding="utf-8"))
    assert [item["status"] for item in saved["items"]].count("rejected") == 1
    nlp = spacy.load(result.path)
    assert nlp.vocab.vectors.mode == "floret"
    assert nlp.vocab.vectors.shape == (2000, 8) == (result.rows, result.dim)
    # floret: an unseen compound still gets a vector from its character n-grams
    unseen = nlp.vocab["Außenministerinnenkonferenz"].vector
    assert unseen.shape == (8,) and abs(unseen).sum() > 0


def test_vectors_without_any_text_say_what_to_do(ws):
    (ws.configs_dir / "vectors.yaml").write_text(yaml.safe_dump(TINY), encoding="utf-8")
    with pytest.raises(InputError, match="No article text") as err:
        train_vectors(ws)
    assert "corpus add" in err.value.hint


@pytest.mark.slow
def test_vectors_cli_smoke(tiny_ws):
    from typer.testing import CliRunner

    from treffpunkt.cli import app

    out = CliRunner().invoke(app, ["--home", str(tiny_ws.root), "vectors", "--name", "cli"])
    assert out.exit_code == 0, out.output
    assert (tiny_ws.models_dir / "vectors" / "cli" / "treffpunkt-vectors.json").exists()
    said = " ".join(out.output.split())  # rich wraps long lines
    assert "2000 rows x 8 dims from 5 texts" in said and "include_static_vectors true" in said


def test_vectors_cli_error_is_clean(ws):
    from typer.testing import CliRunner

    from treffpunkt.cli import app

    out = CliRunner().invoke(app, ["--home", str(ws.root), "vectors"])
    assert out.exit_code == 1 and "No article text" in out.output and "Traceback" not in out.output


@pytest.mark.slow
def test_vectors_train_a_model_with_static_vectors(tiny_ws, training_data):
    import spacy

    from treffpunkt.training.train.trainer import train

    made = train_vectors(tiny_ws, name="tiny")
    result = train(
        tiny_ws,
        config="fast",
        data=training_data,
        track=False,
        overrides={
            "training.max_steps": 10,
            "paths.vectors": str(made.path),
            "components.tok2vec.model.embed.include_static_vectors": True,
        },
    )
    nlp = spacy.load(result.path)
    assert nlp.vocab.vectors.mode == "floret" and nlp.vocab.vectors.shape == (2000, 8)
    assert nlp.config["components"]["tok2vec"]["model"]["embed"]["include_static_vectors"] is True
