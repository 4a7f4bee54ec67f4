"""``scipy.special``, differentiable: SciPy's names and signatures.

On plain values every function is SciPy's own (the same result at the same
cost).  On traced values the elementwise functions are primitives, one line
each: the derivative is written with these same functions, so every order
works (``gammaln' = digamma``, ``digamma' = polygamma(1, .)``,
``polygamma(n, .)' = polygamma(n + 1, .)``, ``iv(v, .)'`` from
``iv(v - 1, .)`` and ``iv(v + 1, .)``, ``erfinv' = sqrt(pi)/2 exp(erfinv**2)``).
``logsumexp``, ``softmax``, ``log_softmax`` and ``multigammaln`` are
compositions of primitives.  Importing this module also teaches SciPy's own
ufuncs (``scipy.special.gammaln(traced)``) to dispatch here.

Where SciPy has no function for a derivative (``betainc`` in ``a`` and
``b``, ``gammainc``/``gammaincc`` in ``a``, the order ``v`` or ``n`` of the
Bessel functions and ``polygamma``), differentiating in that argument raises
``TypeError`` naming it; the other arguments differentiate normally.

Conventions: ``xlogy(0, y)`` and ``xlog1py(0, y)`` are 0 for every ``y``, so
their derivative in ``y`` is 0 where ``x == 0``; at ``x == 0, y == 0`` (for
``xlog1py``: ``y == -1``) the derivative in ``x`` is taken as 0 too, so the
gradient there is finite.  ``ive``'s derivative uses ``sign(x)`` (real ``x``).

>>> import numpy as np
>>> import funcgrad as fg
>>> from funcgrad.scipy import special
>>> float(fg.grad(special.gammaln)(3.0)) == float(special.digamma(3.0))
True
>>> fg.grad(fg.grad(special.gammaln))(1.0)  # trigamma(1) = pi**2 / 6
np.float64(1.64493406684822...)
>>> [float(d) for d in fg.grad(special.xlogy, argnums=(0, 1))(0.0, 0.0)]
[0.0, 0.0]
>>> fg.grad(lambda a: special.betainc(a, 2.0, 0.5))(1.0)
Traceback (most recent call last):
    ...
TypeError: funcgrad.scipy.special.betainc: no derivative with respect to a ...
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.special as sc

import funcgrad.numpy as fnp
from funcgrad import _errors
from funcgrad._prims._base import stop_gradient
from funcgrad._prims._dispatch import UFUNCS
from funcgrad._prims._ufuncs import binary, nondiff, unary
from funcgrad._trace import Primitive
from funcgrad._values import is_traced
from funcgrad.scipy._common import elementwise, no_derivative

__all__ = [
    "gammaln",
    "digamma",
    "psi",
    "polygamma",
    "gamma",
    "rgamma",
    "gammasgn",
    "beta",
    "betaln",
    "betainc",
    "betaincc",
    "gammainc",
    "gammaincc",
    "multigammaln",
    "erf",
    "erfc",
    "erfinv",
    "erfcinv",
    "ndtr",
    "log_ndtr",
    "ndtri",
    "stdtr",
    "chdtr",
    "chdtrc",
    "expit",
    "log_expit",
    "logit",
    "xlogy",
    "xlog1py",
    "entr",
    "i0",
    "i1",
    "iv",
    "ive",
    "j0",
    "j1",
    "jv",
    "jn",
    "y0",
    "y1",
    "yn",
    "logsumexp",
    "softmax",
    "log_softmax",
]

_SQRT_PI = math.sqrt(math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_LOG_PI = math.log(math.pi)

_ORDER = "the order is an integer or SciPy has no derivative in it"


def _name(function: str) -> str:
    return f"special.{function}"


def _special_unary(ufunc: Any, derivative: Any, function: str) -> Primitive:
    return unary(ufunc, derivative, _name(function))


def _special_binary(ufunc: Any, dx: Any, dy: Any, function: str) -> Primitive:
    return binary(ufunc, dx, dy, _name(function))


def _both_zero(x: Any, y: Any) -> Any:
    return (x == 0) & (y == 0)


# --- gamma family -------------------------------------------------------------------------
polygamma: Primitive = _special_binary(
    sc.polygamma,
    no_derivative("special.polygamma", "n", _ORDER),
    lambda ans, n, x: polygamma(n + 1, x),
    "polygamma",
)
digamma: Primitive = _special_unary(sc.digamma, lambda ans, x: polygamma(1, x), "digamma")
psi = digamma
gammaln = _special_unary(sc.gammaln, lambda ans, x: digamma(x), "gammaln")
gamma = _special_unary(sc.gamma, lambda ans, x: ans * digamma(x), "gamma")
rgamma = _special_unary(sc.rgamma, lambda ans, x: -ans * digamma(x), "rgamma")
gammasgn = nondiff(sc.gammasgn, name=_name("gammasgn"))
beta = _special_binary(
    sc.beta,
    lambda ans, a, b: ans * (digamma(a) - digamma(a + b)),
    lambda ans, a, b: ans * (digamma(b) - digamma(a + b)),
    "beta",
)
betaln = _special_binary(
    sc.betaln,
    lambda ans, a, b: digamma(a) - digamma(a + b),
    lambda ans, a, b: digamma(b) - digamma(a + b),
    "betaln",
)


def _gammainc_dx(ans: Any, a: Any, x: Any) -> Any:
    # the integrand x**(a-1) exp(-x) / Gamma(a), in logs so large a does not overflow
    return fnp.exp(xlogy(a - 1.0, x) - x - gammaln(a))


gammainc = _special_binary(
    sc.gammainc, no_derivative("special.gammainc", "a", "only x is differentiable"), _gammainc_dx, "gammainc"
)
gammaincc = _special_binary(
    sc.gammaincc,
    no_derivative("special.gammaincc", "a", "only x is differentiable"),
    lambda ans, a, x: -_gammainc_dx(ans, a, x),
    "gammaincc",
)


def _betainc_dx(ans: Any, a: Any, b: Any, x: Any) -> Any:
    # the integrand x**(a-1) (1-x)**(b-1) / B(a, b)
    return fnp.exp(xlogy(a - 1.0, x) + xlog1py(b - 1.0, -x) - betaln(a, b))


def _ternary(ufunc: Any, partials: tuple[Any, Any, Any], function: str) -> Primitive:
    """A three-argument elementwise primitive from its partial derivatives ``d(ans, *args)``."""
    prim = elementwise(ufunc, partials, _name(function))
    UFUNCS[ufunc] = prim
    return prim


betainc = _ternary(
    sc.betainc,
    (
        no_derivative("special.betainc", "a", "only x is differentiable"),
        no_derivative("special.betainc", "b", "only x is differentiable"),
        _betainc_dx,
    ),
    "betainc",
)

betaincc = _ternary(
    sc.betaincc,
    (
        no_derivative("special.betaincc", "a", "only x is differentiable"),
        no_derivative("special.betaincc", "b", "only x is differentiable"),
        lambda ans, a, b, x: -_betainc_dx(ans, a, b, x),
    ),
    "betaincc",
)


def _stdtr_dt(ans: Any, df: Any, t: Any) -> Any:
    # Student's t density
    return fnp.exp(
        gammaln(0.5 * (df + 1.0))
        - gammaln(0.5 * df)
        - 0.5 * fnp.log(math.pi * df)
        - 0.5 * (df + 1.0) * fnp.log1p(t * t / df)
    )


stdtr = _special_binary(sc.stdtr, no_derivative("special.stdtr", "df", "only t is differentiable"), _stdtr_dt, "stdtr")
chdtr = _special_binary(
    sc.chdtr,
    no_derivative("special.chdtr", "v", "only x is differentiable"),
    lambda ans, v, x: 0.5 * _gammainc_dx(ans, 0.5 * v, 0.5 * x),
    "chdtr",
)
chdtrc = _special_binary(
    sc.chdtrc,
    no_derivative("special.chdtrc", "v", "only x is differentiable"),
    lambda ans, v, x: -0.5 * _gammainc_dx(ans, 0.5 * v, 0.5 * x),
    "chdtrc",
)


def multigammaln(a: Any, d: int) -> Any:
    """``scipy.special.multigammaln``: the log of the multivariate gamma function of dimension ``d``,
    ``d(d-1)/4 log(pi) + sum_j gammaln(a - j/2)``; differentiable in ``a``.

    Raises ``ValueError`` (as SciPy) when ``d`` is not an integer or ``a <= (d - 1)/2``.

    >>> import funcgrad as fg
    >>> round(float(multigammaln(3.0, 2)), 12) == round(float(sc.multigammaln(3.0, 2)), 12)
    True
    >>> float(fg.grad(multigammaln)(3.0, 2)) == float(digamma(3.0) + digamma(2.5))
    True
    """
    if not is_traced(a):
        return sc.multigammaln(a, d)
    if not (isinstance(d, (int, float, np.integer, np.floating)) and float(d).is_integer() and d >= 1):
        raise _errors.multigammaln_dimension(d)
    if fnp.any(a <= 0.5 * (d - 1)):
        raise _errors.multigammaln_domain(d)
    total = gammaln(a)
    for j in range(1, int(d)):
        total = total + gammaln(a - 0.5 * j)
    return total + d * (d - 1) * 0.25 * _LOG_PI


# --- error function and normal distribution ------------------------------------------------
erf = _special_unary(sc.erf, lambda ans, x: (2.0 / _SQRT_PI) * fnp.exp(-x * x), "erf")
erfc = _special_unary(sc.erfc, lambda ans, x: (-2.0 / _SQRT_PI) * fnp.exp(-x * x), "erfc")
erfinv = _special_unary(sc.erfinv, lambda ans, x: (_SQRT_PI / 2.0) * fnp.exp(ans * ans), "erfinv")
erfcinv = _special_unary(sc.erfcinv, lambda ans, x: (-_SQRT_PI / 2.0) * fnp.exp(ans * ans), "erfcinv")
ndtr = _special_unary(sc.ndtr, lambda ans, x: fnp.exp(-0.5 * x * x) / _SQRT_2PI, "ndtr")
# exp(-x**2/2 - log_ndtr(x)) stays finite far in the left tail, where ndtr(x) underflows
log_ndtr = _special_unary(sc.log_ndtr, lambda ans, x: fnp.exp(-0.5 * x * x - ans) / _SQRT_2PI, "log_ndtr")
ndtri = _special_unary(sc.ndtri, lambda ans, x: _SQRT_2PI * fnp.exp(0.5 * ans * ans), "ndtri")

# --- logistic, logarithms -------------------------------------------------------------------
expit = _special_unary(sc.expit, lambda ans, x: ans * (1.0 - ans), "expit")
# log(expit(x))' = expit(-x): finite at both ends, where expit itself saturates
log_expit = _special_unary(sc.log_expit, lambda ans, x: expit(-x), "log_expit")
logit = _special_unary(sc.logit, lambda ans, x: 1.0 / (x * (1.0 - x)), "logit")
xlogy: Primitive = _special_binary(
    sc.xlogy,
    lambda ans, x, y: fnp.where(_both_zero(x, y), 0.0, fnp.log(fnp.where(_both_zero(x, y), 1.0, y))),
    lambda ans, x, y: fnp.where(x == 0, 0.0, x / fnp.where(x == 0, 1.0, y)),
    "xlogy",
)
xlog1py: Primitive = _special_binary(
    sc.xlog1py,
    lambda ans, x, y: fnp.where(_both_zero(x, y + 1.0), 0.0, fnp.log1p(fnp.where(_both_zero(x, y + 1.0), 0.0, y))),
    lambda ans, x, y: fnp.where(x == 0, 0.0, x / fnp.where(x == 0, 1.0, 1.0 + y)),
    "xlog1py",
)
entr = _special_unary(sc.entr, lambda ans, x: -1.0 - fnp.log(x), "entr")

# --- Bessel functions ----------------------------------------------------------------------
iv: Primitive = _special_binary(
    sc.iv,
    no_derivative("special.iv", "v", _ORDER),
    lambda ans, v, x: 0.5 * (iv(v - 1, x) + iv(v + 1, x)),
    "iv",
)
ive: Primitive = _special_binary(
    sc.ive,
    no_derivative("special.ive", "v", _ORDER),
    lambda ans, v, x: 0.5 * (ive(v - 1, x) + ive(v + 1, x)) - fnp.sign(fnp.real(x)) * ans,
    "ive",
)
i1: Primitive = _special_unary(sc.i1, lambda ans, x: 0.5 * (i0(x) + iv(2, x)), "i1")
i0: Primitive = _special_unary(sc.i0, lambda ans, x: i1(x), "i0")
jv: Primitive = _special_binary(
    sc.jv,
    no_derivative("special.jv", "v", _ORDER),
    lambda ans, v, x: 0.5 * (jv(v - 1, x) - jv(v + 1, x)),
    "jv",
)
jn = jv
j1: Primitive = _special_unary(sc.j1, lambda ans, x: 0.5 * (j0(x) - jv(2, x)), "j1")
j0: Primitive = _special_unary(sc.j0, lambda ans, x: -j1(x), "j0")
yn: Primitive = _special_binary(
    sc.yn,
    no_derivative("special.yn", "n", _ORDER),
    lambda ans, n, x: 0.5 * (yn(n - 1, x) - yn(n + 1, x)),
    "yn",
)
y1: Primitive = _special_unary(sc.y1, lambda ans, x: 0.5 * (y0(x) - yn(2, x)), "y1")
y0: Primitive = _special_unary(sc.y0, lambda ans, x: -y1(x), "y0")


# --- reductions -----------------------------------------------------------------------------
def _largest(a: Any, axis: Any) -> tuple[Any, Any]:
    """The largest entry along ``axis`` (kept, no derivative), and the same with 0 for an infinite one: a safe shift."""
    top = stop_gradient(fnp.max(a, axis=axis, keepdims=True))
    return top, fnp.where(fnp.isfinite(top), top, 0.0)


def logsumexp(a: Any, axis: Any = None, b: Any = None, keepdims: bool = False, return_sign: bool = False) -> Any:
    """``scipy.special.logsumexp``: ``log(sum(b * exp(a), axis))`` without overflow.

    ``-inf`` entries contribute nothing (and get a zero derivative; when every
    entry is ``-inf`` the result is ``-inf`` with a zero derivative); ``b``
    weights may be negative with ``return_sign=True`` (then ``(log|sum|, sign)``
    is returned, the sign a plain array).  Differentiable in ``a`` and ``b``.

    >>> import numpy as np
    >>> import funcgrad as fg
    >>> fg.grad(logsumexp)(np.array([0.0, np.log(3.0), -np.inf]))
    array([0.25, 0.75, 0.  ])
    """
    if not is_traced(a, b):
        return sc.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign)
    top, shift = _largest(a, axis)
    terms = fnp.exp(a - shift)
    if b is not None:
        terms = b * terms
    total = fnp.sum(terms, axis=axis, keepdims=True)
    # every entry -inf: every term is an exact 0, log(1) keeps the derivative finite (0)
    total = fnp.where(top == -np.inf, 1.0, total)
    out = fnp.log(fnp.absolute(total) if return_sign else total) + top
    if not keepdims:
        out = fnp.sum(out, axis=axis)  # drops the kept axes: they have length one
    if return_sign:
        signs = fnp.sign(total)  # a plain array: the sign has no derivative
        return out, signs if keepdims else fnp.sum(signs, axis=axis)
    return out


def softmax(x: Any, axis: Any = None) -> Any:
    """``scipy.special.softmax``: ``exp(x) / sum(exp(x), axis)``, computed stably.

    >>> import numpy as np
    >>> import funcgrad as fg
    >>> fg.jacobian(softmax)(np.zeros(2))
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    """
    if not is_traced(x):
        return sc.softmax(x, axis=axis)
    terms = fnp.exp(x - _largest(x, axis)[1])
    return terms / fnp.sum(terms, axis=axis, keepdims=True)


def log_softmax(x: Any, axis: Any = None) -> Any:
    """``scipy.special.log_softmax``: ``x - logsumexp(x, axis)``, computed stably.

    >>> import numpy as np
    >>> import funcgrad as fg
    >>> fg.grad(lambda x: log_softmax(x)[0])(np.zeros(2))
    array([ 0.5, -0.5])
    """
    if not is_traced(x):
        return sc.log_softmax(x, axis=axis)
    shifted = x - _largest(x, axis)[1]
    return shifted - fnp.log(fnp.sum(fnp.exp(shifted), axis=axis, keepdims=True))
