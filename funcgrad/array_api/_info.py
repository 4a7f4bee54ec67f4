"""The standard's inspection API: ``__array_namespace_info__()``, the one device, device checks."""

from __future__ import annotations

from typing import Any

import numpy as np

from funcgrad import _errors

#: the only device: funcgrad computes where NumPy does (a Dask or CuPy primal keeps its own placement)
CPU = "cpu"


def check_device(device: Any) -> None:
    """Refuse a device other than the CPU (``None`` means the default)."""
    if device is not None and device != CPU:
        raise _errors.unsupported_device(device)


def _dtypes(kind: Any = None) -> dict[str, Any]:
    names = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
    names += ["float32", "float64", "complex64", "complex128"]
    every = {name: np.dtype(name) for name in names}
    if kind is None:
        return every
    return {name: dtype for name, dtype in every.items() if np.isdtype(dtype, kind)}


class Info:
    """What ``funcgrad.array_api.__array_namespace_info__()`` reports (the standard's inspection API).

    >>> info = __array_namespace_info__()
    >>> info.default_device(), info.devices(), info.default_dtypes()["real floating"]
    ('cpu', ['cpu'], dtype('float64'))
    """

    __module__ = "funcgrad.array_api"

    def capabilities(self) -> dict[str, Any]:
        """``boolean indexing`` is reported ``False`` although ``x[mask]`` works.

        Libraries then take their functional ``where`` paths, which differentiate, instead of writing
        into an array made from a plain mask (docs/array-api.md).
        """
        return {"boolean indexing": False, "data-dependent shapes": True, "max dimensions": 64}

    def default_device(self) -> str:
        return CPU

    def devices(self) -> list[str]:
        return [CPU]

    def default_dtypes(self, *, device: Any = None) -> dict[str, Any]:
        check_device(device)
        return {
            "real floating": np.dtype(np.float64),
            "complex floating": np.dtype(np.complex128),
            "integral": np.dtype(np.intp),
            "indexing": np.dtype(np.intp),
        }

    def dtypes(self, *, device: Any = None, kind: Any = None) -> dict[str, Any]:
        check_device(device)
        return _dtypes(kind)


def __array_namespace_info__() -> Info:
    """The standard's inspection namespace: devices, dtypes, capabilities.

    >>> __array_namespace_info__().dtypes(kind="real floating")
    {'float32': dtype('float32'), 'float64': dtype('float64')}
    """
    return Info()
