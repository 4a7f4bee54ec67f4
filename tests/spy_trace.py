"""A test-only outermost transform that records every primitive and refuses every hidden value read.

``spy(fun)(*args)`` runs ``fun`` with each argument wrapped by a ``SpyTrace``,
the lowest level, so any transform opened inside (``grad``, ``jvp``) sees the
spy's values as constants of a lower level, as it would see ``jit``'s.  What
every other level (and ``full_lower``) finds underneath a spy value is an
``Unread``: its shape and dtype, nothing else.  Reading its contents
(``numpy.asarray``, a comparison, arithmetic, ``bool``, indexing) raises
``HiddenRead``.  The sanctioned reads go through the spy's own hooks and are
logged: ``bool()`` (``Trace.bool_of``) and ``funcgrad._trace.read_value``.
So a rule or wrapper that reads a concrete value behind the outer
transform's back fails here, where under ``jit`` it would bake a stale value
into the replay and under Dask force a computation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import funcgrad as fg
from funcgrad._trace import Primitive, Trace, Tracer, new_level, read_value
from funcgrad._values import Shaped
from funcgrad.numpy import ArrayTracer

#: the slot that holds a tracer's value (the spy's tracers hide it behind a property)
_SLOT: Any = Tracer.__dict__["_value"]


class HiddenRead(AssertionError):
    """A concrete value was read without the outer transform seeing it."""


class Unread(Shaped):
    """What lies under a spy value for everyone but the spy: shape and dtype only."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise HiddenRead(
            f"a value of shape {self.shape} and dtype {self.dtype} traced by an outer transform was read "
            "directly (full_lower + NumPy); use a primitive, bool() or funcgrad._trace.read_value"
        )

    __array__ = _refuse  # ufuncs refuse too: Shaped sets __array_ufunc__ = None (and so is not a foreign array)
    __bool__ = _refuse
    __float__ = _refuse
    __int__ = _refuse
    __complex__ = _refuse
    __index__ = _refuse
    __getitem__ = _refuse
    __iter__ = _refuse
    __eq__ = _refuse  # type: ignore[assignment]
    __ne__ = _refuse  # type: ignore[assignment]
    __lt__ = _refuse
    __le__ = _refuse
    __gt__ = _refuse
    __ge__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _refuse
    __truediv__ = __rtruediv__ = __pow__ = __rpow__ = __neg__ = __abs__ = _refuse
    __hash__ = None  # type: ignore[assignment]

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object")
        return int(self.shape[0])


class SpyTracer(ArrayTracer):
    """A value of the spy level: its own trace reads it through the slot, everyone else sees an ``Unread``."""

    __slots__ = ()

    @property  # type: ignore[override]
    def _value(self) -> Any:
        value = _SLOT.__get__(self)
        return Unread(np.asarray(value)) if isinstance(value, (np.ndarray, np.generic)) else value

    @_value.setter
    def _value(self, value: Any) -> None:
        _SLOT.__set__(self, np.asarray(value) if isinstance(value, (bool, int, float, complex)) else value)


class SpyTrace(Trace):
    """Records every primitive it is handed (``calls``) and every sanctioned read (``reads``)."""

    __slots__ = ("calls", "reads")

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.calls: list[str] = []
        self.reads: list[str] = []

    def _own(self, value: Any) -> Any:
        return _SLOT.__get__(value) if isinstance(value, SpyTracer) and value._trace is self else value

    def process(self, prim: Primitive, args: tuple[Any, ...], params: dict[str, Any]) -> Any:
        self.calls.append(prim.name)
        ans = prim(*[self._own(a) for a in args], **params)
        if isinstance(ans, tuple):
            raise AssertionError(f"primitive {prim.name} returned a tuple: a traced result must be one array")
        return SpyTracer(ans, self, None)

    def bool_of(self, tracer: Tracer) -> bool:
        self.reads.append("bool")
        return bool(self._own(tracer))

    def read_value(self, tracer: Tracer, why: str) -> Any:
        self.reads.append(why)
        return read_value(self._own(tracer), why)


def spy(fun: Callable[..., Any]) -> Callable[..., tuple[Any, SpyTrace]]:
    """``fun`` under an outermost ``SpyTrace``: returns ``(fun's result with spy values unwrapped, the trace)``."""

    def run(*args: Any) -> tuple[Any, SpyTrace]:
        with new_level() as level:
            trace = SpyTrace(level)
            try:
                out = fun(*[SpyTracer(a, trace, None) for a in args])
            finally:
                trace.active = False
        return fg.tree.tree_map(trace._own, out), trace

    return run
