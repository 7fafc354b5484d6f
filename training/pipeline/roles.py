"""Actor roles: which entities of an event sentence play which role (participant, host, addressee, ...).

A model version predicts events as sentence spans (``doc.spans["events"]``) and entities (``doc.ents``).
Roles link the two. Two assigners share one interface (``assign(doc, event) -> [(entity, role)]``):

* :class:`RoleModel` — a scikit-learn classifier over (event sentence, entity) pairs, learned from the gold
  relations in the DocBins (``doc.user_data["relations"]``). Candidates are the entities inside the event
  sentence; the class ``"none"`` means "no role in this event". Features: event label/type/mode, entity label,
  order among the sentence's entities, the words around the entity, and its position, token distance and the
  words between it and the event's trigger word. At prediction time there is no trigger span, so the trigger is
  found the same way in training and prediction: the first token of the sentence seen as part of a gold trigger
  for that label in the training data (the *trigger lexicon*).
* :class:`HeuristicRoles` — the fallback when no relations were annotated, configured in ``configs/roles.yaml``:
  time labels → ``time``; location labels after a location cue word ("in Brüssel") → ``location``; other actor
  labels in sentence order: the first gets ``first``, the rest get ``rest`` of the rule for the event's schema
  ``mode`` (if any), else its ``type``, else ``default``. Entities with none of those labels get no role.

``train_roles`` writes ``roles.joblib`` into a model version directory; ``load_roles`` reads it back.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import PrivateAttr, field_validator, model_validator

from treffpunkt.core.config import StrictConfig, load_config
from treffpunkt.core.errors import ConfigError, TreffpunktError
from treffpunkt.core.io import atomic_open, write_json
from treffpunkt.core.metrics import prf
from treffpunkt.core.schema import Schema

ROLES_FILE = "roles.joblib"
ROLES_META = "roles.json"
NONE = "none"
FORMAT_VERSION = 2  # 2: the schema travels with the classifier


class RolesError(TreffpunktError):
    """Roles cannot be trained or loaded."""


# ---------------------------------------------------------------------------------------------- configuration
class RoleRule(StrictConfig):
    first: str
    rest: str


class RecordRoles(StrictConfig):
    actors: list[str]
    recipients: list[str]
    location: list[str]
    time: list[str]


class HeuristicConfig(StrictConfig):
    time_labels: list[str] = []
    location_labels: list[str] = []
    location_cues: list[str] = []
    actor_labels: list[str] = []
    default: RoleRule
    by_type: dict[str, RoleRule] = {}
    by_mode: dict[str, RoleRule] = {}

    @field_validator("location_cues")
    @classmethod
    def _lower_cues(cls, cues: list[str]) -> list[str]:
        return [c.lower() for c in cues]  # compared with the lower-cased word before a place


class ArticleConfig(StrictConfig):
    """What a record takes from the rest of its article (training/pipeline/records.py); empty lists turn it off."""

    dateline_labels: list[str] = []
    dateline_modes: list[str] = []
    participation_types: list[str] = []
    session_of: list[str] = []
    participation: list[str] = []
    meeting_words: list[str] = []
    participation_window: int = 3
    bilateral: list[str] = []
    bilateral_from: list[str] = []
    side_labels: list[str] = []
    third_location_label: str | None = None
    visit_label: str | None = None


class RolesConfig(StrictConfig):
    record: RecordRoles
    heuristic: HeuristicConfig
    article: ArticleConfig = ArticleConfig()
    _ignored: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _roles_known(self) -> RolesConfig:
        roles = {*self.record.actors, *self.record.recipients, *self.record.location, *self.record.time}
        rules = [self.heuristic.default, *self.heuristic.by_type.values(), *self.heuristic.by_mode.values()]
        roles |= {name for rule in rules for name in (rule.first, rule.rest)}
        if NONE in roles:
            raise ValueError(f"{NONE!r} is reserved for 'no role'")
        return self

    def check(self, schema: Schema) -> RolesConfig:
        """This config fitted to ``schema``: the heuristic keeps only the schema's entity labels.

        Labels the schema lacks are dropped (listed in :attr:`ignored_labels`, so commands can say so once);
        a :class:`ConfigError` remains for what cannot work: role names missing from a schema that has relations,
        or a heuristic left without any actor label.
        """
        h = self.heuristic
        known = set(schema.entity_labels)
        ignored = sorted({*h.time_labels, *h.location_labels, *h.actor_labels} - known)
        rules = [h.default, *h.by_type.values(), *h.by_mode.values()]
        roles = {*self.record.actors, *self.record.recipients, *self.record.location, *self.record.time}
        roles |= {name for rule in rules for name in (rule.first, rule.rest)}
        unknown_roles = sorted(roles - set(schema.relation_labels)) if schema.relations else []
        actors = [label for label in h.actor_labels if label in known]
        if unknown_roles or not actors:
            raise ConfigError(
                f"roles.yaml does not fit the schema: roles missing from it {unknown_roles}, "
                f"actor labels {h.actor_labels} of which the schema has {actors} (labels it lacks: {ignored}).",
                hint="Make configs/roles.yaml use the entity and relation names of configs/schema.yaml.",
            )
        fitted = h.model_copy(update={
            "time_labels": [x for x in h.time_labels if x in known],
            "location_labels": [x for x in h.location_labels if x in known],
            "actor_labels": actors,
        })  # fmt: skip
        article = self.article.model_copy(
            update={
                "dateline_labels": [x for x in self.article.dateline_labels if x in known],
                "side_labels": [x for x in self.article.side_labels if x in known],
            }
        )
        config = self.model_copy(update={"heuristic": fitted, "article": article})
        config._ignored = ignored
        return config

    @property
    def ignored_labels(self) -> list[str]:
        """Labels roles.yaml names that the schema lacks (dropped by :meth:`check`)."""
        return list(self._ignored)


def roles_apply(schema: Schema) -> bool:
    """Actor roles exist only for event schemas: a schema without events trains and evaluates without them."""
    return bool(schema.events)


def load_roles_config(path: Path, schema: Schema | None = None) -> RolesConfig:
    """Read and validate ``roles.yaml`` (and check it against ``schema`` when given)."""
    config = load_config(Path(path), RolesConfig, what="Roles config")
    return config.check(schema) if schema is not None else config


# ---------------------------------------------------------------------------------------------- shared pieces
class RoleAssigner(Protocol):
    kind: str

    def assign(self, doc: Any, event: Any) -> list[tuple[Any, str]]: ...

    def assign_doc(self, doc: Any, events: Sequence[Any]) -> list[list[tuple[Any, str]]]: ...


def candidates(doc: Any, event: Any, ents: Sequence[Any] | None = None) -> list[Any]:
    """The entities an event sentence can have roles for: those inside the sentence, in text order.

    ``ents``: ``doc.ents`` fetched once by the caller (each ``doc.ents`` access builds new Span objects).
    """
    return [ent for ent in (doc.ents if ents is None else ents) if ent.start >= event.start and ent.end <= event.end]


@dataclass(frozen=True)
class RolePair:
    """One (event, entity, role) assignment, keyed by character offsets."""

    event_label: str
    event_start: int  # the event sentence
    event_end: int
    arg_start: int
    arg_end: int
    arg_label: str
    role: str


def pairs_for_doc(doc: Any, assigner: RoleAssigner, events: Iterable[Any] | None = None) -> list[RolePair]:
    """Role pairs an assigner gives for the doc's events (predicted ``doc.spans["events"]`` by default)."""
    events = events if events is not None else (doc.spans.get("events", []))
    return [
        RolePair(ev.label_, ev.start_char, ev.end_char, ent.start_char, ent.end_char, ent.label_, role)
        for ev in events
        for ent, role in assigner.assign(doc, ev)
    ]


# ---------------------------------------------------------------------------------------------- heuristic
def is_place(ent: Any, h: HeuristicConfig) -> bool:
    """A location label right after a cue word ("in Brüssel"), or one that can name no actor, is the place."""
    before = ent.doc[ent.start - 1].lower_ if ent.start > 0 else ""
    return ent.label_ in h.location_labels and (before in h.location_cues or ent.label_ not in h.actor_labels)


@dataclass
class HeuristicRoles:
    """The documented fallback (module docstring); configured by ``roles.yaml``'s ``heuristic`` section."""

    config: HeuristicConfig
    schema: Schema
    kind: str = "heuristic"

    def assign_doc(self, doc: Any, events: Sequence[Any]) -> list[list[tuple[Any, str]]]:
        ents = tuple(doc.ents)
        return [self.assign(doc, event, ents) for event in events]

    def assign(self, doc: Any, event: Any, ents: Sequence[Any] | None = None) -> list[tuple[Any, str]]:
        h = self.config
        spec = self.schema.event(event.label_) if event.label_ in self.schema.event_labels else None
        rule = (spec and spec.mode and h.by_mode.get(spec.mode)) or (spec and h.by_type.get(spec.type)) or h.default
        out: list[tuple[Any, str]] = []
        actors = 0
        for ent in candidates(doc, event, ents):
            if ent.label_ in h.time_labels:
                out.append((ent, "time"))
            elif is_place(ent, h):
                out.append((ent, "location"))
            elif ent.label_ in h.actor_labels:
                out.append((ent, rule.first if actors == 0 else rule.rest))
                actors += 1
        return out


# ---------------------------------------------------------------------------------------------- classifier
def _bucket(n: int) -> str:
    return str(n) if n < 4 else ("4-7" if n < 8 else "8+")


def _trigger(doc: Any, event: Any, lexicon: dict[str, set[str]]) -> int | None:
    words = lexicon.get(event.label_, set())
    for token in doc[event.start : event.end]:
        if token.lower_ in words:
            return token.i
    return None


def pair_features(
    doc: Any, event: Any, ent: Any, index: int, ents: Sequence[Any], schema: Schema, lexicon: dict[str, set[str]]
) -> dict[str, Any]:
    """Features of one (event sentence, entity) pair."""
    spec = schema.event(event.label_) if event.label_ in schema.event_labels else None
    same_label_before = sum(1 for other in ents[:index] if other.label_ == ent.label_)
    prev1 = doc[ent.start - 1].lower_ if ent.start > event.start else "<s>"
    prev2 = doc[ent.start - 2].lower_ if ent.start - 1 > event.start else "<s>"
    nxt = doc[ent.end].lower_ if ent.end < event.end else "</s>"
    feats: dict[str, Any] = {
        "ent": ent.label_,
        "event": event.label_,
        "type": spec.type if spec else "?",
        "mode": (spec.mode or "-") if spec else "?",
        "ent|event": f"{ent.label_}|{event.label_}",
        "ent|mode": f"{ent.label_}|{spec.mode if spec else '?'}",
        "index": _bucket(index),
        "ent|index": f"{ent.label_}|{_bucket(same_label_before)}",
        "from_end": _bucket(len(ents) - index - 1),
        "prev": prev1,
        "prev2": f"{prev2} {prev1}",
        "ent|prev": f"{ent.label_}|{prev1}",
        "next": nxt,
        "rel_pos": str(int(4 * (ent.start - event.start) / max(1, len(event)))),
    }
    trig = _trigger(doc, event, lexicon)
    if trig is None:
        feats["trigger"] = "none"
    else:
        side = "before" if ent.end <= trig else ("after" if ent.start > trig else "inside")
        distance = ent.start - trig - 1 if side == "after" else trig - ent.end
        feats.update(
            {
                "trigger": doc[trig].lower_,
                "side": side,
                "ent|side": f"{ent.label_}|{side}",
                "event|side": f"{event.label_}|{side}",
                "distance": _bucket(max(distance, 0)),
            }
        )
        lo, hi = (ent.end, trig) if side == "before" else (trig + 1, ent.start)
        for token in doc[lo:hi]:
            if token.is_alpha:
                feats[f"between={token.lower_}"] = 1
    return feats


@dataclass
class RoleModel:
    """The trained classifier; ``assign`` gives the roles of one event sentence's entities."""

    schema: Schema
    vectorizer: Any
    classifier: Any
    lexicon: dict[str, set[str]]
    report: dict[str, Any] = field(default_factory=dict)
    kind: str = "classifier"

    def assign(self, doc: Any, event: Any) -> list[tuple[Any, str]]:
        return self.assign_doc(doc, [event])[0]

    def assign_doc(self, doc: Any, events: Sequence[Any]) -> list[list[tuple[Any, str]]]:
        """Roles for all events of a doc in one vectorised call (per-call sklearn overhead dominates otherwise)."""
        import numpy

        all_ents = tuple(doc.ents)
        per_event = [candidates(doc, event, all_ents) for event in events]
        rows = [
            pair_features(doc, event, ent, i, ents, self.schema, self.lexicon)
            for event, ents in zip(events, per_event, strict=False)
            for i, ent in enumerate(ents)
        ]
        if not rows:
            return [[] for _ in events]
        # the linear decision function directly: same result as classifier.predict without its input checks
        scores = self.vectorizer.transform(rows) @ self.classifier.coef_.T + self.classifier.intercept_
        classes = self.classifier.classes_
        picks = (scores[:, 0] > 0).astype(int) if len(classes) == 2 else numpy.asarray(scores).argmax(axis=1)
        labels = iter(classes[picks])
        return [[(ent, str(label)) for ent in ents if (label := next(labels)) != NONE] for ents in per_event]


def gold_events(doc: Any) -> list[Any]:
    """The gold event sentences of a converted doc (``doc.spans["events"]``, else derived from the relations)."""
    if "events" in doc.spans and len(doc.spans["events"]):
        return list(doc.spans["events"])
    # no sentence-level gold: derive it from the relations' trigger spans
    out, seen = [], set()
    for rel in doc.user_data.get("relations", []):
        token = doc.char_span(rel["event"][0], rel["event"][1], alignment_mode="expand")
        if token is None:
            continue
        sent = token.sent
        key = (sent.start, sent.end, rel["event_label"])
        if key not in seen:
            seen.add(key)
            out.append(_label_span(doc, sent, rel["event_label"]))
    return out


def _label_span(doc: Any, sent: Any, label: str) -> Any:
    from spacy.tokens import Span as SpacySpan

    return SpacySpan(doc, sent.start, sent.end, label=label)


def gold_pairs(doc: Any) -> list[RolePair]:
    """The gold relations of a converted doc, keyed by the event's sentence (deduplicated)."""
    out: dict[tuple, RolePair] = {}
    for rel in doc.user_data.get("relations", []):
        trig = doc.char_span(rel["event"][0], rel["event"][1], alignment_mode="expand")
        if trig is None:
            continue
        sent = trig.sent
        pair = RolePair(
            rel["event_label"],
            sent.start_char,
            sent.end_char,
            rel["arg"][0],
            rel["arg"][1],
            rel.get("arg_label", ""),
            rel["role"],
        )
        out.setdefault((pair.event_label, pair.event_start, pair.arg_start, pair.arg_end, pair.role), pair)
    return list(out.values())


def training_pairs(
    docs: Iterable[Any], schema: Schema, lexicon: dict[str, set[str]]
) -> tuple[list[dict], list[str], dict[str, Any]]:
    """Feature rows, labels and a report (how many gold relations no candidate pair could reach, and why)."""
    rows: list[dict] = []
    labels: list[str] = []
    reached, unreachable = 0, []
    for doc in docs:
        gold = defaultdict(list)
        for pair in gold_pairs(doc):
            gold[(pair.event_label, pair.event_start, pair.arg_start, pair.arg_end)].append(pair.role)
        used = set()
        for event in gold_events(doc):
            ents = candidates(doc, event)
            for i, ent in enumerate(ents):
                key = (event.label_, event.start_char, ent.start_char, ent.end_char)
                roles = gold.get(key, [])
                rows.append(pair_features(doc, event, ent, i, ents, schema, lexicon))
                labels.append(roles[0] if roles else NONE)
                if roles:
                    used.add(key)
        for key, roles in gold.items():
            if key in used:
                reached += 1
            else:
                unreachable.append(
                    {
                        "article_id": doc.user_data.get("meta", {}).get("article_id"),
                        "event_label": key[0],
                        "arg": [key[2], key[3]],
                        "roles": roles,
                        "reason": "argument is not an entity of doc.ents inside the event sentence",
                    }
                )
    return rows, labels, {"pairs": len(rows), "relations_reached": reached, "relations_unreachable": unreachable}


def trigger_lexicon(docs: Iterable[Any]) -> dict[str, set[str]]:
    """Lower-cased words of the gold trigger spans, per event label."""
    lexicon: dict[str, set[str]] = defaultdict(set)
    for doc in docs:
        spans = list(doc.spans["event_triggers"]) if "event_triggers" in doc.spans else []
        spans += [
            s
            for rel in doc.user_data.get("relations", [])
            if (s := doc.char_span(rel["event"][0], rel["event"][1], label=rel["event_label"], alignment_mode="expand"))
        ]
        for span in spans:
            lexicon[span.label_].update(t.lower_ for t in span if t.is_alpha)
    return dict(lexicon)


def fit_roles(docs: Sequence[Any], schema: Schema, *, c: float = 1.0) -> RoleModel:
    """Train the role classifier on converted gold docs; :class:`RolesError` when they hold no relations."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    docs = list(docs)
    lexicon = trigger_lexicon(docs)
    rows, labels, report = training_pairs(docs, schema, lexicon)
    roles = Counter(labels)
    if len([r for r in roles if r != NONE]) < 1 or len(roles) < 2:
        raise RolesError(
            f"The training docs hold no usable relations ({dict(roles)} over {len(docs)} docs).",
            hint="Annotate relations from events to entities in Label Studio, or rely on the heuristic (configs/roles.yaml).",
        )
    vectorizer = DictVectorizer()
    x = vectorizer.fit_transform(rows)
    classifier = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    classifier.fit(x, labels)
    report["label_counts"] = dict(sorted(roles.items()))
    return RoleModel(schema, vectorizer, classifier, lexicon, report)


# ---------------------------------------------------------------------------------------------- persistence
@dataclass
class RoleTrainResult:
    kind: str  # classifier | heuristic
    path: Path | None
    report: dict[str, Any]


def train_roles(train_docs: Sequence[Any], out_dir: Path, schema: Schema) -> RoleTrainResult:
    """Fit the classifier and save it into a model version dir; without relations, record that the heuristic applies."""
    import joblib

    out_dir = Path(out_dir)
    try:
        model = fit_roles(train_docs, schema)
    except RolesError as err:
        meta = {"kind": "heuristic", "reason": err.message, "format": FORMAT_VERSION}
        write_json(out_dir / ROLES_META, meta)
        (out_dir / ROLES_FILE).unlink(missing_ok=True)
        return RoleTrainResult("heuristic", None, meta)
    payload = {
        "format": FORMAT_VERSION,
        "vectorizer": model.vectorizer,
        "classifier": model.classifier,
        "lexicon": {k: sorted(v) for k, v in model.lexicon.items()},
        "schema_hash": schema.hash,
        "schema": schema.model_dump(mode="json"),
    }

    with atomic_open(out_dir / ROLES_FILE, "wb") as handle:
        joblib.dump(payload, handle)
    meta = {
        "kind": "classifier",
        "format": FORMAT_VERSION,
        "schema_hash": schema.hash,
        "trained": dt.datetime.now(dt.UTC).isoformat(),
        "classes": [str(c) for c in model.classifier.classes_],
        **dict(model.report.items()),
    }
    write_json(out_dir / ROLES_META, meta)
    return RoleTrainResult("classifier", out_dir / ROLES_FILE, meta)


def load_roles(version_dir: Path) -> RoleModel | None:
    """The trained role classifier of a model version, or None when it has none (use the heuristic).

    Features use the schema saved with the classifier (the one it was trained with).
    """
    import joblib

    path = Path(version_dir) / ROLES_FILE
    if not path.exists():
        return None
    payload = joblib.load(path)  # our own artefact inside the model version (pickle: load only trusted models)
    if payload.get("format") != FORMAT_VERSION:
        raise RolesError(
            f"{path} has role-model format {payload.get('format')}, this treffpunkt reads {FORMAT_VERSION}.",
            hint="Retrain the model version with this treffpunkt.",
        )
    lexicon = {k: set(v) for k, v in payload["lexicon"].items()}
    return RoleModel(Schema.model_validate(payload["schema"]), payload["vectorizer"], payload["classifier"], lexicon)


def role_assigner(version_dir: Path | None, schema: Schema, config: RolesConfig) -> RoleAssigner:
    """The version's classifier if it has one, else the configured heuristic."""
    model = load_roles(version_dir) if version_dir is not None else None
    return model if model is not None else HeuristicRoles(config.heuristic, schema)


# ---------------------------------------------------------------------------------------------- scoring
def _as_pair(item: RolePair | dict[str, Any]) -> list[RolePair]:
    if isinstance(item, RolePair):
        return [item]
    # an event record (training/records.py)
    ev = item["evidence"]
    args = [*item.get("actors", []), *item.get("recipients", [])]
    args += [a for a in (item.get("location"), item.get("date")) if a and a.get("start") is not None]
    return [
        RolePair(item["label"], ev["start"], ev["end"], a["start"], a["end"], a.get("label", ""), a["role"])
        for a in args
        if a.get("role")
    ]


def match_role_pairs(
    gold: Sequence[RolePair], predicted: Iterable[RolePair]
) -> tuple[list[RolePair], list[RolePair], list[RolePair]]:
    """Match predicted role pairs to gold one to one: (matched predictions, unmatched predictions, missed gold).

    Duplicate predictions count once. A prediction matches a gold relation with the same event label, argument
    offsets and role whose trigger lies in the predicted event sentence.
    """
    preds = list(
        {(p.event_label, p.event_start, p.event_end, p.arg_start, p.arg_end, p.role): p for p in predicted}.values()
    )
    free = list(gold)
    matched: list[RolePair] = []
    unmatched: list[RolePair] = []
    for p in preds:
        match = next(
            (
                g
                for g in free
                if (g.event_label, g.arg_start, g.arg_end, g.role) == (p.event_label, p.arg_start, p.arg_end, p.role)
                and p.event_start < g.event_end
                and g.event_start < p.event_end
            ),
            None,
        )
        if match is None:
            unmatched.append(p)
        else:
            matched.append(p)
            free.remove(match)
    return matched, unmatched, free


def score_roles(gold_docs: Sequence[Any], predicted: Sequence[Iterable[RolePair | dict[str, Any]]]) -> dict[str, Any]:
    """Role-level precision, recall and F1 (per role and micro-averaged).

    ``predicted[i]`` holds the role pairs (or event records) for ``gold_docs[i]``. A prediction matches a gold
    relation with the same event label, argument offsets and role whose trigger lies in the predicted event
    sentence (matched one to one).
    """
    tp: Counter = Counter()
    n_gold: Counter = Counter()
    n_pred: Counter = Counter()
    for doc, items in zip(gold_docs, predicted, strict=True):
        matched, unmatched, missed = match_role_pairs(gold_pairs(doc), [p for item in items for p in _as_pair(item)])
        tp.update(p.role for p in matched)
        n_pred.update(p.role for p in (*matched, *unmatched))
        n_gold.update(g.role for g in (*matched, *missed))
    roles = sorted(set(n_gold) | set(n_pred))
    per_role = {r: _prf(tp[r], n_pred[r], n_gold[r]) for r in roles}
    return {"micro": _prf(sum(tp.values()), sum(n_pred.values()), sum(n_gold.values())), "per_role": per_role}


def _prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float | int]:
    scores = {k: round(v, 4) for k, v in prf(tp, n_pred - tp, n_gold - tp).items()}
    return {**scores, "tp": tp, "n_pred": n_pred, "n_gold": n_gold}


def set_predicted_relations(doc: Any, assigner: RoleAssigner | None) -> Any:
    """``doc.user_data["relations"]`` (the DocBin format) from the roles ``assigner`` gives the predicted events.

    Label Studio pre-annotations and the ML backend send these as event→actor relations.
    """
    events = list(doc.spans.get("events", [])) if assigner is not None else []
    assigned = assigner.assign_doc(doc, events) if events else []
    doc.user_data["relations"] = [
        {
            "event": [event.start_char, event.end_char],
            "event_label": event.label_,
            "arg": [ent.start_char, ent.end_char],
            "arg_label": ent.label_,
            "role": role,
        }
        for event, pairs in zip(events, assigned, strict=True)
        for ent, role in pairs
    ]
    return doc
