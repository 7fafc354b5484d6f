"""Faults against a real Label Studio: server down, wrong token, 5xx and stalls, dropped answers, a server killed mid-pull
and mid-push.

Faults are real: a small threaded HTTP proxy (``FaultProxy``) sits between the client and a real server and answers
5xx, stalls, forwards a request but drops its answer, or cuts a download short and kills the server's process group.
Tests that kill a server use their own server (module fixture ``own_studio``) so the session's server stays up.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from treffpunkt.annotation.labelstudio import server as studio_mod
from treffpunkt.annotation.labelstudio.client import (
    MAX_ATTEMPTS,
    Connection,
    Studio,
    StudioRequestFailed,
    StudioUnreachable,
)
from treffpunkt.annotation.labelstudio.project import iter_tasks, setup
from treffpunkt.annotation.labelstudio.pull import pull
from treffpunkt.annotation.labelstudio.push import push
from treffpunkt.cli import app
from treffpunkt.core.article import Article, Origin
from treffpunkt.core.workspace import Workspace, init_workspace

runner = CliRunner()

TEXTS = [
    "Generalstabschef Waleri Gerassimow telefonierte am Freitag mit Petr Pavel.",
    "Der Nato-Russland-Rat tagte in Brüssel. Russland lehnte ein weiteres Treffen ab.",
    "Stoltenberg lud Gerassimow nach Brüssel ein. 🙂 Ein Termin steht noch nicht fest.",
    "Dunford und Gerasimov trafen sich in Baku.",
    "Lawrow und Blinken sprachen in Genf miteinander.",
]


def make_articles(n: int = 4) -> list[Article]:
    return [
        Article(
            id=f"fault-{i}",
            title=f"Titel {i}",
            text=TEXTS[i],
            source="test",
            url=f"https://example.org/{i}",
            published=f"2016-04-0{i + 1}",
            cluster=f"c{i}",
            origin=Origin(path="test", kind="jsonl", line=i),
            added="2024-01-01T00:00:00Z",
        )  # fmt: skip
        for i in range(n)
    ]


# --------------------------------------------------------------------------- the fault proxy

Action = str | tuple[str, Any]


@dataclass
class Seen:
    method: str
    path: str
    action: str


@dataclass
class FaultProxy:
    """A threaded HTTP proxy in front of a real server; ``rule(n, method, path)`` picks what happens to request n.

    Actions: ``"forward"``; ``("status", code)`` answer with that code without forwarding; ``("stall", s)`` wait s
    seconds, then close without an answer; ``"drop"`` forward, let the server act, then close without passing the
    answer on; ``("truncate", callback)`` forward, pass on the headers and half the body, call ``callback``, close.
    """

    upstream: str
    rule: Callable[[int, str, str], Action]
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        proxy = self
        self._lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with proxy._lock:
                    n = len(proxy.seen)
                    action = proxy.rule(n, self.command, self.path)
                    name = action if isinstance(action, str) else action[0]
                    proxy.seen.append(Seen(self.command, self.path, name))
                if isinstance(action, tuple) and action[0] == "status":
                    payload = b"proxy fault"
                    self.send_response(int(action[1]))
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                if isinstance(action, tuple) and action[0] == "stall":
                    time.sleep(float(action[1]))
                    self.close_connection = True
                    return
                try:
                    status, headers, data = proxy._forward(self.command, self.path, self.headers, body)
                except OSError:  # the server is gone: answer like a gateway does
                    self.send_response(502)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if action == "drop":
                    self.close_connection = True
                    return
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in ("transfer-encoding", "connection", "content-length", "date", "server"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if isinstance(action, tuple) and action[0] == "truncate":
                    self.wfile.write(data[: max(1, len(data) // 2)])
                    self.wfile.flush()
                    action[1]()
                    self.close_connection = True
                    return
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _forward(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        target = urlsplit(self.upstream)
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        try:
            sent = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection", "content-length")}
            conn.request(method, path, body=body or None, headers=sent)
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()

    def count(self, needle: str, method: str | None = None) -> int:
        return sum(1 for s in self.seen if needle in s.path and (method is None or s.method == method))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def make_proxy() -> Iterator[Callable[..., FaultProxy]]:
    proxies: list[FaultProxy] = []

    def make(upstream: str, rule: Callable[[int, str, str], Action]) -> FaultProxy:
        proxies.append(FaultProxy(upstream, rule))
        return proxies[-1]

    yield make
    for p in proxies:
        p.close()


# --------------------------------------------------------------------------- a server of our own, for kill tests


@dataclass
class OwnServer:
    ws: Workspace
    url: str
    token: str

    @property
    def pid(self) -> int:
        return int(json.loads(studio_mod.state_path(self.ws).read_text(encoding="utf-8"))["pid"])

    def kill(self) -> None:
        """SIGKILL the whole process group: no graceful shutdown, like a crash or an OOM kill."""
        pid = self.pid
        os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)

    def ensure_running(self) -> None:
        if not studio_mod.healthy(self.url):
            self.url = str(studio_mod.start(self.ws, port=0, timeout=400).url)

    def client(self) -> Studio:
        return Studio(Connection(self.url, SecretStr(self.token), "test"))


@pytest.fixture(scope="module")
def own_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnServer]:
    ws = init_workspace(tmp_path_factory.mktemp("own-studio") / "ws")
    state = studio_mod.start(ws, port=0, timeout=400)
    creds = studio_mod.load_credentials(ws)
    assert creds is not None and state.url
    try:
        yield OwnServer(ws, state.url, creds.token)
    finally:
        studio_mod.stop(ws)


def client_ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, token: str) -> Workspace:
    """A workspace that talks to ``url`` through LABEL_STUDIO_URL, with a unique project title."""
    monkeypatch.setenv("LABEL_STUDIO_URL", url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", token)
    monkeypatch.setenv("TREFFPUNKT_PROJECT_TITLE", f"fault-{uuid.uuid4().hex[:10]}")
    return init_workspace(tmp_path / f"ws-{uuid.uuid4().hex[:6]}")


def annotate_all(client: Studio, project_id: int) -> dict[str, list[dict]]:
    """One annotation per task (the first word labelled PER): article_id → results, to compare with a pull."""
    done: dict[str, list[dict]] = {}
    for task in iter_tasks(client, project_id):
        text = task.data["text"]
        word = text.split()[0]
        result = [{
            "id": "r1", "from_name": "entities", "to_name": "text", "type": "labels",
            "value": {"start": 0, "end": len(word), "text": word, "labels": ["PER"]},
        }]  # fmt: skip
        client.sdk.annotations.create(task.id, result=result)
        done[task.data["article_id"]] = result
    return done


def assert_clean_failure(out: Any, *needles: str) -> None:
    assert out.exit_code not in (0, None), out.output
    assert "Traceback" not in out.output and "Error:" in out.output, out.output
    for needle in needles:
        assert needle in out.output, (needle, out.output)


# --------------------------------------------------------------------------- server not running, wrong token


@pytest.mark.parametrize("command", [["annotate", "push"], ["annotate", "pull"], ["annotate", "setup"]])
def test_faults_server_not_running_is_one_clear_message(tmp_path, monkeypatch, command, http_log):
    url = f"http://127.0.0.1:{studio_mod.free_port()}"
    ws = client_ws(tmp_path, monkeypatch, url, "a" * 40)
    out = runner.invoke(app, ["--home", str(ws.root), *command])
    assert_clean_failure(out, url, "did not answer", "LABEL_STUDIO_URL", "treffpunkt studio start")
    assert out.output.count("Error:") == 1
    assert len(http_log) == 1, http_log  # counted at the transport: a refused connection is not retried
    assert not ws.exports_dir.exists() or not list(ws.exports_dir.iterdir())


@pytest.mark.studio
@pytest.mark.parametrize("command", [["annotate", "push"], ["annotate", "pull"]])
def test_faults_wrong_token_is_a_clear_authentication_error(studio, tmp_path, monkeypatch, command):
    token = uuid.uuid4().hex + "wrong"
    ws = client_ws(tmp_path, monkeypatch, studio.url, token)
    out = runner.invoke(app, ["--home", str(ws.root), *command])
    assert_clean_failure(out, "refused the API token", "LABEL_STUDIO_API_KEY", studio.url)
    assert token not in out.output and token[:12] not in out.output


# --------------------------------------------------------------------------- transient and persistent 5xx / stalls


@pytest.mark.studio
def test_faults_transient_5xx_are_retried_and_the_pull_succeeds(studio, tmp_path, monkeypatch, make_proxy):
    ws = client_ws(tmp_path, monkeypatch, studio.url, studio.token)
    ref = setup(ws).project
    push(ws, articles=make_articles())
    annotate_all(studio.client(), ref.id)
    seen: dict[tuple[str, str], int] = {}

    def rule(n: int, method: str, path: str) -> Action:
        # every distinct API request is answered 502, then 503, and only its third attempt is forwarded
        if not path.startswith("/api/"):
            return "forward"
        k = seen[(method, path)] = seen.get((method, path), 0) + 1
        return ("status", 502) if k == 1 else ("status", 503) if k == 2 else "forward"

    proxy = make_proxy(studio.url, rule)
    client = Studio(Connection(proxy.url, SecretStr(studio.token), "test"), backoff=0.05)
    result = pull(ws, studio=client, convert=False)
    assert result.tasks == 4
    data = json.loads(result.export_path.read_text(encoding="utf-8"))
    assert sorted(t["data"]["article_id"] for t in data) == [a.id for a in make_articles()]
    # each distinct request: exactly two faults, then one forwarded attempt that succeeded
    for method, path in seen:
        actions = [s.action for s in proxy.seen if (s.method, s.path) == (method, path)]
        assert actions[:3] == ["status", "status", "forward"], (method, path, actions)
    assert proxy.count("/download") == 3


@pytest.mark.studio
def test_faults_persistent_5xx_give_bounded_retries_with_backoff_then_a_clear_error(
    studio, tmp_path, monkeypatch, make_proxy
):
    ws = client_ws(tmp_path, monkeypatch, studio.url, studio.token)
    setup(ws)
    proxy = make_proxy(studio.url, lambda n, method, path: ("status", 502) if path.startswith("/api/") else "forward")
    monkeypatch.setenv("LABEL_STUDIO_URL", proxy.url)
    began = time.monotonic()
    out = runner.invoke(app, ["--home", str(ws.root), "annotate", "pull"])
    elapsed = time.monotonic() - began
    assert_clean_failure(out, "kept failing", f"after {MAX_ATTEMPTS} attempts", "HTTP 502", proxy.url)
    # the first API request is retried MAX_ATTEMPTS times, then the command stops: nothing else is sent
    api = [s for s in proxy.seen if s.path.startswith("/api/")]
    assert len(api) == MAX_ATTEMPTS and len({s.path for s in api}) == 1
    assert elapsed >= 0.5 + 1 + 2  # backoff 0.5, 1, 2 s between the four attempts
    assert not list(ws.exports_dir.glob("*.json"))


@pytest.mark.studio
def test_faults_stalled_requests_time_out_are_retried_then_fail_clearly(studio, tmp_path, monkeypatch, make_proxy):
    ws = client_ws(tmp_path, monkeypatch, studio.url, studio.token)
    ref = setup(ws).project
    stalls = {"left": 2}

    def rule(n: int, method: str, path: str) -> Action:
        if path.startswith("/api/projects/") and stalls["left"] > 0:
            stalls["left"] -= 1
            return ("stall", 2.0)
        return "forward"

    proxy = make_proxy(studio.url, rule)
    client = Studio(Connection(proxy.url, SecretStr(studio.token), "test"), timeout=0.5, backoff=0.05)
    got = client.call(client.sdk.projects.get, ref.id, what="project lookup")
    assert got.id == ref.id and [s.action for s in proxy.seen] == ["stall", "stall", "forward"]

    stalls["left"] = 10**6
    began = time.monotonic()
    with pytest.raises(StudioRequestFailed) as err:
        client.call(client.sdk.projects.get, ref.id, what="project lookup")
    assert f"after {MAX_ATTEMPTS} attempts" in err.value.message and "ReadTimeout" in err.value.message
    assert sum(1 for s in proxy.seen[3:]) == MAX_ATTEMPTS
    assert time.monotonic() - began < MAX_ATTEMPTS * 0.5 + 1.0 + 3  # bounded: timeouts plus backoff, not a hang


@pytest.mark.studio
def test_faults_health_check_through_a_failing_gateway_is_clear(studio, tmp_path, monkeypatch, make_proxy):
    ws = client_ws(tmp_path, monkeypatch, studio.url, studio.token)
    proxy = make_proxy(studio.url, lambda n, method, path: ("status", 503))
    monkeypatch.setenv("LABEL_STUDIO_URL", proxy.url)
    out = runner.invoke(app, ["--home", str(ws.root), "annotate", "push"])
    assert_clean_failure(out, proxy.url, "did not report healthy", "HTTP 503")
    assert len(proxy.seen) == MAX_ATTEMPTS and {s.path for s in proxy.seen} == {"/health"}


# --------------------------------------------------------------------------- interrupted push


def assert_each_article_once(client: Studio, project_id: int, articles: list[Article]) -> None:
    ids = [t.data["article_id"] for t in iter_tasks(client, project_id)]
    assert len(ids) == len(articles) and sorted(ids) == sorted(a.id for a in articles), ids


@pytest.mark.studio
def test_faults_push_whose_answer_is_lost_is_not_repeated_and_a_rerun_completes(
    studio, tmp_path, monkeypatch, make_proxy
):
    ws = client_ws(tmp_path, monkeypatch, studio.url, studio.token)
    ref = setup(ws).project
    articles = make_articles(5)
    first_import = {"done": False}

    def rule(n: int, method: str, path: str) -> Action:
        # the server imports the first chunk, but the answer never reaches the client
        if method == "POST" and path.startswith(f"/api/projects/{ref.id}/import") and not first_import["done"]:
            first_import["done"] = True
            return "drop"
        return "forward"

    proxy = make_proxy(studio.url, rule)
    monkeypatch.setenv("LABEL_STUDIO_URL", proxy.url)
    with pytest.raises(StudioRequestFailed, match="may or may not have been applied"):
        push(ws, articles=articles, batch_size=2)
    assert proxy.count("/import", "POST") == 1  # not repeated blindly
    assert len(list(iter_tasks(studio.client(), ref.id))) == 2  # the server did import the chunk
    again = push(ws, articles=articles, batch_size=2)
    assert (again.imported, again.already_present) == (3, 2)
    assert_each_article_once(studio.client(), ref.id, articles)


@pytest.mark.studio
def test_faults_predictions_import_whose_answer_is_lost_is_not_repeated(studio, tmp_path, monkeypatch, make_proxy):
    # The newest push fix: a bulk predictions import whose answer is lost must not be retried (that could attach
    # the same version's predictions twice); a rerun adds only the tasks that lack this version.
    import spacy

    from treffpunkt.annotation.labelstudio.push import predict_existing

    ws = client_ws(tmp_path, monkeypatch, studio.url, studio.token)
    ref = setup(ws).project
    articles = make_articles(4)
    push(ws, articles=articles)
    nlp = spacy.blank("de")
    nlp.add_pipe("entity_ruler").add_patterns([{"label": "ORG", "pattern": "NATO"}])
    model = tmp_path / "lost-001"
    nlp.to_disk(model)
    dropped = {"done": False}

    def rule(n: int, method: str, path: str) -> Action:
        if method == "POST" and path.endswith("/import/predictions") and not dropped["done"]:
            dropped["done"] = True
            return "drop"  # the server attaches the first batch, the answer never arrives
        return "forward"

    proxy = make_proxy(studio.url, rule)
    monkeypatch.setenv("LABEL_STUDIO_URL", proxy.url)
    with pytest.raises(StudioRequestFailed, match="may or may not have been applied"):
        predict_existing(ws, model=model, batch_size=2)
    assert proxy.count("/import/predictions", "POST") == 1  # not repeated blindly
    again = predict_existing(ws, model=model, batch_size=2)
    assert again.predicted_existing == 2  # only the two tasks the lost request did not cover
    tasks = list(iter_tasks(studio.client(), ref.id, fields="all"))
    per_task = [
        sum(1 for p in t.predictions if (p["model_version"] if isinstance(p, dict) else p.model_version) == "lost-001")
        for t in tasks
    ]
    assert per_task == [1, 1, 1, 1]


@pytest.mark.studio
def test_faults_server_killed_mid_push_then_rerun_after_restart_completes(
    own_studio, tmp_path, monkeypatch, make_proxy
):
    own_studio.ensure_running()
    ws = client_ws(tmp_path, monkeypatch, own_studio.url, own_studio.token)
    ref = setup(ws).project
    articles = make_articles(5)
    imports = {"n": 0}

    def rule(n: int, method: str, path: str) -> Action:
        if method == "POST" and "/import" in path:
            imports["n"] += 1
            if imports["n"] == 2:  # the second chunk reaches the server, then the server dies before it answers
                return ("truncate", own_studio.kill)
        return "forward"

    proxy = make_proxy(own_studio.url, rule)
    monkeypatch.setenv("LABEL_STUDIO_URL", proxy.url)
    with pytest.raises((StudioRequestFailed, StudioUnreachable)):
        push(ws, articles=articles, batch_size=2)
    assert not studio_mod.healthy(own_studio.url)
    own_studio.ensure_running()
    monkeypatch.setenv("LABEL_STUDIO_URL", own_studio.url)
    again = push(ws, articles=articles, batch_size=2)
    assert again.already_present == 4 and again.imported == 1
    assert_each_article_once(own_studio.client(), ref.id, articles)


# --------------------------------------------------------------------------- server killed during pull


@pytest.mark.studio
def test_faults_server_killed_during_pull_leaves_no_partial_export_and_rerun_loses_nothing(
    own_studio, tmp_path, monkeypatch, make_proxy
):
    own_studio.ensure_running()
    ws = client_ws(tmp_path, monkeypatch, own_studio.url, own_studio.token)
    ref = setup(ws).project
    push(ws, articles=make_articles(5))
    annotated = annotate_all(own_studio.client(), ref.id)
    killed = {"at": None}

    def kill() -> None:
        killed["at"] = time.monotonic()
        own_studio.kill()

    def rule(n: int, method: str, path: str) -> Action:
        # the snapshot is built; half of its download is on the wire when the server's process group is killed
        if path.split("?")[0].endswith("/download") and killed["at"] is None:
            return ("truncate", kill)
        return "forward"

    proxy = make_proxy(own_studio.url, rule)
    monkeypatch.setenv("LABEL_STUDIO_URL", proxy.url)
    out = runner.invoke(app, ["--home", str(ws.root), "annotate", "pull"])
    assert killed["at"] is not None and proxy.count("/exports/") >= 2  # snapshot created, download begun
    assert_clean_failure(out, "export download")
    leftovers = sorted(p.name for p in ws.exports_dir.iterdir()) if ws.exports_dir.exists() else []
    assert leftovers == [], leftovers  # no partial JSON, no temporary file, no checksum, no DocBins

    own_studio.ensure_running()
    monkeypatch.setenv("LABEL_STUDIO_URL", own_studio.url)
    out = runner.invoke(app, ["--home", str(ws.root), "annotate", "pull"])
    assert out.exit_code == 0, out.output
    exports = list(ws.exports_dir.glob("*.json"))
    assert len(exports) == 1
    data = json.loads(exports[0].read_text(encoding="utf-8"))
    assert sorted(t["data"]["article_id"] for t in data) == sorted(a.id for a in make_articles(5))
    for task in data:
        (annotation,) = task["annotations"]
        got = [{k: r[k] for k in ("from_name", "type", "value")} for r in annotation["result"]]
        want = [{k: r[k] for k in ("from_name", "type", "value")} for r in annotated[task["data"]["article_id"]]]
        assert got == want
    assert (exports[0].with_suffix("") / "train.spacy").exists()
