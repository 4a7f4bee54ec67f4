"""numba's exact tier of the default ``jit``: a folded scalar program whose every call numba computes with NumPy's
bits (``funcgrad._fuse.EXACT``; NumPy's own function outside the loops) is compiled by numba in a background thread,
once its replays have taken as long as the compile is expected to, and gives the eager call's bits.

The tests set ``_jit.NUMBA_BUDGET`` to 0 (the compile starts at the first compiled replay) and wait for the
compile (``_Branch.wait``); the threshold itself is tested with a counting clock.  Skipped without numba.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from conftest import in_threads, outcome
from test_jit_registry import _assert_same
from test_loops import _rk4
from test_numba_replay import P, _random_arithmetic, _transcendental

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import _fuse, _jit
from funcgrad._jit import prepare
from funcgrad._loops import fold
from funcgrad._rewrites import NonFinite, python_floats

pytestmark = pytest.mark.skipif(not _fuse.available(), reason="numba (the fuse extra) is not installed")


@pytest.fixture(autouse=True)
def _no_budget(monkeypatch: Any) -> None:
    monkeypatch.setattr(_jit, "NUMBA_BUDGET", 0.0)  # numba's compile starts at the first compiled replay


def _branches(jitted: Any) -> Iterator[Any]:
    todo = list(jitted._cache.values())
    while todo:
        branch = todo.pop()
        todo.extend(branch.branches.values())
        yield branch


def _settled(fun: Callable[..., Any], *args: Any, **options: Any) -> Any:
    """``jit(fun)`` called until its branch is compiled, then its numba compile waited for."""
    jitted = fg.jit(fun, **options)
    for _ in range(20):  # (a long recording is prepared one stage a replay)
        outcome(jitted, *args)
        if all(branch.tier == "compiled" for branch in jitted._cache.values()):
            break
    for branch in _branches(jitted):
        branch.wait()
    return jitted


def _on_numba(jitted: Any) -> bool:
    return all(
        branch.numba == "numba" and branch.replay.__doc__.startswith("# compiled by numba") for branch in _branches(jitted)
    )


_GRADIENT = fg.grad(lambda p: _rk4(p, 30))  # one program: numba compiles it once for all the tests


def _program(fun: Callable[..., Any], *args: Any) -> Any:
    return python_floats(prepare(fg.make_program(fun)(*args)))


def test_the_rk4_gradient_ends_on_numba_and_gives_the_eager_bits() -> None:
    gradient = _GRADIENT
    jitted = _settled(gradient, P)
    assert _on_numba(jitted)
    (branch,) = jitted._cache.values()
    assert "for it" in branch.replay.__doc__ and "objmode" not in branch.replay.__doc__
    assert "numpy" in branch.replay.__doc__  # the loss's ``** 2``, outside the loop: NumPy's own power
    rng = np.random.default_rng(3)
    for p in (P, P * 0.9, np.array([0.5, 2.0, 1.5, 0.25]), *rng.uniform(0.2, 3.0, (20, 4))):
        got, want = jitted(p), gradient(p)
        assert type(got) is type(want) and got.tobytes() == want.tobytes(), p


def test_replays_in_threads_during_the_swap_give_the_eager_bits() -> None:
    gradient = _GRADIENT
    jitted = fg.jit(gradient)
    want = gradient(P)
    wrong: list[Any] = []

    def calls() -> None:
        for _ in range(300):
            got = jitted(P)
            if got.tobytes() != want.tobytes():
                wrong.append(got)

    in_threads(calls, 3)
    (branch,) = jitted._cache.values()
    branch.wait()
    assert not wrong and branch.numba == "numba"
    assert jitted(P).tobytes() == want.tobytes()


@pytest.mark.parametrize("seed", range(8))
def test_random_arithmetic_loops_through_the_default_jit_give_the_eager_bits(seed: int) -> None:
    f, p = _random_arithmetic(seed)
    for fun in (f, fg.grad(f)):
        jitted = _settled(fun, p)
        program = _program(fun, p)
        assert _fuse.exact(program, fold(program)), f"seed {seed}"  # (each of these seeds folds a loop)
        assert [branch.numba for branch in jitted._cache.values()] == ["numba"], f"seed {seed}"
        for variant in (p, p * 1.01, p[::-1].copy(), p * 1e200, -p):
            got, want = outcome(jitted, variant), outcome(fun, variant)
            _assert_same(got, want, f"seed {seed}")
        for branch in _branches(jitted):  # the branches recorded where a guard missed: compiled the same way
            branch.wait()


def test_a_program_with_transcendental_functions_in_its_loop_stays_on_the_python_tier() -> None:
    p = np.array([0.3, 0.7])
    for fun in (_transcendental, fg.grad(_transcendental)):
        jitted = _settled(fun, p)
        (branch,) = jitted._cache.values()
        assert branch.numba is None and branch.compiling is None
        assert "def replay(" in branch.replay.__doc__ and "numba" not in branch.replay.__doc__
        for q in (p, p * 1.3, -p):
            _assert_same(outcome(jitted, q), outcome(fun, q), "Python tier vs eager")
        fused = _settled(fun, p, fuse=True)
        assert next(iter(fused._cache.values())).replay.__doc__.startswith("# compiled by numba")


def _power_outside(p: Any) -> Any:
    x = p[0]
    for _ in range(20):
        x = x * p[1] - p[2]
    return x**2 + fnp.sqrt(abs(x))


def test_numpy_s_power_outside_the_loop_is_numpy_s_own_call() -> None:
    """NumPy's float64 ``** 2`` is the C library's pow, not always ``x * x`` (numba's ``x ** 2.0``): one in a
    thousand or so differs in the last bit; the exact tier calls NumPy's."""
    rng = np.random.default_rng(0)
    x = next(v for v in rng.uniform(1.0, 2.0, 100_000) if np.float64(v) ** 2 != np.float64(v) * np.float64(v))
    p = np.array([x, 1.0, 0.0])  # the loop leaves x as it is
    assert _power_outside(p) == np.float64(x) ** 2 + np.sqrt(np.float64(x))
    jitted = _settled(_power_outside, p)
    assert _on_numba(jitted)
    (branch,) = jitted._cache.values()
    assert "numpy" in branch.replay.__doc__ and "sqrt_(" in branch.replay.__doc__
    for q in (p, p * 0.5, p * 1.5, np.array([0.25, -0.5, 0.125]), np.array([-2.0, 1.5, 0.5])):
        _assert_same(outcome(jitted, q), outcome(_power_outside, q), f"at {q}")


def test_a_power_in_the_loop_stays_on_the_python_tier() -> None:
    def f(p: Any) -> Any:
        x = p[0]
        for _ in range(10):
            x = (x * p[1]) ** 2 + 0.125
        return x

    p = np.array([0.5, 0.9])
    jitted = _settled(f, p)
    assert {branch.numba for branch in _branches(jitted)} == {None}
    assert jitted(p).tobytes() == f(p).tobytes()


def test_numba_s_sqrt_and_absolute_are_numpy_s_bits() -> None:
    """The two functions ``EXACT`` takes besides arithmetic, over random bit patterns (subnormals too)."""
    numba = pytest.importorskip("numba")
    sqrt, absolute = numba.njit(lambda x: np.sqrt(x)), numba.njit(lambda x: np.absolute(x))
    rng = np.random.default_rng(7)
    bits = rng.integers(0, 0x7FF0000000000000, 20_000, dtype=np.int64)
    values = np.concatenate([bits.view(np.float64), rng.uniform(0.0, 10.0, 20_000), [0.0, 5e-324, 1.0, 4.0]])
    for value in values:
        for x in (float(value), -float(value)):
            want = np.absolute(np.float64(x))
            assert np.float64(absolute(x)).tobytes() == want.tobytes()
        want = np.sqrt(np.float64(value))
        assert np.float64(sqrt(float(value))).tobytes() == want.tobytes(), value


def _guarded(x: Any) -> Any:
    for _ in range(12):
        if x > 0:  # a bool guard at each iteration
            x = x - 1.0
        else:
            x = x * 0.5 + 2.0
        x = x * 1.0 + 0.0  # a longer block, the same value
    return x


def test_a_guard_missing_at_iteration_k_behaves_as_on_the_python_tier(monkeypatch: Any) -> None:
    starts = (30.0, 5.5, 3.5, 0.5, -1.0, 5.5, 30.0)
    jitted = _settled(_guarded, np.float64(30.0))
    assert _on_numba(jitted)
    (root,) = jitted._cache.values()
    misses = [outcome(root.replay, np.float64(s)) for s in starts]
    monkeypatch.setattr(_fuse, "installed", lambda: False)
    python = _settled(_guarded, np.float64(30.0))
    assert {branch.numba for branch in _branches(python)} == {None}
    (python_root,) = python._cache.values()
    assert misses == [outcome(python_root.replay, np.float64(s)) for s in starts]
    assert [m for m in misses if isinstance(m, tuple)] == [("miss", 6), ("miss", 4), ("miss", 1), ("miss", 0)] + [
        ("miss", 6)
    ]
    for start in starts:
        got, want = jitted(np.float64(start)), _guarded(np.float64(start))
        assert type(got) is type(want) and got.tobytes() == want.tobytes()
        python(np.float64(start))
    for branch in _branches(jitted):
        branch.wait()
    assert jitted._cache_size() == python._cache_size() > 1  # the branches recorded where guards missed
    assert {branch.numba for branch in _branches(jitted)} <= {None, "numba"}


def _growth(p: Any) -> Any:
    x = p[0]
    for _ in range(12):
        x = x * x * p[1] + 1.0
    return x + fnp.log(p[1])  # NumPy's log, outside the loop: NumPy's own call


def test_a_non_finite_value_runs_the_numpy_scalar_replay_which_warns_as_eager() -> None:
    jitted = _settled(_growth, np.array([0.5, 0.5]))
    assert _on_numba(jitted)
    (branch,) = jitted._cache.values()
    for p in (np.array([10.0, 2.0]), np.array([0.5, -1.0])):  # an overflow; the log of a negative number
        with pytest.raises(NonFinite):
            _fuse.scalar_replay(branch.program, _jit.to_source, exact=True)(p)  # type: ignore[misc]
        with pytest.warns(RuntimeWarning) as got_warned:
            got = jitted(p)
        with pytest.warns(RuntimeWarning) as want_warned:
            want = _growth(p)
        assert got.tobytes() == want.tobytes() and not np.isfinite(got)
        assert [str(w.message) for w in got_warned] == [str(w.message) for w in want_warned]
        with np.errstate(all="raise"), pytest.raises(FloatingPointError):
            jitted(p)
    assert jitted(np.array([0.5, 0.25])).tobytes() == _growth(np.array([0.5, 0.25])).tobytes()


def test_without_numba_nothing_changes(monkeypatch: Any) -> None:
    monkeypatch.setattr(_fuse, "available", lambda: False)
    monkeypatch.setattr(_fuse, "installed", lambda: False)
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self))
    gradient = _GRADIENT
    jitted = _settled(gradient, P)
    (branch,) = jitted._cache.values()
    assert branch.numba is None and branch.compiling is None and not started
    assert branch.replay.__doc__.startswith("def replay(")
    assert jitted(P * 1.2).tobytes() == gradient(P * 1.2).tobytes()


def test_the_compile_starts_once_the_replays_have_taken_the_budget(monkeypatch: Any) -> None:
    ticks = iter(range(10**6))
    monkeypatch.setattr(_jit, "_clock", lambda: float(next(ticks)))  # each timed replay takes 1 "second"
    monkeypatch.setattr(_fuse, "compile_estimate", lambda program, loops: 2.5)
    monkeypatch.setattr(_jit, "NUMBA_BUDGET", 2.0)  # 5 "seconds": the fifth timed replay starts it
    compiles = []
    scalar_replay = _fuse.scalar_replay
    monkeypatch.setattr(_fuse, "scalar_replay", lambda *a, **k: compiles.append(k) or scalar_replay(*a, **k))
    gradient = _GRADIENT
    jitted = fg.jit(gradient)
    jitted(P)
    (branch,) = jitted._cache.values()
    while branch.tier != "compiled":  # the recording's replays, one stage of preparation each
        assert branch.numba is None
        jitted(P)  # (the last of them is the first compiled replay, timed)
    for timed in range(1, 5):
        if timed > 1:
            jitted(P)
        assert branch.numba == "waiting" and branch.compiling is None, timed
        assert branch.spent == timed and branch.budget == 5.0
    assert not compiles
    jitted(P)
    assert branch.compiling is not None and branch.numba in ("compiling", "numba")
    branch.wait()
    assert branch.numba == "numba" and compiles == [{"exact": True}]
    for _ in range(3):
        assert jitted(P).tobytes() == gradient(P).tobytes()
    assert branch.spent == 5.0 and len(compiles) == 1  # numba's replay is not timed


def test_a_failed_compile_leaves_the_python_tier_silently_and_is_not_retried(monkeypatch: Any) -> None:
    compiles = []

    def refused(*args: Any, **kwargs: Any) -> Any:
        compiles.append(1)
        raise RuntimeError("numba failed")

    monkeypatch.setattr(_fuse, "scalar_replay", refused)
    gradient = _GRADIENT
    jitted = _settled(gradient, P)
    (branch,) = jitted._cache.values()
    assert branch.numba == "python" and compiles == [1]
    spent = branch.spent
    for _ in range(5):
        assert jitted(P).tobytes() == gradient(P).tobytes()
    assert compiles == [1] and branch.spent == spent  # not timed any more, not compiled again
    assert branch.replay.__doc__.startswith("def replay(")


def test_the_background_compile_leaves_the_warning_filters_of_other_threads_alone(monkeypatch: Any) -> None:
    """``warnings.catch_warnings`` swaps the process's filters: from the compiling thread it would silence the
    calls' warnings meanwhile (the NumPy-scalar replay's, as eager's), so that thread does not use it."""
    swapped = []
    catch_warnings = _fuse.warnings.catch_warnings

    def watched(*args: Any, **kwargs: Any) -> Any:
        swapped.append(threading.current_thread() is threading.main_thread())
        return catch_warnings(*args, **kwargs)

    monkeypatch.setattr(_fuse.warnings, "catch_warnings", watched)

    def f(p: Any) -> Any:
        x = p[0]
        for _ in range(25):
            x = x * p[1] - 0.314159  # (a constant of this test's own: numba compiles this program here)
        return x**2

    p = np.array([0.5, 0.75])
    jitted = _settled(f, p)
    assert _on_numba(jitted) and False not in swapped
    assert jitted(p).tobytes() == f(p).tobytes()
