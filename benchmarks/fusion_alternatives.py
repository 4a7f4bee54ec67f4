"""Three ways to fuse the elementwise chain's gradient, side by side: which one ``jit(..., fuse=True)`` uses and why.

The gradient of ``sum(tanh(x) * exp(-x²/2) + 0.1 x)`` on 1e6 float64 elements, as jit replays it (14 NumPy
calls), and its two runs of arithmetic (2 and 10 calls, between ``tanh`` and ``exp``) done three ways, each
written out by hand from the same plan, keeping NumPy's ``tanh`` and ``exp``:

* **numba**: each run one compiled loop over the elements (what ``fuse=True`` generates);
* **numexpr**: each run one ``numexpr.evaluate`` expression (its blocked virtual machine, one thread);
* **out= chaining**: the same NumPy calls writing into the buffers of values no longer needed (no new
  array, but one pass over memory a call).

Run: ``python benchmarks/fusion_alternatives.py`` (needs numba and numexpr). Prints milliseconds (best of
7 x 5 calls, wall time) and each result's largest distance in ulps from the replay's.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from typing import Any

import numba
import numexpr
import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp


@numba.njit(nogil=True, error_model="numpy")
def _first_run(a: Any, c: Any, d: Any) -> None:
    for i in range(a.size):
        ci = -0.5 * a[i]
        c[i] = ci
        d[i] = ci * a[i]


@numba.njit(nogil=True, error_model="numpy")
def _second_run(a: Any, b: Any, c: Any, e: Any, o: Any) -> None:
    for i in range(a.size):
        f = b[i] * e[i]
        k = (0.1 + f * c[i]) + (f * a[i]) * -0.5
        o[i] = k + e[i] * (1.0 - b[i] * b[i])


def with_numba(a: np.ndarray) -> np.ndarray:
    b = np.tanh(a)
    c, d = np.empty_like(a), np.empty_like(a)
    _first_run(a, c, d)
    e = np.exp(d)
    o = np.empty_like(a)
    _second_run(a, b, c, e, o)
    return o


def with_numexpr(a: np.ndarray) -> np.ndarray:
    b = np.tanh(a)
    c = numexpr.evaluate("-0.5 * a", local_dict={"a": a})
    e = np.exp(numexpr.evaluate("c * a", local_dict={"a": a, "c": c}))
    second = "((0.1 + (b * e) * c) + ((b * e) * a) * -0.5) + e * (1.0 - b * b)"
    return numexpr.evaluate(second, local_dict={"a": a, "b": b, "c": c, "e": e})  # type: ignore[no-any-return]


def with_out_chaining(a: np.ndarray) -> np.ndarray:
    b = np.tanh(a)
    c = np.multiply(-0.5, a)
    d = np.multiply(c, a)
    e = np.exp(d, out=d)
    f = np.multiply(b, e)
    g = np.multiply(f, a)
    h = np.multiply(f, c, out=c)
    i = np.add(0.1, h, out=h)
    j = np.multiply(g, -0.5, out=g)
    k = np.add(i, j, out=i)
    m = np.subtract(1.0, np.square(b, out=b), out=b)
    return np.add(k, np.multiply(e, m, out=e), out=k)


def _ulps(got: np.ndarray, want: np.ndarray) -> int:
    return int(np.max(np.abs(got.view(np.int64) - want.view(np.int64))))


def main() -> None:
    numexpr.set_num_threads(1)
    x = np.linspace(-4.0, 4.0, 1_000_000)
    gradient = fg.grad(lambda v: fnp.sum(fnp.tanh(v) * fnp.exp(-0.5 * v * v) + 0.1 * v))
    replay, fused = fg.jit(gradient), fg.jit(gradient, fuse=True)
    for _ in range(4):  # past the tiers: both compiled
        want = replay(x)
        fused(x)
    candidates: dict[str, Callable[[np.ndarray], Any]] = {
        "jit replay (14 NumPy calls)": replay,
        "jit(fuse=True)": fused,
        "numba, by hand": with_numba,
        "numexpr, by hand": with_numexpr,
        "out= chaining, by hand": with_out_chaining,
        "tanh + exp alone (NumPy)": lambda a: (np.tanh(a), np.exp(a)),
    }
    for _ in range(2):  # twice: the machine is shared, the second pass shows the noise
        for name, fn in candidates.items():
            best = min(timeit.repeat(lambda fn=fn: fn(x), number=5, repeat=7)) / 5
            result = fn(x)
            ulps = _ulps(result, want) if isinstance(result, np.ndarray) else "-"
            print(f"{name:30s} {best * 1e3:7.2f} ms   ulps {ulps}")
        print()


if __name__ == "__main__":
    main()
