"""``torch.compile`` of the RK4 model's gradient, the Python loop unrolled, beside funcgrad's ``jit``.

The benchmark's RK4 workload does not run ``torch.compile`` (it reports why in its table): TorchDynamo traces
the Python loop unrolled, 200 steps of about 50 operations, and Inductor compiles that graph and its
backward.  This script measures it once: the first call (the compile), then the median of the calls after,
against funcgrad's ``jit(grad)`` settled in its last tier, both checked against funcgrad's eager gradient.

Run: ``python benchmarks/rk4_torch_compile.py [steps]`` (needs torch; about ten minutes at 200 steps on the
machine of docs/performance.md).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

import funcgrad as fg
from benchmarks.workloads.scientists import _rk4_loss


def _median_call(fn: Callable[[], object], calls: int = 50) -> float:
    times = []
    for _ in range(calls):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    import torch

    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    p = np.array([1.5, 1.0, 1.0, 3.0])
    want = fg.grad(lambda q: _rk4_loss(q, steps))(p)

    compiled = torch.compile(torch.func.grad(lambda q: _rk4_loss(q, steps)))
    tp = torch.tensor(p)
    start = time.perf_counter()
    got = compiled(tp).numpy()
    first = time.perf_counter() - start
    assert np.allclose(got, want, rtol=1e-9), (got, want)
    torch_call = _median_call(lambda: compiled(tp))

    jitted = fg.jit(fg.grad(lambda q: _rk4_loss(q, steps)))
    for _ in range(20):
        jitted(p)
    for branch in jitted._cache.values():
        start = time.perf_counter()
        while branch.numba == "waiting" and time.perf_counter() - start < 60:
            jitted(p)
        branch.wait()
    assert np.array_equal(jitted(p), want)
    funcgrad_call = _median_call(lambda: jitted(p))

    print(f"RK4, {steps} steps: torch.compile first call {first:.1f} s, then {torch_call * 1e3:.3f} ms a call")
    print(f"funcgrad jit(grad), settled: {funcgrad_call * 1e6:.1f} us a call ({torch_call / funcgrad_call:.0f}x faster)")


if __name__ == "__main__":
    main()
