"""The primitives every rule is written with, and the rule conventions.

``reshape_p``, ``broadcast_to_p``, ``sum_p`` (sum's rule broadcasts, broadcasting's sums), the
``real`` and ``astype`` casts, the ``Elementwise`` primitive class with NumPy's ufunc arguments,
and the conventions of docs/design.md: ``unbroadcast``, ``match_dtype``, ``lift``,
``broadcast_tangent``, ``batch_align``, ``broadcast_batch``, ``expand_reduced``.
Every other module of ``funcgrad._prims`` builds on this one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from funcgrad import _backends, _errors
from funcgrad._prims._dispatch import FUNCTIONS, UFUNC_METHODS, UFUNCS, WRITERS, implements, load_rules
from funcgrad._rules import REGISTRY, def_nondiff, defbatch, defjvp, defvjp, primitive
from funcgrad._sparsity import defsparsity
from funcgrad._trace import Primitive, Trace, Tracer, full_lower
from funcgrad._values import _PLAIN, batch_ndim, dtype, is_traced, ndim, shape
from funcgrad._values import shape as _shape_of
from funcgrad.tree import T, tree_map


def match_dtype(value: Any, like: Any) -> Any:
    """Give a cotangent the dtype of the primal it belongs to."""
    target = dtype(like)
    have = dtype(value)
    if have == target and type(value) in (int, float, complex) and target.kind in "fc":
        # a Python scalar is weak in NumPy's promotion: met with a float32 operand later in the sweep
        # it would drop to single precision (1j * g for an np.float64 g is a Python complex)
        return target.type(value)
    if have == target or target.kind not in "fc":
        return value

    if target.kind == "f" and have.kind == "c":
        value = real(value)
        have = dtype(value)
        if have == target:
            return value
    return astype(value, dtype=target)


#: (cotangent shape, operand shape) -> the axes ``unbroadcast`` sums: the extra leading ones (dropped),
#: then the operand's broadcast ones (kept)
_SUMMED: dict[tuple[tuple[int, ...], tuple[int, ...]], tuple[tuple[int, ...], tuple[int, ...]]] = {}


def _summed_axes(gshape: tuple[int, ...], xshape: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    key = (gshape, xshape)
    found = _SUMMED.get(key)
    if found is None:
        extra = len(gshape) - len(xshape)
        lead = tuple(i - len(gshape) for i in range(extra))
        kept = tuple(i - len(xshape) for i, n in enumerate(xshape) if n == 1 and gshape[extra + i] != 1)
        if len(_SUMMED) > 4096:
            _SUMMED.clear()  # many distinct shapes: start over rather than grow without bound
        found = _SUMMED[key] = (lead, kept)
    return found


def _plain_under(x: Any) -> Any:
    """The value under every level of tracing of ``x``, or the first traced value of a level that keeps
    its values (a batch, whose shape is one example's: ``shape`` stops there too)."""
    while isinstance(x, Tracer) and not x._trace.keeps_values:
        x = x._value
    return x


def unbroadcast(g: Any, x: Any) -> Any:
    """Sum the cotangent ``g`` back to the shape (and dtype) of operand ``x``.

    >>> unbroadcast(np.ones((3, 2)), np.zeros((1, 2)))
    array([[3., 3.]])
    """
    kind = type(x)
    if type(g) is np.ndarray and kind in _PLAIN:
        gshape = g.shape
        if gshape != x.shape and len(gshape) >= len(x.shape):
            # a plain cotangent (exact types: value-independent; traced and Dask values take the primitives
            # below): exactly the reductions ``sum_p`` makes there, without its dispatch
            lead, kept = _summed_axes(gshape, x.shape)
            if lead:
                g = np.add.reduce(g, axis=lead, keepdims=False)
            if kept:
                g = np.add.reduce(g, axis=kept, keepdims=True)
        return g if g.dtype == x.dtype else match_dtype(g, x)
    if type(g) in _PLAIN and kind in _PLAIN and g.shape == x.shape and g.dtype == x.dtype:
        return g  # the common case, decided without a function call
    if isinstance(g, Tracer):  # a sweep recorded by jit: the same case on the plain values underneath
        inner, under = _plain_under(g), _plain_under(x)
        if type(inner) in _PLAIN and type(under) in _PLAIN and inner.shape == under.shape and inner.dtype == under.dtype:
            return g
    xshape = shape(x)
    gshape = shape(g)
    if gshape != xshape:

        lead, kept = _summed_axes(gshape, xshape)
        if lead:
            g = sum_p(g, axis=lead, keepdims=False)
        if kept:
            g = sum_p(g, axis=kept, keepdims=True)
    return match_dtype(g, x)


def lift(t: Any, x: Any, ans: Any) -> Any:
    """Align the tangent of operand ``x`` with the output ``ans``.

    A tangent may carry leading batch axes; when ``x`` has fewer axes than
    ``ans``, ones are inserted after the batch axes so that broadcasting
    against ``ans``-shaped values lines up.
    """
    nx = ndim(x)
    na = ndim(ans)
    if nx == na:
        return t
    tshape = shape(t)
    nb = len(tshape) - nx
    if nb == 0:
        return t

    return reshape_p(t, newshape=tshape[:nb] + (1,) * (na - nx) + tshape[nb:])


def broadcast_tangent(t: Any, x: Any, ans: Any) -> Any:
    """Lift ``t`` and broadcast it to the full (batch + output) shape."""
    t = lift(t, x, ans)
    tshape = shape(t)
    # batch axes: a lifted batched tangent has more axes than ans; an unbatched
    # lower-rank one (lift leaves it alone) has fewer, and simply broadcasts
    nb = max(0, len(tshape) - ndim(ans))
    target = tshape[:nb] + shape(ans)
    if tshape == target:
        return t

    return broadcast_to_p(t, shape=target)


def batch_align(value: Any, rank: int) -> Any:
    """A batched value (batch axis first, under ``vmap``) with ones inserted after the batch axis,
    so that one example has ``rank`` axes and broadcasts against unbatched operands."""

    s = shape(value)
    missing = rank - (len(s) - 1)
    if missing <= 0:
        return value
    return reshape_p(value, newshape=s[:1] + (1,) * missing + s[1:])


def broadcast_batch(value: Any, size: int) -> Any:
    """An unbatched value repeated over a leading batch axis of ``size`` (only where a rule must write into it)."""

    s = shape(value)
    return broadcast_to_p(reshape_p(value, newshape=(1,) + s), shape=(size,) + s)


class Elementwise(Primitive):
    """A ufunc primitive.  Called with NumPy's extra arguments (``out``, ``dtype=``,
    ``where=``) on traced values it behaves as ``numpy.<ufunc>`` does on them:
    ``dtype`` casts, the others raise a ``TypeError`` that names them, before
    anything is recorded.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> fg.grad(lambda x: fnp.sin(x, dtype=np.float64))(0.0)
    np.float64(1.0)
    """

    __slots__ = ()
    #: array arguments of the ufunc; further positional arguments are NumPy's ``out``
    nin = 1

    def __call__(self, *args: Any, **params: Any) -> Any:
        if params or len(args) > self.nin:
            return self._with_numpy_arguments(args, params)
        if len(args) == 1:
            arg = args[0]
            if isinstance(arg, Tracer) and arg._trace.active:
                return arg._trace.process(self, args, params)  # one traced operand: its trace is the top one
        # Primitive.__call__, inlined: this is the hottest call in funcgrad
        top: Trace | None = None
        for arg in args:
            if isinstance(arg, Tracer):
                trace = arg._trace
                if top is None or trace.level > top.level:
                    top = trace
                elif trace is not top and trace.level == top.level:
                    raise _errors.escaped_tracer(self.name)
        if top is None:
            return self.impl(*args)
        if not top.active:
            raise _errors.escaped_tracer(self.name)
        return top.process(self, args, params)

    def _with_numpy_arguments(self, args: tuple[Any, ...], params: dict[str, Any]) -> Any:
        ufunc = self.impl
        if not isinstance(ufunc, np.ufunc):
            return Primitive.__call__(self, *args, **params)
        inputs, out = args[: ufunc.nin], args[ufunc.nin :]
        if out:
            params = {**params, "out": out}
        if not is_traced(*inputs, *_leaves(params.get("out"))):
            return ufunc(*inputs, **params)

        return array_ufunc(ufunc, "__call__", inputs, params)

    def __getattr__(self, name: str) -> Any:
        # ``fnp.add.reduce``, ``.accumulate``, ``.outer``, ``.at``, ``.identity``, ...: NumPy's own ufunc's
        # attribute; NumPy hands traced operands back to funcgrad through ``__array_ufunc__``
        if name in _UFUNC_ATTRIBUTES and isinstance(self.impl, np.ufunc):
            return getattr(self.impl, name)
        raise _errors.object_has_no_attribute(self, name)


#: the ufunc attributes a funcgrad.numpy ufunc takes from NumPy's (its methods as bound NumPy methods)
_UFUNC_ATTRIBUTES = frozenset(
    {"reduce", "accumulate", "outer", "at", "reduceat", "identity", "nout", "nargs", "ntypes", "types", "signature"}
)


class BinaryElementwise(Elementwise):
    """A two-argument ufunc primitive (see ``Elementwise``)."""

    __slots__ = ()
    nin = 2


def _leaves(out: Any) -> tuple[Any, ...]:
    return out if isinstance(out, tuple) else (out,)


def _register(ufunc: Any, name: str | None = None, nin: int | None = None) -> Primitive:
    kind = BinaryElementwise if (nin or getattr(ufunc, "nin", 1)) == 2 else Elementwise
    prim = kind(name or ufunc.__name__, ufunc)
    REGISTRY[prim.name] = prim
    if isinstance(ufunc, np.ufunc):
        UFUNCS[ufunc] = prim
    defbatch(prim, "elementwise")
    defsparsity(prim, "elementwise")
    return prim


# --- complex parts and casts ------------------------------------------------
real = _register(np.real, "real")
defvjp(real, lambda g, ans, x: match_dtype(g, x))
defjvp(real, lambda t, ans, x: real(t), batched=True)
implements(np.real)(real)


def _astype(x: Any, dtype: Any) -> Any:
    if _backends.is_foreign(x):
        return x.astype(dtype)  # stays lazy
    return np.asarray(x).astype(dtype)


def _astype_jvp(t: Any, ans: Any, x: Any, dtype: Any) -> Any:
    target = np.dtype(dtype)
    if target.kind not in "fc":
        return None
    return match_dtype(t, ans)


astype = primitive(_astype, "astype")
defvjp(astype, lambda g, ans, x, dtype: match_dtype(g, x) if np.dtype(dtype).kind in "fc" else None)
defjvp(astype, _astype_jvp, batched=True)
defbatch(astype, "elementwise")
defsparsity(astype, "elementwise", "linear")


def cast(x: Any, dtype: Any, **kwargs: Any) -> Any:
    """``numpy.astype``: a cast; derivatives pass through float and complex casts."""
    if not isinstance(x, Tracer):
        return np.asarray(x).astype(dtype, **kwargs)
    return astype(x, dtype=np.dtype(dtype))


def _reshape(x: Any, newshape: tuple[int, ...]) -> Any:
    return np.reshape(x, newshape)


reshape_p = primitive(_reshape, "reshape")
defvjp(reshape_p, lambda g, ans, x, newshape: reshape_p(g, newshape=shape(x)))
defjvp(
    reshape_p,
    lambda t, ans, x, newshape: reshape_p(t, newshape=shape(t)[: batch_ndim(t, x)] + shape(ans)),
    batched=True,
)


def _reshape_batch(prim: Any, values: list[Any], batched: list[bool], size: int, newshape: tuple[int, ...]) -> Any:
    x = values[0]
    example = shape(x)[1:]
    if -1 in newshape:  # spell the unknown length out: with an empty batch it cannot be inferred
        known = int(np.prod([n for n in newshape if n != -1], dtype=np.int64))
        missing = int(np.prod(example, dtype=np.int64)) // known if known else 0
        newshape = tuple(missing if n == -1 else n for n in newshape)
    return reshape_p(x, newshape=(size,) + tuple(newshape))


defbatch(reshape_p, _reshape_batch)
defsparsity(reshape_p, "moves", "linear")


def _transpose(x: Any, perm: tuple[int, ...]) -> Any:
    return np.transpose(x, perm)


def _shifted(perm: tuple[int, ...], nb: int) -> tuple[int, ...]:
    return tuple(range(nb)) + tuple(p + nb for p in perm)


transpose_p = primitive(_transpose, "transpose")
defvjp(transpose_p, lambda g, ans, x, perm: transpose_p(g, perm=tuple(int(i) for i in np.argsort(perm))))
defjvp(transpose_p, lambda t, ans, x, perm: transpose_p(t, perm=_shifted(perm, batch_ndim(t, x))), batched=True)
defbatch(
    transpose_p,
    lambda prim, values, batched, size, perm: transpose_p(
        values[0], perm=_shifted(tuple(p % len(perm) for p in perm), 1)
    ),
)
defsparsity(transpose_p, "moves", "linear")


def _broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    return np.broadcast_to(x, shape)


broadcast_to_p = primitive(_broadcast_to, "broadcast_to")
defvjp(broadcast_to_p, lambda g, ans, x, shape: unbroadcast(g, x))
defjvp(
    broadcast_to_p,
    lambda t, ans, x, shape: broadcast_to_p(lift(t, x, ans), shape=_batch_shape(t, x) + shape),
    batched=True,
)
defbatch(
    broadcast_to_p,
    lambda prim, values, batched, size, shape: broadcast_to_p(batch_align(values[0], len(shape)), shape=(size,) + shape),
)
defsparsity(broadcast_to_p, "moves", "linear")


def _batch_shape(t: Any, x: Any) -> tuple[int, ...]:
    return shape(t)[: batch_ndim(t, x)]


def move_axes(x: Any, source: Sequence[int] | int, destination: Sequence[int] | int) -> Any:
    """``numpy.moveaxis`` as a transpose."""
    rank = len(shape(x))
    src = [s % rank for s in np.atleast_1d(source).tolist()]
    dst = [d % rank for d in np.atleast_1d(destination).tolist()]
    order = [n for n in range(rank) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    if order == list(range(rank)):
        return x
    return transpose_p(x, perm=tuple(order))


def kept_shape(xshape: tuple[int, ...], axis: tuple[int, ...]) -> tuple[int, ...]:
    """``xshape`` with the reduced (negative) axes set to one."""
    rank = len(xshape)
    reduced = {a + rank for a in axis}
    return tuple(1 if i in reduced else n for i, n in enumerate(xshape))


#: below this many elements a plain cotangent is spread into a fresh array: cheaper than a broadcast view
_SMALL = 1 << 14


#: (input shape, axes, keepdims, cotangent shape) -> the shape the cotangent is reshaped to, or None
_KEPT: dict[tuple[Any, ...], tuple[int, ...] | None] = {}


def _kept_for(xshape: tuple[int, ...], axis: tuple[int, ...], keepdims: bool, gshape: tuple[int, ...]) -> Any:
    """The shape a reduction's cotangent is reshaped to before it is broadcast back, or None (no reshape)."""
    key = (xshape, axis, keepdims, gshape)
    try:
        return _KEPT[key]
    except KeyError:
        pass
    kept = None
    if not keepdims:
        kept = kept_shape(xshape, axis)
        lead = len(kept) - len(gshape)
        # broadcasting inserts leading ones itself: reshape only when a reduced axis is not leading
        if not (lead < 0 or kept[lead:] != gshape or any(n != 1 for n in kept[:lead])):
            kept = None
    if len(_KEPT) > 4096:
        _KEPT.clear()  # many distinct shapes: start over rather than grow without bound
    _KEPT[key] = kept
    return kept


def expand_reduced(g: Any, x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    """Broadcast the cotangent of a reduction back to the input's shape.

    >>> expand_reduced(np.array([1.0, 2.0]), np.zeros((2, 3)), (-1,), False)
    array([[1., 1., 1.],
           [2., 2., 2.]])
    """
    kind = type(g)
    if (kind is np.ndarray or kind is np.float64 or kind is np.float32) and type(x) in _PLAIN:
        # a plain cotangent of a plain input (exact types, value-independent; traced or Dask values take the
        # primitives below): what those primitives compute, without their dispatch
        xshape = x.shape
        gshape = g.shape
        if gshape == xshape:
            return g
        kept = _kept_for(xshape, axis, keepdims, gshape)
        if kept is not None:
            g = g.reshape(kept)
        return _spread(g, xshape)
    xshape = shape(x)
    if not isinstance(g, Tracer) and _backends.is_foreign(full_lower(x)):
        # a plain cotangent carries nothing to record: spread it over a Dask input chunk by chunk
        return _backends.broadcast_like(g, kept_shape(xshape, axis), full_lower(x))
    gshape = shape(g)
    if gshape == xshape:
        return g
    kept = _kept_for(xshape, axis, keepdims, gshape)
    if kept is not None:
        g = reshape_p(g, newshape=kept)
    return spread_p(g, shape=xshape)


def _spread(g: Any, shape: tuple[int, ...]) -> Any:
    """``g`` broadcast to ``shape``: a fresh array when small (cheaper than a view downstream), else a view.

    One function for the plain cotangent and the recorded primitive: the layout picks NumPy's kernels
    (a matmul with a zero-stride operand rounds differently), so jit's replay must make the eager one.
    """
    if math.prod(shape) <= _SMALL and not _backends.is_foreign(g):
        out = np.empty(shape, dtype(g))
        out[...] = g
        return out
    return np.broadcast_to(g, shape)


#: a reduction's cotangent spread over the reduced input (``broadcast_to`` with ``_spread``'s layout)
spread_p = primitive(_spread, "spread")
defvjp(spread_p, lambda g, ans, x, shape: unbroadcast(g, x))
defjvp(
    spread_p,
    lambda t, ans, x, shape: spread_p(lift(t, x, ans), shape=_shape_of(t)[: batch_ndim(t, x)] + shape),
    batched=True,
)
defbatch(
    spread_p,
    lambda prim, values, batched, size, shape: spread_p(batch_align(values[0], len(shape)), shape=(size,) + shape),
)
defsparsity(spread_p, "moves", "linear")


def _sum(x: Any, axis: tuple[int, ...], keepdims: bool) -> Any:
    if type(x) is np.ndarray:
        # what np.sum calls, without its Python wrapper (the stubs type keepdims only as a literal)
        return np.add.reduce(x, axis=axis, keepdims=keepdims)  # type: ignore[call-overload]
    return np.sum(x, axis=axis, keepdims=keepdims)


sum_p = primitive(_sum, "sum")
defvjp(sum_p, lambda g, ans, x, axis, keepdims: expand_reduced(g, x, axis, keepdims))
defjvp(sum_p, lambda t, ans, x, axis, keepdims: sum_p(t, axis=axis, keepdims=keepdims), batched=True)
defbatch(sum_p, "leading")
defsparsity(sum_p, "reduce", "linear")


def _outputs(out: Any) -> tuple[Any, ...] | None:
    """``out=`` as a tuple of outputs (NumPy passes a tuple), or None when nothing is to be written."""
    outs = out if isinstance(out, tuple) else (out,)
    return None if all(o is None for o in outs) else outs


def _with_out(ufunc: Any, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any], outs: tuple[Any, ...]) -> Any:
    """``ufunc.method(*inputs, out=outs, ...)``: the result computed as without ``out``, then written into
    each output (rebound when traced), under NumPy's ``casting`` and ``where`` rules."""
    casting, where = "unsafe", True  # a reduction's where= selects its inputs: it stays with the method
    if method == "__call__":
        casting = kwargs.pop("casting", "same_kind")
        where = kwargs.pop("where", True)
        for out in outs:
            if out is not None:
                WRITERS["check"](ufunc, inputs, out, casting)
    result = array_ufunc(ufunc, method, inputs, kwargs)
    results = result if len(outs) > 1 else (result,)
    for out, value in zip(outs, results):
        if out is not None:
            if where is not True:
                value = WRITERS["where"](where, value, out)
            WRITERS["out"](out, value, casting)
    return outs if len(outs) > 1 else outs[0]


def array_ufunc(ufunc: Any, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Handle ``ufunc.method(*inputs, **kwargs)`` with a traced input (``__array_ufunc__``)."""
    if "out" in kwargs:
        kwargs = dict(kwargs)
        outs = _outputs(kwargs.pop("out"))
        if outs is not None:
            return _with_out(ufunc, method, inputs, kwargs, outs)
    if method == "at":
        return WRITERS["at"](ufunc, *inputs, **kwargs)
    if method != "__call__":
        handler = FUNCTIONS.get((ufunc, method))
        if handler is not None:
            return handler(*inputs, **kwargs)
        generic = UFUNC_METHODS.get(method)
        if generic is None:
            raise _errors.unsupported_numpy(f"numpy.{ufunc.__name__}.{method}")
        return generic(ufunc, *inputs, **kwargs)
    prim = UFUNCS.get(ufunc) or load_rules(ufunc)
    if not isinstance(prim, Primitive):
        # a function with no derivative: it reads the values and takes NumPy's keywords
        return prim(*inputs, **kwargs)
    extra = {k: v for k, v in kwargs.items() if not (k == "casting" or k == "where" and v is True)}
    if extra:
        if set(extra) == {"dtype"}:
            return astype(prim(*inputs), dtype=extra["dtype"])
        raise _errors.ufunc_keywords(ufunc.__name__, sorted(extra))
    return prim(*inputs)


def stop_gradient(x: T) -> T:
    """``x`` unchanged, with zero derivative in every mode and at every order (pytrees too).

    The functional ``detach``:

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: fg.stop_gradient(x * x) * x)(3.0)
    np.float64(9.0)
    """
    if isinstance(x, Tracer):
        return stop_gradient_p(x)  # type: ignore[no-any-return]  # one traced array: the tree_map below, without the walk
    return tree_map(lambda leaf: stop_gradient_p(leaf) if isinstance(leaf, Tracer) else leaf, x)  # type: ignore[no-any-return]


def _identity(x: Any) -> Any:
    return x


#: the identity with zero rules: ``grad``/``jvp`` drop it (a plain value), ``jit`` records it
stop_gradient_p = primitive(_identity, "stop_gradient")
def_nondiff(stop_gradient_p)
defbatch(stop_gradient_p, "leading")
