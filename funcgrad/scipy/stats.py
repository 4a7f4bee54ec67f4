"""``scipy.stats``, differentiable: SciPy's distributions, names, signatures and defaults.

Univariate: ``norm``, ``t``, ``gamma``, ``beta``, ``chi2``, ``expon``,
``laplace``, ``logistic``, ``cauchy``, ``uniform`` (``pdf``, ``logpdf``,
``cdf``, ``logcdf``, ``sf``, ``logsf``) and ``poisson`` (``pmf``, ``logpmf``,
``cdf``, ``logcdf``, ``sf``, ``logsf``), each taking its shape parameters then
``loc`` and ``scale`` (positionally or by keyword, SciPy's defaults 0 and 1);
calling one freezes its parameters (``stats.norm(1.0, 2.0).logpdf(x)``).
Multivariate: ``multivariate_normal`` and ``dirichlet`` (``pdf``, ``logpdf``).

On plain values every method is SciPy's own (the same result, float64 as
SciPy gives).  On traced values it is written with ``funcgrad.numpy`` and
``funcgrad.scipy.special`` functions, so it differentiates at every order in
``x`` and in every parameter (``loc``, ``scale``, ``df``, ``a``, ``b``,
``mu``, ``mean``, ``cov``, ``alpha``) and keeps a float32 input float32.  Where
SciPy has no function for a derivative (the CDF of ``t`` and ``chi2`` in
``df``, of ``gamma`` in ``a``, of ``beta`` in ``a`` and ``b``) it raises a
``TypeError`` naming the argument and the distribution; a parameter outside
its domain gives ``nan`` and ``x`` outside the support gives SciPy's value
there (``-inf`` for a log-density), with a zero derivative.

>>> import numpy as np
>>> import funcgrad as fg
>>> from funcgrad.scipy import stats
>>> x = np.array([-1.0, 0.5, 2.0])
>>> fg.grad(lambda mu: stats.norm.logpdf(x, mu, 2.0).sum())(0.0)  # sum(x - mu) / scale**2
np.float64(0.375)
>>> fg.grad(lambda df: stats.t.cdf(1.0, df))(3.0)
Traceback (most recent call last):
    ...
TypeError: funcgrad.scipy.stats.t.cdf: no derivative with respect to df ...
"""

from __future__ import annotations

from funcgrad.scipy._stats_multivariate import Dirichlet, MultivariateNormal
from funcgrad.scipy._stats_univariate import Continuous, Discrete, Univariate

__all__ = [
    "norm",
    "t",
    "gamma",
    "beta",
    "chi2",
    "expon",
    "laplace",
    "logistic",
    "cauchy",
    "uniform",
    "poisson",
    "multivariate_normal",
    "dirichlet",
]

norm = Continuous(
    "norm",
    """The normal distribution, ``norm.logpdf(x, loc=0, scale=1)``; ``logcdf``/``logsf`` use ``log_ndtr``.

    >>> import funcgrad as fg
    >>> from funcgrad.scipy import stats
    >>> float(fg.grad(stats.norm.logcdf)(-40.0))  # about -x far in the left tail
    40.02...
    """,
)
t = Continuous(
    "t",
    """Student's t, ``t.logpdf(x, df, loc=0, scale=1)``; its CDF has no derivative in ``df``.

    >>> import funcgrad as fg
    >>> from funcgrad.scipy import stats
    >>> float(fg.grad(stats.t.cdf)(0.0, 1.0))  # the Cauchy density at 0: 1/pi
    0.3183098861837...
    """,
)
gamma = Continuous(
    "gamma",
    """The gamma distribution, ``gamma.logpdf(x, a, loc=0, scale=1)``; its CDF has no derivative in ``a``.

    >>> import funcgrad as fg
    >>> from funcgrad.scipy import stats
    >>> float(fg.grad(stats.gamma.logpdf, argnums=1)(1.0, 1.0))  # log x - digamma(a), digamma(1) = -euler_gamma
    0.5772156649015...
    """,
)
beta = Continuous(
    "beta",
    """The beta distribution, ``beta.logpdf(x, a, b, loc=0, scale=1)``; its CDF has no derivative in ``a``, ``b``.

    >>> import funcgrad as fg
    >>> from funcgrad.scipy import stats
    >>> float(fg.grad(stats.beta.cdf)(0.5, 2.0, 2.0))  # the density 6 x (1 - x)
    1.5
    """,
)
chi2 = Continuous(
    "chi2",
    """The chi-squared distribution, ``chi2.logpdf(x, df, loc=0, scale=1)``; its CDF has no derivative in ``df``.

    >>> import funcgrad as fg
    >>> from funcgrad.scipy import stats
    >>> float(fg.grad(stats.chi2.logpdf)(2.0, 2.0))  # the exponential with scale 2
    -0.5
    """,
)
expon = Continuous(
    "expon",
    """The exponential distribution, ``expon.logpdf(x, loc=0, scale=1)``.

    >>> import funcgrad as fg
    >>> from funcgrad.scipy import stats
    >>> float(fg.grad(stats.expon.logpdf, argnums=2)(4.0, 0.0, 2.0))  # (x - loc) / scale**2 - 1 / scale
    0.5
    """,
)
laplace = Continuous(
    "laplace",
    """The Laplace distribution, ``laplace.logpdf(x, loc=0, scale=1)``.

    >>> import funcgrad as fg
    >>> from funcgrad.scipy import stats
    >>> float(fg.grad(stats.laplace.cdf)(0.0))  # the density at 0
    0.5
    """,
)
logistic = Continuous(
    "logistic",
    """The logistic distribution, ``logistic.logpdf(x, loc=0, scale=1)``.

    >>> import funcgrad as fg
    >>> from funcgrad.scipy import stats
    >>> float(fg.grad(stats.logistic.cdf)(0.0))  # expit'(0)
    0.25
    """,
)
cauchy = Continuous(
    "cauchy",
    """The Cauchy distribution, ``cauchy.logpdf(x, loc=0, scale=1)``; ``logcdf`` stays accurate in the left tail.

    >>> import funcgrad as fg
    >>> from funcgrad.scipy import stats
    >>> float(fg.grad(stats.cauchy.logcdf)(-1e10))  # about -1 / x
    1e-10
    """,
)
uniform = Continuous(
    "uniform",
    """The uniform distribution on ``[loc, loc + scale]``, ``uniform.logpdf(x, loc=0, scale=1)``.

    >>> import funcgrad as fg
    >>> from funcgrad.scipy import stats
    >>> float(fg.grad(stats.uniform.cdf, argnums=2)(1.0, 0.0, 2.0))  # -(x - loc) / scale**2
    -0.25
    """,
)
poisson = Discrete(
    "poisson",
    """The Poisson distribution, ``poisson.logpmf(k, mu, loc=0)``; differentiable in ``mu`` (``cdf`` too).

    ``k`` is a count: the derivative of ``logpmf`` in ``k`` is that of the formula
    ``xlogy(k, mu) - mu - gammaln(k + 1)``, and the CDF is a step function of ``k``.

    >>> import funcgrad as fg
    >>> from funcgrad.scipy import stats
    >>> float(fg.grad(stats.poisson.cdf, argnums=1)(0.0, 1.0))  # d/dmu exp(-mu)
    -0.36787944117144...
    """,
)
multivariate_normal = MultivariateNormal()
dirichlet = Dirichlet()

#: the distributions' own examples, collected by doctest
__test__ = {name: obj.__doc__ for name, obj in globals().items() if isinstance(obj, Univariate) and obj.__doc__}
