"""funcgrad.scipy.integrate.solve_ivp: the implicit methods get funcgrad's Jacobian; SciPy's own run with the same
callable is bit for bit the same, with a hand-written Jacobian it takes the same steps; everything else forwarded."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.integrate as si
import scipy.sparse as sp

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.scipy.integrate import solve_ivp


def robertson(t, y, k1, k2, k3):
    return fnp.stack(
        [
            -k1 * y[0] + k3 * y[1] * y[2],
            k1 * y[0] - k3 * y[1] * y[2] - k2 * y[1] ** 2,
            k2 * y[1] ** 2,
        ]
    )


def robertson_jacobian(t, y, k1, k2, k3):
    return np.array(
        [
            [-k1, k3 * y[2], k3 * y[1]],
            [k1, -k3 * y[2] - 2 * k2 * y[1], -k3 * y[1]],
            [0.0, 2 * k2 * y[1], 0.0],
        ]
    )


RATES = (0.04, 3e7, 1e4)
Y0 = np.array([1.0, 0.0, 0.0])
SPAN = (0.0, 100.0)
TOL = {"rtol": 1e-6, "atol": 1e-10}


def _same(ours, theirs):
    assert (ours.nfev, ours.njev, ours.nlu) == (theirs.nfev, theirs.njev, theirs.nlu)
    assert ours.t.tobytes() == theirs.t.tobytes() and ours.y.tobytes() == theirs.y.tobytes()


@pytest.mark.parametrize("method", ["BDF", "Radau", "LSODA", si.BDF])
@pytest.mark.parametrize("jit", [False, True])
def test_implicit_methods_get_the_jacobian_and_match_scipy(method, jit):
    ours = solve_ivp(robertson, SPAN, Y0, method=method, args=RATES, jit=jit, **TOL)
    theirs = si.solve_ivp(robertson, SPAN, Y0, method=method, args=RATES, jac=fg.jacfwd(robertson, argnums=1), **TOL)
    _same(ours, theirs)
    assert ours.success and ours.njev > 0


@pytest.mark.parametrize("method", ["BDF", "Radau", "LSODA"])
def test_hand_written_jacobian_takes_the_same_steps(method):
    ours = solve_ivp(robertson, SPAN, Y0, method=method, args=RATES, **TOL)
    hand = si.solve_ivp(robertson, SPAN, Y0, method=method, args=RATES, jac=robertson_jacobian, **TOL)
    assert (ours.nfev, ours.njev, ours.nlu) == (hand.nfev, hand.njev, hand.nlu)
    np.testing.assert_allclose(ours.y, hand.y, rtol=1e-9, atol=1e-15)
    # SciPy's finite differences spend n evaluations of fun per Jacobian (BDF and Radau leave them out of nfev)
    calls = []
    counted = lambda t, y, *rates: calls.append(t) or robertson(t, y, *rates)
    solve_ivp(counted, SPAN, Y0, method=method, args=RATES, **TOL)
    exact_calls = len(calls)
    fd = si.solve_ivp(counted, SPAN, Y0, method=method, args=RATES, **TOL)
    assert exact_calls == ours.nfev + ours.njev  # one traced evaluation per Jacobian
    assert len(calls) - exact_calls >= 3 * ours.njev
    np.testing.assert_allclose(ours.y[:, -1], fd.y[:, -1], rtol=1e-4, atol=1e-9)


def test_a_users_jacobian_or_sparsity_pattern_is_kept():
    calls = []

    def jac(t, y, *rates):
        calls.append(t)
        return robertson_jacobian(t, y, *rates)

    ours = solve_ivp(robertson, SPAN, Y0, method="BDF", args=RATES, jac=jac, **TOL)
    assert calls and ours.njev == len(calls)
    pattern = sp.csr_matrix(np.array([[1, 1, 1], [1, 1, 1], [0, 1, 0]]))
    kept = solve_ivp(robertson, SPAN, Y0, method="Radau", args=RATES, jac_sparsity=pattern, **TOL)
    _same(kept, si.solve_ivp(robertson, SPAN, Y0, method="Radau", args=RATES, jac_sparsity=pattern, **TOL))
    constant = np.array([[-1.0, 0.0], [0.0, -2.0]])
    linear = lambda t, y: constant @ y
    _same(
        solve_ivp(linear, (0, 1), np.ones(2), method="BDF", jac=constant),
        si.solve_ivp(linear, (0, 1), np.ones(2), method="BDF", jac=constant),
    )


def test_explicit_methods_get_no_jacobian_and_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = solve_ivp(robertson, (0.0, 1e-3), Y0, method="RK45", args=RATES)
    theirs = si.solve_ivp(robertson, (0.0, 1e-3), Y0, method="RK45", args=RATES)
    assert ours.y.tobytes() == theirs.y.tobytes()


def test_everything_else_is_forwarded():
    hit = lambda t, y, *rates: y[0] - 0.9
    hit.terminal = True
    ours = solve_ivp(
        robertson, SPAN, Y0, method="BDF", args=RATES, t_eval=[1.0, 2.0], dense_output=True, events=hit, **TOL
    )
    theirs = si.solve_ivp(
        robertson,
        SPAN,
        Y0,
        method="BDF",
        args=RATES,
        t_eval=[1.0, 2.0],
        dense_output=True,
        events=hit,
        jac=fg.jacfwd(robertson, argnums=1),
        **TOL,
    )
    _same(ours, theirs)
    assert ours.t_events[0].tobytes() == theirs.t_events[0].tobytes() and ours.status == 1
    assert ours.sol(0.5).tobytes() == theirs.sol(0.5).tobytes()


def test_vectorized_fun_and_no_args():
    fun = lambda t, y: fnp.stack([-50.0 * (y[0] - fnp.cos(t)), -y[1]])
    ours = solve_ivp(fun, (0.0, 1.0), np.array([0.0, 1.0]), method="Radau", vectorized=True)
    theirs = si.solve_ivp(
        fun, (0.0, 1.0), np.array([0.0, 1.0]), method="Radau", vectorized=True, jac=fg.jacfwd(fun, argnums=1)
    )
    _same(ours, theirs)
