"""Writes the golden Label Studio exports in tests/data/<case>/ (export.json + label_config.xml).

The exports have the shape of Label Studio 1.x JSON exports (task and annotation fields as the server
writes them). Offsets are written the way the browser front end records them: UTF-16 units after emoji,
CRLF counted as one character, whitespace the annotator dragged in. Run it again after a schema change:
    .venv/bin/python tests/data/make_golden.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from treffpunkt.core.schema import load_schema

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
T0 = "2025-03-0{day}T{hour:02d}:15:00.000000Z"


def when(day: int, hour: int) -> str:
    return T0.format(day=day, hour=hour)


def span(text: str, needle: str, label: str, rid: str, *, nth: int = 0, control: str = "entities", pad: tuple[int, int] = (0, 0),
         utf16: bool = False, crlf_as_one: bool = False, value_text: str | None = None, delta: tuple[int, int] = (0, 0)) -> dict[str, Any]:
    """A ``labels`` result for the ``nth`` occurrence of ``needle``, in the coordinates the browser would use."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    start, end = start - pad[0], start + len(needle) + pad[1]
    shown = text[start:end]
    if utf16 or crlf_as_one:
        def conv(offset: int) -> int:
            before = text[:offset]
            if crlf_as_one:
                before = before.replace("\r\n", "\n")
            return len(before.encode("utf-16-le")) // 2 if utf16 else len(before)
        start, end = conv(start), conv(end)
    if crlf_as_one:
        shown = shown.replace("\r\n", "\n")
    return {
        "value": {"start": start + delta[0], "end": end + delta[1], "text": shown if value_text is None else value_text, "labels": [label]},
        "id": rid,
        "from_name": control,
        "to_name": "text",
        "type": "labels",
        "origin": "manual",
    }


def event(text: str, needle: str, label: str, rid: str, **kw: Any) -> dict[str, Any]:
    return span(text, needle, label, rid, control="events", **kw)


def rel(from_id: str, to_id: str, *labels: str, direction: str = "right") -> dict[str, Any]:
    return {"from_id": from_id, "to_id": to_id, "type": "relation", "direction": direction, "labels": list(labels)}


def annotation(aid: int, task_id: int, result: list[dict[str, Any]], *, user: Any = 1, day: int = 3, hour: int = 10,
               cancelled: bool = False, ground_truth: bool = False) -> dict[str, Any]:
    stamp = when(day, hour)
    return {
        "id": aid,
        "completed_by": user,
        "result": result,
        "was_cancelled": cancelled,
        "ground_truth": ground_truth,
        "created_at": stamp,
        "updated_at": stamp,
        "draft_created_at": None,
        "lead_time": 42.7,
        "prediction": {},
        "result_count": 0,
        "unique_id": f"6f1c2a3e-0000-4000-8000-{aid:012d}",
        "import_id": None,
        "last_action": None,
        "bulk_created": False,
        "task": task_id,
        "project": 1,
        "updated_by": user if isinstance(user, int) else user["id"],
        "parent_prediction": None,
        "parent_annotation": None,
        "last_created_by": None,
    }


def task(tid: int, text: str, annotations: list[dict[str, Any]], *, cluster: str | None = None, title: str = "Treffen") -> dict[str, Any]:
    article_id = f"a{tid:04d}"
    return {
        "id": tid,
        "annotations": annotations,
        "file_upload": None,
        "drafts": [],
        "predictions": [],
        "data": {
            "text": text,
            "title": title,
            "article_id": article_id,
            "cluster": cluster or article_id,
            "source": "golden",
            "url": f"https://example.org/{article_id}",
            "published": "2025-03-01",
        },
        "meta": {},
        "created_at": when(1, 9),
        "updated_at": when(3, 12),
        "inner_id": tid,
        "total_annotations": sum(not a["was_cancelled"] for a in annotations),
        "cancelled_annotations": sum(a["was_cancelled"] for a in annotations),
        "total_predictions": 0,
        "comment_count": 0,
        "unresolved_comment_count": 0,
        "last_comment_updated_at": None,
        "project": 1,
        "updated_by": 1,
        "comment_authors": [],
    }


def cases() -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}

    t = "Stoltenberg 😀 traf Lawrow in Baku 🇦🇿 zum Gespräch."
    out["emoji_offsets"] = [task(1, t, [annotation(11, 1, [
        span(t, "Stoltenberg", "PER", "e-per1"),
        span(t, "Lawrow", "PER", "e-per2", utf16=True),
        span(t, "Baku", "GPE", "e-gpe", utf16=True),
        event(t, "Gespräch", "CONSULT", "e-ev", utf16=True),
    ])])]

    t = "Schoigu reiste nach Minsk.\r\nDort empfing ihn Lukaschenko.\r\n\r\nDas Treffen dauerte zwei Stunden."
    out["crlf_text"] = [task(2, t, [annotation(21, 2, [
        span(t, "Schoigu", "PER", "c-per1", crlf_as_one=True),
        span(t, "Minsk", "GPE", "c-gpe", crlf_as_one=True),
        span(t, "Lukaschenko", "PER", "c-per2", crlf_as_one=True),
        event(t, "Treffen", "CONSULT_VISIT", "c-ev", crlf_as_one=True),
        event(t, "empfing", "CONSULT_VISIT", "c-ev2", crlf_as_one=True),
    ])])]

    t = "Am Freitag telefonierte Scholz mit Putin. Der Kreml bestätigte das Gespräch."
    out["whitespace"] = [task(3, t, [annotation(31, 3, [
        span(t, "Freitag", "DATE", "w-date", pad=(3, 0)),  # "Am Freitag" dragged from the start: kept with "Am"
        span(t, "Scholz", "PER", "w-per1", pad=(1, 1)),  # " Scholz "
        span(t, "Putin", "PER", "w-per2", pad=(0, 0), value_text="Putin"),
        span(t, "Kreml", "ORG", "w-org", pad=(1, 1)),
        span(t, "mit", "PER", "w-blank", pad=(1, -3)),  # only the space before "mit"
        span(t, "Gespräch", "CONSULT_PHONE", "w-bad", value_text="Telefonat"),  # value.text does not match
    ])])]

    t = "Im Verteidigungsministerium in Moskau trafen sich die Generalstabschefs zum Gespräch."
    out["overlapping_entities"] = [task(4, t, [annotation(41, 4, [
        span(t, "Moskau", "GPE", "o-gpe"),
        span(t, "Verteidigungsministerium in Moskau", "ORG", "o-org-long"),
        span(t, "Verteidigungsministerium", "ORG", "o-org"),
        span(t, "Generalstabschefs", "ROLE", "o-role"),
        span(t, "Generalstabschefs", "ROLE", "o-role-dupe"),
        event(t, "trafen sich", "CONSULT", "o-ev"),
        event(t, "Verteidigungsministerium in Moskau", "CONSULT_VISIT", "o-ev-over"),  # events may overlap entities
    ])]), task(13, t2 := "Der Präsident der Ukraine Selenskyj reiste nach Washington.", [annotation(131, 13, [
        span(t2, "der Ukraine", "GPE", "o2-gpe"),  # starts first, shorter
        span(t2, "Ukraine Selenskyj", "PER", "o2-per"),  # starts later, longer
        span(t2, "Washington", "GPE", "o2-wash"),
    ])])]

    t = "Nato-Generalsekretär Rutte besuchte Kiew."
    out["inside_token"] = [task(5, t, [annotation(51, 5, [
        span(t, "Nato", "ORG", "i-org"),  # inside the token "Nato-Generalsekretär"
        span(t, "Rutte", "PER", "i-per"),
        span(t, "Kie", "GPE", "i-gpe"),  # stops inside "Kiew"
        event(t, "besuchte", "CONSULT_VISIT", "i-ev"),
    ])])]

    t = "Die EU lud Erdoğan zu einem Gipfel nach Brüssel ein."
    out["unknown_labels"] = [task(6, t, [annotation(61, 6, [
        span(t, "EU", "ORG", "u-org"),
        span(t, "Erdoğan", "PERSON", "u-person"),  # label of an older schema
        span(t, "Brüssel", "CITY", "u-city"),
        event(t, "lud", "MEET_INTENT", "u-ev"),
        event(t, "Gipfel", "SUMMIT", "u-ev-old"),
        {"value": {"choices": ["relevant"]}, "id": "u-choice", "from_name": "relevance", "to_name": "text", "type": "choices", "origin": "manual"},
        rel("u-ev", "u-org", "initiator"),
        rel("u-ev", "u-person", "addressee"),  # its end has an unknown label
    ])])]

    t = "Macron telefonierte mit Selenskyj."
    t2 = "Baerbock besuchte Peking."
    t3 = "Keine Annotation hier."
    out["cancelled"] = [
        task(7, t, [annotation(71, 7, [span(t, "Macron", "PER", "x-per")], cancelled=True)]),
        task(8, t2, [
            annotation(81, 8, [span(t2, "Baerbock", "PER", "y-per"), span(t2, "Peking", "GPE", "y-gpe")], day=3),
            annotation(82, 8, [], day=4, cancelled=True, user=2),  # newer but skipped
        ]),
        task(9, t3, []),
    ]

    t = "Biden empfing Scholz im Weißen Haus."
    out["multiple_annotators"] = [task(10, t, [
        annotation(101, 10, [span(t, "Biden", "PER", "m1-per1"), span(t, "Scholz", "PER", "m1-per2")], user=1, day=3),
        annotation(102, 10, [span(t, "Biden", "PER", "m2-per1"), span(t, "Scholz", "PER", "m2-per2"), span(t, "Weißen Haus", "LOC", "m2-loc"),
                             event(t, "empfing", "CONSULT_VISIT", "m2-ev")],
                   user={"id": 2, "email": "anna@example.org", "first_name": "Anna", "last_name": "B"}, day=5),
        annotation(103, 10, [span(t, "Biden", "ORG", "m3-org")], user=3, day=4),
    ])]

    t = ("Am Dienstag telefonierte Putin mit Erdoğan über die Lage. Ein Treffen in Istanbul ist geplant. "
         "Die Präsidenten wollen sich treffen.")
    out["relations"] = [task(11, t, [annotation(111, 11, [
        span(t, "Dienstag", "DATE", "r-date"),
        span(t, "Putin", "PER", "r-putin"),
        span(t, "Erdoğan", "PER", "r-erdogan"),
        span(t, "Istanbul", "GPE", "r-ist"),
        span(t, "Präsidenten", "ROLE", "r-role", value_text="Präsident"),  # mismatch: rejected
        event(t, "telefonierte", "CONSULT_PHONE", "r-call"),
        event(t, "Treffen", "MEET_INTENT", "r-meet"),
        event(t, "geplant", "MEET_INTENT", "r-plan"),
        event(t, "treffen", "MEET_INTENT", "r-meet2"),
        rel("r-call", "r-putin", "participant"),
        rel("r-erdogan", "r-call", "participant"),  # drawn entity → event: normalised
        rel("r-date", "r-call", "time", direction="left"),  # drawn backwards but pointing event → entity
        rel("r-meet", "r-ist", "location"),
        rel("r-putin", "r-erdogan", "participant"),  # entity → entity: rejected
        rel("r-meet2", "r-role", "participant"),  # end rejected: rejected
        rel("r-meet", "r-putin", "sponsor"),  # role not in schema
        rel("r-meet", "r-erdogan"),  # no role label
        rel("r-meet", "r-gone", "participant"),  # end missing
    ])])]

    t = "Lawrow traf Wang Yi in Peking."
    out["ground_truth"] = [task(12, t, [
        annotation(121, 12, [span(t, "Lawrow", "PER", "g1-per1"), span(t, "Wang Yi", "PER", "g1-per2"), span(t, "Peking", "GPE", "g1-gpe")],
                   user=1, day=3, ground_truth=True),
        annotation(122, 12, [span(t, "Lawrow", "PER", "g2-per1")], user=2, day=6),
    ])]
    return out


def main() -> None:
    config = load_schema(REPO / "configs" / "schema.yaml").label_config()
    for name, tasks in cases().items():
        folder = HERE / name
        folder.mkdir(exist_ok=True)
        (folder / "export.json").write_text(json.dumps(tasks, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        (folder / "label_config.xml").write_text(config, encoding="utf-8")


if __name__ == "__main__":
    main()
