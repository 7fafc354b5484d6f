"""Connection to Label Studio: settings, the SDK client, typed errors and bounded retries.

Settings come from the environment or the workspace's ``.env`` (``LABEL_STUDIO_URL``, ``LABEL_STUDIO_API_KEY``,
``TREFFPUNKT_PROJECT_TITLE``); without them, the workspace's own server (``treffpunkt studio start``) is used.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from pydantic import SecretStr

from treffpunkt.annotation.labelstudio import server as studio
from treffpunkt.core.errors import TreffpunktError
from treffpunkt.core.settings import settings
from treffpunkt.core.workspace import Workspace

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio

T = TypeVar("T")

#: Retries on timeouts, dropped connections and 5xx answers: 4 tries, waiting 0.5, 1, 2 s in between.
MAX_ATTEMPTS = 4
BACKOFF_S = 0.5
REQUEST_TIMEOUT_S = 120.0


class StudioUnreachable(TreffpunktError):
    """Nothing answers at the Label Studio URL."""


class AuthenticationFailed(TreffpunktError):
    """The server refused the API token."""


class ExportTimeout(TreffpunktError):
    """An export snapshot did not finish in time."""


class StudioRequestFailed(TreffpunktError):
    """Label Studio answered with an error (after retries, for server errors)."""


@dataclass(frozen=True)
class Connection:
    url: str
    api_key: SecretStr
    source: str  # "environment" or "workspace server"

    def __repr__(self) -> str:
        return f"Connection(url={self.url!r}, api_key=***, source={self.source!r})"


def connection(ws: Workspace) -> Connection:
    """Where to talk to Label Studio: LABEL_STUDIO_URL/API_KEY if set, else the workspace's own server."""

    conf = settings(ws)
    if conf.label_studio_url:
        if conf.label_studio_api_key is None:
            raise AuthenticationFailed(
                f"LABEL_STUDIO_URL is set ({conf.label_studio_url}) but LABEL_STUDIO_API_KEY is not.",
                hint="Set LABEL_STUDIO_API_KEY (Account & Settings → Access Token in Label Studio) in the environment or .env.",
            )
        return Connection(conf.label_studio_url.rstrip("/"), conf.label_studio_api_key, "environment")
    creds = studio.load_credentials(ws)
    state = studio.status(ws)
    url = state.url or _remembered_url(ws) or f"http://{studio.DEFAULT_HOST}:{studio.DEFAULT_PORT}"
    if creds is None:
        raise StudioUnreachable(
            f"No Label Studio configured for workspace {ws.root} (expected one at {url}).",
            hint="Start it with `treffpunkt studio start` or set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY.",
        )
    return Connection(url, SecretStr(creds.token), "workspace server")


def _remembered_url(ws: Workspace) -> str | None:
    import json

    path = studio.state_path(ws)
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8")).get("url")
    return None


class Studio:
    """The SDK client plus our error mapping and retry policy. Use :meth:`call` for every request."""

    def __init__(
        self,
        conn: Connection,
        *,
        timeout: float | None = None,
        attempts: int | None = None,
        backoff: float | None = None,
    ) -> None:
        from label_studio_sdk import LabelStudio

        self.url = conn.url
        self.connection = conn
        # Read at call time, not at import, so a test or a caller can tune the module defaults.
        self.attempts = max(1, MAX_ATTEMPTS if attempts is None else attempts)
        self.backoff = BACKOFF_S if backoff is None else backoff
        # max_retries=0: the one retry policy is ours (call), so bounds and messages are consistent.
        self.sdk: LabelStudio = LabelStudio(
            base_url=conn.url,
            api_key=conn.api_key.get_secret_value(),
            timeout=REQUEST_TIMEOUT_S if timeout is None else timeout,
            max_retries=0,
        )

    def call(
        self, fn: Callable[..., T], *args: Any, what: str = "request", idempotent: bool = True, **kwargs: Any
    ) -> T:
        """Run one SDK call with bounded retries (timeouts, dropped connections, 5xx) and typed errors.

        ``idempotent=False`` (imports, creations) retries only failures where the server cannot have acted on the
        request (it was never sent, or the server said it is busy): a lost answer to an import must not import twice.
        """
        from label_studio_sdk.core.api_error import ApiError

        last: Exception | None = None
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                return fn(*args, **kwargs)
            except httpx.ConnectError as err:
                raise unreachable(self.connection, what) from err
            except (httpx.ConnectTimeout, httpx.PoolTimeout) as err:  # never sent: safe to repeat
                last = err
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as err:
                if not idempotent:
                    raise _maybe_applied(self.url, what, err) from err
                last = err
            except ApiError as err:
                code = err.status_code or 0
                if code in (401, 403):
                    raise AuthenticationFailed(
                        f"Label Studio at {self.url} refused the API token ({code}) during {what}.",
                        hint="Check LABEL_STUDIO_API_KEY, or unset it to use the workspace server's token "
                        "(.treffpunkt/credentials.json).",
                    ) from err
                if code in (429, 503) or (idempotent and (code >= 500 or code == 408)):
                    last = err
                    continue
                if code >= 500 or code == 408:  # not idempotent: the server may have done part of the work
                    raise _maybe_applied(self.url, what, err) from err
                raise StudioRequestFailed(f"Label Studio refused the {what} ({code}): {_body(err)}") from err
        raise StudioRequestFailed(
            f"Label Studio at {self.url} kept failing the {what} after {self.attempts} attempts: {_describe(last)}",
            hint="Check the server's log (`treffpunkt studio status` shows where it is) and retry.",
        ) from last


def unreachable(conn: Connection, what: str | None = None) -> StudioUnreachable:
    """The error for "nothing answers at the URL", with a hint that fits where the URL came from."""
    during = f" ({what})" if what else ""
    if conn.source == "environment":
        hint = (
            f"LABEL_STUDIO_URL is set to {conn.url}: start that server or correct the URL, "
            "or unset LABEL_STUDIO_URL to use this workspace's own server (`treffpunkt studio start`)."
        )
    else:
        hint = "Start it with `treffpunkt studio start` or set LABEL_STUDIO_URL."
    return StudioUnreachable(f"Label Studio at {conn.url} did not answer{during}.", hint=hint)


def _maybe_applied(url: str, what: str, err: Exception) -> StudioRequestFailed:
    return StudioRequestFailed(
        f"The {what} to Label Studio at {url} failed without a complete answer ({_describe(err)}); it may or may "
        "not have been applied, so it was not repeated.",
        hint="Rerun the command: it reads back what the server has and sends only what is missing.",
    )


def _body(err: Any) -> str:
    body = getattr(err, "body", None)
    text = body if isinstance(body, str) else repr(body)
    return text[:500]


def _describe(err: Exception | None) -> str:
    if err is None:
        return "unknown error"
    code = getattr(err, "status_code", None)
    return f"HTTP {code}" if code else type(err).__name__


def connect(ws: Workspace, *, attempts: int | None = None, backoff: float | None = None) -> Studio:
    """A ready :class:`Studio` for the workspace; fails fast with a clear message if nothing answers."""
    conn = connection(ws)
    probe(conn, attempts=attempts, backoff=backoff)
    return Studio(conn, attempts=attempts, backoff=backoff)


def probe(conn: Connection, *, attempts: int | None = None, backoff: float | None = None, timeout: float = 5.0) -> None:
    """GET /health: refused connection → :class:`StudioUnreachable` at once; 5xx and timeouts are retried."""
    attempts = max(1, MAX_ATTEMPTS if attempts is None else attempts)
    backoff = BACKOFF_S if backoff is None else backoff
    last: str = "no answer"
    attempt = 0
    for attempt in range(attempts):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            response = httpx.get(f"{conn.url}/health", timeout=timeout)
        except httpx.ConnectError as err:
            raise unreachable(conn) from err
        except httpx.TransportError as err:
            last = type(err).__name__
            continue
        if response.status_code == 200:
            return
        last = f"HTTP {response.status_code}"
        if response.status_code < 500 and response.status_code not in (408, 429):
            break  # something answers, but not Label Studio's health check: no use repeating
    raise StudioUnreachable(
        f"Label Studio at {conn.url} did not report healthy ({last}, {attempt + 1} attempt(s)).",
        hint="Check that LABEL_STUDIO_URL points to a Label Studio server and see its log; then retry.",
    )
