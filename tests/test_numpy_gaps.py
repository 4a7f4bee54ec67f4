"""The NumPy names existing code hits: r_/c_, the linspace family, fnp.ndarray, integer casts, aliases.

Values equal NumPy's (plain and traced inputs), derivatives agree with finite
differences to second order in both modes.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from conftest import traced_value

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads

# --- linspace, logspace, geomspace -----------------------------------------------------------

ENDPOINTS = [
    (1.0, 3.0),
    (np.array([1.0, 2.0]), np.array([[3.0], [5.0], [6.0]])),
    (np.array([-2.0, 0.5]), np.array([-8.0, 4.0])),
]


@pytest.mark.parametrize("num", [0, 1, 2, 5])
@pytest.mark.parametrize("endpoint", [True, False])
@pytest.mark.parametrize("axis", [0, -1])
@pytest.mark.parametrize("pair", range(len(ENDPOINTS)))
def test_linspace_family_traced_values_and_derivatives(num: int, endpoint: bool, axis: int, pair: int) -> None:
    start, stop = ENDPOINTS[pair]
    options = dict(num=num, endpoint=endpoint, axis=axis)
    lin = lambda a, b: fnp.linspace(a, b, **options)
    np.testing.assert_array_equal(traced_value(lin, start, stop), np.linspace(start, stop, **options))
    check_grads(lin, (start, stop), order=2)
    log = lambda a, b: fnp.logspace(a, b, base=2.0, **options)
    np.testing.assert_allclose(traced_value(log, start, stop), np.logspace(start, stop, base=2.0, **options), rtol=1e-14)
    check_grads(log, (start, stop), order=2)
    if pair != 1:  # geomspace of points of both signs is nan, as NumPy's
        geo = lambda a, b: fnp.geomspace(a, b, **options)
        np.testing.assert_allclose(traced_value(geo, start, stop), np.geomspace(start, stop, **options), rtol=1e-14)
        check_grads(geo, (start, stop), order=2)


def test_linspace_retstep_is_traced_and_nan_when_undefined() -> None:
    values, step = fnp.linspace(0.0, 2.0, 5, retstep=True)
    assert step == 0.5 and values.dtype == np.float64
    assert fg.grad(lambda b: fnp.linspace(0.0, b, 5, retstep=True)[1])(2.0) == 0.25
    assert fg.grad(lambda b: fnp.linspace(0.0, b, 4, endpoint=False, retstep=True)[1])(2.0) == 0.25
    seen = []
    fg.grad(lambda b: seen.append(fnp.linspace(0.0, b, 1, retstep=True)[1]) or b)(2.0)
    assert np.isnan(seen[0])


def test_linspace_dtypes_follow_numpy() -> None:
    x32 = np.float32(2.0)
    out = traced_value(lambda b: fnp.linspace(np.float32(0.0), b, 3), x32)
    assert out.dtype == np.float32
    ints = traced_value(lambda b: fnp.linspace(0.0, b, 4, dtype=int), 3.5)
    np.testing.assert_array_equal(ints, np.linspace(0.0, 3.5, 4, dtype=int))
    assert ints.dtype == np.linspace(0.0, 3.5, 4, dtype=int).dtype
    assert fg.grad(lambda b: fnp.sum(fnp.linspace(0.0, b, 4, dtype=int)) + b)(3.5) == 1.0
    geo = traced_value(lambda b: fnp.geomspace(np.float32(1.0), b, 3), np.float32(4.0))
    assert geo.dtype == np.geomspace(np.float32(1.0), np.float32(4.0), 3).dtype
    check_grads(lambda b: fnp.linspace(np.float32(0.0), b, 3), (x32,), order=2)


def test_logspace_traced_base_and_complex_geomspace() -> None:
    check_grads(lambda base: fnp.logspace(0.0, 2.0, 4, base=base), (3.0,), order=2)
    bases = np.array([2.0, 3.0])
    np.testing.assert_allclose(
        traced_value(lambda b: fnp.logspace(0.0, 2.0, 3, base=b, axis=-1), bases), np.logspace(0.0, 2.0, 3, base=bases, axis=-1)
    )
    check_grads(lambda b: fnp.logspace(0.5, 2.0, 3, base=b, axis=-1), (bases,), order=2)
    z0, z1 = np.array(1.0 + 1.0j), np.array(-2.0 + 0.5j)
    np.testing.assert_allclose(traced_value(lambda a, b: fnp.geomspace(a, b, 4), z0, z1), np.geomspace(z0, z1, 4))
    check_grads(lambda a, b: fnp.geomspace(a, b, 4), (z0, z1), order=1)


def test_numpy_linspace_dispatches_on_traced_values() -> None:
    assert fg.grad(lambda b: np.linspace(0.0, b, 3).sum())(2.0) == 1.5
    assert fg.grad(lambda b: np.geomspace(1.0, b, 3)[-1])(2.0) == 1.0


def test_linspace_family_errors() -> None:
    with pytest.raises(ValueError, match="must be non-negative"):
        fg.grad(lambda b: fnp.linspace(0.0, b, -1).sum())(1.0)
    with pytest.raises(TypeError):
        fg.grad(lambda b: fnp.linspace(0.0, b, 2.5).sum())(1.0)
    with pytest.raises(ValueError, match="cannot include zero"):
        fg.grad(lambda b: fnp.geomspace(b, 2.0, 3).sum())(0.0)


# --- r_ and c_ -----------------------------------------------------------------------------


def _pieces(x: Any) -> dict[str, Any]:
    x2 = fnp.reshape(x, (1, 2))
    return {
        "mixed": lambda: fnp.r_[x, 0.0, 1:3, x[:1], [5.0, 6.0]],
        "linspace slice": lambda: fnp.r_[x, 0:1:3j],
        "columns": lambda: fnp.c_[x, 2 * x, np.arange(2.0)],
        "rows directive": lambda: fnp.r_["0,2", x, 2 * x],
        "trans1d directive": lambda: fnp.r_["0,2,0", x, 2 * x],
        "last axis": lambda: fnp.r_["-1", x2, x2 * 3],
        "axis-only directive": lambda: fnp.r_["1", x2, x2],
        "3-d": lambda: fnp.r_["1,3", x2, 2 * x2],
        "traced list": lambda: fnp.r_[[x[0], 1.0], x],
    }


@pytest.mark.parametrize("case", list(_pieces(np.zeros(2))))
def test_r_and_c_match_numpy_and_differentiate(case: str) -> None:
    x = np.array([1.0, 2.0])
    expected = _pieces(x)[case]()
    assert type(expected) is np.ndarray
    np.testing.assert_array_equal(traced_value(lambda x: _pieces(x)[case](), x), expected)
    check_grads(lambda x: _pieces(x)[case](), (x,), order=2)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_r_c_plain_are_numpy_and_matrix_directive_refused() -> None:
    np.testing.assert_array_equal(fnp.r_[1:4, 7], np.r_[1:4, 7])
    assert isinstance(fnp.r_["r", [1, 2]], np.matrix)
    with pytest.raises(TypeError, match="numpy.matrix"):
        fg.grad(lambda x: fnp.r_["r", x].sum())(np.ones(2))
    with pytest.raises(ValueError, match="first entry"):
        fg.grad(lambda x: fnp.r_[x, "0,2"].sum())(np.ones(2))
    with pytest.raises(ValueError, match="directive"):
        fg.grad(lambda x: fnp.r_["x,y", x].sum())(np.ones(2))
    assert fnp.r_[np.float32(1.0), np.ones(1, np.float32)].dtype == np.float32
    assert traced_value(lambda x: fnp.r_[x, 1.0], np.ones(1, np.float32)).dtype == np.float32


# --- fnp.ndarray ---------------------------------------------------------------------------


def test_isinstance_ndarray_for_traced_and_plain_values() -> None:
    assert isinstance(np.zeros(1), fnp.ndarray)
    assert isinstance(np.ma.zeros(1), fnp.ndarray)
    assert not isinstance(1.0, fnp.ndarray) and not isinstance([1.0], fnp.ndarray)
    assert issubclass(np.ndarray, fnp.ndarray) and issubclass(fnp.ndarray, np.ndarray)
    seen: list[bool] = []

    def f(x: fnp.ndarray) -> Any:
        seen.append(isinstance(x, fnp.ndarray))
        return x.sum()

    fg.grad(f)(np.ones(2))
    fg.jvp(f, (np.ones(2),), (np.ones(2),))
    fg.hessian(f)(np.ones(2))
    assert seen == [True, True, True]
    assert not isinstance(fg.grad(lambda x: x)(1.0), type(None))


def test_ndarray_still_builds_numpy_arrays_and_annotates() -> None:
    made = fnp.ndarray((2, 3))
    assert type(made) is np.ndarray and made.shape == (2, 3)
    assert fnp.ndarray[Any, np.dtype[np.float64]] is not None
    assert fnp.ndarray.__name__ == "ndarray"


# --- integer casts of traced values ----------------------------------------------------------


def test_integer_casts_give_plain_indices_with_zero_derivative() -> None:
    w = np.array([[1.0, 2.0, 0.0], [3.0, 4.0, 1.0]])

    def model(w: Any) -> Any:
        rows = np.int64(w[:, -1])
        assert type(rows) is np.ndarray and rows.dtype == np.int64
        first = fnp.int64(w[0, -1])
        as_int = w[:, -1].astype(int)
        return w[rows, 0].sum() + w[first, 1] + fnp.take(w[:, 1], as_int).sum() + np.asarray(w[1, 2], dtype=np.intp)

    expected = np.array([[1.0, 2.0, 0.0], [1.0, 1.0, 0.0]])
    np.testing.assert_array_equal(fg.grad(model)(w), expected)
    np.testing.assert_array_equal(fg.jacfwd(model)(w), expected)
    assert fg.hessian(model)(w).shape == (2, 3, 2, 3)
    assert fg.grad(lambda w: w[:, -1].astype(int).sum() * w[0, 0])(w)[0, 0] == 1.0


def test_float_conversion_of_traced_value_still_refused() -> None:
    with pytest.raises(TypeError, match="lose its derivative"):
        fg.grad(lambda x: np.float64(x) * x)(1.0)
    with pytest.raises(TypeError, match="lose its derivative"):
        fg.grad(lambda x: np.asarray(x) * x)(1.0)


# --- aliases and dtypes ----------------------------------------------------------------------


def test_row_stack_and_dtype_names() -> None:
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(fnp.row_stack([x, 2 * x]), np.vstack([x, 2 * x]))
    check_grads(lambda x: fnp.row_stack([x, x**2]), (x,), order=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert fg.grad(lambda x: np.row_stack([x, x]).sum())(x).tolist() == [2.0, 2.0]
    assert fnp.float16 is np.float16 and fnp.longdouble is np.longdouble and fnp.clongdouble is np.clongdouble
    half = fg.grad(lambda x: (x * x).sum())(np.ones(2, fnp.float16))
    assert half.dtype == np.float16


# --- polynomials, unwrap, weighted bincount, log-sum-exp reductions --------------------------

XP = np.linspace(-1.0, 2.0, 7)
YP = np.sin(3 * XP) + XP


@pytest.mark.parametrize("increasing", [False, True])
@pytest.mark.parametrize("columns", [None, 0, 1, 4])
def test_vander_values_and_derivatives(columns: int | None, increasing: bool) -> None:
    f = lambda x: np.vander(x, columns, increasing)
    assert np.array_equal(traced_value(f, XP), f(XP))
    assert np.array_equal(fg.jit(f)(XP), f(XP))
    if columns != 0:
        check_grads(lambda x: (f(x) ** 2).sum(), (XP,), order=2)


def test_polyval_in_coefficients_and_points() -> None:
    p = np.array([0.5, -1.0, 2.0, 0.3])
    assert np.array_equal(traced_value(np.polyval, p, XP), np.polyval(p, XP))
    assert np.array_equal(traced_value(lambda x: fnp.polyval([1.0, 2.0], x), 3.0), 5.0)
    check_grads(lambda p, x: np.polyval(p, x).sum(), (p, XP), order=2)


@pytest.mark.parametrize("deg", [1, 3])
def test_polyfit_is_numpys_and_differentiates_in_data_points_and_weights(deg: int) -> None:
    w = np.linspace(1.0, 2.0, 7)
    for f, args in [
        (lambda y: np.polyfit(XP, y, deg), (YP,)),
        (lambda x: np.polyfit(x, YP, deg, w=w), (XP,)),
        (lambda w: np.polyfit(XP, YP, deg, w=w), (w,)),
        (lambda y: np.polyfit(XP, np.stack([y, 2 * y], axis=1), deg), (YP,)),
    ]:
        assert np.array_equal(traced_value(f, *args), f(*args))
        assert np.array_equal(fg.jit(f)(*args), f(*args))
        check_grads(lambda *a: (f(*a) ** 2).sum(), args, order=2)
    c, cov = traced_value(lambda y: np.polyfit(XP, y, deg, cov=True), YP)
    c0, cov0 = np.polyfit(XP, YP, deg, cov=True)
    np.testing.assert_allclose(cov, cov0, rtol=1e-12, atol=1e-15)
    check_grads(lambda y: np.polyfit(XP, y, deg, cov=True)[1].sum(), (YP,), order=1)
    full = traced_value(lambda y: np.polyfit(XP, y, deg, full=True), YP)
    for got, expected in zip(full, np.polyfit(XP, YP, deg, full=True)):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


def test_polyfit_warns_and_refuses_as_numpy() -> None:
    with pytest.warns(np.exceptions.RankWarning):
        fg.grad(lambda y: np.polyfit(XP[:3], y, 5).sum())(YP[:3])
    with pytest.raises(ValueError, match="deg >= 0"):
        fg.grad(lambda y: np.polyfit(XP, y, -1).sum())(YP)
    with pytest.raises(TypeError, match="x's length"):
        fg.grad(lambda y: np.polyfit(XP, y, 1).sum())(YP[:3])
    with pytest.raises(ValueError, match="one-dimensional"):
        fg.grad(lambda x: np.vander(x).sum())(np.ones((2, 2)))


@pytest.mark.parametrize("axis", [0, 1])
def test_unwrap_is_numpys_with_identity_derivative(axis: int) -> None:
    rng = np.random.default_rng(3)
    wrapped = np.mod(np.cumsum(rng.uniform(-4, 4, 24)), 2 * np.pi).reshape(4, 6) - np.pi
    for kwargs in [{}, {"period": 4.0}, {"discont": 4.0}]:
        f = lambda p: np.unwrap(p, axis=axis, **kwargs)
        assert np.array_equal(traced_value(f, wrapped), f(wrapped))
        assert np.array_equal(fg.jit(f)(wrapped), f(wrapped))
        np.testing.assert_array_equal(fg.vmap(lambda r: np.unwrap(r, **kwargs))(wrapped), np.unwrap(wrapped, **kwargs))
    check_grads(lambda p: (np.unwrap(p, axis=axis) ** 2).sum(), (wrapped,), order=2)


def test_weighted_bincount_is_a_scatter_add() -> None:
    positions = np.array([0, 3, 3, 1, 0, 5])
    weights = np.array([0.3, -0.7, 1.1, 0.4, 2.0, -1.3])
    f = lambda w: np.bincount(positions, weights=w, minlength=8)
    assert np.array_equal(traced_value(f, weights), f(weights))
    assert np.array_equal(fg.jit(f)(weights), f(weights))
    np.testing.assert_array_equal(fg.vmap(f)(np.stack([weights, -weights])), np.stack([f(weights), f(-weights)]))
    check_grads(lambda w: (f(w) ** 2).sum(), (weights,), order=2)
    assert fg.grad(lambda w: np.bincount(positions, w.astype(np.float32)).sum())(weights).dtype == np.float64
    with pytest.raises(ValueError, match="same length"):
        fg.grad(lambda w: np.bincount(positions, w[:3]).sum())(weights)


@pytest.mark.parametrize("ufunc", [np.logaddexp, np.logaddexp2])
@pytest.mark.parametrize("axis", [0, 1, None, (0, 1)])
def test_log_add_reductions(ufunc: Any, axis: Any) -> None:
    x = np.array([[0.3, -0.7, 1.1], [0.4, 2.0, -1.3]])
    f = lambda x: ufunc.reduce(x, axis=axis)
    assert np.array_equal(traced_value(f, x), f(x))
    assert np.array_equal(fg.jit(f)(x), f(x))
    check_grads(lambda x: (f(x) ** 2).sum(), (x,), order=2)
    np.testing.assert_array_equal(fg.vmap(lambda r: ufunc.reduce(r))(x), ufunc.reduce(x, axis=1))
