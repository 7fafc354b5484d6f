"""The workspace's Label Studio server (one real server for the session, see conftest's ``studio`` fixture)."""

from __future__ import annotations

import json
import stat
import time

import httpx
import pytest
from typer.testing import CliRunner

from annotation import studio as studio_mod
from annotation.client import AuthenticationFailed, Studio, StudioUnreachable, connect, connection
from annotation.workspace import init_workspace
from treffpunkt.cli import app

runner = CliRunner()


@pytest.mark.studio
def test_studio_start_is_healthy_local_and_keeps_secrets_private(studio):
    ws = studio.workspace
    state = studio_mod.status(ws)
    assert state.running and state.url == studio.url
    assert state.host == "127.0.0.1" and studio.url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{studio.url}/health", timeout=5).status_code == 200
    assert stat.S_IMODE(studio_mod.credentials_path(ws).stat().st_mode) == 0o600
    assert stat.S_IMODE(studio_mod.data_dir(ws).stat().st_mode) == 0o700
    assert stat.S_IMODE(ws.state_dir.stat().st_mode) == 0o700
    assert (studio_mod.data_dir(ws) / "label_studio.sqlite3").exists()
    # the generated token works against the API
    me = httpx.get(f"{studio.url}/api/current-user/whoami", headers={"Authorization": f"Token {studio.token}"}, timeout=10)
    assert me.status_code == 200 and me.json()["email"] == studio.username
    # ... and appears neither in the log nor in the state file nor in the process list
    assert studio.token not in studio_mod.log_path(ws).read_text(encoding="utf-8", errors="replace")
    assert studio.token not in studio_mod.state_path(ws).read_text(encoding="utf-8")
    cmdline = open(f"/proc/{state.pid}/cmdline", "rb").read().decode(errors="replace")
    assert studio.token not in cmdline and studio.password not in cmdline
    # update checks, analytics and Sentry error reports are off
    environ = set(open(f"/proc/{state.pid}/environ", "rb").read().decode(errors="replace").split("\0"))
    assert {"LATEST_VERSION_CHECK=false", "COLLECT_ANALYTICS=false", "SENTRY_DSN=", "FRONTEND_SENTRY_DSN="} <= environ


@pytest.mark.studio
def test_studio_start_reuses_the_running_server(studio):
    began = time.monotonic()
    again = studio_mod.start(studio.workspace)
    assert again.reused and again.url == studio.url
    assert time.monotonic() - began < 10


@pytest.mark.studio
def test_studio_cli_status_and_start_print_url_and_login_never_the_token(studio):
    for args in (["studio", "status"], ["studio", "start"]):
        out = runner.invoke(app, ["--home", str(studio.workspace.root), *args])
        assert out.exit_code == 0, out.output
        assert studio.url in out.output and studio.username in out.output
        assert "credentials.json" in out.output
        assert studio.token not in out.output and studio.password not in out.output


def test_studio_status_and_stop_without_a_server(ws):
    assert not studio_mod.status(ws).running
    assert studio_mod.stop(ws) is False
    out = runner.invoke(app, ["--home", str(ws.root), "studio", "status"])
    assert out.exit_code == 3 and "Not running" in out.output


def test_studio_start_refuses_a_busy_port(ws):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(studio_mod.StudioError, match=f"Port {port}"):
            studio_mod.start(ws, port=port)
    assert not studio_mod.state_path(ws).exists()


def test_client_unreachable_names_url_and_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "not-a-token")
    ws = init_workspace(tmp_path / "ws")
    with pytest.raises(StudioUnreachable) as err:
        connect(ws)
    assert "http://127.0.0.1:9" in err.value.message and "treffpunkt studio start" in err.value.hint
    out = runner.invoke(app, ["--home", str(ws.root), "annotate", "pull"])
    assert out.exit_code != 0 and "Traceback" not in out.output and "LABEL_STUDIO_URL" in out.output


def test_client_settings_come_from_the_workspace_env_file(tmp_path, monkeypatch):
    for name in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    ws = init_workspace(tmp_path / "ws")
    (ws.root / ".env").write_text("LABEL_STUDIO_URL=http://ls.example:8080/\nLABEL_STUDIO_API_KEY=abc123\n", encoding="utf-8")
    conn = connection(ws)
    assert conn.url == "http://ls.example:8080" and conn.api_key.get_secret_value() == "abc123"
    assert "abc123" not in repr(conn)


@pytest.mark.studio
def test_client_wrong_token_is_a_clear_authentication_error(studio, tmp_path, monkeypatch):
    monkeypatch.setenv("LABEL_STUDIO_URL", studio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "0" * 40)
    ws = init_workspace(tmp_path / "ws")
    client: Studio = connect(ws)
    with pytest.raises(AuthenticationFailed, match="refused the API token"):
        client.call(client.sdk.projects.list, what="project listing").items  # noqa: B018
    out = runner.invoke(app, ["--home", str(ws.root), "annotate", "setup"])
    assert out.exit_code != 0 and "refused the API token" in out.output and "Traceback" not in out.output


def test_client_retries_server_errors_with_backoff_then_fails_clearly(monkeypatch):
    from label_studio_sdk.core.api_error import ApiError
    from pydantic import SecretStr

    from annotation import client as client_mod
    from annotation.client import Connection, StudioRequestFailed

    monkeypatch.setattr(client_mod, "BACKOFF_S", 0.01)
    attempts = []

    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise ApiError(status_code=503, body="busy")
        return "ok"

    studio = Studio(Connection("http://127.0.0.1:9", SecretStr("x" * 40), "test"))
    assert studio.call(flaky) == "ok" and len(attempts) == 3

    def down():
        raise httpx.ReadTimeout("slow")

    with pytest.raises(StudioRequestFailed, match=f"after {client_mod.MAX_ATTEMPTS} attempts"):
        studio.call(down, what="task import")


def test_studio_state_file_is_json_with_pid_port_and_log(ws, monkeypatch):
    # a stale state file of a dead process is not "running"
    ws.ensure()
    studio_mod.state_path(ws).write_text(
        json.dumps({"pid": 999999, "port": 1, "host": "127.0.0.1", "url": "http://127.0.0.1:1", "log": "x"}), encoding="utf-8"
    )
    assert not studio_mod.status(ws).running
    assert studio_mod.stop(ws) is False and not studio_mod.state_path(ws).exists()
