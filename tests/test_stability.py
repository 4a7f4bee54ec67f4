"""Numerical edge cases: each documented value at a kink, a zero, an infinity or a repeated eigenvalue.

The conventions are written down in docs/sharp-bits.md.  Every test here runs
with warnings turned into errors unless a warning is the documented outcome.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def test_norm_at_zero_has_zero_gradient_without_warning():
    for shape in [(3,), (2, 2)]:
        np.testing.assert_array_equal(fg.grad(fnp.linalg.norm)(np.zeros(shape)), np.zeros(shape))
        np.testing.assert_array_equal(fg.jacfwd(fnp.linalg.norm)(np.zeros(shape)), np.zeros(shape))


def test_squared_norm_at_zero_has_zero_gradient():
    np.testing.assert_array_equal(fg.grad(lambda x: fnp.linalg.norm(x) ** 2)(np.zeros(3)), np.zeros(3))
    # away from zero it is 2x, as it should be
    np.testing.assert_allclose(fg.grad(lambda x: fnp.linalg.norm(x) ** 2)(np.array([1.0, 2.0])), [2.0, 4.0])


def test_sqrt_and_half_power_at_zero_are_infinite_like_numpy():
    # d/dx sqrt(x) = 1 / (2 sqrt(x)) is +inf at 0; NumPy warns about the division, and so do we
    with np.errstate(divide="ignore"):
        assert fg.grad(fnp.sqrt)(0.0) == np.inf
        assert fg.grad(lambda x: x**0.5)(0.0) == np.inf
        assert fg.jvp(fnp.sqrt, (0.0,), (1.0,))[1] == np.inf
    with pytest.raises(RuntimeWarning):
        fg.grad(fnp.sqrt)(0.0)


def test_product_with_sqrt_at_zero_is_nan_and_the_double_where_idiom_fixes_it():
    # the product rule meets 0 * inf: the honest answer is nan, as in JAX
    with np.errstate(divide="ignore", invalid="ignore"):
        assert np.isnan(fg.grad(lambda x: x * x**0.5)(0.0))

    def safe(x):
        inside = fnp.where(x > 0, x, 1.0)
        return fnp.where(x > 0, x * inside**0.5, 0.0)

    assert fg.grad(safe)(0.0) == 0.0
    np.testing.assert_allclose(fg.grad(safe)(4.0), 1.5 * 2.0)


def test_abs_maximum_and_max_at_ties():
    assert fg.grad(fnp.abs)(0.0) == 0.0
    assert fg.grad(lambda x: fnp.maximum(x, 1.0))(1.0) == 0.5
    assert fg.grad(lambda x: fnp.minimum(x, 1.0))(1.0) == 0.5
    np.testing.assert_array_equal(fg.grad(fnp.max)(np.array([1.0, 3.0, 3.0])), [0.0, 0.5, 0.5])
    np.testing.assert_array_equal(fg.grad(fnp.min)(np.array([2.0, 2.0, 2.0, 5.0])), [1 / 3, 1 / 3, 1 / 3, 0.0])
    np.testing.assert_array_equal(fg.jvp(fnp.max, (np.array([3.0, 3.0]),), (np.array([1.0, 0.0]),))[1], 0.5)


def test_logaddexp_at_minus_infinity_has_no_nan():
    gx, gy = fg.grad(fnp.logaddexp, (0, 1))(-np.inf, -np.inf)
    assert np.isfinite(gx) and np.isfinite(gy) and gx + gy == 1.0
    gx, gy = fg.grad(fnp.logaddexp2, (0, 1))(-np.inf, -np.inf)
    assert np.isfinite(gx) and np.isfinite(gy)
    assert fg.grad(fnp.logaddexp, (0, 1))(0.0, -np.inf) == (1.0, 0.0)


def test_logsumexp_style_code_with_minus_infinity_entries():
    def logsumexp(x):
        m = fg.stop_gradient(fnp.max(x))
        return m + fnp.log(fnp.sum(fnp.exp(x - m)))

    x = np.array([0.0, -np.inf, 1.0])
    g = fg.grad(logsumexp)(x)
    assert not np.any(np.isnan(g))
    np.testing.assert_allclose(g, np.exp(x - 1.0) / np.sum(np.exp(x - 1.0)))
    assert g[1] == 0.0


def test_sinc_at_zero():
    assert fg.grad(fnp.sinc)(0.0) == 0.0
    np.testing.assert_allclose(fg.grad(fg.grad(fnp.sinc))(0.0), -(np.pi**2) / 3, rtol=1e-12)
    np.testing.assert_allclose(fg.jvp(fnp.sinc, (0.0,), (1.0,))[1], 0.0)


def test_xlogy_style_code_has_no_nan_at_zero():
    def entropy(p):
        safe = fnp.where(p > 0, p, 1.0)
        return -fnp.sum(fnp.where(p > 0, p * fnp.log(safe), 0.0))

    g = fg.grad(entropy)(np.array([0.0, 0.5, 0.5]))
    assert not np.any(np.isnan(g))
    np.testing.assert_allclose(g[1:], -(np.log(0.5) + 1))


@pytest.mark.parametrize("matrix", [np.eye(3), np.diag([2.0, 2.0, 1.0])], ids=["identity", "pair"])
def test_eigenvalue_losses_at_repeated_eigenvalues_are_finite(matrix):
    g = fg.grad(lambda a: fnp.sum(fnp.linalg.eigh(a)[0] ** 2))(matrix)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, 2 * matrix, atol=1e-12)  # d/dA sum(lambda^2) = d/dA trace(A^2) = 2A
    s = fg.grad(lambda a: fnp.sum(fnp.linalg.svd(a, compute_uv=False)))(matrix)
    assert np.all(np.isfinite(s))
    np.testing.assert_allclose(s, np.eye(3), atol=1e-12)  # nuclear norm of an SPD matrix: trace


def test_prod_with_zeros_is_exact():
    np.testing.assert_array_equal(fg.grad(fnp.prod)(np.array([0.0, 2.0, 3.0])), [6.0, 0.0, 0.0])
    np.testing.assert_array_equal(fg.grad(fnp.prod)(np.array([0.0, 2.0, 0.0])), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(fg.hessian(fnp.prod)(np.array([0.0, 2.0, 3.0])), [[0, 3, 2], [3, 0, 0], [2, 0, 0]])
    np.testing.assert_array_equal(fg.jvp(fnp.prod, (np.array([0.0, 2.0, 3.0]),), (np.ones(3),))[1], 6.0)


def test_float32_stays_float32_and_accurate():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(4, 3)).astype(np.float32)
    x = rng.normal(size=4).astype(np.float32)

    def f(x):
        return fnp.sum(fnp.tanh(x @ w) ** 2) + fnp.log(fnp.sum(fnp.exp(x)))

    g = fg.grad(f)(x)
    h = fg.hessian(f)(x)
    assert g.dtype == np.float32 and h.dtype == np.float32
    g64 = fg.grad(f)(x.astype(np.float64))
    np.testing.assert_allclose(g, g64, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h, fg.hessian(f)(x.astype(np.float64)), rtol=1e-4, atol=1e-5)


def test_second_derivatives_at_repeated_eigenvalues_are_nan_not_wrong():
    def f(a):
        return fnp.sum(fnp.linalg.eigvalsh(a) ** 2)

    # first derivatives at the tie are right; the Hessian there is flagged as undefined
    np.testing.assert_allclose(fg.grad(f)(np.eye(2)), 2 * np.eye(2))
    assert np.all(np.isnan(fg.hessian(f)(np.eye(2))))
    # at distinct eigenvalues the Hessian is exact: f = a11^2 + a22^2 + 2 a21^2 (eigh reads the lower triangle)
    h = fg.hessian(f)(np.diag([1.0, 2.0])).reshape(4, 4)
    np.testing.assert_allclose(h, np.diag([2.0, 0.0, 4.0, 2.0]), atol=1e-12)
