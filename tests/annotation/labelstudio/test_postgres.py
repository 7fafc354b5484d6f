"""The workspace's Label Studio on a REAL PostgreSQL (started here in a temporary directory), not on SQLite.

PostgreSQL refuses to run as root; CI runs as root, so there the server runs as the ``postgres`` user
(``runuser -u postgres --``) in a directory under /tmp owned by it. Debian keeps the binaries in
/usr/lib/postgresql/<version>/bin, outside PATH.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import secrets
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from typer.testing import CliRunner

from tests.conftest import listening_hosts
from treffpunkt.annotation.labelstudio import server as studio_mod
from treffpunkt.annotation.labelstudio.project import setup
from treffpunkt.annotation.labelstudio.pull import pull
from treffpunkt.annotation.labelstudio.push import existing_tasks, push
from treffpunkt.cli import app
from treffpunkt.core.article import Article, Origin
from treffpunkt.core.workspace import init_workspace

runner = CliRunner()

TEXTS = [
    "Olaf Scholz telefonierte am Montag mit Emmanuel Macron. Beide sprachen über die Ukraine.",
    "Die NATO lud Russland zu Gesprächen in Brüssel ein.",
    "Das Wetter in Berlin war schön.",
]


def pg_binary(name: str) -> Path | None:
    """The newest /usr/lib/postgresql/*/bin/<name> (Debian's layout), else one on PATH."""

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", Path(path).parent.parent.name)) or (0,)

    for candidate in sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version, reverse=True):
        if os.access(candidate, os.X_OK):
            return Path(candidate)
    found = shutil.which(name)
    return Path(found) if found else None


@dataclass
class Postgres:
    url: str
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    database: str = ""

    def connect(self):
        import psycopg2

        return psycopg2.connect(
            host=self.host, port=self.port, user=self.user, password=self.password, dbname=self.database
        )


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """A throw-away PostgreSQL server on a free port with password auth and one empty database; removed afterwards."""
    initdb, pg_ctl = pg_binary("initdb"), pg_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        # Fail, not skip: a silently skipped test would hide that `make test` (which installs them) is broken.
        pytest.fail(
            "PostgreSQL binaries (initdb, pg_ctl) not found under /usr/lib/postgresql/*/bin or on PATH: "
            "scripts/system-deps.sh installs them; without them, deselect with -m 'not postgres'."
        )
    as_root = os.getuid() == 0
    # Not under pytest's tmp_path: its parents are 0700 root, which the postgres user cannot traverse.
    base = Path(tempfile.mkdtemp(prefix="treffpunkt-pg-"))
    data, sockets, log = base / "data", base / "sockets", base / "postgres.log"
    sockets.mkdir()
    user, database = "treffpunkt", "labelstudio"
    password = f"pg-{secrets.token_hex(8)}@:/%"  # characters that must be percent-encoded in the URL
    pwfile = base / "pwfile"
    pwfile.write_text(password + "\n", encoding="utf-8")
    pwfile.chmod(0o600)

    def run(*argv: str | Path, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(a) for a in argv]
        if as_root:
            runuser = shutil.which("runuser")
            command = (
                [runuser, "-u", "postgres", "--", *command]
                if runuser
                else ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(command)]
            )
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    if as_root:
        owner = pwd.getpwnam("postgres")
        for path in (base, sockets, pwfile):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    port = studio_mod.free_port()
    started = False
    try:
        run(
            initdb,
            "-D",
            data,
            "-U",
            user,
            f"--pwfile={pwfile}",
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        options = f"-p {port} -h 127.0.0.1 -k {sockets} -c fsync=off -c full_page_writes=off"
        result = run(pg_ctl, "-D", data, "-l", log, "-w", "-t", "120", "-o", options, "start", check=False)
        assert result.returncode == 0, (
            f"pg_ctl start failed: {result.stderr}\n{log.read_text() if log.exists() else ''}"
        )
        started = True
        import psycopg2

        admin = psycopg2.connect(host="127.0.0.1", port=port, user=user, password=password, dbname="postgres")
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {database}")
        admin.close()
        url = f"postgresql://{user}:{quote(password, safe='')}@127.0.0.1:{port}/{database}"
        yield Postgres(url=url, host="127.0.0.1", port=port, user=user, password=password, database=database)
    finally:
        if started:
            run(pg_ctl, "-D", data, "-m", "fast", "-w", "-t", "60", "stop", check=False)
        shutil.rmtree(base, ignore_errors=True)


def make_articles() -> list[Article]:
    return [
        Article(
            id=f"pg-{i}",
            title=f"Titel {i}",
            text=text,
            source="test",
            url=f"https://example.org/pg/{i}",
            published=f"2024-03-0{i + 1}",
            cluster=f"pg-c{i}",
            origin=Origin(path="test", kind="jsonl", line=i),
            added="2024-01-01T00:00:00Z",
        )  # fmt: skip
        for i, text in enumerate(TEXTS)
    ]


def region(rid: str, control: str, text: str, phrase: str, label: str) -> dict:
    start = text.index(phrase)
    return {
        "id": rid, "from_name": control, "to_name": "text", "type": "labels",
        "value": {"start": start, "end": start + len(phrase), "text": phrase, "labels": [label]},
    }  # fmt: skip


@pytest.mark.postgres
@pytest.mark.studio
def test_postgres_studio_start_push_annotate_pull_keeps_the_data_in_postgresql(postgres, tmp_path, monkeypatch):
    import spacy
    from spacy.tokens import DocBin

    for name in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", studio_mod.DATABASE_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TREFFPUNKT_PROJECT_TITLE", "postgres-test")
    ws = init_workspace(tmp_path / "ws")
    masked = f"postgresql://{postgres.user}:***@127.0.0.1:{postgres.port}/{postgres.database}"
    try:
        out = runner.invoke(
            app,
            ["--home", str(ws.root), "studio", "start", "--database", postgres.url, "--port", "0", "--timeout", "500"],
        )
        assert out.exit_code == 0, out.output
        assert (
            masked in out.output
            and postgres.password not in out.output
            and quote(postgres.password, safe="") not in out.output
        )
        assert "Warning" not in out.output

        state = studio_mod.status(ws)
        assert state.running and state.database == masked
        assert listening_hosts(state.port) == {"127.0.0.1"}  # bound to loopback only
        # the password: only in the 0600 file that remembers the URL, never on the command line, in logs or state
        remembered = studio_mod.database_path(ws)
        assert oct(remembered.stat().st_mode & 0o777) == oct(0o600) and postgres.url in remembered.read_text()
        assert oct(studio_mod.state_path(ws).stat().st_mode & 0o777) == oct(0o600)
        for path in (studio_mod.state_path(ws), studio_mod.log_path(ws)):
            assert postgres.password not in path.read_text(encoding="utf-8", errors="replace")
        cmdline = Path(f"/proc/{state.pid}/cmdline").read_bytes().decode(errors="replace")
        assert postgres.password not in cmdline and "sqlite" not in cmdline
        assert not (studio_mod.data_dir(ws) / "label_studio.sqlite3").exists()

        status_out = runner.invoke(app, ["--home", str(ws.root), "studio", "status"])
        assert status_out.exit_code == 0 and masked in status_out.output and postgres.password not in status_out.output
        # a second start on another database is refused while this one runs (and forgets nothing)
        with pytest.raises(studio_mod.StudioError, match=r"already runs for this workspace on postgresql://"):
            studio_mod.start(ws, database="sqlite")
        assert remembered.exists() and studio_mod.start(ws).reused

        # the annotation loop through the workspace's own (PostgreSQL-backed) server
        project = setup(ws).project
        assert push(ws, articles=make_articles()).imported == len(TEXTS)
        from treffpunkt.annotation.labelstudio.client import connect

        client = connect(ws)
        by_article = existing_tasks(client, project.id)
        text = TEXTS[0]
        client.sdk.annotations.create(by_article["pg-0"], result=[
            region("e1", "entities", text, "Olaf Scholz", "PER"),
            region("e2", "entities", text, "Emmanuel Macron", "PER"),
            region("v1", "events", text, "telefonierte", "CONSULT_PHONE"),
            {"type": "relation", "from_id": "v1", "to_id": "e2", "direction": "right", "labels": ["participant"]},
        ])  # fmt: skip
        result = pull(ws)
        assert result.tasks == len(TEXTS)
        nlp = spacy.blank("de")
        docs = {
            doc.user_data["meta"]["article_id"]: doc
            for path in sorted(result.converted_dir.glob("*.spacy"))
            for doc in DocBin().from_disk(path).get_docs(nlp.vocab)
        }
        assert set(docs) == {"pg-0"}
        assert {(e.text, e.label_) for e in docs["pg-0"].ents} == {("Olaf Scholz", "PER"), ("Emmanuel Macron", "PER")}
        assert [(s.text, s.label_) for s in docs["pg-0"].spans["event_triggers"]] == [("telefonierte", "CONSULT_PHONE")]

        # ... and the tasks and the annotation really are rows in PostgreSQL
        with postgres.connect() as conn, conn.cursor() as cursor:
            cursor.execute("SELECT data->>'article_id' FROM task WHERE project_id = %s", (project.id,))
            assert sorted(row[0] for row in cursor.fetchall()) == ["pg-0", "pg-1", "pg-2"]
            cursor.execute(
                "SELECT t.data->>'article_id', c.result FROM task_completion c JOIN task t ON t.id = c.task_id "
                "WHERE t.project_id = %s",
                (project.id,),
            )
            rows = cursor.fetchall()
        assert [row[0] for row in rows] == ["pg-0"]
        assert {r["value"]["text"] for r in rows[0][1] if r.get("type") == "labels"} == {
            "Olaf Scholz",
            "Emmanuel Macron",
            "telefonierte",
        }
    finally:
        stopped = studio_mod.stop(ws)
    assert stopped and not studio_mod.status(ws).running
