"""``funcgrad.extend``: make your own primitives, with the mechanism the built-in ones use.

A *primitive* is a function funcgrad does not look inside: transforms see
one operation and apply the rules you declare for it.  Use it to wrap an
outside routine (a SciPy special function, compiled code) that funcgrad
cannot trace.  Positional arguments may be traced arrays; keyword arguments
are static parameters.  Rules are data, one per positional argument:

* ``defvjp(p, rule_0, rule_1, ...)``: ``rule_i(g, ans, *args, **params)`` is the
  cotangent of argument ``i`` given the output cotangent ``g``; it must have
  argument ``i``'s shape and dtype (:func:`unbroadcast` does both);
* ``defjvp(p, rule_0, ..., batched=False)``: ``rule_i(t, ans, *args, **params)``
  is the output tangent caused by the tangent ``t`` of argument ``i``.

``None`` in place of a rule means a zero derivative.  Write rules with
``funcgrad.numpy`` operations (not raw NumPy on possibly traced values) so
they can be differentiated again.  Complex numbers follow JAX: the reverse
rule is the transpose of the forward rule, without conjugation.

>>> import numpy as np
>>> import funcgrad as fg, funcgrad.numpy as fnp
>>> from funcgrad import extend
>>> softplus = extend.primitive(lambda x: np.logaddexp(0.0, x), name="softplus")
>>> sigmoid = lambda x: 1.0 / (1.0 + fnp.exp(-x))
>>> extend.defvjp(softplus, lambda g, ans, x: g * sigmoid(x))
>>> extend.defjvp(softplus, lambda t, ans, x: t * sigmoid(x), batched=True)
>>> fg.grad(softplus)(0.0), fg.grad(fg.grad(softplus))(0.0)
(np.float64(0.5), np.float64(0.25))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from funcgrad import _errors, _rules, _sparsity
from funcgrad._prims._base import broadcast_tangent, lift, match_dtype, unbroadcast
from funcgrad._trace import Primitive, Tracer, full_lower
from funcgrad._values import batch_ndim

__all__ = [
    "Primitive",
    "Tracer",
    "primitive",
    "defvjp",
    "defjvp",
    "defvjp_variadic",
    "defjvp_variadic",
    "def_nondiff",
    "def_multilinear",
    "defsparsity",
    "full_lower",
    "unbroadcast",
    "match_dtype",
    "lift",
    "broadcast_tangent",
    "batch_ndim",
    "is_traced",
]

Rule = Callable[..., Any]


def primitive(fun: Callable[..., Any], name: str | None = None) -> Primitive:
    """Turn ``fun`` into a primitive: called on plain values it is ``fun``; on traced
    values transforms record one operation and use its declared rules.

    >>> import numpy as np
    >>> from funcgrad import extend
    >>> cube = extend.primitive(lambda x: x ** 3, name="cube")
    >>> cube(2.0)
    8.0
    >>> cube
    <funcgrad primitive cube>

    Until rules are declared, differentiating it raises ``TypeError``.  Your
    primitives are not added to funcgrad's catalogue of built-in ones
    (``funcgrad._rules.REGISTRY``, the source of docs/coverage.md), so a name
    may repeat a built-in one without replacing it.
    """
    if not callable(fun):
        raise _errors.expected_a_function("extend.primitive", fun)
    return Primitive(str(name or getattr(fun, "__name__", "primitive")), fun)


def defvjp(prim: Primitive, *rules: Rule | None) -> None:
    """Declare reverse-mode rules, one per positional argument: ``rule(g, ans, *args, **params)``.

    >>> import numpy as np
    >>> import funcgrad as fg
    >>> from funcgrad import extend
    >>> mul = extend.primitive(np.multiply)
    >>> extend.defvjp(mul, lambda g, ans, x, y: extend.unbroadcast(g * y, x),
    ...                    lambda g, ans, x, y: extend.unbroadcast(g * x, y))
    >>> extend.def_multilinear(mul, 2)  # and the forward rules
    >>> fg.grad(lambda x: mul(x, np.array([1.0, 2.0])).sum())(3.0)
    np.float64(3.0)
    """
    _check(prim, "defvjp")
    _rules.defvjp(prim, *rules)


def defjvp(prim: Primitive, *rules: Rule | None, batched: bool = False) -> None:
    """Declare forward-mode rules, one per positional argument: ``rule(t, ans, *args, **params)``.

    ``batched=True`` promises every rule accepts a tangent with extra leading
    (batch) axes and returns ``batch + ans.shape``; ``jacfwd`` and ``hessian``
    then push all columns at once.  Elementwise rules like ``t * f'(x)`` are
    batch-safe when ``x`` has the output's shape (use :func:`lift` otherwise).

    >>> import numpy as np
    >>> import funcgrad as fg
    >>> from funcgrad import extend
    >>> cube = extend.primitive(lambda x: x ** 3, name="cube")
    >>> extend.defjvp(cube, lambda t, ans, x: 3 * x ** 2 * t, batched=True)
    >>> extend.defvjp(cube, lambda g, ans, x: 3 * x ** 2 * g)
    >>> fg.jacfwd(cube)(np.array([1.0, 2.0]))
    array([[ 3.,  0.],
           [ 0., 12.]])
    """
    _check(prim, "defjvp")
    _rules.defjvp(prim, *rules, batched=batched)


def defvjp_variadic(prim: Primitive, make: Callable[[int], Rule]) -> None:
    """Reverse rules for a primitive taking any number of arrays: ``make(i)`` is argument ``i``'s rule.

    >>> import numpy as np
    >>> import funcgrad as fg
    >>> from funcgrad import extend
    >>> total = extend.primitive(lambda *xs: sum(xs), name="total")
    >>> extend.defvjp_variadic(total, lambda i: lambda g, ans, *xs: g)
    >>> extend.defjvp_variadic(total, lambda i: lambda t, ans, *xs: t)
    >>> fg.grad(lambda x: total(x, 2 * x, 3 * x))(1.0)
    np.float64(6.0)
    """
    _check(prim, "defvjp_variadic")
    _rules.defvjp_variadic(prim, make)


def defjvp_variadic(prim: Primitive, make: Callable[[int], Rule], batched: bool = False) -> None:
    """Forward rules for a primitive taking any number of arrays: ``make(i)`` is argument ``i``'s rule.

    >>> import funcgrad as fg
    >>> from funcgrad import extend
    >>> total = extend.primitive(lambda *xs: sum(xs), name="total")
    >>> extend.defjvp_variadic(total, lambda i: lambda t, ans, *xs: t, batched=True)
    >>> fg.jvp(lambda x: total(x, 2 * x), (1.0,), (1.0,))
    (np.float64(3.0), np.float64(3.0))
    """
    _check(prim, "defjvp_variadic")
    _rules.defjvp_variadic(prim, make, batched)


def def_nondiff(prim: Primitive, nargs: int = 1) -> None:
    """Declare a zero derivative in every argument and mode (rounding, sign, integer results).

    >>> import numpy as np
    >>> import funcgrad as fg
    >>> from funcgrad import extend
    >>> rounded = extend.primitive(np.round)
    >>> extend.def_nondiff(rounded)
    >>> fg.grad(lambda x: rounded(x) + x)(2.4)
    np.float64(1.0)
    """
    _check(prim, "def_nondiff")
    _rules.def_nondiff(prim, nargs)


def def_multilinear(prim: Primitive, nargs: int, batched: bool = False) -> None:
    """Forward rules for a function linear in each argument separately (a product,
    ``matmul``, ``einsum``): the tangent takes its argument's place.  Reverse
    rules still need :func:`defvjp`.

    >>> import numpy as np
    >>> import funcgrad as fg
    >>> from funcgrad import extend
    >>> outer = extend.primitive(np.multiply.outer, name="outer")
    >>> extend.def_multilinear(outer, 2)
    >>> extend.defvjp(outer, lambda g, ans, a, b: g @ b, lambda g, ans, a, b: a @ g)
    >>> fg.jvp(lambda a: outer(a, np.array([1.0, 2.0])), (np.ones(1),), (np.ones(1),))[1]
    array([[1., 2.]])
    """
    _check(prim, "def_multilinear")
    _rules.def_multilinear(prim, nargs, batched)


def defsparsity(prim: Primitive, kind: str, second: Any = "nonlinear") -> None:
    """Declare how ``prim``'s output elements depend on its input elements, for sparse Jacobians and Hessians.

    ``kind`` is ``"elementwise"`` (NumPy broadcasting), ``"moves"`` (each
    output element a copy of at most one input element), ``"reduce"`` (an
    ``axis`` parameter), ``"scan"``, ``"contract"`` (an einsum ``subscripts``
    parameter), ``"scatter"`` or ``"dense"``; ``second`` is ``"linear"``,
    ``"bilinear"``, ``"nonlinear"`` or the ``(i, j)`` argument pairs whose
    second derivative can be nonzero.  Without a declaration a primitive is
    dense in its inputs (see docs/sparse.md).

    >>> import numpy as np
    >>> import funcgrad as fg
    >>> from funcgrad import extend
    >>> cube = extend.primitive(lambda x: x ** 3, name="cube")
    >>> extend.defjvp(cube, lambda t, ans, x: t * 3.0 * x ** 2, batched=True)
    >>> fg.jacobian_sparsity(cube)(np.ones(3)).nnz  # undeclared: dense
    9
    >>> extend.defsparsity(cube, "elementwise")
    >>> fg.jacobian_sparsity(cube)(np.ones(3)).nnz
    3
    """
    _check(prim, "defsparsity")
    _sparsity.defsparsity(prim, kind, second)


def is_traced(value: Any) -> bool:
    """Whether ``value`` is being traced by some transform (inside a rule or a wrapper).

    >>> import funcgrad as fg
    >>> from funcgrad import extend
    >>> extend.is_traced(1.0)
    False
    >>> fg.grad(lambda x: float(extend.is_traced(x)) * x)(1.0)
    np.float64(1.0)
    """
    return isinstance(value, Tracer)


def _check(prim: Any, what: str) -> None:
    if not isinstance(prim, Primitive):
        raise _errors.extend_not_a_primitive(what, prim)
