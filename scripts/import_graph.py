"""funcgrad's import graph: the layers, the circles and the imports placed inside functions.

Run from the repository root: ``python scripts/import_graph.py`` (``-v`` also lists every edge).
Counts a function-local import as an edge, so a circle closed only at call time shows.
The layer order is written once, in tests/test_layers.py (which checks it); docs/design.md draws it.
"""

from __future__ import annotations

import ast
import collections
import importlib.util
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

Layers = list[tuple[str, tuple[str, ...]]]


def load_layers() -> Layers:
    """The layer order, as tests/test_layers.py writes it (the one place it is written)."""
    spec = importlib.util.spec_from_file_location("test_layers", ROOT / "tests" / "test_layers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.LAYERS  # type: ignore[no-any-return]


def layer_of(module: str, layers: Layers) -> int:
    """The index of ``module``'s layer in ``layers`` (the longest matching prefix wins)."""
    best, found = -1, -1
    for index, (_, prefixes) in enumerate(layers):
        for prefix in prefixes:
            # a package's own name ("funcgrad") names it alone; a dotted one takes its submodules too
            inside = "." in prefix and module.startswith(prefix + ".")
            if (module == prefix or inside) and len(prefix) > best:
                best, found = len(prefix), index
    if found < 0:
        raise KeyError(f"{module} is in no layer: add it to LAYERS in tests/test_layers.py")
    return found


def modules(root: pathlib.Path = ROOT) -> dict[str, pathlib.Path]:
    out = {}
    for path in sorted((root / "funcgrad").rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _top_level_nodes(tree: ast.Module) -> set[ast.AST]:
    """Statements run at import time: the module body and what ``if``/``try`` blocks there hold."""
    seen: set[ast.AST] = set()
    for node in tree.body:
        seen.add(node)
        if isinstance(node, (ast.If, ast.Try)):
            seen.update(ast.walk(node))
    return seen


def edges(mods: dict[str, pathlib.Path]) -> tuple[dict[str, set[str]], list[tuple[str, int, str, str]]]:
    """Every module's funcgrad imports (top-level and local), and the local ones as (module, line, target, text)."""
    graph: dict[str, set[str]] = collections.defaultdict(set)
    local = []
    for name, path in mods.items():
        source = path.read_text()
        tree = ast.parse(source)
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        top = _top_level_nodes(tree)
        lines = source.splitlines()
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(parts + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            targets = [t for t in targets if t == "funcgrad" or t.startswith("funcgrad.")]
            if isinstance(node, ast.ImportFrom) and node.module and _type_checking_only(tree, node):
                continue
            resolved = set()
            for target in targets:
                while target not in mods and "." in target:
                    target = target.rsplit(".", 1)[0]
                if target != name:
                    graph[name].add(target)
                    resolved.add(target)
            if node not in top and resolved:
                local.append((name, node.lineno, ",".join(sorted(resolved)), lines[node.lineno - 1].strip()))
    return graph, local


def _type_checking_only(tree: ast.Module, node: ast.AST) -> bool:
    for block in tree.body:
        if isinstance(block, ast.If) and ast.unparse(block.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            if node in set(ast.walk(block)) and node not in set(n for b in block.orelse for n in ast.walk(b)):
                return True
    return False


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def upward(graph: dict[str, set[str]], layers: Layers) -> list[tuple[str, str]]:
    """Imports from a lower layer into a higher one."""
    bad = []
    for source, targets in sorted(graph.items()):
        for target in sorted(targets):
            if layer_of(target, layers) > layer_of(source, layers):
                bad.append((source, target))
    return bad


def main(argv: list[str]) -> int:
    layers = load_layers()
    mods = modules()
    graph, local = edges(mods)
    print(f"modules: {len(mods)}")
    for index, (label, _) in enumerate(layers):
        members = sorted(m for m in mods if layer_of(m, layers) == index)
        print(f"layer {index + 1} {label}: {len(members)} modules")
        if "-v" in argv:
            for m in members:
                print(f"    {m} -> {', '.join(sorted(graph.get(m, ())))}")
    found = circles(graph)
    print(f"import circles: {len(found)}")
    for component in found:
        print(f"  {len(component)} modules: {' '.join(component)}")
    bad = upward(graph, layers)
    print(f"upward imports (a lower layer importing a higher one): {len(bad)}")
    for source, target in bad:
        print(f"  {source} -> {target}")
    print(f"function-local imports: {len(local)}")
    for name, line, _target, text in local:
        print(f"  {mods[name].relative_to(ROOT)}:{line}: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
