from pathlib import Path

import pytest
from typer.testing import CliRunner

from treffpunkt.cli import app
from treffpunkt.core import workspace
from treffpunkt.core.errors import WorkspaceError
from treffpunkt.core.resources import default_config


def test_workspace_init_copies_default_configs(tmp_path: Path) -> None:
    ws = workspace.init_workspace(tmp_path / "w")
    assert (ws.configs_dir / "schema.yaml").read_text() == (default_config("schema.yaml")).read_text()
    assert ws.corpus_dir.is_dir() and ws.models_dir.is_dir()
    assert ws.state_dir.stat().st_mode & 0o777 == 0o700


def test_workspace_init_refuses_existing_workspace(tmp_path: Path) -> None:
    workspace.init_workspace(tmp_path / "w")
    with pytest.raises(WorkspaceError, match="already holds a workspace"):
        workspace.init_workspace(tmp_path / "w")


def test_workspace_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(workspace.HOME_ENV, raising=False)
    workspace.use_home(None)
    assert workspace.current().root == tmp_path.resolve()
    monkeypatch.setenv(workspace.HOME_ENV, str(tmp_path / "env"))
    assert workspace.current().root == (tmp_path / "env").resolve()
    workspace.use_home(tmp_path / "flag")
    try:
        assert workspace.current().root == (tmp_path / "flag").resolve()
    finally:
        workspace.use_home(None)


def test_workspace_config_falls_back_to_defaults(tmp_path: Path) -> None:
    ws = workspace.Workspace(tmp_path)
    assert ws.schema_path == default_config("schema.yaml")
    with pytest.raises(WorkspaceError, match="nope.cfg"):
        ws.config_path("nope.cfg")


def test_cli_help_lists_command_groups() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for group in ("init", "corpus", "studio", "annotate"):
        assert group in result.output


def test_cli_init_creates_workspace(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["init", str(tmp_path / "new")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "new" / "configs" / "schema.yaml").exists()
    again = CliRunner().invoke(app, ["init", str(tmp_path / "new")])
    assert again.exit_code == 1
    assert "already holds a workspace" in again.output
    assert "Traceback" not in again.output
