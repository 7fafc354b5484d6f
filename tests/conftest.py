"""Shared fixtures. Slow fixtures (the Label Studio server) are session-scoped and shared by the suite."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path
from typing import Any

import pytest

from treffpunkt.core.workspace import Workspace, init_workspace

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SEEDS_DIR = REPO / "corpus" / "seeds"
GNAD_CSV = SHARED / "data" / "gnad" / "test.csv"
LER_DIR = SHARED / "data" / "ler"
DATA = Path(__file__).resolve().parent / "data"


def wandb_records(run_file: Path, timeout: float = 30.0) -> list[Any]:
    """Records of an offline ``run-*.wandb`` file, once wandb has written the run's exit record (its writer
    process may still be flushing when ``finish()`` returns)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        records = list(_read_records(run_file))
        if any(r.WhichOneof("record_type") == "exit" for r in records) or time.monotonic() > deadline:
            return records
        time.sleep(0.2)


def _read_records(run_file: Path):
    """The records of a ``.wandb`` file (LevelDB-style log: 32 KiB blocks, 7-byte chunk headers)."""
    from wandb.proto import wandb_internal_pb2

    raw, pos, block, buf = run_file.read_bytes(), 7, 32768, bytearray()
    while pos + 7 <= len(raw):
        if block - pos % block < 7:
            pos += block - pos % block
            continue
        _crc, length, kind = struct.unpack("<IHB", raw[pos : pos + 7])
        buf += raw[pos + 7 : pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):  # FULL or LAST chunk ends a record
            record = wandb_internal_pb2.Record()
            record.ParseFromString(bytes(buf))
            buf = bytearray()
            yield record


def wandb_summary(records) -> dict[str, Any]:
    """The last summary value of each key in a run's records."""
    import json

    out: dict[str, Any] = {}
    for r in records:
        if r.WhichOneof("record_type") == "summary":
            for u in r.summary.update:
                out[u.key or "/".join(u.nested_key)] = json.loads(u.value_json)
    return out


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A fresh, empty workspace with the default configs."""
    return init_workspace(tmp_path / "ws")


@pytest.fixture
def seeds_dir() -> Path:
    return SEEDS_DIR


# --- training fixtures (training/, issue 4): hand-made German docs in the converter's DocBin layout -------------

_TRAIN_SENTENCES = [
    (
        "Angela Merkel telefonierte am Montag mit Wladimir Putin.",
        [("Angela Merkel", "PER"), ("am Montag", "DATE"), ("Wladimir Putin", "PER")],
        ["CONSULT_PHONE"],
        "telefonierte",
    ),
    (
        "Der Außenminister reiste nach Paris.",
        [("Außenminister", "ROLE"), ("Paris", "GPE")],
        ["CONSULT_VISIT"],
        "reiste",
    ),
    (
        "Die NATO lud Russland zu Gesprächen in Brüssel ein.",
        [("NATO", "ORG"), ("Russland", "GPE"), ("Brüssel", "GPE")],
        ["MEET_INTENT"],
        "lud",
    ),
    ("Das Wetter in Berlin war schön.", [("Berlin", "GPE")], [], None),
    (
        "Olaf Scholz sprach am Telefon mit Emmanuel Macron.",
        [("Olaf Scholz", "PER"), ("Emmanuel Macron", "PER")],
        ["CONSULT_PHONE"],
        "sprach",
    ),
    (
        "Moskau lehnte ein Treffen mit der Ukraine ab.",
        [("Moskau", "GPE"), ("Ukraine", "GPE")],
        ["MEET_REJECT"],
        "lehnte",
    ),
    (
        "Der Kanzler besuchte Warschau am Freitag.",
        [("Kanzler", "ROLE"), ("Warschau", "GPE"), ("am Freitag", "DATE")],
        ["CONSULT_VISIT"],
        "besuchte",
    ),
    ("Die Preise stiegen im April.", [("im April", "DATE")], [], None),
]


def make_training_doc(nlp, sentences, doc_id: int = 0):
    """One Doc in the converter's layout: ents, sentence boundaries, event triggers, sentence event spans, meta."""
    from spacy.tokens import Span

    text = " ".join(s for s, *_ in sentences)
    doc = nlp(text)
    ents, triggers, events, relations = [], [], [], []
    offset = 0
    for sentence, entities, labels, trigger in sentences:
        for surface, label in entities:
            start = text.index(surface, offset)
            ents.append(doc.char_span(start, start + len(surface), label=label))
        sent = doc.char_span(offset, offset + len(sentence))
        for label in labels:
            events.append(Span(doc, sent.start, sent.end, label=label))
            t = text.index(trigger, offset)
            triggers.append(doc.char_span(t, t + len(trigger), label=label))
            if entities:
                a = text.index(entities[0][0], offset)
                relations.append(
                    {
                        "event": [t, t + len(trigger)],
                        "event_label": label,
                        "arg": [a, a + len(entities[0][0])],
                        "arg_label": entities[0][1],
                        "role": "participant",
                    }
                )
        offset += len(sentence) + 1
    doc.ents = ents
    doc.spans["event_triggers"] = triggers
    doc.spans["events"] = events
    doc.user_data["relations"] = relations
    doc.user_data["meta"] = {
        "article_id": f"a{doc_id}",
        "task_id": doc_id,
        "annotation_id": doc_id,
        "annotator": "test",
        "cluster": None,
        "published": None,
        "title": f"Doc {doc_id}",
        "source": "test",
    }
    return doc


@pytest.fixture(scope="session")
def training_data(tmp_path_factory) -> Path:
    """A converted-export folder (train/dev/test.spacy + manifest.json) of hand-made German docs."""
    import json

    import spacy
    from spacy.tokens import DocBin

    nlp = spacy.blank("de")
    nlp.add_pipe("sentencizer")
    folder = tmp_path_factory.mktemp("converted") / "20250101T000000Z_test"
    folder.mkdir()
    n = len(_TRAIN_SENTENCES)
    splits = {"train": 12, "dev": 3, "test": 3}
    doc_id = 0
    for split, count in splits.items():
        docs = []
        for _ in range(count):
            # rotate the sentences so every doc differs but all labels occur in every split
            k = doc_id % n
            docs.append(make_training_doc(nlp, _TRAIN_SENTENCES[k:] + _TRAIN_SENTENCES[:k], doc_id))
            doc_id += 1
        DocBin(docs=docs, store_user_data=True).to_disk(folder / f"{split}.spacy")
    (folder / "manifest.json").write_text(
        json.dumps({"export_sha256": "0" * 64, "export": "20250101T000000Z_test.json"}), encoding="utf-8"
    )
    return folder


# --------------------------------------------------------------------------- Label Studio (one server per session)

from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402


@dataclass
class StudioServer:
    """The session's Label Studio: a real server in its own temporary workspace."""

    url: str
    token: str
    username: str
    password: str
    workspace: Workspace

    def client(self):
        """An :class:`treffpunkt.annotation.labelstudio.client.Studio` for the server (the SDK is in ``.sdk``)."""
        from pydantic import SecretStr

        from treffpunkt.annotation.labelstudio.client import Connection, Studio

        return Studio(Connection(self.url, SecretStr(self.token), "test"))


@pytest.fixture(scope="session")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudioServer]:
    """Start ONE Label Studio for the whole test session (``treffpunkt studio start`` code path); stop it at the end."""
    from treffpunkt.annotation.labelstudio import server as studio_mod

    ws = init_workspace(tmp_path_factory.mktemp("studio") / "ws")
    state = studio_mod.start(ws, port=0, timeout=400)
    creds = studio_mod.load_credentials(ws)
    assert creds is not None and state.url
    try:
        yield StudioServer(
            url=state.url, token=creds.token, username=creds.username, password=creds.password, workspace=ws
        )
    finally:
        studio_mod.stop(ws)


@pytest.fixture
def studio_ws(studio: StudioServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """A fresh workspace that talks to the session's server (LABEL_STUDIO_URL/API_KEY) under a unique project title.

    The project (if a test created one, e.g. with ``annotate setup``) is deleted afterwards.
    """
    import uuid

    title = f"test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("LABEL_STUDIO_URL", studio.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", studio.token)
    monkeypatch.setenv("TREFFPUNKT_PROJECT_TITLE", title)
    ws = init_workspace(tmp_path / "studio-ws")
    yield ws
    client = studio.client()
    for project in client.sdk.projects.list(title=title):
        if project.title == title:
            client.sdk.projects.delete(project.id)


@pytest.fixture
def studio_project(studio_ws: Workspace):
    """A uniquely titled project on the session's server, set up from the default schema (``annotate setup``)."""
    from treffpunkt.annotation.labelstudio.project import setup

    return setup(studio_ws).project


@pytest.fixture(autouse=True)
def _reset_workspace_override() -> Iterator[None]:
    """The root CLI's --home sets a process-wide override; never let one test's workspace leak into the next."""
    from treffpunkt.core import workspace as workspace_mod

    workspace_mod.use_home(None)
    yield
    workspace_mod.use_home(None)


def listening_hosts(port: int) -> set[str]:
    """Addresses with a socket LISTENing on ``port``, from /proc/net/tcp and tcp6 (what the kernel really bound)."""
    from pathlib import Path

    hosts = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if int(hex_port, 16) != port or fields[3] != "0A":  # 0A = LISTEN
                continue
            if len(address) == 8:
                hosts.add(".".join(str(b) for b in reversed(bytes.fromhex(address))))
            else:
                hosts.add("::" if int(address, 16) == 0 else address.lower())
    return hosts


@pytest.fixture
def http_log(monkeypatch) -> list[tuple[str, str]]:
    """Every HTTP request that reaches the wire (method, path), counted at httpx's transport, below any retry loop.

    Tests use it to check request counts themselves instead of trusting the code's own tally.
    """
    import httpx

    seen: list[tuple[str, str]] = []
    real = httpx.HTTPTransport.handle_request

    def counting(self, request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path))
        return real(self, request)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", counting)
    return seen


# --------------------------------------------------------------------------- a real browser (Debian's chromium)

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-extensions", "--no-first-run", "--mute-audio"]  # fmt: skip


def chromium_path() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        pytest.fail(
            "chromium is not installed: run `make system-deps` (Debian's chromium; Playwright's download is not used)."
        )
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()
