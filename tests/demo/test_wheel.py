"""A built wheel works outside the checkout: one import name, shipped defaults as package data.

Builds the wheel, installs it with the locked dependencies into a fresh virtualenv (not editable, outside the
repository) and runs ``init``, ``corpus add`` on the seeds and ``annotate convert`` on a stored export there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXPORT = REPO / "tests" / "data" / "relations" / "export.json"


def _uv() -> list[str]:
    found = shutil.which("uv")
    if found:
        return [found]
    # `make install` puts uv into the base interpreter (the one that made .venv)
    return [str(Path(sys.base_prefix) / "bin" / "python3"), "-m", "uv"]


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, f"{' '.join(cmd)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    dist = tmp_path / "dist"
    # build from a copy: setuptools writes build/ and *.egg-info next to the sources
    source = tmp_path / "source"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".venv",
            ".git",
            "build",
            "*.egg-info",
            "__pycache__",
            "quickstart-workspace",
            "workspaces",
            "test-artifacts",
        ),
    )
    _run([*_uv(), "build", "--wheel", "--out-dir", str(dist), str(source)], cwd=tmp_path)
    (wheel,) = dist.glob("treffpunkt-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        top_level = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
        assert zf.read(top_level).decode().split() == ["treffpunkt"]
        entry_points = zf.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert {n.split("/")[0] for n in names} == {
        "treffpunkt",
        wheel.name.split("-")[0] + "-" + wheel.name.split("-")[1] + ".dist-info",
    }
    for shipped in (
        "treffpunkt/configs/schema.yaml",
        "treffpunkt/configs/default.cfg",
        "treffpunkt/corpus/gold/seeds.json",
        "treffpunkt/corpus/gold/seed-events.yaml",
        "treffpunkt/configs/names/places.json",
        "treffpunkt/configs/names/first-names.json",
        "treffpunkt/configs/names/towns.json",
        "treffpunkt/configs/names/common-nouns.txt",
        "treffpunkt/configs/names/name-suffixes.json",
        "treffpunkt/corpus/seeds/000_a2d15fba213d09cb.txt",
        "treffpunkt/annotation/convert/docs.py",
        "treffpunkt/training/pipeline/components.py",
    ):
        assert shipped in names
    assert "treffpunkt.training.pipeline.components:make_event_spancat" in entry_points
    assert "treffpunkt.training.train.tokens:train_token_exceptions" in entry_points
    assert "treffpunkt.core.sentences:make_sentencizer" in entry_points

    venv = tmp_path / "venv"
    _run([*_uv(), "venv", "--python", sys.executable, str(venv)], cwd=tmp_path)
    python = str(venv / "bin" / "python")
    _run([*_uv(), "pip", "sync", "--python", python, str(REPO / "requirements.lock")], cwd=tmp_path)
    _run([*_uv(), "pip", "install", "--no-deps", "--python", python, str(wheel)], cwd=tmp_path)

    work = tmp_path / "outside"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TREFFPUNKT_HOME", "VIRTUAL_ENV")}
    env["WANDB_MODE"] = "disabled"
    cli = str(venv / "bin" / "treffpunkt")
    located = _run(
        [
            python,
            "-c",
            "import treffpunkt, treffpunkt.annotation; print(treffpunkt.__file__, treffpunkt.annotation.__file__)",
        ],
        cwd=work,
        env=env,
    )
    assert str(REPO) not in located.stdout and "site-packages" in located.stdout
    _run([cli, "init", "ws"], cwd=work, env=env)
    assert (work / "ws" / "configs" / "schema.yaml").read_text() == (REPO / "configs" / "schema.yaml").read_text()
    seeds = tmp_path / "seeds"
    shutil.copytree(REPO / "corpus" / "seeds", seeds)
    added = _run([cli, "--home", "ws", "corpus", "add", str(seeds)], cwd=work, env=env)
    assert "5 articles" in added.stdout
    converted = _run([cli, "--home", "ws", "annotate", "convert", str(EXPORT), "--out", "converted"], cwd=work, env=env)
    assert (work / "converted" / "train.spacy").exists() and (work / "converted" / "report.json").exists(), (
        converted.stdout
    )
