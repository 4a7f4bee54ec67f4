"""The package's layers: each imports only its own layer (without circles) or lower ones.

``LAYERS`` is the one written order (docs/design.md draws the same, checked below);
``scripts/import_graph.py`` prints the graph, its circles and the function-local imports.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: the layers, bottom to top, each a name and the module prefixes it holds (the longest matching prefix wins)
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "ground",
        (
            "funcgrad.errors",
            "funcgrad._errors",
            "funcgrad._trace",
            "funcgrad._values",
            "funcgrad._protect",
            "funcgrad._rules",
            "funcgrad._sparsity",
            "funcgrad._backends",
            "funcgrad._dask",
            "funcgrad.tree",
        ),
    ),
    ("primitives", ("funcgrad._prims",)),
    (
        "transforms",
        (
            "funcgrad._reverse",
            "funcgrad._forward",
            "funcgrad._batching",
            "funcgrad._api",
            "funcgrad._hvp",
            "funcgrad._custom",
            "funcgrad._custom_vjp",
            "funcgrad._custom_jvp",
            "funcgrad._checkpoint",
            "funcgrad._program",
            "funcgrad._simplify",
            "funcgrad._rewrites",
            "funcgrad._loops",
            "funcgrad._fuse",
            "funcgrad._jit",
            "funcgrad._sparse_detect",
            "funcgrad._coloring",
            "funcgrad._sparse_api",
        ),
    ),
    ("surface", ("funcgrad.numpy", "funcgrad.scipy", "funcgrad.array_api")),
    ("top", ("funcgrad", "funcgrad.extend", "funcgrad.testing", "funcgrad.__main__")),
]

#: at most this many imports inside functions in the whole package, each with a ``# why`` comment on its line
LOCAL_IMPORT_BUDGET = 20


def _graph_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


graph_tool = _graph_tool()


def layer_of(module: str) -> int:
    return graph_tool.layer_of(module, LAYERS)  # type: ignore[no-any-return]


def test_every_module_has_a_layer() -> None:
    missing = []
    for module in graph_tool.modules(ROOT):
        try:
            layer_of(module)
        except KeyError:
            missing.append(module)
    assert not missing, f"modules in no layer: {missing}; add them to LAYERS in tests/test_layers.py (and docs/design.md)"


def test_no_import_circle() -> None:
    graph, _ = graph_tool.edges(graph_tool.modules(ROOT))
    assert graph_tool.circles(graph) == []


def test_no_module_imports_a_higher_layer() -> None:
    graph, _ = graph_tool.edges(graph_tool.modules(ROOT))
    assert graph_tool.upward(graph, LAYERS) == []


def _named_modules(source: str, known: set[str]) -> list[tuple[int, str]]:
    """``(line, module)`` for each string in ``source`` that names a funcgrad module to import it by name:
    a literal equal to a module's name (in a call or a table), or an f-string handed to ``import_module``
    whose fixed start is a package's name and a dot (``f"funcgrad.scipy.{name}"``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in known:
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.Call) and ast.unparse(node.func).endswith(("import_module", "__import__")):
            for argument in node.args[:1]:
                if isinstance(argument, ast.JoinedStr) and isinstance(argument.values[0], ast.Constant):
                    start = str(argument.values[0].value)
                    if start.endswith(".") and start[:-1] in known:
                        found.append((node.lineno, start[:-1]))
    return found


def test_no_module_names_a_higher_layer_to_import_it() -> None:
    """An import by name (``importlib.import_module("funcgrad.scipy.special")``, or a table of such names)
    is an import the graph cannot see: a lower layer must not name a higher layer's module at all (a higher
    layer hands the lower one a function instead, as funcgrad/__init__.py does for SciPy's ufunc rules)."""
    every = graph_tool.modules(ROOT)
    hidden = []
    for module, path in every.items():
        for line, named in _named_modules(path.read_text(encoding="utf-8"), set(every)):
            if layer_of(named) > layer_of(module):
                hidden.append(f"{module}:{line} names {named}")
    assert not hidden, f"lower layers naming higher ones (an upward import the graph cannot see): {hidden}"


def test_function_local_imports_are_few_and_say_why() -> None:
    _, local = graph_tool.edges(graph_tool.modules(ROOT))
    assert len(local) <= LOCAL_IMPORT_BUDGET, [f"{m}:{line}" for m, line, _, _ in local]
    silent = [f"{m}:{line}: {text}" for m, line, _, text in local if "# why:" not in text]
    assert not silent, f"function-local imports without a '# why: ...' comment on the line: {silent}"


_FRESH = """
import importlib, json, sys, types
root, names, stub = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3] == "stub"
if stub:  # the package's own __init__ imports every layer: stand in for it
    package = types.ModuleType("funcgrad")
    package.__path__ = [root + "/funcgrad"]
    sys.modules["funcgrad"] = package
sys.path.insert(0, root)
for name in names:
    importlib.import_module(name)
print(json.dumps(sorted(name for name in sys.modules if name == "funcgrad" or name.startswith("funcgrad."))))
"""


@pytest.mark.parametrize("index", range(len(LAYERS)), ids=[name for name, _ in LAYERS])
def test_a_layer_imported_alone_loads_no_higher_layer(index: int) -> None:
    """Each layer's modules, imported in a fresh interpreter, bring in only their own and lower layers."""
    names = [m for m in graph_tool.modules(ROOT) if layer_of(m) == index and m != "funcgrad.__main__"]
    stub = "stub" if index < len(LAYERS) - 1 else "real"
    done = subprocess.run(
        [sys.executable, "-c", _FRESH, str(ROOT), json.dumps(names), stub],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    higher = [m for m in loaded if m != "funcgrad" and layer_of(m) > index]
    assert not higher, f"importing the {LAYERS[index][0]} layer loaded higher layers' modules: {higher}"


def test_design_page_draws_the_same_order() -> None:
    page = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    drawn = re.findall(r"^\| (\d) \| ([a-z]+) \|", page, flags=re.MULTILINE)
    assert sorted((int(n), name) for n, name in drawn) == [(i + 1, name) for i, (name, _) in enumerate(LAYERS)]
