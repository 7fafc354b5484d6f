"""The workspace's Label Studio server (one real server for the session, see conftest's ``studio`` fixture)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from tests.conftest import listening_hosts
from treffpunkt.annotation.labelstudio import server as studio_mod
from treffpunkt.annotation.labelstudio.client import (
    AuthenticationFailed,
    Studio,
    StudioUnreachable,
    connect,
    connection,
)
from treffpunkt.cli import app
from treffpunkt.core.workspace import init_workspace

runner = CliRunner()


@pytest.mark.studio
def test_studio_start_is_healthy_local_and_keeps_secrets_private(studio):
    ws = studio.workspace
    state = studio_mod.status(ws)
    assert state.running and state.url == studio.url
    assert state.host == "127.0.0.1" and studio.url.startswith("http://127.0.0.1:")
    assert listening_hosts(state.port) == {"127.0.0.1"}  # what the kernel bound, not just what we asked for
    assert state.database and state.database.startswith("SQLite (")
    assert stat.S_IMODE(studio_mod.state_path(ws).stat().st_mode) == 0o600
    assert stat.S_IMODE(studio_mod.log_path(ws).stat().st_mode) == 0o600
    assert httpx.get(f"{studio.url}/health", timeout=5).status_code == 200
    assert stat.S_IMODE(studio_mod.credentials_path(ws).stat().st_mode) == 0o600
    assert stat.S_IMODE(studio_mod.data_dir(ws).stat().st_mode) == 0o700
    assert stat.S_IMODE(ws.state_dir.stat().st_mode) == 0o700
    assert (studio_mod.data_dir(ws) / "label_studio.sqlite3").exists()
    # the generated token works against the API
    me = httpx.get(
        f"{studio.url}/api/current-user/whoami", headers={"Authorization": f"Token {studio.token}"}, timeout=10
    )
    assert me.status_code == 200 and me.json()["email"] == studio.username
    # ... and appears neither in the log nor in the state file nor in the process list
    assert studio.token not in studio_mod.log_path(ws).read_text(encoding="utf-8", errors="replace")
    assert studio.token not in studio_mod.state_path(ws).read_text(encoding="utf-8")
    cmdline = Path(f"/proc/{state.pid}/cmdline").read_bytes().decode(errors="replace")
    assert studio.token not in cmdline and studio.password not in cmdline
    # update checks, analytics and Sentry error reports are off
    environ = set(Path(f"/proc/{state.pid}/environ").read_bytes().decode(errors="replace").split("\0"))
    assert {"LATEST_VERSION_CHECK=false", "COLLECT_ANALYTICS=false", "SENTRY_DSN=", "FRONTEND_SENTRY_DSN="} <= environ


@pytest.mark.studio
def test_studio_start_reuses_the_running_server(studio):
    before = studio_mod.status(studio.workspace).pid
    again = studio_mod.start(studio.workspace)
    assert again.reused and again.url == studio.url
    assert studio_mod.status(studio.workspace).pid == before  # the same process, not a second server


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


def test_client_unreachable_names_url_and_fix(tmp_path, monkeypatch, http_log):
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "not-a-token")
    ws = init_workspace(tmp_path / "ws")
    with pytest.raises(StudioUnreachable) as err:
        connect(ws)
    assert "http://127.0.0.1:9" in err.value.message and "treffpunkt studio start" in err.value.hint
    assert len(http_log) == 1  # a refused connection is not retried (counted at the transport)
    out = runner.invoke(app, ["--home", str(ws.root), "annotate", "pull"])
    assert out.exit_code != 0 and "Traceback" not in out.output and "LABEL_STUDIO_URL" in out.output


def test_client_settings_come_from_the_workspace_env_file(tmp_path, monkeypatch):
    for name in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    ws = init_workspace(tmp_path / "ws")
    (ws.root / ".env").write_text(
        "LABEL_STUDIO_URL=http://ls.example:8080/\nLABEL_STUDIO_API_KEY=abc123\n", encoding="utf-8"
    )
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

    from treffpunkt.annotation.labelstudio import client as client_mod
    from treffpunkt.annotation.labelstudio.client import Connection, StudioRequestFailed

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
        json.dumps({"pid": 999999, "port": 1, "host": "127.0.0.1", "url": "http://127.0.0.1:1", "log": "x"}),
        encoding="utf-8",
    )
    assert not studio_mod.status(ws).running
    assert studio_mod.stop(ws) is False and not studio_mod.state_path(ws).exists()


# --------------------------------------------------------------------------- PostgreSQL settings and exposure (issue 8)

SECRET = "s3cr3t@:/pw"
SECRET_URL = "postgresql://ls%40team:s3cr3t%40%3A%2Fpw@db.example:5433/label_studio"


@pytest.mark.parametrize(
    ("url", "masked", "env"),
    [
        (SECRET_URL, "postgresql://ls%40team:***@db.example:5433/label_studio",
         {"POSTGRE_NAME": "label_studio", "POSTGRE_USER": "ls@team", "POSTGRE_PASSWORD": SECRET, "POSTGRE_HOST": "db.example", "POSTGRE_PORT": "5433"}),
        ("postgres://me@localhost/ls", "postgresql://me@localhost:5432/ls",
         {"POSTGRE_NAME": "ls", "POSTGRE_USER": "me", "POSTGRE_PASSWORD": "", "POSTGRE_HOST": "localhost", "POSTGRE_PORT": "5432"}),
        ("postgresql://me:pw@/ls?host=/run/postgresql&sslmode=require", "postgresql://me:***@:5432/ls?host=/run/postgresql&sslmode=require",
         {"POSTGRE_HOST": "/run/postgresql", "PGSSLMODE": "require"}),
    ],
)  # fmt: skip
def test_studio_database_url_is_parsed_for_label_studio_and_masked(url, masked, env):
    db = studio_mod.parse_database_url(url)
    assert db.masked_url == masked and studio_mod.mask_database_url(url) == masked
    environment = db.environment()
    assert environment["DJANGO_DB"] == "default"  # Label Studio's alias for its PostgreSQL settings
    assert env.items() <= environment.items()
    secret = db.password.get_secret_value()
    assert not secret or (secret not in repr(db) and secret not in str(db) and secret not in db.masked_url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root:hunter2@db/ls", "must start with postgresql://"),
        ("postgresql://root:hunter2@db/", "user and a database name"),
        ("postgresql://root:hunter2@db/ls?application_name=x", "application_name"),
        ("postgresql://root:hunter2@db:99999/ls", "invalid port"),
    ],
)
def test_studio_bad_database_url_is_a_clear_error_without_the_password(url, message):
    with pytest.raises(studio_mod.StudioError, match=message) as err:
        studio_mod.parse_database_url(url)
    assert "hunter2" not in err.value.message and "hunter2" not in (err.value.hint or "")
    assert studio_mod.mask_database_url(url) == "***"


def test_studio_database_is_remembered_0600_overridden_by_env_and_reset_by_sqlite(ws, monkeypatch):
    monkeypatch.delenv(studio_mod.DATABASE_ENV, raising=False)
    assert studio_mod.resolve_database(ws) is None
    db = studio_mod.resolve_database(ws, SECRET_URL)
    remembered = studio_mod.database_path(ws)
    assert stat.S_IMODE(remembered.stat().st_mode) == 0o600 and stat.S_IMODE(ws.state_dir.stat().st_mode) == 0o700
    assert studio_mod.resolve_database(ws) == db  # a later plain `studio start` stays on PostgreSQL
    # the workspace's .env (or the environment) wins over the remembered URL
    (ws.root / ".env").write_text(f"{studio_mod.DATABASE_ENV}=postgresql://env@envhost/envdb\n", encoding="utf-8")
    assert studio_mod.resolve_database(ws).masked_url == "postgresql://env@envhost:5432/envdb"
    monkeypatch.setenv(studio_mod.DATABASE_ENV, "sqlite")
    assert studio_mod.resolve_database(ws) is None
    monkeypatch.delenv(studio_mod.DATABASE_ENV)
    (ws.root / ".env").unlink()
    assert studio_mod.resolve_database(ws, "sqlite") is None and not remembered.exists()
    assert studio_mod.resolve_database(ws) is None


def test_studio_start_on_an_unreachable_postgresql_fails_clearly_and_remembers_nothing(ws, monkeypatch):
    monkeypatch.delenv(studio_mod.DATABASE_ENV, raising=False)
    url = "postgresql://ls:hunter2@127.0.0.1:1/ls"
    with pytest.raises(
        studio_mod.StudioError, match=r"PostgreSQL at postgresql://ls:\*\*\*@127.0.0.1:1/ls refused"
    ) as err:
        studio_mod.start(ws, port=0, database=url, timeout=5)
    assert "hunter2" not in err.value.message
    assert not studio_mod.state_path(ws).exists() and not studio_mod.database_path(ws).exists()
    out = runner.invoke(app, ["--home", str(ws.root), "studio", "start", "--port", "0", "--database", url])
    assert out.exit_code != 0 and "refused the connection" in out.output
    assert "hunter2" not in out.output and "Traceback" not in out.output
    assert "postgresql://ls:***@127.0.0.1:1/ls" in out.output


def _busy_port():
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock, sock.getsockname()[1]


@pytest.mark.parametrize(
    ("host", "warned"), [(None, False), ("127.0.0.1", False), ("0.0.0.0", True), ("192.0.2.1", True)]
)  # nosec
def test_studio_cli_warns_when_the_server_would_be_reachable_from_the_network(ws, host, warned):
    # The port is busy, so nothing starts: this checks what the CLI says before it tries.
    sock, port = _busy_port()
    with sock:
        args = ["--home", str(ws.root), "studio", "start", "--port", str(port), *(["--host", host] if host else [])]
        out = runner.invoke(app, args)
    assert out.exit_code != 0
    assert ("Warning" in out.output and f"listens on {host}" in out.output and "firewall" in out.output) is warned
    assert ("Warning" in out.output) is warned


def test_studio_listening_hosts_sees_loopback_and_all_interfaces():
    import socket

    for bind, expected in (("127.0.0.1", {"127.0.0.1"}), ("0.0.0.0", {"0.0.0.0"})):  # nosec
        with socket.socket() as sock:
            sock.bind((bind, 0))
            sock.listen()
            assert listening_hosts(sock.getsockname()[1]) == expected
    assert studio_mod.StudioStatus(running=True, host="0.0.0.0").exposed  # nosec
    assert not studio_mod.StudioStatus(running=True, host="127.0.0.1").exposed


def test_studio_credential_files_are_made_private_again_when_found_world_readable(ws, monkeypatch):
    monkeypatch.delenv(studio_mod.DATABASE_ENV, raising=False)
    ws.ensure()
    creds = studio_mod._ensure_credentials(ws)
    path = studio_mod.credentials_path(ws)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)  # e.g. after a careless copy
    assert studio_mod._ensure_credentials(ws) == creds  # reused, not regenerated
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    studio_mod.resolve_database(ws, SECRET_URL)
    studio_mod.database_path(ws).chmod(0o644)
    studio_mod.resolve_database(ws)
    assert stat.S_IMODE(studio_mod.database_path(ws).stat().st_mode) == 0o600
