"""Functions with no derivative read traced values and return what NumPy returns on the values.

Each case runs under reverse mode, forward mode and a nested transform, called
both as ``funcgrad.numpy.<name>`` and as plain ``numpy.<name>`` on the traced
value; the result must equal NumPy's on the plain input and hold no tracer.
"""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._trace import Tracer
from funcgrad.testing import check_grads

X = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, 3.0]])
SPECIAL = np.array([1.0, np.inf, -np.inf, np.nan, -0.0])
SORTED = np.array([-1.0, 0.25, 0.75, 2.0])

# (name, input, call(namespace, x))
CASES = [
    ("argmax", X, lambda ns, x: ns.argmax(x)),
    ("argmax_axis", X, lambda ns, x: ns.argmax(x, axis=1)),
    ("argmin", X, lambda ns, x: ns.argmin(x, axis=0)),
    ("argsort", X, lambda ns, x: ns.argsort(x, axis=-1)),
    ("nanargmax", SPECIAL[[0, 3, 4]], lambda ns, x: ns.nanargmax(x)),
    ("nanargmin", SPECIAL[[0, 3, 4]], lambda ns, x: ns.nanargmin(x)),
    ("argpartition", X, lambda ns, x: ns.argpartition(x, 1, axis=1)),
    ("lexsort", X, lambda ns, x: ns.lexsort((x[0], x[1]))),
    ("isin", X, lambda ns, x: ns.isin(x, [3.0, 0.5])),
    ("result_type", X, lambda ns, x: ns.result_type(x, np.float32)),
    ("can_cast", X, lambda ns, x: ns.can_cast(x, np.float32)),
    ("min_scalar_type", X, lambda ns, x: ns.min_scalar_type(x)),
    ("array2string", X, lambda ns, x: ns.array2string(x, precision=2)),
    ("array_repr", X, lambda ns, x: ns.array_repr(x)),
    ("array_str", X, lambda ns, x: ns.array_str(x)),
    ("argwhere", X, lambda ns, x: ns.argwhere(x)),
    ("nonzero", X, lambda ns, x: ns.nonzero(x)),
    ("flatnonzero", X, lambda ns, x: ns.flatnonzero(x)),
    ("searchsorted_values", X, lambda ns, x: ns.searchsorted(SORTED, x)),
    ("searchsorted_sorted", SORTED, lambda ns, s: ns.searchsorted(s, [0.0, 1.0], side="right")),
    ("digitize", X, lambda ns, x: ns.digitize(x, SORTED)),
    ("count_nonzero", X, lambda ns, x: ns.count_nonzero(x, axis=0)),
    ("isfinite", SPECIAL, lambda ns, x: ns.isfinite(x)),
    ("isnan", SPECIAL, lambda ns, x: ns.isnan(x)),
    ("isinf", SPECIAL, lambda ns, x: ns.isinf(x)),
    ("isposinf", SPECIAL, lambda ns, x: ns.isposinf(x)),
    ("isneginf", SPECIAL, lambda ns, x: ns.isneginf(x)),
    ("signbit", SPECIAL, lambda ns, x: ns.signbit(x)),
    ("isreal", X, lambda ns, x: ns.isreal(x)),
    ("iscomplex", X, lambda ns, x: ns.iscomplex(x)),
    ("iscomplexobj", X, lambda ns, x: ns.iscomplexobj(x)),
    ("isrealobj", X, lambda ns, x: ns.isrealobj(x)),
    ("isclose", X, lambda ns, x: ns.isclose(x, X + 1e-12)),
    ("isclose_nan", SPECIAL, lambda ns, x: ns.isclose(x, SPECIAL, equal_nan=True)),
    ("allclose", X, lambda ns, x: ns.allclose(X, x)),
    ("array_equal", X, lambda ns, x: ns.array_equal(x, X)),
    ("array_equiv", X, lambda ns, x: ns.array_equiv(x, X[0])),
    ("any", X, lambda ns, x: ns.any(x > 2.5, axis=1)),
    ("all", X, lambda ns, x: ns.all(x, axis=0)),
    ("greater", X, lambda ns, x: ns.greater(x, 0.5)),
    ("greater_equal", X, lambda ns, x: ns.greater_equal(0.5, x)),
    ("less", X, lambda ns, x: ns.less(x, X[::-1])),
    ("less_equal", X, lambda ns, x: ns.less_equal(x, 1.0)),
    ("equal", X, lambda ns, x: ns.equal(x, 3.0)),
    ("not_equal", X, lambda ns, x: ns.not_equal(x, x)),
    ("logical_and", X, lambda ns, x: ns.logical_and(x, x > 0.7)),
    ("logical_or", X, lambda ns, x: ns.logical_or(x, False)),
    ("logical_not", X, lambda ns, x: ns.logical_not(x)),
    ("logical_xor", X, lambda ns, x: ns.logical_xor(x, X[::-1])),
    ("floor_divide", X, lambda ns, x: ns.floor_divide(x, 0.75)),
    ("floor_divide_left", X + 5.0, lambda ns, x: ns.floor_divide(7.0, x)),
    ("shape", X, lambda ns, x: ns.shape(x)),
    ("ndim", X, lambda ns, x: ns.ndim(x)),
    ("size", X, lambda ns, x: ns.size(x)),
]


def _holds_tracer(value):
    if isinstance(value, Tracer):
        return True
    if isinstance(value, (list, tuple)):
        return any(_holds_tracer(v) for v in value)
    return False


def _results_under(transform, call, namespace, x):
    seen = []
    finite = np.isfinite(x)

    def f(v):
        seen.append(call(namespace, v))
        return fnp.sum(fnp.where(finite, v, 0.0) ** 2)

    if transform == "grad":
        fg.grad(f)(x)
    elif transform == "jvp":
        fg.jvp(f, (x,), (np.ones_like(x),))
    else:
        fg.jacfwd(fg.grad(f))(x)
    return seen


@pytest.mark.parametrize("transform", ["grad", "jvp", "nested"])
@pytest.mark.parametrize("namespace", [fnp, np], ids=["fnp", "np"])
@pytest.mark.parametrize(("name", "x", "call"), CASES, ids=[c[0] for c in CASES])
def test_reads_values_and_returns_plain_numpy(name, x, call, namespace, transform):
    expected = call(np, x)
    for got in _results_under(transform, call, namespace, x):
        assert not _holds_tracer(got)
        assert type(got) is type(expected)
        np.testing.assert_equal(got, expected)


def test_plain_calls_match_numpy():
    for name, x, call in CASES:
        np.testing.assert_equal(call(fnp, x), call(np, x), err_msg=name)


def test_index_from_argmax_selects_with_a_derivative():
    def f(x):
        i = np.argmax(x)
        return x[i] ** 2 + fnp.sum(x[fnp.argsort(x)[:1]])

    np.testing.assert_array_equal(fg.grad(f)(np.array([1.0, 3.0, 2.0])), [1.0, 6.0, 0.0])


def test_methods_of_traced_arrays():
    seen = []

    def f(v):
        seen.append((v.argmax(), v.argmin(axis=0), v.argsort(), v.nonzero(), v.any(), v.all(axis=1)))
        return fnp.sum(v)

    fg.grad(f)(X)
    expected = (X.argmax(), X.argmin(axis=0), X.argsort(), X.nonzero(), X.any(), X.all(axis=1))
    np.testing.assert_equal(seen[0], expected)


def test_operators_floor_divide_and_divmod():
    x = np.array([5.5, -2.25])
    seen = []

    def f(v):
        quotient, rest = divmod(v, 2.0)
        seen.append((v // 2.0, 7.0 // v, quotient, round(v)))
        return fnp.sum(rest + (3.0 % v))

    grad = fg.grad(f)(x)
    np.testing.assert_equal(seen[0], (x // 2.0, 7.0 // x, x // 2.0, np.round(x)))
    assert not _holds_tracer(seen[0])
    np.testing.assert_allclose(grad, 1.0 - np.floor_divide(3.0, x))
    check_grads(lambda v: divmod(v, 2.0)[1] * v, (x,), order=2)


def test_comparisons_with_an_ndarray_on_the_left_are_plain():
    seen = []

    def f(v):
        seen.append((X > v, X <= v, X == v))
        return fnp.sum(v)

    fg.grad(f)(X[::-1])
    np.testing.assert_equal(seen[0], (X > X[::-1], X <= X[::-1], X == X[::-1]))
    assert not _holds_tracer(seen[0])


def test_out_argument_writes_a_plain_result_into_a_traced_value():
    def f(v):
        np.isfinite(X, out=v)
        return v

    np.testing.assert_array_equal(fg.grad(lambda v: fnp.sum(f(v)))(X), np.zeros_like(X))  # overwritten
    np.testing.assert_array_equal(fg.grad(lambda v: fnp.sum(fnp.greater(X, 0, out=v)))(X), np.zeros_like(X))


@pytest.mark.parametrize("namespace", [fnp, np], ids=["fnp", "np"])
def test_unique_values_keep_their_derivative(namespace):
    x = np.array([2.0, 1.0, 2.0, 3.0])
    weights = np.array([10.0, 20.0, 30.0])

    def f(v):
        values, index, inverse, counts = namespace.unique(v, return_index=True, return_inverse=True, return_counts=True)
        np.testing.assert_array_equal(index, [1, 0, 3])
        np.testing.assert_array_equal(inverse, [1, 0, 1, 2])
        np.testing.assert_array_equal(counts, [1, 2, 1])
        return fnp.sum(values * weights)

    np.testing.assert_array_equal(fg.grad(f)(x), [20.0, 10.0, 0.0, 30.0])
    check_grads(lambda v: namespace.unique(v) ** 2, (np.array([2.0, 1.0, 3.0]),), order=2)  # distinct: stays distinct


def test_unique_of_a_list_of_traced_values_keeps_the_derivative():
    grad = fg.grad(lambda v: fnp.sum(fnp.unique([v[1], v[0], v[1]]) * np.array([1.0, 10.0])))(np.array([2.0, 1.0]))
    np.testing.assert_array_equal(grad, [10.0, 1.0])


def test_unique_along_an_axis():
    x = np.array([[1.0, 2.0], [0.0, 5.0], [1.0, 2.0]])
    out = fg.jacrev(lambda v: fnp.unique(v, axis=0))(x)
    np.testing.assert_array_equal(fnp.unique(fg.stop_gradient(x), axis=0), np.unique(x, axis=0))
    assert out.shape == (2, 2, 3, 2)
    np.testing.assert_array_equal(out[0, :, 1, :], np.eye(2))
    np.testing.assert_array_equal(out[1, :, 0, :], np.eye(2))
    assert out[1, :, 2, :].sum() == 0.0
