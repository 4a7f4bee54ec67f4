"""Sparse Jacobians and Hessians: detection, colouring, one compressed pass, against hand-written sparse derivatives.

The floor of each workload is the derivative assembled by hand as a SciPy CSR
matrix; both sides return ``(indptr, indices, data)``, so the check compares
the patterns and the values.  The extras measure, per workload, the detection
time, the number of colours, the sparse derivative against one evaluation of
the function (the goal: at most ``3 x (colours + 1)`` evaluations), against
SciPy's grouped finite differences with the same pattern and colours, and
against dense ``jacfwd`` / ``hessian`` where a dense matrix fits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
from benchmarks.peers import Peers
from benchmarks.targets import Target
from benchmarks.workload import Extra, Workload, workload


def _best(fn: Callable[[], Any], repeat: int = 5) -> float:
    """The shortest of ``repeat`` wall-clock runs (one thread, after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _csr_parts(matrix: Any) -> list[np.ndarray]:
    matrix = matrix.tocsr()
    matrix.sum_duplicates()
    matrix.sort_indices()
    return [matrix.indptr.astype(np.int64), matrix.indices.astype(np.int64), matrix.data]


def _per_colour(key: str, what: str, limit: float) -> Target:
    """The sparse derivative's time in evaluations of the function, over ``3 x (colours + 1)``."""

    def read(results: dict[str, Any], workload: str) -> float | None:
        value = results.get(key, {}).get("evals_per_bound")
        return None if value is None else float(value)

    return Target(what, limit, read)


# --- the 2-D Brusselator ---------------------------------------------------------------------------


def brusselator(xp: Any, u: Any, n: int, alpha: float = 0.02) -> Any:
    """The right-hand side of the 2-D Brusselator on an ``n x n`` periodic grid (``2 n^2`` unknowns)."""
    x, y = u[: n * n].reshape(n, n), u[n * n :].reshape(n, n)

    def lap(z: Any) -> Any:
        return xp.roll(z, 1, 0) + xp.roll(z, -1, 0) + xp.roll(z, 1, 1) + xp.roll(z, -1, 1) - 4.0 * z

    dx = 1.0 + x * x * y - 4.4 * x + alpha * lap(x)
    dy = 3.4 * x - x * x * y + alpha * lap(y)
    return xp.concatenate([dx.reshape(-1), dy.reshape(-1)])


def brusselator_jacobian(u: np.ndarray, n: int, alpha: float = 0.02) -> Any:
    """The Brusselator's Jacobian by hand: periodic Laplacians and the reaction's diagonal blocks."""
    import scipy.sparse as sp

    x, y = u[: n * n], u[n * n :]
    shift = sp.diags([np.ones(n - 1), np.ones(n - 1), [1.0], [1.0]], [1, -1, n - 1, -(n - 1)], shape=(n, n))
    eye = sp.identity(n)
    lap = alpha * (sp.kron(shift, eye) + sp.kron(eye, shift) - 4.0 * sp.identity(n * n))
    return sp.bmat(
        [
            [sp.diags(2.0 * x * y - 4.4) + lap, sp.diags(x * x)],
            [sp.diags(3.4 - 2.0 * x * y), sp.diags(-x * x) + lap],
        ],
        format="csr",
    )


def brusselator_state(n: int) -> np.ndarray:
    grid = np.linspace(0.0, 1.0, n, endpoint=False)
    gx, gy = np.meshgrid(grid, grid, indexing="ij")
    x = 1.0 + 0.5 * np.sin(2 * np.pi * gx) * np.cos(2 * np.pi * gy)
    y = 3.0 + 0.3 * np.cos(2 * np.pi * gx)
    return np.concatenate([x.ravel(), y.ravel()])


def _jacobian_extras(
    f: Callable[[Any], Any],
    numpy_f: Callable[[Any], Any],
    u: np.ndarray,
    dense_at: tuple[Callable[[Any], Any], Any] | None,
) -> dict[str, Any]:
    """Detection, colours, and the sparse Jacobian against one evaluation, grouped differences and dense jacfwd.

    One evaluation is ``numpy_f``: the same function written with NumPy (``f`` writes it with
    ``funcgrad.numpy``, whose dispatch costs a little on plain arrays too: ``fnp_evaluation_seconds``).
    """
    from scipy.optimize._numdiff import approx_derivative

    start = time.perf_counter()
    pattern = fg.jacobian_sparsity(f)(u)
    detect = time.perf_counter() - start
    jac = fg.sparse_jacobian(f)
    info = jac.coloring(u)
    one = _best(lambda: numpy_f(u), 20)
    through_fnp = _best(lambda: np.asarray(f(u)), 20)
    sparse_time = _best(lambda: jac(u), 5)
    jitted = fg.sparse_jacobian(f, jit=True)
    for _ in range(4):
        jitted(u)  # past the first calls' tiers (record, interpret, compile)
    jit_time = _best(lambda: jitted(u), 5)
    colours = info.ncolors
    groups = info.colors if info.mode == "forward" else fg.sparse_jacfwd(f).coloring(u).colors
    fd_time = _best(lambda: approx_derivative(numpy_f, u, method="2-point", sparsity=(pattern, groups)), 5)
    out: dict[str, Any] = {
        "unknowns": u.size,
        "nnz": int(pattern.nnz),
        "detect_seconds": detect,
        "colours": colours,
        "mode": info.mode,
        "evaluation_seconds": one,
        "fnp_evaluation_seconds": through_fnp,
        "sparse_seconds": sparse_time,
        "sparse_in_evaluations": sparse_time / one,
        "evals_per_bound": sparse_time / one / (3 * (colours + 1)),
        "sparse_jit_seconds": jit_time,
        "sparse_jit_in_evaluations": jit_time / one,
        "grouped_fd_seconds": fd_time,
        "sparse_over_grouped_fd": sparse_time / fd_time,
    }
    if dense_at is not None:
        g, v = dense_at
        dense = fg.jacfwd(g)
        small = fg.sparse_jacobian(g)
        out["dense_unknowns"] = np.size(v)
        out["dense_over_sparse"] = _best(lambda: dense(v), 2) / _best(lambda: small(v), 5)
    return out


def _describe_jacobian(name: str) -> Callable[[dict[str, Any]], str]:
    def describe(r: dict[str, Any]) -> str:
        line = (
            f"{name}: {r['unknowns']:,} unknowns, {r['nnz']:,} nonzeros; detection {r['detect_seconds'] * 1e3:.0f} ms; "
            f"{r['colours']} colours ({r['mode']}); sparse Jacobian = {r['sparse_in_evaluations']:.1f} evaluations "
            f"(goal 3 x (colours + 1) = {3 * (r['colours'] + 1)}; one evaluation {r['evaluation_seconds'] * 1e6:.0f} µs "
            f"in NumPy, {r['fnp_evaluation_seconds'] * 1e6:.0f} µs through funcgrad.numpy); "
            f"with jit=True {r['sparse_jit_in_evaluations']:.1f} evaluations; "
            f"sparse / SciPy grouped differences {r['sparse_over_grouped_fd']:.2f}"
        )
        if "dense_over_sparse" in r:
            line += f"; dense jacfwd / sparse at {r['dense_unknowns']:,} unknowns {r['dense_over_sparse']:.0f}x"
        return line

    return describe


@workload(_per_colour("brusselator_sparse", "Brusselator sparse Jacobian / 3 x (colours + 1) evaluations", 1.0))
def sparse_brusselator(quick: bool, peers: Peers) -> Workload:
    """The sparse Jacobian of the 2-D Brusselator (64 x 64 grid, 8,192 unknowns) against the one by hand."""
    n = 8 if quick else 64
    u = brusselator_state(n)
    f = lambda v: brusselator(fnp, v, n)  # noqa: E731
    jac = fg.sparse_jacobian(f)
    small = 8 if quick else 32
    extras = Extra(
        "brusselator_sparse",
        lambda: _jacobian_extras(
            f, lambda v: brusselator(np, v, n), u, (lambda v: brusselator(fnp, v, small), brusselator_state(small))
        ),
        _describe_jacobian("Brusselator"),
    )
    return Workload(
        "sparse brusselator",
        f"sparse Jacobian of the 2-D Brusselator, {n}x{n} grid ({u.size:,} unknowns)",
        {"numpy": lambda: _csr_parts(brusselator_jacobian(u, n)), "funcgrad": lambda: _csr_parts(jac(u))},
        rtol=1e-12,
        extras=[extras],
    )


# --- the 1-D Laplacian -------------------------------------------------------------------------------


def laplacian(xp: Any, x: Any) -> Any:
    """The 1-D Laplacian with zero boundary values, plus a cubic reaction: ``x'' - x^3``."""
    inner = x[2:] - 2.0 * x[1:-1] + x[:-2]
    return xp.concatenate([x[1:2] - 2.0 * x[:1], inner, x[-2:-1] - 2.0 * x[-1:]]) - x**3


def laplacian_jacobian(x: np.ndarray) -> Any:
    import scipy.sparse as sp

    n = x.size
    return sp.diags([np.ones(n - 1), -2.0 - 3.0 * x**2, np.ones(n - 1)], [-1, 0, 1], format="csr")


@workload(_per_colour("laplacian_sparse", "1-D Laplacian sparse Jacobian / 3 x (colours + 1) evaluations", 1.0))
def sparse_laplacian(quick: bool, peers: Peers) -> Workload:
    """The sparse Jacobian of a 1-D Laplacian with a cubic reaction, 10^5 unknowns (dense: 80 GB)."""
    n = 1000 if quick else 100_000
    x = np.sin(np.linspace(0.0, 3.0, n))
    f = lambda v: laplacian(fnp, v)  # noqa: E731
    jac = fg.sparse_jacobian(f)
    extras = Extra(
        "laplacian_sparse",
        lambda: _jacobian_extras(f, lambda v: laplacian(np, v), x, None),
        _describe_jacobian("1-D Laplacian"),
    )
    return Workload(
        "sparse laplacian",
        f"sparse Jacobian of x'' - x^3 on {n:,} unknowns",
        {"numpy": lambda: _csr_parts(laplacian_jacobian(x)), "funcgrad": lambda: _csr_parts(jac(x))},
        rtol=1e-12,
        extras=[extras],
    )


# --- an optimal-control objective --------------------------------------------------------------------


def control_objective(xp: Any, z: Any, steps: int, h: float = 0.05) -> Any:
    """States ``x_0..x_N`` and controls ``u_0..u_{N-1}`` of ``x' = u - x^3``: dynamics as penalties, plus effort."""
    x, u = z[: steps + 1], z[steps + 1 :]
    r = x[1:] - x[:-1] - h * (u - x[:-1] ** 3)
    return xp.sum(r**2) + h * (xp.sum(x**2) + xp.sum(u**2))


def control_hessian(z: np.ndarray, steps: int, h: float = 0.05) -> Any:
    """Its Hessian by hand: ``2 sum(grad r grad r^T + r hess r) + 2 h I``."""
    import scipy.sparse as sp

    x, u = z[: steps + 1], z[steps + 1 :]
    k = np.arange(steps)
    r = x[1:] - x[:-1] - h * (u - x[:-1] ** 3)
    # grad r_k: x_{k+1} -> 1, x_k -> -1 + 3 h x_k^2, u_k -> -h
    cols = np.stack([k + 1, k, steps + 1 + k], axis=1)
    vals = np.stack([np.ones(steps), -1.0 + 3.0 * h * x[:-1] ** 2, np.full(steps, -h)], axis=1)
    rows = np.repeat(cols, 3, axis=1).ravel()
    cols_ = np.tile(cols, (1, 3)).ravel()
    data = 2.0 * (np.repeat(vals, 3, axis=1) * np.tile(vals, (1, 3))).ravel()
    size = 2 * steps + 1
    outer = sp.csr_matrix((data, (rows, cols_)), shape=(size, size))
    curvature = np.zeros(size)
    curvature[:steps] = 2.0 * r * 6.0 * h * x[:-1]
    return (outer + sp.diags(curvature + 2.0 * h)).tocsr()


def _hessian_extras(f: Callable[[Any], Any], z: np.ndarray) -> dict[str, Any]:
    from funcgrad import _coloring

    start = time.perf_counter()
    pattern = fg.hessian_sparsity(f)(z)
    detect = time.perf_counter() - start
    hess = fg.sparse_hessian(f)
    info = hess.coloring(z)
    one = _best(lambda: f(z), 20)
    sparse_time = _best(lambda: hess(z), 5)
    dense = fg.hessian(f)
    return {
        "unknowns": z.size,
        "nnz": int(pattern.nnz),
        "detect_seconds": detect,
        "colours": info.ncolors,
        "column_colours": _coloring.count(_coloring.column_coloring(pattern)),
        "sparse_in_evaluations": sparse_time / one,
        "evals_per_bound": sparse_time / one / (3 * (info.ncolors + 1)),
        "dense_over_sparse": _best(lambda: dense(z), 2) / sparse_time,
    }


def _describe_hessian(r: dict[str, Any]) -> str:
    return (
        f"optimal control: {r['unknowns']:,} unknowns, {r['nnz']:,} Hessian nonzeros; detection "
        f"{r['detect_seconds'] * 1e3:.0f} ms; star colouring {r['colours']} colours (column colouring "
        f"{r['column_colours']}); sparse Hessian = {r['sparse_in_evaluations']:.1f} evaluations; "
        f"dense hessian / sparse {r['dense_over_sparse']:.0f}x"
    )


@workload()
def sparse_control_hessian(quick: bool, peers: Peers) -> Workload:
    """The sparse Hessian of an optimal-control objective (1,000 steps, 2,001 unknowns) against the one by hand."""
    steps = 20 if quick else 1000
    z = np.concatenate([np.cos(np.linspace(0, 2, steps + 1)), 0.3 * np.sin(np.linspace(0, 5, steps))])
    f = lambda v: control_objective(fnp, v, steps)  # noqa: E731
    hess = fg.sparse_hessian(f)
    return Workload(
        "sparse control hessian",
        f"sparse Hessian of an optimal-control objective, {z.size:,} unknowns",
        {"numpy": lambda: _csr_parts(control_hessian(z, steps)), "funcgrad": lambda: _csr_parts(hess(z))},
        rtol=1e-12,
        extras=[Extra("control_hessian", lambda: _hessian_extras(f, z), _describe_hessian)],
    )


# --- solve_ivp(method="BDF") on the Brusselator --------------------------------------------------------


def _ode_extras(quick: bool) -> dict[str, Any]:
    from scipy.integrate import solve_ivp

    n = 8 if quick else 32
    u0 = brusselator_state(n)
    rhs = lambda t, v: brusselator(np, v, n)  # noqa: E731
    jac = fg.sparse_jacobian(lambda v: brusselator(fnp, v, n))
    pattern = fg.jacobian_sparsity(lambda v: brusselator(fnp, v, n))(u0)
    span = (0.0, 1.0 if quick else 10.0)
    out: dict[str, Any] = {"unknowns": u0.size}
    for name, options in {
        "funcgrad": {"jac": lambda t, v: jac(v)},
        "scipy_sparse_fd": {"jac_sparsity": pattern},
        "scipy_dense_fd": {},
    }.items():
        start = time.perf_counter()
        sol = solve_ivp(rhs, span, u0, method="BDF", rtol=1e-6, atol=1e-8, **options)
        out[name] = {"seconds": time.perf_counter() - start, "nfev": int(sol.nfev), "njev": int(sol.njev),
                     "steps": int(sol.t.size), "success": bool(sol.success), "end": sol.y[:, -1]}  # fmt: skip
    out["max_difference"] = float(np.max(np.abs(out["funcgrad"]["end"] - out["scipy_sparse_fd"]["end"])))
    for name in ("funcgrad", "scipy_sparse_fd", "scipy_dense_fd"):
        del out[name]["end"]
    return out


def _describe_ode(r: dict[str, Any]) -> str:
    parts = [
        f"{name}: {r[name]['seconds']:.2f} s, {r[name]['nfev']} evaluations, {r[name]['njev']} Jacobians"
        for name in ("funcgrad", "scipy_sparse_fd", "scipy_dense_fd")
    ]
    return f"solve_ivp BDF on the Brusselator ({r['unknowns']:,} unknowns): " + "; ".join(parts) + (
        f"; end states differ by {r['max_difference']:.1e}"
    )


@workload()
def sparse_ode(quick: bool, peers: Peers) -> Workload:
    """One Brusselator Jacobian at the ODE's size; the extra runs ``solve_ivp(method="BDF")`` three ways."""
    n = 8 if quick else 32
    u = brusselator_state(n)
    jac = fg.sparse_jacobian(lambda v: brusselator(fnp, v, n))
    return Workload(
        "sparse ode jacobian",
        f"sparse Jacobian of the Brusselator for solve_ivp, {u.size:,} unknowns",
        {"numpy": lambda: _csr_parts(brusselator_jacobian(u, n)), "funcgrad": lambda: _csr_parts(jac(u))},
        rtol=1e-12,
        extras=[Extra("ode_bdf", lambda: _ode_extras(quick), _describe_ode)],
    )
