"""The multivariate distributions of ``funcgrad.scipy.stats``: ``multivariate_normal`` and ``dirichlet``.

Both follow SciPy's shape conventions exactly (how ``x``, ``mean``, ``cov`` and
``alpha`` are read, and the squeezed result), which depend on shapes only,
never on values.  ``multivariate_normal.logpdf`` goes through the Cholesky
factor of ``(cov + cov.T) / 2``, so its derivative in ``cov`` is the
symmetric one (as JAX's); ``dirichlet.logpdf`` is
``sum(xlogy(alpha - 1, x)) - (sum(gammaln(alpha)) - gammaln(sum(alpha)))``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.stats

import funcgrad.numpy as fnp
from funcgrad import _errors
from funcgrad._prims._base import stop_gradient
from funcgrad._rules import defjvp, defvjp, primitive
from funcgrad._trace import Tracer
from funcgrad._values import is_traced, ndim, shape
from funcgrad.scipy import linalg, special
from funcgrad.scipy._common import no_derivative
from funcgrad.scipy._stats_univariate import Frozen, forwarded

_LOG_2PI = math.log(2.0 * math.pi)


def _operand(value: Any) -> Any:
    """A traced value as it is; a plain one as an array, in float64 unless it is already inexact (float32 stays)."""
    if isinstance(value, Tracer):
        return value
    array = np.asarray(value)
    return array if array.dtype.kind in "fc" else array.astype(float)


def _squeezed(out: Any) -> Any:
    """SciPy's ``_squeeze_output``: every length-one axis dropped."""
    return fnp.reshape(out, tuple(n for n in shape(out) if n != 1))


def _mvn_cdf(x: Any, mean: Any, cov: Any, log: bool, options: Any) -> Any:
    method = scipy.stats.multivariate_normal.logcdf if log else scipy.stats.multivariate_normal.cdf
    return method(x, mean, cov, **dict(options))


_NO_CDF_PIECES = "the CDF is a numerical integral in SciPy, with no function for its derivative"
_mvn_cdf_p = primitive(_mvn_cdf, "stats.multivariate_normal.cdf")
_refusals = tuple(no_derivative("stats.multivariate_normal.cdf", a, _NO_CDF_PIECES) for a in ("x", "mean", "cov"))
defvjp(_mvn_cdf_p, *_refusals)
defjvp(_mvn_cdf_p, *_refusals)


def _pseudo_parts(cov: Any) -> tuple[Any, Any, Any]:
    """SciPy's ``_PSD`` of a symmetric positive semi-definite ``cov``: rank, log pseudo-determinant, eigenpairs.

    Eigenvalues at most ``1e6 * eps * max|s|`` count as zero (SciPy's cut-off); the cut-off and the
    rank carry no derivative.
    """
    values, vectors = fnp.linalg.eigh(0.5 * (cov + fnp.swapaxes(cov, -1, -2)))
    cutoff = stop_gradient(1e6 * np.finfo(np.float64).eps * fnp.max(fnp.absolute(values)))
    kept = values > cutoff
    safe = fnp.where(kept, values, 1.0)
    log_pdet = fnp.sum(fnp.where(kept, fnp.log(safe), 0.0))
    return fnp.sum(kept), log_pdet, (values, vectors, kept, safe, cutoff)


def _pseudo_logpdf(points: Any, cov: Any) -> Any:
    """The log-density of rows of ``points`` (deviations from the mean) under a possibly singular ``cov``.

    SciPy's definition: the pseudo-inverse and pseudo-determinant on the range of ``cov``, ``-inf`` off it.
    """
    rank, log_pdet, (values, vectors, kept, safe, cutoff) = _pseudo_parts(cov)
    projected = points @ vectors
    distance = fnp.sum(fnp.where(kept, projected * projected / safe, 0.0), axis=-1)
    off_range = fnp.sum(fnp.where(kept, 0.0, projected * projected), axis=-1)
    inside = off_range < (1e3 * cutoff) ** 2  # SciPy: |points @ V| < 1000 * cut-off, V the null space
    out = -0.5 * (rank * _LOG_2PI + log_pdet + distance)
    return fnp.where(inside, out, -np.inf)


class _Forwarding:
    """SciPy's other methods of the distribution (``rvs``, ``mean``, ...), forwarded for plain values."""

    _scipy: Any
    name: str

    def __getattr__(self, method: str) -> Any:
        if method.startswith("_"):
            raise AttributeError(method)
        target = getattr(self._scipy, method)
        return forwarded(target, f"{self.name}.{method}") if callable(target) else target


class MultivariateNormal(_Forwarding):
    """``scipy.stats.multivariate_normal``: ``pdf``, ``logpdf``, ``cdf``, ``logcdf``.

    ``mean`` defaults to zeros and ``cov`` to 1 (the identity); a scalar
    ``cov`` is that multiple of the identity, a vector the diagonal, as in
    SciPy.  ``x`` has the dimension on its last axis.  On traced values
    ``logpdf``/``pdf`` differentiate at every order in ``x``, ``mean`` and
    ``cov`` (positive definite: ``numpy.linalg.LinAlgError`` otherwise; with
    ``allow_singular=True`` a singular ``cov`` is allowed, as in SciPy: the
    density lives on its range, ``-inf`` off it, through its eigenvectors, so
    the derivative in ``cov`` needs distinct eigenvalues); ``entropy`` is
    differentiable in ``cov``; ``cdf``/``logcdf`` are
    SciPy's numerical integrals, computed on traced values too, but
    differentiating them raises ``TypeError`` naming the argument.
    ``ValueError`` (as SciPy) for a ``mean`` or ``cov`` of the wrong shape.

    >>> import numpy as np
    >>> import funcgrad as fg
    >>> from funcgrad.scipy import stats
    >>> cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    >>> x = np.array([1.0, -1.0])
    >>> bool(np.allclose(fg.grad(stats.multivariate_normal.logpdf)(x, None, cov), -np.linalg.solve(cov, x)))
    True
    >>> fg.grad(stats.multivariate_normal.logpdf, argnums=2)(x, None, np.eye(2))  # (x x^T - I) / 2
    array([[ 0. , -0.5],
           [-0.5,  0. ]])
    """

    _scipy = scipy.stats.multivariate_normal
    name = "multivariate_normal"

    def __call__(self, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Frozen:
        """The distribution with ``mean`` and ``cov`` fixed, as ``scipy.stats.multivariate_normal(mean, cov)``.

        >>> import numpy as np
        >>> from funcgrad.scipy import stats
        >>> round(float(stats.multivariate_normal(np.zeros(2), 2.0).logpdf(np.zeros(2))), 6)  # -log(4 pi)
        -2.531024
        """
        return Frozen(self, (mean, cov), {"allow_singular": allow_singular})

    def logpdf(self, x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
        """The log-density at ``x`` (the dimension on the last axis), SciPy's result shape.

        >>> import numpy as np
        >>> import funcgrad as fg
        >>> from funcgrad.scipy import stats
        >>> float(fg.grad(lambda m: stats.multivariate_normal.logpdf(np.zeros(2), m).sum())(np.ones(2)).sum())
        -2.0
        """
        if not is_traced(x, mean, cov):
            return scipy.stats.multivariate_normal.logpdf(x, mean, cov, allow_singular=allow_singular)
        x, mean, cov = self._standardized(x, mean, cov)
        dim = shape(cov)[-1]
        points = fnp.reshape(x - mean, (-1, dim))
        if allow_singular:
            out = _pseudo_logpdf(points, cov)
        else:
            factor = fnp.linalg.cholesky(0.5 * (cov + fnp.swapaxes(cov, -1, -2)))
            whitened = linalg.solve_triangular(factor, fnp.swapaxes(points, 0, 1), lower=True)
            distance = fnp.sum(whitened * whitened, axis=0)
            log_det = 2.0 * fnp.sum(fnp.log(fnp.diagonal(factor)))
            out = -0.5 * (dim * _LOG_2PI + log_det + distance)
        return _squeezed(fnp.reshape(out, shape(x)[:-1]))

    def entropy(self, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
        """The differential entropy ``(rank (log(2 pi) + 1) + log pdet(cov)) / 2``; differentiable in ``cov``.

        >>> import numpy as np
        >>> import funcgrad as fg
        >>> from funcgrad.scipy import stats
        >>> fg.grad(stats.multivariate_normal.entropy, argnums=1)(None, 2.0 * np.eye(2))  # inv(cov) / 2
        array([[0.25, 0.  ],
               [0.  , 0.25]])
        """
        if not is_traced(mean, cov):
            return scipy.stats.multivariate_normal(mean, cov, allow_singular=allow_singular).entropy()
        _, cov = self._parameters(mean, cov)
        if allow_singular:
            rank, log_pdet, _ = _pseudo_parts(cov)
            return 0.5 * (rank * (_LOG_2PI + 1.0) + log_pdet)
        factor = fnp.linalg.cholesky(0.5 * (cov + fnp.swapaxes(cov, -1, -2)))
        return 0.5 * (shape(cov)[-1] * (_LOG_2PI + 1.0)) + fnp.sum(fnp.log(fnp.diagonal(factor)))

    def pdf(self, x: Any, mean: Any = None, cov: Any = 1, allow_singular: bool = False) -> Any:
        """The density: ``exp(logpdf)``.

        >>> import numpy as np
        >>> from funcgrad.scipy import stats
        >>> round(float(stats.multivariate_normal.pdf(np.zeros(2), cov=np.eye(2))), 6)  # 1 / (2 pi)
        0.159155
        """
        if not is_traced(x, mean, cov):
            return scipy.stats.multivariate_normal.pdf(x, mean, cov, allow_singular=allow_singular)
        return fnp.exp(self.logpdf(x, mean, cov, allow_singular))

    def cdf(self, x: Any, mean: Any = None, cov: Any = 1, **options: Any) -> Any:
        """SciPy's ``multivariate_normal.cdf`` (a numerical integral); no derivative (``TypeError``).

        >>> import numpy as np
        >>> from funcgrad.scipy import stats
        >>> round(float(stats.multivariate_normal.cdf(np.zeros(2), cov=np.eye(2))), 3)
        0.25
        """
        return self._cdf(x, mean, cov, False, options)

    def logcdf(self, x: Any, mean: Any = None, cov: Any = 1, **options: Any) -> Any:
        """SciPy's ``multivariate_normal.logcdf`` (a numerical integral); no derivative (``TypeError``).

        >>> import numpy as np
        >>> from funcgrad.scipy import stats
        >>> round(float(stats.multivariate_normal.logcdf(np.zeros(2), cov=np.eye(2))), 3)  # log(1/4)
        -1.386
        """
        return self._cdf(x, mean, cov, True, options)

    def _cdf(self, x: Any, mean: Any, cov: Any, log: bool, options: dict[str, Any]) -> Any:
        if not is_traced(x, mean, cov):
            return _mvn_cdf(x, mean, cov, log, tuple(options.items()))
        x, mean, cov = self._standardized(x, mean, cov)
        return _mvn_cdf_p(x, mean, cov, log=log, options=tuple(sorted(options.items())))

    def _standardized(self, x: Any, mean: Any, cov: Any) -> tuple[Any, Any, Any]:
        """``x`` as points on the last axis, ``mean`` a vector and ``cov`` a matrix, by SciPy's shape rules."""
        mean, cov = self._parameters(mean, cov)
        dim = shape(mean)[0]
        x = _operand(x)
        if ndim(x) == 0:
            x = fnp.reshape(x, (1,))
        elif ndim(x) == 1:
            x = fnp.reshape(x, (-1, 1) if dim == 1 else (1, -1))
        if shape(x)[-1] != dim:
            raise _errors.multivariate_normal_x(dim, shape(x))
        return x, mean, cov

    def _parameters(self, mean: Any, cov: Any) -> tuple[Any, Any]:
        """``mean`` a vector and ``cov`` a matrix, by SciPy's shape rules."""
        cov = _operand(cov)
        if mean is None:
            dim = 1 if ndim(cov) < 2 else shape(cov)[0]
            mean = np.zeros(dim)
        mean = _operand(mean)
        dim = 1 if ndim(mean) == 0 else shape(mean)[0]
        if dim == 1:
            mean = fnp.reshape(mean, (1,))
            cov = fnp.reshape(cov, (1, 1)) if ndim(cov) < 2 else cov
        if ndim(mean) != 1:
            raise _errors.multivariate_normal_mean(shape(mean))
        if ndim(cov) == 0:
            cov = cov * np.eye(dim)
        elif ndim(cov) == 1:
            cov = fnp.diag(cov)
        if shape(cov) != (dim, dim):
            raise _errors.multivariate_normal_cov(dim, shape(cov))
        return mean, cov


class Dirichlet(_Forwarding):
    """``scipy.stats.dirichlet``: ``pdf``, ``logpdf`` of ``x`` on the simplex with concentrations ``alpha``.

    ``x`` has the components on its *first* axis (SciPy's convention):
    shape ``(K,)`` or ``(K, N)``, or ``K - 1`` components and the last one
    is ``1 - sum``.  On traced values ``logpdf``/``pdf`` differentiate at every
    order in ``x`` and ``alpha``; SciPy's value checks become values: ``nan``
    where ``x`` is off the simplex (an entry outside ``[0, 1]``, or a sum more
    than ``1e-9`` from 1, or ten rounding errors for float32) or an ``alpha``
    is not positive, with a zero derivative, as for the univariate
    distributions.  ``ValueError`` (as
    SciPy) for ``alpha`` that is not a vector or ``x`` with the wrong number of
    components.

    >>> import numpy as np
    >>> import funcgrad as fg
    >>> from funcgrad.scipy import stats
    >>> alpha = np.array([2.0, 3.0])
    >>> float(stats.dirichlet.logpdf(np.array([0.5, 0.5]), alpha)) == float(stats.beta.logpdf(0.5, 2.0, 3.0))
    True
    >>> # log x - digamma(alpha) + digamma(sum(alpha))
    >>> np.round(fg.grad(stats.dirichlet.logpdf, argnums=1)(np.array([0.5, 0.5]), alpha), 6)
    array([ 0.390186, -0.109814])
    """

    _scipy = scipy.stats.dirichlet
    name = "dirichlet"

    def __call__(self, alpha: Any) -> Frozen:
        """The distribution with ``alpha`` fixed, as ``scipy.stats.dirichlet(alpha)``.

        >>> import numpy as np
        >>> from funcgrad.scipy import stats
        >>> float(stats.dirichlet(np.ones(3)).pdf(np.array([0.2, 0.3, 0.5])))  # Gamma(3): uniform on the simplex
        2.0
        """
        return Frozen(self, (alpha,), {})

    def logpdf(self, x: Any, alpha: Any) -> Any:
        """The log-density at ``x`` (components on the first axis), SciPy's result shape.

        >>> import numpy as np
        >>> import funcgrad as fg
        >>> from funcgrad.scipy import stats
        >>> x = np.array([0.2, 0.3])  # the last component is 1 - sum(x): (alpha_i - 1)/x_i - (alpha_K - 1)/x_K
        >>> fg.grad(lambda x: stats.dirichlet.logpdf(x, np.array([2.0, 3.0, 4.0])))(x)
        array([-1.        ,  0.66666667])
        """
        if not is_traced(x, alpha):
            return scipy.stats.dirichlet.logpdf(x, alpha)
        x, alpha = self._standardized(x, alpha)
        column = fnp.reshape(alpha, (-1,) + (1,) * (ndim(x) - 1))
        # SciPy's tolerance on the sum, widened to a few rounding errors of a float32 x
        tolerance = max(1e-9, 10.0 * float(np.finfo(fnp.result_type(x, 1.0)).eps))
        inside = fnp.all((x >= 0) & (x <= 1), axis=0) & (fnp.absolute(fnp.sum(x, axis=0) - 1.0) <= tolerance)
        positive = fnp.all(alpha > 0)
        alpha = fnp.where(positive, alpha, 1.0)
        log_norm = fnp.sum(special.gammaln(alpha)) - special.gammaln(fnp.sum(alpha))
        safe_x = fnp.where(inside, x, 1.0 / shape(x)[0])
        out = fnp.sum(special.xlogy(column - 1.0, safe_x), axis=0) - log_norm
        return _squeezed(fnp.where(inside & positive, out, np.nan))

    def pdf(self, x: Any, alpha: Any) -> Any:
        """The density: ``exp(logpdf)``.

        >>> import numpy as np
        >>> from funcgrad.scipy import stats
        >>> float(stats.dirichlet.pdf(np.array([0.2, 0.8]), np.ones(2)))  # uniform on the simplex
        1.0
        """
        if not is_traced(x, alpha):
            return scipy.stats.dirichlet.pdf(x, alpha)
        return fnp.exp(self.logpdf(x, alpha))

    def _standardized(self, x: Any, alpha: Any) -> tuple[Any, Any]:
        alpha, x = _operand(alpha), _operand(x)
        if ndim(alpha) != 1:
            raise _errors.dirichlet_alpha(shape(alpha))
        size = shape(alpha)[0]
        if ndim(x) == 0 or shape(x)[0] not in (size, size - 1):
            raise _errors.dirichlet_x(size, shape(x))
        if shape(x)[0] == size - 1:
            x = fnp.concatenate([x, 1.0 - fnp.sum(x, axis=0, keepdims=True)], axis=0)
        return x, alpha
