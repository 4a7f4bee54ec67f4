"""NumPy's dispatch protocols: plain ``numpy`` code on traced values.

``__array_ufunc__`` and ``__array_function__`` of a traced array land here.
Each NumPy function is looked up in an explicit table; one funcgrad does not
differentiate raises a ``TypeError`` naming it, before anything is computed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

from funcgrad import _errors

#: NumPy ufunc -> funcgrad primitive (or plain-valued function), for ``__array_ufunc__``
UFUNCS: dict[Any, Callable[..., Any]] = {}

#: NumPy function, or ``(ufunc, method)``, -> funcgrad implementation, for ``__array_function__``
FUNCTIONS: dict[Any, Callable[..., Any]] = {}

#: other packages' ufuncs whose rules live in a higher layer, loaded on first sight of one of them: the modules
#: that export the ufuncs by name -> (the name users know, the loader that imports the rules, which register
#: themselves into ``UFUNCS``); filled from above by ``load_rules_on_first_sight`` (funcgrad/__init__.py)
UFUNC_RULE_LOADERS: dict[tuple[str, ...], tuple[str, Callable[[], object]]] = {}

#: ufunc method name (``reduce``, ``accumulate``, ``outer``) -> its handler for any ufunc (filled by ``_reductions``)
UFUNC_METHODS: dict[str, Callable[..., Any]] = {}

#: the in-place writers (funcgrad/_prims/_writes.py fills this table, which sits above this module):
#: ``"out"(out, result, casting)``, ``"check"(ufunc, inputs, out, casting)``, ``"at"(ufunc, *inputs)``,
#: ``"where"(mask, result, out)``
WRITERS: dict[str, Callable[..., Any]] = {}

F = TypeVar("F", bound=Callable[..., Any])


def implements(*numpy_functions: Any) -> Callable[[F], F]:
    """Register a funcgrad function as the handler of NumPy functions on traced values."""

    def register(func: F) -> F:
        for numpy_function in numpy_functions:
            FUNCTIONS[numpy_function] = func
        return func

    return register


def load_rules_on_first_sight(exporters: tuple[str, ...], package: str, loader: Callable[[], object]) -> None:
    """Have ``loader`` (of a higher layer) import the rules of the ufuncs that ``exporters`` export, the first
    time one of them meets a traced value (``package`` is the name users know, for errors)."""
    UFUNC_RULE_LOADERS[exporters] = (package, loader)


def _exporter(ufunc: Any) -> tuple[str, Callable[[], object]] | None:
    """``(package, loader)`` when a loaded module of ``UFUNC_RULE_LOADERS`` exports ``ufunc``, else ``None``."""
    for exporters, found in UFUNC_RULE_LOADERS.items():
        for exporter in exporters:
            module = sys.modules.get(exporter)
            if module is not None and getattr(module, ufunc.__name__, None) is ufunc:
                return found
    return None


def load_rules(ufunc: Any) -> Callable[..., Any]:
    """The rule of a ufunc of another package (SciPy's), importing its funcgrad module on first sight."""
    found = _exporter(ufunc)
    if found is None:
        raise _errors.unsupported_numpy(f"numpy.{ufunc.__name__}")
    package, loader = found
    loader()  # the rules sit in a higher layer, which handed this loader down; they register into UFUNCS
    prim = UFUNCS.get(ufunc)
    if prim is None:
        raise _errors.unsupported_ufunc(package, ufunc.__name__)
    return prim


def store_out(out: Any, result: Any) -> Any:
    """``result`` written into ``out`` (a tuple of outputs too) and ``out`` returned: ``out=`` of a
    funcgrad.numpy function on traced values, with NumPy's unsafe cast, as ``numpy.sum(x, out=o)`` does."""
    if isinstance(out, tuple):
        return tuple(WRITERS["out"](o, r, "unsafe") for o, r in zip(out, result, strict=True))
    return WRITERS["out"](out, result, "unsafe")


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
        return store_out(out, handler(*args, **kwargs))
    return handler(*args, **kwargs)


# --- ufunc methods: reduce, accumulate, outer -------------------------------------------------
