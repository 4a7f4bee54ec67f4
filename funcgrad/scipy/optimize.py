"""``funcgrad.scipy.optimize``: SciPy's optimisers with funcgrad's exact derivatives filled in.

``minimize``, ``least_squares``, ``root`` and ``curve_fit`` take SciPy's
arguments and return SciPy's results; what differs is that every derivative
the chosen method can use and that you leave out is computed by funcgrad:

* ``minimize``: the gradient, with the value in the same pass
  (``fun=value_and_grad``, ``jac=True``); ``hessp`` (a Hessian-vector product,
  :func:`funcgrad.hvp`) for Newton-CG, trust-ncg, trust-krylov and
  trust-constr, the dense ``hess`` for dogleg and trust-exact; the Jacobian
  of every nonlinear constraint for SLSQP and trust-constr, and for
  trust-constr its Hessian too.
* ``least_squares`` and ``root`` (hybr, lm): the Jacobian of the residuals,
  by ``jacfwd`` when there are at least as many residuals as parameters and by
  ``jacrev`` otherwise (the residual function is called once at ``x0`` to
  count them).
* ``curve_fit``: the Jacobian of the model with respect to its parameters.

A derivative you pass yourself (a callable, ``jac=True``, a finite-difference
string such as ``'2-point'``, a ``HessianUpdateStrategy``) is used as given.
A ``jac`` of your own for ``minimize`` means the Hessian is yours too (SciPy's
approximation when you give none).  The exceptions: a ``NonlinearConstraint``'s
``jac`` defaults to ``'2-point'`` and its ``hess`` to ``BFGS()`` in SciPy, so
a string there and a plain ``BFGS`` cannot be told from the defaults and are
replaced by funcgrad's Jacobian and Hessian (call SciPy directly to keep
them); ``least_squares``' ``jac`` defaults to ``None`` here (SciPy's is
``'2-point'``), and a string given is kept.

**Parameters as pytrees.**  ``x0`` may be any pytree of arrays and numbers
(a dict of weights, a tuple of a matrix and a vector).  It is flattened with
:func:`funcgrad.tree.ravel_pytree` into the float64 vector SciPy works on, and
your functions receive the pytree back: ``fun(x, *args)`` with ``x`` shaped
like ``x0``.  ``res.x`` is that pytree (each leaf a float64 array of its
leaf's shape, a number as a 0-d array); everything else in the result is
SciPy's, on the flat vector in ``ravel_pytree``'s order (``res.jac``,
``res.hess_inv``, ``active_mask``), as are ``bounds``, ``LinearConstraint``
matrices and ``x_scale``.  A user-supplied derivative receives the pytree and
returns the flat derivative (a gradient may also be a pytree like ``x0``).
Callbacks receive the pytree.

**jit.**  ``jit=True`` wraps the derivative functions in :func:`funcgrad.jit`,
so the first iteration records them and every later one replays the
recording (``args`` are passed as traced arguments).  With or without it,
the result is bit for bit what SciPy returns when handed the same
derivative callables.

>>> import numpy as np, funcgrad.numpy as fnp
>>> from funcgrad.scipy import optimize
>>> rosen = lambda x: fnp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
>>> res = optimize.minimize(rosen, np.zeros(4), method="trust-ncg")
>>> bool(res.success), np.round(res.x, 6)
(True, array([1., 1., 1., 1.]))

Raises what SciPy raises, and ``TypeError`` for complex parameters (SciPy's
optimisers are real).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.optimize as so

from funcgrad import _errors
from funcgrad._api import hessian, jacfwd, jacrev, value_and_grad
from funcgrad._hvp import hvp
from funcgrad._jit import jit as _jit
from funcgrad._sparse_api import sparse_jacobian
from funcgrad.tree import ravel_pytree, tree_leaves, tree_map

__all__ = ["minimize", "least_squares", "root", "curve_fit"]

Function = Callable[..., Any]

#: methods of ``minimize`` that use a gradient, a Hessian-vector product, a dense Hessian (SciPy's documentation)
_USES_GRADIENT = frozenset(
    ["cg", "bfgs", "newton-cg", "l-bfgs-b", "tnc", "slsqp", "dogleg", "trust-ncg", "trust-krylov", "trust-exact"]
    + ["trust-constr", "_custom"]
)
_USES_HESSP = frozenset(["newton-cg", "trust-ncg", "trust-krylov", "trust-constr"])
_USES_HESS = frozenset(["dogleg", "trust-exact"])
#: methods that use the Jacobians of nonlinear constraints
_USES_CONSTRAINT_JACOBIANS = frozenset(["slsqp", "trust-constr"])
#: ``root`` methods that use a Jacobian
_ROOT_USES_JACOBIAN = frozenset(["hybr", "lm"])


def _maybe_jit(fun: Function, use_jit: bool) -> Function:
    return _jit(fun) if use_jit else fun


def _flatten_parameters(x0: Any, who: str) -> tuple[np.ndarray[Any, Any], Function]:
    """``x0`` as SciPy's float64 vector, and the function giving the pytree back from such a vector."""
    for leaf in tree_leaves(x0):
        if np.iscomplexobj(leaf):
            raise _errors.solver_complex_parameters(who, np.asarray(leaf).dtype)
    flat, unravel = ravel_pytree(tree_map(lambda leaf: np.asarray(leaf, dtype=np.float64), x0))
    return np.asarray(flat, dtype=np.float64), unravel


def _flat_vector(value: Any) -> Any:
    """A pytree (a gradient, residuals; an array of any shape) as the flat vector SciPy wants."""
    if isinstance(value, np.ndarray) and value.ndim == 1:
        return value
    return ravel_pytree(value)[0]


def _jacobian(fun: Function, outputs: int, inputs: int) -> Function:
    """The Jacobian of ``fun(z, *args)`` in ``z``: reverse mode for fewer outputs than inputs, forward otherwise."""
    return jacrev(fun) if outputs < inputs else jacfwd(fun)


def _method_name(method: Any, bounds: Any, constraints: Any) -> str:
    """The method SciPy's ``minimize`` will run (its own default choice when ``method`` is ``None``)."""
    if method is None:
        return "slsqp" if constraints else "l-bfgs-b" if bounds is not None else "bfgs"
    return "_custom" if callable(method) else str(method).lower()


def _wrap_callback(callback: Function | None, unravel: Function) -> Function | None:
    """A callback that hands the user the pytree (SciPy calls it with the flat vector or a result)."""
    if callback is None:
        return None
    if set(inspect.signature(callback).parameters) == {"intermediate_result"}:

        def with_result(intermediate_result: so.OptimizeResult) -> Any:
            shown = so.OptimizeResult(intermediate_result)
            shown["x"] = unravel(intermediate_result.x)
            return callback(intermediate_result=shown)

        return with_result
    return lambda xk, *rest: callback(unravel(xk), *rest)


def _objective(fun: Function, unravel: Function) -> Function:
    return lambda z, *args: fun(unravel(z), *args)


def _user_gradient(fun: Function, jac: Any, unravel: Function) -> tuple[Function, Any]:
    """The user's ``fun`` and ``jac`` on the flat vector (the gradient flattened if it is a pytree)."""
    if jac is True:

        def value_and_flat_gradient(z: Any, *args: Any) -> tuple[Any, Any]:
            value, gradient = fun(unravel(z), *args)
            return value, _flat_vector(gradient)

        return value_and_flat_gradient, True
    if callable(jac):
        return _objective(fun, unravel), lambda z, *args: _flat_vector(jac(unravel(z), *args))
    return _objective(fun, unravel), jac


def _hessian_product(flat_fun: Function, use_jit: bool) -> Function:
    return _maybe_jit(lambda z, p, *args: hvp(lambda w: flat_fun(w, *args), (z,), (p,))[1], use_jit)


def _constraint_function(fun: Function, unravel: Function) -> Function:
    return lambda z, *args: _flat_vector(fun(unravel(z), *args))


def _constraint_jacobian(
    flat_fun: Function, z0: np.ndarray[Any, Any], args: tuple[Any, ...], use_jit: bool
) -> Function:
    rows = int(np.size(flat_fun(z0, *args)))
    return _maybe_jit(_jacobian(flat_fun, rows, z0.size), use_jit)


def _constraint_hessian(flat_fun: Function, use_jit: bool) -> Function:
    """``hess(x, v)`` of a ``NonlinearConstraint``: the Hessian of ``v @ c(x)``."""
    weighted = _maybe_jit(hessian(lambda z, v: np.dot(flat_fun(z), v)), use_jit)
    return lambda z, v: weighted(z, np.asarray(v, dtype=np.float64))


def _one_constraint(constraint: Any, unravel: Function, z0: np.ndarray[Any, Any], method: str, use_jit: bool) -> Any:
    """One constraint on the flat vector, with the Jacobian (and for trust-constr the Hessian) filled in."""
    derivatives = method in _USES_CONSTRAINT_JACOBIANS
    if isinstance(constraint, so.NonlinearConstraint):
        flat_fun = _constraint_function(constraint.fun, unravel)
        nonlinear_jac, hess = constraint.jac, constraint.hess
        # SciPy's defaults are jac='2-point' and hess=BFGS() (a string and a fresh BFGS cannot be told from them)
        if isinstance(nonlinear_jac, str) and derivatives:
            nonlinear_jac = _constraint_jacobian(flat_fun, z0, (), use_jit)
            if type(hess) is so.BFGS:
                hess = _constraint_hessian(flat_fun, use_jit)
        elif callable(nonlinear_jac):
            nonlinear_jac = lambda z, user=nonlinear_jac: user(unravel(z))  # noqa: E731
        if callable(hess) and not isinstance(hess, so.HessianUpdateStrategy) and hess is constraint.hess:
            hess = lambda z, v, user=hess: user(unravel(z), v)  # noqa: E731
        return so.NonlinearConstraint(
            flat_fun,
            constraint.lb,
            constraint.ub,
            jac=nonlinear_jac,
            hess=hess,
            keep_feasible=constraint.keep_feasible,
            finite_diff_rel_step=constraint.finite_diff_rel_step,
            finite_diff_jac_sparsity=constraint.finite_diff_jac_sparsity,
        )
    if not isinstance(constraint, dict):
        return constraint  # a LinearConstraint acts on the flat vector as it is
    args = tuple(constraint.get("args", ()))
    flat_fun = _constraint_function(constraint["fun"], unravel)
    user_jac = constraint.get("jac")
    jac: Any = None
    if user_jac is not None:
        jac = lambda z, *a: user_jac(unravel(z), *a)  # noqa: E731
    elif derivatives:
        jac = _constraint_jacobian(flat_fun, z0, args, use_jit)
    if method == "trust-constr":
        # trust-constr turns a dict into a NonlinearConstraint without a Hessian; built here with one
        kind = str(constraint.get("type", "")).lower()
        upper = 0.0 if kind == "eq" else np.inf
        hess = _constraint_hessian(lambda z: flat_fun(z, *args), use_jit) if user_jac is None else None
        return so.NonlinearConstraint(lambda z: flat_fun(z, *args), 0.0, upper, jac=lambda z: jac(z, *args), hess=hess)
    out = dict(constraint, fun=flat_fun)
    if jac is not None:
        out["jac"] = jac
    return out


def _flat_constraints(constraints: Any, unravel: Function, z0: np.ndarray[Any, Any], method: str, use_jit: bool) -> Any:
    if isinstance(constraints, (dict, so.NonlinearConstraint, so.LinearConstraint)):
        return _one_constraint(constraints, unravel, z0, method, use_jit)
    return [_one_constraint(c, unravel, z0, method, use_jit) for c in constraints]


def _unflattened(result: so.OptimizeResult, unravel: Function) -> so.OptimizeResult:
    result["x"] = unravel(np.asarray(result.x, dtype=np.float64))
    return result


def minimize(
    fun: Function,
    x0: Any,
    args: tuple[Any, ...] = (),
    method: str | Function | None = None,
    jac: Any = None,
    hess: Any = None,
    hessp: Any = None,
    bounds: Any = None,
    constraints: Any = (),
    tol: float | None = None,
    callback: Function | None = None,
    options: dict[str, Any] | None = None,
    *,
    jit: bool = False,
) -> so.OptimizeResult:
    """``scipy.optimize.minimize`` with the gradient, Hessian (or Hessian-vector product) and constraint
    Jacobians the method can use computed by funcgrad.

    ``fun(x, *args)`` returns a real scalar; ``x`` has ``x0``'s pytree
    structure.  With ``jac=None`` (the default) and a method that uses a
    gradient, SciPy gets ``value_and_grad(fun)`` with ``jac=True``: value and
    gradient in one pass.  With ``hess`` and ``hessp`` both ``None``,
    Newton-CG, trust-ncg, trust-krylov and trust-constr get ``hessp``
    (:func:`funcgrad.hvp`, one forward-over-reverse pass per product) and
    dogleg and trust-exact the dense ``hess`` (:func:`funcgrad.hessian`);
    a ``jac`` of your own (a callable, ``True``, a finite-difference string)
    gets no Hessian from funcgrad (SciPy's own approximation, as without
    funcgrad): derivatives are yours or funcgrad's, not a mix.  Constraints
    (dicts or ``NonlinearConstraint``) get their Jacobians for SLSQP and
    trust-constr, and for trust-constr their Hessians; ``bounds`` and
    ``LinearConstraint`` act on the flat vector.  ``jit=True`` records the
    derivative functions once and replays them.  ``res.x`` has ``x0``'s
    structure (see the module's docstring); the rest is SciPy's
    ``OptimizeResult`` unchanged.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> data = np.array([1.0, 2.0, 4.0])
    >>> loss = lambda p: fnp.sum((p["scale"] * data + p["shift"] - 2 * data - 1) ** 2)
    >>> res = minimize(loss, {"scale": 0.0, "shift": 0.0}, method="Newton-CG")
    >>> {k: round(float(v), 6) for k, v in res.x.items()}
    {'scale': 2.0, 'shift': 1.0}

    Raises ``TypeError`` for complex parameters; otherwise what SciPy raises.
    """
    z0, unravel = _flatten_parameters(x0, "minimize")
    name = _method_name(method, bounds, constraints)
    user_gradient = jac is not None
    flat_fun, flat_jac = _user_gradient(fun, jac, unravel)
    if not user_gradient and name in _USES_GRADIENT:
        flat_fun, flat_jac = _maybe_jit(value_and_grad(_objective(fun, unravel)), jit), True
    if hess is None and hessp is None and not user_gradient:
        objective = _objective(fun, unravel)
        if name in _USES_HESSP:
            hessp = _hessian_product(objective, jit)
        elif name in _USES_HESS:
            hess = _maybe_jit(hessian(objective), jit)
    elif callable(hess) and not isinstance(hess, so.HessianUpdateStrategy):
        hess = lambda z, *a, user=hess: user(unravel(z), *a)  # noqa: E731
    elif callable(hessp):
        hessp = lambda z, p, *a, user=hessp: _flat_vector(user(unravel(z), unravel(p), *a))  # noqa: E731
    flat_constraints = _flat_constraints(constraints, unravel, z0, name, jit) if constraints else constraints
    result = so.minimize(
        flat_fun,
        z0,
        args=args,
        method=method,
        jac=flat_jac,
        hess=hess,
        hessp=hessp,
        bounds=bounds,
        constraints=flat_constraints,
        tol=tol,
        callback=_wrap_callback(callback, unravel),
        options=options,
    )
    return _unflattened(result, unravel)


def _residuals(fun: Function, unravel: Function) -> Function:
    return lambda z, *args, **kwargs: _flat_vector(fun(unravel(z), *args, **kwargs))


def least_squares(
    fun: Function,
    x0: Any,
    jac: Any = None,
    bounds: Any = (-np.inf, np.inf),
    method: str = "trf",
    *,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    jit: bool = False,
    **options: Any,
) -> so.OptimizeResult:
    """``scipy.optimize.least_squares`` with the Jacobian of the residuals computed by funcgrad.

    ``fun(x, *args, **kwargs)`` returns the residuals (any shape, raveled);
    ``x`` has ``x0``'s pytree structure.  With ``jac=None`` (the default here;
    SciPy's is ``'2-point'``) the Jacobian is ``jacfwd`` of the residuals
    when there are at least as many residuals as parameters, ``jacrev``
    otherwise (``fun`` is called once at ``x0`` to count them).  ``jac="sparse"``
    gives funcgrad's sparse Jacobian (``fg.sparse_jacobian``: the pattern
    detected and coloured once, a ``scipy.sparse`` matrix each call; for
    ``trf`` and ``dogbox``, see docs/sparse.md).  A callable or
    a finite-difference string is used as given.  Every other keyword
    (``ftol``, ``loss``, ``x_scale``, ``max_nfev``, ...) is SciPy's and is
    forwarded; ``bounds`` and ``x_scale`` refer to the flat vector.
    ``res.x`` has ``x0``'s structure; ``res.jac`` is the flat ``(m, n)``
    Jacobian.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> t = np.linspace(0.0, 1.0, 5)
    >>> res = least_squares(lambda p: p[0] * fnp.exp(p[1] * t) - 2.0 * np.exp(-t), np.array([1.0, 0.0]))
    >>> np.round(res.x, 6), res.jac.shape
    (array([ 2., -1.]), (5, 2))

    Raises ``TypeError`` for complex parameters; otherwise what SciPy raises.
    """
    z0, unravel = _flatten_parameters(x0, "least_squares")
    keywords = {} if kwargs is None else dict(kwargs)
    flat_fun = _residuals(fun, unravel)
    if isinstance(jac, str) and jac == "sparse":
        jac = sparse_jacobian(flat_fun, jit=jit)  # scipy.sparse CSR: SciPy's trf then solves with lsmr
    elif jac is None and options.get("jac_sparsity") is None:
        rows = int(np.size(flat_fun(z0, *args, **keywords)))
        jac = _maybe_jit(_jacobian(flat_fun, rows, z0.size), jit)
    elif jac is None:
        jac = "2-point"  # a sparsity pattern is for SciPy's finite differences
    elif callable(jac):
        jac = lambda z, *a, user=jac, **k: user(unravel(z), *a, **k)  # noqa: E731
    if options.get("callback") is not None:
        options["callback"] = _wrap_callback(options["callback"], unravel)
    result = so.least_squares(
        flat_fun, z0, jac=jac, bounds=bounds, method=method, args=args, kwargs=keywords, **options
    )
    return _unflattened(result, unravel)


def root(
    fun: Function,
    x0: Any,
    args: tuple[Any, ...] = (),
    method: str = "hybr",
    jac: Any = None,
    tol: float | None = None,
    callback: Function | None = None,
    options: dict[str, Any] | None = None,
    *,
    jit: bool = False,
) -> so.OptimizeResult:
    """``scipy.optimize.root`` with the Jacobian computed by funcgrad for the methods that use one
    (``hybr``, ``lm``).

    ``fun(x, *args)`` returns the residuals (raveled); ``x`` has ``x0``'s
    pytree structure.  With ``jac=None`` and ``hybr`` or ``lm``, SciPy gets
    the Jacobian as a separate function (``jacfwd``, or ``jacrev`` for fewer
    residuals than unknowns): MINPACK evaluates the residuals far more often
    than the Jacobian.  The quasi-Newton and Krylov methods use no Jacobian
    and get none.  ``res.x`` has ``x0``'s structure; ``res.fjac`` and the rest
    are SciPy's.

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> res = root(lambda v: fnp.stack([v[0] + 0.5 * (v[0] - v[1]) ** 3 - 1.0,
    ...                                 0.5 * (v[1] - v[0]) ** 3 + v[1]]), np.zeros(2))
    >>> bool(res.success), np.round(res.x, 6)
    (True, array([0.841164, 0.158836]))

    Raises ``TypeError`` for complex unknowns; otherwise what SciPy raises.
    """
    z0, unravel = _flatten_parameters(x0, "root")
    if jac is True:

        def flat_fun(z: Any, *a: Any) -> tuple[Any, Any]:
            value, jacobian = fun(unravel(z), *a)
            return _flat_vector(value), jacobian

    else:
        flat_fun = _residuals(fun, unravel)
    if jac is None and str(method).lower() in _ROOT_USES_JACOBIAN:
        rows = int(np.size(flat_fun(z0, *args)))
        jac = _maybe_jit(_jacobian(flat_fun, rows, z0.size), jit)
    elif callable(jac):
        jac = lambda z, *a, user=jac: user(unravel(z), *a)  # noqa: E731
    result = so.root(
        flat_fun,
        z0,
        args=args,
        method=method,
        jac=jac,
        tol=tol,
        callback=None if callback is None else lambda z, f: callback(unravel(z), f),
        options=options,
    )
    return _unflattened(result, unravel)


def _model_jacobian(f: Function, use_jit: bool) -> Function:
    """``jac(xdata, *params)`` of ``curve_fit``: one column per parameter, by the mode the shape favours."""
    cache: dict[int, Function] = {}  # by the number of parameters

    def jac(xdata: Any, *params: Any) -> Any:
        count = len(params)
        if count not in cache:
            rows = int(np.size(f(xdata, *params)))
            transform = jacrev if rows < count else jacfwd
            cache[count] = _maybe_jit(transform(f, argnums=tuple(range(1, count + 1))), use_jit)
        columns = cache[count](xdata, *params)
        return np.stack([np.reshape(column, -1) for column in columns], axis=-1)

    return jac


def curve_fit(
    f: Function,
    xdata: Any,
    ydata: Any,
    p0: Sequence[float] | np.ndarray[Any, Any] | None = None,
    sigma: Any = None,
    absolute_sigma: bool = False,
    check_finite: bool | None = None,
    bounds: Any = (-np.inf, np.inf),
    method: str | None = None,
    jac: Any = None,
    *,
    full_output: bool = False,
    nan_policy: str | None = None,
    jit: bool = False,
    **kwargs: Any,
) -> Any:
    """``scipy.optimize.curve_fit`` with the Jacobian of the model in its parameters computed by funcgrad.

    ``f(xdata, *params)`` is the model, each parameter a scalar, as in
    SciPy.  With ``jac=None`` SciPy gets ``jac(xdata, *params)``, the
    ``(len(ydata), len(params))`` matrix by ``jacfwd`` over the parameters
    (``jacrev`` when there are more parameters than data points); a callable
    or a finite-difference string is used as given.  Returns what SciPy
    returns (``popt, pcov``, and more with ``full_output``).

    >>> import numpy as np, funcgrad.numpy as fnp
    >>> t = np.array([0.5, 1.0, 2.0, 4.0, 8.0])
    >>> model = lambda t, c0, k: c0 * fnp.exp(-k * t)
    >>> popt, pcov = curve_fit(model, t, 10.0 * np.exp(-0.3 * t), p0=[1.0, 0.1])
    >>> np.round(popt, 6)
    array([10. ,  0.3])

    Raises what SciPy raises.
    """
    if jac is None:
        jac = _model_jacobian(f, jit)
    return so.curve_fit(
        f,
        xdata,
        ydata,
        p0=p0,
        sigma=sigma,
        absolute_sigma=absolute_sigma,
        check_finite=check_finite,
        bounds=bounds,
        method=method,
        jac=jac,
        full_output=full_output,
        nan_policy=nan_policy,
        **kwargs,
    )
