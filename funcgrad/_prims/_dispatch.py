"""NumPy's dispatch protocols: plain ``numpy`` code on traced values.

``__array_ufunc__`` and ``__array_function__`` of a traced array land here.
Each NumPy function is looked up in an explicit table; one funcgrad does not
differentiate raises a ``TypeError`` naming it, before anything is computed.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from funcgrad import _errors
from funcgrad._trace import Primitive, Tracer

#: NumPy ufunc -> funcgrad primitive (or plain-valued function), for ``__array_ufunc__``
UFUNCS: dict[Any, Callable[..., Any]] = {}

#: NumPy function, or ``(ufunc, method)``, -> funcgrad implementation, for ``__array_function__``
FUNCTIONS: dict[Any, Callable[..., Any]] = {}

#: packages whose ufuncs have rules in a funcgrad module that is loaded on first sight of one of them:
#: the modules that export the ufuncs by name -> (the name users know, the module holding the rules)
UFUNC_RULE_MODULES: dict[tuple[str, ...], tuple[str, str]] = {
    ("scipy.special", "scipy.special._ufuncs", "scipy.special._special_ufuncs"): (
        "scipy.special",
        "funcgrad.scipy.special",
    ),
}

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


#: the in-place writers (funcgrad/_prims/_writes.py fills this table, which sits above this module):
#: ``"out"(out, result, casting)``, ``"check"(ufunc, inputs, out, casting)``, ``"at"(ufunc, *inputs)``,
#: ``"where"(mask, result, out)``
WRITERS: dict[str, Callable[..., Any]] = {}


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
        generic = _UFUNC_METHODS.get(method)
        if generic is None:
            raise _errors.unsupported_numpy(f"numpy.{ufunc.__name__}.{method}")
        return generic(ufunc, *inputs, **kwargs)
    prim = UFUNCS.get(ufunc) or _load_rules(ufunc)
    if not isinstance(prim, Primitive):
        # a function with no derivative: it reads the values and takes NumPy's keywords
        return prim(*inputs, **kwargs)
    extra = {k: v for k, v in kwargs.items() if not (k == "casting" or k == "where" and v is True)}
    if extra:
        if set(extra) == {"dtype"}:
            from funcgrad._prims._ufuncs import astype

            return astype(prim(*inputs), dtype=extra["dtype"])
        raise TypeError(
            f"funcgrad: numpy.{ufunc.__name__} on traced values does not support the keyword(s) "
            f"{sorted(extra)}; call it without them (use fnp.where for masking)."
        )
    return prim(*inputs)


def _exporter(ufunc: Any) -> tuple[str, str] | None:
    """``(package, rule module)`` when a loaded package of ``UFUNC_RULE_MODULES`` exports ``ufunc``, else ``None``."""
    for exporters, found in UFUNC_RULE_MODULES.items():
        for exporter in exporters:
            module = sys.modules.get(exporter)
            if module is not None and getattr(module, ufunc.__name__, None) is ufunc:
                return found
    return None


def _load_rules(ufunc: Any) -> Callable[..., Any]:
    """The rule of a ufunc of another package (SciPy's), importing its funcgrad module on first sight."""
    found = _exporter(ufunc)
    if found is None:
        raise _errors.unsupported_numpy(f"numpy.{ufunc.__name__}")
    package, rule_module = found
    # by name, from the table: the rules sit in a higher layer and register themselves into UFUNCS on import
    importlib.import_module(rule_module)
    prim = UFUNCS.get(ufunc)
    if prim is None:
        raise _errors.unsupported_ufunc(package, ufunc.__name__)
    return prim


def array_function(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Handle ``func(*args, **kwargs)`` with a traced argument (``__array_function__``)."""
    handler = FUNCTIONS.get(func)
    if handler is None:
        module = getattr(func, "__module__", "numpy") or "numpy"
        raise _errors.unsupported_numpy(f"{module}.{getattr(func, '__name__', func)}")
    if kwargs.get("out") is not None:
        # ``numpy.sum(x, out=o)``: the result as without ``out``, written into ``o`` (NumPy's unsafe cast)
        kwargs = dict(kwargs)
        out = kwargs.pop("out")
        return WRITERS["out"](out, handler(*args, **kwargs), "unsafe")
    return handler(*args, **kwargs)


# --- ufunc methods: reduce, accumulate, outer -------------------------------------------------

#: ufunc -> the funcgrad.numpy function that ``ufunc.reduce`` / ``ufunc.accumulate`` is
_REDUCTIONS = {
    "add": "sum",
    "multiply": "prod",
    "maximum": "max",
    "minimum": "min",
    "logical_and": "all",
    "logical_or": "any",
}
_ACCUMULATIONS = {"add": "cumsum", "multiply": "cumprod"}


def _method_function(ufunc: Any, method: str, table: dict[str, str]) -> Callable[..., Any]:
    import funcgrad.numpy as fnp

    function = getattr(fnp, table.get(ufunc.__name__, ""), None)
    if function is None:
        raise _errors.unsupported_numpy(f"numpy.{ufunc.__name__}.{method}")
    return function


def _refuse_keywords(ufunc: Any, method: str, kwargs: dict[str, Any]) -> None:
    if kwargs:
        raise TypeError(
            f"funcgrad: numpy.{ufunc.__name__}.{method} on traced values does not support the keyword(s) "
            f"{sorted(kwargs)}; call it without them (mask with fnp.where first if you meant where=)."
        )


def _reduce(ufunc: Any, array: Any, axis: Any = 0, dtype: Any = None, out: Any = None, **kwargs: Any) -> Any:
    """``ufunc.reduce`` as the matching reduction: ``np.add.reduce`` is ``fnp.sum``, and so on."""
    function = _method_function(ufunc, "reduce", _REDUCTIONS)
    keepdims = bool(kwargs.pop("keepdims", False))
    initial = kwargs.pop("initial", None)
    if kwargs.get("where", True) is True:
        kwargs.pop("where", None)
    _refuse_keywords(ufunc, "reduce", kwargs)
    if out is not None:
        raise _errors.inplace_assignment()
    if dtype is not None:
        import funcgrad.numpy as fnp

        array = fnp.astype(array, dtype)
    result = function(array, axis=axis, keepdims=keepdims)
    return result if initial is None else UFUNCS[ufunc](result, initial)


def _accumulate(ufunc: Any, array: Any, axis: int = 0, dtype: Any = None, out: Any = None, **kwargs: Any) -> Any:
    """``ufunc.accumulate`` as the matching cumulative function: ``np.add.accumulate`` is ``fnp.cumsum``."""
    function = _method_function(ufunc, "accumulate", _ACCUMULATIONS)
    _refuse_keywords(ufunc, "accumulate", kwargs)
    if out is not None:
        raise _errors.inplace_assignment()
    return function(array, axis=axis, dtype=dtype)


def _outer(ufunc: Any, a: Any, b: Any, **kwargs: Any) -> Any:
    """``ufunc.outer(a, b)``: ``ufunc`` of ``a`` (with ``b.ndim`` trailing unit axes) and ``b``."""
    import funcgrad.numpy as fnp

    function = UFUNCS.get(ufunc)
    if function is None or ufunc.nin != 2:
        raise _errors.unsupported_numpy(f"numpy.{ufunc.__name__}.outer")
    _refuse_keywords(ufunc, "outer", kwargs)
    a, b = fnp.asarray(a), fnp.asarray(b)
    return function(fnp.reshape(a, fnp.shape(a) + (1,) * fnp.ndim(b)), b)


_UFUNC_METHODS: dict[str, Callable[..., Any]] = {"reduce": _reduce, "accumulate": _accumulate, "outer": _outer}
