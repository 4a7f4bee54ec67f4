"""``funcgrad.scipy.integrate.odeint``: SciPy's ODE solver, reverse-differentiable by the adjoint method;
``solve_ivp``: SciPy's, with the Jacobian of ``fun`` filled in for the implicit methods (see its docstring).

``odeint(func, y0, t, args=())`` integrates ``dy/dt = func(y, t, *args)`` with
``scipy.integrate.odeint`` (SciPy's signature) and returns the states at the times ``t``, shape
``(len(t), len(y0))``.  Its reverse rule (as HIPS autograd's) integrates the
augmented system backwards from each observation time to the previous one:
the state, its adjoint ``a`` (``da/dt = -a^T df/dy``), and the running
cotangents of ``t`` and of every leaf of ``args`` (``-a^T df/dargs``).  The
products ``a^T df/dy`` and ``a^T df/dargs`` are funcgrad's own ``vjp`` of
``func``, so ``func`` is written with ``funcgrad.numpy`` (or plain ``numpy``)
operations.  Derivatives come out in ``y0``, ``t`` and every ``args`` leaf
(any pytree of arrays).

Limits: reverse mode, first order (``grad``, ``vjp``, ``jacrev``): the
adjoint system is integrated by SciPy on plain arrays, so it has no
derivative of its own.  Forward mode (``jvp``, ``jacfwd``, ``linearize``) and
second derivatives (``hessian``, ``grad`` of ``grad``) raise ``TypeError``
naming the fix: use ``jacrev`` for Jacobians, and for second derivatives
integrate the forward sensitivity equation yourself or difference the
gradient.  The adjoint is
solved to the same ``rtol``/``atol`` as the forward pass, so gradients are
accurate to about that tolerance.

>>> import numpy as np, funcgrad as fg
>>> t = np.array([0.0, 1.0])
>>> decay = lambda y, t, k: -k * y
>>> float(odeint(decay, np.array([1.0]), t, args=(0.5,))[1, 0])  # exp(-0.5)
0.6065...
>>> float(fg.grad(lambda k: odeint(decay, np.array([1.0]), t, (k,))[1, 0])(0.5))  # -exp(-0.5)
-0.6065...
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.integrate as si

from funcgrad import _errors
from funcgrad._api import vjp
from funcgrad._custom_vjp import custom_vjp
from funcgrad._forward import ForwardTrace
from funcgrad._trace import Tracer, full_lower
from funcgrad.scipy._ivp import solve_ivp
from funcgrad.tree import tree_flatten, tree_unflatten

__all__ = ["odeint", "solve_ivp"]


def _flat(args: tuple[Any, ...]) -> tuple[np.ndarray[Any, Any], Callable[[Any], tuple[Any, ...]]]:
    """``args``' leaves as one float vector, and the function rebuilding ``args`` from such a vector."""
    leaves, treedef = tree_flatten(args)
    arrays = [np.asarray(leaf, dtype=float) for leaf in leaves]
    sizes = np.cumsum([0] + [a.size for a in arrays])
    flat = np.concatenate([a.ravel() for a in arrays]) if arrays else np.zeros(0)

    def rebuild(vector: Any) -> tuple[Any, ...]:
        parts = [vector[sizes[i] : sizes[i + 1]].reshape(a.shape) for i, a in enumerate(arrays)]
        return tuple(tree_unflatten(treedef, parts))

    return flat, rebuild


def _solve(func: Callable[..., Any], options: tuple[tuple[str, Any], ...], y0: Any, t: Any, args: Any) -> Any:
    return si.odeint(func, y0, t, args=tuple(args), tfirst=False, **dict(options))



@functools.partial(custom_vjp, nondiff_argnums=(0, 1))
def _odeint(func: Callable[..., Any], options: tuple[tuple[str, Any], ...], y0: Any, t: Any, args: Any) -> Any:
    return _solve(func, options, y0, t, args)


def _forward(func: Callable[..., Any], options: tuple[tuple[str, Any], ...], y0: Any, t: Any, args: Any) -> Any:
    _first_order_only((y0, t, args))
    states = _solve(func, options, y0, t, args)
    return states, (states, np.asarray(t, dtype=float), args)


def _first_order_only(values: Any) -> None:
    """Raise when the forward or backward pass meets values still traced by an outer transform."""
    if any(isinstance(leaf, Tracer) for leaf in tree_flatten(values)[0]):
        raise _errors.odeint_first_order("twice (hessian, grad of grad): its adjoint is solved by SciPy, with no derivative")


def _backward(func: Callable[..., Any], options: tuple[tuple[str, Any], ...], residuals: Any, g: Any) -> Any:
    _first_order_only((residuals, g))
    states, t, args = residuals
    g = np.asarray(g)
    size = states.shape[1]
    flat_args, rebuild = _flat(args)

    def flat_func(y: Any, time: Any, params: Any) -> Any:
        return func(y, time, *rebuild(params))

    def augmented(state: np.ndarray[Any, Any], time: float, params: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        y, adjoint = state[:size], state[size : 2 * size]
        slope, pullback = vjp(flat_func, y, np.asarray(time), params)
        dy, dtime, dparams = pullback(-adjoint)
        return np.concatenate([np.asarray(slope, float).ravel(), np.ravel(dy), np.ravel(dtime), np.ravel(dparams)])

    adjoint = g[-1].astype(float)
    t0_cotangent = 0.0
    params_cotangent = np.zeros_like(flat_args)
    time_cotangents = np.zeros(len(t))
    for i in range(len(t) - 1, 0, -1):
        # moving observation time t[i] moves the state there by f(y(t[i]), t[i])
        here = float(np.dot(np.asarray(func(states[i], t[i], *args), float), g[i]))
        time_cotangents[i] = here
        t0_cotangent -= here
        start = np.concatenate([states[i], adjoint, [t0_cotangent], params_cotangent])
        end = si.odeint(augmented, start, np.array([t[i], t[i - 1]]), args=(flat_args,), **dict(options))[1]
        adjoint = end[size : 2 * size] + g[i - 1]
        t0_cotangent = end[2 * size]
        params_cotangent = end[2 * size + 1 :]
    time_cotangents[0] = t0_cotangent
    return adjoint, time_cotangents, rebuild(params_cotangent)


_odeint.defvjp(_forward, _backward)
_odeint.per_example = True  # _backward runs SciPy on the cotangent's values


def odeint(
    func: Callable[..., Any],
    y0: Any,
    t: Any,
    args: tuple[Any, ...] = (),
    Dfun: Callable[..., Any] | None = None,  # noqa: N803  SciPy's name
    col_deriv: int = 0,
    full_output: int = 0,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    tfirst: bool = False,
    **options: Any,
) -> Any:
    """``scipy.integrate.odeint(func, y0, t, args=())``: states at times ``t``, shape ``(len(t), len(y0))``.

    SciPy's signature: ``func(y, t, *args)`` gives ``dy/dt`` (``func(t, y,
    *args)`` with ``tfirst=True``); ``args`` is a tuple, whose entries may be
    any pytrees of arrays.  Other SciPy options (``mxstep``, ``hmax``, ...)
    are passed on; ``full_output`` is not supported on traced input.
    Differentiable in reverse mode in ``y0``, ``t`` and every ``args`` leaf
    (the adjoint method, see the module notes).  Raises ``TypeError`` when
    ``args`` is not a tuple (as SciPy), under forward mode or when
    differentiated twice (the message names the fix: first-order reverse
    mode), and ``ValueError`` for a ``y0`` or ``t`` that is not
    one-dimensional.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> oscillator = lambda y, t, w: fnp.array([y[1], -w**2 * y[0]])
    >>> times = np.array([0.0, np.pi / 2])
    >>> position = lambda w: odeint(oscillator, np.array([1.0, 0.0]), times, (w,), rtol=1e-10, atol=1e-10)[1, 0]
    >>> round(float(fg.grad(position)(1.0)), 5)  # d/dw cos(w pi/2) at w = 1
    -1.5708
    """
    if not isinstance(args, tuple):
        raise _errors.odeint_args(args)
    options.update(
        (name, value)
        for name, value in (("rtol", rtol), ("atol", atol), ("Dfun", Dfun), ("col_deriv", col_deriv))
        if value
    )
    tracers = [leaf for leaf in tree_flatten((y0, t, args))[0] if isinstance(leaf, Tracer)]
    if not tracers:
        return si.odeint(func, y0, t, args=args, full_output=full_output, tfirst=tfirst, **options)
    if isinstance(max((leaf._trace for leaf in tracers), key=lambda trace: trace.level), ForwardTrace):
        raise _errors.odeint_first_order("in forward mode (jvp, jacfwd, linearize): it has a reverse-mode (adjoint) rule only")
    if full_output:
        raise _errors.odeint_full_output()
    if np.ndim(_lowered(y0)) != 1 or np.ndim(_lowered(t)) != 1:
        raise _errors.odeint_rank(np.shape(_lowered(y0)), np.shape(_lowered(t)))
    if tfirst:
        func = _state_first(func)
    return _odeint(func, tuple(sorted(options.items())), y0, t, args)


def _state_first(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func(t, y, *args)`` as ``func(y, t, *args)``: the adjoint is written for SciPy's default order."""
    return lambda y, t, *args: func(t, y, *args)


def _lowered(value: Any) -> Any:
    return full_lower(value)
