"""Functions with no derivative: they read traced values and return plain NumPy results.

Positions (``argmax``, ``argsort``, ``nonzero``, ``searchsorted``), tests
(``isfinite``, ``isclose``, ``greater``, ``logical_and``), counts and integer
quotients (``floor_divide``) are piecewise constant in their inputs, so their
derivative is zero wherever it exists.  On traced values they return exactly
what NumPy returns on the values underneath: plain arrays, usable as masks
and indices inside a differentiated function.  The same holds when plain
``numpy`` is called on a traced value (``np.argmax(x)``).

``unique`` is the exception that keeps a derivative: its values are gathered
from the input (differentiable); its indices and counts are plain.

>>> import numpy as np
>>> import funcgrad as fg
>>> import funcgrad.numpy as fnp
>>> def f(x):
...     i = fnp.argmax(x)              # a plain integer
...     return x[i] ** 2 + np.sum(x[x > 1.5])
>>> fg.grad(f)(np.array([1.0, 3.0, 2.0]))
array([0., 7., 1.])
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad import _errors
from funcgrad._trace import Tracer, full_lower
from funcgrad.numpy._dispatch import FUNCTIONS, UFUNCS

__all__ = [
    # positions
    "argmax",
    "argmin",
    "nanargmax",
    "nanargmin",
    "argsort",
    "argpartition",
    "lexsort",
    "argwhere",
    "nonzero",
    "flatnonzero",
    "searchsorted",
    "digitize",
    "count_nonzero",
    "unique",
    # tests
    "isfinite",
    "isnan",
    "isinf",
    "isposinf",
    "isneginf",
    "isreal",
    "iscomplex",
    "isrealobj",
    "iscomplexobj",
    "signbit",
    "isclose",
    "allclose",
    "array_equal",
    "array_equiv",
    "isin",
    "any",
    "all",
    # types and text
    "result_type",
    "can_cast",
    "min_scalar_type",
    "array2string",
    "array_repr",
    "array_str",
    # comparisons and logic
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "equal",
    "not_equal",
    "logical_and",
    "logical_or",
    "logical_not",
    "logical_xor",
    # integer arithmetic
    "floor_divide",
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "invert",
    "bitwise_not",
    "bitwise_invert",
    "left_shift",
    "bitwise_left_shift",
    "right_shift",
    "bitwise_right_shift",
    "bitwise_count",
    "gcd",
    "lcm",
    "isnat",
]


def plain(value: Any) -> Any:
    """``value`` with every traced value (also inside lists and tuples) replaced by its plain value."""
    if isinstance(value, Tracer):
        lowered = full_lower(value)
        if isinstance(lowered, Tracer):  # a batch under vmap: no per-example reading here yet
            raise _errors.batched_value_read("a function that reads values (argmax, isnan, ...)")
        return lowered
    if isinstance(value, (list, tuple)) and _holds_tracer(value):
        return (tuple if isinstance(value, tuple) else list)(plain(v) for v in value)
    return value


def _holds_tracer(value: Any) -> bool:
    if isinstance(value, Tracer):
        return True
    if isinstance(value, (list, tuple)):
        return builtins.any(_holds_tracer(v) for v in value)
    return False


def reads_values(numpy_function: Any) -> Callable[..., Any]:
    """A funcgrad function for ``numpy_function``: NumPy on the plain values, no derivative.

    It also handles the NumPy function on traced values (``__array_ufunc__``
    for a ufunc, ``__array_function__`` otherwise).

    >>> import funcgrad as fg
    >>> fg.grad(lambda x: x[np.argmax(x)] ** 2)(np.array([1.0, 3.0]))
    array([0., 6.])
    """
    name = numpy_function.__name__

    def function(*args: Any, **kwargs: Any) -> Any:
        if _holds_tracer(kwargs.get("out")):
            raise _errors.inplace_assignment()
        return numpy_function(*map(plain, args), **{key: plain(v) for key, v in kwargs.items()})

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (
        f"``numpy.{name}`` on the plain values: it has no derivative, so a traced input gives a plain NumPy result."
    )
    if isinstance(numpy_function, np.ufunc):
        UFUNCS[numpy_function] = function
    else:
        FUNCTIONS[numpy_function] = function
    return function


# --- positions -------------------------------------------------------------------------
argmax = reads_values(np.argmax)
argmin = reads_values(np.argmin)
nanargmax = reads_values(np.nanargmax)
nanargmin = reads_values(np.nanargmin)
argsort = reads_values(np.argsort)
argpartition = reads_values(np.argpartition)
lexsort = reads_values(np.lexsort)
argwhere = reads_values(np.argwhere)
nonzero = reads_values(np.nonzero)
flatnonzero = reads_values(np.flatnonzero)
searchsorted = reads_values(np.searchsorted)
digitize = reads_values(np.digitize)
count_nonzero = reads_values(np.count_nonzero)

# --- tests -----------------------------------------------------------------------------
isfinite = reads_values(np.isfinite)
isnan = reads_values(np.isnan)
isinf = reads_values(np.isinf)
isposinf = reads_values(np.isposinf)
isneginf = reads_values(np.isneginf)
isreal = reads_values(np.isreal)
iscomplex = reads_values(np.iscomplex)
isrealobj = reads_values(np.isrealobj)
iscomplexobj = reads_values(np.iscomplexobj)
signbit = reads_values(np.signbit)
isclose = reads_values(np.isclose)
allclose = reads_values(np.allclose)
array_equal = reads_values(np.array_equal)
array_equiv = reads_values(np.array_equiv)
isin = reads_values(np.isin)
any = reads_values(np.any)
all = reads_values(np.all)

# --- types and text -------------------------------------------------------------------
result_type = reads_values(np.result_type)
can_cast = reads_values(np.can_cast)
min_scalar_type = reads_values(np.min_scalar_type)
array2string = reads_values(np.array2string)
array_repr = reads_values(np.array_repr)
array_str = reads_values(np.array_str)

# --- comparisons and logic ------------------------------------------------------------
greater = reads_values(np.greater)
greater_equal = reads_values(np.greater_equal)
less = reads_values(np.less)
less_equal = reads_values(np.less_equal)
equal = reads_values(np.equal)
not_equal = reads_values(np.not_equal)
logical_and = reads_values(np.logical_and)
logical_or = reads_values(np.logical_or)
logical_not = reads_values(np.logical_not)
logical_xor = reads_values(np.logical_xor)

# --- integer arithmetic ---------------------------------------------------------------
floor_divide = reads_values(np.floor_divide)
bitwise_and = reads_values(np.bitwise_and)
bitwise_or = reads_values(np.bitwise_or)
bitwise_xor = reads_values(np.bitwise_xor)
invert = reads_values(np.invert)
bitwise_not = invert
bitwise_invert = invert
left_shift = reads_values(np.left_shift)
bitwise_left_shift = left_shift
right_shift = reads_values(np.right_shift)
bitwise_right_shift = right_shift
bitwise_count = reads_values(np.bitwise_count)
gcd = reads_values(np.gcd)
lcm = reads_values(np.lcm)
isnat = reads_values(np.isnat)


def unique(
    ar: Any,
    return_index: bool = False,
    return_inverse: bool = False,
    return_counts: bool = False,
    axis: int | None = None,
    **kwargs: Any,
) -> Any:
    """``numpy.unique``: the unique values are gathered from ``ar`` (differentiable); indices and counts are plain.

    >>> import funcgrad as fg
    >>> fg.grad(lambda x: unique(x).sum())(np.array([2.0, 1.0, 2.0]))
    array([1., 1., 0.])
    """
    numpy_unique: Any = np.unique  # one call for every flag combination (NumPy's stubs overload each)
    if isinstance(ar, (list, tuple)) and _holds_tracer(ar):
        from funcgrad.numpy._constructors import asarray

        ar = asarray(ar)
    if not isinstance(ar, Tracer):
        return numpy_unique(plain(ar), return_index, return_inverse, return_counts, axis=axis, **kwargs)
    traced: Any = ar
    found = numpy_unique(full_lower(traced), True, return_inverse, return_counts, axis=axis, **kwargs)
    first = found[1]
    if axis is None:
        values = traced.reshape(-1)[first]
    else:
        values = traced[(slice(None),) * (axis % traced.ndim) + (first,)]
    extras = ((found[1],) if return_index else ()) + tuple(found[2:])
    return (values, *extras) if extras else values


FUNCTIONS[np.unique] = unique
