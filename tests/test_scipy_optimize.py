"""funcgrad.scipy.optimize: the same iterates and bits as SciPy handed the same derivative callables, for every
method family that takes derivatives; hand-written derivatives agree; pytrees in and out; user derivatives kept."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.optimize as so

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.scipy import optimize

RNG = np.random.default_rng(7)


def rosen(x):
    return fnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


A = RNG.normal(size=(6, 4))
B = RNG.normal(size=6)


def convex(x):
    """Strictly convex (positive definite Hessian everywhere): for dogleg."""
    return fnp.sum(fnp.logaddexp(0.0, A @ x - B)) + 0.5 * fnp.sum(x**2)


X0 = np.array([-1.2, 1.0, -0.5, 0.8])


def _hessp(f):
    return lambda x, p: fg.hvp(f, (x,), (p,))[1]


def assert_same(ours, theirs):
    """Bit for bit: iterations, evaluations, the solution and the value."""
    for key in ("nit", "nfev", "njev", "nhev", "status"):
        if key in theirs:
            assert ours[key] == theirs[key], (key, ours[key], theirs[key])
    assert np.asarray(ours.x).tobytes() == np.asarray(theirs.x).tobytes()
    assert np.asarray(ours.fun).tobytes() == np.asarray(theirs.fun).tobytes()


GRADIENT_METHODS = ["BFGS", "CG", "L-BFGS-B", "TNC", "SLSQP"]
HESSP_METHODS = ["Newton-CG", "trust-ncg", "trust-krylov", "trust-constr"]
HESS_METHODS = ["dogleg", "trust-exact"]


@pytest.mark.parametrize("method", GRADIENT_METHODS)
@pytest.mark.parametrize("jit", [False, True])
def test_gradient_methods_match_scipy_with_value_and_grad(method, jit):
    ours = optimize.minimize(rosen, X0, method=method, jit=jit)
    theirs = so.minimize(fg.value_and_grad(rosen), X0, method=method, jac=True)
    assert_same(ours, theirs)
    assert ours.fun < 1e-4  # TNC stops at its evaluation budget, near the minimum


@pytest.mark.parametrize("method", HESSP_METHODS)
@pytest.mark.parametrize("jit", [False, True])
def test_hessian_vector_product_methods_match_scipy(method, jit):
    ours = optimize.minimize(rosen, X0, method=method, jit=jit)
    theirs = so.minimize(fg.value_and_grad(rosen), X0, method=method, jac=True, hessp=_hessp(rosen))
    assert_same(ours, theirs)
    if method != "trust-constr":  # trust-constr runs out of iterations on the 4-D Rosenbrock, with or without us
        np.testing.assert_allclose(ours.x, np.ones(4), rtol=1e-4)


@pytest.mark.parametrize("method", HESS_METHODS)
@pytest.mark.parametrize("jit", [False, True])
def test_dense_hessian_methods_match_scipy(method, jit):
    ours = optimize.minimize(convex, np.zeros(4), method=method, jit=jit)
    theirs = so.minimize(fg.value_and_grad(convex), np.zeros(4), method=method, jac=True, hess=fg.hessian(convex))
    assert_same(ours, theirs)
    assert ours.success


def test_default_method_is_scipys_choice():
    assert_same(optimize.minimize(rosen, X0), so.minimize(fg.value_and_grad(rosen), X0, jac=True))
    bounds = [(-2, 0.5)] * 4
    ours = optimize.minimize(rosen, X0, bounds=bounds)
    assert_same(ours, so.minimize(fg.value_and_grad(rosen), X0, jac=True, bounds=bounds))
    assert ours.message == so.minimize(rosen, X0, method="L-BFGS-B", bounds=bounds).message


def test_hand_written_derivatives_take_the_same_path():
    for method, extra in [
        ("BFGS", {}),
        ("Newton-CG", {"hessp": so.rosen_hess_prod}),
        ("trust-exact", {"hess": so.rosen_hess}),
        ("trust-krylov", {"hessp": so.rosen_hess_prod}),
    ]:
        ours = optimize.minimize(rosen, X0, method=method)
        theirs = so.minimize(so.rosen, X0, method=method, jac=so.rosen_der, **extra)
        assert ours.nit == theirs.nit, method
        np.testing.assert_allclose(ours.x, theirs.x, rtol=1e-9, atol=1e-12)


def test_finite_differences_take_more_evaluations_to_the_same_answer():
    ours = optimize.minimize(rosen, X0, method="BFGS")
    fd = so.minimize(rosen, X0, method="BFGS")
    assert ours.nfev < fd.nfev
    np.testing.assert_allclose(ours.x, np.ones(4), rtol=1e-5)


# --- pytrees ----------------------------------------------------------------------------------

FEATURES = RNG.normal(size=(40, 3))
LABELS = (FEATURES @ np.array([1.5, -2.0, 0.5]) + 0.3 + 0.5 * RNG.normal(size=40) > 0).astype(float)


def logistic_loss(params, features, labels):
    logits = features @ params["w"] + params["b"]
    return fnp.sum(fnp.logaddexp(0.0, logits) - labels * logits) + 0.05 * fnp.sum(params["w"] ** 2)


def test_pytree_parameters_in_and_out():
    params0 = {"w": np.zeros(3), "b": 0.0}
    ours = optimize.minimize(logistic_loss, params0, args=(FEATURES, LABELS), method="Newton-CG")
    assert set(ours.x) == {"w", "b"} and ours.x["w"].shape == (3,) and ours.x["b"].shape == ()
    flat_loss = lambda z, f, y: logistic_loss({"b": z[0], "w": z[1:]}, f, y)  # ravel order: b, then w
    theirs = so.minimize(
        fg.value_and_grad(flat_loss),
        np.zeros(4),
        args=(FEATURES, LABELS),
        method="Newton-CG",
        jac=True,
        hessp=lambda z, p, f, y: fg.hvp(lambda w: flat_loss(w, f, y), (z,), (p,))[1],
    )
    assert ours.nit == theirs.nit
    np.testing.assert_allclose(fg.tree.ravel_pytree(ours.x)[0], theirs.x, rtol=1e-12, atol=1e-14)
    assert ours.jac.shape == (4,)


def test_tuple_of_matrix_and_vector_and_integer_leaves():
    target = RNG.normal(size=(2, 3))
    loss = lambda p: fnp.sum((p[0] - target) ** 2) + fnp.sum((p[1] - 3.0) ** 2)
    res = optimize.minimize(loss, (np.zeros((2, 3)), np.array([0, 1])), method="BFGS")
    assert res.x[0].shape == (2, 3) and res.x[1].dtype == np.float64
    np.testing.assert_allclose(res.x[0], target, atol=1e-6)
    np.testing.assert_allclose(res.x[1], [3.0, 3.0], atol=1e-6)


def test_callbacks_receive_the_pytree():
    seen, results = [], []
    optimize.minimize(
        logistic_loss, {"w": np.zeros(3), "b": 0.0}, args=(FEATURES, LABELS), method="BFGS", callback=seen.append
    )
    assert seen and all(set(x) == {"w", "b"} for x in seen)

    def on_result(intermediate_result):
        results.append(intermediate_result.x)

    optimize.minimize(logistic_loss, {"w": np.zeros(3), "b": 0.0}, args=(FEATURES, LABELS), callback=on_result)
    assert results and all(set(x) == {"w", "b"} for x in results)


def test_complex_parameters_are_refused():
    with pytest.raises(TypeError, match="real and imaginary parts"):
        optimize.minimize(lambda z: fnp.sum(fnp.abs(z) ** 2), np.ones(2, complex))


# --- what the user supplies is kept ------------------------------------------------------------------


def test_user_gradient_and_hessian_are_used():
    calls = {"jac": 0, "hessp": 0}

    def jac(x):
        calls["jac"] += 1
        return so.rosen_der(x)

    def hessp(x, p):
        calls["hessp"] += 1
        return so.rosen_hess_prod(x, p)

    ours = optimize.minimize(so.rosen, X0, method="Newton-CG", jac=jac, hessp=hessp)
    theirs = so.minimize(so.rosen, X0, method="Newton-CG", jac=so.rosen_der, hessp=so.rosen_hess_prod)
    assert calls["jac"] > 0 and calls["hessp"] > 0
    assert_same(ours, theirs)


def test_user_jac_true_and_finite_differences_are_kept():
    vg = lambda x: (so.rosen(x), so.rosen_der(x))
    assert_same(optimize.minimize(vg, X0, jac=True, method="BFGS"), so.minimize(vg, X0, jac=True, method="BFGS"))
    # a gradient of one's own gets no Hessian from funcgrad: SciPy's finite differences of it, as without funcgrad
    ours = optimize.minimize(vg, X0, jac=True, method="Newton-CG")
    assert_same(ours, so.minimize(vg, X0, jac=True, method="Newton-CG"))
    for jac in ("2-point", False):
        assert_same(optimize.minimize(so.rosen, X0, jac=jac, method="BFGS"), so.minimize(so.rosen, X0, jac=jac))
    # finite-difference gradients with trust-constr need a quasi-Newton Hessian: none is filled in
    ours = optimize.minimize(so.rosen, X0, jac="2-point", hess=so.BFGS(), method="trust-constr")
    assert_same(ours, so.minimize(so.rosen, X0, jac="2-point", hess=so.BFGS(), method="trust-constr"))


def test_a_user_hessian_strategy_gets_no_hessp():
    ours = optimize.minimize(rosen, X0, method="trust-constr", hess=so.SR1())
    theirs = so.minimize(fg.value_and_grad(rosen), X0, jac=True, method="trust-constr", hess=so.SR1())
    assert_same(ours, theirs)


def test_methods_without_derivatives_get_none_and_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for method in ("Nelder-Mead", "Powell", "COBYLA"):
            short = {"maxiter": 50}
            ours = optimize.minimize(so.rosen, X0, method=method, options=short)
            assert_same(ours, so.minimize(so.rosen, X0, method=method, options=short))


# --- constraints -------------------------------------------------------------------------------------


def circle(x, radius):
    return radius**2 - fnp.sum(x**2)


def line(x):
    return x[0] + 2 * x[1] - 1.0


def test_slsqp_constraint_jacobians_match_scipy():
    cons = [{"type": "ineq", "fun": circle, "args": (1.5,)}, {"type": "eq", "fun": line}]
    ours = optimize.minimize(rosen, np.zeros(4), method="SLSQP", constraints=cons)
    theirs = so.minimize(
        fg.value_and_grad(rosen),
        np.zeros(4),
        jac=True,
        method="SLSQP",
        constraints=[
            {"type": "ineq", "fun": circle, "args": (1.5,), "jac": fg.jacrev(circle)},
            {"type": "eq", "fun": line, "jac": fg.jacrev(line)},
        ],
    )
    assert_same(ours, theirs)
    assert ours.success and abs(line(ours.x)) < 1e-8 and circle(ours.x, 1.5) > -1e-8
    # a single dict, as SciPy accepts
    single = optimize.minimize(rosen, np.zeros(4), method="SLSQP", constraints=cons[1])
    assert abs(line(single.x)) < 1e-8


def vector_constraint(x):
    return fnp.stack([fnp.sum(x**2), x[0] * x[1]])


def test_trust_constr_constraint_jacobians_and_hessians_match_scipy():
    ours = optimize.minimize(
        rosen,
        np.full(4, 0.1),
        method="trust-constr",
        constraints=so.NonlinearConstraint(vector_constraint, [0, -1], [2, 0.2]),
    )

    def constraint_hessian(x, v):
        return fg.hessian(lambda z: fnp.dot(vector_constraint(z), v))(x)

    theirs = so.minimize(
        fg.value_and_grad(rosen),
        np.full(4, 0.1),
        jac=True,
        hessp=_hessp(rosen),
        method="trust-constr",
        constraints=so.NonlinearConstraint(
            vector_constraint, [0, -1], [2, 0.2], jac=fg.jacrev(vector_constraint), hess=constraint_hessian
        ),
    )
    assert_same(ours, theirs)
    assert ours.success and ours.constr_violation < 1e-8


def test_trust_constr_dict_constraints_get_exact_hessians():
    ours = optimize.minimize(rosen, np.zeros(4), method="trust-constr", constraints=[{"type": "eq", "fun": line}])
    theirs = so.minimize(
        fg.value_and_grad(rosen),
        np.zeros(4),
        jac=True,
        hessp=_hessp(rosen),
        method="trust-constr",
        constraints=so.NonlinearConstraint(
            line, 0.0, 0.0, jac=fg.jacrev(line), hess=lambda x, v: fg.hessian(lambda z: line(z) * v[0])(x)
        ),
    )
    assert_same(ours, theirs)
    assert abs(line(ours.x)) < 1e-8


def test_constraints_on_pytree_parameters():
    cons = {"type": "eq", "fun": lambda p: p["a"] + p["b"][0] - 1.0}
    res = optimize.minimize(
        lambda p: p["a"] ** 2 + fnp.sum(p["b"] ** 2), {"a": 0.0, "b": np.zeros(2)}, constraints=cons
    )
    np.testing.assert_allclose(res.x["a"], 0.5, atol=1e-8)
    np.testing.assert_allclose(res.x["b"], [0.5, 0.0], atol=1e-8)


# --- least_squares, root, curve_fit ------------------------------------------------------------------

T = np.linspace(0.0, 4.0, 30)
Y = 3.0 * np.exp(-0.7 * T) + 0.5 + 0.01 * RNG.normal(size=30)


def decay_residuals(p, t, y):
    return p[0] * fnp.exp(-p[1] * t) + p[2] - y


@pytest.mark.parametrize("method", ["trf", "dogbox", "lm"])
@pytest.mark.parametrize("jit", [False, True])
def test_least_squares_matches_scipy_with_the_jacobian(method, jit):
    ours = optimize.least_squares(decay_residuals, np.ones(3), method=method, args=(T, Y), jit=jit)
    theirs = so.least_squares(decay_residuals, np.ones(3), jac=fg.jacfwd(decay_residuals), method=method, args=(T, Y))
    assert_same(ours, theirs)
    assert ours.jac.tobytes() == theirs.jac.tobytes()
    np.testing.assert_allclose(ours.x, [3.0, 0.7, 0.5], rtol=0.05)


def test_least_squares_fewer_residuals_than_parameters_uses_reverse_mode():
    fun = lambda p: fnp.stack([fnp.sum(p**2) - 1.0, p[0] - p[1]])
    ours = optimize.least_squares(fun, np.full(5, 0.3))
    theirs = so.least_squares(fun, np.full(5, 0.3), jac=fg.jacrev(fun))
    assert_same(ours, theirs)


def test_least_squares_hand_written_jacobian_and_pytrees():
    def hand_jacobian(p, t, y):
        e = np.exp(-p[1] * t)
        return np.stack([e, -p[0] * t * e, np.ones_like(t)], axis=1)

    ours = optimize.least_squares(decay_residuals, np.ones(3), args=(T, Y))
    theirs = so.least_squares(decay_residuals, np.ones(3), jac=hand_jacobian, args=(T, Y))
    assert ours.nfev == theirs.nfev and ours.njev == theirs.njev
    np.testing.assert_allclose(ours.x, theirs.x, rtol=1e-10)
    tree = optimize.least_squares(
        lambda p, t, y: p["amplitude"] * fnp.exp(-p["rate"] * t) + p["offset"] - y,
        {"amplitude": 1.0, "rate": 1.0, "offset": 1.0},
        kwargs={"t": T, "y": Y},
    )
    np.testing.assert_allclose([tree.x["amplitude"], tree.x["rate"], tree.x["offset"]], theirs.x, rtol=1e-8)
    user = optimize.least_squares(decay_residuals, np.ones(3), jac="3-point", args=(T, Y))
    assert_same(user, so.least_squares(decay_residuals, np.ones(3), jac="3-point", args=(T, Y)))


def system(v, a):
    return fnp.stack([v[0] + a * (v[0] - v[1]) ** 3 - 1.0, a * (v[1] - v[0]) ** 3 + v[1]])


@pytest.mark.parametrize("method", ["hybr", "lm"])
def test_root_matches_scipy_with_the_jacobian(method):
    ours = optimize.root(system, np.zeros(2), args=(0.5,), method=method)
    theirs = so.root(system, np.zeros(2), args=(0.5,), method=method, jac=fg.jacfwd(system))
    assert ours.nfev == theirs.nfev and ours.x.tobytes() == theirs.x.tobytes() and ours.success
    hand = lambda v, a: np.array(
        [
            [1 + 3 * a * (v[0] - v[1]) ** 2, -3 * a * (v[0] - v[1]) ** 2],
            [-3 * a * (v[1] - v[0]) ** 2, 1 + 3 * a * (v[1] - v[0]) ** 2],
        ]
    )
    by_hand = so.root(system, np.zeros(2), args=(0.5,), method=method, jac=hand)
    np.testing.assert_allclose(ours.x, by_hand.x, rtol=1e-10)


def test_root_methods_without_a_jacobian_and_pytrees():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = optimize.root(system, np.zeros(2), args=(0.5,), method="broyden1")
    theirs = so.root(system, np.zeros(2), args=(0.5,), method="broyden1")
    assert ours.x.tobytes() == theirs.x.tobytes()
    tree = optimize.root(lambda p: {"u": p["u"] ** 3 - 8.0, "v": p["v"] - p["u"]}, {"u": 1.0, "v": 0.0})
    np.testing.assert_allclose([tree.x["u"], tree.x["v"]], [2.0, 2.0], rtol=1e-10)


def pk_model(t, dose_over_v, ka, ke):
    return dose_over_v * ka / (ka - ke) * (fnp.exp(-ke * t) - fnp.exp(-ka * t))


TIMES = np.array([0.25, 0.5, 1, 2, 3, 4, 6, 8, 12, 24.0])
CONC = pk_model(TIMES, 10.0, 1.2, 0.15) * (1 + 0.02 * RNG.normal(size=10))


def _model_jac(t, *p):
    return np.stack(fg.jacfwd(pk_model, argnums=(1, 2, 3))(t, *p), axis=-1)


@pytest.mark.parametrize("bounds", [(-np.inf, np.inf), (0.0, 50.0)])
@pytest.mark.parametrize("jit", [False, True])
def test_curve_fit_matches_scipy_with_the_jacobian(bounds, jit):
    p0 = [5.0, 1.0, 0.1]
    popt, pcov = optimize.curve_fit(pk_model, TIMES, CONC, p0=p0, bounds=bounds, jit=jit)
    want, want_cov = so.curve_fit(pk_model, TIMES, CONC, p0=p0, bounds=bounds, jac=_model_jac)
    assert popt.tobytes() == want.tobytes() and pcov.tobytes() == want_cov.tobytes()
    np.testing.assert_allclose(popt, [10.0, 1.2, 0.15], rtol=0.1)


def test_curve_fit_hand_written_jacobian_sigma_and_full_output():
    def hand(t, c, ka, ke):
        r = ka / (ka - ke)
        d = np.exp(-ke * t) - np.exp(-ka * t)
        d_ka = c * (-ke / (ka - ke) ** 2 * d + r * t * np.exp(-ka * t))
        d_ke = c * (ka / (ka - ke) ** 2 * d - r * t * np.exp(-ke * t))
        return np.stack([r * d, d_ka, d_ke], axis=1)

    sigma = 0.02 * CONC
    ours = optimize.curve_fit(pk_model, TIMES, CONC, p0=[5.0, 1.0, 0.1], sigma=sigma, full_output=True)
    theirs = so.curve_fit(pk_model, TIMES, CONC, p0=[5.0, 1.0, 0.1], sigma=sigma, full_output=True, jac=hand)
    assert ours[2]["nfev"] == theirs[2]["nfev"]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-10)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)
    kept = optimize.curve_fit(pk_model, TIMES, CONC, p0=[5.0, 1.0, 0.1], method="trf", jac="3-point")
    want = so.curve_fit(pk_model, TIMES, CONC, p0=[5.0, 1.0, 0.1], method="trf", jac="3-point")
    assert kept[0].tobytes() == want[0].tobytes()


def test_curve_fit_without_p0_counts_parameters_from_the_signature():
    popt, _ = optimize.curve_fit(lambda t, a, b: a * t + b, TIMES, 2 * TIMES + 1)
    np.testing.assert_allclose(popt, [2.0, 1.0], rtol=1e-10)
