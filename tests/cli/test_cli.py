"""The one app: every group and command is there (a module that fails to import is an error, not a missing command)."""

from __future__ import annotations

from typer.testing import CliRunner

from treffpunkt.cli import app

runner = CliRunner()


def test_cli_lists_every_group_and_top_level_command():
    out = runner.invoke(app, ["--help"])
    assert out.exit_code == 0, out.output
    for name in ("init", "quickstart", "demo", "train", "pretrain", "vectors", "train-curve", "evaluate", "compare", "predict", "sweep",
                 "corpus", "studio", "annotate", "models"):  # fmt: skip
        assert name in out.output, name


def test_cli_annotate_commands_and_the_hidden_old_name():
    out = runner.invoke(app, ["annotate", "--help"])
    assert out.exit_code == 0, out.output
    for name in ("setup", "push", "pull", "convert", "import-conll", "import-gold", "agreement", "preannotate",
                 "attach-predictions", "gold-build"):  # fmt: skip
        assert name in out.output, name
    listed = [line.split()[1] for line in out.output.splitlines() if line.startswith("│ ") and len(line.split()) > 1]
    assert "predict" not in listed  # the old name is hidden, so it cannot be confused with `treffpunkt predict`
    old = runner.invoke(app, ["annotate", "predict", "--help"])
    assert old.exit_code == 0 and "--model" in old.output  # but still works for existing scripts


def test_cli_setup_offers_overlap_and_push_offers_patterns():
    assert "--overlap" in runner.invoke(app, ["annotate", "setup", "--help"]).output
    assert "--patterns" in runner.invoke(app, ["annotate", "push", "--help"]).output
    assert "--patterns" in runner.invoke(app, ["annotate", "preannotate", "--help"]).output
