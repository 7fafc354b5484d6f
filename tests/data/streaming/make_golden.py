"""Builds tests/data/streaming/export.json (deterministic) and expected_splits.json: the splits, counts and Doc
fingerprints the converter gave before it streamed (run from the repository root at commit c06fb10)."""
import hashlib, json, random, sys
from pathlib import Path
sys.path.insert(0, ".")
from treffpunkt.annotation.convert.docs import convert_export, load_convert_options
from treffpunkt.core.schema import load_schema
import spacy
from spacy.tokens import DocBin

def fingerprint(doc):
    """What a Doc holds, as text: tokens, entities, span groups, user data."""
    return hashlib.sha256(json.dumps({"words": [t.text for t in doc], "sent_starts": [t.is_sent_start for t in doc],
                       "ents": [(e.start, e.end, e.label_) for e in doc.ents],
                       "spans": {k: [(s.start, s.end, s.label_) for s in g] for k, g in sorted(doc.spans.items())},
                       "user_data": doc.user_data}, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def report_digest(report):
    """The report's records (spans, relations, annotations, skipped tasks) in order, hashed."""
    data = report.to_json()
    return hashlib.sha256(json.dumps({k: data[k] for k in ("spans", "relations", "annotations", "skipped_tasks")},
                                     sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


rng = random.Random(7)
SENTS = ["Lawrow traf Wang Yi in Peking.", "Merkel sprach am Montag in Berlin mit Macron.",
         "Die NATO beriet in Brüssel über die Lage.", "Putin empfing Erdoğan in Sotschi.",
         "Scholz reiste nach Washington.", "In Paris trafen sich die Außenminister."]
WORDS = {"Lawrow": "PER", "Wang Yi": "PER", "Peking": "GPE", "Merkel": "PER", "Berlin": "GPE", "Macron": "PER",
         "NATO": "ORG", "Brüssel": "GPE", "Putin": "PER", "Erdoğan": "PER", "Sotschi": "GPE", "Scholz": "PER",
         "Washington": "GPE", "Paris": "GPE"}
tasks = []
ann = 5000
for tid in range(1, 121):
    text = " ".join(rng.sample(SENTS, rng.randint(1, 3)))
    results = []
    for j, (w, lab) in enumerate(WORDS.items()):
        at = text.find(w)
        if at >= 0:
            results.append({"value": {"start": at, "end": at + len(w), "text": w, "labels": [lab]}, "id": f"t{tid}r{j}",
                            "from_name": "entities", "to_name": "text", "type": "labels", "origin": "manual"})
    for k in ("traf", "sprach", "beriet", "empfing", "reiste", "trafen"):
        at = text.find(k)
        if at >= 0:
            results.append({"value": {"start": at, "end": at + len(k), "text": k, "labels": ["CONSULT"]}, "id": f"t{tid}e{k}",
                            "from_name": "events", "to_name": "text", "type": "labels", "origin": "manual"})
    annotations = []
    for a in range(rng.choice([0, 1, 1, 1, 2, 3])):
        ann += 1
        annotations.append({"id": ann, "completed_by": rng.randint(1, 4), "result": results[: len(results) - a],
                            "was_cancelled": rng.random() < 0.1, "ground_truth": rng.random() < 0.2,
                            "created_at": f"2025-03-0{1 + a}T10:00:00.000000Z", "updated_at": f"2025-03-0{1 + a}T10:00:00.000000Z"})
    data = {"text": text, "article_id": f"a{tid}" if rng.random() < 0.8 else "", "title": text[:20], "source": "golden"}
    c = rng.random()
    if c < 0.6:
        data["cluster"] = f"c{rng.randint(1, 25)}"
    tasks.append({"id": tid, "data": data, "annotations": annotations, "predictions": []})
Path("tests/data/streaming").mkdir(exist_ok=True)
Path("tests/data/streaming/export.json").write_text("[\n" + ",\n".join(json.dumps(t, ensure_ascii=False) for t in tasks) + "\n]\n", encoding="utf-8")

schema = load_schema(Path("configs/schema.yaml"))
nlp = spacy.blank(schema.language)
expected = {}
for all_annotators in (False, True):
    out = Path(f"/tmp/golden-old-{all_annotators}")
    res = convert_export(Path("tests/data/streaming/export.json"), schema=schema, out_dir=out, options=load_convert_options(), all_annotators=all_annotators)
    splits = {}
    fingerprints = {}
    for name in ("train", "dev", "test"):
        db = DocBin().from_disk(out / f"{name}.spacy")
        docs = list(db.get_docs(nlp.vocab))
        splits[name] = sorted([d.user_data["meta"]["task_id"], d.user_data["meta"]["annotation_id"]] for d in docs)
        for d in docs:
            meta = d.user_data["meta"]
            fingerprints[f"{meta['task_id']}/{meta['annotation_id']}"] = fingerprint(d)
    expected["all_annotators" if all_annotators else "default"] = {"splits": splits, "counts": res.counts, "groups": res.report.split_groups,
        "spans": dict(res.report.outcome_counts("spans")), "skipped": len(res.report.skipped_tasks), "docs": fingerprints,
        "report_records": report_digest(res.report)}
    print(all_annotators, res.counts, res.report.split_groups, dict(res.report.outcome_counts("spans")), len(res.report.skipped_tasks))
Path("tests/data/streaming/expected_splits.json").write_text(json.dumps(expected, indent=None) + "\n", encoding="utf-8")
