"""``solve_ivp``: SciPy's initial-value solver with the Jacobian of ``fun`` filled in for the implicit methods.

>>> import numpy as np
>>> decay = lambda t, y, k: -k * y
>>> sol = solve_ivp(decay, (0.0, 1.0), np.array([1.0]), method="BDF", args=(0.5,), rtol=1e-8, atol=1e-10)
>>> round(float(sol.y[0, -1]), 6), sol.njev > 0
(0.606531, True)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.integrate as si

from funcgrad._api import jacfwd
from funcgrad._jit import jit as _jit
from funcgrad._sparse_api import sparse_jacobian

__all__ = ["solve_ivp"]

#: the methods that solve a linear system with the Jacobian of ``fun`` at each step
IMPLICIT = ("BDF", "Radau", "LSODA")


def _implicit(method: Any) -> bool:
    if inspect.isclass(method):
        return issubclass(method, (si.BDF, si.Radau, si.LSODA))
    return method in IMPLICIT


def _dense_jacobian(fun: Callable[..., Any], use_jit: bool) -> Callable[..., Any]:
    """``jac(t, y, *args)``: the dense ``(n, n)`` Jacobian of ``fun`` in ``y``, all columns in one forward pass."""
    jacobian = jacfwd(fun, argnums=1)
    return _jit(jacobian) if use_jit else jacobian


def _jacobian_for(fun: Callable[..., Any], y0: Any, options: dict[str, Any], use_jit: bool) -> Any:
    """The ``jac`` option funcgrad hands SciPy, or ``None`` to leave SciPy's own choice.

    The one place that picks how the Jacobian is computed: dense forward mode,
    or with ``jac="sparse"`` the sparse Jacobian (SciPy's BDF and Radau take
    ``scipy.sparse`` matrices; LSODA wants a dense array, so it gets one).
    """
    if isinstance(options.get("jac"), str) and options["jac"] == "sparse":
        sparse = sparse_jacobian(fun, argnums=1, jit=use_jit)  # scipy.sparse CSR: BDF and Radau factor it sparsely
        if options.get("method_is_lsoda"):
            return lambda t, y, *args: sparse(t, y, *args).toarray()
        return lambda t, y, *args: sparse(t, y, *args)
    if options.get("jac") is not None or options.get("jac_sparsity") is not None:
        return None  # the user's Jacobian, or SciPy's finite differences over their sparsity pattern
    if np.iscomplexobj(y0):
        return None  # a complex state: fun need not be holomorphic, so SciPy's finite differences are kept
    return _dense_jacobian(fun, use_jit)


def solve_ivp(
    fun: Callable[..., Any],
    t_span: Sequence[float],
    y0: Any,
    method: str | type = "RK45",
    t_eval: Any = None,
    dense_output: bool = False,
    events: Any = None,
    vectorized: bool = False,
    args: tuple[Any, ...] | None = None,
    *,
    jit: bool = False,
    **options: Any,
) -> Any:
    """``scipy.integrate.solve_ivp``; for the implicit methods (BDF, Radau, LSODA) the Jacobian of ``fun`` is
    funcgrad's.

    ``fun(t, y, *args)`` is written with NumPy or funcgrad.numpy operations.
    With an implicit method and no ``jac`` (nor ``jac_sparsity``) in
    ``options``, SciPy gets ``jac(t, y, *args)``: the dense ``(n, n)``
    Jacobian of ``fun`` in ``y`` by ``jacfwd`` (one forward pass carrying all
    ``n`` columns) instead of ``n`` finite-difference evaluations of
    ``fun``.  A ``jac`` you pass (callable, matrix) or a ``jac_sparsity``
    pattern is used as given; ``jac="sparse"`` gives funcgrad's sparse
    Jacobian (``fg.sparse_jacobian``, a ``scipy.sparse`` matrix for BDF and
    Radau; see docs/sparse.md); the explicit methods (RK45, RK23, DOP853) use
    no Jacobian and get none; a complex ``y0`` keeps SciPy's finite
    differences.  ``jit=True`` records the Jacobian once and replays it.
    Everything else is forwarded to SciPy, and the result is SciPy's.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> def robertson(t, y):
    ...     return fnp.stack([-0.04 * y[0] + 1e4 * y[1] * y[2],
    ...                       0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2,
    ...                       3e7 * y[1] ** 2])
    >>> sol = solve_ivp(robertson, (0.0, 1e3), np.array([1.0, 0.0, 0.0]), method="Radau", rtol=1e-6, atol=1e-10)
    >>> bool(sol.success), round(float(sol.y[:, -1].sum()), 8)
    (True, 1.0)

    Raises what SciPy raises, and what ``jacfwd`` raises when ``fun`` cannot be
    differentiated.
    """
    if _implicit(method):
        lsoda = method == "LSODA" or inspect.isclass(method) and issubclass(method, si.LSODA)
        jac = _jacobian_for(fun, y0, {**options, "method_is_lsoda": lsoda}, jit)
        if jac is not None:
            options["jac"] = jac
    elif isinstance(options.get("jac"), str) and options["jac"] == "sparse":
        del options["jac"]  # the explicit methods use no Jacobian
    return si.solve_ivp(
        fun,
        t_span,
        y0,
        method=method,
        t_eval=t_eval,
        dense_output=dense_output,
        events=events,
        vectorized=vectorized,
        args=args,
        **options,
    )
