"""jit's replay rewrites (funcgrad/_rewrites.py): fewer NumPy calls, the eager call's bits.

The registry-wide and random-program checks of every rewrite, in both tiers, are in
tests/test_jit_tiers.py (and tests/test_jit_registry.py replays through them); here, each rewrite
happens where it should, not where it must not, and keeps the bits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import _jit
from funcgrad._jit import prepare


def _prepared(fun: Callable[..., Any], *args: Any) -> Any:
    return prepare(fg.make_program(fun)(*args))


def _names(program: Any) -> list[str]:
    return [eqn.prim.name for eqn in program.eqns]


def _replays_match(fun: Callable[..., Any], *args: Any) -> None:
    """Every tier's replay gives the recording's leaves: types, dtypes, bits and signs of zero."""
    jitted = fg.jit(fun)
    want = fg.tree.tree_flatten(jitted(*args))[0]
    for _ in range(_jit.INTERPRETED_REPLAYS + 2):
        got = fg.tree.tree_flatten(jitted(*args))[0]
        for g, w in zip(got, want, strict=True):
            assert type(g) is type(w)
            assert np.asarray(g).dtype == np.asarray(w).dtype
            np.testing.assert_array_equal(g, w)
            np.testing.assert_array_equal(np.signbit(g), np.signbit(w))


def test_an_exact_duplicate_is_computed_once() -> None:
    f = lambda x: fnp.sin(x) * fnp.sin(x) + fnp.exp(x) / fnp.exp(x)  # noqa: E731
    x = np.linspace(-1.0, 1.0, 7)
    assert _names(fg.make_program(f)(x)).count("sin") == 2
    program = _prepared(f, x)
    assert _names(program).count("sin") == 1 and _names(program).count("exp") == 1
    _replays_match(f, x)


def test_the_gradient_of_a_square_multiplies_once() -> None:
    f = fg.grad(lambda x: fnp.sum(fnp.tanh(x) * fnp.tanh(x)))
    x = np.linspace(-1.0, 1.0, 5)
    before, after = fg.make_program(f)(x).pruned(), _prepared(f, x)
    assert len(after.eqns) < len(before.eqns)
    _replays_match(f, x)


def test_an_element_read_twice_is_read_once_a_view_twice() -> None:
    f = lambda p: p[0] * p[1] + p[0] * p[1] + fnp.sum(p[0:2] * p[0:2])  # noqa: E731
    x = np.array([1.5, -2.0, 0.25])
    assert _names(fg.make_program(f)(x)).count("getitem") == 6
    program = _prepared(f, x)
    assert _names(program).count("getitem") == 4  # p[0], p[1] once each; the slices (views) twice
    _replays_match(f, x)
    _replays_match(fg.grad(f), x)


def test_returned_duplicates_stay_two_arrays() -> None:
    f = lambda x: (fnp.sin(x), fnp.sin(x))  # noqa: E731
    x = np.ones(3)
    assert _names(_prepared(f, x)).count("sin") == 2
    jitted = fg.jit(f)
    for _ in range(_jit.INTERPRETED_REPLAYS + 2):
        a, b = jitted(x)
        assert not np.shares_memory(a, b)


@pytest.mark.parametrize(
    ("first", "second"),
    [(0.0, -0.0), (2.0, np.float64(2.0)), (np.float32(2.0), np.float64(2.0)), (3, 3.0), (np.nan, -np.nan)],
)
def test_constants_differing_in_type_or_bits_are_not_merged(first: Any, second: Any) -> None:
    f = lambda x: (x * first + x * second) * 1.5  # noqa: E731
    x = np.array([1.0, -2.0, np.inf], np.float32)
    with np.errstate(invalid="ignore"):
        assert _names(_prepared(f, x)).count("multiply") == 3
        _replays_match(f, x)


def test_the_gradient_of_a_scaled_sum_keeps_no_array_constant() -> None:
    f = fg.grad(lambda x: fnp.sum(fnp.tanh(x) + 0.1 * x))
    x = np.linspace(-2.0, 2.0, 1000)
    arrays = lambda p: [a for e in p.eqns for a in e.inputs if isinstance(getattr(a, "value", None), np.ndarray)]  # noqa: E731
    assert arrays(fg.make_program(f)(x).pruned())
    program = _prepared(f, x)
    assert not arrays(program), program
    _replays_match(f, x)


@pytest.mark.parametrize(
    ("constant", "x"),
    [
        (np.full((2, 3), 0.1), np.ones((2, 3))),  # two axes: the result's layout could differ
        (np.array([0.1, 0.2, 0.1]), np.ones(3)),  # not uniform
        (np.full(3, 0.1), np.float64(1.0)),  # the constant decides the broadcast
        (np.array([0.0, -0.0, 0.0]), np.ones(3)),  # equal values, different bits
    ],
    ids=["matrix", "varied", "broadcast", "signed-zeros"],
)
def test_an_array_constant_stays_an_array_where_a_scalar_could_differ(constant: np.ndarray, x: Any) -> None:
    f = lambda v: fnp.sin(v) + constant  # noqa: E731
    program = _prepared(f, x)
    (add,) = [eqn for eqn in program.eqns if eqn.prim.name == "add"]
    assert any(type(getattr(a, "value", None)) is np.ndarray for a in add.inputs)
    _replays_match(f, x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("value", [0.1, -0.0, np.nan, np.inf])
def test_a_uniform_constant_read_as_a_scalar_keeps_the_bits(dtype: Any, value: float) -> None:
    constant = np.full(4, value, dtype)
    x = np.array([1.5, -0.0, np.inf, 3.0], np.float32)
    for op in (np.add, np.subtract, np.multiply, np.divide):
        for f in (lambda v, op=op: op(fnp.cos(v), constant), lambda v, op=op: op(constant, fnp.cos(v))):
            with np.errstate(all="ignore"):
                program = _prepared(f, x)
                _replays_match(f, x)
            assert not [a for e in program.eqns for a in e.inputs if type(getattr(a, "value", None)) is np.ndarray]


def _shifted_layer(ps: Any) -> Any:
    kernel, image = ps
    out = 0.0
    for k in range(9):
        i, j = divmod(k, 3)
        out = out + fnp.einsum("oc,bchw->bohw", kernel[k], image[:, :, i : i + 4, j : j + 4])
    return fnp.sum(fnp.tanh(out))


def test_slice_cotangents_are_added_into_one_array() -> None:
    rng = np.random.default_rng(3)
    params = [rng.standard_normal((9, 2, 2)), rng.standard_normal((2, 2, 6, 6))]
    f = fg.grad(_shifted_layer)
    program = _prepared(f, params)
    image = [eqn for eqn in program.eqns if eqn.out.shape == (2, 2, 6, 6)]
    # the first slice's cotangent in a fresh array, the other eight added into it where they land (no array
    # of zeros added whole)
    assert [eqn.prim.name for eqn in image] == ["index_add"] + ["index_add_into"] * 8
    assert [eqn.prim.name for eqn in program.eqns if eqn.out.shape == (9, 2, 2)] == ["index_add"] + ["index_add_into"] * 8
    _replays_match(f, params)
    eager = f(params)
    for got, want in zip(fg.jit(f)(params), eager, strict=True):
        np.testing.assert_array_equal(got, want)


def test_a_slice_cotangent_is_added_into_a_copy_of_an_array_read_elsewhere() -> None:
    # y is returned, and read twice: adding into it would change what the caller or the second reader sees
    def f(x: Any, v: Any) -> Any:
        y = fnp.sin(x)
        return y.at[1:3].add(v), y.at[0].add(v[0]), y

    x, v = np.linspace(0.0, 1.0, 5), np.array([2.0, 3.0])
    program = _prepared(f, x, v)
    assert "index_add_into" not in _names(program)
    _replays_match(f, x, v)


def test_slice_cotangents_keep_the_sign_of_a_zero() -> None:
    # x's cotangent is -0.0 everywhere before the slice's -0.0 is added where it lands: -0.0 stays (an array
    # of zeros added whole would have made every position +0.0), eagerly and in every replay
    f = fg.grad(lambda x: fnp.sum(x[1:] * -0.0) + fnp.sum(x * -0.0))
    x = np.array([1.0, -2.0, 3.0, 0.5])
    eager = f(x)
    assert np.signbit(eager).all()
    jitted = fg.jit(f)
    for _ in range(_jit.INTERPRETED_REPLAYS + 2):
        got = jitted(x)
        np.testing.assert_array_equal(got, eager)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(eager))
