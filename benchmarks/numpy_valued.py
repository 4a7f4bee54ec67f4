"""Wrappers valued by NumPy's own routine: what jit's replay and grad cost against the plain NumPy call.

The traced paths of ``linalg.norm``, ``eigvalsh``, ``svdvals``, ``inner``,
``vdot``, ``tensordot``, ``multi_dot`` and ``quantile`` call the routine the
plain call calls (so jit and grad return its bits).  This prints, for each,
the time of a jit replay and of ``grad`` over the time of the plain NumPy call
(best of several repeats; ratios, not thresholds)::

    python benchmarks/numpy_valued.py
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from typing import Any

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp

RNG = np.random.default_rng(0)
V = RNG.normal(size=200)
A = RNG.normal(size=(40, 40))
S = A + A.T

CASES: dict[str, tuple[Callable[..., Any], Callable[..., Any], Any]] = {
    "norm(vector)": (np.linalg.norm, fnp.linalg.norm, V),
    "norm(matrix, 'nuc')": (lambda a: np.linalg.norm(a, "nuc"), lambda a: fnp.linalg.norm(a, "nuc"), A),
    "eigvalsh": (lambda a: np.linalg.eigvalsh(a).sum(), lambda a: fnp.linalg.eigvalsh(a).sum(), S),
    "svdvals": (lambda a: np.linalg.svd(a, compute_uv=False).sum(), lambda a: fnp.linalg.svdvals(a).sum(), A),
    "inner": (lambda v: np.inner(v, v[::-1]), lambda v: fnp.inner(v, v[::-1]), V),
    "tensordot": (lambda a: np.tensordot(a, a, 2), lambda a: fnp.tensordot(a, a, 2), A),
    "multi_dot": (
        lambda a: np.linalg.multi_dot([a, a.T, a, a[0]]).sum(),
        lambda a: fnp.linalg.multi_dot([a, a.T, a, a[0]]).sum(),
        A,
    ),
    "quantile": (lambda v: np.quantile(v, 0.3), lambda v: fnp.quantile(v, 0.3), V),
}


def best(fun: Callable[[], Any], number: int = 50) -> float:
    return min(timeit.repeat(fun, number=number, repeat=5)) / number


def main() -> None:
    print(f"{'wrapper':22s} {'jit replay / numpy':>20s} {'grad / numpy':>14s}")
    for name, (plain, traced, x) in CASES.items():
        jitted = fg.jit(traced)
        jitted(x)
        grad = fg.grad(traced)
        base = best(lambda: plain(x))
        print(f"{name:22s} {best(lambda: jitted(x)) / base:20.2f} {best(lambda: grad(x), 10) / base:14.2f}")


if __name__ == "__main__":
    main()
