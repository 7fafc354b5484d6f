"""Pure parts of the team commands: the assignment plan, the label changes, review decisions."""

from __future__ import annotations

import pytest

from treffpunkt.annotation.agreement.measure import Span
from treffpunkt.annotation.team.assign import TaskState, plan
from treffpunkt.annotation.team.migrate import apply, parse_changes
from treffpunkt.annotation.team.review import decide
from treffpunkt.core.errors import InputError

PEOPLE = ["a@x.org", "b@x.org", "c@x.org"]


def test_plan_balanced_deterministic_and_keeps_finished_work() -> None:
    tasks = [TaskState(i, (), frozenset({"c@x.org"} if i == 3 else set())) for i in range(1, 10)]
    first, kept = plan(tasks, PEOPLE, 2)
    loads = {p: sum(p in v for v in first.values()) for p in PEOPLE}
    assert loads == {"a@x.org": 6, "b@x.org": 6, "c@x.org": 6} and kept == 1 and "c@x.org" in first[3]
    again, _ = plan([TaskState(t.id, tuple(first[t.id]), t.finished) for t in tasks], PEOPLE, 2)
    assert again == first


def test_plan_never_reassigns_finished_work_of_someone_removed() -> None:
    tasks = [TaskState(1, ("a@x.org", "b@x.org"), frozenset({"a@x.org"})), TaskState(2, ("a@x.org",), frozenset())]
    out, kept = plan(tasks, ["b@x.org", "c@x.org"], 2)
    assert out[1] == ["a@x.org", "b@x.org"] and kept == 1 and out[2] == ["b@x.org", "c@x.org"]


@pytest.mark.parametrize(
    ("renames", "merges", "drops"),
    [(["A"], [], []), ([], ["A=B"], []), (["A=B"], [], ["A"]), (["A=B", "B=C"], [], []), ([], [], [])],
)
def test_parse_changes_refuses_bad_input(renames, merges, drops) -> None:
    with pytest.raises(InputError):
        parse_changes(renames, merges, drops)


def test_apply_maps_labels_and_drops_regions_with_their_relations() -> None:
    mapping, _ = parse_changes(["LOC=PLACE"], ["X,Y=Z"], ["DATE"])
    result = [
        {"id": "1", "type": "labels", "value": {"labels": ["LOC"]}},
        {"id": "2", "type": "labels", "value": {"labels": ["DATE"]}},
        {"id": "3", "type": "labels", "value": {"labels": ["X"]}},
        {"type": "relation", "from_id": "3", "to_id": "2", "labels": ["time"]},
        {"type": "relation", "from_id": "3", "to_id": "1", "labels": ["location"]},
    ]
    out, hits = apply(result, mapping)
    assert [r.get("value", {}).get("labels") or r["labels"] for r in out] == [["PLACE"], ["Z"], ["location"]]
    assert hits == {"LOC": 1, "DATE": 1, "X": 1} and result[0]["value"]["labels"] == ["LOC"]  # input untouched


def test_review_decide_kept_changed_dropped() -> None:
    mine = [
        Span(0, 6, "PER", "entities", "Scholz"),
        Span(7, 11, "ORG", "entities", "traf"),
        Span(20, 25, "LOC", "entities", "Paris"),
    ]
    review = [Span(0, 6, "PER", "entities", "Scholz"), Span(20, 25, "GPE", "entities", "Paris")]
    kept, changed, dropped = decide(mine, review)
    assert [s["text"] for s in kept] == ["Scholz"] and [s["text"] for s in dropped] == ["traf"]
    assert changed[0]["became"][0]["label"] == "GPE"
