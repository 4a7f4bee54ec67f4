"""The univariate distributions of ``funcgrad.scipy.stats``: one ``Standard`` row a distribution, one class for all.

A row gives the distribution's standard form (``loc = 0``, ``scale = 1``) as
formulas in ``z`` and the shape parameters, its support, and each shape
parameter's domain.  ``Univariate`` turns a row into SciPy's methods: it
binds SciPy's signature (shapes, then ``loc`` and ``scale``), standardises
``z = (x - loc) / scale``, masks ``z`` outside the support (the double-``where``
idiom, so no branch computes a non-finite value that a derivative would
multiply), divides the density by ``scale`` and gives ``nan`` where a
parameter is out of its domain, as SciPy does.  Everything is a funcgrad
function of every argument, so it differentiates again in ``x`` and in every
parameter.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np
import scipy.special as sc
import scipy.stats

import funcgrad.numpy as fnp
from funcgrad import _errors
from funcgrad._prims._ufuncs import is_plain
from funcgrad._trace import Tracer
from funcgrad._values import is_traced
from funcgrad.scipy import special
from funcgrad.scipy._common import elementwise, no_derivative
from funcgrad.tree import tree_flatten

Formula = Callable[..., Any]
Domain = Callable[[Any], Any]

_LOG_2 = math.log(2.0)
_LOG_PI = math.log(math.pi)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_INF = math.inf


def positive(value: Any) -> Any:
    """The domain of a scale or a shape parameter that must be > 0."""
    return value > 0


def nonnegative(value: Any) -> Any:
    """The domain of a parameter that must be >= 0 (Poisson's ``mu``)."""
    return value >= 0


@dataclass(frozen=True)
class Standard:
    """A distribution's standard form: formulas in ``z`` (inside the support) and the shape parameters.

    ``logcdf``/``logsf`` default to the logarithm of ``cdf``/``sf`` where that is below 1/2, and to
    ``log1p(-sf)``/``log1p(-cdf)`` above, so neither loses its digits near 0.  ``inside``
    is a point of the support, substituted for ``z`` outside it.
    """

    logpdf: Formula
    cdf: Formula
    sf: Formula
    logcdf: Formula | None = None
    logsf: Formula | None = None
    shapes: tuple[tuple[str, Domain], ...] = ()
    support: tuple[float, float] = (-_INF, _INF)
    inside: float = 0.0
    discrete: bool = False


_NO_PIECES = "SciPy has no function for it, in cdf, sf, logcdf or logsf; x, loc and scale are differentiable"


def _scipy_cdf(impl: Any, name: str, parameters: tuple[str, ...], density: Formula) -> Any:
    """A distribution's CDF (or SF) as its own primitive: SciPy's function of ``(*parameters, z)``.

    Its derivative in ``z`` is ``density(ans, *parameters, z)``; in a parameter it raises ``TypeError`` naming it.
    """
    refusals = tuple(no_derivative(name, parameter, _NO_PIECES) for parameter in parameters)
    return elementwise(impl, (*refusals, density), name)


def _negated(density: Formula) -> Formula:
    return lambda *args: -density(*args)


def _chi2_density(ans: Any, df: Any, x: Any) -> Any:
    return 0.5 * special._gammainc_dx(ans, 0.5 * df, 0.5 * x)


_t_cdf = _scipy_cdf(sc.stdtr, "stats.t.cdf", ("df",), lambda ans, df, z: fnp.exp(_t_logpdf(z, df)))
_gamma_cdf = _scipy_cdf(sc.gammainc, "stats.gamma.cdf", ("a",), special._gammainc_dx)
_gamma_sf = _scipy_cdf(sc.gammaincc, "stats.gamma.sf", ("a",), _negated(special._gammainc_dx))
_chi2_cdf = _scipy_cdf(sc.chdtr, "stats.chi2.cdf", ("df",), _chi2_density)
_chi2_sf = _scipy_cdf(sc.chdtrc, "stats.chi2.sf", ("df",), _negated(_chi2_density))
_beta_cdf = _scipy_cdf(sc.betainc, "stats.beta.cdf", ("a", "b"), special._betainc_dx)
_beta_sf = _scipy_cdf(sc.betaincc, "stats.beta.sf", ("a", "b"), _negated(special._betainc_dx))


def _laplace_cdf(z: Any) -> Any:
    # each branch sees only its own half-line, so exp never overflows in the branch not taken
    left, right = fnp.where(z < 0, z, 0.0), fnp.where(z < 0, 0.0, z)
    return fnp.where(z < 0, 0.5 * fnp.exp(left), 1.0 - 0.5 * fnp.exp(-right))


def _laplace_logcdf(z: Any) -> Any:
    left, right = fnp.where(z < 0, z, 0.0), fnp.where(z < 0, 0.0, z)
    return fnp.where(z < 0, left - _LOG_2, fnp.log1p(-0.5 * fnp.exp(-right)))


def _expon_logcdf(z: Any) -> Any:
    # log(1 - exp(-z)): through expm1 near 0, through log1p far out, each on its own side of log 2
    near, far = fnp.where(z < _LOG_2, z, _LOG_2), fnp.where(z < _LOG_2, _LOG_2, z)
    return fnp.where(z < _LOG_2, fnp.log(-fnp.expm1(-near)), fnp.log1p(-fnp.exp(-far)))


def _log_of_smaller(small: Any, large: Any) -> Any:
    """``log(small)`` from a probability and its complement: ``log`` below 1/2, ``log1p(-large)`` above.

    Each branch sees a stand-in of 1/2 where it is not taken, so neither meets ``log(0)``.
    """
    low = small < 0.5
    return fnp.where(low, fnp.log(fnp.where(low, small, 0.5)), fnp.log1p(-fnp.where(low, 0.5, large)))


def _cauchy_logcdf(z: Any) -> Any:
    # the left half through the CDF itself, the right half as log1p(-sf): both keep their digits
    left, right = fnp.where(z < 0, z, 0.0), fnp.where(z < 0, 0.0, z)
    return fnp.where(z < 0, fnp.log(fnp.arctan2(1.0, -left)) - _LOG_PI, fnp.log1p(-fnp.arctan2(1.0, right) / math.pi))


def _beta_logpdf(z: Any, a: Any, b: Any) -> Any:
    return special.xlogy(a - 1.0, z) + special.xlog1py(b - 1.0, -z) - special.betaln(a, b)


def _t_logpdf(z: Any, df: Any) -> Any:
    # gammaln((df+1)/2) - gammaln(df/2) is gammaln(1/2) - betaln(df/2, 1/2): no cancellation for large df;
    # df = inf is the normal distribution, as in SciPy
    infinite = fnp.isinf(df)
    finite_df = fnp.where(infinite, 1.0, df)
    # log1p(u**2), u = z / sqrt(df), without squaring a |u| past 1e18 (float32 overflows): 2 log|u| there
    u = z / fnp.sqrt(finite_df)
    moderate = fnp.absolute(u) < 1e18
    near, far = fnp.where(moderate, u, 0.0), fnp.where(moderate, 1e18, fnp.absolute(u))
    log_term = fnp.where(moderate, fnp.log1p(near * near), 2.0 * fnp.log(far))
    student = -special.betaln(0.5 * finite_df, 0.5) - 0.5 * fnp.log(finite_df) - 0.5 * (finite_df + 1.0) * log_term
    normal = fnp.where(infinite, z, 0.0)
    return fnp.where(infinite, -0.5 * normal * normal - _HALF_LOG_2PI, student)


_TINY = 1e-300  # below this a regularized gamma function is near underflow: its logarithm comes from a tail formula


def _log_lower_gamma_series(a: np.ndarray[Any, Any], x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """``log P(a, x)`` from ``x**a exp(-x) / Gamma(a + 1) * sum_k x**k / ((a+1)...(a+k))``, summed to convergence.

    Used where ``P`` underflows: ``x`` well below ``a``, where the terms fall at least geometrically.
    """
    term, total = np.ones_like(x), np.ones_like(x)
    for k in range(1, 100_000):
        term = term * x / (a + k)
        total = total + term
        if np.all(term <= 1e-17 * total):
            break
    return np.asarray(sc.xlogy(a, x) - x - sc.gammaln(a + 1.0) + np.log(total))


def _log_upper_gamma_fraction(a: np.ndarray[Any, Any], x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """``log Q(a, x)`` from Legendre's continued fraction for ``Gamma(a, x)``, evaluated backwards.

    Used where ``Q`` underflows: ``x`` far above ``a``, where the fraction converges in a few terms.
    """
    depth = 200
    fraction = x + (2 * depth + 1) - a
    for n in range(depth, 0, -1):
        fraction = x + (2 * n - 1) - a - n * (n - a) / fraction
    return np.asarray(sc.xlogy(a, x) - x - np.log(fraction) - sc.gammaln(a))


def _log_regularized_gamma(a: Any, x: Any, upper: bool) -> Any:
    """``log Q(a, x)`` (``upper``) or ``log P(a, x)`` on plain arrays, finite where ``Q`` or ``P`` underflows."""
    a, x = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(x, dtype=float))
    wanted, other = (sc.gammaincc(a, x), sc.gammainc(a, x)) if upper else (sc.gammainc(a, x), sc.gammaincc(a, x))
    with np.errstate(divide="ignore"):
        out = np.where(wanted < 0.5, np.log(wanted), np.log1p(-other))
    tail = (wanted < _TINY) & (x > 0) & np.isfinite(x)
    if np.any(tail):
        formula = _log_upper_gamma_fraction if upper else _log_lower_gamma_series
        out[tail] = formula(a[tail], x[tail])
    return out[()] if out.ndim == 0 else out


def _gamma_log_primitive(name: str, parameter: str, upper: bool, half: bool = False) -> Any:
    """``log Q`` or ``log P`` of ``(a, x)`` as a primitive named for a distribution (chi2: ``half`` = ``(df/2, x/2)``).

    Its derivative in ``x`` is ``+-exp(log density - ans)``, finite far in the tail; in ``a`` it raises ``TypeError``.
    """
    sign, factor = (-1.0 if upper else 1.0), (0.5 if half else 1.0)

    def impl(a: Any, x: Any) -> Any:
        return _log_regularized_gamma(factor * np.asarray(a), factor * np.asarray(x), upper)

    def density(ans: Any, a: Any, x: Any) -> Any:
        a, x = factor * a, factor * x
        return (sign * factor) * fnp.exp(special.xlogy(a - 1.0, x) - x - special.gammaln(a) - ans)

    return _scipy_cdf(impl, name, (parameter,), density)


_gamma_logcdf = _gamma_log_primitive("stats.gamma.logcdf", "a", upper=False)
_gamma_logsf = _gamma_log_primitive("stats.gamma.logsf", "a", upper=True)
_chi2_logcdf = _gamma_log_primitive("stats.chi2.logcdf", "df", upper=False, half=True)
_chi2_logsf = _gamma_log_primitive("stats.chi2.logsf", "df", upper=True, half=True)
# Poisson's CDF at k is Q(k + 1, mu), its SF P(k + 1, mu); k + 1 is a floored count, with no derivative to ask for
_poisson_logcdf = _gamma_log_primitive("stats.poisson.logcdf", "k", upper=True)
_poisson_logsf = _gamma_log_primitive("stats.poisson.logsf", "k", upper=False)



def _log_lower_beta_series(
    a: np.ndarray[Any, Any], b: np.ndarray[Any, Any], x: np.ndarray[Any, Any], log_x: Any = None
) -> Any:
    """``log I_x(a, b)`` from ``x**a (1-x)**b / (a B(a, b)) * 2F1(a + b, 1; a + 1; x)``, summed to convergence.

    Used where ``I_x`` underflows, which needs ``x**a`` tiny: the terms fall about as fast as powers of ``x``.
    ``log_x`` may be given where ``x`` itself is too small to hold its digits.
    """
    log_x = np.log(x) if log_x is None else log_x
    term, total = np.ones_like(x), np.ones_like(x)
    for n in range(100_000):
        term = term * (a + b + n) / (a + 1.0 + n) * x
        total = total + term
        if np.all(term <= 1e-17 * total):
            break
    return np.asarray(a * log_x + sc.xlog1py(b, -x) - np.log(a) - sc.betaln(a, b) + np.log(total))


def _log_regularized_beta(a: Any, b: Any, x: Any, upper: bool) -> Any:
    """``log I_x(a, b)`` or (``upper``) ``log(1 - I_x(a, b))`` on plain arrays, finite where they underflow."""
    a, b, x = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (a, b, x)))
    wanted, other = (sc.betaincc(a, b, x), sc.betainc(a, b, x)) if upper else (sc.betainc(a, b, x), sc.betaincc(a, b, x))
    with np.errstate(divide="ignore"):
        out = np.where(wanted < 0.5, np.log(wanted), np.log1p(-other))
    tail = (wanted < _TINY) & (x > 0) & (x < 1)
    if np.any(tail):
        a, b, x = (b, a, 1.0 - x) if upper else (a, b, x)  # 1 - I_x(a, b) = I_{1-x}(b, a)
        out[tail] = _log_lower_beta_series(a[tail], b[tail], x[tail])
    return out[()] if out.ndim == 0 else out


def _beta_log_primitive(name: str, upper: bool) -> Any:
    """``beta``'s ``logcdf`` (``log I_x(a, b)``) or ``logsf`` as a primitive of ``(a, b, x)``.

    Its derivative in ``x`` is ``+-exp(logpdf - ans)``, finite far in the tail; in ``a`` and ``b`` it raises.
    """
    sign = -1.0 if upper else 1.0

    def density(ans: Any, a: Any, b: Any, x: Any) -> Any:
        return sign * fnp.exp(_beta_logpdf(x, a, b) - ans)

    return _scipy_cdf(lambda a, b, x: _log_regularized_beta(a, b, x, upper), name, ("a", "b"), density)


def _t_log_cdf(df: Any, z: Any) -> Any:
    """``log`` of Student's t CDF on plain arrays: for ``z < 0`` it is ``log(I_w(df/2, 1/2) / 2)``, ``w = df/(df+z**2)``."""
    df, z = np.broadcast_arrays(np.asarray(df, dtype=float), np.asarray(z, dtype=float))
    with np.errstate(divide="ignore"):
        out = np.where(z < 0, np.log(sc.stdtr(df, z)), np.log1p(-sc.stdtr(df, -z)))
    tail = (sc.stdtr(df, z) < _TINY) & np.isfinite(z) & np.isfinite(df)
    if np.any(tail):
        # w = df / (df + z**2) = r**2 / (1 + r**2), r = sqrt(df) / |z|: no square of z, log w from log r
        ratio = np.sqrt(df[tail]) / np.abs(z[tail])
        w, log_w = ratio**2 / (1.0 + ratio**2), 2.0 * np.log(ratio) - np.log1p(ratio**2)
        out[tail] = _log_lower_beta_series(0.5 * df[tail], np.full_like(w, 0.5), w, log_w) - _LOG_2
    return out[()] if out.ndim == 0 else out


_beta_logcdf = _beta_log_primitive("stats.beta.logcdf", upper=False)
_beta_logsf = _beta_log_primitive("stats.beta.logsf", upper=True)
_t_logcdf = _scipy_cdf(_t_log_cdf, "stats.t.logcdf", ("df",), lambda ans, df, z: fnp.exp(_t_logpdf(z, df) - ans))


#: the standard form of each univariate distribution, by SciPy's name
STANDARD: dict[str, Standard] = {
    "norm": Standard(
        logpdf=lambda z: -0.5 * z * z - _HALF_LOG_2PI,
        cdf=special.ndtr,
        sf=lambda z: special.ndtr(-z),
        logcdf=special.log_ndtr,
        logsf=lambda z: special.log_ndtr(-z),
    ),
    "logistic": Standard(
        logpdf=lambda z: -z - 2.0 * fnp.logaddexp(0.0, -z),
        cdf=special.expit,
        sf=lambda z: special.expit(-z),
        logcdf=lambda z: -fnp.logaddexp(0.0, -z),
        logsf=lambda z: -fnp.logaddexp(0.0, z),
    ),
    "laplace": Standard(
        logpdf=lambda z: -fnp.absolute(z) - _LOG_2,
        cdf=_laplace_cdf,
        sf=lambda z: _laplace_cdf(-z),
        logcdf=_laplace_logcdf,
        logsf=lambda z: _laplace_logcdf(-z),
    ),
    # arctan2(1, -z) / pi is the CDF without cancellation in the left tail (0.5 + arctan(z) / pi cancels)
    "cauchy": Standard(
        logpdf=lambda z: -_LOG_PI - fnp.log1p(z * z),
        cdf=lambda z: fnp.arctan2(1.0, -z) / math.pi,
        sf=lambda z: fnp.arctan2(1.0, z) / math.pi,
        logcdf=_cauchy_logcdf,
        logsf=lambda z: _cauchy_logcdf(-z),
    ),
    "expon": Standard(
        logpdf=lambda z: -z,
        cdf=lambda z: -fnp.expm1(-z),
        sf=lambda z: fnp.exp(-z),
        logcdf=_expon_logcdf,
        logsf=lambda z: -z,
        support=(0.0, _INF),
        inside=1.0,
    ),
    "uniform": Standard(
        logpdf=lambda z: 0.0 * z,
        cdf=lambda z: z,
        sf=lambda z: 1.0 - z,
        logsf=lambda z: fnp.log1p(-z),
        support=(0.0, 1.0),
        inside=0.5,
    ),
    "t": Standard(
        logpdf=_t_logpdf,
        cdf=lambda z, df: _t_cdf(df, z),
        sf=lambda z, df: _t_cdf(df, -z),
        logcdf=lambda z, df: _t_logcdf(df, z),
        logsf=lambda z, df: _t_logcdf(df, -z),
        shapes=(("df", positive),),
    ),
    "gamma": Standard(
        logpdf=lambda z, a: special.xlogy(a - 1.0, z) - z - special.gammaln(a),
        cdf=lambda z, a: _gamma_cdf(a, z),
        sf=lambda z, a: _gamma_sf(a, z),
        logcdf=lambda z, a: _gamma_logcdf(a, z),
        logsf=lambda z, a: _gamma_logsf(a, z),
        shapes=(("a", positive),),
        support=(0.0, _INF),
        inside=1.0,
    ),
    "chi2": Standard(
        logpdf=lambda z, df: special.xlogy(0.5 * df - 1.0, z) - 0.5 * z - special.gammaln(0.5 * df) - 0.5 * df * _LOG_2,
        cdf=lambda z, df: _chi2_cdf(df, z),
        sf=lambda z, df: _chi2_sf(df, z),
        logcdf=lambda z, df: _chi2_logcdf(df, z),
        logsf=lambda z, df: _chi2_logsf(df, z),
        shapes=(("df", positive),),
        support=(0.0, _INF),
        inside=1.0,
    ),
    "beta": Standard(
        logpdf=_beta_logpdf,
        cdf=lambda z, a, b: _beta_cdf(a, b, z),
        sf=lambda z, a, b: _beta_sf(a, b, z),
        logcdf=lambda z, a, b: _beta_logcdf(a, b, z),
        logsf=lambda z, a, b: _beta_logsf(a, b, z),
        shapes=(("a", positive), ("b", positive)),
        support=(0.0, 1.0),
        inside=0.5,
    ),
    "poisson": Standard(
        logpdf=lambda k, mu: special.xlogy(k, mu) - mu - special.gammaln(k + 1.0),
        cdf=lambda k, mu: special.gammaincc(k + 1.0, mu),
        sf=lambda k, mu: special.gammainc(k + 1.0, mu),
        logcdf=lambda k, mu: _poisson_logcdf(k + 1.0, mu),
        logsf=lambda k, mu: _poisson_logsf(k + 1.0, mu),
        shapes=(("mu", nonnegative),),
        support=(0.0, _INF),
        discrete=True,
    ),
}

#: each cumulative method's value below the support and above it
_TAILS: dict[str, tuple[float, float]] = {
    "cdf": (0.0, 1.0),
    "sf": (1.0, 0.0),
    "logcdf": (-_INF, 0.0),
    "logsf": (0.0, -_INF),
}


def _as_value(value: Any) -> Any:
    """Sequences become arrays; numbers, arrays and traced values stay as they are."""
    return value if isinstance(value, (Tracer, int, float, np.ndarray, np.generic)) else np.asarray(value)


def forwarded(method: Callable[..., Any], name: str) -> Callable[..., Any]:
    """SciPy's ``method`` (``rvs``, ``ppf``, ``mean``, ...), which funcgrad does not differentiate: plain values only.

    A traced argument raises ``TypeError`` naming the method, rather than a derivative silently dropped.
    """

    def call(*args: Any, **kwds: Any) -> Any:
        if any(isinstance(leaf, Tracer) for leaf in tree_flatten((args, kwds))[0]):
            raise _errors.not_differentiated_method(f"scipy.stats.{name}")
        return method(*args, **kwds)

    call.__name__ = call.__qualname__ = name.rsplit(".", 1)[-1]
    call.__doc__ = f"``scipy.stats.{name}``, forwarded to SciPy: plain values only (no derivative)."
    return call


def _refusal(name: str) -> Callable[..., NoReturn]:
    """A SciPy method of a distribution frozen with traced parameters: refused whatever it is called with."""

    def refuse(*args: Any, **kwds: Any) -> NoReturn:
        raise _errors.not_differentiated_method(f"scipy.stats.{name}")

    return refuse


def _guarded(value: Any, domain: Domain) -> tuple[Any, Any]:
    """``value`` with entries outside ``domain`` replaced by 1 (so no formula warns), and where it is inside."""
    valid = domain(value)
    if is_plain(valid) and bool(np.all(valid)):
        return value, True
    return fnp.where(valid, value, 1.0), valid


class Univariate:
    """A univariate distribution of ``funcgrad.scipy.stats``: SciPy's methods, differentiable on traced values.

    On plain values each method is SciPy's own (``scipy.stats.<name>.<method>``);
    on traced values it is built from the distribution's standard form with
    funcgrad functions.  Calling the distribution freezes its parameters, as
    in SciPy.

    >>> from funcgrad.scipy import stats
    >>> stats.norm(loc=1.0, scale=2.0).cdf(1.0)
    np.float64(0.5)
    """

    def __init__(self, name: str, doc: str) -> None:
        self.name = name
        self.standard = STANDARD[name]
        self._scipy = getattr(scipy.stats, name)
        keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD
        parameters = [inspect.Parameter(shape, keyword) for shape, _ in self.standard.shapes]
        parameters.append(inspect.Parameter("loc", keyword, default=0.0))
        if not self.standard.discrete:
            parameters.append(inspect.Parameter("scale", keyword, default=1.0))
        self.signature = inspect.Signature(parameters)
        self.__doc__ = doc

    def __repr__(self) -> str:
        return f"<funcgrad.scipy.stats.{self.name}{self.signature}>"

    def __getattr__(self, method: str) -> Any:
        """SciPy's other methods (``rvs``, ``ppf``, ``isf``, ``mean``, ``var``, ``interval``, ...), forwarded.

        >>> from funcgrad.scipy import stats
        >>> stats.norm.ppf(0.5, loc=3.0), stats.expon.mean(scale=2.0)
        (np.float64(3.0), np.float64(2.0))
        """
        if method.startswith("_"):
            raise AttributeError(method)
        target = getattr(self._scipy, method)
        return forwarded(target, f"{self.name}.{method}") if callable(target) else target

    def __call__(self, *args: Any, **kwds: Any) -> Frozen:
        """The distribution with its parameters fixed, as ``scipy.stats.<name>(*args, **kwds)``.

        >>> from funcgrad.scipy import stats
        >>> float(stats.expon(scale=2.0).sf(2.0))  # exp(-1)
        0.36787944117144233
        """
        self._bind("(frozen)", args, kwds)
        return Frozen(self, args, kwds)

    def cdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """The cumulative distribution function at ``x``; shapes, ``loc`` and ``scale`` as in SciPy.

        >>> from funcgrad.scipy import stats
        >>> float(stats.logistic.cdf(0.0, loc=0.0, scale=3.0))
        0.5
        """
        return self._evaluate("cdf", x, args, kwds)

    def logcdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """The logarithm of :meth:`cdf`, finite far in the left tail where the distribution's formula allows.

        >>> from funcgrad.scipy import stats
        >>> round(float(stats.norm.logcdf(-40.0)), 4)
        -804.6084
        """
        return self._evaluate("logcdf", x, args, kwds)

    def sf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """The survival function ``1 - cdf`` at ``x``, computed without the subtraction where the formula allows.

        >>> from funcgrad.scipy import stats
        >>> float(stats.norm.sf(0.0, 0.0, 1.0))
        0.5
        """
        return self._evaluate("sf", x, args, kwds)

    def logsf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """The logarithm of :meth:`sf`, finite far in the right tail where the distribution's formula allows.

        >>> from funcgrad.scipy import stats
        >>> round(float(stats.norm.logsf(40.0)), 4)
        -804.6084
        """
        return self._evaluate("logsf", x, args, kwds)

    def _bind(self, method: str, args: tuple[Any, ...], kwds: dict[str, Any]) -> dict[str, Any]:
        try:
            bound = self.signature.bind(*args, **kwds)
        except TypeError as error:
            raise _errors.distribution_arguments(self.name, method, error, self.signature) from None
        bound.apply_defaults()
        return {name: _as_value(value) for name, value in bound.arguments.items()}

    def _evaluate(self, method: str, x: Any, args: tuple[Any, ...], kwds: dict[str, Any]) -> Any:
        if not is_traced(x, *args, *kwds.values()):
            return getattr(self._scipy, method)(x, *args, **kwds)
        bound = self._bind(method, args, kwds)
        with np.errstate(divide="ignore"):  # log(0) = -inf at the edge of a support, silently, as SciPy
            return self._traced(method, _as_value(x), bound)

    def _traced(self, method: str, x: Any, bound: dict[str, Any]) -> Any:
        standard = self.standard
        want = fnp.result_type(x, *bound.values(), 1.0)
        valid: Any = True
        shapes = []
        for name, domain in standard.shapes:
            value, inside_domain = _guarded(bound[name], domain)
            shapes.append(value)
            valid = valid & inside_domain
        scale, positive_scale = _guarded(bound.get("scale", 1.0), positive)
        valid = valid & positive_scale
        z = (x - bound["loc"]) / scale if not standard.discrete else x - bound["loc"]
        density = method in ("pdf", "logpdf", "pmf", "logpmf")
        if standard.discrete and not density:
            z = fnp.floor(z)  # a discrete CDF is a step function of x
        low, high = standard.support
        below = z < low if low > -_INF else False
        above = z > high if high < _INF else False
        inside = ~(below | above) if low > -_INF or high < _INF else True
        if standard.discrete and density:
            inside = inside & (z == fnp.floor(z))
        bounded = inside is not True
        zs = fnp.where(inside, z, standard.inside) if bounded else z
        if density:
            value = standard.logpdf(zs, *shapes)
            if not standard.discrete:
                value = value - fnp.log(scale)
            if bounded:
                value = fnp.where(inside, value, -_INF)
            if not method.startswith("log"):
                value = fnp.exp(value)
        else:
            value = self._cumulative(method, zs, shapes)
            if bounded:
                value = fnp.where(below, _TAILS[method][0], fnp.where(above, _TAILS[method][1], value))
        if valid is not True:
            value = fnp.where(valid, value, np.nan)
        if bounded:  # a nan x is outside every support test; SciPy gives nan
            value = fnp.where(fnp.isnan(z), np.nan, value)
        return value if fnp.result_type(value) == want else fnp.asarray(value).astype(want)

    def _cumulative(self, method: str, z: Any, shapes: list[Any]) -> Any:
        standard = self.standard
        if method == "cdf":
            return standard.cdf(z, *shapes)
        if method == "sf":
            return standard.sf(z, *shapes)
        if method == "logcdf" and standard.logcdf:
            return standard.logcdf(z, *shapes)
        if method == "logsf" and standard.logsf:
            return standard.logsf(z, *shapes)
        cdf, sf = standard.cdf(z, *shapes), standard.sf(z, *shapes)
        return _log_of_smaller(cdf, sf) if method == "logcdf" else _log_of_smaller(sf, cdf)


class Continuous(Univariate):
    """A continuous univariate distribution: ``pdf``, ``logpdf``, ``cdf``, ``logcdf``, ``sf``, ``logsf``."""

    def pdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """The probability density at ``x``; shapes, ``loc`` and ``scale`` as in SciPy.

        >>> import funcgrad as fg
        >>> from funcgrad.scipy import stats
        >>> float(fg.grad(stats.norm.pdf)(1.0)) == float(-stats.norm.pdf(1.0))  # phi'(x) = -x phi(x)
        True
        """
        return self._evaluate("pdf", x, args, kwds)

    def logpdf(self, x: Any, *args: Any, **kwds: Any) -> Any:
        """The logarithm of :meth:`pdf` (``-inf`` outside the support).

        >>> import funcgrad as fg
        >>> from funcgrad.scipy import stats
        >>> float(fg.grad(stats.norm.logpdf, argnums=2)(3.0, 1.0, 1.0))  # d/dscale: ((x-loc)^2/scale^2 - 1)/scale
        3.0
        """
        return self._evaluate("logpdf", x, args, kwds)


class Discrete(Univariate):
    """A discrete univariate distribution: ``pmf``, ``logpmf``, ``cdf``, ``logcdf``, ``sf``, ``logsf``."""

    def pmf(self, k: Any, *args: Any, **kwds: Any) -> Any:
        """The probability mass at ``k`` (0 where ``k - loc`` is not a non-negative integer).

        >>> import funcgrad as fg
        >>> from funcgrad.scipy import stats
        >>> round(float(fg.grad(stats.poisson.pmf, argnums=1)(3.0, 1.0)), 6)  # d/dmu = pmf(2) - pmf(3) = exp(-1) / 3
        0.122626
        """
        return self._evaluate("pmf", k, args, kwds)

    def logpmf(self, k: Any, *args: Any, **kwds: Any) -> Any:
        """The logarithm of :meth:`pmf` (``-inf`` off the support).

        >>> import funcgrad as fg
        >>> from funcgrad.scipy import stats
        >>> float(fg.grad(stats.poisson.logpmf, argnums=1)(3.0, 2.0))  # k / mu - 1
        0.5
        """
        return self._evaluate("logpmf", k, args, kwds)


class Frozen:
    """A distribution with its parameters fixed (``stats.norm(loc, scale)``).

    funcgrad's own methods (``pdf``, ``logpdf``, ``cdf``, ...) differentiate in ``x``
    and the fixed parameters; SciPy's others (``rvs(size)``, ``ppf(q)``,
    ``mean()``, ``interval(confidence)``, ...) are those of SciPy's frozen
    distribution, for plain values.  Raises ``AttributeError`` for a method
    SciPy's distribution does not have either.

    >>> from funcgrad.scipy import stats
    >>> float(stats.uniform(1.0, 2.0).pdf(2.0))
    0.5
    >>> stats.norm(1.0, 2.0).rvs(size=2, random_state=0).shape
    (2,)
    """

    def __init__(self, distribution: Any, args: tuple[Any, ...], kwds: dict[str, Any]) -> None:
        self.dist = distribution
        self.args = args
        self.kwds = kwds

    def __getattr__(self, method: str) -> Callable[[Any], Any]:
        if method.startswith("_") or method in ("dist", "args", "kwds"):
            raise AttributeError(method)
        if callable(getattr(type(self.dist), method, None)):
            bound = getattr(self.dist, method)
            return lambda *args, **kwds: bound(*args, *self.args, **self.kwds, **kwds)
        name = f"{self.dist.name}(...).{method}"
        if any(isinstance(leaf, Tracer) for leaf in tree_flatten((self.args, self.kwds))[0]):
            return _refusal(name)
        target = getattr(self.dist._scipy(*self.args, **self.kwds), method)
        return forwarded(target, name) if callable(target) else target

    def __repr__(self) -> str:
        return f"<frozen {self.dist!r} args={self.args} kwds={self.kwds}>"
