"""The traced array: NumPy's operators, methods and dispatch protocols on a traced value."""

from __future__ import annotations

import dis
import sys
from collections.abc import Iterator
from types import FrameType
from typing import Any

import numpy as np

from funcgrad import _errors, _values
from funcgrad._prims import _at, _base, _contract, _dispatch, _inplace, _nondiff, _ufuncs, _writes
from funcgrad._rules import defresiduals
from funcgrad._trace import Primitive, Tracer, full_lower, read_value

_BINARY_OP = dis.opmap.get("BINARY_OP", -1)  # Python 3.11+: one opcode, the operator in its argument
_POWER_ARGUMENTS = frozenset(
    [k for k, (name, _) in enumerate(getattr(dis, "_nb_ops", ())) if name in ("NB_POWER", "NB_INPLACE_POWER")] or [8, 21]
)
_BINARY_POWER = dis.opmap.get("BINARY_POWER", -1)  # Python 3.10


def _power_operator(frame: FrameType) -> bool:
    """Whether ``frame`` is running ``a ** b``: NumPy's ``ndarray.__pow__`` (or a NumPy scalar's) hands a
    traced exponent to ``numpy.power`` through ``__array_ufunc__``, but the operator has fast paths of its
    own (``** 0.5`` is ``sqrt``, ``** 2`` is ``square``) that ``numpy.power`` lacks, so a traced ``a ** b``
    must record the operator, as ``ArrayTracer.__rpow__`` does for a Python number."""
    code, at = frame.f_code.co_code, frame.f_lasti
    if not 0 <= at < len(code) - 1:
        return False
    return (code[at] == _BINARY_OP and code[at + 1] in _POWER_ARGUMENTS) or code[at] == _BINARY_POWER


_MULTIPLY_ARGUMENTS = frozenset(
    [k for k, (name, _) in enumerate(getattr(dis, "_nb_ops", ())) if name in ("NB_MULTIPLY", "NB_INPLACE_MULTIPLY")]
    or [5, 18]
)
_BINARY_MULTIPLY = dis.opmap.get("BINARY_MULTIPLY", -1)  # Python 3.10


def _multiply_operator(frame: FrameType) -> bool:
    """Whether ``frame`` is running ``a * b`` (a NumPy scalar's ``__mul__`` hands a traced operand to
    ``numpy.multiply`` through ``__array_ufunc__``)."""
    code, at = frame.f_code.co_code, frame.f_lasti
    if not 0 <= at < len(code) - 1:
        return False
    return (code[at] == _BINARY_OP and code[at + 1] in _MULTIPLY_ARGUMENTS) or code[at] == _BINARY_MULTIPLY


def _multiply(reflected: bool) -> Any:
    """``*`` of traced values: ``multiply``, or ``multiply_operator`` for complex NumPy scalars."""
    plain = _operator(_ufuncs.multiply, reflected)

    def method(self: Tracer, other: Any) -> Any:
        if _ufuncs.scalar_product(self, other):  # types only: NumPy's complex scalar math, as eagerly
            return _ufuncs.multiply_operator(other, self) if reflected else _ufuncs.multiply_operator(self, other)
        return plain(self, other)

    return method


def _operator(prim: Primitive, reflected: bool) -> Any:
    """A binary operator of traced arrays: ``prim(self, other)`` (``prim(other, self)`` when ``reflected``).

    When no other level is involved the trace is the top one (what ``Primitive.__call__`` would
    conclude after its search), so the call goes to it directly: this is the forward pass's hot path.
    """
    if reflected:

        def method(self: Tracer, other: Any) -> Any:
            trace = self._trace
            if trace.active and (not isinstance(other, Tracer) or other._trace is trace):
                return trace.process(prim, (other, self), {})
            return prim(other, self)

    else:

        def method(self: Tracer, other: Any) -> Any:
            trace = self._trace
            if trace.active and (not isinstance(other, Tracer) or other._trace is trace):
                return trace.process(prim, (self, other), {})
            return prim(self, other)

    return method


class ArrayTracer(Tracer):
    """A traced NumPy value.  Behaves like an ``ndarray``; writes rebind it to their functional update."""

    #: set only on arrays that are viewed or are views (funcgrad/_prims/_inplace.py); never read on the hot path
    __slots__ = ("_alias",)
    __array_priority__ = 1000

    def __hash__(self) -> int:
        raise _errors.traced_hash()

    # --- what it is -----------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return _values.shape(self._value)

    @property
    def ndim(self) -> int:
        return _values.ndim(self._value)

    @property
    def size(self) -> int:
        return _values.size(self._value)

    @property
    def dtype(self) -> np.dtype[Any]:
        return _values.dtype(self._value)

    def __len__(self) -> int:
        s = self.shape
        if not s:
            raise _errors.len_of_scalar()
        return s[0]

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        return f"Traced<{full_lower(self._value)!r}, level {self._trace.level}>"

    # the text of the value, as an eager call prints it: a guarded read (jit re-records at another value)
    def __str__(self) -> str:
        return str(read_value(self, "str() of a traced value"))

    def __format__(self, spec: str) -> str:
        return format(read_value(self, "format() (an f-string) of a traced value"), spec)

    # --- conversions that would lose the derivative --------------------------------
    def __bool__(self) -> bool:
        return self._trace.bool_of(self)

    def __float__(self) -> float:
        raise _errors.number_of_traced(_errors.lost_derivative("float()"))

    def __int__(self) -> int:
        raise _errors.number_of_traced(_errors.lost_derivative("int()"))

    def __complex__(self) -> complex:
        raise _errors.number_of_traced(_errors.lost_derivative("complex()"))

    def __index__(self) -> int:
        raise _errors.lost_derivative("using as an index (__index__)")

    def item(self, *args: Any) -> Any:
        raise _errors.lost_derivative(".item()")

    def tolist(self) -> Any:
        raise _errors.lost_derivative(".tolist()")

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray[Any, Any]:
        if dtype is not None and np.dtype(dtype).kind in "biu":
            # an integer cast (``np.int64(x)``, ``np.asarray(x, int)``) has zero derivative: nothing is lost
            # NumPy wants a real array here, so the cast value is read: each transform sees it (a guard under jit)
            cast = _base.astype(self, dtype=np.dtype(dtype))
            return np.asarray(read_value(cast, f"an integer cast to {np.dtype(dtype)} (numpy.asarray)"))
        raise _errors.array_of_traced("numpy.asarray() / numpy.array()")

    # --- comparisons: zero-derivative primitives (plain results under grad/jvp, recorded by jit) ---------
    def __lt__(self, other: Any) -> Any:
        return _nondiff.less(self, other)

    def __le__(self, other: Any) -> Any:
        return _nondiff.less_equal(self, other)

    def __gt__(self, other: Any) -> Any:
        return _nondiff.greater(self, other)

    def __ge__(self, other: Any) -> Any:
        return _nondiff.greater_equal(self, other)

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        return _nondiff.equal(self, other)

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return _nondiff.not_equal(self, other)

    def __invert__(self) -> Any:
        return _nondiff.invert(self)

    def __and__(self, other: Any) -> Any:
        return _nondiff.bitwise_and(self, other)

    def __rand__(self, other: Any) -> Any:
        return _nondiff.bitwise_and(other, self)

    def __or__(self, other: Any) -> Any:
        return _nondiff.bitwise_or(self, other)

    def __ror__(self, other: Any) -> Any:
        return _nondiff.bitwise_or(other, self)

    def __xor__(self, other: Any) -> Any:
        return _nondiff.bitwise_xor(self, other)

    def __rxor__(self, other: Any) -> Any:
        return _nondiff.bitwise_xor(other, self)

    # --- arithmetic -----------------------------------------------------------------------
    def __neg__(self) -> Any:
        trace = self._trace
        if trace.active:
            return trace.process(_ufuncs.negative, (self,), {})  # _ufuncs.negative(self), dispatched here
        return _ufuncs.negative(self)

    def __pos__(self) -> Any:
        return _inplace.copy_of(self)

    def __abs__(self) -> Any:
        return _ufuncs.absolute(self)

    __add__ = _operator(_ufuncs.add, reflected=False)

    __radd__ = _operator(_ufuncs.add, reflected=True)

    __sub__ = _operator(_ufuncs.subtract, reflected=False)

    __rsub__ = _operator(_ufuncs.subtract, reflected=True)

    __mul__ = _multiply(reflected=False)

    __rmul__ = _multiply(reflected=True)

    __truediv__ = _operator(_ufuncs.divide, reflected=False)

    __rtruediv__ = _operator(_ufuncs.divide, reflected=True)

    def __pow__(self, other: Any) -> Any:
        return _ufuncs.pow_operator(self, other)

    def __rpow__(self, other: Any) -> Any:
        return _ufuncs.pow_operator(other, self)

    def __mod__(self, other: Any) -> Any:
        return _ufuncs.remainder(self, other)

    def __rmod__(self, other: Any) -> Any:
        return _ufuncs.remainder(other, self)

    def __floordiv__(self, other: Any) -> Any:
        return _nondiff.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Any:
        return _nondiff.floor_divide(other, self)

    def __divmod__(self, other: Any) -> Any:
        return _nondiff.floor_divide(self, other), _ufuncs.remainder(self, other)

    def __round__(self, ndigits: int | None = None) -> Any:
        return _ufuncs.round(self, ndigits or 0)

    def __rdivmod__(self, other: Any) -> Any:
        return _nondiff.floor_divide(other, self), _ufuncs.remainder(other, self)

    __matmul__ = _operator(_contract.matmul, reflected=False)

    __rmatmul__ = _operator(_contract.matmul, reflected=True)

    # --- indexing -------------------------------------------------------------------------
    def __getitem__(self, index: Any) -> Any:
        return _inplace.indexed(self, index, _at.getitem(self, index))

    def __setitem__(self, index: Any, value: Any) -> None:
        _inplace.setitem(self, index, value)

    # --- in-place arithmetic: the object keeps its identity, dtype and shape (NumPy's same_kind rule) -------
    def __iadd__(self, other: Any) -> Any:  # type: ignore[misc]
        return _inplace.augmented(self, other, np.add, _ufuncs.add)

    def __isub__(self, other: Any) -> Any:  # type: ignore[misc]
        return _inplace.augmented(self, other, np.subtract, _ufuncs.subtract)

    def __imul__(self, other: Any) -> Any:  # type: ignore[misc]
        return _inplace.augmented(self, other, np.multiply, _ufuncs.multiply)

    def __itruediv__(self, other: Any) -> Any:  # type: ignore[misc]
        return _inplace.augmented(self, other, np.true_divide, _ufuncs.divide)

    def __ipow__(self, other: Any) -> Any:
        return _inplace.augmented(self, other, np.power, _ufuncs.power)

    def __imod__(self, other: Any) -> Any:
        return _inplace.augmented(self, other, np.remainder, _ufuncs.remainder)

    def __ifloordiv__(self, other: Any) -> Any:
        return _inplace.augmented(self, other, np.floor_divide, _nondiff.floor_divide)

    def __iand__(self, other: Any) -> Any:
        return _inplace.augmented(self, other, np.bitwise_and, _nondiff.bitwise_and)

    def __ior__(self, other: Any) -> Any:
        return _inplace.augmented(self, other, np.bitwise_or, _nondiff.bitwise_or)

    def __ixor__(self, other: Any) -> Any:
        return _inplace.augmented(self, other, np.bitwise_xor, _nondiff.bitwise_xor)

    def __imatmul__(self, other: Any) -> Any:  # type: ignore[misc]
        return _inplace.augmented_matmul(self, other, _contract.matmul)

    @property
    def at(self) -> _at.AtIndexer:
        """Functional updates: ``x.at[idx].set(v)``, ``.add``, ``.multiply``, ``.divide``, ``.min``, ``.max``, ``.get``."""
        return _at.AtIndexer(self)

    # --- NumPy's dispatch protocols --------------------------------------------------
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method == "__call__" and not kwargs:
            if ufunc is np.power and _power_operator(sys._getframe(1)):
                return _ufuncs.pow_operator(*inputs)  # ``ndarray ** traced``: the operator, as eagerly
            if ufunc is np.multiply and _ufuncs.scalar_product(*inputs) and _multiply_operator(sys._getframe(1)):
                return _ufuncs.multiply_operator(*inputs)  # ``complex scalar * traced``: the scalar math, as eagerly
            # the common case (``ndarray * traced``): straight to the primitive, as array_ufunc would go
            prim = _ufuncs.UFUNCS.get(ufunc)
            if isinstance(prim, Primitive):
                return prim(*inputs)
        return _base.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        like = _writes.LIKE.get(func)
        if like is not None:  # a constructor called with like=self (NEP 35), or numpy.zeros_like(self)
            return like(self, *args, **kwargs)
        return _dispatch.array_function(func, args, kwargs)


# What the rules of the busiest primitives read (``defresiduals``): the tape keeps only a
# shape-and-dtype stand-in for the rest, so ``h @ W`` and ``h @ W + b`` in a layer
# ``tanh(h @ W + b)`` are freed as soon as the next operation has run (docs/performance.md).
defresiduals(_ufuncs.add, False, False, False)
defresiduals(_ufuncs.subtract, False, False, False)
defresiduals(_ufuncs.multiply, False, True, True)
defresiduals(_ufuncs.tanh, True, False)
defresiduals(_ufuncs.exp, True, False)
defresiduals(_contract.matmul, False, True, True)
defresiduals(_ufuncs.negative, False, False)
defresiduals(_ufuncs.divide, True, False, True)
defresiduals(_ufuncs.sin, False, True)
defresiduals(_ufuncs.cos, False, True)
defresiduals(_ufuncs.log, False, True)
defresiduals(_base.sum_p, False, False)
