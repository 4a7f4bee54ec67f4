"""What ``funcgrad.scipy``'s modules share: the error for a derivative SciPy gives no pieces for.

>>> no_derivative("special.betainc", "a", "only x is differentiable")()
Traceback (most recent call last):
    ...
TypeError: funcgrad.scipy.special.betainc: no derivative with respect to a ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from funcgrad import _errors
from funcgrad._prims._base import broadcast_tangent, unbroadcast
from funcgrad._rules import defbatch, defjvp, defvjp, primitive
from funcgrad._sparsity import defsparsity
from funcgrad._trace import Primitive

#: primitive name -> the arguments it has no derivative in (read by scripts/gen_coverage.py)
NOT_DIFFERENTIABLE: dict[str, list[str]] = {}


def no_derivative(function: str, argument: str, reason: str) -> Callable[..., NoReturn]:
    """A derivative rule that raises ``_errors.scipy_no_derivative`` when it is used (and is listed as such)."""
    NOT_DIFFERENTIABLE.setdefault(function, []).append(argument)

    def rule(*_: Any, **__: Any) -> NoReturn:
        raise _errors.scipy_no_derivative(function, argument, reason)

    return rule


def elementwise(impl: Callable[..., Any], partials: tuple[Callable[..., Any], ...], name: str) -> Primitive:
    """An elementwise primitive named ``name`` from its partial derivatives ``d(ans, *args)``, one per argument.

    Both rules multiply by the partials, which are written with funcgrad's own
    functions, so the primitive differentiates again; ``vmap`` broadcasts it.
    """
    prim = primitive(impl, name)
    defvjp(
        prim, *(lambda g, ans, *args, d=d, i=i: unbroadcast(g * d(ans, *args), args[i]) for i, d in enumerate(partials))
    )
    defjvp(
        prim,
        *(
            lambda t, ans, *args, d=d, i=i: broadcast_tangent(t, args[i], ans) * d(ans, *args)
            for i, d in enumerate(partials)
        ),
        batched=True,
    )
    defbatch(prim, "elementwise")
    defsparsity(prim, "elementwise")
    return prim
