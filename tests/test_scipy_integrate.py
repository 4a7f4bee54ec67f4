"""funcgrad.scipy.integrate.odeint: values equal SciPy's; adjoint gradients in y0, t and args (pytrees)
agree with closed forms, finite differences and a hand-integrated forward sensitivity equation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("scipy", reason="funcgrad.scipy needs the scipy extra")
import scipy.integrate as si  # noqa: E402

import funcgrad as fg  # noqa: E402
import funcgrad.numpy as fnp  # noqa: E402
from funcgrad.scipy.integrate import odeint  # noqa: E402

TOL = dict(rtol=1e-10, atol=1e-10)


def decay(y: Any, t: Any, k: Any) -> Any:
    return -k * y


def test_plain_values_are_scipys() -> None:
    t = np.linspace(0.0, 2.0, 5)
    np.testing.assert_array_equal(odeint(decay, np.array([1.0, 2.0]), t, (0.3,)), si.odeint(decay, [1.0, 2.0], t, (0.3,)))


def test_exponential_decay_closed_form_in_y0_t_and_k() -> None:
    # y(t) = y0 exp(-k (t - t0)): dy/dy0 = exp(-k t), dy/dk = -t y, dy/dt = -k y, dy/dt0 = k y
    t, y0, k = np.array([0.0, 0.5, 1.5]), np.array([2.0]), 0.7
    loss = lambda y0, t, k: odeint(decay, y0, t, (k,), **TOL)[:, 0].sum()
    g_y0, g_t, g_k = fg.grad(loss, argnums=(0, 1, 2))(y0, t, k)
    exact = y0[0] * np.exp(-k * t)
    np.testing.assert_allclose(g_y0, [np.exp(-k * t).sum()], rtol=1e-6)
    np.testing.assert_allclose(g_k, (-t * exact).sum(), rtol=1e-6)
    np.testing.assert_allclose(g_t[1:], -k * exact[1:], rtol=1e-6)
    np.testing.assert_allclose(g_t[0], k * exact[1:].sum(), rtol=1e-6)


def lotka_volterra(y: Any, t: Any, params: dict[str, Any]) -> Any:
    prey, predator = y[0], y[1]
    a, b = params["rates"][0], params["rates"][1]
    return fnp.array([a * prey - b * prey * predator, params["coupling"] * prey * predator - predator])


def _sensitivities(y0: np.ndarray, t: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    """Forward sensitivity equation, by hand: S' = J S + df/dp for p = (a, b, c), S(0) = 0."""

    def rhs(z: np.ndarray, time: float) -> np.ndarray:
        x, y = z[0], z[1]
        s = z[2:].reshape(2, 3)
        jac = np.array([[a - b * y, -b * x], [c * y, c * x - 1.0]])
        dfdp = np.array([[x, -x * y, 0.0], [0.0, 0.0, x * y]])
        return np.concatenate([[a * x - b * x * y, c * x * y - y], (jac @ s + dfdp).ravel()])

    z = si.odeint(rhs, np.concatenate([y0, np.zeros(6)]), t, rtol=1e-11, atol=1e-11)
    return z[:, 2:].reshape(len(t), 2, 3)


def test_nonlinear_system_against_hand_integrated_sensitivities_and_pytree_args() -> None:
    y0, t = np.array([1.0, 0.5]), np.array([0.0, 0.4, 1.0])
    params = {"rates": np.array([1.1, 0.6]), "coupling": 0.8}
    weights = np.array([[0.0, 0.0], [1.0, -0.5], [0.3, 2.0]])
    loss = lambda params: (odeint(lotka_volterra, y0, t, (params,), **TOL) * weights).sum()
    grads = fg.grad(loss)(params)
    sens = _sensitivities(y0, t, 1.1, 0.6, 0.8)
    expected = np.einsum("td,tdp->p", weights, sens)
    np.testing.assert_allclose(grads["rates"], expected[:2], rtol=1e-5)
    np.testing.assert_allclose(grads["coupling"], expected[2], rtol=1e-5)


def test_gradients_in_y0_and_t_match_finite_differences() -> None:
    params = {"rates": np.array([1.1, 0.6]), "coupling": 0.8}
    y0, t = np.array([1.0, 0.5]), np.array([0.0, 0.3, 0.8])
    loss = lambda y0, t: (odeint(lotka_volterra, y0, t, (params,), **TOL) ** 2).sum()
    g_y0, g_t = fg.grad(loss, argnums=(0, 1))(y0, t)
    eps = 1e-6
    for i in range(2):
        step = np.eye(2)[i] * eps
        np.testing.assert_allclose(g_y0[i], (loss(y0 + step, t) - loss(y0 - step, t)) / (2 * eps), rtol=1e-5)
    for i in range(3):
        step = np.eye(3)[i] * eps
        np.testing.assert_allclose(g_t[i], (loss(y0, t + step) - loss(y0, t - step)) / (2 * eps), rtol=1e-5, atol=1e-7)


def test_jacrev_of_states_and_forward_mode_error() -> None:
    t = np.array([0.0, 1.0])
    jac = fg.jacrev(lambda k: odeint(decay, np.array([1.0]), t, (k,), **TOL))(0.5)
    np.testing.assert_allclose(jac[:, 0], [0.0, -np.exp(-0.5)], rtol=1e-6, atol=1e-12)
    final = lambda k: odeint(decay, np.array([1.0]), t, (k,))[1, 0]
    for transform in (lambda: fg.jvp(final, (0.5,), (1.0,)), lambda: fg.jacfwd(final)(0.5)):
        with pytest.raises(TypeError, match=r"odeint cannot be differentiated in forward mode.*fg\.jacrev"):
            transform()


@pytest.mark.parametrize("second", [fg.hessian, lambda f: fg.grad(fg.grad(f))], ids=["hessian", "grad-of-grad"])
def test_second_derivatives_raise_a_type_error_naming_first_order_reverse_mode(second: Any) -> None:
    t = np.array([0.0, 1.0])
    with pytest.raises(TypeError, match=r"odeint cannot be differentiated twice.*fg\.grad, fg\.vjp, fg\.jacrev"):
        second(lambda k: odeint(decay, np.array([1.0]), t, (k,))[1, 0])(0.5)


def test_bad_shapes_raise_value_error() -> None:
    with pytest.raises(ValueError, match="one-dimensional"):
        fg.grad(lambda y0: odeint(decay, y0, np.array([0.0, 1.0]), (1.0,)).sum())(np.ones((2, 2)))
    with pytest.raises(TypeError, match="full_output"):
        fg.grad(lambda y0: odeint(decay, y0, np.array([0.0, 1.0]), (1.0,), full_output=True).sum())(np.ones(2))


def test_scipys_spelling_args_keyword_and_tfirst() -> None:
    t = np.array([0.0, 0.5, 1.0])
    expected = si.odeint(decay, [1.0], t, args=(0.5,), **TOL)
    np.testing.assert_array_equal(odeint(decay, np.array([1.0]), t, args=(0.5,), **TOL), expected)
    time_first = lambda time, y, k: -k * y
    np.testing.assert_array_equal(odeint(time_first, np.array([1.0]), t, (0.5,), tfirst=True, **TOL), expected)
    grads = [
        fg.grad(lambda k: odeint(decay, np.array([1.0]), t, args=(k,), **TOL)[-1, 0])(0.5),
        fg.grad(lambda k: odeint(time_first, np.array([1.0]), t, (k,), tfirst=True, **TOL)[-1, 0])(0.5),
    ]
    assert grads[0] == pytest.approx(-np.exp(-0.5), rel=1e-7)
    assert grads[1] == pytest.approx(-np.exp(-0.5), rel=1e-7)


def test_args_that_are_not_a_tuple_are_refused_naming_the_spelling() -> None:
    with pytest.raises(TypeError, match=r"args=\(k,\)"):
        odeint(decay, np.array([1.0]), np.array([0.0, 1.0]), 0.5)
    with pytest.raises(TypeError, match=r"args must be a tuple"):
        fg.grad(lambda k: odeint(decay, np.array([1.0]), np.array([0.0, 1.0]), k)[1, 0])(0.5)
