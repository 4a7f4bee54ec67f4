"""Generate docs/coverage.md from funcgrad's rule registry and dispatch tables.

    python scripts/gen_coverage.py           # rewrite docs/coverage.md
    python scripts/gen_coverage.py --check   # exit 1 if docs/coverage.md is stale

Sources, all read at import time of ``funcgrad.numpy``:

* ``funcgrad._rules.REGISTRY`` — every primitive, with its forward (jvp) and
  reverse (vjp) rules;
* ``funcgrad._prims._dispatch.UFUNCS`` / ``FUNCTIONS`` — which NumPy ufuncs and
  functions work on traced values through ``__array_ufunc__`` /
  ``__array_function__``;
* the public ``funcgrad.numpy`` namespaces;
* ``funcgrad.scipy`` when SciPy is installed: its primitives (named
  ``special.gammaln``, ...) get their own section, with the arguments each
  has no derivative in (``funcgrad.scipy._common.NOT_DIFFERENTIABLE``).

The *complex* column is measured, not declared: for every primitive that is a
NumPy ufunc with a complex loop, ``check_grads`` (both modes, order 1) is run
on complex inputs.  ``tests/test_coverage_table.py`` regenerates the page in
memory and fails when the committed file differs.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import warnings
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "coverage.md"

if importlib.util.find_spec("funcgrad") is None:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import funcgrad.numpy as fnp  # noqa: E402
from funcgrad._prims import _dispatch  # noqa: E402
from funcgrad._rules import REGISTRY, NoRules  # noqa: E402
from funcgrad._trace import Primitive  # noqa: E402
from funcgrad.testing import check_grads  # noqa: E402

#: funcgrad.scipy's submodules, imported when SciPy is installed (their primitives register on import)
SCIPY_MODULES = ("special", "stats", "signal", "linalg", "integrate")
#: SciPy's solvers with funcgrad's derivatives handed in (docs/fitting.md): not differentiable functions, not listed
SOLVERS = {"solve_ivp"}


def _scipy_modules() -> dict[str, ModuleType]:
    if importlib.util.find_spec("scipy") is None:
        return {}
    modules = {}
    for name in SCIPY_MODULES:
        if importlib.util.find_spec(f"funcgrad.scipy.{name}") is not None:
            modules[name] = importlib.import_module(f"funcgrad.scipy.{name}")
    return modules


SCIPY = _scipy_modules()

#: conventions worth a line in the table (primitive name -> note); see docs/sharp-bits.md
NOTES: dict[str, str] = {
    "absolute": "derivative `sign(x)`: 0 at `x = 0`",
    "sign": "zero derivative (piecewise constant)",
    "floor": "zero derivative (piecewise constant)",
    "ceil": "zero derivative (piecewise constant)",
    "round": "zero derivative (piecewise constant)",
    "rint": "zero derivative (piecewise constant)",
    "trunc": "zero derivative (piecewise constant)",
    "maximum": "ties: each side gets half",
    "minimum": "ties: each side gets half",
    "fmax": "ties: each side gets half",
    "fmin": "ties: each side gets half",
    "max": "ties: shared equally among the maximal elements",
    "min": "ties: shared equally among the minimal elements",
    "norm2": "2-norm / Frobenius norm; derivative taken as 0 at `x = 0`",
    "sqrt": "infinite derivative at 0 (and a RuntimeWarning)",
    "where": "no derivative through the condition; see the double-`where` idiom",
    "getitem": "indexing; repeated indices accumulate",
    "index_add": "`x.at[idx].add(v)`",
    "index_set": "`x.at[idx].set(v)`",
    "astype": "float -> int casts have zero derivative",
    "prod": "exact with zeros in the input",
    "lu_pivots": "the pivots of `funcgrad.scipy.linalg.lu_factor`: integers, zero derivative",
    "lu_permutation": "row order from LU pivots (`funcgrad.scipy.linalg.lu_solve`): integers, zero derivative",
}

_PROBE = {
    1: (np.array([0.3 + 0.4j, -0.7 + 0.2j]),),
    2: (np.array([0.3 + 0.4j, -0.7 + 0.2j]), np.array([0.5 - 0.6j, 0.9 + 0.1j])),
}


def _cell(text: str) -> str:
    """Make text safe inside a Markdown table cell."""
    return text.replace("|", "\\|")


def _rule_summary(rules: Any, batched: bool | None) -> str:
    """Describe a primitive's forward or reverse rules."""
    if rules is None:
        return "✗ none"
    if isinstance(rules, NoRules):
        return "0 (zero)"
    if not hasattr(rules, "__iter__") and hasattr(rules, "__getitem__"):  # variadic: every argument
        text = "✓ every argument"
    else:
        rules = tuple(rules)
        present = [i for i, rule in enumerate(rules) if rule is not None]
        if not present:
            return "0 (zero)"
        text = "✓" if len(present) == len(rules) else "✓ args " + ", ".join(map(str, present))
    if batched:
        text += ", batched"
    return text


def _batch_summary(prim: Primitive) -> str:
    """How ``vmap`` batches a primitive (``defbatch``): a word, an explicit rule, or the loop fallback."""
    rule = prim.batcher
    if rule is None or rule == "loop":
        return "loop over the batch (slow)"
    if rule == "data-dependent":
        return "refused: the output shape depends on the values (TypeError)"
    return rule if isinstance(rule, str) else str(getattr(rule, "coverage", "explicit rule"))


def _has_complex_loop(ufunc: np.ufunc) -> bool:
    return any("D" in t.split("->")[0] or "F" in t.split("->")[0] for t in ufunc.types)


def _probe_complex(ufunc: np.ufunc, prim: Primitive) -> str:
    """Measure whether a ufunc primitive's rules are right on complex inputs."""
    if not _has_complex_loop(ufunc):
        return "real only (NumPy)"
    if prim.vjps is not None and all(rule is None for rule in prim.vjps):
        return "0 (zero)"
    args = _PROBE.get(ufunc.nin)
    if args is None:
        return "·"
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            check_grads(lambda *a: ufunc(*a), args, order=1)
    except AssertionError:
        return "✗ disagrees with finite differences"
    except (TypeError, NotImplementedError, ValueError) as error:
        return f"✗ raises {type(error).__name__}"
    return "✓ checked"


def _is_scipy(name: str) -> bool:
    """Whether a primitive belongs to ``funcgrad.scipy`` (named ``<submodule>.<function>``)."""
    return name.split(".", 1)[0] in SCIPY_MODULES and "." in name


def _scipy_section() -> list[str]:
    """The funcgrad.scipy section: its primitives with both rule columns, and its public functions."""
    if not SCIPY:
        return []
    from funcgrad.scipy._common import NOT_DIFFERENTIABLE

    rows = []
    for name in sorted(n for n in REGISTRY if _is_scipy(n)):
        prim = REGISTRY[name]
        missing = NOT_DIFFERENTIABLE.get(name, [])
        note = "no derivative in " + ", ".join(f"`{a}`" for a in missing) + " (`TypeError`)" if missing else ""
        rows.append(
            [
                f"`{name}`",
                f"`scipy.{name}`",
                _rule_summary(prim.jvps, prim.batch_jvp if prim.jvps is not None else None),
                _rule_summary(prim.vjps, None),
                _batch_summary(prim),
                _cell(note),
            ]
        )
    names_lines = []
    for sub, module in SCIPY.items():
        public = [n for n in getattr(module, "__all__", ()) if n not in SOLVERS]
        exported = sorted(n for n in public if _is_public_function(getattr(module, n)))
        if exported:
            names_lines.append(f"* `funcgrad.scipy.{sub}` ({len(exported)}): " + ", ".join(f"`{n}`" for n in exported))
        distributions = sorted(n for n in public if n not in exported)
        if distributions:
            names_lines.append(f"* `funcgrad.scipy.{sub}` ({len(distributions)} distributions, with their methods):")
        names_lines += [f"  * `{n}`: " + ", ".join(f"`{m}`" for m in _methods(getattr(module, n))) for n in distributions]
    return [
        f"## funcgrad.scipy primitives ({len(rows)})",
        "",
        "SciPy's functions with derivatives (the `scipy` extra; see [SciPy](scipy.md)).  On plain",
        "values each is SciPy's own; the columns read as above.  A rule marked in *notes*",
        "raises a `TypeError` naming the argument, because SciPy has no function for that",
        "derivative.  Importing `funcgrad.scipy.special` also makes SciPy's own ufuncs",
        "(`scipy.special.gammaln(traced)`) dispatch to these primitives.",
        "",
        *_table(["primitive", "SciPy", "forward (jvp)", "reverse (vjp)", "vmap", "notes"], rows),
        "",
        "## funcgrad.scipy functions",
        "",
        "Primitives above, and compositions of primitives (`logsumexp`, `softmax`, the",
        "distributions of `stats`, listed with their methods), so they differentiate in every",
        "argument they can.",
        "",
        *names_lines,
        "",
    ]


def _is_public_function(obj: Any) -> bool:
    """A function (or primitive) rather than an object with methods, such as a ``stats`` distribution."""
    return callable(obj) and not _methods(obj)


def _methods(obj: Any) -> list[str]:
    """The public methods of a ``stats`` distribution (``pdf``, ``logpdf``, ...); none for a function."""
    if isinstance(obj, (Primitive, type)) or not hasattr(obj, "__dict__") or getattr(obj, "__module__", "") is None:
        return []
    kind = type(obj)
    if kind.__module__.startswith("builtins") or kind.__name__ == "function":
        return []
    return sorted(n for n in dir(kind) if not n.startswith("_") and callable(getattr(kind, n)))


def _ufunc_of(prim: Primitive) -> np.ufunc | None:
    for ufunc, p in _dispatch.UFUNCS.items():
        if p is prim:
            return ufunc
    return None


def _public_namespaces() -> dict[str, ModuleType]:
    spaces = {"fnp": fnp}
    for sub in ("linalg", "fft"):
        module = getattr(fnp, sub, None)
        if isinstance(module, ModuleType):
            spaces[f"fnp.{sub}"] = module
    return spaces


def _public_name(obj: Any, spaces: dict[str, ModuleType]) -> str:
    """``fnp.sum`` rather than ``funcgrad._prims._reductions.sum`` when the object is public."""
    for prefix, module in spaces.items():
        for name in sorted(getattr(module, "__all__", None) or dir(module)):
            if not name.startswith("_") and getattr(module, name, None) is obj:
                return f"`{prefix}.{name}`"
    where = getattr(obj, "__module__", "?")
    return f"`{where}.{getattr(obj, '__qualname__', repr(obj))}`"


def _ufunc_handler(handler: Any, spaces: dict[str, ModuleType]) -> str:
    if isinstance(handler, Primitive):
        return f"primitive `{handler.name}`"
    return f"{_public_name(handler, spaces)} (no derivative: plain result)"


def _numpy_name(func: Any) -> str:
    if isinstance(func, tuple):  # (ufunc, method)
        return f"`np.{func[0].__name__}.{func[1]}`"
    module = getattr(func, "__module__", None) or "numpy"
    module = module.replace("numpy.linalg._linalg", "numpy.linalg").replace("numpy.fft._pocketfft", "numpy.fft")
    prefix = "np." + module[len("numpy.") :] + "." if module.startswith("numpy.") else "np."
    if module.startswith("numpy._core") or module.startswith("numpy.core") or module.startswith("numpy.lib"):
        prefix = "np."
    return f"`{prefix}{getattr(func, '__name__', repr(func))}`"


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def render() -> str:
    """The full text of docs/coverage.md."""
    spaces = _public_namespaces()
    prim_rows = []
    for name in sorted(n for n in REGISTRY if not _is_scipy(n)):
        prim = REGISTRY[name]
        ufunc = _ufunc_of(prim)
        complex_ = _probe_complex(ufunc, prim) if ufunc is not None else "·"
        prim_rows.append(
            [
                f"`{name}`",
                _rule_summary(prim.jvps, prim.batch_jvp if prim.jvps is not None else None),
                _rule_summary(prim.vjps, None),
                _batch_summary(prim),
                complex_,
                _cell(NOTES.get(name, "")),
            ]
        )
    ufunc_rows = [
        [f"`np.{ufunc.__name__}`", _ufunc_handler(handler, spaces)]
        for ufunc, handler in sorted(_dispatch.UFUNCS.items(), key=lambda item: item[0].__name__)
        if not (isinstance(handler, Primitive) and _is_scipy(handler.name))
    ]
    function_rows = sorted(
        ([_numpy_name(func), _public_name(handler, spaces)] for func, handler in _dispatch.FUNCTIONS.items()),
        key=lambda row: row[0],
    )
    names_lines = []
    for prefix, module in spaces.items():
        exported = sorted(n for n in (getattr(module, "__all__", None) or dir(module)) if not n.startswith("_"))
        ours = [
            n
            for n in exported
            if callable(getattr(module, n))
            and not isinstance(getattr(module, n), type)
            and _is_ours(getattr(module, n))
        ]
        names_lines.append(f"* `{prefix}` ({len(ours)}): " + ", ".join(f"`{n}`" for n in ours))

    lines = [
        "# Coverage",
        "",
        "<!-- Generated by scripts/gen_coverage.py from the rule registry; do not edit by hand.",
        "     tests/test_coverage_table.py fails when this page is stale. -->",
        "",
        "What funcgrad can differentiate, generated from the rule registry",
        "(`funcgrad._rules.REGISTRY`) and the NumPy dispatch tables",
        "(`funcgrad/_prims/_dispatch.py`).  Regenerate with `python scripts/gen_coverage.py`.",
        "",
        "A NumPy function or ufunc that is not listed here raises a `TypeError` naming it",
        "when it meets a traced value (see [the error catalogue](errors.md)); it never",
        "returns a silently wrong derivative.",
        "",
        f"## Primitives ({len(prim_rows)})",
        "",
        "Every differentiable operation is built from these.  *forward*: the jvp rule",
        "(*batched*: all columns of `jacfwd`/`hessian` travel in one call);",
        "*reverse*: the vjp rule; `0` means the derivative is zero by definition.",
        "*vmap*: the batching rule (`elementwise`: NumPy broadcasting after aligning ranks; `leading`: the",
        "NumPy function maps over a leading batch axis as it is; an explicit rule; *refused* where each",
        "example's output shape depends on its values, as in JAX; or a Python loop over the batch, correct",
        "but slow).",
        "*complex* is measured for ufuncs with a complex loop by `check_grads` on complex",
        "inputs (`·`: not a ufunc, not measured here — see the primitive's tests).",
        "",
        *_table(["primitive", "forward (jvp)", "reverse (vjp)", "vmap", "complex", "notes"], prim_rows),
        "",
        f"## NumPy ufuncs on traced values ({len(ufunc_rows)})",
        "",
        "`np.<ufunc>(traced)` dispatches through `__array_ufunc__` to a primitive, or, for",
        "comparisons, predicates and integer ufuncs, to a function that returns a plain result.",
        "",
        *_table(["NumPy ufunc", "handled by"], ufunc_rows),
        "",
        f"## NumPy functions on traced values ({len(function_rows)})",
        "",
        "`np.<function>(traced, ...)` dispatches through `__array_function__` to the",
        "funcgrad function on the right.",
        "",
        *_table(["NumPy function", "handled by"], function_rows),
        "",
        "## funcgrad.numpy functions",
        "",
        "Functions defined by funcgrad (the rest of the namespace — constants, dtypes,",
        "`arange`, `zeros`, `linspace`, ... — is NumPy's own, re-exported).",
        "",
        *names_lines,
        "",
        *_scipy_section(),
    ]
    return "\n".join(lines)


def _is_ours(obj: Any) -> bool:
    module = getattr(obj, "__module__", "") or ""
    return module.startswith("funcgrad")


def main(argv: list[str] | None = None) -> int:
    """Write docs/coverage.md, or with ``--check`` report whether it is current."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/coverage.md is stale")
    options = parser.parse_args(argv)
    text = render()
    if options.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is stale: run python scripts/gen_coverage.py")
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
