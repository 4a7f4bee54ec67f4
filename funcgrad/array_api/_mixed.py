"""Traced values mixed with NumPy constants: one namespace, as for any single library.

array-api-compat's ``array_namespace`` (and the copies SciPy and scikit-learn
vendor) refuses arrays of two libraries ("Multiple namespaces for array
inputs"), so ``rbf_kernel(traced, numpy_array)`` would fail although
``funcgrad.array_api`` takes NumPy arrays in every function (as constants).
Every binding of that function in those packages is wrapped (once: the
modules already imported when funcgrad is, and each later one as soon as it
has executed, through a finder that finds nothing itself and only wraps the
loader another finder returns).  The wrapper changes one outcome only and
leaves every other call to the original:

* a call holding no funcgrad traced value goes to the original, unchanged
  (the same arguments, the same result or error): other libraries' arrays,
  and NumPy alone, are never affected;
* a call holding traced values and otherwise only NumPy arrays, NumPy scalars,
  Python scalars or ``None`` (what the original refuses as two namespaces, or
  answers with ``funcgrad.array_api`` when all are traced) gets
  ``funcgrad.array_api``, whose functions return for NumPy inputs exactly
  what NumPy returns;
* traced values mixed with a third library's arrays (PyTorch, CuPy, JAX), or
  ``use_compat=True``, go to the original, which refuses them as before.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from funcgrad._trace import Tracer

#: the packages whose bindings of array-api-compat's lookup are wrapped: array-api-compat, array-api-extra,
#: and the copies SciPy and scikit-learn vendor (array-api-extra binds the name at import, hence every module)
PACKAGES = (
    "array_api_compat",
    "array_api_extra",
    "scipy._lib.array_api_compat",
    "scipy._lib.array_api_extra",
    "scipy._lib._array_api_compat_vendor",
    "sklearn.externals.array_api_compat",
    "sklearn.externals.array_api_extra",
    "sklearn.externals._array_api_compat_vendor",
)
_NAMES = ("array_namespace", "get_namespace")  # get_namespace is array-api-compat's alias of array_namespace
_PLAIN = (np.ndarray, np.generic, int, float, complex, type(None))


def _funcgrad_namespace(xs: tuple[Any, ...], kwargs: dict[str, Any], namespace: ModuleType) -> ModuleType | None:
    """``namespace`` when ``xs`` hold traced values and otherwise only NumPy or Python constants, else ``None``."""
    if kwargs.get("use_compat") is True:
        return None
    traced = False
    for x in xs:
        if isinstance(x, Tracer):
            traced = True
        elif not isinstance(x, _PLAIN):
            return None
    return namespace if traced else None


def _is_lookup(value: Any) -> bool:
    """Whether ``value`` is (a copy of) array-api-compat's own ``array_namespace``, not yet wrapped."""
    return (
        getattr(value, "__name__", None) == "array_namespace"
        and str(getattr(value, "__module__", "")).endswith("array_api_compat.common._helpers")
        and not hasattr(value, "__funcgrad_mixed__")
    )


_wrappers: dict[Any, Callable[..., Any]] = {}


def _wrap(original: Callable[..., Any], namespace: ModuleType) -> Callable[..., Any]:
    wrapper = _wrappers.get(original)
    if wrapper is not None:
        return wrapper

    @functools.wraps(original)
    def array_namespace(*xs: Any, **kwargs: Any) -> Any:
        found = _funcgrad_namespace(xs, kwargs, namespace)
        return original(*xs, **kwargs) if found is None else found

    array_namespace.__funcgrad_mixed__ = True  # type: ignore[attr-defined]
    _wrappers[original] = array_namespace
    return array_namespace


def _wrap_bindings(module: ModuleType, namespace: ModuleType) -> None:
    bindings = vars(module)
    for attribute in _NAMES:
        if _is_lookup(bindings.get(attribute)):
            setattr(module, attribute, _wrap(bindings[attribute], namespace))


class _WrapAfterImport(importlib.abc.MetaPathFinder):
    """Wraps the lookup in a module of ``PACKAGES`` as soon as it has executed (such modules bind it at import).

    It finds nothing itself: it asks the other finders for the spec and only wraps the loader's ``exec_module``.
    """

    def __init__(self, namespace: ModuleType) -> None:
        self.namespace = namespace

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(PACKAGES):
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Loader(spec.loader, self.namespace)
                return spec
        return None


class _Loader(importlib.abc.Loader):
    """Another finder's loader, with the lookup wrapped after the module executes."""

    def __init__(self, loader: Any, namespace: ModuleType) -> None:
        self.loader = loader
        self.namespace = namespace

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.loader.create_module(spec)  # type: ignore[no-any-return]

    def exec_module(self, module: ModuleType) -> None:
        self.loader.exec_module(module)
        _wrap_bindings(module, self.namespace)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)


def install(namespace: ModuleType) -> None:
    """Wrap the lookup in every module of ``PACKAGES`` imported so far, and in each imported later."""
    if any(isinstance(finder, _WrapAfterImport) for finder in sys.meta_path):
        return
    for name, module in list(sys.modules.items()):
        if module is not None and name.startswith(PACKAGES):
            _wrap_bindings(module, namespace)
    sys.meta_path.insert(0, _WrapAfterImport(namespace))
