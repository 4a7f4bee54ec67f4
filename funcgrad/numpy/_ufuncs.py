"""Elementwise primitives (NumPy ufuncs) and their rules, one line each where possible.

A unary entry gives the derivative ``d(ans, x)``; the reverse rule is
``g * d`` and the forward rule ``t * d`` (no conjugation: JAX's convention,
see docs/complex.md).  A binary entry gives ``dx(ans, x, y)`` and
``dy(ans, x, y)``; broadcasting is undone by ``unbroadcast``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad._rules import def_nondiff, defjvp, defvjp, primitive
from funcgrad._trace import Primitive, full_lower
from funcgrad.numpy._util import broadcast_tangent, dtype, lift, match_dtype, unbroadcast

__all__ = [
    "add",
    "subtract",
    "multiply",
    "divide",
    "true_divide",
    "power",
    "negative",
    "positive",
    "maximum",
    "minimum",
    "exp",
    "log",
    "sin",
    "cos",
    "tan",
    "tanh",
    "sqrt",
    "square",
    "absolute",
    "abs",
    "sign",
    "floor",
    "ceil",
    "real",
    "imag",
    "conj",
    "conjugate",
]

#: NumPy ufunc -> funcgrad primitive, for ``__array_ufunc__``
UFUNCS: dict[np.ufunc, Primitive] = {}

Derivative = Callable[..., Any]


def _register(ufunc: Any, name: str | None = None) -> Primitive:
    prim = primitive(ufunc, name or ufunc.__name__)
    if isinstance(ufunc, np.ufunc):
        UFUNCS[ufunc] = prim
    return prim


def unary(ufunc: Any, derivative: Derivative, name: str | None = None) -> Primitive:
    """A one-argument elementwise primitive from its derivative ``d(ans, x)``."""
    prim = _register(ufunc, name)
    defvjp(prim, lambda g, ans, x: g * derivative(ans, x))
    defjvp(prim, lambda t, ans, x: t * derivative(ans, x), batched=True)
    return prim


def binary(ufunc: Any, dx: Derivative, dy: Derivative, name: str | None = None) -> Primitive:
    """A two-argument elementwise primitive from its partial derivatives."""
    prim = _register(ufunc, name)
    defvjp(
        prim,
        lambda g, ans, x, y: unbroadcast(g * dx(ans, x, y), x),
        lambda g, ans, x, y: unbroadcast(g * dy(ans, x, y), y),
    )
    defjvp(
        prim,
        lambda t, ans, x, y: broadcast_tangent(lift(t, x, ans) * dx(ans, x, y), x, ans),
        lambda t, ans, x, y: broadcast_tangent(lift(t, y, ans) * dy(ans, x, y), y, ans),
        batched=True,
    )
    return prim


def nondiff(ufunc: Any, nargs: int = 1, name: str | None = None) -> Primitive:
    """An elementwise primitive whose derivative is zero (or undefined) everywhere."""
    prim = _register(ufunc, name)
    def_nondiff(prim, nargs)
    return prim


def mask(condition: Any, like: Any) -> Any:
    """A plain 0/1 array in ``like``'s dtype: derivative factors of kinks."""
    kind = dtype(like)
    return np.asarray(full_lower(condition), dtype=kind if kind.kind in "fc" else np.float64)


def _safe(x: Any) -> Any:
    """``x`` with exact zeros replaced by one, to divide without warnings."""
    return where(x == 0, 1.0, x)


# --- linear ---------------------------------------------------------------
add = _register(np.add)
defvjp(add, lambda g, ans, x, y: unbroadcast(g, x), lambda g, ans, x, y: unbroadcast(g, y))
defjvp(
    add,
    lambda t, ans, x, y: broadcast_tangent(t, x, ans),
    lambda t, ans, x, y: broadcast_tangent(t, y, ans),
    batched=True,
)
subtract = _register(np.subtract)
defvjp(subtract, lambda g, ans, x, y: unbroadcast(g, x), lambda g, ans, x, y: unbroadcast(-g, y))
defjvp(
    subtract,
    lambda t, ans, x, y: broadcast_tangent(t, x, ans),
    lambda t, ans, x, y: -broadcast_tangent(t, y, ans),
    batched=True,
)
negative = _register(np.negative)
defvjp(negative, lambda g, ans, x: -g)
defjvp(negative, lambda t, ans, x: -t, batched=True)
positive = _register(np.positive)
defvjp(positive, lambda g, ans, x: g)
defjvp(positive, lambda t, ans, x: t, batched=True)

multiply = _register(np.multiply)
defvjp(multiply, lambda g, ans, x, y: unbroadcast(g * y, x), lambda g, ans, x, y: unbroadcast(g * x, y))
defjvp(multiply, lambda t, ans, x, y: lift(t, x, ans) * y, lambda t, ans, x, y: x * lift(t, y, ans), batched=True)
divide = _register(np.divide)
defvjp(divide, lambda g, ans, x, y: unbroadcast(g / y, x), lambda g, ans, x, y: unbroadcast(-g * ans / y, y))
defjvp(
    divide,
    lambda t, ans, x, y: lift(t, x, ans) / y,
    lambda t, ans, x, y: -lift(t, y, ans) * (ans / y),
    batched=True,
)
true_divide = divide


def _pow_dx(ans: Any, x: Any, y: Any) -> Any:
    # d/dx x**y = y x**(y-1); written so that y == 0 gives 0, not 0 * inf
    if isinstance(y, (int, float)):
        return 0.0 * x if y == 0 else y * power(x, y - 1)
    return where(y == 0, 0.0, y * power(x, where(y == 0, 1.0, y - 1)))


def _pow_dy(ans: Any, x: Any, y: Any) -> Any:
    # d/dy x**y = log(x) x**y; 0 where x == 0 (the limit for y > 0)
    return where(x == 0, 0.0, ans * log(where(x == 0, 1.0, x)))


power = binary(np.power, _pow_dx, _pow_dy)
maximum = binary(
    np.maximum,
    lambda ans, x, y: mask((x > y) + 0.5 * (x == y), ans),
    lambda ans, x, y: mask((x < y) + 0.5 * (x == y), ans),
)
minimum = binary(
    np.minimum,
    lambda ans, x, y: mask((x < y) + 0.5 * (x == y), ans),
    lambda ans, x, y: mask((x > y) + 0.5 * (x == y), ans),
)

# --- unary ---------------------------------------------------------------
exp = unary(np.exp, lambda ans, x: ans)
log = unary(np.log, lambda ans, x: 1.0 / x)
sin = unary(np.sin, lambda ans, x: cos(x))
cos = unary(np.cos, lambda ans, x: -sin(x))
tan = unary(np.tan, lambda ans, x: 1.0 + ans * ans)
tanh = unary(np.tanh, lambda ans, x: 1.0 - ans * ans)
sqrt = unary(np.sqrt, lambda ans, x: 0.5 / ans)
square = unary(np.square, lambda ans, x: 2.0 * x)


def _abs_vjp(g: Any, ans: Any, x: Any) -> Any:
    if dtype(x).kind == "c":
        return g * conj(x) / _safe(ans)
    return g * mask(np.sign(full_lower(x)), x)


def _abs_jvp(t: Any, ans: Any, x: Any) -> Any:
    if dtype(x).kind == "c":
        return real(conj(x) * t) / _safe(ans)
    return t * mask(np.sign(full_lower(x)), x)


absolute = _register(np.absolute)
defvjp(absolute, _abs_vjp)
defjvp(absolute, _abs_jvp, batched=True)
abs = absolute

# --- zero derivative -------------------------------------------------------
sign = nondiff(np.sign)
floor = nondiff(np.floor)
ceil = nondiff(np.ceil)

# --- complex parts and casts ------------------------------------------------
real = _register(np.real, "real")
defvjp(real, lambda g, ans, x: match_dtype(g, x))
defjvp(real, lambda t, ans, x: real(t), batched=True)
imag = _register(np.imag, "imag")
defvjp(imag, lambda g, ans, x: match_dtype(-1j * g, x) if dtype(x).kind == "c" else None)
defjvp(imag, lambda t, ans, x: imag(t), batched=True)
conj = _register(np.conjugate)
conjugate = conj
defvjp(conj, lambda g, ans, x: conj(g))
defjvp(conj, lambda t, ans, x: conj(t), batched=True)


def _astype(x: Any, dtype: Any) -> Any:
    return np.asarray(x).astype(dtype)


def _astype_jvp(t: Any, ans: Any, x: Any, dtype: Any) -> Any:
    target = np.dtype(dtype)
    if target.kind not in "fc":
        return None
    return match_dtype(t, ans)


astype = primitive(_astype, "astype")
defvjp(astype, lambda g, ans, x, dtype: match_dtype(g, x) if np.dtype(dtype).kind in "fc" else None)
defjvp(astype, _astype_jvp, batched=True)

# --- selection ---------------------------------------------------------------
where = primitive(np.where, "where")
defvjp(
    where,
    None,
    lambda g, ans, c, x, y: unbroadcast(where(c, g, 0.0), x),
    lambda g, ans, c, x, y: unbroadcast(where(c, 0.0, g), y),
)
defjvp(
    where,
    None,
    lambda t, ans, c, x, y: broadcast_tangent(where(c, lift(t, x, ans), 0.0), x, ans),
    lambda t, ans, c, x, y: broadcast_tangent(where(c, 0.0, lift(t, y, ans)), y, ans),
    batched=True,
)
