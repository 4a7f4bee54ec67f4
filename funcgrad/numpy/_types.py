"""``funcgrad.numpy.ndarray``: NumPy's array type, which traced arrays also count as.

``isinstance(x, fnp.ndarray)`` is true for a NumPy array (and any subclass)
and for a traced array, as ``isinstance(tracer, jnp.ndarray)`` is in JAX, so
code that checks its input's type keeps working inside ``grad``.  The
class is a subclass of ``numpy.ndarray`` whose metaclass answers those
checks; calling it builds a plain ``numpy.ndarray`` (``fnp.ndarray((2, 3))``),
and ``fnp.ndarray[Any, np.dtype[np.float64]]`` subscripts like NumPy's type.
Type checkers see NumPy's own ``ndarray`` (``funcgrad/numpy/__init__.py``
imports it under ``TYPE_CHECKING``), so annotations mean what they mean with
NumPy.  ``type(x) is np.ndarray`` is still false for a traced value: only
``isinstance`` and ``issubclass`` are widened.

>>> import numpy as np, funcgrad as fg
>>> isinstance(np.zeros(1), ndarray), isinstance(1.0, ndarray)
(True, False)
>>> fg.grad(lambda x: x * isinstance(x, ndarray))(2.0)
np.float64(1.0)
>>> type(ndarray((2,))) is np.ndarray
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from funcgrad._prims._array import ArrayTracer

__all__ = ["ndarray"]


class _ArrayType(type):
    """Metaclass: instances and subclasses of ``numpy.ndarray`` or of the traced array count."""

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, (np.ndarray, ArrayTracer))

    def __subclasscheck__(cls, subclass: Any) -> bool:
        return isinstance(subclass, type) and issubclass(subclass, (np.ndarray, ArrayTracer))

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return np.ndarray(*args, **kwargs)


class ndarray(np.ndarray, metaclass=_ArrayType):  # type: ignore[type-arg]  # noqa: N801  (NumPy's name)
    """NumPy's ``ndarray``; traced arrays are instances too (see the module notes)."""

    __slots__ = ()
    __module__ = "funcgrad.numpy"
