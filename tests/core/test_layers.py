"""The layer rule, checked on the source: core ← annotation ← training ← serve ← demo ← cli (← ``__main__``), no
cycles, no hidden imports.

Every module's imports are read with ``ast`` (nothing is imported). A module may import only its own layer or
lower ones; imports of our own modules sit at module level (inside functions only in ``treffpunkt.cli``, whose
commands load heavy code lazily); and the module-level import graph has no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: Source folder of each installed package (pyproject's package-dir mapping).
ROOTS = {
    "treffpunkt": REPO / "treffpunkt",
    "treffpunkt.annotation": REPO / "annotation",
    "treffpunkt.training": REPO / "training",
}
LAYERS = [
    "treffpunkt.core",
    "treffpunkt.annotation",
    "treffpunkt.training",
    "treffpunkt.serve",
    "treffpunkt.demo",
    "treffpunkt.cli",
    "treffpunkt.__main__",
]
LAZY_ALLOWED = ("treffpunkt.cli",)


def module_files() -> dict[str, Path]:
    found = {}
    for package, root in ROOTS.items():
        for path in root.rglob("*.py"):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            name = ".".join([package, *parts])
            if package == "treffpunkt" and len(parts) and parts[0] in ("annotation", "training"):
                continue
            found[name] = path
    return found


MODULES = module_files()


def layer(module: str) -> int | None:
    for i, prefix in enumerate(LAYERS):
        if module == prefix or module.startswith(prefix + "."):
            return i
    return None


def _own(name: str | None) -> bool:
    return bool(name) and (name == "treffpunkt" or name.startswith("treffpunkt."))


def imports_of(module: str, path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, module-level?) for each import of our own code, TYPE_CHECKING blocks excluded."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, int, bool]] = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                found.extend((a.name, child.lineno, top) for a in child.names if _own(a.name))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    base = ".".join(
                        package.split(".")[: len(package.split(".")) - child.level + 1] + ([base] if base else [])
                    )
                if _own(base):
                    for alias in child.names:
                        sub = f"{base}.{alias.name}"
                        found.append((sub if sub in MODULES else base, child.lineno, top))
            inner = top and not isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(child, inner)

    visit(tree, True)
    return found


def test_layers_every_module_has_a_layer():
    assert len(MODULES) > 40
    assert [
        m
        for m in MODULES
        if m != "treffpunkt" and layer(m) is None and not m.startswith(("treffpunkt.configs", "treffpunkt.corpus"))
    ] == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_layers_no_upward_import(module):
    mine = layer(module)
    if mine is None:
        return
    upward = [
        f"line {line}: {name}" for name, line, _ in imports_of(module, MODULES[module]) if (layer(name) or 0) > mine
    ]
    assert upward == [], f"{module} imports a higher layer ({' → '.join(LAYERS)})"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not m.startswith(LAZY_ALLOWED)))
def test_layers_own_imports_at_module_level(module):
    # a module importing itself inside a function (a Dask plugin reaching the worker's copy) is no hidden dependency
    hidden = [
        f"line {line}: {name}" for name, line, top in imports_of(module, MODULES[module]) if not top and name != module
    ]
    assert hidden == [], f"{module} imports our own modules inside functions; move them to the top"


def test_layers_no_import_cycles():
    graph = {m: {n for n, _, top in imports_of(m, p) if top and n in MODULES and n != m} for m, p in MODULES.items()}
    # a package's __init__ importing its children is not a cycle for this rule
    for m in graph:
        graph[m] = {n for n in graph[m] if not n.startswith(m + ".")}
    cycles, state = [], {}

    def walk(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" → ".join([*stack[stack.index(nxt) :], nxt]))
            elif nxt not in state:
                walk(nxt, [*stack, nxt])
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            walk(m, [m])
    assert cycles == []


def test_layers_checker_catches_violations(tmp_path):
    # The checker itself must fail on a bad module: an upward import inside a function of a core module.
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from treffpunkt.training.pipeline import components\n", encoding="utf-8")
    found = imports_of("treffpunkt.core.bad", bad)
    assert found == [("treffpunkt.training.pipeline.components", 2, False)]
    assert layer(found[0][0]) > layer("treffpunkt.core.bad")


def test_layers_cli_registers_every_command_module_explicitly():
    # One registration style: treffpunkt/cli/__init__.py imports every command module by name (no silent loop).
    init = (ROOTS["treffpunkt"] / "cli" / "__init__.py").read_text(encoding="utf-8")
    modules = sorted(p.stem for p in (ROOTS["treffpunkt"] / "cli").glob("*.py") if not p.stem.startswith("_"))
    assert "importlib" not in init
    for name in modules:
        assert f" {name}" in init.split("import", 2)[1] or f"{name}," in init, name


def test_layers_every_package_ships_in_the_wheel():
    """pyproject lists packages explicitly: a new sub-package missing there installs nowhere (the wheel breaks)."""
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = {m for m, path in MODULES.items() if path.name == "__init__.py"}
    assert found - listed == set()
