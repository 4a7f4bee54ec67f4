"""jit's simplification pass: calls returning an input unchanged are dropped, and only those, bit for bit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._simplify import simplify

pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # sin(inf)

SPECIALS = np.array([-0.0, 0.0, 1.5, -2.0, np.inf, -np.inf, np.nan, 5e-324])


def identical(a: Any, b: Any) -> None:
    """The same pytree, types, dtypes and bytes (so ``-0.0`` differs from ``0.0``)."""
    leaves_a, tree_a = fg.tree.tree_flatten(a)
    leaves_b, tree_b = fg.tree.tree_flatten(b)
    assert tree_a == tree_b
    for x, y in zip(leaves_a, leaves_b):
        assert type(x) is type(y)
        assert np.asarray(x).dtype == np.asarray(y).dtype and np.shape(x) == np.shape(y)
        assert np.asarray(x).tobytes() == np.asarray(y).tobytes(), (x, y)


def calls(fun: Any, *args: Any) -> list[str]:
    """The primitive names jit replays for ``fun`` at ``args``."""
    return [eqn.prim.name for eqn in simplify(fg.make_program(fun)(*args).pruned()).eqns]


def replays_exactly(fun: Any, *inputs: Any) -> None:
    jitted = fg.jit(fun)
    jitted(*inputs[0])
    for args in inputs:
        identical(jitted(*args), fun(*args))


def test_the_seed_of_a_sum_is_not_multiplied_in() -> None:
    loss = lambda x: fnp.sum(fnp.sin(x))
    assert calls(fg.grad(loss), SPECIALS) == ["cos"]
    replays_exactly(fg.grad(loss), (SPECIALS,), (-SPECIALS,), (SPECIALS.astype(np.float32),))


def test_exact_identities_are_dropped_for_every_value() -> None:
    def f(x: Any) -> Any:
        y = fnp.sin(x)
        return y + fg.stop_gradient(y).astype(x.dtype)

    assert calls(f, SPECIALS) == ["sin", "add"]
    replays_exactly(f, (SPECIALS,), (-SPECIALS,))
    integers = lambda n: (n * 1) * np.ones(3, np.int64) - n
    assert calls(integers, np.arange(3)) == ["subtract"]
    replays_exactly(integers, (np.arange(3),), (np.array([-5, 0, 7]),))


def test_inexact_or_changing_calls_are_kept() -> None:
    cases = {
        "adding zero (-0.0 + 0.0 is +0.0)": (lambda x: fnp.sin(x) + 0.0, ["sin", "add"]),
        "a float one (it quiets a signalling NaN)": (lambda x: fnp.sin(x) * 1.0, ["sin", "multiply"]),
        "a float division by one": (lambda x: fnp.sin(x) / np.ones(8), ["sin", "divide"]),
        "a complex one": (lambda x: fnp.sin(x) * (1 + 0j), ["sin", "multiply"]),
        "ones that broadcast": (lambda x: fnp.sin(x) * np.ones((2, 8)), ["sin", "multiply"]),
        "a float one on integers": (lambda x: fnp.floor(x).astype(np.int64) * 1.0, ["floor", "astype", "multiply"]),
        "a cast to another dtype": (lambda x: fnp.sin(x).astype(np.float32), ["sin", "astype"]),
    }
    for name, (fun, expected) in cases.items():
        assert calls(fun, SPECIALS) == expected, name
        replays_exactly(fun, (SPECIALS,), (-SPECIALS,))


def test_returned_values_stay_fresh_arrays() -> None:
    x = np.array([1.0, -2.0, 3.0])
    assert calls(lambda v: v * 1.0, x) == ["multiply"]  # else the caller would get its own array back
    assert calls(lambda v: fnp.transpose(v[None]) * 1.0, x) == ["getitem", "transpose", "multiply"]  # a view
    assert calls(lambda v: (fnp.sin(v), fnp.sin(v).astype(np.float64)), x) == ["sin", "sin"]
    twice = lambda v: (lambda s: (s, s.astype(np.float64)))(fnp.sin(v))
    assert calls(twice, x) == ["sin", "astype"]  # one array returned twice would alias two results
    viewed = lambda v: (lambda s: (s.astype(np.float64), s[1:]))(fnp.sin(v))
    assert calls(viewed, x) == ["sin", "astype", "getitem"]  # the cast's input has a view returned too
    jitted = fg.jit(lambda v: v * 1.0)
    jitted(x)
    result = jitted(x)
    assert result is not x and not np.shares_memory(result, x)
    jitted_twice = fg.jit(twice)
    jitted_twice(x)
    first, second = jitted_twice(x)
    assert not np.shares_memory(first, second)


def test_a_guard_on_a_dropped_call_is_checked_on_its_input() -> None:
    def f(x: Any) -> Any:
        return fnp.cos(x) if fg.stop_gradient(x) else fnp.sin(x)

    program = simplify(fg.make_program(f)(np.float64(2.0)).pruned())
    assert [eqn.prim.name for eqn in program.eqns] == ["cos"] and program.guards[0].var is program.inputs[0]
    jitted = fg.jit(f)
    for x in (2.0, 0.0, -1.0, 0.0, 3.0):
        identical(jitted(np.float64(x)), f(np.float64(x)))
    assert jitted._cache_size() == 2


def test_a_user_primitive_named_like_numpys_is_not_simplified_as_it() -> None:
    """The simplifier knows NumPy's multiply and astype by their objects, not by their names."""
    from funcgrad import extend

    fake_multiply = extend.primitive(lambda x, y: x + y, "multiply")
    fake_astype = extend.primitive(lambda x: x + 1.0, "astype")
    x = np.linspace(0.0, 1.0, 3)
    want = (np.sin(x) + 1.0) * 2.0
    for fun in (lambda x: fake_multiply(fnp.sin(x), 1.0) * 2.0, lambda x: fake_astype(fnp.sin(x)) * 2.0):
        program = fg.make_program(fun)(x).pruned()
        assert len(simplify(program).eqns) == 3
        jitted = fg.jit(fun)
        assert np.array_equal(jitted(x), want)
        assert np.array_equal(jitted(x), want)  # the replay, simplified
    # NumPy's own cast to the dtype a value has already is still dropped
    program = fg.make_program(lambda x: fnp.sin(x).astype(np.float64) * 2.0)(x).pruned()
    assert [eqn.prim.name for eqn in simplify(program).eqns] == ["sin", "multiply"]


def test_calls_reading_no_dropped_value_are_kept_as_recorded() -> None:
    # a long recording's calls are not copied one by one: only a call reading a dropped call's value is new
    program = fg.make_program(lambda x: fnp.sin(fg.stop_gradient(fnp.cos(x))) * 2.0 + x)(np.ones(3)).pruned()
    simplified = simplify(program)
    before, after = program.eqns, simplified.eqns
    assert [e.prim.name for e in after] == ["cos", "sin", "multiply", "add"]
    assert after[0] is before[0]  # cos a
    assert after[1] is not before[2] and after[1].inputs[0] is before[0].out  # sin reads cos's value directly
    assert after[2] is before[3] and after[3] is before[4]
