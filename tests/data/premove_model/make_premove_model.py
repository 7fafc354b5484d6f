import io, sys
import importlib.metadata as md
import catalogue
# hide the installed (post-move) treffpunkt entry points: this script runs the pre-move code
_all = md.entry_points()
catalogue.AVAILABLE_ENTRY_POINTS = md.EntryPoints(e for g in _all.values() for e in g if not e.value.startswith("treffpunkt.")) if isinstance(_all, dict) else md.EntryPoints(e for e in _all if not e.value.startswith("treffpunkt."))
from pathlib import Path
sys.path.insert(0, "/tmp/old")
import annotation, training  # the pre-move top-level packages
import training.components  # registers the factories before spaCy consults entry points
assert annotation.__file__.startswith("/tmp/old"), annotation.__file__
from annotation.convert import convert_export
from annotation.schema import load_schema
from annotation.workspace import init_workspace
from training.train import train
ws = init_workspace(Path("/tmp/premove/ws"), force=True)
schema = load_schema(ws.schema_path)
conv = convert_export(Path("/tmp/old/corpus/gold/seeds.json"), schema=schema, out_dir=Path("/tmp/premove/data"))
res = train(ws, config="fast", data=Path("/tmp/premove/data"), name="premove", seed=0,
            overrides={"training.max_steps": 20, "training.eval_frequency": 10}, track=False, stdout=io.StringIO())
print(res.path, res.dev_scores.get("ents_f"))
