"""Functions with no derivative: positions, tests, counts and integer quotients, as zero-rule primitives.

Positions (``argmax``, ``argsort``, ``nonzero``, ``searchsorted``), tests
(``isfinite``, ``isclose``, ``greater``, ``logical_and``), counts and integer
quotients (``floor_divide``) are piecewise constant in their inputs, so their
derivative is zero wherever it exists.  Each is a primitive with zero rules
(``def_nondiff``): under ``grad``/``jvp`` a traced input gives exactly what
NumPy returns on the values underneath (plain arrays, usable as masks and
indices inside a differentiated function), while a transform that records or
batches (``jit``, ``vmap``) sees the call and gets its own traced result.
With nothing traced the NumPy function is called directly.  The same holds
when plain ``numpy`` is called on a traced value (``np.argmax(x)``).

The constructors are data: ``nondiff_ufunc(np.greater)`` for a ufunc,
``nondiff_function(np.argmax)`` for any other function (its traced
arguments, also inside lists, become the primitive's positional arguments;
everything else is a static parameter), ``reads_dtype`` for type queries and
``reads_value`` for text, which reads through ``funcgrad._trace.read_value``.

``unique`` is the exception that keeps a derivative: its values are gathered
from the input (differentiable); its indices and counts have none.

>>> import numpy as np
>>> import funcgrad as fg
>>> import funcgrad.numpy as fnp
>>> def f(x):
...     i = fnp.argmax(x)              # a plain integer under grad
...     return x[i] ** 2 + np.sum(x[x > 1.5])
>>> fg.grad(f)(np.array([1.0, 3.0, 2.0]))
array([0., 7., 1.])
"""
from __future__ import annotations

import builtins
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad._prims import _base, _batch, _ufuncs
from funcgrad._prims._base import broadcast_batch
from funcgrad._prims._dispatch import FUNCTIONS, store_out
from funcgrad._prims._shape import asarray
from funcgrad._rules import def_nondiff, defbatch, primitive
from funcgrad._trace import Primitive, Tracer, read_value
from funcgrad._values import Hole, dtype, fill_call, holds_tracer, ndim, shape, split_call

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


def _as_rows(result: Any) -> Any:
    """A tuple of equal-length index arrays (``nonzero``) as one array, one row each."""
    return np.stack(result) if result else np.zeros((0, 0), np.intp)


def nondiff_function(
    numpy_function: Any, *, data_dependent_shape: bool = False, rows: bool = False, dispatch: bool = True
) -> Callable[..., Any]:
    """A funcgrad function for ``numpy_function`` with zero derivative: a primitive over its traced arguments.

    The traced arguments of a call become the primitive's positional
    arguments and the rest of the call its static parameter ``call``; with
    nothing traced NumPy runs directly.  ``rows``: NumPy returns a tuple of
    index arrays, which the primitive returns stacked (one array) and the
    wrapper splits again.  It also handles ``numpy_function`` on traced values
    (``__array_function__``) unless ``dispatch`` is false (a helper of funcgrad's own, not NumPy's).

    >>> import funcgrad as fg
    >>> fg.grad(lambda x: x[np.argmax(x)] ** 2)(np.array([1.0, 3.0]))
    array([0., 6.])
    """
    name = numpy_function.__name__

    def impl(*arrays: Any, call: Any) -> Any:
        args, kwargs = fill_call(call, arrays)
        result = numpy_function(*args, **kwargs)
        return _as_rows(result) if rows else result

    prim = primitive(impl, name)
    def_nondiff(prim, None)
    prim.data_dependent_shape = data_dependent_shape

    def function(*args: Any, **kwargs: Any) -> Any:
        if not (holds_tracer(args) or holds_tracer(tuple(kwargs.values()))):
            return numpy_function(*args, **kwargs)
        if kwargs.get("out") is not None:
            out = kwargs.pop("out")
            return store_out(out, function(*args, **kwargs))
        leaves, call = split_call(args, kwargs)
        result = prim(*leaves, call=call)
        return tuple(result[i] for i in range(shape(result)[0])) if rows else result

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (
        f"``numpy.{name}``: no derivative; a recorded primitive (``{name}``) on traced values, "
        "whose result under ``grad``/``jvp`` is NumPy's on the values."
    )
    function.primitive = prim  # type: ignore[attr-defined]
    if dispatch:
        FUNCTIONS[numpy_function] = function
    return function


def nondiff_ufunc(ufunc: np.ufunc) -> Primitive:
    """An elementwise primitive with zero derivative for a NumPy ufunc (``greater``, ``isfinite``)."""
    return _ufuncs.nondiff(ufunc, ufunc.nin)


def _dtype_of(value: Any) -> Any:
    if isinstance(value, Tracer):
        return np.zeros((), dtype(value))  # an array of that dtype: what every type query reads
    if isinstance(value, (list, tuple)) and holds_tracer(value):
        return (tuple if isinstance(value, tuple) else list)(_dtype_of(v) for v in value)
    return value


def reads_dtype(numpy_function: Any) -> Callable[..., Any]:
    """``numpy_function`` of the dtypes of traced arguments (``result_type``): nothing is read but types."""
    name = numpy_function.__name__

    def function(*args: Any, **kwargs: Any) -> Any:
        return numpy_function(*map(_dtype_of, args), **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``numpy.{name}``: of a traced value it reads only the dtype."
    FUNCTIONS[numpy_function] = function
    return function


def reads_value(numpy_function: Any) -> Callable[..., Any]:
    """``numpy_function`` on values read through ``read_value`` (text of an array): each transform sees the read."""
    name = numpy_function.__name__

    def read(value: Any) -> Any:
        if isinstance(value, Tracer):
            return read_value(value, f"numpy.{name}")
        if isinstance(value, (list, tuple)) and holds_tracer(value):
            return (tuple if isinstance(value, tuple) else list)(read(v) for v in value)
        return value

    def function(*args: Any, **kwargs: Any) -> Any:
        return numpy_function(*map(read, args), **{k: read(v) for k, v in kwargs.items()})

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``numpy.{name}`` of the values (read through each transform's ``read_value``)."
    FUNCTIONS[numpy_function] = function
    return function


# --- batching (vmap) -------------------------------------------------------------------


def _primitive(function: Any) -> Primitive:
    """The primitive behind a function made by ``nondiff_function``."""
    prim: Primitive = function.primitive
    return prim


def _bound(numpy_function: Any, call: Any) -> inspect.BoundArguments:
    args, kwargs = call
    return inspect.signature(numpy_function).bind(*args, **dict(kwargs))


def _template(bound: inspect.BoundArguments) -> Any:
    return (tuple(bound.args), tuple(bound.kwargs.items()))


def _only_batched(bound: inspect.BoundArguments, batched: list[bool], name: str) -> Hole | None:
    """The hole of argument ``name`` when it is the call's one batched array (else ``None``: loop)."""
    hole = bound.arguments.get(name)
    if type(hole) is not Hole or not batched[hole.slot] or builtins.sum(batched) != 1 or "where" in bound.arguments:
        return None
    return hole


def along_axis(numpy_function: Any, default: Any) -> Any:
    """Batching rule for a function of one array along ``axis`` (``default`` when not given): the axis moves
    past the batch, ``axis=None`` flattens each example.  Anything else (a batched ``kth``) loops."""
    first = next(iter(inspect.signature(numpy_function).parameters))

    def rule(prim: Primitive, values: list[Any], batched: list[bool], size: int, call: Any) -> Any:

        bound = _bound(numpy_function, call)
        hole = _only_batched(bound, batched, first)
        if hole is None or size == 0:
            return _batch.loop(prim, values, batched, size, call=call)
        x = values[hole.slot]
        rank = ndim(x) - 1
        axis = bound.arguments.get("axis", default)
        values = list(values)
        if axis is None:
            values[hole.slot] = _base.reshape_p(x, newshape=(size, int(np.prod(shape(x)[1:], dtype=np.int64))))
            bound.arguments["axis"] = -1
        elif rank == 0:
            return _batch.loop(prim, values, batched, size, call=call)  # NumPy's own error for an axis of a scalar
        else:
            bound.arguments["axis"] = tuple(a % rank + 1 for a in axis) if isinstance(axis, tuple) else axis % rank + 1
        out = prim(*values, call=_template(bound))
        if axis is None and bound.arguments.get("keepdims") is True:
            out = _base.reshape_p(out, newshape=(size,) + (1,) * rank)
        return out

    rule.coverage = "explicit rule (axis moved past the batch)"  # type: ignore[attr-defined]
    return rule


def mapped_over(numpy_function: Any, name: str) -> Any:
    """Batching rule for a function whose output follows argument ``name`` element by element
    (``searchsorted``'s ``v``): called as it is when that is the one batched array, else a loop."""

    def rule(prim: Primitive, values: list[Any], batched: list[bool], size: int, call: Any) -> Any:

        if _only_batched(_bound(numpy_function, call), batched, name) is None:
            return _batch.loop(prim, values, batched, size, call=call)
        return prim(*values, call=call)

    rule.coverage = f"leading in `{name}` (else a loop)"  # type: ignore[attr-defined]
    return rule


def all_of(elementwise_function: Any, numpy_function: Any) -> Any:
    """Batching rule for ``numpy_function`` = ``all(elementwise_function(...))`` per example (``allclose``)."""

    def rule(prim: Primitive, values: list[Any], batched: list[bool], size: int, call: Any) -> Any:

        test = _batch.elementwise(_primitive(elementwise_function), values, batched, size, call=call)
        axes = tuple(range(1, ndim(test)))
        return _primitive(all)(test, call=((Hole(0),), (("axis", axes),)))

    rule.coverage = "explicit rule (elementwise test, then all)"  # type: ignore[attr-defined]
    return rule


def equal_all(numpy_function: Any) -> Any:
    """Batching rule for ``array_equal``/``array_equiv``: ``all(a == b)`` per example where the examples'
    shapes allow it (False for every example where they do not); ``equal_nan=True`` loops."""

    def rule(prim: Primitive, values: list[Any], batched: list[bool], size: int, call: Any) -> Any:

        bound = _bound(numpy_function, call)
        if bound.arguments.get("equal_nan") or size == 0:
            return _batch.loop(prim, values, batched, size, call=call)
        pair = [bound.arguments[n] for n in list(bound.signature.parameters)[:2]]
        arrays = [values[v.slot] if type(v) is Hole else v for v in pair]
        flags = [type(v) is Hole and batched[v.slot] for v in pair]
        shapes = [shape(a)[f:] for a, f in zip(arrays, flags)]
        try:
            common = np.broadcast_shapes(*shapes)
        except ValueError:
            common = None
        if (numpy_function is np.array_equal and shapes[0] != shapes[1]) or common is None:
            return broadcast_batch(np.asarray(False), size)
        test = _batch.elementwise(equal, arrays, flags, size)
        return _primitive(all)(test, call=((Hole(0),), (("axis", tuple(range(1, ndim(test)))),)))

    rule.coverage = "explicit rule (elementwise equal, then all)"  # type: ignore[attr-defined]
    return rule


# --- positions -------------------------------------------------------------------------
argmax = nondiff_function(np.argmax)
argmin = nondiff_function(np.argmin)
nanargmax = nondiff_function(np.nanargmax)
nanargmin = nondiff_function(np.nanargmin)
argsort = nondiff_function(np.argsort)
argpartition = nondiff_function(np.argpartition)
lexsort = nondiff_function(np.lexsort)
argwhere = nondiff_function(np.argwhere, data_dependent_shape=True)
nonzero = nondiff_function(np.nonzero, data_dependent_shape=True, rows=True)
flatnonzero = nondiff_function(np.flatnonzero, data_dependent_shape=True)
searchsorted = nondiff_function(np.searchsorted)
digitize = nondiff_function(np.digitize)
count_nonzero = nondiff_function(np.count_nonzero)

# --- tests -----------------------------------------------------------------------------
isfinite = nondiff_ufunc(np.isfinite)
isnan = nondiff_ufunc(np.isnan)
isinf = nondiff_ufunc(np.isinf)
isposinf = nondiff_function(np.isposinf)
isneginf = nondiff_function(np.isneginf)
isreal = nondiff_function(np.isreal)
iscomplex = nondiff_function(np.iscomplex)
isrealobj = reads_dtype(np.isrealobj)
iscomplexobj = reads_dtype(np.iscomplexobj)
signbit = nondiff_ufunc(np.signbit)
isclose = nondiff_function(np.isclose)
allclose = nondiff_function(np.allclose)
array_equal = nondiff_function(np.array_equal)
array_equiv = nondiff_function(np.array_equiv)
isin = nondiff_function(np.isin)
any = nondiff_function(np.any)
all = nondiff_function(np.all)

# --- types and text -------------------------------------------------------------------
result_type = reads_dtype(np.result_type)
can_cast = reads_dtype(np.can_cast)
min_scalar_type = reads_value(np.min_scalar_type)
array2string = reads_value(np.array2string)
array_repr = reads_value(np.array_repr)
array_str = reads_value(np.array_str)

# --- comparisons and logic ------------------------------------------------------------
greater = nondiff_ufunc(np.greater)
greater_equal = nondiff_ufunc(np.greater_equal)
less = nondiff_ufunc(np.less)
less_equal = nondiff_ufunc(np.less_equal)
equal = nondiff_ufunc(np.equal)
not_equal = nondiff_ufunc(np.not_equal)
logical_and = nondiff_ufunc(np.logical_and)
logical_or = nondiff_ufunc(np.logical_or)
logical_not = nondiff_ufunc(np.logical_not)
logical_xor = nondiff_ufunc(np.logical_xor)

# --- integer arithmetic ---------------------------------------------------------------
floor_divide = nondiff_ufunc(np.floor_divide)
bitwise_and = nondiff_ufunc(np.bitwise_and)
bitwise_or = nondiff_ufunc(np.bitwise_or)
bitwise_xor = nondiff_ufunc(np.bitwise_xor)
invert = nondiff_ufunc(np.invert)
bitwise_not = invert
bitwise_invert = invert
left_shift = nondiff_ufunc(np.left_shift)
bitwise_left_shift = left_shift
right_shift = nondiff_ufunc(np.right_shift)
bitwise_right_shift = right_shift
bitwise_count = nondiff_ufunc(np.bitwise_count)
gcd = nondiff_ufunc(np.gcd)
lcm = nondiff_ufunc(np.lcm)
isnat = nondiff_ufunc(np.isnat)


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
    if isinstance(ar, (list, tuple)) and holds_tracer(ar):
        ar = asarray(ar)
    if not isinstance(ar, Tracer):
        return numpy_unique(ar, return_index, return_inverse, return_counts, axis=axis, **kwargs)
    traced: Any = ar
    options = tuple(sorted(kwargs.items()))
    first = unique_part_p(traced, part=1, axis=axis, options=options)
    if axis is None:
        values = traced.reshape(-1)[first]
    else:
        values = traced[(slice(None),) * (axis % traced.ndim) + (first,)]
    wanted = [1] * return_index + [2] * return_inverse + [3] * return_counts
    extras = [first if part == 1 else unique_part_p(traced, part=part, axis=axis, options=options) for part in wanted]
    return (values, *extras) if extras else values


def _unique_part(ar: Any, *, part: int, axis: int | None, options: tuple[tuple[str, Any], ...]) -> Any:
    """One of ``numpy.unique``'s index arrays: ``part`` 1 the first positions, 2 the inverse, 3 the counts."""
    numpy_unique: Any = np.unique
    return numpy_unique(ar, True, True, True, axis=axis, **dict(options))[part]


#: ``unique``'s positions, inverse and counts: recorded, no derivative; how many there are depends on the values
unique_part_p = primitive(_unique_part, "unique_part")
def_nondiff(unique_part_p)
unique_part_p.data_dependent_shape = True


FUNCTIONS[np.unique] = unique

for _function, _numpy, _default in [
    (argmax, np.argmax, None), (argmin, np.argmin, None), (nanargmax, np.nanargmax, None),
    (nanargmin, np.nanargmin, None), (argsort, np.argsort, -1), (argpartition, np.argpartition, -1),
    (count_nonzero, np.count_nonzero, None), (any, np.any, None), (all, np.all, None),
]:  # fmt: skip
    defbatch(_primitive(_function), along_axis(_numpy, _default))
for _function, _numpy, _name in [(searchsorted, np.searchsorted, "v"), (digitize, np.digitize, "x"), (isin, np.isin, "element")]:
    defbatch(_primitive(_function), mapped_over(_numpy, _name))
for _function in (isposinf, isneginf, isreal, iscomplex, isclose):
    defbatch(_primitive(_function), "elementwise")
defbatch(_primitive(allclose), all_of(isclose, np.allclose))
defbatch(_primitive(array_equal), equal_all(np.array_equal))
defbatch(_primitive(array_equiv), equal_all(np.array_equiv))
for _function in (argwhere, nonzero, flatnonzero):
    defbatch(_primitive(_function), "data-dependent")
defbatch(unique_part_p, "data-dependent")
