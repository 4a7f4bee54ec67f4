"""The batching words of ``defbatch``: how a primitive runs on a batch of examples under ``vmap``.

``"elementwise"`` (NumPy broadcasting after the batch axis), ``"leading"`` (the NumPy function
maps over leading axes already), ``"loop"`` (one call per example, stacked) and
``"data-dependent"`` (refused: no one output shape).  ``funcgrad._batching`` (the ``vmap``
transform) looks a word up in ``WORDS``; rules that fall back to a loop call these directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad import _errors
from funcgrad._prims import _shape
from funcgrad._prims._base import batch_align
from funcgrad._prims._indexing import getitem_p
from funcgrad._trace import Primitive, full_lower
from funcgrad._values import dtype, ndim, shape

Rule = Callable[..., Any]


def elementwise(prim: Primitive, values: list[Any], batched: list[bool], size: int, **params: Any) -> Any:
    """NumPy broadcasting: batched operands of lower rank get ones after their batch axis."""
    rank = max(ndim(v) - b for v, b in zip(values, batched))
    return prim(*(batch_align(v, rank) if b else v for v, b in zip(values, batched)), **params)


def leading(prim: Primitive, values: list[Any], batched: list[bool], size: int, **params: Any) -> Any:
    """The NumPy function maps over leading axes already: call it on the batched values."""
    return prim(*values, **params)


def loop(prim: Primitive, values: list[Any], batched: list[bool], size: int, **params: Any) -> Any:
    """One call per example, stacked: correct for any primitive, and as slow as a Python loop."""
    if size == 0:
        out = _output_of_no_example(prim, values, batched, params)
        return np.zeros((0,) + np.shape(out), np.result_type(out))
    parts = [prim(*(getitem_p(v, index=k) if b else v for v, b in zip(values, batched)), **params) for k in range(size)]
    return _shape.stack(parts)


def _identities(example_shape: tuple[int, ...], example_dtype: Any) -> np.ndarray[Any, Any]:
    if len(example_shape) < 2:
        return np.ones(example_shape, example_dtype)
    return np.broadcast_to(np.eye(*example_shape[-2:], dtype=example_dtype), example_shape).copy()


def _output_of_no_example(prim: Primitive, values: list[Any], batched: list[bool], params: dict[str, Any]) -> Any:
    """One example's output, for its shape and dtype when the batch has none: at zeros, else at identity matrices.

    A factorization refuses zeros (singular), so a second stand-in is tried before the error is passed on.
    """
    error: Exception | None = None
    for fill in (np.zeros, _identities):
        example = [fill(shape(v)[1:], dtype(v)) if b else full_lower(v) for v, b in zip(values, batched)]
        try:
            with np.errstate(all="ignore"):
                return prim.impl(*example, **params)
        except (ValueError, ArithmeticError) as refused:  # numpy's and scipy's LinAlgError are ValueErrors
            error = refused
    assert error is not None
    raise error


def data_dependent(prim: Primitive, values: list[Any], batched: list[bool], size: int, **params: Any) -> Any:
    """Refused: the output's shape depends on each example's values, so the batch has no one shape (as in JAX)."""
    raise _errors.batched_data_dependent_shape(prim.name)


#: the declaration words of ``defbatch``
WORDS: dict[str, Rule] = {
    "elementwise": elementwise,
    "leading": leading,
    "loop": loop,
    "data-dependent": data_dependent,
}
