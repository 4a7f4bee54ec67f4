"""jit's tiers: a recording is interpreted on its first replays, then compiled to Python source; both give the
eager call's bits, check every guard, and the switch happens when documented.

The interpreted replay (``interpret_program``) and the generated source (``compile_program``) are run on the
same prepared program (with its NumPy-scalar fallback, as a cached branch runs them: ``replays``) over the
registry's cases (tests/test_jit_registry.py) and over random programs
(tests/random_programs.py), at the recorded inputs and in other regions, against a fresh recording.
"""

from __future__ import annotations

import gc
import logging
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import outcome
from random_programs import make_program
from test_jit_registry import ALL, DEFAULT, _assert_same, _modes, _variants

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import _jit, _rewrites
from funcgrad._jit import replays


def _both_tiers(fun: Callable[..., Any], args: tuple[Any, ...]) -> list[tuple[Any, Any, Any, str]]:
    """For the recorded arguments and each variant: (interpreted, compiled, fresh recording, where)."""
    jitted = fg.jit(fun)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            jitted(*args)
    except Exception:  # noqa: BLE001
        return []
    (branch,) = jitted._cache.values()
    interpreted, compiled = replays(branch.program)
    rows = []
    for k, variant in enumerate([args, *_variants(args)]):
        leaves = fg.tree.tree_flatten((variant, {}))[0]
        fresh = fg.jit(fun)
        eager = outcome(fresh, *variant)
        got_i, got_c = outcome(interpreted, *leaves), outcome(compiled, *leaves)
        rows.append((got_i, got_c, eager, f"variant {k}"))
    return rows


def _same_tiers(got_i: Any, got_c: Any, eager: Any, where: str) -> None:
    if isinstance(got_i, tuple) and got_i and got_i[0] == "miss":
        assert got_c == got_i, f"{where}: interpreted {got_i}, compiled {got_c}"
        return  # a guard disagrees: the call records again (the fresh recording is that)
    _assert_same(got_i, got_c, f"{where}: interpreted vs compiled")
    _assert_same(got_i, eager, f"{where}: interpreted vs eager")


CASES = [
    pytest.param(fn, args, mode, id=f"{name}-{mode}")
    for name, fn, args, _ in ALL
    if name in DEFAULT
    for mode in ("value", "grad")
]


@pytest.mark.parametrize(("fn", "args", "mode"), CASES)
def test_interpreted_and_compiled_replays_give_the_eager_bits(fn: Any, args: tuple[Any, ...], mode: str) -> None:
    for row in _both_tiers(_modes(fn, len(args))[mode], args):
        _same_tiers(*row)


@pytest.mark.parametrize("seed", range(0, 100, 5))
def test_random_programs_in_both_tiers(seed: int) -> None:
    program = make_program(seed)
    f, x = program.function(), program.input()
    total = lambda v: fnp.real(fnp.sum(f(v)))  # noqa: E731
    for fun in (f, fg.grad(total) if not program.complex else f):
        for got_i, got_c, eager, where in _both_tiers(fun, (x,)):
            _same_tiers(got_i, got_c, eager, f"seed {seed} {where}")


def _branch(jitted: Any) -> Any:
    (branch,) = jitted._cache.values()
    return branch


def test_the_tiers_switch_after_the_documented_replays() -> None:
    calls = []

    def f(x: Any) -> Any:
        calls.append(1)
        return fnp.sin(x) * 2.0 - x

    jitted = fg.jit(f)
    x = np.linspace(0.0, 1.0, 5)
    want = f(x)
    tiers = []
    for _ in range(_jit.INTERPRETED_REPLAYS + 3):
        np.testing.assert_array_equal(jitted(x), want)
        tiers.append(_branch(jitted).tier)
    assert tiers == ["recorded"] + ["interpreted"] * _jit.INTERPRETED_REPLAYS + ["compiled"] * 2
    assert len(calls) == 2  # the eager reference above, and the one recording
    assert "def replay(a):" in _branch(jitted).replay.__doc__  # the generated source, kept as its docstring


def _halve_until_small(x: Any) -> Any:
    while fnp.maximum(x - 1.0, 0.0):  # a bool guard each time round
        x = x / 2.0
    return x


def _positives(x: Any) -> Any:
    return fnp.sum(x[x > 0] ** 2)  # a shape guard after the boolean mask


def _repeated(x: Any) -> Any:
    return fnp.repeat(x, np.int64(fnp.sum(x > 0)))  # a value guard on the count


@pytest.mark.parametrize("interpreted", [0, 1000], ids=["compiled", "interpreted"])
@pytest.mark.parametrize(
    ("fun", "inputs"),
    [
        (_halve_until_small, [np.float64(8.0), np.float64(3.0), np.float64(5.0), np.float64(0.5), np.float64(7.0)]),
        (_positives, [np.array([1.0, -2.0, 3.0]), np.array([-1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0])]),
        (_repeated, [np.array([1.0, -2.0]), np.array([1.0, 2.0]), np.array([-1.0, 2.0]), np.array([-1.0, -2.0])]),
    ],
    ids=["bool", "shape", "value"],
)
def test_guards_hold_in_either_tier(monkeypatch: Any, interpreted: int, fun: Any, inputs: list[Any]) -> None:
    monkeypatch.setattr(_jit, "INTERPRETED_REPLAYS", interpreted)
    jitted = fg.jit(fun)
    for _ in range(3):
        for x in inputs:
            got, want = jitted(x), fg.jit(fun)(x)
            assert type(got) is type(want)
            np.testing.assert_array_equal(got, want)
    tiers = {branch.tier for branch in _walk(_branch_roots(jitted))}
    assert tiers == {"compiled" if interpreted == 0 else "interpreted"}
    assert jitted._cache_size() > 1  # the guards missed and the other branches were recorded


def _branch_roots(jitted: Any) -> list[Any]:
    return list(jitted._cache.values())


def _walk(branches: list[Any]) -> list[Any]:
    out = []
    for branch in branches:
        out.append(branch)
        out.extend(_walk(list(branch.branches.values())))
    return out


def test_a_long_recording_is_said_once(monkeypatch: Any, caplog: Any) -> None:
    monkeypatch.setattr(_jit, "LONG_RECORDING", 0.0)
    jitted = fg.jit(lambda x: fnp.cos(x) + 1.0)
    with caplog.at_level(logging.WARNING, logger="funcgrad.jit"):
        jitted(np.ones(2))
        jitted(np.ones(3))  # another signature: recorded again, not said again
        jitted(np.ones(3))
    said = [record.getMessage() for record in caplog.records if record.name == "funcgrad.jit"]
    assert len(said) == 1
    assert "recording" in said[0] and "took" in said[0] and "cache_limit" in said[0] and "clear_cache()" in said[0]


def test_a_short_recording_says_nothing(caplog: Any) -> None:
    with caplog.at_level(logging.DEBUG, logger="funcgrad.jit"):
        fg.jit(lambda x: x * 2.0)(np.ones(2))
    assert not [record for record in caplog.records if record.name == "funcgrad.jit"]


def test_negation_is_replayed_as_the_operator_with_numpy_s_bits() -> None:
    f = lambda x: -fnp.sin(x)  # noqa: E731
    program = fg.make_program(f)(np.float64(0.5))
    source = _jit.to_source(program)[0]
    assert "= -b" in source, source
    for x in (np.float64(0.5), np.float64(-0.0), np.float64(np.nan), np.array([0.0, -np.nan, np.inf]), np.float32(2)):
        jitted = fg.jit(f)
        with np.errstate(invalid="ignore"):
            want = jitted(x)
        for _ in range(_jit.INTERPRETED_REPLAYS + 2):
            with np.errstate(invalid="ignore"):
                got = jitted(x)
            assert type(got) is type(want)
            np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("seed", range(1, 100, 7))
def test_random_programs_writing_into_every_dying_array(monkeypatch: Any, seed: int) -> None:
    # results written into dying operands however small (the workloads' threshold is 4096 elements)
    monkeypatch.setattr(_rewrites, "_INTO_SIZE", 1)
    program = make_program(seed)
    f, x = program.function(), program.input()
    total = lambda v: fnp.real(fnp.sum(f(v)))  # noqa: E731
    for fun in (f, fg.grad(total) if not program.complex else f):
        for got_i, got_c, eager, where in _both_tiers(fun, (x,)):
            _same_tiers(got_i, got_c, eager, f"seed {seed} {where}")


# --- a long recording is prepared in stages, one a replay ----------------------------------------------------


def _loop_gradient(p: Any) -> Any:
    u, v = 1.0, 1.0
    for _ in range(12):  # a Python loop on scalars: the recording repeats one block, forward and backward
        u, v = u + 0.1 * (p[0] * u - p[1] * u * v), v + 0.1 * (p[2] * u * v - p[3] * v)
    return (u - 1.2) ** 2 + fnp.sin(v)


STAGES = ["interpreted", "simplified", "merged", "in place", "on floats", "interpreted", "folded", "compiled"]


def test_a_long_recording_is_prepared_one_stage_a_replay(monkeypatch: Any) -> None:
    monkeypatch.setattr(_jit, "STAGED_STEPS", 10)  # this recording counts as long
    g = fg.grad(_loop_gradient)
    jitted = fg.jit(g)
    p = np.array([1.5, 1.0, 1.0, 3.0])
    inputs = [p, p * 0.9, p * 1.1]
    done = []
    for call in range(len(STAGES) + 3):
        x = inputs[call % 3]
        _assert_same(jitted(x), g(x), f"call {call}")
        if call:
            (branch,) = jitted._cache.values()
            done.append(list(branch.stages))
    # replay k did stage k and nothing more; then nothing is left to do
    assert done[: len(STAGES)] == [STAGES[: k + 1] for k in range(len(STAGES))]
    assert done[-1] == STAGES and branch.tier == "compiled"
    assert "for it" in branch.replay.__doc__  # the folded source
    assert any(eqn.out.type is float for eqn in branch.program.eqns)  # prepared: arithmetic on Python floats


def test_staged_preparation_keeps_guards_and_the_fallback(monkeypatch: Any) -> None:
    monkeypatch.setattr(_jit, "STAGED_STEPS", 0)

    def f(x: Any) -> Any:
        y = x * 2.0 - 1.0
        return y * y if y > 0 else y * 1e308 * 10.0  # a bool guard; the product overflows (NumPy warns)

    jitted = fg.jit(f)
    for call in range(len(STAGES) + 2):
        for x in (np.float64(0.75), np.float64(0.25), np.float64(0.9)):
            with warnings.catch_warnings(record=True) as got_warned, np.errstate(over="warn"):
                warnings.simplefilter("always")
                got = jitted(x)
            with warnings.catch_warnings(record=True) as want_warned, np.errstate(over="warn"):
                warnings.simplefilter("always")
                want = f(x)
            assert type(got) is type(want) and got.tobytes() == want.tobytes(), f"call {call} at {x}"
            assert len(got_warned) == len(want_warned) == (x == 0.25)
    assert jitted._cache_size() == 2
    assert {branch.tier for branch in _walk(_branch_roots(jitted))} == {"compiled"}


def test_a_short_recording_is_prepared_at_once() -> None:
    jitted = fg.jit(fg.grad(_loop_gradient))
    p = np.array([1.5, 1.0, 1.0, 3.0])
    for _ in range(_jit.INTERPRETED_REPLAYS + 2):
        jitted(p)
    (branch,) = jitted._cache.values()
    assert branch.stages == ["prepared", "interpreted", "compiled"]


def _in_generation(obj: Any, generation: int) -> bool:
    return any(other is obj for other in gc.get_objects(generation=generation))


def test_a_long_recording_goes_to_the_oldest_generation_unwalked(monkeypatch: Any) -> None:
    monkeypatch.setattr(_jit, "PROMOTED", 100)  # this recording counts as long
    p = np.array([1.5, 1.0, 1.0, 3.0])
    gc.collect()
    jitted = fg.jit(fg.grad(_loop_gradient))
    jitted(p)
    (branch,) = jitted._cache.values()
    # the program's objects were moved to the oldest generation as they were, not walked by a young collection
    assert _in_generation(branch.program.steps[-1], 2) and _in_generation(branch.program.steps[-1].out, 2)
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_objects_frozen_by_the_process_stay_frozen(monkeypatch: Any) -> None:
    monkeypatch.setattr(_jit, "PROMOTED", 100)
    p = np.array([1.5, 1.0, 1.0, 3.0])
    marker: list[Any] = []
    gc.collect()
    gc.freeze()
    try:
        jitted = fg.jit(fg.grad(_loop_gradient))
        jitted(p)
        assert gc.get_freeze_count() and not any(marker is obj for g in range(3) for obj in gc.get_objects(g))
        (branch,) = jitted._cache.values()
        assert not _in_generation(branch.program.steps[-1], 2)
    finally:
        gc.unfreeze()
