"""Controlling differentiation: stop_gradient."""

from __future__ import annotations

from typing import TypeVar

from funcgrad._trace import full_lower
from funcgrad.tree import tree_map

T = TypeVar("T")


def stop_gradient(x: T) -> T:
    """``x`` unchanged, with zero derivative in every mode and at every order (pytrees too).

    The functional ``detach``:

    >>> import funcgrad as fg, numpy as np
    >>> fg.grad(lambda x: fg.stop_gradient(x * x) * x)(3.0)
    np.float64(9.0)
    """
    return tree_map(full_lower, x)  # type: ignore[no-any-return]
