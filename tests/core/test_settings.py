"""One settings object: environment first, then the workspace's .env; every command reads it the same way."""

from __future__ import annotations

from treffpunkt.core.settings import settings
from treffpunkt.core.workspace import Workspace


def test_settings_read_the_workspace_env_file(tmp_path, monkeypatch):
    for name in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "TREFFPUNKT_PROJECT_TITLE", "WANDB_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    ws = Workspace(tmp_path)
    (tmp_path / ".env").write_text(
        "LABEL_STUDIO_URL=http://127.0.0.1:9999\nLABEL_STUDIO_API_KEY=secret-token\nWANDB_PROJECT=team\n",
        encoding="utf-8",
    )
    conf = settings(ws)
    assert conf.label_studio_url == "http://127.0.0.1:9999"
    assert conf.label_studio_api_key.get_secret_value() == "secret-token"
    assert "secret-token" not in repr(conf)
    assert conf.wandb_project == "team"
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://127.0.0.1:7777")  # the environment wins
    assert settings(ws).label_studio_url == "http://127.0.0.1:7777"


def test_settings_without_env_file_are_unset(tmp_path, monkeypatch):
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    assert settings(Workspace(tmp_path)).label_studio_url is None
