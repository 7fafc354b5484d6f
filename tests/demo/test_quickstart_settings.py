"""quickstart reads the one settings object: a team server in the workspace's .env is used, none is started."""

from __future__ import annotations

import pytest

from treffpunkt.annotation.labelstudio import server as studio_mod
from treffpunkt.annotation.labelstudio.client import StudioUnreachable
from treffpunkt.core.workspace import init_workspace
from treffpunkt.demo.quickstart import quickstart


def test_quickstart_honours_label_studio_url_in_the_workspace_env(tmp_path, monkeypatch):
    for name in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    ws = init_workspace(tmp_path / "ws")
    url = f"http://127.0.0.1:{studio_mod.free_port()}"  # nothing listens: the quickstart must try exactly this
    (ws.root / ".env").write_text(f"LABEL_STUDIO_URL={url}\nLABEL_STUDIO_API_KEY=abc\n", encoding="utf-8")
    with pytest.raises(StudioUnreachable, match=url):
        quickstart(ws.root)
    assert not studio_mod.state_path(ws).exists()  # no local server was started
