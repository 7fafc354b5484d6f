"""No secret leaves its one allowed place (issue 8, point 4).

One full ``treffpunkt quickstart`` (the CLI, in a child process) against the suite's Label Studio, with a realistic
but fake ``WANDB_API_KEY`` while ``WANDB_MODE=offline``. Then every byte it produced is searched for the Label
Studio token, the admin password and the wandb key: stdout, stderr, every file of the workspace (logs, meta.json,
reports, exports, DocBins, models, wandb run dirs: debug logs and the run-*.wandb log that holds config and
metadata offline), everything
written under the child's HOME, TMPDIR and wandb's config/cache/data dirs, and the server's side: its log, state
file and data folder. The only allowed place is the credentials file, which must be mode 0600. The server's own
SQLite database is not searched: Label Studio has to keep the token there to check it.
"""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from treffpunkt.annotation.labelstudio import server as studio_mod
from treffpunkt.core.workspace import Workspace


def _unblocked(data: bytes, block: int = 32768) -> bytes:
    """A wandb ``run-*.wandb`` log without the 7-byte chunk header that starts every 32 KiB block after the first.

    The file is a LevelDB-style log: a record crossing a block boundary is split there, so a secret in it would not
    appear as one run of bytes in the raw file. Dropping each block's leading header joins the fragments again.
    """
    return data[:block] + b"".join(data[i + 7 : i + block] for i in range(block, len(data), block))


def _hits(roots: list[Path], needles: dict[str, bytes], *, skip: set[Path]) -> list[tuple[str, Path]]:
    """(secret name, path) for every regular file under ``roots`` whose bytes contain a secret."""
    found = []
    for root in roots:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
        for path in files:
            if path.resolve() in skip:
                continue
            data = path.read_bytes()
            if path.suffix == ".wandb":
                data += b"\n" + _unblocked(data)
            found += [(name, path) for name, needle in needles.items() if needle in data]
    return found


def test_secrets_search_finds_secret_split_across_wandb_blocks(tmp_path: Path) -> None:
    secret = b"0123456789abcdef0123456789abcdef01234567"
    data = bytearray(b":W&B\x00\x00\x01" + b"x" * (32768 - 7 - 20) + secret[:20])
    data += b"HDRHDR\x04" + secret[20:] + b"y" * 100  # the next block starts with a chunk header
    (tmp_path / "run-abc.wandb").write_bytes(bytes(data))
    (tmp_path / "debug.log").write_bytes(b"api_key=" + secret)
    (tmp_path / "clean.txt").write_text("nothing here")
    hits = _hits([tmp_path], {"key": secret}, skip={(tmp_path / "debug.log").resolve()})
    assert hits == [("key", tmp_path / "run-abc.wandb")]
    assert secret not in bytes(data)  # only the header-aware search finds it


@pytest.mark.studio
@pytest.mark.slow
def test_secrets_quickstart_leaks_no_token_or_key(
    studio, studio_ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wandb_key = secrets.token_hex(20)  # the shape of a real wandb API key (40 hex characters)
    home, tmp, wandb_dirs = tmp_path / "home", tmp_path / "tmp", tmp_path / "wandb-home"
    for folder in (home, tmp, wandb_dirs):
        folder.mkdir()
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_API_KEY", wandb_key)
    monkeypatch.delenv("WANDB_DIR", raising=False)  # runs go to <workspace>/wandb, searched below
    # Everything the child could write outside the workspace lands in folders we search too.
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TMPDIR", str(tmp))
    for var in ("WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR", "WANDB_ARTIFACT_DIR"):
        monkeypatch.setenv(var, str(wandb_dirs / var.lower()))
    monkeypatch.setenv("COLUMNS", "200")  # rich must not wrap a secret over two lines

    done = subprocess.run(
        [sys.executable, "-c", "from treffpunkt.cli import main; main()", "quickstart", "--home", str(studio_ws.root)],
        capture_output=True, cwd=tmp_path, env=os.environ.copy(), timeout=1800, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-4000:]
    assert b"Quickstart finished" in done.stdout

    # the run really produced what we search: an offline wandb run with its metadata, config and logs
    runs = list((studio_ws.root / "wandb").rglob("offline-run-*"))
    assert runs, sorted(str(p) for p in studio_ws.root.rglob("*"))[:50]
    names = {p.name for run in runs for p in run.rglob("*")}
    assert {"debug.log", "debug-internal.log", "requirements.txt"} <= names, names
    # Offline, wandb keeps config and metadata (argv, host, program) inside run-*.wandb instead of config.yaml /
    # wandb-metadata.json (`wandb sync` builds those from it): the search below reads that log too.
    logs = [p for run in runs for p in run.glob("run-*.wandb")]
    assert logs and any(b"quickstart" in p.read_bytes() for p in logs), logs
    assert list(studio_ws.exports_dir.glob("*.json")), "quickstart pulled no export"

    server_ws = studio.workspace
    credentials = studio_mod.credentials_path(server_ws)
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600, oct(credentials.stat().st_mode)
    # the search finds a secret where one is: the token in the credentials file
    assert ("label studio token", credentials) in _hits(
        [credentials.parent], {"label studio token": studio.token.encode()}, skip=set()
    )
    database = {p.resolve() for p in studio_mod.data_dir(server_ws).glob("label_studio.sqlite3*")}
    assert database, "the server's database was not where expected: the skip list would skip nothing"

    needles = {"label studio token": studio.token.encode(), "label studio password": studio.password.encode(),
               "wandb key": wandb_key.encode()}  # fmt: skip
    leaks = [(name, f"<{stream}>") for stream, out in (("stdout", done.stdout), ("stderr", done.stderr))
             for name, needle in needles.items() if needle in out]  # fmt: skip
    searched = [studio_ws.root, home, tmp, wandb_dirs, server_ws.root]
    leaks += [(name, str(path)) for name, path in _hits(searched, needles, skip={credentials.resolve(), *database})]
    assert studio_mod.log_path(server_ws).exists()  # the server log was among the searched files
    assert not leaks, "secrets found outside the credentials file:\n" + "\n".join(f"  {n}: {p}" for n, p in leaks)
