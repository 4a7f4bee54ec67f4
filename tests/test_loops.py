"""Loop folding: the repeated block of a Python loop is found in a recording and replayed as a ``for`` loop.

The folded replay (``compile_program``, jit's compiled tier) must give, bit for bit, what the unfolded
replay, the interpreted replay and the eager call give, check every guard at every iteration (a miss at
iteration ``k`` names the same guard as the unfolded replay), and fold nothing whose blocks differ.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import outcome
from random_programs import make_program
from test_jit_registry import _assert_same, _variants

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import _jit
from funcgrad._jit import compile_program, interpret_program, prepare, to_source
from funcgrad._loops import fold, listing


def _rk4(p: Any, steps: int) -> Any:
    """Lotka-Volterra by RK4 in a Python loop on scalar states (the scientists' benchmark, smaller)."""
    u, v, h = 1.0, 1.0, 0.01

    def rates(u: Any, v: Any) -> tuple[Any, Any]:
        return p[0] * u - p[1] * u * v, p[2] * u * v - p[3] * v

    for _ in range(steps):
        a1, b1 = rates(u, v)
        a2, b2 = rates(u + 0.5 * h * a1, v + 0.5 * h * b1)
        a3, b3 = rates(u + 0.5 * h * a2, v + 0.5 * h * b2)
        a4, b4 = rates(u + h * a3, v + h * b3)
        u = u + h / 6.0 * (a1 + 2.0 * a2 + 2.0 * a3 + a4)
        v = v + h / 6.0 * (b1 + 2.0 * b2 + 2.0 * b3 + b4)
    return (u - 1.2) ** 2 + (v - 0.8) ** 2


def _array_loop(x: Any) -> Any:
    for _ in range(12):
        x = fnp.tanh(x) * 0.5 + fnp.sin(x) * x
    return fnp.sum(x * x)


def _fibonacci(x: Any) -> Any:
    """Each value reads the two before it: folded with a block of two steps."""
    a, b = x, x * 0.5
    for _ in range(20):
        a, b = b, fnp.sin(a) + b
    return b


def _growing(x: Any) -> Any:
    """Every iteration's value has another shape: no two blocks are alike."""
    for _ in range(10):
        x = fnp.concatenate([x, fnp.sin(x[:1])])
    return x


def _each_its_own(x: Any) -> Any:
    """Every iteration calls another function: no two blocks are alike."""
    for function in (fnp.sin, fnp.cos, fnp.tanh, fnp.exp, fnp.log1p, fnp.arctan, fnp.sinh, fnp.expm1, fnp.cbrt):
        x = function(x) * 0.5 + x
    return x


def _loop_with_guards(x: Any) -> Any:
    for _ in range(12):
        if x > 0:  # a bool guard at each iteration
            x = x - 1.0
        else:
            x = x * 0.5 + 2.0
        x = x + fnp.sin(x) * 0.0  # a longer block, the same value
    return x


def _program(fun: Callable[..., Any], *args: Any) -> Any:
    return prepare(fg.make_program(fun)(*args))


def _assert_replays_agree(fun: Callable[..., Any], args: tuple[Any, ...], variants: list[tuple[Any, ...]]) -> None:
    """Folded, unfolded, interpreted and a fresh recording (the eager call, traced) give the same bits at ``args``
    and ``variants``."""
    program = _program(fun, *args)
    folded, unfolded, interpreted = compile_program(program), compile_program(program, loops=False), interpret_program(program)
    for where, variant in enumerate([args, *variants]):
        got = outcome(folded, *variant)
        if isinstance(got, type) or (isinstance(got, tuple) and got[0] == "miss"):  # an error, a guard missed
            assert outcome(unfolded, *variant) == got and outcome(interpreted, *variant) == got, f"variant {where}"
            continue
        _assert_same(got, outcome(unfolded, *variant), f"variant {where}: folded vs unfolded")
        _assert_same(got, outcome(interpreted, *variant), f"variant {where}: folded vs interpreted")
        _assert_same(got, outcome(fg.jit(fun), *variant), f"variant {where}: folded vs a fresh recording")


P = np.array([1.5, 1.0, 1.0, 3.0])


def test_an_rk4_gradient_folds_into_a_forward_and_a_backward_loop() -> None:
    program = _program(fg.grad(lambda p: _rk4(p, 12)), P)
    loops = fold(program)
    # the first step reads the Python-float state, so it differs from the others: only its last three RK
    # stages fold (three iterations); then the 11 other steps forward and backward
    assert [loop.count for loop in loops] == [3, 11, 11]
    _, forward, backward = loops
    assert forward.length == 58 and backward.length > forward.length  # the backward step makes more calls
    kinds = {site.kind for loop in loops for row in loop.sites for site in row}
    assert kinds == {"internal", "carried", "invariant", "sequence"}  # the backward pass reads the forward's values
    shown = listing(program, loops)
    assert shown.count("loop 11 times {") == 2
    assert len(shown.splitlines()) < len(str(program).splitlines()) / 4
    source = to_source(program, loops=loops)[0]
    assert "for it1_ in range(11):" in source and "for it2_ in range(11):" in source
    # the backward loop reads the forward loop's lists back to front (no tuple of values built per sequence),
    # the first step's values (before the forward loop) kept first in those lists
    assert not re.search(r"sq\d+_\d+_ = \(", source) and "[10 - it2_]" in source
    assert len(source.splitlines()) < len(to_source(program)[0].splitlines()) / 3


def test_the_folded_source_is_what_jit_compiles() -> None:
    jitted = fg.jit(fg.grad(lambda p: _rk4(p, 12)))
    for _ in range(_jit.INTERPRETED_REPLAYS + 2):
        jitted(P)
    (branch,) = jitted._cache.values()
    assert branch.tier == "compiled"
    assert "in range(11):" in branch.replay.__doc__


@pytest.mark.parametrize(
    ("fun", "args"),
    [
        (fg.grad(lambda p: _rk4(p, 12)), (P,)),
        (lambda p: _rk4(p, 12), (P,)),
        (fg.grad(_array_loop), (np.linspace(-1.0, 1.0, 5),)),
        (fg.value_and_grad(_array_loop), (np.linspace(-1.0, 1.0, 5).astype(np.float32),)),
        (fg.grad(_fibonacci), (np.float64(0.3),)),
        (fg.hessian(lambda p: _rk4(p, 8)), (P,)),
    ],
    ids=["rk4-grad", "rk4-value", "array-grad", "float32-value-and-grad", "two-back", "rk4-hessian"],
)
def test_folded_replays_give_the_unfolded_and_eager_bits(fun: Callable[..., Any], args: tuple[Any, ...]) -> None:
    assert fold(_program(fun, *args)), "nothing folded: the test would test nothing"
    _assert_replays_agree(fun, args, _variants(args))


def test_a_value_read_two_iterations_later_folds_with_a_longer_block() -> None:
    (loop,) = fold(_program(fg.grad(_fibonacci), np.float64(0.3)))[:1]
    assert loop.length % 2 == 0


@pytest.mark.parametrize("fun", [_growing, _each_its_own], ids=["shapes-differ", "primitives-differ"])
def test_no_folding_where_the_blocks_differ(fun: Callable[..., Any]) -> None:
    program = _program(fun, np.linspace(0.1, 0.5, 4))
    assert len(program.steps) >= 24
    assert fold(program) == []
    _assert_replays_agree(fun, (np.linspace(0.1, 0.5, 4),), [(np.linspace(0.2, 0.3, 4),)])


def test_a_guard_in_the_loop_is_checked_at_every_iteration() -> None:
    x = np.float64(30.0)  # every guard True when recorded
    program = _program(_loop_with_guards, x)
    (loop,) = fold(program)
    assert loop.count == 12 and loop.guards_per_block == 1
    folded, unfolded = compile_program(program), compile_program(program, loops=False)
    for start in (30.0, 5.5, 3.5, 0.5, -1.0):  # the guard first misses at another iteration each time
        value = np.float64(start)
        want = outcome(unfolded, value)
        assert outcome(folded, value) == want
        assert outcome(interpret_program(program), value) == want
    misses = [outcome(folded, np.float64(start)) for start in (5.5, 3.5, 0.5, -1.0)]
    assert misses == [("miss", 6), ("miss", 4), ("miss", 1), ("miss", 0)]  # the guard of the iteration that missed


def test_jit_of_a_loop_with_guards_records_the_missed_branch_and_stays_exact() -> None:
    jitted = fg.jit(_loop_with_guards)
    for _ in range(_jit.INTERPRETED_REPLAYS + 2):
        jitted(np.float64(30.0))  # compiled, folded
    assert "for it0_" in next(iter(jitted._cache.values())).replay.__doc__
    for start in (5.5, 30.0, 3.5, 5.5, 0.5):
        got, want = jitted(np.float64(start)), _loop_with_guards(np.float64(start))
        assert type(got) is type(want) and got.tobytes() == want.tobytes()
    assert jitted._cache_size() == 4  # the recording and one branch for each iteration a guard first missed at


def test_a_loop_whose_guard_is_on_a_value_from_before_it_is_not_folded() -> None:
    def f(x: Any) -> Any:
        y = fnp.sin(x)
        for _ in range(12):
            if y > 0:  # a guard on the same value at each iteration: checked once, where y is computed
                x = fnp.cos(x) * 0.5 + x
        return x

    program = _program(f, np.float64(0.5))
    assert all(loop.guards_per_block == 0 for loop in fold(program))
    _assert_replays_agree(f, (np.float64(0.5),), [(np.float64(-0.5),), (np.float64(2.0),)])


@pytest.mark.parametrize("seed", range(0, 60, 6))
def test_random_bodies_in_a_loop(seed: int) -> None:
    body = make_program(seed)
    if body.complex:
        pytest.skip("a complex body: the loop below adds a real step to the input")
    f, x = body.function(), body.input()

    def looped(v: Any) -> Any:
        for _ in range(6):
            v = v + 0.01 * fnp.tanh(fnp.real(fnp.sum(f(v))))
        return fnp.sum(v * v)

    for fun in (looped, fg.grad(looped)):
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                program = _program(fun, x)
        except Exception:  # noqa: BLE001  (a body that cannot be recorded at this input: nothing to compare)
            continue
        fold(program)
        _assert_replays_agree(fun, (x,), _variants((x,)))


def test_random_bodies_fold() -> None:
    """Most random bodies repeated in a loop are folded (a check that the test above tests folding)."""
    folded = 0
    for seed in range(0, 60, 6):
        body = make_program(seed)
        if body.complex:
            continue
        f, x = body.function(), body.input()

        def looped(v: Any, f: Any = f) -> Any:
            for _ in range(6):
                v = v + 0.01 * fnp.tanh(fnp.real(fnp.sum(f(v))))
            return fnp.sum(v * v)

        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                folded += bool(fold(_program(fg.grad(looped), x)))
        except Exception:  # noqa: BLE001
            continue
    assert folded >= 5
