"""NumPy's dispatch protocols: plain ``numpy`` code on traced values.

``__array_ufunc__`` and ``__array_function__`` of a traced array land here.
Each NumPy function is looked up in an explicit table; one funcgrad does not
differentiate raises a ``TypeError`` naming it, before anything is computed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from funcgrad import _errors
from funcgrad._trace import Primitive, Tracer

#: NumPy ufunc -> funcgrad primitive (or plain-valued function), for ``__array_ufunc__``
UFUNCS: dict[Any, Callable[..., Any]] = {}

#: NumPy function, or ``(ufunc, method)``, -> funcgrad implementation, for ``__array_function__``
FUNCTIONS: dict[Any, Callable[..., Any]] = {}

F = TypeVar("F", bound=Callable[..., Any])


def implements(*numpy_functions: Any) -> Callable[[F], F]:
    """Register a funcgrad function as the handler of NumPy functions on traced values."""

    def register(func: F) -> F:
        for numpy_function in numpy_functions:
            FUNCTIONS[numpy_function] = func
        return func

    return register


def _holds_tracer(value: Any) -> bool:
    if isinstance(value, Tracer):
        return True
    if isinstance(value, (list, tuple)):
        return any(_holds_tracer(v) for v in value)
    return False


def array_ufunc(ufunc: Any, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Handle ``ufunc.method(*inputs, **kwargs)`` with a traced input (``__array_ufunc__``)."""
    if _holds_tracer(kwargs.get("out")):
        raise _errors.inplace_assignment()
    if method == "at":
        raise _errors.inplace_assignment()
    if method != "__call__":
        handler = FUNCTIONS.get((ufunc, method))
        if handler is None:
            raise _errors.unsupported_numpy(f"numpy.{ufunc.__name__}.{method}")
        return handler(*inputs, **kwargs)
    prim = UFUNCS.get(ufunc)
    if prim is None:
        raise _errors.unsupported_numpy(f"numpy.{ufunc.__name__}")
    if not isinstance(prim, Primitive):
        # a function with no derivative: it reads the values and takes NumPy's keywords
        return prim(*inputs, **kwargs)
    if kwargs.get("out") is not None:
        raise _errors.inplace_assignment()
    extra = {k: v for k, v in kwargs.items() if k != "out"}
    if extra:
        if set(extra) == {"dtype"}:
            from funcgrad.numpy._ufuncs import astype

            return astype(prim(*inputs), dtype=extra["dtype"])
        raise TypeError(
            f"funcgrad: numpy.{ufunc.__name__} on traced values does not support the keyword(s) "
            f"{sorted(extra)}; call it without them (use fnp.where for masking)."
        )
    return prim(*inputs)


def array_function(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    handler = FUNCTIONS.get(func)
    if handler is None:
        module = getattr(func, "__module__", "numpy") or "numpy"
        raise _errors.unsupported_numpy(f"{module}.{getattr(func, '__name__', func)}")
    return handler(*args, **kwargs)
