"""Array backends: NumPy itself, and any array type that takes part in NumPy code through its dispatch protocols.

A *foreign* array (a Dask array, a CuPy array) implements ``__array_function__``
(and ``__array_ufunc__``), so every primitive's NumPy implementation runs on it
unchanged and returns the same type.  What the core makes itself (zero
cotangents and tangents, NumPy values met by a foreign primal) is made here,
in the primal's own namespace, so nothing is converted to NumPy and a lazy
array stays lazy.  See docs/design.md, "Array backends".
"""

from __future__ import annotations

import contextlib
import inspect
import re
import sys
import warnings
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import numpy as np

from funcgrad import _errors
from funcgrad._trace import Tracer

__all__ = [
    "is_foreign",
    "any_foreign",
    "namespace",
    "zeros_like",
    "to_backend",
    "like_primal",
    "broadcast_like",
    "index_add",
    "index_set",
    "gather",
    "scatter_add",
    "chunkwise",
    "guard",
    "known_chunks",
    "cholesky",
    "qr",
    "svd",
]

#: exact types that are NumPy's own (checked first: the plain path pays one set lookup)
_NUMPY_TYPES = frozenset(
    {np.ndarray, np.float64, np.float32, np.float16, np.complex128, np.complex64, float, int, complex, bool}
)

#: functions a namespace must have to make the core's arrays
_NEEDED = ("asarray", "zeros_like", "broadcast_to")

#: NumPy's linalg, untyped: its stubs want literal modes and flags
_LINALG: Any = np.linalg

#: a backend that computes eagerly when it lacks a NumPy function, and the warning it gives first
_EAGER_FALLBACK_WARNINGS = {"dask": r"The `(?P<function>[\w.]+)` function is not implemented by Dask array"}


def is_foreign(value: Any) -> bool:
    """Whether ``value`` is another library's array speaking NumPy's protocols (not NumPy's, not traced).

    >>> is_foreign(np.ones(2)), is_foreign(1.0)
    (False, False)
    """
    kind = type(value)
    if kind in _NUMPY_TYPES or isinstance(value, (np.ndarray, np.generic, Tracer)):
        return False
    # __array_function__ (NEP 18) is what lets a library take part in NumPy functions, not just ufuncs;
    # funcgrad's own shape-and-dtype stand-ins (``Shaped``) have neither
    speaks = getattr(kind, "__array_function__", None) is not None
    return speaks and isinstance(getattr(value, "dtype", None), np.dtype) and hasattr(value, "shape")


def any_foreign(values: Iterable[Any]) -> bool:
    """Whether some value (traced or not) is a foreign array underneath."""
    for value in values:
        while isinstance(value, Tracer):
            value = value._value
        if is_foreign(value):
            return True
    return False


def known_chunks(value: Any, what: str) -> Any:
    """``value``, refused with a ``ValueError`` naming ``what`` if it is a chunked array whose chunk sizes
    are unknown (NaN, after boolean masking): every derivative rule needs the shapes of its chunks.

    >>> known_chunks(np.ones(2), "x")
    array([1., 1.])
    """
    chunks = getattr(value, "chunks", None) if is_foreign(value) else None
    if chunks is not None and any(size != size for sizes in chunks for size in sizes):  # NaN != NaN
        raise _errors.unknown_chunks(what, value)
    return value


def namespace(value: Any) -> Any:
    """The array namespace of ``value``: ``__array_namespace__()`` where present, else the
    innermost package of its type that makes arrays (``dask.array`` for a Dask array), else NumPy.

    >>> namespace(np.ones(2)).__name__
    'numpy'
    """
    if not is_foreign(value):
        return np
    get = getattr(value, "__array_namespace__", None)
    if get is not None:
        return get()
    parts = type(value).__module__.split(".")
    for end in range(len(parts), 0, -1):
        module: ModuleType | None = sys.modules.get(".".join(parts[:end]))
        if module is not None and all(hasattr(module, name) for name in _NEEDED):
            return module
    return np


def zeros_like(value: Any, dtype: Any = None) -> Any:
    """Zeros shaped like ``value`` in its own backend (a Dask array keeps its chunks)."""
    if not is_foreign(value):
        out = np.zeros(np.shape(value), dtype if dtype is not None else np.result_type(value))
        return out if isinstance(value, np.ndarray) else out[()]
    return namespace(known_chunks(value, _named(value))).zeros_like(value, dtype=dtype)


def to_backend(value: Any, like: Any) -> Any:
    """A NumPy array ``value`` moved to the backend of ``like`` (with its chunks when the shapes agree);
    a traced value stays as it is (its trace sees the operations that meet the foreign array)."""
    if not is_foreign(like) or is_foreign(value) or isinstance(value, Tracer):
        return value
    return like_primal(namespace(like).asarray(value), like)


def broadcast_like(value: Any, kept: tuple[int, ...], primal: Any) -> Any:
    """``value`` (shaped ``kept``: ``primal``'s shape with ones where it was reduced) broadcast to the
    foreign ``primal``'s shape, chunk for chunk when the backend can (each chunk a view, none materialised)."""
    chunks = getattr(known_chunks(primal, _named(primal)), "chunks", None)
    xp = namespace(primal)
    if chunks is not None and not is_foreign(value) and np.size(value) == 1:
        # one value everywhere (a sum's cotangent): each chunk its own constant view, so no chunk of the
        # cotangent waits on a shared task that Dask's ordering may schedule only after all of X was loaded
        try:
            return xp.full(primal.shape, np.reshape(value, ()), chunks=chunks, dtype=np.result_type(value))
        except TypeError:
            pass  # a backend whose full takes no chunks
    value = np.reshape(to_backend(value, primal), kept)
    if chunks is not None and _takes_chunks(xp.broadcast_to):
        try:
            return xp.broadcast_to(value, primal.shape, chunks=chunks)
        except ValueError:
            pass  # the cotangent's chunks disagree with the primal's along a kept axis
    return like_primal(np.broadcast_to(value, primal.shape), primal)


def _named(value: Any) -> str:
    name = getattr(value, "name", None)
    return f"the array {name!r} met in the derivative" if isinstance(name, str) else "an array met in the derivative"


def _takes_chunks(function: Any) -> bool:
    return _takes(function, "chunks")


def _takes(function: Any, parameter: str) -> bool:
    try:
        return parameter in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def cholesky(value: Any, upper: bool = False) -> Any:
    """NumPy's ``linalg.cholesky`` of ``value`` in its own backend: the lower factor (``upper=True``: the upper).

    A backend whose own ``linalg.cholesky`` takes a ``lower`` flag follows
    SciPy's convention, the upper factor by default (Dask's does), so it is
    asked for the factor NumPy gives; any other array goes through NumPy's
    dispatch.

    >>> cholesky(np.array([[4.0, 2.0], [2.0, 2.0]]))
    array([[2., 0.],
           [1., 1.]])
    """
    own = _own_linalg(value, "cholesky")
    if own is not None and _takes(own, "lower"):
        return own(value, lower=not upper)
    return np.linalg.cholesky(value, upper=True) if upper else np.linalg.cholesky(value)


def qr(value: Any, mode: str = "reduced") -> Any:
    """NumPy's ``linalg.qr`` of ``value`` in its own backend.

    A backend whose ``qr`` takes no ``mode`` (Dask's: the reduced factors)
    gives modes ``'reduced'`` and ``'r'`` from its factors.

    >>> qr(np.array([[3.0], [4.0]]), mode="r")
    array([[-5.]])
    """
    own = _own_linalg(value, "qr")
    if own is not None and mode in ("reduced", "r") and not _takes(own, "mode"):
        factors = np.linalg.qr(value)
        return factors[1] if mode == "r" else factors
    return _LINALG.qr(value, mode=mode)


def svd(value: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False) -> Any:
    """NumPy's ``linalg.svd`` of ``value`` in its own backend.

    A backend whose ``svd`` takes no ``compute_uv`` (Dask's: the reduced
    factors only) gives the singular values from its reduced factors, and
    is asked for full factors only when they are wanted (Dask refuses them,
    naming ``full_matrices=False``).  The signs of the singular vectors are
    the backend's (Dask's are not NumPy's); the singular values are the same.

    >>> svd(np.diag([1.0, 3.0]), compute_uv=False)
    array([3., 1.])
    """
    own = _own_linalg(value, "svd")
    if own is not None and not hermitian and not _takes(own, "compute_uv"):
        factors = np.linalg.svd(value, full_matrices=full_matrices and compute_uv)
        return factors if compute_uv else factors[1]
    return _LINALG.svd(value, full_matrices=full_matrices, compute_uv=compute_uv, hermitian=hermitian)


def _own_linalg(value: Any, name: str) -> Any:
    """A foreign array's own namespace's ``linalg.<name>``, or ``None`` (a NumPy value, or no such function)."""
    if not is_foreign(value):
        return None
    return getattr(getattr(namespace(value), "linalg", None), name, None)


def like_primal(value: Any, primal: Any) -> Any:
    """``value`` laid out like ``primal``: a chunked array takes the primal's chunks when the shapes agree."""
    chunks = getattr(primal, "chunks", None)
    if (
        chunks is not None
        and getattr(value, "chunks", chunks) != chunks
        and value.shape == primal.shape
        and hasattr(value, "rechunk")
    ):
        return value.rechunk(chunks)
    return value


def index_add(x: Any, v: Any, index: tuple[Any, ...]) -> Any:
    """``x`` with ``v`` added at ``index`` (``numpy.add.at``) when ``x`` or ``v`` is a foreign array.

    Built from the backend's own item assignment on a copy, which stays lazy
    for Dask; an integer-array index whose positions repeat would need
    accumulation, which such assignment does not do, so it is refused.
    """
    out = to_backend(x, v) if not is_foreign(x) else x
    out = out.copy()
    arrays = [i for i in index if isinstance(i, np.ndarray) and i.dtype.kind in "iu" and i.ndim > 0]
    if any(np.unique(a).size < a.size or (a.min() < 0 <= a.max()) for a in arrays):
        raise _errors.lazy_repeated_positions(out)
    index, v = _without_newaxes(index, v, out.ndim)
    try:
        out[index] = out[index] + v
    except NotImplementedError as error:
        raise _errors.backend_assignment("the derivative of this indexing", out, error) from None
    return out


def _without_newaxes(index: tuple[Any, ...], v: Any, ndim: int) -> tuple[tuple[Any, ...], Any]:
    """A basic index without its ``None`` items, and ``v`` without the unit axes they made
    (Dask's item assignment does not take ``None``)."""
    if all(item is not None for item in index) or any(isinstance(i, np.ndarray) and i.ndim > 0 for i in index):
        return index, v
    used = sum(0 if item is None or item is Ellipsis else 1 for item in index)
    new_axes, position = [], 0
    for item in index:
        if item is None:
            new_axes.append(position)
            position += 1
        elif item is Ellipsis:
            position += ndim - used
        elif isinstance(item, slice):
            position += 1
    rank = position + (0 if any(item is Ellipsis for item in index) else ndim - used)
    lead = rank - len(np.shape(v))
    squeeze = tuple(axis - lead for axis in new_axes if axis >= lead)
    if squeeze:
        v = np.squeeze(v, axis=squeeze)
    return tuple(item for item in index if item is not None), v


def index_set(x: Any, v: Any, index: tuple[Any, ...]) -> Any:
    """``x`` with ``index`` set to ``v``, on a copy, when ``x`` or ``v`` is a foreign array."""
    out = (to_backend(x, v) if not is_foreign(x) else x).copy()
    index, v = _without_newaxes(index, v, out.ndim)
    try:
        out[index] = v
    except NotImplementedError as error:
        raise _errors.backend_assignment("this functional update", out, error) from None
    return out


def gather(x: Any, positions: np.ndarray[Any, Any], lead: tuple[int, ...]) -> Any:
    """The elements at flat ``positions`` of each trailing block of a foreign ``x`` (one integer axis at a time)."""
    flat = np.reshape(x, lead + (-1,))[..., positions.reshape(-1)]
    return np.reshape(flat, lead + positions.shape)


def scatter_add(values: Any, where: np.ndarray[Any, Any], total: int) -> Any:
    """``bincount`` of flat positions ``where`` weighted by the foreign ``values`` (repeats accumulate)."""
    xp = namespace(values)
    positions = like_primal(xp.asarray(where), values)
    if values.dtype.kind == "c":
        real = xp.bincount(positions, weights=values.real, minlength=total)
        return real + 1j * xp.bincount(positions, weights=values.imag, minlength=total)
    return xp.bincount(positions, weights=values, minlength=total)


def chunkwise(kernel: Any, *args: Any, dtype: Any) -> Any:
    """``kernel(*args)`` for an elementwise ``kernel`` of NumPy arrays when some argument is a foreign array.

    A chunked backend (its namespace has ``blockwise``: Dask) runs ``kernel``
    lazily on each block of the arguments broadcast together as NumPy
    broadcasts them (NumPy values become arrays of the backend; scalars are
    passed to every block as they are); the result has ``dtype``.  Another
    backend gets ``kernel`` called on its arrays.

    >>> chunkwise(np.add, np.ones(2), 1.0, dtype=np.float64)
    array([2., 2.])
    """
    first = next((a for a in args if is_foreign(a)), None)
    blockwise = getattr(namespace(first), "blockwise", None) if first is not None else None
    if blockwise is None:
        return kernel(*args)
    xp = namespace(first)
    rank = max(np.ndim(a) for a in args)
    pairs: list[Any] = []
    for a in args:
        if np.ndim(a) == 0 and not is_foreign(a):
            pairs += [a, None]  # a scalar, given to every block
        else:
            a = known_chunks(a if is_foreign(a) else xp.asarray(a), _named(a))
            pairs += [a, tuple(range(np.ndim(a)))[::-1]]  # trailing axes line up, as in NumPy's broadcasting
    return blockwise(kernel, tuple(range(rank))[::-1], *pairs, dtype=dtype)


class _Refusing:
    """Turns a foreign backend's "computing to run a function I lack" warning into a ``TypeError``."""

    __slots__ = ("catcher",)

    def __enter__(self) -> None:
        self.catcher = warnings.catch_warnings()
        self.catcher.__enter__()
        for pattern in _EAGER_FALLBACK_WARNINGS.values():
            warnings.filterwarnings("error", message=pattern, category=FutureWarning)

    def __exit__(self, kind: Any, error: BaseException | None, traceback: Any) -> None:
        self.catcher.__exit__(kind, error, traceback)
        if isinstance(error, FutureWarning):
            raise _unsupported(error) from None


_PLAIN_GUARD = contextlib.nullcontext()


def guard(foreign: bool) -> contextlib.AbstractContextManager[None]:
    """Refuse, with a ``TypeError``, a NumPy function that a foreign backend would run by computing its inputs.

    Dask computes the whole graph (with a ``FutureWarning``) when it lacks a
    NumPy function; inside a transform that would silently break laziness.
    Backends that lack a function and say so (``NotImplemented``: CuPy) make
    NumPy raise its own ``TypeError`` naming the function.  ``foreign``
    says whether some primal is a foreign array; for NumPy values nothing is entered.
    (Python's warning filters are process-wide before 3.14: the refusal may
    also reach another thread running Dask code at the same moment.)
    """
    return _Refusing() if foreign else _PLAIN_GUARD


def _unsupported(warning: FutureWarning) -> Exception:
    message = str(warning)
    for backend, pattern in _EAGER_FALLBACK_WARNINGS.items():
        found = re.match(pattern, message)
        if found is not None:
            return _errors.backend_lacks_function(found.group("function"), backend)
    return warning
