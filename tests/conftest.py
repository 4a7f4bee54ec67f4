"""Helpers the tests share: random arrays, pytree comparison, running a function for its outcome, the
cases a table runs by default, and the tapes a test leaves behind.  Test modules import them
(``from conftest import rnd``); fixtures are found by pytest."""

from __future__ import annotations

import gc
import os
import threading
import warnings
import weakref
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._jit import GuardMiss
from funcgrad._reverse import ReverseTrace
from funcgrad.testing import check_grads
from funcgrad.tree import tree_flatten, tree_map


def R(*shape: int, dtype: Any = np.float64, seed: int = 0) -> Any:
    """A reproducible random array of ``shape`` (complex dtypes get a random imaginary part); a scalar for ``()``."""
    rng = np.random.default_rng([seed, len(shape), *shape])
    out = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        out = out + 1j * rng.standard_normal(shape)
    out = out.astype(dtype)
    return out if shape else out[()]


#: the running test's id and its generator (``rnd``)
_DRAWS: dict[str, np.random.Generator] = {}


def rnd(*shape: int, dtype: Any = np.float64) -> Any:
    """A random array of ``shape`` (complex dtypes get a random imaginary part), new numbers at each call.

    The draws are seeded by the running test's id, so a test sees the same numbers whichever tests ran
    before it (``R`` gives the same array for the same shape and seed, anywhere)."""
    test = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
    if test not in _DRAWS:
        _DRAWS.clear()
        _DRAWS[test] = np.random.default_rng(zlib.crc32(test.encode()))
    draws = _DRAWS[test]
    out = draws.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        out = out + 1j * draws.standard_normal(shape)
    return np.asarray(out, dtype)


def same_leaves(got: Any, expected: Any) -> None:
    """Pytrees with leaves of the same shapes and dtypes and values within 1e-6."""
    got_leaves, _ = tree_flatten(got)
    exp_leaves, _ = tree_flatten(expected)
    assert len(got_leaves) == len(exp_leaves)
    for g, e in zip(got_leaves, exp_leaves):
        assert np.shape(g) == np.shape(e)
        assert np.result_type(g) == np.result_type(e), (np.result_type(g), np.result_type(e))
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-6)


@pytest.fixture
def reverse_traces(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[weakref.ref[ReverseTrace]]]:
    """Weak references to every reverse trace the test makes, with the garbage collector off meanwhile
    (so a tape freed only by the collector, through a reference cycle, still shows as alive)."""
    traces: list[weakref.ref[ReverseTrace]] = []
    original = ReverseTrace.__init__

    def init(self: ReverseTrace, level: int, *rest: Any) -> None:
        original(self, level, *rest)
        traces.append(weakref.ref(self))

    monkeypatch.setattr(ReverseTrace, "__init__", init)
    gc.disable()
    try:
        yield traces
    finally:
        gc.enable()


def in_threads(work: Callable[[], Any], count: int) -> None:
    """``work`` run in ``count`` threads at once, all joined."""
    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def same_bits(got: Any, want: Any, where: str = "") -> None:
    """Equal leaves of one type, dtype and shape, byte for byte (signed zeros and NaN payloads included)."""
    got_leaves, want_leaves = fg.tree.tree_leaves(got), fg.tree.tree_leaves(want)
    assert len(got_leaves) == len(want_leaves), where
    for g, w in zip(got_leaves, want_leaves):
        assert type(g) is type(w), (where, type(g), type(w))
        g, w = np.asarray(g), np.asarray(w)
        assert (g.dtype, g.shape) == (w.dtype, w.shape), (where, g.dtype, g.shape, w.dtype, w.shape)
        assert g.tobytes() == w.tobytes(), (where, g, w)


def combo_check(fun: Any, *args: Any, order: int = 2, jac: bool = True) -> None:
    """``fun(m, *args)`` for a namespace ``m``: values on traced arguments (through funcgrad.numpy and through
    NumPy's dispatch) equal NumPy's; ``check_grads`` in both modes to ``order``; for real arguments (and
    ``jac``) the batched forward Jacobian equals the reverse one."""
    expected = fun(np, *args)
    tangents = tuple(np.ones_like(a) for a in args)
    for m in (fnp, np):
        same_leaves(fg.jvp(lambda *a: fun(m, *a), args, tangents)[0], expected)
        same_leaves(fg.vjp(lambda *a: fun(m, *a), *args)[0], expected)
    check_grads(lambda *a: tree_map(lambda y: y * y, fun(fnp, *a)), args, order=order, modes=("fwd", "rev"))
    if jac and all(np.result_type(a).kind == "f" for a in args):
        argnums = tuple(range(len(args)))
        forward = fg.jacfwd(lambda *a: fun(np, *a), argnums=argnums)(*args)
        reverse = fg.jacrev(lambda *a: fun(np, *a), argnums=argnums)(*args)
        tree_map(lambda f, r: np.testing.assert_allclose(f, r, rtol=1e-6, atol=1e-6), forward, reverse)


def traced_value(fun: Callable[..., Any], *args: Any) -> Any:
    """``fun(*args)`` evaluated on traced arguments (the primal out of ``jvp``)."""
    return fg.jvp(fun, args, tuple(np.ones_like(a) for a in args))[0]


def loop(fun: Callable[..., Any], *batched: Any) -> Any:
    """``fun`` applied example by example along the leading axes, results stacked: what ``vmap`` must give."""
    return np.stack([fun(*parts) for parts in zip(*batched)])


def outcome(fun: Callable[..., Any], *args: Any) -> Any:
    """``fun(*args)``'s leaves, ``("miss", index)`` for a replay's guard that disagrees, or the type of the
    exception it raised (compared, not hidden: the sides compared must raise the same), warnings silenced."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fg.tree.tree_flatten(fun(*args))[0]
    except GuardMiss as miss:
        return ("miss", miss.index)
    except Exception as error:  # noqa: BLE001
        return type(error)


def first_case_of_each(
    names: Iterable[str], family: Callable[[str], str] = lambda name: name.split("-")[0]
) -> set[str]:
    """The first case name of each family (by default the function before the first ``-``): a table's
    default run, the rest running with ``-m slow``."""
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(family(name), name)
    return set(seen.values())
