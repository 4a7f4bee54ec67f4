"""Registry-wide: jit recorded at one input and replayed at inputs in other regions equals the eager call, bit for bit.

Every case of tests/test_surface.py's TABLE (which between them call every
differentiable primitive of ``funcgrad._rules.REGISTRY``; the last test
checks that) is jitted three ways — the function, its gradient, its JVP —
recorded at the table's arguments, and replayed at the same arguments
negated, zeroed, made all equal (ties), and shifted.  A replay must give
exactly what a fresh recording (the eager traced call) gives at those
inputs: any value read while recording that is not a recorded operation or
a guard shows up here as a stale replay.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import first_case_of_each, outcome
from scipy_cases import SCIPY
from test_surface import TABLE, _scalar_loss

import funcgrad as fg
import funcgrad.numpy as fnp

ROOT = Path(__file__).resolve().parent.parent


def _variants(args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """The arguments in other regions: negated, zeros, ties (every element the first one), shifted."""

    def each(change: Callable[[Any], Any]) -> tuple[Any, ...]:
        out = []
        for a in args:
            value = np.asarray(a)
            changed = np.asarray(change(value), value.dtype) if value.dtype.kind in "fc" else value
            out.append(changed if isinstance(a, np.ndarray) else changed[()])
        return tuple(out)

    return [
        each(np.negative),
        each(np.zeros_like),
        each(lambda v: np.full_like(v, v.flat[0]) if v.size else v),
        each(lambda v: v + 1.5),
    ]


def _modes(fn: Callable[..., Any], nargs: int) -> dict[str, Callable[..., Any]]:
    plain = lambda *a: fn(fnp, *a)  # noqa: E731
    argnums = tuple(range(nargs))
    return {
        "value": plain,
        "grad": fg.grad(_scalar_loss(plain), argnums=argnums),
        "jvp": lambda *a: fg.jvp(
            plain, a, tuple(np.cos(np.arange(np.size(x))).reshape(np.shape(x)).astype(np.result_type(x)) for x in a)
        ),
    }


def _assert_same(got: Any, want: Any, where: str) -> None:
    if isinstance(want, type) or isinstance(got, type):
        assert got == want, f"{where}: {got} != {want}"
        return
    assert len(got) == len(want), where
    for g, w in zip(got, want):
        assert type(g) is type(w), f"{where}: {type(g)} != {type(w)}"
        g_arr, w_arr = np.asarray(g), np.asarray(w)
        assert g_arr.dtype == w_arr.dtype and g_arr.shape == w_arr.shape, where
        assert np.array_equal(g_arr, w_arr, equal_nan=w_arr.dtype.kind in "fc"), f"{where}: {g_arr} != {w_arr}"
        if w_arr.dtype.kind in "fc":  # zeros of either sign compare equal; their signs must agree too
            for part in ((np.real, np.imag) if w_arr.dtype.kind == "c" else (np.real,)):
                g_part, w_part = part(g_arr), part(w_arr)
                zero = w_part == 0
                assert np.array_equal(np.signbit(g_part[zero]), np.signbit(w_part[zero])), f"{where}: signed zeros"


_RNG = np.random.default_rng(13)
#: primitives no TABLE case reaches
EXTRA = [
    ("copysign", lambda ns, x, y: ns.copysign(x, y), (_RNG.uniform(-2, 2, 3), _RNG.uniform(-2, 2, 3)), ""),
    ("degrees", lambda ns, x: ns.degrees(x), (_RNG.uniform(-2, 2, 3),), ""),
    ("radians", lambda ns, x: ns.radians(x), (_RNG.uniform(-90, 90, 3),), ""),
    ("ldexp", lambda ns, x: ns.ldexp(x, np.array([1, -2, 3])), (_RNG.uniform(-2, 2, 3),), ""),
    ("nextafter", lambda ns, x, y: ns.nextafter(x, y), (_RNG.uniform(-2, 2, 3), _RNG.uniform(-2, 2, 3)), ""),
    ("positive", lambda ns, x: ns.positive(x), (_RNG.uniform(-2, 2, 3),), ""),
    ("spacing", lambda ns, x: ns.spacing(x) * x, (_RNG.uniform(-2, 2, 3),), ""),
    # NumPy's vector gufuncs, their own loops
    ("vecdot", lambda ns, x, y: ns.vecdot(x, y), (_RNG.uniform(-2, 2, (2, 3)), _RNG.uniform(-2, 2, 3)), ""),
    ("matvec", lambda ns, x, y: ns.matvec(x, y), (_RNG.uniform(-2, 2, (2, 3)), _RNG.uniform(-2, 2, 3)), ""),
    ("vecmat", lambda ns, x, y: ns.vecmat(x, y), (_RNG.uniform(-2, 2, 2), _RNG.uniform(-2, 2, (2, 3))), ""),
    ("dot", lambda ns, x, y: ns.dot(x, y), (_RNG.uniform(-2, 2, (2, 1)) + 1j, _RNG.uniform(-2, 2, (1, 3)) - 2j), ""),
    # ``*`` of complex NumPy scalars (a reduction, an element) is the operator's scalar math
    ("multiply_operator", lambda ns, x: ns.sum(x) * x[0] * (0.5 - 1j), (_RNG.uniform(-2, 2, 3) + 1j * _RNG.uniform(-2, 2, 3),), ""),
    # the Hessian's batch of tangents, zeroed where logaddexp's rule masks it and scaled, is one masked_scale
    ("masked_scale", lambda ns, x: fg.hessian(lambda v: ns.sum(ns.logaddexp(0.0, v) * v))(x), (_RNG.uniform(-2, 2, 3),), ""),
    ("slogdet_complex_sign", lambda ns, x: ns.linalg.slogdet(ns.outer(x, x) * (1 + 0.5j) + 2.0 * ns.eye(3))[0], (_RNG.uniform(-2, 2, 3),), ""),
    ("sum_where", lambda ns, x: ns.mean(ns.sin(x), where=[True, False, True]) + ns.sum(x * x, where=x > 0), (_RNG.uniform(-2, 2, 3),), ""),
]
ALL = TABLE + EXTRA + SCIPY


DEFAULT = first_case_of_each(name for name, *_ in ALL)  # the rest of the table runs with -m slow


def _marks(name: str) -> list[Any]:
    return [] if name in DEFAULT else [pytest.mark.slow]


CASES = [
    pytest.param(fn, args, mode, id=f"{name}-{mode}", marks=_marks(name))
    for name, fn, args, _ in ALL
    for mode in ("value", "grad", "jvp")
]


@pytest.mark.parametrize(("fn", "args", "mode"), CASES)
def test_replay_in_other_regions_equals_eager(fn: Callable[..., Any], args: tuple[Any, ...], mode: str) -> None:
    fun = _modes(fn, len(args))[mode]
    jitted = fg.jit(fun)
    recorded = outcome(jitted, *args)
    if isinstance(recorded, type):
        pytest.skip(f"the function raises {recorded.__name__} at the table's arguments")
    _assert_same(outcome(jitted, *args), recorded, "replay at the recorded arguments")
    for k, variant in enumerate(_variants(args)):
        eager = outcome(fg.jit(fun), *variant)  # a fresh recording: the eager traced call
        _assert_same(outcome(jitted, *variant), eager, f"variant {k}")


def _primitives_of(fn: Callable[..., Any], args: tuple[Any, ...]) -> set[str]:
    names: set[str] = set()
    for fun in _modes(fn, len(args)).values():
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                program = fg.make_program(fun)(*args)
        except Exception:  # noqa: BLE001, S112  (a mode the case does not support: its other modes count)
            continue
        names.update(eqn.prim.name for eqn in program.eqns)
    return names


def _registered(modules: tuple[str, ...] = (), differentiable: bool = True) -> set[str]:
    """The primitives of funcgrad.numpy, or those importing ``modules`` adds to them (only the differentiable ones
    unless told), read in a fresh interpreter (other tests register their own)."""
    keep = "p.vjps is None or any(r is not None for r in p.vjps)" if differentiable else "True"
    code = (
        "import importlib, funcgrad.numpy; from funcgrad._rules import REGISTRY; "
        f"modules = {modules!r}; before = set(REGISTRY) if modules else set(); "
        "[importlib.import_module(m) for m in modules]; "
        f"print(' '.join(n for n, p in REGISTRY.items() if n not in before and ({keep})))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def _seen(cases: list[Any]) -> set[str]:
    seen: set[str] = set()
    for _, fn, args, _ in cases:
        seen |= _primitives_of(fn, args)
    return seen


def test_the_table_reaches_every_primitive() -> None:
    missing = _registered() - _seen(TABLE + EXTRA)
    assert not missing, f"differentiable primitives no jit case exercises: {sorted(missing)}; add a case to EXTRA"


def test_the_scipy_cases_reach_every_scipy_primitive() -> None:
    pytest.importorskip("scipy", reason="funcgrad.scipy needs the scipy extra")
    scipy = _registered(tuple(f"funcgrad.scipy.{m}" for m in ("special", "linalg", "signal")), differentiable=False)
    missing = scipy - _seen(SCIPY)
    assert not missing, f"funcgrad.scipy primitives no jit case exercises: {sorted(missing)}; add a case to SCIPY"
