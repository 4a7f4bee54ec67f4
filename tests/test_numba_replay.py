"""numba's replay of scalar programs (``jit(..., fuse=True)``): a folded program on Python floats compiled whole.

Arithmetic (``+ - * /``, negation, comparisons) gives the eager call's bits; NumPy's transcendental
functions are numba's, within ``funcgrad._fuse.ULPS``.  A guard missing at iteration ``k`` raises what the
Python replay raises; a non-finite value runs the NumPy-scalar replay (which warns or raises as the eager
call does); a program numba cannot compile stays on the Python tier.  Skipped without numba.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import outcome
from test_fuse import _ulps
from test_jit_registry import _assert_same
from test_loops import _loop_with_guards, _rk4

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import _fuse, _jit
from funcgrad._jit import compile_program, prepare, to_source
from funcgrad._rewrites import NonFinite, python_floats

pytestmark = pytest.mark.skipif(not _fuse.available(), reason="numba (the fuse extra) is not installed")

P = np.array([1.5, 1.0, 1.0, 3.0])


def _on_floats(fun: Callable[..., Any], *args: Any) -> Any:
    """The program a cached branch replays (prepared, on Python floats)."""
    return python_floats(prepare(fg.make_program(fun)(*args)))


def _numba(fun: Callable[..., Any], *args: Any) -> Callable[..., Any]:
    replay = _fuse.scalar_replay(_on_floats(fun, *args), to_source)
    assert replay is not None
    return replay


def _compiled_jit(fun: Callable[..., Any], *args: Any) -> Any:
    """``jit(fun, fuse=True)`` called until its branch is compiled."""
    jitted = fg.jit(fun, fuse=True)
    for _ in range(_jit.INTERPRETED_REPLAYS + 2):
        jitted(*args)
    return jitted


def _is_numba(jitted: Any) -> bool:
    return all(branch.replay.__doc__.startswith("# compiled by numba") for branch in jitted._cache.values())


def test_the_rk4_gradient_is_compiled_whole_and_gives_the_eager_bits() -> None:
    gradient = fg.grad(lambda p: _rk4(p, 25))
    replay = _numba(gradient, P)
    python = compile_program(_on_floats(gradient, P))
    assert "for it1_ in range(" in replay.__doc__ and "a[0]" in replay.__doc__
    for p in (P, P * 0.9, np.array([0.5, 2.0, 1.5, 0.25])):
        want = gradient(p)
        for got in (replay(p), python(p)):
            assert type(got) is type(want) and got.tobytes() == want.tobytes()
    jitted = _compiled_jit(gradient, P)
    assert _is_numba(jitted)
    assert jitted(P * 1.1).tobytes() == gradient(P * 1.1).tobytes()


def _random_arithmetic(seed: int) -> tuple[Callable[..., Any], np.ndarray]:
    """A loop over a few scalar states, each iteration random ``+ - *``, negation, division by constants,
    and a comparison guard, of parameters read element by element."""
    rng = np.random.default_rng(seed)
    states, length = int(rng.integers(2, 4)), int(rng.integers(3, 7))
    plan = []
    for _ in range(length):
        kind = str(rng.choice(["add", "sub", "mul", "div", "neg", "param", "guard"]))
        plan.append((kind, int(rng.integers(states)), int(rng.integers(states)), float(rng.uniform(0.5, 1.5))))

    def f(p: Any) -> Any:
        s = [p[k % len(p)] * 0.5 for k in range(states)]
        for _ in range(12):
            for kind, a, b, c in plan:
                if kind == "add":
                    s[a] = s[a] + s[b] * 0.125
                elif kind == "sub":
                    s[a] = s[a] - c * s[b] * 0.0625
                elif kind == "mul":
                    s[a] = s[a] * (1.0 - 0.01 * s[b] * s[b])
                elif kind == "div":
                    s[a] = s[a] / c
                elif kind == "neg":
                    s[a] = -s[a] * 0.75 + s[b]
                elif kind == "param":
                    s[a] = s[a] + p[b % len(p)] * 0.01
                elif s[a] > s[b]:
                    s[a] = s[a] * 0.5
        total = s[0]
        for value in s[1:]:
            total = total + value * value
        return total

    return f, rng.uniform(0.2, 1.2, 4)


@pytest.mark.parametrize("seed", range(8))
def test_random_arithmetic_loops_give_the_eager_bits(seed: int) -> None:
    f, p = _random_arithmetic(seed)
    compiled = 0
    for fun in (f, fg.grad(f)):
        program = _on_floats(fun, p)
        replay = _fuse.scalar_replay(program, to_source)
        if replay is None:  # no loop folded (a guard of another outcome in some iteration)
            continue
        compiled += 1
        python = compile_program(program)
        for variant in (p, p * 1.01, p[::-1].copy(), p * 1e200):
            got, want = outcome(replay, variant), outcome(python, variant)
            if isinstance(want, list):
                _assert_same(got, want, f"seed {seed}")
                _assert_same(got, outcome(fun, variant), f"seed {seed}: eager")
            else:
                assert got == want, f"seed {seed}"  # the same guard missed, or NonFinite
    assert compiled


#: NumPy's functions numba's replay calls, each with arguments in its domain
_FUNCTIONS = {
    "sin": (fnp.sin, -4.0, 4.0), "cos": (fnp.cos, -4.0, 4.0), "tan": (fnp.tan, -1.5, 1.5),
    "exp": (fnp.exp, -20.0, 20.0), "expm1": (fnp.expm1, -2.0, 2.0), "exp2": (fnp.exp2, -20.0, 20.0),
    "log": (fnp.log, 1e-3, 50.0), "log1p": (fnp.log1p, -0.5, 5.0), "log2": (fnp.log2, 1e-3, 50.0),
    "log10": (fnp.log10, 1e-3, 50.0), "sqrt": (fnp.sqrt, 0.0, 50.0), "tanh": (fnp.tanh, -5.0, 5.0),
    "sinh": (fnp.sinh, -5.0, 5.0), "cosh": (fnp.cosh, -5.0, 5.0), "arcsin": (fnp.arcsin, -1.0, 1.0),
    "arccos": (fnp.arccos, -1.0, 1.0), "arctan": (fnp.arctan, -5.0, 5.0), "arcsinh": (fnp.arcsinh, -5.0, 5.0),
    "arccosh": (fnp.arccosh, 1.0, 5.0), "arctanh": (fnp.arctanh, -0.9, 0.9), "absolute": (fnp.abs, -3.0, 3.0),
    "sign": (fnp.sign, -3.0, 3.0), "power": (lambda x: fnp.power(x, 0.7), 0.1, 9.0),
    "x ** 3": (lambda x: x**3, -3.0, 3.0), "x ** -1.5": (lambda x: x**-1.5, 0.1, 9.0),
    "arctan2": (lambda x: fnp.arctan2(x, 0.5), -3.0, 3.0), "arctan2 of y": (lambda x: fnp.arctan2(-0.25, x), -3.0, 3.0),
    "hypot": (lambda x: fnp.hypot(x, 0.5), -3.0, 3.0),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(_FUNCTIONS))
def test_each_numpy_function_numba_calls_is_within_the_documented_ulps(name: str) -> None:
    function, low, high = _FUNCTIONS[name]

    def f(p: Any) -> list[Any]:  # one call an iteration, on arguments sweeping the domain (exact arithmetic)
        x, values = p[0], []
        for _ in range(20):
            values.append(function(x))
            x = x + p[1]
        return values

    step = (high - low) / 20
    replay = _numba(f, np.array([low, step]))
    assert "for it" in replay.__doc__
    rng = np.random.default_rng(len(name))
    for _ in range(10):
        p = np.array([low + step * rng.uniform(0.0, 0.5), step * rng.uniform(0.9, 1.0)])
        got, want = replay(p), f(p)
        for g, w in zip(got, want):
            assert type(g) is type(w) and _ulps(np.asarray(g), np.asarray(w)) <= _fuse.ULPS, (g, w)


def _transcendental(p: Any) -> Any:
    u, v = p[0], p[1]
    for _ in range(15):
        u = u + 0.05 * fnp.sin(v) * fnp.exp(-u * u) - 0.01 * fnp.tanh(u - v)
        v = v * 0.9 + 0.1 * fnp.sqrt(fnp.log1p(u * u)) + 0.02 * fnp.arctan(u) + 0.01 * (u**2 + abs(v))
    return u * v + fnp.cos(u) ** 3


def test_a_model_s_value_and_gradient_through_many_calls_carry_their_differences() -> None:
    """The value within the bound; the gradient, through 75 such calls and the products of their derivatives,
    within a relative 1e-13 (measured: 7 ulps at most here)."""
    rng = np.random.default_rng(5)
    value, gradient = _numba(_transcendental, np.array([0.3, 0.7])), _numba(fg.grad(_transcendental), np.array([0.3, 0.7]))
    for _ in range(20):
        p = rng.uniform(-1.5, 1.5, 2)
        got, want = value(p), _transcendental(p)
        assert type(got) is type(want) and _ulps(np.asarray(got), np.asarray(want)) <= _fuse.ULPS
        got, want = gradient(p), fg.grad(_transcendental)(p)
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)


def test_a_guard_missing_at_iteration_k_raises_what_the_python_replay_raises() -> None:
    x = np.float64(30.0)
    program = _on_floats(_loop_with_guards, x)
    replay, python = _numba(_loop_with_guards, x), compile_program(program)
    misses = []
    for start in (30.0, 5.5, 3.5, 0.5, -1.0):
        got = outcome(replay, np.float64(start))
        assert got == outcome(python, np.float64(start))
        misses.append(got)
    assert [miss for miss in misses if isinstance(miss, tuple)] == [("miss", 6), ("miss", 4), ("miss", 1), ("miss", 0)]


def test_jit_records_the_missed_branches_and_stays_within_the_bound() -> None:
    jitted = _compiled_jit(_loop_with_guards, np.float64(30.0))
    assert _is_numba(jitted)
    for start in (5.5, 30.0, 3.5, 5.5, 0.5):
        got, want = jitted(np.float64(start)), _loop_with_guards(np.float64(start))
        assert type(got) is type(want) and _ulps(np.asarray(got), np.asarray(want)) <= _fuse.ULPS
    assert jitted._cache_size() == 4  # the recording and one branch for each iteration a guard first missed at


def _growth(p: Any) -> Any:
    x = p[0]
    for _ in range(12):
        x = x * x * p[1] + 1.0
    return x + fnp.log(p[1])


def test_a_non_finite_value_runs_the_numpy_scalar_replay_which_warns_as_eager() -> None:
    jitted = _compiled_jit(_growth, np.array([0.5, 0.5]))
    assert _is_numba(jitted)
    (branch,) = jitted._cache.values()
    for p in (np.array([10.0, 2.0]), np.array([0.5, -1.0])):  # an overflow; the log of a negative number
        with pytest.raises(NonFinite):
            _fuse.scalar_replay(branch.program, to_source)(p)  # type: ignore[misc]
        with pytest.warns(RuntimeWarning):
            got = jitted(p)
        with pytest.warns(RuntimeWarning):
            want = _growth(p)
        assert got.tobytes() == want.tobytes() and not np.isfinite(got)
        with np.errstate(all="raise"), pytest.raises(FloatingPointError):
            jitted(p)
    assert jitted(np.array([0.5, 0.25])).tobytes() == _growth(np.array([0.5, 0.25])).tobytes()


def test_a_program_numba_does_not_take_stays_on_the_python_tier(monkeypatch: Any) -> None:
    def clipped(p: Any) -> Any:
        x = p[0]
        for _ in range(10):
            x = fnp.maximum(x * 0.5, p[1]) + 0.25  # maximum: not written for numba
        return x

    p = np.array([0.7, 0.1])
    assert _fuse.scalar_replay(_on_floats(clipped, p), to_source) is None
    jitted = _compiled_jit(clipped, p)
    assert not _is_numba(jitted) and jitted(p).tobytes() == clipped(p).tobytes()
    # a call written for numba that numba then fails to compile: the Python tier too, silently
    monkeypatch.setitem(_fuse._SCALAR_OPERATORS, np.maximum, "{}.no_such_method({})")
    monkeypatch.setattr(_fuse, "_BINARY", {**_fuse._BINARY, np.maximum: ""})
    _fuse._SCALAR_COMPILED.clear()
    assert _fuse.scalar_replay(_on_floats(clipped, p), to_source) is None
    compiles = []
    compile_ = _fuse._scalar_compile
    monkeypatch.setattr(_fuse, "_scalar_compile", lambda *args: compiles.append(1) or compile_(*args))
    jitted = _compiled_jit(clipped, p)
    assert not _is_numba(jitted) and jitted(p * 2.0).tobytes() == clipped(p * 2.0).tobytes()
    assert not compiles  # numba's refusal is remembered: not compiled again


def test_a_program_is_compiled_once_for_every_jitted_function_replaying_it(monkeypatch: Any) -> None:
    compiles = []
    compile_ = _fuse._scalar_compile
    monkeypatch.setattr(_fuse, "_scalar_compile", lambda *args: compiles.append(1) or compile_(*args))
    gradient = fg.grad(lambda p: _rk4(p, 7))
    first, second = _compiled_jit(gradient, P), _compiled_jit(gradient, P * 2.0)
    assert _is_numba(first) and _is_numba(second)
    assert len(compiles) <= 1  # (none when an earlier test compiled it)
    for _ in range(3):
        first(P)
    assert len(compiles) <= 1


def test_programs_without_a_loop_or_over_arrays_are_not_compiled() -> None:
    assert _fuse.scalar_replay(_on_floats(lambda p: p[0] * p[1] - 2.0, P), to_source) is None
    array_loop = _on_floats(fg.grad(lambda x: _rk4(x, 8)), P)
    assert _fuse.scalar_replay(array_loop, to_source) is not None
    vector = _on_floats(lambda x: sum(fnp.sin(x) * k for k in range(30)), np.ones(3))
    assert _fuse.scalar_replay(vector, to_source) is None


def test_strided_and_read_only_arrays_python_floats_and_numpy_scalars_as_inputs() -> None:
    def f(p: Any, h: Any, y: Any) -> Any:
        for _ in range(10):
            y = y + h * (p[0] * y - p[1] * y * y)
        return y

    gradient = fg.grad(f, argnums=(0, 1, 2))
    wide = np.array([[1.5, 9.0, 0.5], [9.0, 9.0, 9.0]])
    read_only = np.array([1.5, 0.5])
    read_only.flags.writeable = False
    for fun in (f, gradient):
        jitted = _compiled_jit(fun, np.array([1.5, 0.5]), 0.01, np.float64(0.3))
        assert _is_numba(jitted), [b.replay.__doc__ for b in jitted._cache.values()]
        for p in (wide[0, ::2], read_only, np.array([0.25, 1.0])):
            for h, y in ((0.02, np.float64(0.4)), (0.5, np.float64(-0.1))):
                _assert_same(outcome(jitted, p, h, y), outcome(fun, p, h, y), "numba vs eager")


_W = np.array([0.3, 0.7])


def _matrix_model(x: Any, h: Any) -> Any:
    y, z = x[0, 1], x[1, 0]
    for _ in range(30):
        y = y + h * (_W[0] * y - _W[1] * z)  # a closed-over array read element by element
        z = z - h * y * 0.5
    return {"y": y, "positive": y > 0, "pair": (z, y * z)}


def test_pytrees_booleans_and_the_gradient_of_a_matrix_element_by_element() -> None:
    x = np.array([[1.0, 0.5], [0.25, 2.0]])
    for fun in (
        _matrix_model,
        fg.grad(lambda x, h: _matrix_model(x, h)["pair"][1], argnums=(0, 1)),  # index_add into a 2x2 gradient
        fg.value_and_grad(lambda x, h: _matrix_model(x, h)["y"]),
    ):
        jitted = _compiled_jit(fun, x, 0.01)
        assert _is_numba(jitted)
        for args in ((x, 0.01), (x * 1.5, 0.02), (np.asfortranarray(x * 0.5), 0.01)):
            got, want = jitted(*args), fun(*args)
            assert fg.tree.tree_structure(got) == fg.tree.tree_structure(want)
            _assert_same(fg.tree.tree_flatten(got)[0], fg.tree.tree_flatten(want)[0], "numba vs eager")
        arrays = [leaf for leaf in fg.tree.tree_flatten(jitted(x, 0.01))[0] if isinstance(leaf, np.ndarray)]
        for leaf in arrays:  # the caller's own array, twice over
            assert leaf.flags.writeable and leaf.flags.c_contiguous
            leaf[...] = 0.0
        again = [leaf for leaf in fg.tree.tree_flatten(jitted(x, 0.01))[0] if isinstance(leaf, np.ndarray)]
        assert all(leaf.any() for leaf in again)
