"""Exact fusion (``fuse(program, exact=True)``, the default ``jit``'s fused tier when numba is installed).

Each kernel gives NumPy's bits, dtypes and memory layout, or its group's NumPy calls run instead: where a
value it computes is not finite (NumPy warns or raises as its error state says), where NumPy's error state
handles underflow, where an array input is not C-contiguous.  Skipped without numba.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from test_fuse import _chain, _program, _random_elementwise

import funcgrad as fg
from funcgrad import _fuse, _jit
from funcgrad._jit import compile_program

pytestmark = pytest.mark.skipif(not _fuse.available(), reason="numba (the fuse extra) is not installed")


def _exact(fun: Callable[..., Any], *args: Any) -> Callable[..., Any]:
    """The compiled replay of ``fun``'s prepared program with its groups fused exactly, kernels compiled."""
    fused = _fuse.fuse(_program(fun, *args), exact=True)
    assert _fuse.exact_kernels(fused) >= 1
    return compile_program(fused)


def _called(fun: Callable[..., Any], *args: Any) -> tuple[list[Any], list[tuple[type, str]]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        leaves = fg.tree.tree_flatten(fun(*args))[0]
    return leaves, [(w.category, str(w.message)) for w in caught]


def _same(got: list[Any], want: list[Any]) -> None:
    for g, w in zip(got, want, strict=True):
        assert type(g) is type(w) and g.dtype == w.dtype and g.shape == w.shape
        assert g.tobytes() == w.tobytes()
        if type(w) is np.ndarray:
            assert g.flags.c_contiguous == w.flags.c_contiguous and g.flags.f_contiguous == w.flags.f_contiguous


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", [*range(3), *(pytest.param(seed, marks=pytest.mark.slow) for seed in range(3, 30))])
def test_random_programs_fused_exactly_give_numpy_s_bits_and_warnings(seed: int, dtype: Any) -> None:
    f, args = _random_elementwise(seed, dtype)
    for fun in (f, fg.grad(f, argnums=(0, 1))):
        replay, unfused = _exact(fun, *args), compile_program(_program(fun, *args))
        for variant in (args, tuple(a * 1.5 for a in args), tuple(a * 1e30 for a in args)):
            got, got_warnings = _called(replay, *variant)
            _same(got, _called(fun, *variant)[0])
            # the unfused replay's warnings (a group's calls run where its last one was: their order may differ)
            assert sorted(got_warnings, key=str) == sorted(_called(unfused, *variant)[1], key=str), seed


def test_the_elementwise_chain_s_gradient_fuses_exactly_into_two_kernels() -> None:
    gradient = fg.grad(_chain)
    x = np.linspace(-4.0, 4.0, 100_000)
    fused = _fuse.fuse(_program(gradient, x), exact=True)
    assert [eqn.prim.name for eqn in fused.eqns if eqn.prim.name.startswith("fused[")] == [
        "fused[2 calls]",
        "fused[10 calls]",
    ]
    replay = _exact(gradient, x)
    for value in (x, x * 0.5, -x, np.where(x > 3.0, np.nan, x), np.where(x > 3.0, np.inf, x)):
        _same(*zip(*[(g, w) for g, w in zip(_called(replay, value)[0], _called(gradient, value)[0])]))


def test_an_overflow_warns_or_raises_as_numpy_s_calls_do() -> None:
    f = lambda x, y: (x * y) * 2.0 - y  # noqa: E731
    x, y = np.full(4096, 1e200), np.full(4096, 1e200)
    replay = _exact(f, np.ones(4096), np.ones(4096))
    got, caught = _called(replay, x, y)
    want, expected = _called(f, x, y)
    _same(got, want)
    assert caught == expected and expected  # NumPy's own calls ran: its warnings, once each
    with np.errstate(over="raise"), pytest.raises(FloatingPointError, match="overflow"):
        replay(x, y)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        _same(fg.tree.tree_flatten(replay(x, y))[0], want)


def test_a_handled_underflow_runs_numpy_s_calls() -> None:
    f = lambda x, y: (x * y) * 2.0 + y  # noqa: E731
    x = np.full(4096, 1e-200)
    replay = _exact(f, np.ones(4096), np.ones(4096))
    with np.errstate(under="raise"), pytest.raises(FloatingPointError, match="underflow"):
        replay(x, x)
    _same([replay(x, x)], [f(x, x)])  # ignored by default: the kernel's subnormal bits are NumPy's


def test_a_fortran_ordered_or_strided_input_gets_numpy_s_layout() -> None:
    f = lambda x, s: (x * s + 1.0) * x - s  # noqa: E731
    x = np.arange(6000.0).reshape(60, 100)
    replay = _exact(f, x, 0.5)
    for value in (x, np.asfortranarray(x), x[:, ::-1], x * 3.0):
        _same([replay(value, 0.25)], [f(value, 0.25)])
    vector = np.arange(8192.0)
    replay = _exact(f, vector, 0.5)
    for value in (vector, np.arange(16384.0)[::2]):
        _same([replay(value, 0.25)], [f(value, 0.25)])


def test_an_exact_kernel_never_writes_into_its_inputs() -> None:
    def f(x: Any) -> Any:
        a = x * 2.0
        b = a + 1.0  # a's last reader: the inexact kernels may write into it
        return b * b - 3.0

    x = np.linspace(0.0, 1.0, 4096)
    fused = _fuse.fuse(_program(f, x), exact=True)
    _fuse.exact_kernels(fused)
    before = x.copy()
    _same([compile_program(fused)(x)], [f(x)])
    assert x.tobytes() == before.tobytes()


# --- the default jit's fused tier ----------------------------------------------------------------------


def _settled(fun: Callable[..., Any], *args: Any) -> Any:
    """``jit(fun)`` called until its branch is compiled, then numba's compile (in its thread) waited for."""
    jitted = fg.jit(fun)
    for _ in range(20):
        jitted(*args)
        if all(branch.tier == "compiled" for branch in jitted._cache.values()):
            break
    for branch in jitted._cache.values():
        branch.wait()
    return jitted


def test_the_default_jit_fuses_the_chain_exactly_once_numba_is_worth_it(monkeypatch: Any) -> None:
    monkeypatch.setattr(_jit, "NUMBA_BUDGET", 0.0)  # numba's compile starts at the first compiled replay
    gradient = fg.grad(_chain)
    x = np.linspace(-4.0, 4.0, 100_000)
    jitted = _settled(gradient, x)
    (branch,) = jitted._cache.values()
    assert branch.numba == "numba" and "fused_10_calls" in branch.replay.__doc__
    for value in (x, x * 0.5, -x, np.where(x > 3.0, np.nan, x), np.where(x > 3.0, 1e300, x)):
        with np.errstate(all="ignore"):
            got, want = jitted(value), gradient(value)
        assert type(got) is type(want) and got.dtype == want.dtype and got.tobytes() == want.tobytes()
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        jitted(np.full(100_000, 1e300))  # ``v * v`` overflows: NumPy's calls ran, under the caller's errstate


def test_the_fused_tier_waits_for_its_budget_and_needs_numba(monkeypatch: Any) -> None:
    gradient = fg.grad(_chain)
    x = np.linspace(-4.0, 4.0, 4096)
    jitted = fg.jit(gradient)
    for _ in range(_jit.INTERPRETED_REPLAYS + 3):
        jitted(x)
    (branch,) = jitted._cache.values()
    assert branch.tier == "compiled" and branch.numba == "waiting" and branch.budget == _jit.NUMBA_BUDGET * 2 * (
        _fuse.KERNEL_SECONDS
    )
    assert branch.spent < branch.budget and branch.compiling is None  # a few short replays: no compile yet
    monkeypatch.setattr(_fuse, "installed", lambda: False)
    monkeypatch.setattr(_jit, "NUMBA_BUDGET", 0.0)
    jitted = _settled(gradient, x)
    (branch,) = jitted._cache.values()
    assert branch.numba is None and "fused" not in branch.replay.__doc__  # without numba: the Python tier
    assert jitted(x).tobytes() == gradient(x).tobytes()


def test_a_program_without_elementwise_runs_is_not_timed(monkeypatch: Any) -> None:
    monkeypatch.setattr(_jit, "NUMBA_BUDGET", 0.0)
    jitted = _settled(lambda x: fg.numpy.exp(x) @ x, np.linspace(0.0, 1.0, 4096))
    (branch,) = jitted._cache.values()
    assert branch.numba is None and branch.compiling is None


def test_a_kernel_shared_by_two_programs_falls_back_without_writing_into_either_s_operands() -> None:
    # the same kernel (source and shape) serves both programs: in the first, exp's result dies in the group
    # (its replay multiplies into it), in the second it is returned too; a NaN makes the second fall back
    def dies(x: Any) -> Any:
        return fg.numpy.exp(x) * 2.0 - 1.0

    def returned(x: Any) -> Any:
        a = fg.numpy.exp(x)
        return a * 2.0 - 1.0, a

    x = np.linspace(0.0, 1.0, 5003)  # (a shape of its own: no other test's kernel)
    first = _fuse.fuse(_program(dies, x), exact=True)
    assert any(eqn.prim.name.startswith("multiply_into") for eqn in _program(dies, x).eqns)
    second = _fuse.fuse(_program(returned, x), exact=True)
    _fuse.exact_kernels(first)
    (kernel,) = [eqn.prim for eqn in first.eqns if eqn.prim.name.startswith("fused[")]
    assert kernel in [eqn.prim for eqn in second.eqns]  # one kernel for both
    poisoned = x.copy()
    poisoned[7] = np.nan
    with np.errstate(all="ignore"):
        _same(fg.tree.tree_flatten(compile_program(second)(poisoned))[0], fg.tree.tree_flatten(returned(poisoned))[0])
        _same([compile_program(first)(poisoned)], [dies(poisoned)])
