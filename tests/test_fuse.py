"""Fusion (``jit(..., fuse=True)``): runs of elementwise arithmetic replayed as one numba kernel each.

The grouping is checked without numba; the fused replays (skipped when numba is not installed) against
the eager call within the documented bound (``funcgrad._fuse.ULPS``) over random elementwise programs and
the elementwise chain of the benchmarks, in float32 and float64, with every kind of scalar operand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import _fuse, _jit
from funcgrad._jit import compile_program, prepare

needs_numba = pytest.mark.skipif(not _fuse.available(), reason="numba (the fuse extra) is not installed")


def _chain(v: Any) -> Any:
    """The elementwise chain of the benchmarks (benchmarks/workloads/scientists.py)."""
    return fnp.sum(fnp.tanh(v) * fnp.exp(-0.5 * v * v) + 0.1 * v)


def _ulps(got: np.ndarray, want: np.ndarray) -> int:
    """The largest distance in units in the last place between two float arrays (NaN to NaN: 0)."""
    assert got.dtype == want.dtype and got.shape == want.shape
    bits = {4: np.int32, 8: np.int64}[want.dtype.itemsize]

    def ordered(values: np.ndarray) -> np.ndarray:
        raw = np.ascontiguousarray(values).view(bits).astype(np.int64)
        return np.where(raw < 0, np.iinfo(bits).min - raw, raw)  # floats' order as integers' order

    both_nan = np.isnan(got) & np.isnan(want)
    distance = np.abs(ordered(got) - ordered(want))
    return int(np.max(np.where(both_nan, 0, distance), initial=0))


def _program(fun: Callable[..., Any], *args: Any) -> Any:
    return prepare(fg.make_program(fun)(*args))


# --- grouping (no numba needed) ---------------------------------------------------------------------


def test_the_chain_s_gradient_fuses_into_two_groups_between_numpy_s_kernels() -> None:
    program = _program(fg.grad(_chain), np.linspace(-4.0, 4.0, 5000))
    names = [program.steps[i].prim.name for group in _fuse.groups(program) for i in group.members]
    assert [len(group.members) for group in _fuse.groups(program)] == [2, 10]
    assert not {"tanh", "exp"} & set(names)  # the transcendental kernels stay NumPy's


def test_small_arrays_scalars_and_other_dtypes_are_not_fused() -> None:
    assert _fuse.groups(_program(fg.grad(_chain), np.linspace(-4.0, 4.0, _fuse.MIN_SIZE - 1))) == []
    assert _fuse.groups(_program(lambda x: x * 2.0 + 1.0, np.float64(3.0))) == []
    assert _fuse.groups(_program(lambda x: x * 2 + 1, np.arange(5000))) == []  # integers stay NumPy's
    assert _fuse.groups(_program(lambda x: x * 2.0 + 1.0, np.ones(5000, np.complex128))) == []


def test_a_guard_or_another_call_reading_a_group_closes_it() -> None:
    def f(x: Any) -> Any:
        y = x * 2.0 + 1.0
        if fnp.sum(y) > 0:  # reads y: the group before it ends there
            y = y * 3.0 - x
        return y

    program = _program(f, np.ones(5000))
    assert [len(group.members) for group in _fuse.groups(program)] == [2, 2]


def test_a_call_not_reading_the_group_leaves_it_open() -> None:
    program = _program(lambda x: (x * 2.0 + 1.0) * fnp.exp(x), np.ones(5000))
    (group,) = _fuse.groups(program)
    assert len(group.members) == 3  # the exp between the calls runs before the kernel


def test_fuse_without_numba_raises_naming_the_extra(monkeypatch: Any) -> None:
    monkeypatch.setattr(_fuse, "available", lambda: False)
    with pytest.raises(ImportError, match=r"pip install funcgrad\[fuse\]"):
        fg.jit(_chain, fuse=True)
    fg.jit(_chain)  # without fuse nothing is needed


# --- fused replays (numba) --------------------------------------------------------------------------


def _random_elementwise(seed: int, dtype: Any) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """A random program of arithmetic runs between transcendental calls, with every kind of operand."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(_fuse.MIN_SIZE, 3 * _fuse.MIN_SIZE))
    x = rng.uniform(-2.0, 2.0, n).astype(dtype)
    y = rng.uniform(0.5, 2.0, n).astype(dtype)
    constant = rng.uniform(-1.0, 1.0, n).astype(dtype)
    integers = rng.integers(-3, 4, n)
    scalars: list[Any] = [
        float(rng.uniform(-2, 2)),
        int(rng.integers(1, 5)),
        np.float32(rng.uniform(-2, 2)),
        np.float64(rng.uniform(-2, 2)),
        np.array(rng.uniform(0.5, 2.0), dtype),
    ]
    plan = [(int(rng.integers(0, 10)), int(rng.integers(0, 1000))) for _ in range(int(rng.integers(6, 18)))]

    def f(a: Any, b: Any) -> Any:
        values = [a, b]
        for kind, pick in plan:
            v = values[pick % len(values)]
            w = values[(pick // 7) % len(values)]
            s = scalars[pick % len(scalars)]
            if kind == 0:
                values.append(v + w)
            elif kind == 1:
                values.append(v - s)
            elif kind == 2:
                values.append(s * v)
            elif kind == 3:
                values.append(v / (1.0 + w * w))
            elif kind == 4:
                values.append(-v * constant)
            elif kind == 5:
                values.append(fnp.square(v) - integers)
            elif kind == 6:
                values.append(fnp.tanh(v))
            elif kind == 7:
                values.append(fnp.exp(-v * v))
            elif kind == 8:
                values.append(fnp.sin(v) * w)
            else:
                values.append(v * s / w)
        return fnp.sum(values[-1] * values[-2])

    return f, (x, y)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "seed", [*range(2), *(pytest.param(seed, marks=pytest.mark.slow) for seed in range(2, 30))]
)
def test_random_fused_programs_are_within_the_documented_ulps(seed: int, dtype: Any) -> None:
    f, args = _random_elementwise(seed, dtype)
    for fun in (f, fg.grad(f, argnums=(0, 1))):
        program = _program(fun, *args)
        fused = compile_program(_fuse.fuse(program))
        for variant in (args, tuple(a * 1.5 for a in args)):
            with np.errstate(all="ignore"):
                got, want = fg.tree.tree_flatten(fused(*variant))[0], fg.tree.tree_flatten(fun(*variant))[0]
            for g, w in zip(got, want):
                g, w = np.asarray(g), np.asarray(w)
                assert g.dtype == w.dtype and g.shape == w.shape
                assert _ulps(g, w) <= _fuse.ULPS, f"seed {seed}: {_ulps(g, w)} ulps"


@needs_numba
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_elementwise_chain_fused_by_jit(dtype: Any) -> None:
    gradient = fg.grad(_chain)
    jitted = fg.jit(gradient, fuse=True)
    x = np.linspace(-4.0, 4.0, 100_000).astype(dtype)
    for _ in range(_jit.INTERPRETED_REPLAYS + 2):
        got = jitted(x)
    (branch,) = jitted._cache.values()
    assert "fused_10_calls" in branch.replay.__doc__  # one kernel for the ten calls after exp
    for value in (x, x * 0.5, -x):
        got, want = jitted(value), gradient(value)
        assert got.dtype == want.dtype == dtype
        assert _ulps(got, want) <= _fuse.ULPS


@needs_numba
def test_fused_kernels_give_ieee_results_without_raising() -> None:
    f = lambda x, y: (x / y) * 2.0 - y  # noqa: E731
    x, y = np.ones(4096), np.zeros(4096)
    y[:3] = [1.0, -0.0, np.inf]
    with np.errstate(all="ignore"):
        fused = compile_program(_fuse.fuse(_program(f, x, y)))
        want = f(x, y)
    with np.errstate(all="raise"):
        got = fused(x, y)  # a kernel does not consult NumPy's error state (documented)
    assert _ulps(got, want) == 0


@needs_numba
def test_non_contiguous_inputs_and_zero_d_scalars() -> None:
    f = lambda x, s: (x * s + 1.0) * x - s  # noqa: E731
    x = np.arange(6000.0).reshape(60, 100)
    fused = compile_program(_fuse.fuse(_program(f, x, np.array(0.5))))
    for value in (x, x[:, ::-1].copy()):
        got = fused(value, np.array(0.25))
        assert _ulps(got, f(value, np.array(0.25))) == 0
    transposed = np.asfortranarray(x)
    assert _ulps(fused(transposed, np.array(0.25)), f(transposed, np.array(0.25))) == 0


@needs_numba
def test_a_call_writing_into_a_value_the_open_group_reads_closes_it() -> None:
    def f(x: Any) -> Any:
        a = fnp.sin(x)
        b = a * 2.0  # the group's first call reads a ...
        c = fnp.exp(a)  # ... which this call, its last reader, may overwrite in place ...
        return (b + 1.0) * c  # ... before the group's kernel would run

    x = np.linspace(-1.0, 1.0, 5000)
    program = _program(f, x)
    assert any(step.prim.name == "exp_into" for step in program.eqns)  # the replay writes exp into a
    fused = compile_program(_fuse.fuse(program))
    assert _ulps(fused(x), f(x)) == 0


@needs_numba
def test_a_kernel_writes_into_a_dead_array_the_replay_made_and_nothing_else() -> None:
    program = _fuse.fuse(_program(fg.grad(_chain), np.linspace(-4.0, 4.0, 5000)))
    wrappers = [eqn.prim.impl.__doc__ for eqn in program.eqns if eqn.prim.name.startswith("fused[")]
    assert any("y0 = x0 if x0.flags.c_contiguous" in text for text in wrappers)  # tanh's array, dead after it

    def f(x: Any) -> Any:
        b = fnp.tanh(x)
        y = (b * 2.0 + x) * x  # reads the input (never written into) and b, which is read again below
        return y * fnp.sum(b)

    x = np.linspace(-1.0, 1.0, 5000)
    kept = x.copy()
    fused = compile_program(_fuse.fuse(_program(f, x)))
    assert _ulps(fused(x), f(x)) == 0
    assert x.tobytes() == kept.tobytes()
