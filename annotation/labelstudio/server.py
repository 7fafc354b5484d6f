"""The workspace's own Label Studio server: start it in the background, stop it, report on it.

Data (SQLite, media) live under ``.treffpunkt/studio/`` (0700); the generated admin login and API token in
``.treffpunkt/credentials.json`` (0600); pid, port and log file in ``.treffpunkt/studio.json`` and
``.treffpunkt/studio.log``. The token is never printed, only where it is stored.

For a team, the database can be PostgreSQL instead of SQLite: ``studio start --database postgresql://...`` (remembered
in ``.treffpunkt/database.json``, 0600) or ``TREFFPUNKT_STUDIO_DATABASE`` in the environment / the workspace's ``.env``.
Only the URL with the password masked is ever printed or written elsewhere.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

import httpx
from pydantic import SecretStr

from treffpunkt.core.errors import TreffpunktError
from treffpunkt.core.io import write_json
from treffpunkt.core.processes import alive, terminate
from treffpunkt.core.settings import DATABASE_ENV, settings
from treffpunkt.core.workspace import Workspace

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
#: First start runs all migrations (~45 s on a quiet machine); later starts take ~8 s.
START_TIMEOUT_S = 240.0
ADMIN_EMAIL = "admin@treffpunkt.local"
#: What Label Studio's command line contains: a pid that lost it was recycled by another program.
_COMMAND = (b"label-studio", b"label_studio")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
#: ``--database sqlite`` switches a workspace back to its SQLite file (and forgets a remembered PostgreSQL URL).
SQLITE = "sqlite"
#: Label Studio reads each setting as LABEL_STUDIO_<NAME>, HEARTEX_<NAME> or <NAME> (first wins), so stale prefixed
#: values in the caller's environment would silently override ours: they are removed before the server starts.
_DB_SETTINGS = (
    "DJANGO_DB",
    "DATABASE_NAME",
    "POSTGRE_NAME",
    "POSTGRE_USER",
    "POSTGRE_PASSWORD",
    "POSTGRE_HOST",
    "POSTGRE_PORT",
)


class StudioError(TreffpunktError):
    """The local Label Studio server could not be started, stopped or found."""


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    token: str

    def __repr__(self) -> str:  # keep secrets out of logs and tracebacks
        return f"Credentials(username={self.username!r}, password=***, token=***)"


@dataclass(frozen=True)
class Database:
    """A PostgreSQL database for Label Studio, parsed from ``postgresql://user:password@host:port/name``."""

    name: str
    user: str
    password: SecretStr
    host: str = "localhost"
    port: int = 5432
    sslmode: str | None = None

    @property
    def masked_url(self) -> str:
        """The URL for display: the password is replaced by ``***`` (and left out entirely when there is none)."""
        secret = ":***" if self.password.get_secret_value() else ""
        host = self.host if not self.host.startswith("/") else ""
        query = f"?host={self.host}" if self.host.startswith("/") else ""
        if self.sslmode:
            query += ("&" if query else "?") + f"sslmode={self.sslmode}"
        return f"postgresql://{quote(self.user, safe='')}{secret}@{host}:{self.port}/{quote(self.name, safe='')}{query}"

    def environment(self) -> dict[str, str]:
        """The variables Label Studio's settings read (``DJANGO_DB=default`` selects PostgreSQL)."""
        env = {
            "DJANGO_DB": "default",
            "POSTGRE_NAME": self.name,
            "POSTGRE_USER": self.user,
            # Empty means "no password": Django then leaves it to libpq (PGPASSWORD, ~/.pgpass).
            "POSTGRE_PASSWORD": self.password.get_secret_value(),
            "POSTGRE_HOST": self.host,
            "POSTGRE_PORT": str(self.port),
        }
        if self.sslmode:
            env["PGSSLMODE"] = self.sslmode  # Label Studio has no setting for it; libpq reads it from the environment
        return env

    def __repr__(self) -> str:  # the dataclass repr would be safe (SecretStr), this one is also readable
        return f"Database({self.masked_url!r})"


def parse_database_url(url: str) -> Database:
    """Parse a ``postgresql://`` URL (user and password percent-encoded; ``?host=/dir`` for a unix socket)."""
    parts = urlsplit(url.strip())
    # Never echo the URL itself in errors: it may hold the password.
    if parts.scheme not in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        raise StudioError(
            f"The database URL must start with postgresql:// (got {parts.scheme or 'no scheme'}://…).",
            hint="Use --database postgresql://USER:PASSWORD@HOST:PORT/DATABASE, or --database sqlite for the workspace's SQLite file.",
        )
    query = parse_qs(parts.query)
    unknown = sorted(set(query) - {"host", "sslmode"})
    if unknown:
        raise StudioError(
            f"The database URL has options treffpunkt cannot pass to Label Studio: {', '.join(unknown)}.",
            hint="Only ?host=/socket/dir and ?sslmode=... are supported.",
        )
    name = unquote(parts.path.lstrip("/"))
    try:
        port = parts.port or 5432
    except ValueError as err:
        raise StudioError(
            "The database URL has an invalid port.", hint="Use postgresql://USER:PASSWORD@HOST:5432/DATABASE."
        ) from err
    if not name or not parts.username:
        raise StudioError(
            "The database URL needs a user and a database name.",
            hint="Use postgresql://USER:PASSWORD@HOST:PORT/DATABASE.",
        )
    host = query.get("host", [None])[0] or parts.hostname or "localhost"
    return Database(
        name=name, user=unquote(parts.username), password=SecretStr(unquote(parts.password or "")), host=host, port=port,
        sslmode=query.get("sslmode", [None])[0],
    )  # fmt: skip


def mask_database_url(url: str) -> str:
    """``postgresql://u:secret@h/db`` → ``postgresql://u:***@h:5432/db``; anything unparsable → ``***``."""
    try:
        return parse_database_url(url).masked_url
    except StudioError:
        return "***"


def database_path(ws: Workspace) -> Path:
    return ws.state_dir / "database.json"


def resolve_database(ws: Workspace, database: str | None = None, *, remember: bool = True) -> Database | None:
    """Which database the workspace's server uses; None means the SQLite file under ``.treffpunkt/studio/``.

    Order: the ``database`` argument (``"sqlite"`` forgets a remembered URL), then ``TREFFPUNKT_STUDIO_DATABASE`` in
    the environment or the workspace's ``.env``, then the URL remembered from an earlier ``--database``. A URL given
    as argument is remembered (0600) so that a later plain ``studio start`` does not silently open an empty SQLite.
    """
    remembered = database_path(ws)
    if database is not None:
        if database.strip().lower() == SQLITE:
            if remember:
                remembered.unlink(missing_ok=True)
            return None
        parsed = parse_database_url(database)
        if remember:
            ws.ensure()
            write_json(remembered, {"url": database.strip(), "masked": parsed.masked_url}, perms=0o600)
        return parsed
    conf = settings(ws)
    if conf.studio_database is not None and conf.studio_database.get_secret_value().strip():
        value = conf.studio_database.get_secret_value()
        return None if value.strip().lower() == SQLITE else parse_database_url(value)
    if remembered.exists():
        os.chmod(remembered, 0o600)
        return parse_database_url(json.loads(remembered.read_text(encoding="utf-8"))["url"])
    return None


def check_database(db: Database, *, timeout: int = 10) -> None:
    """Connect once before starting Label Studio, so a wrong URL is an error here rather than a dead server."""
    try:
        import psycopg  # Label Studio's own PostgreSQL driver (a dependency of label-studio)
    except ImportError as err:
        raise StudioError(
            "The PostgreSQL driver (psycopg) is not installed.",
            hint="Reinstall the project's dependencies (`make install`).",
        ) from err
    kwargs: dict[str, object] = {
        "dbname": db.name, "user": db.user, "host": db.host, "port": db.port, "connect_timeout": timeout,
    }  # fmt: skip
    if db.password.get_secret_value():
        kwargs["password"] = db.password.get_secret_value()
    if db.sslmode:
        kwargs["sslmode"] = db.sslmode
    try:
        with psycopg.connect(**kwargs):  # type: ignore[arg-type]
            pass
    except psycopg.Error as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        secret = db.password.get_secret_value()
        if secret:
            reason = reason.replace(secret, "***")
        raise StudioError(
            f"PostgreSQL at {db.masked_url} refused the connection: {reason}",
            hint="Check that the server runs, that the database exists (createdb) and the user and password are right.",
        ) from err


def describe_database(ws: Workspace, db: Database | None) -> str:
    return db.masked_url if db is not None else f"SQLite ({data_dir(ws) / 'label_studio.sqlite3'})"


@dataclass(frozen=True)
class StudioStatus:
    running: bool
    url: str | None = None
    pid: int | None = None
    host: str | None = None
    port: int | None = None
    log_path: Path | None = None
    data_dir: Path | None = None
    credentials_path: Path | None = None
    username: str | None = None
    reused: bool = False
    started_in_s: float | None = None
    database: str | None = None  # masked URL or "SQLite (path)"; never the password

    @property
    def exposed(self) -> bool:
        """Whether the server listens on more than this machine's loopback interface."""
        return self.host is not None and self.host not in LOCAL_HOSTS


def data_dir(ws: Workspace) -> Path:
    return ws.state_dir / "studio"


def credentials_path(ws: Workspace) -> Path:
    return ws.state_dir / "credentials.json"


def state_path(ws: Workspace) -> Path:
    return ws.state_dir / "studio.json"


def log_path(ws: Workspace) -> Path:
    return ws.state_dir / "studio.log"


def load_credentials(ws: Workspace) -> Credentials | None:
    path = credentials_path(ws)
    if not path.exists():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))
    return Credentials(username=raw["username"], password=raw["password"], token=raw["token"])


def _ensure_credentials(ws: Workspace) -> Credentials:
    """Generate the admin login once per workspace; later starts reuse it (the user lives in the database)."""
    existing = load_credentials(ws)
    if existing is not None:
        os.chmod(credentials_path(ws), 0o600)
        return existing
    creds = Credentials(username=ADMIN_EMAIL, password=secrets.token_urlsafe(18), token=secrets.token_hex(20))
    write_json(
        credentials_path(ws),
        {"username": creds.username, "password": creds.password, "token": creds.token},
        perms=0o600,
    )
    return creds


def _executable() -> Path:
    exe = Path(sys.executable).parent / "label-studio"
    if not exe.exists():
        raise StudioError(
            f"The label-studio executable is not installed next to {sys.executable}.",
            hint="Install the project's dependencies (`make install`), or use another server via LABEL_STUDIO_URL.",
        )
    return exe


def _read_state(ws: Workspace) -> dict | None:
    path = state_path(ws)
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _alive(pid: int) -> bool:
    return alive(pid, command_contains=_COMMAND)


def healthy(url: str, *, timeout: float = 2.0) -> bool:
    try:
        response = httpx.get(f"{url.rstrip('/')}/health", timeout=timeout)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host if host != "0.0.0.0" else "", port))  # nosec: only a probe
        except OSError:
            return False
    # Label Studio itself probes "localhost" and silently moves to the next port if that one is busy.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("localhost", port)) != 0


def free_port(host: str = DEFAULT_HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # nosec: display only
    return f"http://{shown}:{port}"


def status(ws: Workspace) -> StudioStatus:
    """Whether the workspace's server runs (pid alive and /health answers)."""
    state = _read_state(ws)
    creds = load_credentials(ws)
    common = {
        "database": state.get("database") if state else None,
        "data_dir": data_dir(ws),
        "credentials_path": credentials_path(ws) if creds else None,
        "username": creds.username if creds else None,
        "log_path": log_path(ws) if log_path(ws).exists() else None,
    }
    if not state or not _alive(int(state["pid"])) or not healthy(state["url"]):
        return StudioStatus(running=False, **common)
    return StudioStatus(
        running=True, url=state["url"], pid=int(state["pid"]), host=state["host"], port=int(state["port"]), **common
    )


def start(
    ws: Workspace,
    *,
    port: int = DEFAULT_PORT,
    host: str = DEFAULT_HOST,
    timeout: float = START_TIMEOUT_S,
    database: str | None = None,
) -> StudioStatus:
    """Start the server in the background (or reuse the running one) and wait until it is healthy.

    ``database``: a ``postgresql://`` URL, or ``"sqlite"``; None uses the configured or remembered one (see
    :func:`resolve_database`). The server binds to 127.0.0.1 unless ``host`` says otherwise.
    """
    ws.ensure()
    db = resolve_database(ws, database, remember=False)
    wanted = describe_database(ws, db)
    current = status(ws)
    state = _read_state(ws)
    if state and _alive(int(state["pid"])):
        running_on = state.get("database")
        if running_on and running_on != wanted:
            raise StudioError(
                f"Label Studio already runs for this workspace on {running_on}, not on {wanted}.",
                hint="Stop it first with `treffpunkt studio stop`, then start it on the other database.",
            )
        if current.running:
            return StudioStatus(**{**current.__dict__, "reused": True})
        # A server of ours is up but not (yet) healthy: don't start a second one on the same database.
        return _wait_healthy(
            ws,
            int(state["pid"]),
            state["url"],
            host=state["host"],
            port=int(state["port"]),
            timeout=timeout,
            database=running_on,
        )
    if db is not None:
        check_database(db)
    resolve_database(ws, database)  # remember an explicit --database only once it is known to work
    if port == 0:
        port = free_port(DEFAULT_HOST if host in ("0.0.0.0", "") else host)
    if not _port_free(host, port):
        raise StudioError(
            f"Port {port} on {host} is already in use by another program.",
            hint="Pick another one with `treffpunkt studio start --port N`.",
        )
    creds = _ensure_credentials(ws)
    folder = data_dir(ws)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    env = {
        **os.environ,
        "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
        "LATEST_VERSION_CHECK": "false",
        "COLLECT_ANALYTICS": "false",
        "LABEL_STUDIO_BASE_DATA_DIR": str(folder),
        # The login goes in through the environment so it never shows up in the process list.
        "LABEL_STUDIO_USERNAME": creds.username,
        "LABEL_STUDIO_PASSWORD": creds.password,
        "LABEL_STUDIO_USER_TOKEN": creds.token,
        "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
        # No error reports to Label Studio's Sentry (server and browser); empty values switch it off.
        "SENTRY_DSN": "",
        "FRONTEND_SENTRY_DSN": "",
    }
    if host in LOCAL_HOSTS:
        # The ML backend (`treffpunkt serve`) and its webhooks live on this machine, at 127.0.0.1, which Label
        # Studio refuses by default (SSRF protection). A server only this machine can reach may call it; an exposed
        # server keeps the protection (then serve the backend on an address Label Studio accepts).
        env.update({"ML_BLOCK_LOCAL_IP": "false", "SSRF_PROTECTION_ENABLED": "false"})
    env.pop("LABEL_STUDIO_URL", None)
    env.pop("LABEL_STUDIO_API_KEY", None)
    env.pop(DATABASE_ENV, None)
    for name in _DB_SETTINGS:
        for prefix in ("LABEL_STUDIO_", "HEARTEX_", ""):
            env.pop(prefix + name, None)
    if db is not None:
        # The password goes in through the environment (readable only by this user), never on the command line.
        env.update(db.environment())
        database_args: list[str] = []
    else:
        env["DJANGO_DB"] = "sqlite"
        database_args = ["--database", str(folder / "label_studio.sqlite3")]
    command = [
        str(_executable()), "start",
        "--no-browser",
        "--data-dir", str(folder),
        *database_args,
        "--internal-host", host,
        "--port", str(port),
        "--enable-legacy-api-token",
        "--log-level", "WARNING",
    ]  # fmt: skip
    log = log_path(ws)
    with log.open("ab") as handle:
        os.chmod(log, 0o600)
        handle.write(f"\n--- treffpunkt studio start {datetime.now(UTC).isoformat()} ---\n".encode())
        handle.flush()
        process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            command, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True
        )
    url = _url(host, port)
    write_json(
        state_path(ws),
        {
            "pid": process.pid, "port": port, "host": host, "url": url, "log": str(log), "database": wanted,
            "started": datetime.now(UTC).isoformat(),
        },
        perms=0o600,
    )  # fmt: skip
    return _wait_healthy(ws, process.pid, url, host=host, port=port, timeout=timeout, process=process, database=wanted)


def _wait_healthy(
    ws: Workspace,
    pid: int,
    url: str,
    *,
    host: str,
    port: int,
    timeout: float,
    process: subprocess.Popen | None = None,
    database: str | None = None,
) -> StudioStatus:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if process is not None and process.poll() is not None:
            state_path(ws).unlink(missing_ok=True)
            raise StudioError(
                f"Label Studio exited during start-up (exit code {process.returncode}).",
                hint=f"See the log at {log_path(ws)}.",
            )
        if process is None and not _alive(pid):
            raise StudioError("Label Studio exited during start-up.", hint=f"See the log at {log_path(ws)}.")
        if healthy(url):
            creds = load_credentials(ws)
            return StudioStatus(
                running=True, url=url, pid=pid, host=host, port=port, log_path=log_path(ws), data_dir=data_dir(ws),
                credentials_path=credentials_path(ws), username=creds.username if creds else None,
                started_in_s=round(time.monotonic() - began, 1), database=database,
            )  # fmt: skip
        time.sleep(0.5)
    raise StudioError(
        f"Label Studio did not become healthy at {url} within {timeout:.0f} s (it keeps starting in the background, pid {pid}).",
        hint=f"See the log at {log_path(ws)}; run `treffpunkt studio status` later, or `treffpunkt studio stop`.",
    )


def stop(ws: Workspace, *, timeout: float = 20.0) -> bool:
    """Terminate the workspace's server (its whole process group). Returns whether one was running."""
    state = _read_state(ws)
    if not state:
        return False
    pid = int(state["pid"])
    was_running = _alive(pid)
    if was_running:
        terminate(pid, timeout=timeout, group=True, command_contains=_COMMAND)
    state_path(ws).unlink(missing_ok=True)
    return was_running
