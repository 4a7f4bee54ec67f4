"""``hvp``: Hessian-vector products, forward over reverse, one pass per vector.

>>> import funcgrad as fg, numpy as np
>>> f = lambda x: np.sum(x ** 3)
>>> fg.hvp(f, (np.array([1.0, 2.0]),), (np.array([1.0, 0.0]),))
(array([ 3., 12.]), array([6., 0.]))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from funcgrad import _errors
from funcgrad._api import _check_callable, grad, jvp

__all__ = ["hvp"]

Argnums = int | tuple[int, ...]


def hvp(
    fun: Callable[..., Any],
    primals: Sequence[Any],
    tangents: Sequence[Any],
    *,
    argnums: Argnums = 0,
    has_aux: bool = False,
) -> Any:
    """``(gradient, H @ v)`` of a real scalar function at ``primals``, in one forward-over-reverse pass.

    ``primals`` and ``tangents`` are tuples with one entry per argument of
    ``fun`` (each any pytree), as for :func:`funcgrad.jvp`.  The gradient is
    with respect to the argument(s) ``argnums`` (``grad``'s convention); the
    second result is the derivative of that gradient along ``tangents``:
    ``H @ v`` for one argument, and with ``argnums=(0, 1, ...)`` the product
    of the full Hessian with the tangents of every argument.  It costs one
    pass: the gradient's computation is recorded once with tangents
    attached (``jvp`` of ``grad``), never the dense Hessian.  Several vectors
    at once: ``fg.vmap(lambda v: fg.hvp(f, (x,), (v,))[1])(V)``.  With
    ``has_aux`` it returns ``(gradient, H @ v, aux)``.

    >>> import funcgrad as fg, numpy as np
    >>> x = np.array([1.0, 2.0])
    >>> rosen = lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
    >>> g, Hv = fg.hvp(rosen, (x,), (np.array([1.0, 1.0]),))
    >>> bool(np.allclose(Hv, fg.hessian(rosen)(x) @ np.ones(2)))
    True

    Raises what ``grad`` raises (a non-scalar or complex output, an integer
    argument) and what ``jvp`` raises (tangents that do not match the primals
    in structure, shape or dtype).
    """
    _check_callable(fun, "hvp")
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise _errors.not_argument_tuples("hvp", primals, tangents)
    # grad with has_aux returns (gradient, aux): exactly the (output, aux) pair jvp's has_aux takes apart
    return jvp(grad(fun, argnums, has_aux=has_aux), primals, tangents, has_aux=has_aux)
