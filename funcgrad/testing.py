"""``check_grads``: compare forward and reverse derivatives with finite differences.

>>> import numpy as np
>>> check_grads(np.sin, (np.array([0.1, 0.2]),), order=2)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcgrad import _errors
from funcgrad._api import jvp, vjp
from funcgrad.tree import tree_flatten, tree_unflatten

__all__ = ["check_grads"]

_DEFAULTS = {
    # dtype kind and size -> (finite-difference step, tolerance)
    np.dtype(np.float16): (1e-1, 1e-1),
    np.dtype(np.float32): (3e-3, 2e-2),
    np.dtype(np.float64): (1e-5, 1e-5),
    np.dtype(np.complex64): (3e-3, 2e-2),
    np.dtype(np.complex128): (1e-5, 1e-5),
}


def _lowest_precision(leaves: list[Any]) -> np.dtype[Any]:
    kinds = [np.result_type(leaf) for leaf in leaves if np.result_type(leaf).kind in "fc"]
    if not kinds:
        return np.dtype(np.float64)
    return min(kinds, key=lambda d: np.finfo(d).eps * -1)


def _random_like(rng: np.random.Generator, leaf: Any) -> Any:
    value = np.asarray(leaf)
    kind = value.dtype
    if kind.kind == "c":
        out = rng.standard_normal(value.shape) + 1j * rng.standard_normal(value.shape)
    else:
        out = rng.standard_normal(value.shape)
    out = out.astype(kind)
    return out if isinstance(leaf, np.ndarray) else out[()]


def _add(leaves: list[Any], direction: list[Any], scale: float) -> list[Any]:
    out = []
    for leaf, d in zip(leaves, direction):
        moved = np.asarray(leaf) + np.asarray(scale, np.asarray(d).dtype) * np.asarray(d)
        moved = moved.astype(np.asarray(leaf).dtype)
        out.append(moved if isinstance(leaf, np.ndarray) else moved[()])
    return out


def _pair(a: list[Any], b: list[Any]) -> float:
    # the bilinear pairing Re(sum(a * b)) under which reverse mode is the transpose of forward mode
    return float(
        np.sum([np.sum(np.real(np.asarray(x, np.complex128) * np.asarray(y, np.complex128))) for x, y in zip(a, b)])
    )


def _report(
    title: str, fun: Callable[..., Any], args: Sequence[Any], expected: Any, got: Any, atol: float, rtol: float
) -> None:
    expected_arr = [np.asarray(e) for e in expected]
    got_arr = [np.asarray(g) for g in got]
    for e, g in zip(expected_arr, got_arr):
        if e.shape != g.shape or not np.allclose(g, e, atol=atol, rtol=rtol, equal_nan=False):
            described = ", ".join(f"{np.shape(a)} {np.result_type(a)}" for a in tree_flatten(tuple(args))[0])
            diff = np.max(np.abs(g - e)) if e.shape == g.shape else "shape mismatch"
            raise _errors.check_grads_disagree(title, getattr(fun, "__name__", fun), described, e, g, diff, atol, rtol)


def check_grads(
    fun: Callable[..., Any],
    args: Sequence[Any],
    order: int = 2,
    modes: Sequence[str] = ("fwd", "rev"),
    atol: float | None = None,
    rtol: float | None = None,
    eps: float | None = None,
    seed: int = 0,
) -> None:
    """Check ``fun``'s forward (``jvp``) and reverse (``vjp``) derivatives up to
    ``order`` against central finite differences, along seeded random directions.

    Step and tolerances follow the lowest-precision input (float32 gets a
    larger step and looser tolerance than float64).  Raises
    ``AssertionError`` with a report naming the mode, order, inputs,
    expected and obtained values.

    >>> import numpy as np
    >>> check_grads(lambda x: np.sum(np.tanh(x) ** 2), (np.ones(3),), order=2)
    """
    args = tuple(args)
    for mode in modes:
        if mode not in ("fwd", "rev"):
            raise _errors.check_grads_mode(mode)
    leaves, treedef = tree_flatten(args)
    precision = _lowest_precision(leaves)
    default_eps, default_tol = _DEFAULTS.get(precision, (1e-5, 1e-5))
    eps = default_eps if eps is None else eps
    atol = default_tol if atol is None else atol
    rtol = default_tol if rtol is None else rtol
    rng = np.random.default_rng(seed)
    direction = [_random_like(rng, leaf) for leaf in leaves]
    tangents = tree_unflatten(treedef, direction)

    def flat_out(*a: Any) -> list[Any]:
        return tree_flatten(fun(*a))[0]

    plus = flat_out(*tree_unflatten(treedef, _add(leaves, direction, eps)))
    minus = flat_out(*tree_unflatten(treedef, _add(leaves, direction, -eps)))
    numeric = [
        (np.asarray(p, np.complex128 if np.iscomplexobj(p) else np.float64) - m) / (2 * eps)
        for p, m in zip(plus, minus)
    ]

    if "fwd" in modes:
        _, tangent_out = jvp(fun, args, tangents)
        _report(f"forward mode (order {order} check)", fun, args, numeric, tree_flatten(tangent_out)[0], atol, rtol)
        if order > 1:
            check_grads(lambda *a: jvp(fun, a, tangents)[1], args, order - 1, ("fwd",), atol, rtol, eps, seed + 1)
    if "rev" in modes:
        out, vjp_fn = vjp(fun, *args)
        out_leaves, out_def = tree_flatten(out)
        cotangent_leaves = [_random_like(rng, o) for o in out_leaves]
        cotangent = tree_unflatten(out_def, cotangent_leaves)
        cotangents_in = tree_flatten(vjp_fn(cotangent))[0]
        expected = _pair(cotangent_leaves, numeric)
        got = _pair(cotangents_in, direction)
        _report(
            f"reverse mode (order {order} check)", fun, args, [expected], [got], atol * max(1.0, abs(expected)), rtol
        )
        if order > 1:
            check_grads(lambda *a: vjp(fun, *a)[1](cotangent), args, order - 1, ("rev",), atol, rtol, eps, seed + 2)
