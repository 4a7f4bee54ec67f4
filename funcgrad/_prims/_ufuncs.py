"""Elementwise primitives (NumPy ufuncs) and their rules, one line each where possible.

A unary entry gives the derivative ``d(ans, x)``; the reverse rule is
``g * d`` and the forward rule ``t * d`` (no conjugation: JAX's convention,
see docs/design.md).  A binary entry gives ``dx(ans, x, y)`` and
``dy(ans, x, y)`` (``None`` for a zero part); broadcasting is undone by
``unbroadcast``.  Derivatives are written with these same primitives, so
they differentiate again at any order.

Behaviour at kinks and edges (chosen as JAX does, and tested exactly):

* ``maximum``/``minimum``/``fmax``/``fmin`` and ``clip`` split the derivative
  0.5/0.5 between tied arguments (``clip`` at a bound shares it with the bound);
* ``abs``/``fabs`` have derivative 0 at 0; ``sign``, ``floor``, ``ceil``,
  ``round``, ``rint``, ``trunc``, ``fix``, ``spacing`` have derivative 0
  (a traced input gives a plain result); ``heaviside(x, h)`` has derivative 0
  in ``x`` and 1 in ``h`` where ``x == 0``; ``nextafter(x, y)`` has derivative
  1 in ``x``;
* ``power(x, y)``: the derivative in ``y`` is 0 where ``x == 0`` and NaN
  where a real ``x < 0`` (no real derivative exists there), without warnings;
* ``logaddexp(-inf, -inf)`` gives 0.5/0.5; ``hypot`` and ``arctan2`` give 0
  at the origin; ``sinc`` is smooth at 0 (``sinc''(0) = -pi**2/3``).

>>> import funcgrad as fg
>>> import funcgrad.numpy as fnp
>>> float(fg.grad(fnp.sin)(0.0))
1.0
>>> bool(fnp.isclose(fg.grad(fg.grad(fnp.sinc))(0.0), -fnp.pi**2 / 3, rtol=1e-15))
True
>>> [float(g) for g in fg.grad(fnp.maximum, argnums=(0, 1))(1.0, 1.0)]
[0.5, 0.5]
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad import _backends
from funcgrad._prims._base import _register, astype, broadcast_tangent, lift, match_dtype, real, unbroadcast
from funcgrad._prims._dispatch import UFUNCS, implements, store_out
from funcgrad._rules import def_nondiff, defbatch, defjvp, defjvp_joint, defjvp_scales, defvjp, defvjp_into, primitive
from funcgrad._sparsity import defsparsity
from funcgrad._trace import Primitive, Tracer
from funcgrad._values import dtype, is_traced, shape

__all__ = [
    # arithmetic
    "add",
    "subtract",
    "multiply",
    "divide",
    "true_divide",
    "power",
    "pow",
    "float_power",
    "negative",
    "positive",
    "reciprocal",
    "square",
    "sqrt",
    "cbrt",
    "remainder",
    "mod",
    "fmod",
    "copysign",
    "ldexp",
    "divmod",
    "modf",
    "frexp",
    # exponentials and logarithms
    "exp",
    "exp2",
    "expm1",
    "log",
    "log2",
    "log10",
    "log1p",
    "logaddexp",
    "logaddexp2",
    # trigonometric and hyperbolic
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "asin",
    "acos",
    "atan",
    "arctan2",
    "atan2",
    "hypot",
    "sinh",
    "cosh",
    "tanh",
    "arcsinh",
    "arccosh",
    "arctanh",
    "asinh",
    "acosh",
    "atanh",
    "deg2rad",
    "rad2deg",
    "radians",
    "degrees",
    "sinc",
    # kinks, selection, rounding
    "maximum",
    "minimum",
    "fmax",
    "fmin",
    "clip",
    "absolute",
    "abs",
    "fabs",
    "sign",
    "floor",
    "ceil",
    "rint",
    "trunc",
    "fix",
    "round",
    "around",
    "heaviside",
    "nextafter",
    "spacing",
    "nan_to_num",
    # complex
    "real",
    "imag",
    "conj",
    "conjugate",
    "angle",
    "real_if_close",
]

Derivative = Callable[..., Any]


def _is_unit(c: Any, t: Any) -> bool:
    """Whether plain ``c`` is one everywhere (read in O(1): a scalar or an all-zero-strides view; or a small
    array, as a reduction's seed is spread eagerly and in a recording) and ``c * t`` has real floating ``t``'s
    shape and dtype."""
    kind = type(c)
    if kind is float or kind is int or kind is bool:
        return bool(c == 1) and dtype(t).kind == "f"
    if kind is not np.ndarray and not isinstance(c, np.generic):
        return False
    if c.size != 1 and any(c.strides) and not (c.size <= 1 << 14 and c.item(0) == 1 and bool((c == 1).all())):
        return False
    if not c.size or c.item(0) != 1:
        return False
    want = dtype(t)
    if want.kind != "f" or c.dtype != want and np.result_type(c.dtype, want) != want:
        return False
    tshape = shape(t)
    cshape = c.shape
    if len(cshape) > len(tshape):
        return False
    return all(n == 1 or n == m for n, m in zip(reversed(cshape), reversed(tshape)))


def fits(g: np.ndarray[Any, Any], *values: Any) -> bool:
    """Whether ``g op value`` for each value has ``g``'s shape and dtype, so it may be written into ``g``.

    Only plain arrays of ``g``'s shape and dtype and Python numbers (weak in NumPy's promotion)
    qualify; traced values, other backends' arrays and broadcasting take the rule's own formula.
    A complex ``g`` of one element does not: NumPy multiplies it in place by another loop than into a
    new array, which rounds differently in the last bit (``jit`` records the new array's product).
    """
    if g.size == 1 and g.dtype.kind == "c":
        return False
    for v in values:
        kind = type(v)
        if kind is np.ndarray:
            if v.shape != g.shape or v.dtype != g.dtype:
                return False
        elif kind is not float and kind is not int or g.dtype.kind not in "fc":
            return False
    return True


def scale_into(g: np.ndarray[Any, Any], d: Any) -> Any:
    """``g * d``, written into ``g`` (which the sweep owns, see ``defvjp_into``) when that is the same array."""
    return np.multiply(g, d, out=g) if fits(g, d) else g * d


def unary(ufunc: Any, derivative: Derivative, name: str | None = None) -> Primitive:
    """A one-argument elementwise primitive from its derivative ``d(ans, x)``.

    The reverse rule is ``g * d(ans, x)``, the (batched) forward rule ``t * d(ans, x)``;
    ``d`` is written with funcgrad primitives so it differentiates again:

    >>> import funcgrad as fg
    >>> float(fg.grad(fg.grad(tanh))(0.5)) == float(-2 * tanh(0.5) * (1 - tanh(0.5) ** 2))
    True
    """
    prim = _register(ufunc, name)
    defvjp(prim, lambda g, ans, x: _times(g, derivative(ans, x)), fresh=True)
    defvjp_into(prim, lambda g, ans, x: scale_into(g, derivative(ans, x)))
    defjvp(prim, lambda t, ans, x: t * derivative(ans, x), batched=True)
    defjvp_scales(prim, lambda ans, x: (derivative(ans, x), None))
    return prim


COMPLEX_SCALARS = frozenset({np.complex64, np.complex128, np.clongdouble})


def complex_scalar(value: Any) -> bool:
    """Whether ``value`` (traced or not) is a complex NumPy scalar (its type, never its value)."""
    while isinstance(value, Tracer):
        value = value._value
    return type(value) in COMPLEX_SCALARS


def scalar_product(x: Any, y: Any) -> bool:
    """Whether ``x * y`` is NumPy's complex scalar math (``numpy.multiply`` rounds it differently): both
    complex, one a NumPy scalar and the other a NumPy scalar or a Python complex (``multiply_operator``)."""
    if complex_scalar(x):
        return type(y) is complex or complex_scalar(y)
    return type(x) is complex and complex_scalar(y)


def _times(g: Any, d: Any) -> Any:
    """Cotangent ``g`` times partial ``d``, as a reverse rule writes it.

    A plain ``g`` that is one everywhere (the seed of ``grad``/``jacrev``, or its broadcast) is not
    multiplied into a traced ``d``: that call would be recorded and differentiated at every outer
    level.  Otherwise a traced ``d`` goes to ``multiply`` itself, not through ``g``'s ``__array_ufunc__``.
    """
    if not isinstance(d, Tracer):
        return g * d
    if not isinstance(g, Tracer) and _is_unit(g, d):
        return d
    return multiply_operator(g, d) if scalar_product(g, d) else multiply(g, d)


def _widened(args: tuple[Any, ...], ans: Any) -> tuple[Any, ...]:
    """The operands in the output's precision, for computing partial derivatives.

    NumPy computes ``float64 ** float32`` in float64; the partials must be too
    (``log(x)`` of a float32 ``x`` would lose half the digits).  Only narrower
    floats of the same kind are widened; the cotangent is cast back to each
    operand's own dtype by ``unbroadcast``.
    """
    want = dtype(ans)
    kinds = [dtype(a) for a in args]
    if all(k == want for k in kinds):
        return args
    return tuple(
        (astype(a, dtype=want) if isinstance(a, Tracer) else np.asarray(a, want))
        if k.kind == want.kind and k.kind in "fc" and k.itemsize < want.itemsize
        else a
        for a, k in zip(args, kinds)
    )


def binary(ufunc: Any, dx: Derivative | None, dy: Derivative | None, name: str | None = None) -> Primitive:
    """A two-argument elementwise primitive from its partial derivatives (``None``: zero).

    Broadcasting is undone by ``unbroadcast`` (reverse) and ``broadcast_tangent`` (forward):

    >>> import funcgrad as fg
    >>> fg.grad(lambda y: hypot(np.array([3.0, 0.0]), y).sum())(4.0)
    np.float64(1.8)
    """
    prim = _register(ufunc, name, 2)

    def vjp(d: Derivative | None, argnum: int) -> Derivative | None:
        if d is None:
            return None
        return lambda g, ans, *args: unbroadcast(g * d(ans, *_widened(args, ans)), args[argnum])

    def jvp(d: Derivative | None, argnum: int) -> Derivative | None:
        if d is None:
            return None
        return lambda t, ans, *args: broadcast_tangent(t, args[argnum], ans) * d(ans, *_widened(args, ans))

    def vjp_into(d: Derivative | None, argnum: int) -> Derivative | None:
        if d is None:
            return None
        return lambda g, ans, *args: unbroadcast(scale_into(g, d(ans, *_widened(args, ans))), args[argnum])

    def scale(d: Derivative | None) -> Derivative | None:
        if d is None:
            return None
        return lambda ans, *args: (d(ans, *_widened(args, ans)), None)

    defvjp(prim, vjp(dx, 0), vjp(dy, 1), fresh=True)
    defvjp_into(prim, vjp_into(dx, 0), vjp_into(dy, 1))
    defjvp(prim, jvp(dx, 0), jvp(dy, 1), batched=True, fresh=True)
    defjvp_scales(prim, scale(dx), scale(dy))
    return prim


def nondiff(ufunc: Any, nargs: int = 1, name: str | None = None) -> Primitive:
    """An elementwise primitive whose derivative is zero (or undefined) everywhere (one per ufunc)."""
    known = UFUNCS.get(ufunc)
    if isinstance(known, Primitive) and name is None:
        return known
    prim = _register(ufunc, name)
    def_nondiff(prim, nargs)
    return prim


def _as_factor(condition: Any, dtype: Any) -> Any:
    return condition.astype(dtype) if hasattr(condition, "astype") else np.asarray(condition, dtype)


#: a derivative factor of a kink made from a condition: zero derivative, recorded by ``jit``
mask_p = primitive(_as_factor, "mask")
def_nondiff(mask_p)
defbatch(mask_p, "elementwise")


def mask(condition: Any, like: Any) -> Any:
    """``condition`` (booleans or a piecewise constant) in ``like``'s inexact dtype: a derivative factor of a kink.

    A plain NumPy condition gives a plain array; a traced one (under ``jit``)
    the zero-derivative primitive ``mask``, so the factor is recorded too.

    >>> mask(np.array([True, False]), np.float32(1.0))
    array([1., 0.], dtype=float32)
    """
    kind = dtype(like)
    kind = kind if kind.kind in "fc" else np.dtype(np.float64)
    if is_plain(condition):
        return np.asarray(condition, dtype=kind)
    return mask_p(condition, dtype=kind)


def _safe(x: Any) -> Any:
    """``x`` with exact zeros replaced by one, to divide without warnings."""
    return where(x == 0, 1.0, x)


def is_plain(value: Any) -> bool:
    """Whether ``value`` is a plain NumPy value or Python number, whose contents a rule may read for free.

    Rules branch on values (a fast path when no entry is at a kink) only when
    this holds; traced values (``jit``) and other array types (Dask) get the
    general formula, written with primitives.
    """
    return isinstance(value, (np.ndarray, np.generic, int, float, complex))


_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_DEG2RAD = math.pi / 180.0
_RAD2DEG = 180.0 / math.pi


# --- linear ---------------------------------------------------------------
add = _register(np.add)
defvjp(add, lambda g, ans, x, y: unbroadcast(g, x), lambda g, ans, x, y: unbroadcast(g, y))
defjvp(
    add,
    lambda t, ans, x, y: broadcast_tangent(t, x, ans),
    lambda t, ans, x, y: broadcast_tangent(t, y, ans),
    batched=True,
)
defjvp_scales(add, lambda ans, x, y: (None, None), lambda ans, x, y: (None, None))
subtract = _register(np.subtract)
defvjp(subtract, lambda g, ans, x, y: unbroadcast(g, x), lambda g, ans, x, y: unbroadcast(-g, y))
defjvp(
    subtract,
    lambda t, ans, x, y: broadcast_tangent(t, x, ans),
    lambda t, ans, x, y: -broadcast_tangent(t, y, ans),
    batched=True,
)
defjvp_scales(subtract, lambda ans, x, y: (None, None), lambda ans, x, y: (-1.0, None))


def _sum_jvp(negate: bool) -> Callable[..., Any]:
    """Both tangents of ``x + y`` (``x - y``) in one addition (subtraction); lifted, so batches broadcast."""

    def rule(ts: list[Any], ans: Any, x: Any, y: Any) -> Any:
        tx, ty = ts
        if tx is None:
            return -broadcast_tangent(ty, y, ans) if negate else broadcast_tangent(ty, y, ans)
        if ty is None:
            return broadcast_tangent(tx, x, ans)
        return lift(tx, x, ans) - lift(ty, y, ans) if negate else lift(tx, x, ans) + lift(ty, y, ans)

    return rule


defjvp_joint(add, _sum_jvp(False))
defjvp_joint(subtract, _sum_jvp(True))
negative = _register(np.negative)
defvjp(negative, lambda g, ans, x: -g, fresh=True)
defvjp_into(negative, lambda g, ans, x: np.negative(g, out=g))
defjvp(negative, lambda t, ans, x: -t, batched=True)
defjvp_scales(negative, lambda ans, x: (-1.0, None))
positive = _register(np.positive)
defvjp(positive, lambda g, ans, x: g)
defjvp(positive, lambda t, ans, x: t, batched=True)
defjvp_scales(positive, lambda ans, x: (None, None))

multiply = _register(np.multiply)
#: ``x * y`` of two complex NumPy scalars (or one and a Python complex): Python's operator, so the product is
#: NumPy's scalar math, as in the eager call (``numpy.multiply``'s loop rounds most such products differently
#: in the last bit; float scalars agree).  The traced operators record it only for such operands.
multiply_operator = _register(operator.mul, "multiply_operator", 2)
for _prim in (multiply, multiply_operator):
    defvjp(
        _prim,
        lambda g, ans, x, y: unbroadcast(_times(g, y), x),
        lambda g, ans, x, y: unbroadcast(_times(g, x), y),
        fresh=True,
    )
    defvjp_into(
        _prim,
        lambda g, ans, x, y: unbroadcast(scale_into(g, y), x),
        lambda g, ans, x, y: unbroadcast(scale_into(g, x), y),
    )
    defjvp(
        _prim,
        lambda t, ans, x, y: lift(t, x, ans) * y,
        lambda t, ans, x, y: x * lift(t, y, ans),
        batched=True,
        fresh=True,
    )
    defjvp_scales(_prim, lambda ans, x, y: (y, None), lambda ans, x, y: (x, None))
divide = _register(np.divide)
defvjp(
    divide,
    lambda g, ans, x, y: unbroadcast(g / y, x),
    lambda g, ans, x, y: unbroadcast(-g * ans / y, y),
    fresh=True,
)


def _divide_into_y(g: Any, ans: Any, x: Any, y: Any) -> Any:
    # -g * ans / y, the same three operations in the same order, written into g
    if not fits(g, ans, y):
        return unbroadcast(-g * ans / y, y)
    np.negative(g, out=g)
    np.multiply(g, ans, out=g)
    return unbroadcast(np.divide(g, y, out=g), y)


defvjp_into(
    divide,
    lambda g, ans, x, y: unbroadcast(np.divide(g, y, out=g) if fits(g, y) else g / y, x),
    _divide_into_y,
)
defjvp(
    divide,
    lambda t, ans, x, y: lift(t, x, ans) / y,
    lambda t, ans, x, y: -lift(t, y, ans) * (ans / y),
    batched=True,
    fresh=True,
)
true_divide = divide


# --- powers ---------------------------------------------------------------
def _pow_dx(power_of: Callable[[], Primitive]) -> Derivative:
    def dx(ans: Any, x: Any, y: Any) -> Any:
        # d/dx x**y = y x**(y-1); written so that y == 0 gives 0, not 0 * inf
        if isinstance(y, (int, float)):
            return 0.0 * x if y == 0 else y * power_of()(x, y - 1)
        return where(y == 0, 0.0, y * power_of()(x, where(y == 0, 1, y - 1)))

    return dx


def _pow_dy(ans: Any, x: Any, y: Any) -> Any:
    # d/dy x**y = log(x) x**y: 0 where x == 0 (the limit for y > 0); NaN for a real x < 0
    if is_plain(x):
        # a plain base: the factor is a constant, given the output's dtype
        xv = np.asarray(x)
        with np.errstate(all="ignore"):
            factor = np.where(xv == 0, 0.0, np.log(np.where(xv == 0, 1.0, xv)))
        return ans * mask(factor, ans)
    real_base = dtype(x).kind != "c"
    zero = x == 0
    bad = x <= 0 if real_base else zero
    out = where(zero, 0.0, ans * log(where(bad, 1.0, x)))
    return where(x < 0, np.nan, out) if real_base else out


power: Primitive = binary(np.power, _pow_dx(lambda: power), _pow_dy)
pow = power
#: ``x ** y``: Python's operator, so a NumPy scalar takes NumPy's scalar math and an array ``ndarray.__pow__``'s
#: fast paths (``** 0.5`` is ``sqrt``), as in the eager call (``numpy.power`` rounds some scalars differently)
pow_operator: Primitive = binary(operator.pow, _pow_dx(lambda: pow_operator), _pow_dy, name="pow_operator")
float_power: Primitive = binary(np.float_power, _pow_dx(lambda: float_power), _pow_dy)
square = unary(np.square, lambda ans, x: 2.0 * x)
sqrt = unary(np.sqrt, lambda ans, x: 0.5 / ans)
cbrt = unary(np.cbrt, lambda ans, x: 1.0 / (3.0 * square(ans)))
reciprocal = unary(np.reciprocal, lambda ans, x: -square(ans))


def _neg_quotient(ans: Any, x: Any, y: Any) -> Any:
    # x = n*y + ans with an integer n, so d(ans)/dy = -n (a plain, piecewise constant factor)
    with np.errstate(all="ignore"):
        n = rint((x - ans) / y)
    return mask(-n, ans)


remainder = binary(np.remainder, lambda ans, x, y: 1.0, _neg_quotient)
mod = remainder
fmod = binary(np.fmod, lambda ans, x, y: 1.0, _neg_quotient)
copysign = binary(np.copysign, lambda ans, x, y: mask(where(_signbit(x) == _signbit(y), 1.0, -1.0), ans), None)
ldexp: Primitive = binary(np.ldexp, lambda ans, x, y: mask(ldexp(1.0, y), ans), None)


def divmod(x1: Any, x2: Any, out: Any = None, **kwargs: Any) -> tuple[Any, Any]:
    """``numpy.divmod``: ``(floor_divide(x1, x2), remainder(x1, x2))``; the quotient is plain (no derivative).

    >>> import funcgrad as fg
    >>> fg.grad(lambda x: divmod(x, 2.0)[1])(5.5)
    np.float64(1.0)
    """
    if not is_traced(x1, x2):
        if out is not None:
            kwargs["out"] = out
        return np.divmod(x1, x2, **kwargs)  # type: ignore[no-any-return]
    if out is not None:
        return store_out(out, divmod(x1=x1, x2=x2, **kwargs))
    with np.errstate(divide="ignore", invalid="ignore"):
        quotient = _floor_divide(x1, x2)
    return quotient, remainder(x1, x2)


def modf(x: Any, out: Any = None, **kwargs: Any) -> tuple[Any, Any]:
    """``numpy.modf``: ``(x - trunc(x), trunc(x))``; the fractional part has derivative 1, the integral part is plain.

    >>> import funcgrad as fg
    >>> fg.grad(lambda x: modf(x)[0])(-2.25)
    np.float64(1.0)
    """
    if not is_traced(x):
        if out is not None:
            kwargs["out"] = out
        return np.modf(x, **kwargs)  # type: ignore[no-any-return]
    if out is not None:
        return store_out(out, modf(x=x, **kwargs))
    integral = trunc(x)
    return x - integral, integral


def frexp(x: Any, out: Any = None, **kwargs: Any) -> tuple[Any, Any]:
    """``numpy.frexp``: mantissa ``x / 2**e`` (differentiable) and the plain integer exponent ``e``.

    >>> import funcgrad as fg
    >>> fg.grad(lambda x: frexp(x)[0])(12.0)
    np.float64(0.0625)
    """
    if not is_traced(x):
        if out is not None:
            kwargs["out"] = out
        return np.frexp(x, **kwargs)  # type: ignore[no-any-return]
    if out is not None:
        return store_out(out, frexp(x=x, **kwargs))
    exponent = frexp_exponent_p(x)
    return ldexp(x, -exponent), exponent


def _frexp_exponent(x: Any) -> Any:
    return np.frexp(x)[1]


frexp_exponent_p = primitive(_frexp_exponent, "frexp_exponent")
def_nondiff(frexp_exponent_p)
defbatch(frexp_exponent_p, "elementwise")
UFUNCS.update({np.divmod: divmod, np.modf: modf, np.frexp: frexp})

# --- exponentials and logarithms ---------------------------------------------
exp: Primitive = unary(np.exp, lambda ans, x: ans)
exp2: Primitive = unary(np.exp2, lambda ans, x: _LN2 * ans)
expm1 = unary(np.expm1, lambda ans, x: ans + 1.0)
log = unary(np.log, lambda ans, x: 1.0 / x)
log2 = unary(np.log2, lambda ans, x: (1.0 / _LN2) / x)
log10 = unary(np.log10, lambda ans, x: (1.0 / _LN10) / x)
log1p = unary(np.log1p, lambda ans, x: 1.0 / (1.0 + x))


def _logaddexp_formula(base_exp: Callable[[], Primitive]) -> Derivative:
    """d/dx log(b**x + b**y) = b**(x - ans): finite everywhere, 0.5/0.5 when both are -inf."""

    def weight(ans: Any, x: Any, y: Any) -> Any:
        infinite = _isinf(ans)
        if is_plain(infinite) and not infinite.any():
            return base_exp()(x - ans)
        # where ans is infinite: ties share, otherwise the argument equal to ans takes all
        at_infinity = mask(where(x == y, 0.5, mask(x == ans, ans)), ans)
        return where(infinite, at_infinity, base_exp()(where(infinite, 0.0, x) - where(infinite, 0.0, ans)))

    return weight


def _finite_only(ans: Any, part: Any) -> Any:
    """``part`` where ``ans`` is finite, 0 where it is infinite (the weight is constant there)."""
    infinite = _isinf(ans)
    if is_plain(infinite) and not infinite.any():
        # value-independent result: the where would hand back ``part``'s values; a traced or Dask ``ans``
        # (jit, Dask) is never read here and records the where
        return part
    return where(infinite, 0.0, part)


def _logaddexp_weight(base_exp: Callable[[], Primitive], slope: Derivative, name: str) -> Primitive:
    """The weight ``b**(x - ans)`` of ``logaddexp(x, y)`` (base e) or ``logaddexp2`` (base 2) as one primitive.

    Its value is the formula's (``_logaddexp_formula``); on a chunked array the
    formula runs block by block, so each block takes the plain path (one
    ``exp``) unless it holds an infinity, where the formula's general path
    (a test, three ``where``s, a difference, an ``exp``) would run over the
    whole array.  Its derivatives are those of the formula: ``(tx - tans) *
    slope(w)`` where ``ans`` is finite (``slope``: the derivative of
    ``b**u``, ``w`` or ``ln(2) * w``), zero where it is infinite; the
    operations are the formula's own, so the values are the same; under
    ``jacfwd``/``hessian`` a batch of tangents is scaled by ``slope(w)``
    (``defjvp_scales``).

    >>> float(logaddexp_weight_p(np.log(2.0), 0.0, 0.0))
    0.5
    """
    formula = _logaddexp_formula(base_exp)

    def impl(ans: Any, x: Any, y: Any) -> Any:
        if _backends.any_foreign((ans, x, y)):
            kind = np.result_type(*(a if type(a) in (int, float, complex) else dtype(a) for a in (ans, x)))
            return _backends.chunkwise(formula, ans, x, y, dtype=kind)
        return formula(ans, x, y)

    prim = primitive(impl, name)

    def joint(ts: list[Any], w: Any, ans: Any, x: Any, y: Any) -> Any:
        # the formula's difference x - ans, one subtraction of both tangents (as subtract's joint rule), then exp's
        ta, tx = ts[0], ts[1]
        if tx is None:
            part = -broadcast_tangent(ta, ans, w)
        elif ta is None:
            part = broadcast_tangent(tx, x, w)
        else:
            part = lift(tx, x, w) - lift(ta, ans, w)
        return _finite_only(ans, part * slope(w, None))

    defvjp(
        prim,
        lambda g, w, ans, x, y: unbroadcast(_finite_only(ans, -(g * slope(w, None))), ans),
        lambda g, w, ans, x, y: unbroadcast(_finite_only(ans, g * slope(w, None)), x),
        None,
    )
    defjvp(
        prim,
        lambda t, w, ans, x, y: joint([t, None, None], w, ans, x, y),
        lambda t, w, ans, x, y: joint([None, t, None], w, ans, x, y),
        None,
        batched=True,
    )
    defjvp_joint(prim, joint)

    def after(w: Any, ans: Any, x: Any, y: Any) -> Any:
        infinite = _isinf(ans)  # read only when plain, and a mask of nothing drops nothing (as _finite_only)
        return slope(w, None), (None if is_plain(infinite) and not infinite.any() else (infinite, False))

    # x - ans (subtract's scales), then the slope and the zeros where ans is infinite (the formula's exp and where)
    defjvp_scales(prim, lambda w, ans, x, y: (-1.0, None), lambda w, ans, x, y: (None, None), None, after=after)
    defbatch(prim, "elementwise")
    defsparsity(prim, "elementwise")
    return prim


#: the weight of ``logaddexp`` and ``logaddexp2`` in each argument (their derivative), one primitive each
logaddexp_weight_p = _logaddexp_weight(lambda: exp, lambda w, x: w, "logaddexp_weight")
logaddexp2_weight_p = _logaddexp_weight(lambda: exp2, lambda w, x: _LN2 * w, "logaddexp2_weight")
logaddexp = binary(np.logaddexp, logaddexp_weight_p, lambda ans, x, y: logaddexp_weight_p(ans, y, x))
logaddexp2 = binary(np.logaddexp2, logaddexp2_weight_p, lambda ans, x, y: logaddexp2_weight_p(ans, y, x))

# --- trigonometric and hyperbolic ---------------------------------------------
sin: Primitive = unary(np.sin, lambda ans, x: cos(x))
cos: Primitive = unary(np.cos, lambda ans, x: -sin(x))
tan = unary(np.tan, lambda ans, x: 1.0 + ans * ans)
arcsin = unary(np.arcsin, lambda ans, x: 1.0 / sqrt((1.0 - x) * (1.0 + x)))
arccos = unary(np.arccos, lambda ans, x: -1.0 / sqrt((1.0 - x) * (1.0 + x)))
arctan = unary(np.arctan, lambda ans, x: 1.0 / (1.0 + x * x))
sinh: Primitive = unary(np.sinh, lambda ans, x: cosh(x))
cosh: Primitive = unary(np.cosh, lambda ans, x: sinh(x))
# a traced ans is squared by square, whose tangent 2 * ans * t is one product fewer than ans * t + t * ans
tanh = unary(np.tanh, lambda ans, x: 1.0 - (square(ans) if isinstance(ans, Tracer) else ans * ans))


def _tanh_into(g: Any, ans: Any, x: Any) -> Any:
    # g * (1.0 - ans * ans) with one temporary instead of two, written into g
    if not fits(g, ans):
        return g * (1.0 - ans * ans)
    d = ans * ans
    return np.multiply(g, np.subtract(1.0, d, out=d), out=g)


defvjp_into(tanh, _tanh_into)
arcsinh = unary(np.arcsinh, lambda ans, x: 1.0 / sqrt(x * x + 1.0))
arccosh = unary(np.arccosh, lambda ans, x: 1.0 / (sqrt(x - 1.0) * sqrt(x + 1.0)))
arctanh = unary(np.arctanh, lambda ans, x: 1.0 / ((1.0 - x) * (1.0 + x)))
asin, acos, atan, asinh, acosh, atanh = arcsin, arccos, arctan, arcsinh, arccosh, arctanh
deg2rad = unary(np.deg2rad, lambda ans, x: _DEG2RAD)
radians = unary(np.radians, lambda ans, x: _DEG2RAD)
rad2deg = unary(np.rad2deg, lambda ans, x: _RAD2DEG)
degrees = unary(np.degrees, lambda ans, x: _RAD2DEG)


def _radius_squared(x: Any, y: Any) -> Any:
    return _safe(x * x + y * y)


hypot = binary(np.hypot, lambda ans, x, y: x / _safe(ans), lambda ans, x, y: y / _safe(ans))
arctan2 = binary(
    np.arctan2,
    lambda ans, y, x: x / _radius_squared(y, x),
    lambda ans, y, x: -y / _radius_squared(y, x),
)
atan2 = arctan2

# Taylor coefficients of d/du sin(u)/u = sum_n c_n u**(2n-1), n = 1..7: exact to ~1e-17 for |u| < 0.5
_SINC_SERIES = tuple((-1) ** n * 2 * n / math.factorial(2 * n + 1) for n in range(1, 8))


def _dsinc(ans: Any, x: Any) -> Any:
    """d/dx sinc(x): a series near 0 (smooth at every order), the closed form elsewhere."""
    u = math.pi * x
    small = absolute(u) < 0.5

    def series(u: Any) -> Any:
        u2 = u * u
        total = _SINC_SERIES[-1]
        for c in _SINC_SERIES[-2::-1]:
            total = total * u2 + c
        return u * total

    def closed(u: Any) -> Any:
        return (cos(u) - sin(u) / u) / u

    if is_plain(small) and small.all():
        return math.pi * series(u)
    if is_plain(small) and not small.any():
        return math.pi * closed(u)
    return math.pi * where(small, series(where(small, u, 0.0)), closed(where(small, 1.0, u)))


sinc = unary(np.sinc, _dsinc, "sinc")
implements(np.sinc)(sinc)


# --- kinks -----------------------------------------------------------------
def _wins(a: Any, b: Any, better: Any, ans: Any) -> Any:
    """1 where ``a`` is chosen, 0.5 at ties, 0 elsewhere; NaN loses (``fmax``/``fmin``)."""
    chosen = better(a, b) | (isnan(b) & ~isnan(a))
    return mask(chosen + 0.5 * (a == b), ans)


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
fmax = binary(
    np.fmax, lambda ans, x, y: _wins(x, y, _greater, ans), lambda ans, x, y: _wins(y, x, _greater, ans)
)
fmin = binary(np.fmin, lambda ans, x, y: _wins(x, y, _less, ans), lambda ans, x, y: _wins(y, x, _less, ans))


@implements(np.clip)
def clip(
    a: Any, a_min: Any = None, a_max: Any = None, out: Any = None, *, min: Any = None, max: Any = None, **kwargs: Any
) -> Any:
    """``numpy.clip``: ``minimum(maximum(a, a_min), a_max)``; either bound may be ``None`` or an array.

    At a bound the derivative is shared 0.5/0.5 between ``a`` and the bound.

    >>> import funcgrad as fg
    >>> import numpy as np
    >>> fg.grad(lambda x: clip(x, 0.0, 1.0).sum())(np.array([-1.0, 0.5, 1.0, 2.0]))
    array([0. , 1. , 0.5, 0. ])
    """
    low = a_min if min is None else min
    high = a_max if max is None else max
    if not is_traced(a, low, high):
        return np.clip(a, low, high, out=out, **kwargs)
    if out is not None:
        return store_out(out, clip(a=a, a_min=a_min, a_max=a_max, min=min, max=max, **kwargs))
    result = a
    if low is not None:
        result = maximum(result, low)
    if high is not None:
        result = minimum(result, high)
    return result


def _abs_vjp(g: Any, ans: Any, x: Any) -> Any:
    if dtype(x).kind == "c":
        return g * conj(x) / _safe(ans)
    return g * mask(sign(x), x)


def _abs_jvp(t: Any, ans: Any, x: Any) -> Any:
    if dtype(x).kind == "c":
        return real(conj(x) * t) / _safe(ans)
    return t * mask(sign(x), x)


absolute = _register(np.absolute)
defvjp(absolute, _abs_vjp)
defjvp(absolute, _abs_jvp, batched=True)
abs = absolute
fabs = unary(np.fabs, lambda ans, x: mask(sign(x), x))

# --- zero derivative -------------------------------------------------------
# sign: zero derivative for real input; for complex input NumPy 2 defines
# sign(z) = z / |z|, which is differentiable away from 0 (the formulas below
# vanish identically for real input, so one rule serves both).


def sign_jvp(t: Any, ans: Any, x: Any) -> Any:
    if dtype(x).kind != "c":
        return None  # flat for real input: no work, a symbolic zero
    return (t - ans * real(conj(ans) * t)) / _safe(absolute(x)) * mask(x != 0, x)


def sign_vjp(g: Any, ans: Any, x: Any) -> Any:
    if dtype(x).kind != "c":
        return None  # flat for real input: no work, a symbolic zero
    return (g - real(g * ans) * conj(ans)) / _safe(absolute(x)) * mask(x != 0, x)


sign: Primitive = _register(np.sign)
defvjp(sign, sign_vjp)
defjvp(sign, sign_jvp, batched=True)
floor = nondiff(np.floor)
# the zero-derivative tests these rules use (funcgrad._prims._nondiff exports them and the rest)
isnan = nondiff(np.isnan)
_isinf = nondiff(np.isinf)
_isfinite = nondiff(np.isfinite)
_signbit: Primitive = nondiff(np.signbit)
_greater: Primitive = nondiff(np.greater, 2)
_less: Primitive = nondiff(np.less, 2)
_floor_divide = nondiff(np.floor_divide, 2)
ceil = nondiff(np.ceil)
rint = nondiff(np.rint)
trunc = nondiff(np.trunc)
# heaviside(x, h) is h where x == 0, so its derivative in h is 1 there
heaviside = binary(np.heaviside, None, lambda ans, x, h: mask(x == 0, ans))
# nextafter(x, y) stays within one spacing of x: derivative 1 in x, 0 in y
nextafter = binary(np.nextafter, lambda ans, x, y: 1.0, None)
spacing = nondiff(np.spacing)


@implements(np.round, np.around)
def round(a: Any, decimals: int = 0, out: Any = None) -> Any:
    """``numpy.round``: zero derivative, so a traced ``a`` gives a plain result.

    >>> round(np.array([0.4, 1.6]))
    array([0., 2.])
    """
    if not is_traced(a):
        return np.round(a, decimals, out)
    if out is not None:
        return store_out(out, round(a=a, decimals=decimals))
    return round_p(a, decimals=decimals)


around = round


def _round(a: Any, decimals: int) -> Any:
    return np.round(a, decimals)


round_p = primitive(_round, "round")
def_nondiff(round_p)
defbatch(round_p, "elementwise")


@implements(np.fix)
def fix(x: Any, out: Any = None) -> Any:
    """``numpy.fix`` (round towards zero): zero derivative, a plain result.

    >>> fix(np.array([-1.5, 1.5]))
    array([-1.,  1.])
    """
    if not is_traced(x):
        return np.fix(x, out)
    if out is not None:
        return store_out(out, fix(x=x))
    return fix_p(x)


fix_p = primitive(np.fix, "fix")
def_nondiff(fix_p)
defbatch(fix_p, "elementwise")


@implements(np.nan_to_num)
def nan_to_num(x: Any, copy: bool = True, nan: float = 0.0, posinf: Any = None, neginf: Any = None) -> Any:
    """``numpy.nan_to_num``: derivative 1 where ``x`` is finite, 0 where a value was replaced.

    >>> import funcgrad as fg
    >>> fg.grad(lambda x: nan_to_num(x).sum())(np.array([1.0, np.inf, np.nan]))
    array([1., 0., 0.])
    """
    if not is_traced(x):
        return np.nan_to_num(x, copy=copy, nan=nan, posinf=posinf, neginf=neginf)
    if dtype(x).kind == "c":
        parts = (nan_to_num(part, nan=nan, posinf=posinf, neginf=neginf) for part in (real(x), imag(x)))
        return next(parts) + 1j * next(parts)
    return nan_to_num_p(x, nan=nan, posinf=posinf, neginf=neginf)


def _nan_to_num(x: Any, nan: Any, posinf: Any, neginf: Any) -> Any:
    return np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


# derivative 1 where x is finite, 0 where NumPy put a replacement value
nan_to_num_p = primitive(_nan_to_num, "nan_to_num")
defvjp(nan_to_num_p, lambda g, ans, x, **params: g * mask(_isfinite(x), g))
defjvp(nan_to_num_p, lambda t, ans, x, **params: t * mask(_isfinite(x), t), batched=True)
defbatch(nan_to_num_p, "elementwise")
defsparsity(nan_to_num_p, "elementwise", "linear")


imag = _register(np.imag, "imag")
defvjp(imag, lambda g, ans, x: match_dtype(-1j * g, x) if dtype(x).kind == "c" else None)
defjvp(imag, lambda t, ans, x: imag(t), batched=True)
implements(np.imag)(imag)
conj = _register(np.conjugate)
conjugate = conj
defvjp(conj, lambda g, ans, x: conj(g))
defjvp(conj, lambda t, ans, x: conj(t), batched=True)


@implements(np.angle)
def angle(z: Any, deg: bool = False) -> Any:
    """``numpy.angle``: ``arctan2(imag(z), real(z))``; for a real ``z`` a plain result (zero derivative).

    >>> import funcgrad as fg
    >>> complex(fg.grad(lambda z: angle(z))(1j))
    (-1+0j)
    """
    if not is_traced(z):
        return np.angle(z, deg)
    if dtype(z).kind != "c":
        return angle_real_p(z, deg=deg)
    out = arctan2(imag(z), real(z))
    return out * _RAD2DEG if deg else out


# the angle of a real number is 0 or pi: piecewise constant
angle_real_p = primitive(np.angle, "angle_real")
def_nondiff(angle_real_p)
defbatch(angle_real_p, "elementwise")


@implements(np.real_if_close)
def real_if_close(a: Any, tol: float = 100) -> Any:
    """``numpy.real_if_close``: ``real(a)`` when every imaginary part is within ``tol`` machine epsilons of 0.

    >>> import funcgrad as fg
    >>> fg.grad(lambda z: real_if_close(z * z))(np.array(2.0 + 0j))
    array(4.-0.j)
    """
    if not is_traced(a):
        return np.real_if_close(a, tol)
    if dtype(a).kind != "c":
        return a
    if tol > 1:
        tol = tol * np.finfo(dtype(a)).eps
    # a dtype chosen by the values: a Python branch (a guard under jit)
    return real(a) if (absolute(imag(a)) < tol).all() else a


# --- selection ---------------------------------------------------------------
where: Primitive = primitive(np.where, "where")
defvjp(
    where,
    None,
    lambda g, ans, c, x, y: unbroadcast(where(c, g, 0.0), x),
    lambda g, ans, c, x, y: unbroadcast(where(c, 0.0, g), y),
)
defjvp(
    where,
    None,
    lambda t, ans, c, x, y: where(c, broadcast_tangent(t, x, ans), 0.0),
    lambda t, ans, c, x, y: where(c, 0.0, broadcast_tangent(t, y, ans)),
    batched=True,
)
defjvp_scales(where, None, lambda ans, c, x, y: (None, (c, True)), lambda ans, c, x, y: (None, (c, False)))
defbatch(where, "elementwise")
defsparsity(where, "elementwise", "linear")


def _masked_scale_kernel(base: Any, factor: Any, keep: Any) -> Any:
    # where(keep, base, 0) * factor with the output the only array of its size: the kept entries are the product
    # (NumPy's layout: a transposed batch stays transposed), the dropped ones 0 * factor (+-0, NaN where the factor
    # is not finite), each computed, and warned about, only where the where-then-product computes it
    full = np.broadcast_shapes(np.shape(base), np.shape(factor), np.shape(keep))
    dropped = np.logical_not(keep)
    if not full:
        return np.where(keep, base, 0.0) * factor
    if not dropped.any() and np.broadcast_shapes(np.shape(base), np.shape(factor)) == full:
        return np.multiply(base, factor)  # (a plain block's contents: the result is the same either way)
    out = np.multiply(base, factor, where=np.logical_not(dropped), out=None)
    zero = np.zeros((), np.result_type(base, 0.0))  # what the where puts in a dropped place
    fill = np.zeros(np.broadcast_shapes(np.shape(factor), dropped.shape), out.dtype)
    np.multiply(zero, factor, out=fill, where=dropped)
    np.copyto(out, fill, where=dropped)
    return out


def _masked_scale(base: Any, factor: Any, keep: Any) -> Any:
    if _backends.any_foreign((base, factor, keep)):
        kind = np.result_type(*(a if type(a) in (int, float, complex) else dtype(a) for a in (base, factor)))
        return _backends.chunkwise(_masked_scale_kernel, base, factor, keep, dtype=kind)
    return _masked_scale_kernel(base, factor, keep)


#: ``where(keep, base, 0.0) * factor``, the same values (a non-finite ``base`` where ``keep`` is false gives
#: ``0 * factor``), with no array of the output's size but the output: forward mode's scaled batch of tangents
#: (funcgrad/_forward.py) is made with it, where the batch is the size of a chunk of the data
masked_scale_p = primitive(_masked_scale, "masked_scale")
defvjp(
    masked_scale_p,
    lambda g, ans, base, factor, keep: unbroadcast(where(keep, g * factor, 0.0), base),
    lambda g, ans, base, factor, keep: unbroadcast(g * where(keep, base, 0.0), factor),
    None,
)
defjvp(
    masked_scale_p,
    lambda t, ans, base, factor, keep: masked_scale_p(lift(t, base, ans), factor, keep),
    lambda t, ans, base, factor, keep: masked_scale_p(base, lift(t, factor, ans), keep),
    None,
    batched=True,
    fresh=True,
)
defbatch(masked_scale_p, "elementwise")
defsparsity(masked_scale_p, "elementwise", "bilinear")


# sparsity (funcgrad/_sparsity.py): every ufunc above is elementwise (``_register``); these have no
# second derivative (linear, or piecewise linear: kinks and jumps only), multiply and divide pair their operands
for _prim in (add, subtract, negative, positive, real, imag, conj, deg2rad, radians, rad2deg, degrees, maximum, minimum,
              fmax, fmin, fabs, copysign, remainder, fmod, ldexp, nextafter):  # fmt: skip
    defsparsity(_prim, "elementwise", "linear")
defsparsity(absolute, "elementwise", "linear when real")  # |x + iy| of a complex value is curved
defsparsity(multiply, "elementwise", "bilinear")
defsparsity(multiply_operator, "elementwise", "bilinear")
defsparsity(divide, "elementwise", ((0, 1), (1, 1)))
