"""Fitting with SciPy: funcgrad's derivatives handed to SciPy's solvers, against SciPy's finite differences.

Each implementation runs a whole fit and returns the fitted parameters (or the final state); a note
reports the iterations and evaluations each one took, since a fit's time is iterations x cost per
iteration.  JAX (jit) is beside where it can do the same fit: its jitted value-and-gradient handed to
the same SciPy method.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.integrate as si
import scipy.optimize as so

import funcgrad.numpy as fnp
from benchmarks.peers import Peers
from benchmarks.workload import Workload, workload
from funcgrad.scipy import optimize
from funcgrad.scipy.integrate import solve_ivp

#: per workload, per implementation: the counts of the last run (iterations, evaluations)
COUNTS: dict[str, dict[str, str]] = {}


def _counted(
    workload_name: str, impl: str, run: Callable[[], Any], describe: Callable[[Any], str]
) -> Callable[[], Any]:
    """``run``'s fitted values, remembering ``describe(result)`` for the note."""

    def timed() -> Any:
        result = run()
        COUNTS.setdefault(workload_name, {})[impl] = describe(result)
        return result.x if hasattr(result, "x") else result.y[:, -1]

    return timed


def _counts_note(workload_name: str) -> Callable[[dict[str, Any]], str]:
    def note(results: dict[str, Any]) -> str:
        counts = COUNTS.get(workload_name, {})
        return f"{workload_name}: " + "; ".join(f"{impl} {what}" for impl, what in counts.items())

    return note


def _logistic_data(quick: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    n, d = (200, 5) if quick else (5000, 40)
    X = rng.normal(size=(n, d))
    truth = rng.normal(size=d)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-X @ truth))).astype(float)
    return X, y


def _logistic(xp: Any, w: Any, X: Any, y: Any) -> Any:
    z = X @ w
    return xp.sum(xp.logaddexp(0.0, z) - y * z) + 0.5 * xp.sum(w**2)


def _describe_minimize(result: Any) -> str:
    return f"nit {result.nit}, nfev {result.nfev}, njev {getattr(result, 'njev', 0)}"


@workload()
def fit_logistic_bfgs(quick: bool, peers: Peers) -> Workload:
    """Logistic regression by BFGS: SciPy's default finite-difference gradient against funcgrad's exact one
    (value and gradient in one pass), and JAX's jitted value-and-gradient when JAX is loaded."""
    name = "fit logistic BFGS"
    X, y = _logistic_data(quick)
    w0 = np.zeros(X.shape[1])
    plain = lambda w: _logistic(np, w, X, y)  # noqa: E731
    impls: dict[str, Callable[[], Any]] = {
        "numpy": _counted(name, "scipy FD", lambda: so.minimize(plain, w0, method="BFGS"), _describe_minimize),
        "funcgrad": _counted(
            name,
            "funcgrad",
            lambda: optimize.minimize(lambda w: _logistic(fnp, w, X, y), w0, method="BFGS", jit=True),
            _describe_minimize,
        ),
    }
    if peers.jax is not None:
        jax, jnp = peers.jax, peers.jnp
        jX, jy = jnp.asarray(X), jnp.asarray(y)
        value_and_grad = jax.jit(jax.value_and_grad(lambda w: _logistic(jnp, w, jX, jy)))

        def jax_fit() -> Any:
            def fun(w: np.ndarray) -> tuple[float, np.ndarray]:
                value, gradient = value_and_grad(w)
                return float(value), np.asarray(gradient)

            return so.minimize(fun, w0, jac=True, method="BFGS")

        impls["jax-jit"] = _counted(name, "jax-jit", jax_fit, _describe_minimize)
    skipped = {peer: "needs JAX's own value-and-gradient; shown as jax-jit" for peer in ("jax",) if peers.jax}
    skipped.update(
        {peer: "not run: no SciPy bridge measured" for peer in ("autograd", "torch") if peers.loaded()[peer]}
    )
    return Workload(
        name,
        f"minimize(method='BFGS') of an L2-penalised logistic loss, {X.shape[0]} x {X.shape[1]}, to SciPy's gtol; "
        "the floor is SciPy's finite-difference gradient",
        impls,
        rtol=1e-4,
        floor_name="scipy FD",
        skipped=skipped,
        note=_counts_note(name),
    )


@workload()
def fit_logistic_newton(quick: bool, peers: Peers) -> Workload:
    """Logistic regression by Newton-CG: hand-written NumPy gradient and Hessian-vector product (the floor;
    Newton-CG takes no finite-difference gradient) against funcgrad's value_and_grad and hvp."""
    name = "fit logistic Newton"
    X, y = _logistic_data(quick)
    w0 = np.zeros(X.shape[1])

    def value_and_gradient(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = X @ w
        return float(_logistic(np, w, X, y)), X.T @ (1.0 / (1.0 + np.exp(-z)) - y) + w

    def hessp(w: np.ndarray, v: np.ndarray) -> np.ndarray:
        s = 1.0 / (1.0 + np.exp(-(X @ w)))
        return X.T @ (s * (1.0 - s) * (X @ v)) + v

    impls: dict[str, Callable[[], Any]] = {
        "numpy": _counted(
            name,
            "by hand",
            lambda: so.minimize(value_and_gradient, w0, jac=True, hessp=hessp, method="Newton-CG"),
            lambda r: f"nit {r.nit}, nfev {r.nfev}, nhev {r.nhev}",
        ),
        "funcgrad": _counted(
            name,
            "funcgrad",
            lambda: optimize.minimize(lambda w: _logistic(fnp, w, X, y), w0, method="Newton-CG", jit=True),
            lambda r: f"nit {r.nit}, nfev {r.nfev}, nhev {r.nhev}",
        ),
    }
    skipped = {peer: "not run here: see 'fit logistic BFGS'" for peer, lib in peers.loaded().items() if lib}
    return Workload(
        name,
        f"minimize(method='Newton-CG') of the same logistic loss, {X.shape[0]} x {X.shape[1]}; "
        "the floor is a hand-written gradient and Hessian-vector product",
        impls,
        rtol=1e-6,
        floor_name="by hand",
        skipped=skipped,
        note=_counts_note(name),
    )


def _robertson(xp: Any) -> Callable[[float, Any], Any]:
    def rhs(t: float, c: Any) -> Any:
        return xp.stack(
            [
                -0.04 * c[0] + 1e4 * c[1] * c[2],
                0.04 * c[0] - 1e4 * c[1] * c[2] - 3e7 * c[1] ** 2,
                3e7 * c[1] ** 2,
            ]
        )

    return rhs


@workload()
def fit_stiff_ode(quick: bool, peers: Peers) -> Workload:
    """Robertson's stiff kinetics by BDF: SciPy's finite-difference Jacobian against funcgrad's jacfwd."""
    name = "stiff ODE BDF"
    span = (0.0, 1e2 if quick else 1e5)
    c0 = np.array([1.0, 0.0, 0.0])
    tol = {"rtol": 1e-6, "atol": 1e-10}
    calls = {"n": 0}

    def counting(rhs: Callable[[float, Any], Any]) -> Callable[[float, Any], Any]:
        def fun(t: float, c: Any) -> Any:
            calls["n"] += 1
            return rhs(t, c)

        return fun

    def run(solver: Callable[..., Any], rhs: Callable[[float, Any], Any]) -> Callable[[], Any]:
        def solve() -> Any:
            calls["n"] = 0
            solution = solver(counting(rhs), span, c0, method="BDF", **tol)
            solution.calls = calls["n"]
            return solution

        return solve

    describe = lambda s: f"steps {len(s.t) - 1}, calls of fun {s.calls}, Jacobians {s.njev}"  # noqa: E731
    impls: dict[str, Callable[[], Any]] = {
        "numpy": _counted(name, "scipy FD", run(si.solve_ivp, _robertson(np)), describe),
        "funcgrad": _counted(name, "funcgrad", run(solve_ivp, _robertson(np)), describe),  # the same plain-NumPy rhs
    }
    skipped = {peer: "no SciPy bridge measured" for peer, lib in peers.loaded().items() if lib}
    return Workload(
        name,
        f"solve_ivp(method='BDF') of Robertson's kinetics to t={span[1]:g}; "
        "the floor is SciPy's finite-difference Jacobian",
        impls,
        rtol=1e-4,
        floor_name="scipy FD",
        skipped=skipped,
        note=_counts_note(name),
    )
