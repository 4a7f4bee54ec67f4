"""Transforms composed to any depth, with no perturbation confusion."""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads


def _tanh_derivatives(x: float) -> list[float]:
    """Closed forms of d^k/dx^k tanh for k = 0..4 (polynomials in t = tanh x)."""
    t = np.tanh(x)
    return [
        t,
        1 - t**2,
        -2 * t + 2 * t**3,
        -2 + 8 * t**2 - 6 * t**4,
        16 * t - 40 * t**3 + 24 * t**5,
    ]


@pytest.mark.parametrize("x", [-1.3, 0.0, 0.4, 2.0])
def test_fourth_derivative_of_tanh_by_nested_grad(x):
    f = fnp.tanh
    expected = _tanh_derivatives(x)
    for k in range(1, 5):
        f = fg.grad(f)
        np.testing.assert_allclose(f(x), expected[k], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "outer, inner",
    [
        (fg.grad, fg.grad),
        (fg.jacfwd, fg.grad),
        (fg.jacrev, fg.grad),
        (fg.jacfwd, fg.jacfwd),
        (fg.jacrev, fg.jacrev),
    ],
)
def test_tanh_derivatives_in_every_mode_combination(outer, inner):
    x = 0.7
    np.testing.assert_allclose(outer(inner(fnp.tanh))(x), _tanh_derivatives(x)[2], rtol=1e-12)


def test_jvp_nested_four_times():
    def d(f):
        return lambda x: fg.jvp(f, (x,), (1.0,))[1]

    np.testing.assert_allclose(d(d(d(d(fnp.tanh))))(0.3), _tanh_derivatives(0.3)[4], rtol=1e-12)


def test_no_perturbation_confusion_spec_examples():
    assert fg.grad(lambda x: x * fg.grad(lambda y: x + y)(1.0))(2.0) == 1.0
    assert fg.grad(lambda x: fg.grad(lambda y: y * (x - y))(x))(1.0) == -1.0


def test_no_perturbation_confusion_forward_and_mixed():
    def d_fwd(f):
        return lambda x: fg.jvp(f, (x,), (1.0,))[1]

    assert d_fwd(lambda x: x * d_fwd(lambda y: x + y)(1.0))(2.0) == 1.0
    assert d_fwd(lambda x: d_fwd(lambda y: y * (x - y))(x))(1.0) == -1.0
    assert fg.grad(lambda x: x * d_fwd(lambda y: x + y)(1.0))(2.0) == 1.0
    assert d_fwd(lambda x: x * fg.grad(lambda y: x + y)(1.0))(2.0) == 1.0
    assert fg.grad(lambda x: d_fwd(lambda y: y * (x - y))(x))(1.0) == -1.0


def test_inner_transform_closes_over_outer_value():
    # d/dx [ d/dy (x*y)^2 at y=1 ] = d/dx 2x^2 = 4x
    def f(x):
        return fg.grad(lambda y: (x * y) ** 2)(1.0)

    assert fg.grad(f)(3.0) == 12.0
    assert fg.jvp(f, (3.0,), (1.0,))[1] == 12.0


def test_jvp_of_grad_and_grad_of_vjp():
    f = lambda x: fnp.sum(fnp.sin(x) * x)  # noqa: E731
    x = np.array([0.3, -1.1, 2.0])
    v = np.array([1.0, 0.5, -2.0])
    hvp = fg.jvp(fg.grad(f), (x,), (v,))[1]
    h = np.diag(2 * np.cos(x) - x * np.sin(x))
    np.testing.assert_allclose(hvp, h @ v, rtol=1e-12)

    def pullback_dot(x):
        _, vjp_fn = fg.vjp(lambda x: fnp.sin(x) * x, x)
        return fnp.sum(vjp_fn(v)[0])

    np.testing.assert_allclose(fg.grad(pullback_dot)(x), h @ v, rtol=1e-12)


def test_grad_of_linearize_and_linearize_of_grad():
    f = lambda x: fnp.sum(fnp.exp(x) * x)  # noqa: E731
    x = np.array([0.1, 0.2])
    _, f_jvp = fg.linearize(fg.grad(f), x)
    h = np.diag(np.exp(x) * (x + 2))
    np.testing.assert_allclose(f_jvp(np.array([1.0, 0.0])), h[:, 0], rtol=1e-12)


def test_jacfwd_of_jacrev_matches_closed_form():
    a = np.array([[1.0, 2.0], [0.5, -1.0], [0.0, 3.0]])

    def f(x):
        return fnp.tanh(a @ x)

    x = np.array([0.2, -0.4])
    h = fg.jacfwd(fg.jacrev(f))(x)
    t = np.tanh(a @ x)
    expected = np.einsum("i,ij,ik->ijk", -2 * t * (1 - t**2), a, a)
    np.testing.assert_allclose(h, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_stop_gradient_is_zero_in_every_mode_and_order(order):
    def f(x):
        return fnp.sin(x) * fg.stop_gradient(fnp.exp(x)) + fg.stop_gradient(x**4)

    x = 0.3
    expected_value = [np.cos(x), -np.sin(x), -np.cos(x)][order - 1] * np.exp(x)

    def rev(g):
        return fg.grad(g)

    def fwd(g):
        return lambda y: fg.jvp(g, (y,), (1.0,))[1]

    for combo in [(rev,) * order, (fwd,) * order, tuple((rev, fwd)[i % 2] for i in range(order))]:
        h = f
        for d in combo:
            h = d(h)
        np.testing.assert_allclose(h(x), expected_value, rtol=1e-12)


def test_stop_gradient_inside_inner_transform_stops_every_level():
    # as in JAX, stop_gradient blocks every transform, not just the innermost one
    def f(x):
        return fg.grad(lambda y: fg.stop_gradient(y * x) * y)(2.0)

    assert f(5.0) == 10.0  # inner: d/dy [c * y] with c = y*x frozen -> c = 2x
    assert fg.grad(f)(5.0) == 0.0  # outer: 2x came through stop_gradient
    assert fg.jvp(f, (5.0,), (1.0,))[1] == 0.0


def test_transform_inside_differentiated_function_check_grads():
    def f(x):
        inner = fg.grad(lambda y: fnp.sum(fnp.sin(x * y)))(1.0)
        return inner * x

    check_grads(f, (np.array([0.3, 0.7]),), order=2, modes=("fwd", "rev"))


def test_hessian_vector_product_equivalences():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, 4))

    def f(x):
        return fnp.sum(fnp.tanh(a @ x)) + fnp.log(fnp.sum(fnp.exp(x)))

    x = rng.normal(size=4)
    v = rng.normal(size=4)
    h = fg.hessian(f)(x)
    hvp_fwd_rev = fg.jvp(fg.grad(f), (x,), (v,))[1]
    hvp_rev_rev = fg.grad(lambda x: fnp.dot(fg.grad(f)(x), v))(x)
    np.testing.assert_allclose(hvp_fwd_rev, h @ v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hvp_rev_rev, h @ v, rtol=1e-10, atol=1e-12)
