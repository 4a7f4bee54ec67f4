"""funcgrad.scipy cases in tests/test_surface.py's TABLE format: ``(name, fn(namespace, *args), args, flags)``.

Shared by the registry-wide jit test (tests/test_jit_registry.py) and the
hidden-read spy test (tests/test_value_reads.py).  ``fn`` ignores the
namespace (it calls funcgrad.scipy); plain leading arguments (orders,
shapes, flags) are bound inside ``fn``, so every argument is differentiable.
Empty when SciPy is not installed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp

Case = tuple[str, Callable[..., Any], tuple[Any, ...], str]

POS = np.array([0.4, 1.3, 3.7])
REAL = np.array([-1.6, 0.3, 2.2])
UNIT = np.array([0.15, 0.5, 0.85])
RNG = np.random.default_rng(14)


def _general(n: int, *lead: int) -> np.ndarray:
    return RNG.standard_normal(lead + (n, n)) * 0.3 + 3 * np.eye(n)


def _spd(n: int) -> np.ndarray:
    z = _general(n)
    return z @ z.T


def _call(function: Callable[..., Any], *lead: Any, **options: Any) -> Callable[..., Any]:
    """A case's ``fn``: ``function(*lead, *args, **options)``, the namespace ignored."""
    return lambda ns, *args: function(*lead, *args, **options)


def _cases() -> list[Case]:
    try:
        from funcgrad.scipy import linalg, signal, special
    except ImportError:
        return []
    unary = [
        ("gammaln", np.array([0.4, 1.3, 3.7, -0.5])), ("digamma", POS), ("gamma", np.array([0.4, 1.3, -1.5])),
        ("rgamma", np.array([0.4, 1.3, -1.5])), ("erf", REAL), ("erfc", REAL), ("erfinv", np.array([-0.7, 0.1, 0.8])),
        ("erfcinv", np.array([0.3, 1.0, 1.6])), ("ndtr", np.array([-6.0, -1.0, 0.5])),
        ("log_ndtr", np.array([-30.0, -1.0, 3.0])), ("ndtri", np.array([0.05, 0.5, 0.9])), ("expit", REAL),
        ("logit", UNIT), ("entr", POS), ("i0", REAL), ("i1", REAL), ("j0", REAL), ("j1", REAL), ("y0", POS),
        ("y1", POS), ("gammasgn", np.array([0.4, -1.5, -2.5])), ("log_expit", REAL),
    ]  # fmt: skip
    cases: list[Case] = [(f"special.{name}", _call(getattr(special, name)), (x,), "") for name, x in unary]
    column = np.array([[0.7], [2.5]])
    binary = [("beta", POS, column), ("betaln", POS, column), ("xlogy", REAL, column),
              ("xlog1py", REAL, np.array([[-0.5], [1.5]]))]  # fmt: skip
    cases += [(f"special.{n}", _call(getattr(special, n)), (x, y), "") for n, x, y in binary]
    in_last = [
        ("polygamma", (np.array([[0], [1], [3]]),), POS), ("iv", (np.array([[0.0], [1.5]]),), REAL),
        ("ive", (np.array([[0.0], [1.5]]),), REAL), ("jv", (np.array([[0.0], [1.5]]),), REAL),
        ("jn", (np.array([[0], [2]]),), REAL), ("yn", (np.array([[0], [3]]),), POS),
        ("gammainc", (np.array([[0.5], [5.0]]),), POS), ("gammaincc", (np.array([[0.5], [5.0]]),), POS),
        ("betainc", (np.array([[0.7], [2.5]]), np.array([[1.5], [3.0]])), UNIT),
        ("betaincc", (np.array([[0.7], [2.5]]), np.array([[1.5], [3.0]])), UNIT),
        ("stdtr", (np.array([[0.7], [30.0]]),), REAL), ("chdtr", (np.array([[0.7], [3.0]]),), POS),
        ("chdtrc", (np.array([[0.7], [3.0]]),), POS),
    ]  # fmt: skip
    cases += [(f"special.{n}", _call(getattr(special, n), *lead), (x,), "") for n, lead, x in in_last]
    weights = np.array([[1.0, -2.0, 0.5], [0.3, 1.0, 2.0]])
    cases += [
        ("special.logsumexp", lambda ns, a: special.logsumexp(a, axis=1), (RNG.standard_normal((2, 3)),), ""),
        ("special.logsumexp-weights_sign", lambda ns, a, b: special.logsumexp(a, b=b, axis=1, return_sign=True),
         (RNG.standard_normal((2, 3)), weights), ""),
        ("special.softmax", lambda ns, x: special.softmax(x, axis=0), (RNG.standard_normal((3, 2)),), ""),
        ("special.log_softmax", lambda ns, x: special.log_softmax(x), (RNG.standard_normal(4),), ""),
        ("special.multigammaln", lambda ns, a: special.multigammaln(a, 3), (np.array([1.7, 2.5]),), ""),
    ]  # fmt: skip
    b = RNG.standard_normal((3, 2))
    cases += [
        ("linalg.solve_triangular", lambda ns, a, b: linalg.solve_triangular(a, b, lower=True), (_general(3), b), ""),
        ("linalg.solve_triangular-trans_unit", lambda ns, a, b: linalg.solve_triangular(a, b, trans=1,
         unit_diagonal=True), (_general(3), b[:, 0]), ""),
        ("linalg.solve_banded", lambda ns, ab, b: linalg.solve_banded((1, 1), ab, b),
         (RNG.standard_normal((3, 3)) * 0.3 + np.array([[0.0], [3.0], [0.0]]), b), ""),
        ("linalg.cholesky", lambda ns, a: linalg.cholesky(a), (_spd(3),), ""),
        ("linalg.cho_solve", lambda ns, a, b: linalg.cho_solve(linalg.cho_factor(a, lower=True), b), (_spd(3), b), ""),
        ("linalg.lu_factor", lambda ns, a: linalg.lu_factor(a), (RNG.standard_normal((3, 3)) + np.eye(3),), ""),
        ("linalg.lu_solve", lambda ns, a, b: linalg.lu_solve(linalg.lu_factor(a), b, trans=0),
         (RNG.standard_normal((3, 3)) + np.eye(3), b), ""),
        ("linalg.sqrtm", lambda ns, a: linalg.sqrtm(a), (_spd(3),), ""),
        ("linalg.expm", lambda ns, a: linalg.expm(a), (RNG.standard_normal((3, 3)) * 0.5,), ""),
        ("linalg.solve_sylvester", lambda ns, a, b, q: linalg.solve_sylvester(a, b, q),
         (_general(2), _general(3), RNG.standard_normal((2, 3))), ""),
        ("linalg.block_diag", lambda ns, a, b: linalg.block_diag(a, b), (_general(2), RNG.standard_normal((1, 3))), ""),
    ]  # fmt: skip
    for name in ("convolve", "correlate"):
        for mode in ("full", "same", "valid"):
            cases.append(
                (
                    f"signal.{name}-{mode}",
                    _call(getattr(signal, name), mode=mode),
                    (RNG.standard_normal(5), RNG.standard_normal(2)),
                    "",
                )
            )
    cases.append(("signal.convolve-2d", lambda ns, x, y: signal.convolve(x, y, method="fft"),
                  (RNG.standard_normal((3, 4)), RNG.standard_normal((2, 2))), ""))  # fmt: skip
    return cases + _stats_cases()


#: (distribution, shape parameters bound in the case, x): every method gets x, loc and scale traced
UNIVARIATE = [
    ("norm", (), REAL), ("t", (3.0,), REAL), ("gamma", (2.5,), POS), ("beta", (2.0, 3.0), UNIT),
    ("chi2", (3.0,), POS), ("expon", (), POS), ("laplace", (), REAL), ("logistic", (), REAL),
    ("cauchy", (), REAL), ("uniform", (), UNIT),
]  # fmt: skip
METHODS = ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf")


def _stats_cases() -> list[Case]:
    try:
        from funcgrad.scipy import stats
    except ImportError:
        return []
    cases: list[Case] = []
    for name, shapes, x in UNIVARIATE:
        dist = getattr(stats, name)
        for method in METHODS:
            function = getattr(dist, method)
            cases.append((f"stats.{name}.{method}", _call(_shapes_inside(function, shapes)), (x, 0.3, 1.7), ""))
        if shapes:  # the shape parameters traced too, in the log-density
            cases.append((f"stats.{name}.logpdf-shapes", _call(dist.logpdf), (x, *map(np.float64, shapes)), ""))
    k = np.array([0.0, 2.0, 5.0])
    cases += [
        (f"stats.poisson.{m}", _call(lambda mu, m=m: getattr(stats.poisson, m)(k, mu)), (np.float64(2.5),), "")
        for m in ("pmf", "logpmf", "cdf", "logcdf", "sf", "logsf")
    ]
    cov = _spd(2)
    points = RNG.standard_normal((3, 2))
    cases += [
        ("stats.multivariate_normal.logpdf", _call(stats.multivariate_normal.logpdf), (points, np.ones(2), cov), ""),
        ("stats.multivariate_normal.pdf", _call(stats.multivariate_normal.pdf), (points, np.ones(2), cov), ""),
        (
            "stats.multivariate_normal.cdf",
            _call(_constant_args(stats.multivariate_normal.cdf)),
            (points[0], np.ones(2), cov),
            "",
        ),  # SciPy gives no derivative pieces: recorded, not differentiated
        (
            "stats.dirichlet.logpdf",
            _call(stats.dirichlet.logpdf),
            (np.array([0.2, 0.3, 0.5]), np.array([1.5, 2, 3])),
            "",
        ),
        ("stats.dirichlet.pdf", _call(stats.dirichlet.pdf), (np.array([0.2, 0.3, 0.5]), np.array([1.5, 2, 3])), ""),
    ]
    return cases


def _constant_args(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` of its arguments behind ``stop_gradient`` (still traced by jit, constants to grad and jvp),
    scaled by ``sum(x)``."""
    # times sum(x): the gradient needs the value, so a jitted gradient keeps the call (a dead one would be pruned)
    return lambda *args: function(*map(fg.stop_gradient, args)) * fnp.sum(args[0])


def _shapes_inside(function: Callable[..., Any], shapes: tuple[float, ...]) -> Callable[..., Any]:
    """``function(x, *shapes, loc, scale)`` with the shape parameters plain: ``(x, loc, scale)`` are traced."""
    return lambda x, loc, scale: function(x, *shapes, loc, scale)


SCIPY = _cases()
