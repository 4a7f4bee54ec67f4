"""Reductions, statistics, scans and differences: values equal NumPy's, derivatives checked
numerically (forward and reverse, second order), batched forward rules agree with reverse mode,
and the documented conventions at kinks (ties, zeros, zero variance, NaN) hold exactly."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads

SHAPES = [(), (3,), (2, 3), (2, 3, 4)]
AXES = [None, 0, -1, (0, 1)]


def _valid(shape, axis):
    if axis is None:
        return True
    axes = axis if isinstance(axis, tuple) else (axis,)
    return all(-len(shape) <= a < len(shape) for a in axes)


GRID = [(s, a, k) for s in SHAPES for a in AXES if _valid(s, a) for k in (False, True)]


def _data(shape, dtype=np.float64, seed=0, nan=False):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    x = np.asarray(x, dtype)
    if nan and x.size >= 3:
        x.flat[1] = np.nan
    return x


def _same_values(f, x):
    """The traced value equals the plain NumPy value (and has its dtype)."""
    expected = f(x)
    got, _ = fg.jvp(f, (x,), (np.zeros_like(x),))
    assert np.result_type(got) == np.result_type(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-5 if np.result_type(x) in (np.float32, np.complex64) else 1e-12)


# --- axis/keepdims reductions: one line each ------------------------------------------------
# name -> (function of x, axis, keepdims; supports complex; needs NaN in the input)
REDUCTIONS = {
    "sum": (lambda x, a, k: fnp.sum(x, axis=a, keepdims=k), True, False),
    "mean": (lambda x, a, k: fnp.mean(x, axis=a, keepdims=k), True, False),
    "prod": (lambda x, a, k: fnp.prod(x, axis=a, keepdims=k), True, False),
    "max": (lambda x, a, k: fnp.max(x, axis=a, keepdims=k), False, False),
    "min": (lambda x, a, k: fnp.min(x, axis=a, keepdims=k), False, False),
    "amax": (lambda x, a, k: fnp.amax(x, axis=a, keepdims=k), False, False),
    "ptp": (lambda x, a, k: fnp.ptp(x, axis=a, keepdims=k), False, False),
    "var": (lambda x, a, k: fnp.var(x, axis=a, keepdims=k), True, False),
    "std": (lambda x, a, k: fnp.std(x, axis=a, keepdims=k), False, False),
    "nansum": (lambda x, a, k: fnp.nansum(x, axis=a, keepdims=k), False, True),
    "nanprod": (lambda x, a, k: fnp.nanprod(x, axis=a, keepdims=k), False, True),
    "nanmean": (lambda x, a, k: fnp.nanmean(x, axis=a, keepdims=k), False, True),
    "nanvar": (lambda x, a, k: fnp.nanvar(x, axis=a, keepdims=k), False, True),
    "nanstd": (lambda x, a, k: fnp.nanstd(x, axis=a, keepdims=k), False, True),
    "nanmax": (lambda x, a, k: fnp.nanmax(x, axis=a, keepdims=k), False, True),
    "nanmin": (lambda x, a, k: fnp.nanmin(x, axis=a, keepdims=k), False, True),
    "median": (lambda x, a, k: fnp.median(x, axis=a, keepdims=k), False, False),
    "nanmedian": (lambda x, a, k: fnp.nanmedian(x, axis=a, keepdims=k), False, True),
    "average": (lambda x, a, k: fnp.average(x, axis=a, keepdims=k), False, False),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("shape, axis, keepdims", GRID)
def test_reduction_float64(name, shape, axis, keepdims):
    f, _, nan = REDUCTIONS[name]
    x = _data(shape, nan=nan)
    fun = lambda x: f(x, axis, keepdims)  # noqa: E731
    _same_values(fun, x)
    check_grads(fun, (x,), modes=("fwd", "rev"), order=2)


FLOAT32_GRID = [(s, a, k) for s, a, k in GRID if s in ((3,), (2, 3)) and (k or a is None)]


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("shape, axis, keepdims", FLOAT32_GRID)
def test_reduction_float32(name, shape, axis, keepdims):
    f, _, nan = REDUCTIONS[name]
    x = _data(shape, np.float32, seed=1, nan=nan)
    fun = lambda x: f(x, axis, keepdims)  # noqa: E731
    _same_values(fun, x)
    check_grads(fun, (x,), modes=("fwd", "rev"), order=2)
    g = fg.grad(lambda x: fnp.sum(fun(x)))(x)
    assert g.dtype == np.float32
    assert not np.isnan(g).any()


COMPLEX = sorted(n for n, (_, c, _) in REDUCTIONS.items() if c)


@pytest.mark.parametrize("name", COMPLEX)
@pytest.mark.parametrize("shape, axis, keepdims", [(s, a, k) for s, a, k in GRID if s in ((3,), (2, 3)) and not k])
def test_reduction_complex(name, shape, axis, keepdims):
    f = REDUCTIONS[name][0]
    x = _data(shape, np.complex128, seed=2)
    fun = lambda x: f(x, axis, keepdims)  # noqa: E731
    _same_values(fun, x)
    check_grads(fun, (x,), modes=("fwd", "rev"), order=2)


def test_var_of_complex_is_real_and_matches_numpy_definition():
    z = _data((2, 3), np.complex128, seed=3)
    v, _ = fg.jvp(lambda z: fnp.var(z, axis=1), (z,), (np.ones_like(z),))
    assert v.dtype == np.float64
    np.testing.assert_allclose(v, np.mean(np.abs(z - z.mean(axis=1, keepdims=True)) ** 2, axis=1))
    # JAX convention: grad of a real function of z is the conjugate-free transpose: 2 conj(z - mean) / n
    g = fg.grad(lambda z: fnp.var(z))(z)
    np.testing.assert_allclose(g, 2 * np.conj(z - z.mean()) / z.size)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("axis", [None, 0, -1])
def test_jacfwd_agrees_with_jacrev(name, axis):
    f, _, nan = REDUCTIONS[name]
    x = _data((2, 3), seed=4, nan=nan)
    fun = lambda x: f(x, axis, False)  # noqa: E731
    np.testing.assert_allclose(fg.jacfwd(fun)(x), fg.jacrev(fun)(x), atol=1e-12)
    np.testing.assert_allclose(
        fg.hessian(lambda x: fnp.sum(fun(x) ** 2))(x),
        fg.jacrev(fg.jacfwd(lambda x: fnp.sum(fun(x) ** 2)))(x),
        atol=1e-10,
    )


@pytest.mark.parametrize("ddof", [0, 1, 2])
@pytest.mark.parametrize("name", ["var", "std", "nanvar", "nanstd"])
def test_ddof(name, ddof):
    f = getattr(fnp, name)
    x = _data((4, 5), seed=5, nan=name.startswith("nan"))
    for axis in (None, 0, 1):
        fun = lambda x: f(x, axis=axis, ddof=ddof)  # noqa: E731
        _same_values(fun, x)
        check_grads(fun, (x,), modes=("fwd", "rev"), order=2)
    np.testing.assert_allclose(
        fg.grad(lambda x: f(x, correction=ddof))(x), fg.grad(lambda x: f(x, ddof=ddof))(x), equal_nan=False
    )


def test_sum_third_order():
    for shape, axis in [((3,), None), ((2, 3), 0), ((2, 3, 4), (0, 2))]:
        x = _data(shape, seed=6)
        check_grads(lambda x: fnp.sum(fnp.sin(x), axis=axis) ** 2, (x,), modes=("fwd", "rev"), order=3)


# --- scans ---------------------------------------------------------------------------------
SCANS = {
    "cumsum": (fnp.cumsum, np.cumsum),
    "cumprod": (fnp.cumprod, np.cumprod),
    "nancumsum": (fnp.nancumsum, np.nancumsum),
    "nancumprod": (fnp.nancumprod, np.nancumprod),
}
SCAN_GRID = [(s, a) for s in SHAPES[1:] for a in (None, 0, -1)] + [((5,), 0), ((2, 7), 1)]


SCAN_CASES = [
    (name, shape, axis, dtype)
    for name in sorted(SCANS)
    for shape, axis in SCAN_GRID
    for dtype in (np.float64, np.float32, np.complex128)
    if not (name.startswith("nan") and dtype == np.complex128) and (dtype == np.float64 or shape != (2, 3, 4))
]


@pytest.mark.parametrize("name, shape, axis, dtype", SCAN_CASES)
def test_scan(name, shape, axis, dtype):
    f, _ = SCANS[name]
    nan = name.startswith("nan")
    x = _data(shape, dtype, seed=7, nan=nan)
    fun = lambda x: f(x, axis=axis)  # noqa: E731
    _same_values(fun, x)
    check_grads(fun, (x,), modes=("fwd", "rev"), order=2)
    if dtype == np.float64:
        np.testing.assert_allclose(fg.jacfwd(fun)(x), fg.jacrev(fun)(x), atol=1e-12)


def _cumprod_jacobian(x):
    """d cumprod(x)[i] / d x[j] = prod(x[k] for k <= i, k != j) for j <= i, by brute force."""
    n = len(x)
    jac = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1):
            jac[i, j] = np.prod([x[k] for k in range(i + 1) if k != j])
    return jac


@pytest.mark.parametrize(
    "x",
    [
        [2.0, 0.0, 3.0, 0.5],
        [0.0, 0.0, 2.0, 3.0],
        [1.5, 2.0, 3.0, 0.0],
        [0.0, 0.0, 0.0],
        [3.0],
        [2.0, -1.0, 4.0, 0.5, 3.0],
    ],
)
def test_cumprod_exact_with_zeros(x):
    x = np.array(x)
    expected = _cumprod_jacobian(x)
    np.testing.assert_array_equal(fg.jacrev(fnp.cumprod)(x), expected)
    np.testing.assert_array_equal(fg.jacfwd(fnp.cumprod)(x), expected)
    # second order: the Hessian of the last entry is the Hessian of prod
    hess = fg.hessian(lambda x: fnp.cumprod(x)[-1])(x)
    np.testing.assert_array_equal(hess, fg.hessian(fnp.prod)(x))
    check_grads(fnp.cumprod, (x,), modes=("fwd", "rev"), order=2)


def test_cumsum_gradient_is_reversed_cumsum():
    x = _data((4,), seed=8)
    g = np.array([1.0, 2.0, 3.0, 4.0])
    _, vjp_fn = fg.vjp(fnp.cumsum, x)
    np.testing.assert_array_equal(vjp_fn(g)[0], [10.0, 9.0, 7.0, 4.0])


@pytest.mark.parametrize("name", ["cumulative_sum", "cumulative_prod"])
@pytest.mark.parametrize("include_initial", [False, True])
def test_cumulative(name, include_initial):
    f = getattr(fnp, name)
    x = _data((2, 3), seed=9)
    fun = lambda x: f(x, axis=1, include_initial=include_initial)  # noqa: E731
    _same_values(fun, x)
    check_grads(fun, (x,), modes=("fwd", "rev"), order=2)
    with pytest.raises(ValueError):
        fg.grad(lambda x: fnp.sum(f(x)))(x)


# --- prod with zeros --------------------------------------------------------------------


def _prod_others(x):
    return np.array([np.prod(np.delete(x, i)) for i in range(len(x))])


@pytest.mark.parametrize(
    "x", [[2.0, 3.0, 4.0], [2.0, 0.0, 4.0], [0.0, 3.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [5.0]]
)
def test_prod_exact_with_zeros(x):
    x = np.array(x)
    np.testing.assert_array_equal(fg.grad(fnp.prod)(x), _prod_others(x))
    np.testing.assert_array_equal(fg.jacfwd(fnp.prod)(x), _prod_others(x))
    n = len(x)
    hess = np.array([[0.0 if i == j else np.prod(np.delete(x, [i, j])) for j in range(n)] for i in range(n)])
    np.testing.assert_array_equal(fg.hessian(fnp.prod)(x), hess)


def test_prod_with_zeros_along_axis():
    x = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 1.0]])
    g = fg.grad(lambda x: fnp.sum(fnp.prod(x, axis=1)))(x)
    np.testing.assert_array_equal(g, [[6.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    g = fg.grad(lambda x: fnp.sum(fnp.prod(x, axis=0)))(x)
    np.testing.assert_array_equal(g, [[0.0, 0.0, 1.0], [0.0, 2.0, 3.0]])


# --- max / min ties -----------------------------------------------------------------------


def test_max_min_ties_share_equally():
    x = np.array([1.0, 3.0, 3.0, 2.0])
    np.testing.assert_array_equal(fg.grad(fnp.max)(x), [0.0, 0.5, 0.5, 0.0])
    np.testing.assert_array_equal(fg.jacfwd(fnp.max)(x), [0.0, 0.5, 0.5, 0.0])
    np.testing.assert_array_equal(fg.grad(fnp.min)(np.full(4, 2.0)), [0.25] * 4)
    _, t = fg.jvp(fnp.max, (x,), (np.array([0.0, 1.0, 3.0, 5.0]),))
    assert t == 2.0
    m = np.array([[1.0, 1.0, 0.0], [2.0, 5.0, 5.0]])
    g = fg.grad(lambda m: fnp.sum(fnp.max(m, axis=1, keepdims=True) * np.array([[1.0], [2.0]])))(m)
    np.testing.assert_array_equal(g, [[0.5, 0.5, 0.0], [0.0, 1.0, 1.0]])
    g = fg.grad(lambda m: fnp.sum(fnp.amin(m, axis=0)))(m)
    np.testing.assert_array_equal(g, [[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])


def test_max_initial_and_where():
    x = np.array([1.0, 4.0, 2.0])
    where = np.array([True, False, True])
    fun = lambda x: fnp.max(x, initial=0.0, where=where)  # noqa: E731
    assert fun(x) == 2.0
    np.testing.assert_array_equal(fg.grad(fun)(x), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(fg.grad(lambda x: fnp.max(x, initial=5.0))(x), [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="initial"):
        fg.grad(lambda x: fnp.max(x, where=where))(x)


def test_sum_prod_mean_where_and_initial():
    x = _data((2, 3), seed=10)
    where = np.array([[True, False, True], [False, True, True]])
    for f in (fnp.sum, fnp.prod, fnp.mean, fnp.var, fnp.std):
        fun = lambda x: f(x, axis=1, where=where)  # noqa: E731
        _same_values(fun, x)
        check_grads(fun, (x,), modes=("fwd", "rev"), order=2)
    for f in (fnp.sum, fnp.prod):
        fun = lambda x: f(x, axis=0, initial=2.0)  # noqa: E731
        _same_values(fun, x)
        check_grads(fun, (x,), modes=("fwd", "rev"), order=2)


def test_unsupported_keyword_is_an_error_not_ignored():
    with pytest.raises(TypeError, match="sum.*bogus"):
        fg.grad(lambda x: fnp.sum(x, bogus=1))(np.ones(2))
    with pytest.raises(TypeError, match="stored into a plain NumPy array"):
        fg.grad(lambda x: fnp.sum(x, out=np.zeros(())))(np.ones(2))


# --- std at zero variance, NaN conventions --------------------------------------------------


@pytest.mark.parametrize("f", [fnp.std, fnp.nanstd, lambda x: fnp.std(x, axis=0), lambda x: fnp.std(x, ddof=1)])
def test_std_at_constant_input_has_zero_gradient_and_no_warning(f):
    x = np.full((3,), 2.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.all(f(x) == 0.0)
        np.testing.assert_array_equal(fg.grad(lambda x: fnp.sum(f(x)))(x), np.zeros(3))
        np.testing.assert_array_equal(fg.jacfwd(f)(x), np.zeros(fg.jacrev(f)(x).shape))
        hess = fg.hessian(lambda x: fnp.sum(f(x)))(x)
    assert np.all(np.isfinite(hess))


def test_std_partially_constant_slices():
    x = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]])
    g = fg.grad(lambda x: fnp.sum(fnp.std(x, axis=1)))(x)
    np.testing.assert_array_equal(g[0], 0.0)
    check_grads(lambda x: fnp.std(x[1]), (x,), modes=("fwd", "rev"), order=2)


def test_nan_entries_get_zero_gradient_and_no_nan_anywhere():
    x = np.array([[1.0, np.nan, 3.0, 0.5], [np.nan, np.nan, 2.0, -1.0]])
    for f in (fnp.nansum, fnp.nanprod, fnp.nanmean, fnp.nanvar, fnp.nanstd, fnp.nanmax, fnp.nanmin, fnp.nanmedian):
        for axis in (None, 1):
            fun = lambda x: fnp.sum(f(x, axis=axis))  # noqa: E731
            g = fg.grad(fun)(x)
            assert not np.isnan(g).any(), f
            assert np.all(g[np.isnan(x)] == 0.0), f
            assert not np.isnan(fg.hessian(fun)(x)).any(), f


def test_all_nan_slices_give_numpy_values_and_zero_gradient():
    x = np.array([[np.nan, np.nan], [1.0, 3.0]])
    for f in (fnp.nanmean, fnp.nanvar, fnp.nanstd, fnp.nanmax, fnp.nanmin, fnp.nanmedian):
        fun = lambda x: f(x, axis=1)  # noqa: E731
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = getattr(np, f.__name__)(x, axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out, vjp_fn = fg.vjp(fun, x)
            np.testing.assert_array_equal(out, expected)
            (g,) = vjp_fn(np.ones(2))
        np.testing.assert_array_equal(g[0], 0.0)
        assert not np.isnan(g).any()


def test_var_with_too_few_degrees_of_freedom_matches_numpy_values():
    x = np.array([[1.0, 2.0], [3.0, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = np.var(x, axis=1, ddof=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, vjp_fn = fg.vjp(lambda x: fnp.var(x, axis=1, ddof=2), x)
        (g,) = vjp_fn(np.ones(2))
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(g, np.zeros((2, 2)))


# --- median ---------------------------------------------------------------------------


def test_median_gradient_goes_to_the_middle():
    np.testing.assert_array_equal(fg.grad(fnp.median)(np.array([5.0, 1.0, 3.0])), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(fg.grad(fnp.median)(np.array([5.0, 1.0, 3.0, 2.0])), [0.0, 0.0, 0.5, 0.5])
    np.testing.assert_array_equal(fg.jacfwd(fnp.median)(np.array([5.0, 1.0, 3.0, 2.0])), [0.0, 0.0, 0.5, 0.5])
    g = fg.grad(fnp.median)(np.array([2.0, 2.0, 2.0]))
    assert g.sum() == 1.0 and np.all(g >= 0)
    m = np.array([[4.0, 1.0], [0.0, 9.0]])
    g = fg.grad(lambda m: fnp.sum(fnp.median(m, axis=0) * np.array([1.0, 10.0])))(m)
    np.testing.assert_array_equal(g, [[0.5, 5.0], [0.5, 5.0]])


def test_median_with_nan_is_nan_with_zero_gradient():
    x = np.array([[1.0, np.nan, 2.0], [1.0, 5.0, 2.0]])
    out, vjp_fn = fg.vjp(lambda x: fnp.median(x, axis=1), x)
    np.testing.assert_array_equal(out, np.median(x, axis=1))
    np.testing.assert_array_equal(vjp_fn(np.ones(2))[0], [[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_array_equal(fg.grad(fnp.nanmedian)(np.array([3.0, np.nan, 1.0, 2.0])), [0.0, 0.0, 0.0, 1.0])


# --- average ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "a_shape, w_shape, axis",
    [
        ((3,), (3,), None),
        ((2, 3), (2, 3), None),
        ((2, 3), (2, 3), 1),
        ((2, 3), (3,), 1),
        ((2, 3), (2,), 0),
        ((2, 3, 4), (3,), 1),
        ((2, 3, 4), (4, 2), (2, 0)),
        ((2, 3, 4), (2, 4), (0, -1)),
    ],
)
@pytest.mark.parametrize("keepdims", [False, True])
def test_average_with_weights(a_shape, w_shape, axis, keepdims):
    a = _data(a_shape, seed=11)
    w = np.abs(_data(w_shape, seed=12)) + 0.5
    fun = lambda a, w: fnp.average(a, axis=axis, weights=w, keepdims=keepdims)  # noqa: E731
    out, _ = fg.jvp(fun, (a, w), (np.zeros_like(a), np.zeros_like(w)))
    np.testing.assert_allclose(out, np.average(a, axis=axis, weights=w, keepdims=keepdims))
    check_grads(fun, (a, w), modes=("fwd", "rev"), order=2)
    np.testing.assert_allclose(fg.jacfwd(fun, argnums=1)(a, w), fg.jacrev(fun, argnums=1)(a, w), atol=1e-12)


def test_average_returned_and_errors():
    a, w = _data((2, 3), seed=13), np.array([1.0, 2.0, 3.0])
    fun = lambda a, w: fnp.average(a, axis=1, weights=w, returned=True)  # noqa: E731
    (avg, total), _ = fg.jvp(fun, (a, w), (a, w))
    expected = np.average(a, axis=1, weights=w, returned=True)
    np.testing.assert_allclose(avg, expected[0])
    np.testing.assert_allclose(total, expected[1])
    check_grads(fun, (a, w), modes=("fwd", "rev"), order=2)
    check_grads(lambda a: fnp.average(a, axis=0, returned=True), (a,), modes=("fwd", "rev"), order=2)
    with pytest.raises(ZeroDivisionError):
        fg.grad(lambda w: fnp.average(a, weights=w))(np.array([[1.0, -1.0, 0.0], [0.0, 0.0, 0.0]]))
    with pytest.raises(TypeError, match="Axis must be specified"):
        fg.grad(lambda w: fnp.average(a, weights=w))(w)
    with pytest.raises(ValueError, match="consistent"):
        fg.grad(lambda w: fnp.average(a, axis=0, weights=w))(w)


# --- diff / trapezoid ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape, n, axis, prepend, append",
    [
        ((4,), 1, -1, None, None),
        ((4,), 2, 0, None, None),
        ((4,), 3, -1, 1.5, None),
        ((2, 3), 1, 0, None, None),
        ((2, 3), 1, -1, None, 2.0),
        ((2, 3), 2, 1, 0.5, -1.0),
        ((2, 3, 4), 1, 1, None, None),
        ((3,), 0, -1, None, None),
    ],
)
def test_diff(shape, n, axis, prepend, append):
    x = _data(shape, seed=14)
    kwargs = {k: v for k, v in (("prepend", prepend), ("append", append)) if v is not None}
    fun = lambda x: fnp.diff(x, n=n, axis=axis, **kwargs)  # noqa: E731
    _same_values(fun, x)
    check_grads(fun, (x,), modes=("fwd", "rev"), order=2)
    np.testing.assert_allclose(fg.jacfwd(fun)(x), fg.jacrev(fun)(x), atol=1e-12)


def test_diff_differentiates_prepend_and_append_arrays():
    x, p, q = _data((2, 3), seed=15), _data((2, 1), seed=16), _data((2, 2), seed=17)
    fun = lambda x, p, q: fnp.diff(x, axis=1, prepend=p, append=q)  # noqa: E731
    out, _ = fg.jvp(fun, (x, p, q), (x, p, q))
    np.testing.assert_allclose(out, np.diff(x, axis=1, prepend=p, append=q))
    check_grads(fun, (x, p, q), modes=("fwd", "rev"), order=2)
    # a traced prepend alone is enough to record
    assert fg.grad(lambda p: fnp.sum(fnp.diff(x, prepend=p)))(1.0) == -2.0


@pytest.mark.parametrize(
    "y_shape, x_shape, axis",
    [((4,), None, -1), ((4,), (4,), -1), ((2, 3), (3,), -1), ((2, 3), (2,), 0), ((2, 3), (2, 3), 0)],
)
def test_trapezoid(y_shape, x_shape, axis):
    y = _data(y_shape, seed=18)
    if x_shape is None:
        fun = lambda y, dx: fnp.trapezoid(y, dx=dx, axis=axis)  # noqa: E731
        args = (y, 0.3)
        expected = np.trapezoid(y, dx=0.3, axis=axis)
    else:
        x = np.cumsum(np.abs(_data(x_shape, seed=19)) + 0.1, axis=axis if len(x_shape) > 1 else 0)
        fun = lambda y, x: fnp.trapezoid(y, x, axis=axis)  # noqa: E731
        args = (y, x)
        expected = np.trapezoid(y, x, axis=axis)
    out, _ = fg.jvp(fun, args, args)
    np.testing.assert_allclose(out, expected)
    check_grads(fun, args, modes=("fwd", "rev"), order=2)


# --- plain NumPy on traced values, ndarray methods -------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["sum", "mean", "prod", "max", "min", "amax", "amin", "ptp", "var", "std", "nansum", "nanmean", "nanvar", "nanstd",
     "nanmax", "nanmin", "nanprod", "median", "nanmedian", "average", "cumsum", "cumprod", "nancumsum", "nancumprod",
     "diff", "ediff1d", "trapezoid", "cov", "corrcoef", "gradient"],
)  # fmt: skip
def test_plain_numpy_dispatches_to_funcgrad(name):
    x = _data((2, 3), seed=20)
    plain = getattr(np, name)
    ours = getattr(fnp, name)

    def total(out):  # gradient returns a tuple for several axes
        return sum(np.sum(o**2) for o in out) if isinstance(out, tuple) else np.sum(out**2)

    np.testing.assert_allclose(fg.grad(lambda x: total(plain(x)))(x), fg.grad(lambda x: total(ours(x)))(x), rtol=1e-12)
    assert np.any(fg.grad(lambda x: total(plain(x)))(x) != 0)


def test_numpy_cumulative_functions_dispatch():
    x = _data((3,), seed=21)
    np.testing.assert_allclose(
        fg.jacrev(lambda x: np.cumulative_sum(x, include_initial=True))(x),
        fg.jacfwd(lambda x: fnp.cumulative_sum(x, include_initial=True))(x),
    )
    np.testing.assert_allclose(fg.grad(lambda x: np.cumulative_prod(x)[-1])(x), _prod_others(x))


@pytest.mark.parametrize("method", ["sum", "mean", "prod", "max", "min", "var", "std", "cumsum", "cumprod"])
def test_tracer_methods(method):
    x = _data((2, 3), seed=22)
    f_method = lambda x: getattr(x, method)(axis=0)  # noqa: E731
    f_fnp = lambda x: getattr(fnp, method)(x, axis=0)  # noqa: E731
    np.testing.assert_allclose(fg.jacrev(f_method)(x), fg.jacfwd(f_fnp)(x), atol=1e-12)
    check_grads(f_method, (x,), modes=("fwd", "rev"), order=1)


def test_ddof_via_methods():
    x = _data((3,), seed=23)
    np.testing.assert_allclose(fg.grad(lambda x: x.std(ddof=1))(x), fg.grad(lambda x: np.std(x, ddof=1))(x))
    np.testing.assert_allclose(fg.grad(lambda x: x.var(ddof=1))(x), fg.grad(lambda x: fnp.var(x, ddof=1))(x))


def test_plain_arrays_return_numpy_results():
    x = _data((2, 3), seed=24)
    for name in ("var", "std", "median", "cumsum", "cumprod", "ptp", "nanmean"):
        np.testing.assert_array_equal(getattr(fnp, name)(x), getattr(np, name)(x))
    np.testing.assert_array_equal(fnp.diff(x, prepend=0.0), np.diff(x, prepend=0.0))
    np.testing.assert_array_equal(fnp.average(x, axis=1, weights=[1, 2, 3]), np.average(x, axis=1, weights=[1, 2, 3]))


# --- quantiles --------------------------------------------------------------------------

QUANTILE_METHODS = ["linear", "lower", "higher", "nearest", "midpoint"]


@pytest.mark.parametrize("name", ["quantile", "nanquantile", "percentile", "nanpercentile"])
@pytest.mark.parametrize("method", QUANTILE_METHODS)
@pytest.mark.parametrize(
    "shape, axis, q, keepdims",
    [
        ((5,), None, 0.3, False),
        ((2, 3), None, [0.0, 0.25, 0.5, 1.0], False),
        ((2, 3), 1, 0.7, True),
        ((2, 3, 4), (0, 2), [0.1, 0.9], False),
        ((2, 3, 4), -1, [[0.2], [0.6]], True),
    ],
)
def test_quantile(name, method, shape, axis, q, keepdims):
    nan = name.startswith("nan")
    x = _data(shape, seed=25, nan=nan)
    q = np.asarray(q) * (100 if name.endswith("percentile") else 1)
    f = getattr(fnp, name)
    fun = lambda x: f(x, q, axis=axis, method=method, keepdims=keepdims)  # noqa: E731
    _same_values(fun, x)
    check_grads(fun, (x,), modes=("fwd", "rev"), order=2)
    np.testing.assert_allclose(fg.jacfwd(fun)(x), fg.jacrev(fun)(x), atol=1e-12)


def test_quantile_gradient_weights_and_q_derivative():
    x = np.array([4.0, 1.0, 3.0, 2.0, 0.0])
    # q = 0.3: virtual index 1.2 between the order statistics 1.0 (x[1]) and 2.0 (x[3])
    np.testing.assert_allclose(fg.grad(lambda x: fnp.quantile(x, 0.3))(x), [0.0, 0.8, 0.0, 0.2, 0.0])
    np.testing.assert_allclose(fg.grad(lambda q: fnp.quantile(x, q))(0.3), 4.0 * (2.0 - 1.0))
    np.testing.assert_allclose(fg.grad(lambda q: fnp.percentile(x, q))(30.0), 0.04)
    check_grads(lambda q: fnp.quantile(x, q), (np.array([0.3, 0.55]),), modes=("fwd", "rev"), order=2)
    assert fg.grad(lambda q: fnp.quantile(x, q, method="lower"))(0.3) == 0.0
    with pytest.raises(NotImplementedError, match="method"):
        fg.grad(lambda x: fnp.quantile(x, 0.5, method="weibull"))(x)
    with pytest.raises(ValueError, match="range"):
        fg.grad(lambda x: fnp.quantile(x, 1.5))(x)


def test_quantile_of_slice_with_nan_is_nan_with_zero_gradient():
    x = np.array([[1.0, np.nan, 2.0], [1.0, 5.0, 2.0]])
    out, vjp_fn = fg.vjp(lambda x: fnp.quantile(x, 0.5, axis=1), x)
    np.testing.assert_array_equal(out, np.quantile(x, 0.5, axis=1))
    np.testing.assert_array_equal(vjp_fn(np.ones(2))[0], [[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


# --- NaN in max/min, large prod -------------------------------------------------------------------


def test_max_of_slice_with_nan_sends_gradient_to_the_nan():
    x = np.array([[1.0, np.nan, 2.0], [1.0, 5.0, 2.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = fg.grad(lambda x: fnp.sum(fnp.max(x, axis=1)))(x)
    np.testing.assert_array_equal(g, [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])


def test_prod_of_a_long_vector_is_exact_and_linear_in_memory():
    x = np.ones(20_000)
    x[[3, 17]] = [2.0, 0.0]
    g = fg.grad(fnp.prod)(x)
    expected = np.zeros_like(x)
    expected[17] = 2.0
    np.testing.assert_array_equal(g, expected)


@pytest.mark.parametrize(
    "to_begin, to_end", [(None, None), (1.5, None), (None, [2.0, -1.0]), (np.array([[0.5]]), 3.0)]
)  # fmt: skip
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_ediff1d(to_begin, to_end, dtype):
    x = _data((2, 3), dtype, seed=26)
    fun = lambda x: fnp.ediff1d(x, to_end=to_end, to_begin=to_begin)  # noqa: E731
    _same_values(fun, x)
    check_grads(fun, (x,), modes=("fwd", "rev"), order=2)
    check_grads(lambda b: fnp.ediff1d(x, to_begin=b), (np.array([0.3, 0.2], dtype),), modes=("fwd", "rev"), order=2)


# --- covariance and correlation -------------------------------------------------------------

_W = np.array([0.5, 1.5, 1.0, 2.0, 0.7])
_F = np.array([1, 2, 1, 3, 1])


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"bias": True}, {"ddof": 2}, {"rowvar": False}, {"aweights": _W}, {"fweights": _F},
     {"fweights": _F, "aweights": _W}, {"fweights": _F, "aweights": _W, "ddof": 0}],
)  # fmt: skip
def test_cov(kwargs):
    x = _data((3, 5), seed=27)
    fun = lambda x: fnp.cov(x, **kwargs)  # noqa: E731
    _same_values(fun, x)
    check_grads(fun, (x,), modes=("fwd", "rev"), order=2)


def test_cov_with_y_weights_and_complex():
    x, y = _data((2, 5), seed=28), _data((5,), seed=29)
    fun = lambda x, y, w: fnp.cov(x, y, aweights=w)  # noqa: E731
    out, _ = fg.jvp(fun, (x, y, _W), (x, y, _W))
    np.testing.assert_allclose(out, np.cov(x, y, aweights=_W))
    check_grads(fun, (x, y, _W), modes=("fwd", "rev"), order=2)
    z = _data((2, 4), np.complex128, seed=30)
    _same_values(fnp.cov, z)
    check_grads(fnp.cov, (z,), modes=("fwd", "rev"), order=2)
    scalar = lambda v: fnp.cov(v)  # noqa: E731
    _same_values(scalar, y)
    check_grads(scalar, (y,), modes=("fwd", "rev"), order=2)


def test_cov_without_degrees_of_freedom_matches_numpy_with_zero_gradient():
    x = _data((2, 3), seed=31)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = np.cov(x, ddof=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, vjp_fn = fg.vjp(lambda x: fnp.cov(x, ddof=3), x)
        np.testing.assert_array_equal(vjp_fn(np.ones((2, 2)))[0], np.zeros((2, 3)))
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("shape, rowvar, with_y", [((3,), True, False), ((3, 4), True, False), ((4, 3), False, True)])
def test_corrcoef(shape, rowvar, with_y):
    x = _data(shape, seed=32)
    y = _data((4, 2) if not rowvar else shape, seed=33) if with_y else None
    fun = lambda x: fnp.corrcoef(x, y, rowvar=rowvar)  # noqa: E731
    _same_values(fun, x)
    check_grads(fun, (x,), modes=("fwd", "rev"), order=2)
    np.testing.assert_allclose(fg.jacfwd(fun)(x), fg.jacrev(fun)(x), atol=1e-12)
    # the diagonal is identically one: zero derivative
    jac = fg.jacrev(fun)(x)
    if jac.ndim > 1:
        n = jac.shape[0]
        np.testing.assert_allclose(jac[np.arange(n), np.arange(n)], 0.0, atol=1e-12)


# --- gradient (central differences) ----------------------------------------------------------

_X5 = np.cumsum(np.array([0.4, 0.9, 0.3, 0.7, 0.5]))
_Y4 = np.cumsum(np.array([0.6, 0.2, 0.8, 0.5]))


@pytest.mark.parametrize(
    "varargs, kwargs",
    [
        ((), {}),
        ((0.5,), {}),
        ((0.5, 0.3), {"edge_order": 2}),
        ((_Y4, _X5), {}),
        ((_Y4, _X5), {"edge_order": 2}),
        ((_X5,), {"axis": 1}),
        ((_X5,), {"axis": -1, "edge_order": 2}),
        ((0.3,), {"axis": (1, 0)}),
        ((np.arange(4), np.arange(5) * 2.0), {"edge_order": 2}),
    ],
)
def test_gradient(varargs, kwargs):
    f = _data((4, 5), seed=34)
    fun = lambda f: fnp.gradient(f, *varargs, **kwargs)  # noqa: E731
    out, _ = fg.jvp(fun, (f,), (f,))
    expected = np.gradient(f, *varargs, **kwargs)
    assert type(out) is type(expected)
    for o, e in zip(out if isinstance(out, tuple) else [out], expected if isinstance(expected, tuple) else [expected]):
        np.testing.assert_allclose(o, e, rtol=1e-12)
    check_grads(fun, (f,), modes=("fwd", "rev"), order=2)


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_with_respect_to_spacing_and_coordinates(edge_order):
    f = _data((4, 5), seed=35)
    check_grads(lambda x: fnp.gradient(f, _Y4, x, edge_order=edge_order), (_X5,), modes=("fwd", "rev"), order=2)
    check_grads(lambda h: fnp.gradient(f, h, edge_order=edge_order), (0.7,), modes=("fwd", "rev"), order=2)
    # evenly spaced traced coordinates still get the derivative of the general formula
    fun = lambda s: fnp.gradient(f, 1.0, np.arange(5.0) * s, edge_order=edge_order)  # noqa: E731
    check_grads(fun, (0.7,), modes=("fwd", "rev"), order=2)
    with pytest.raises(ValueError, match="too small"):
        fg.grad(lambda v: fnp.sum(fnp.gradient(v, edge_order=2)))(np.ones(2))


def test_result_dtypes_follow_numpy():
    x = _data((2, 3), np.float32, seed=36)
    for fun in (
        fnp.cov,
        fnp.corrcoef,
        lambda x: fnp.quantile(x, 0.3),
        lambda x: fnp.percentile(x, [20.0, 70.0], method="midpoint"),
        lambda x: fnp.quantile(x, [0.2, 0.7]),
        lambda x: fnp.nanquantile(x, (0.2, 0.7), method="lower"),
        lambda x: fnp.gradient(x, 0.5, axis=1),
        fnp.median,
        fnp.average,
    ):
        _same_values(fun, x)
        assert fg.grad(lambda x: fnp.sum(fun(x)))(x).dtype == np.float32


def test_corrcoef_of_a_constant_variable_is_nan_with_zero_gradient_and_no_warning():
    x = np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = np.corrcoef(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, vjp_fn = fg.vjp(fnp.corrcoef, x)
        (g,) = vjp_fn(np.ones((2, 2)))
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(g, np.zeros((2, 3)))


def test_tracer_methods_take_numpy_keywords():
    x = _data((2, 3), seed=37)
    where = np.array([[True, False, True], [True, True, False]])
    np.testing.assert_allclose(
        fg.grad(lambda x: x.sum(where=where, initial=1.0) + x.max(initial=10.0) + x.var(where=where, correction=1))(x),
        fg.grad(
            lambda x: np.sum(x, where=where, initial=1.0) + np.max(x, initial=10.0) + np.var(x, where=where, ddof=1)
        )(x),
    )
    with pytest.raises(TypeError, match="mean.*bogus"):
        fg.grad(lambda x: x.mean(bogus=True))(x)


def test_linearize_replays_the_rules():
    x, t = _data((3, 4), seed=38), _data((3, 4), seed=39)
    for f in (fnp.cumprod, fnp.std, lambda x: fnp.quantile(x, [0.2, 0.9], axis=0), fnp.cov, fnp.prod):
        _, lin = fg.linearize(f, x)
        np.testing.assert_allclose(lin(t), fg.jvp(f, (x,), (t,))[1], rtol=1e-12)


def test_quantile_weights_on_traced_values_is_a_clear_error():
    x = _data((4,), seed=40)
    with pytest.raises(NotImplementedError, match="quantile.*weights.*stop_gradient"):
        fg.grad(lambda x: fnp.quantile(x, 0.5, method="inverted_cdf", weights=np.ones(4)))(x)


@pytest.mark.parametrize("scan", [fnp.cumsum, fnp.cumprod])
@pytest.mark.parametrize("axis", [0, -1, None])
def test_scan_of_a_0d_array_is_1d_as_in_numpy(scan, axis):
    # found by the random programs: a traced 0-d value raised AxisError where NumPy returns shape (1,)
    f = lambda x: scan(x * x, axis=axis)  # noqa: E731
    x = np.array(0.7)
    assert np.shape(fg.jvp(f, (x,), (x,))[0]) == np.shape(scan(x * x, axis=axis)) == (1,)
    check_grads(f, (x,), order=2, modes=("fwd", "rev"))
    np.testing.assert_allclose(fg.jacfwd(f)(x), [1.4])
    np.testing.assert_allclose(fg.jacrev(f)(x), [1.4])
    with pytest.raises(np.exceptions.AxisError):
        fg.grad(lambda x: scan(x, axis=1)[0])(x)


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "amax", "ptp", "nansum", "nanmax"])
@pytest.mark.parametrize("axis", [0, -1])
def test_reduction_of_a_0d_array_takes_axis_0_as_in_numpy(name, axis):
    # found by the random programs: NumPy's ufunc reductions accept axis 0/-1 on a 0-d array
    fn = getattr(fnp, name)
    f = lambda x: fn(x * x, axis=axis) * 3.0  # noqa: E731
    x = np.array(0.7)
    np.testing.assert_allclose(fg.jvp(f, (x,), (x,))[0], getattr(np, name)(x * x, axis=axis) * 3.0)
    check_grads(f, (x,), order=2, modes=("fwd", "rev"))
    np.testing.assert_allclose(fg.grad(f)(x), 0.0 if name == "ptp" else 4.2)
    with pytest.raises(np.exceptions.AxisError):
        fg.grad(lambda x: fn(x, axis=1))(x)


def test_average_sums_float32_weights_in_double_precision():
    # found by the random programs: the weights' total was summed in float32 (NumPy sums in the
    # result's precision), so value and derivative of float64 data were off by ~1e-8
    x = np.random.default_rng(41).uniform(-1, 1, (2, 3))
    w32 = np.array([0.7, 1.3, 0.9], np.float32)
    f = lambda w: lambda x: fnp.average(x, axis=-1, weights=w)  # noqa: E731
    np.testing.assert_array_equal(fg.jvp(f(w32), (x,), (x,))[0], np.average(x, axis=-1, weights=w32))
    np.testing.assert_allclose(fg.jacrev(f(w32))(x), fg.jacrev(f(w32.astype(np.float64)))(x), rtol=1e-15)
    assert fg.grad(lambda w: fnp.average(x, axis=-1, weights=w).sum())(w32).dtype == np.float32
