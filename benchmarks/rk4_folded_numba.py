"""The RK4 model's gradient replayed by numba (``jit(f, fuse=True)``'s scalar tier) against the Python replays.

The gradient of the 200-step RK4 model (benchmarks/workloads/scientists.py) replays 34,000 scalar calls on
Python floats; loop folding writes them as two ``for`` loops of 58 and 112 calls, and
``funcgrad._fuse.scalar_replay`` hands that source to numba.  This script times numba's compile (a fresh
process compiles once; a second call of ``scalar_replay`` finds the compiled replay in the cache), checks
the bits against the eager gradient, and times the numba replay against the folded and the unrolled Python
replays.

Run: ``python benchmarks/rk4_folded_numba.py [steps]`` (needs numba).
"""

from __future__ import annotations

import sys
import time
import timeit

import numpy as np

import funcgrad as fg
from benchmarks.workloads.scientists import _rk4_loss
from funcgrad import _fuse
from funcgrad._jit import compile_program, prepare, to_source
from funcgrad._loops import fold
from funcgrad._rewrites import python_floats


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    p = np.array([1.5, 1.0, 1.0, 3.0])
    gradient = fg.grad(lambda q: _rk4_loss(q, steps))
    program = python_floats(prepare(fg.make_program(gradient)(p)))
    loops = fold(program)
    written = len(program.eqns) - sum((loop.count - 1) * len(loop.body) for loop in loops)
    print(f"{len(program.eqns)} calls; loops: {loops}; about {written} calls written")
    start = time.perf_counter()
    compiled = _fuse.scalar_replay(program, to_source, loops)
    print(f"numba compile (with numba's import and helpers): {time.perf_counter() - start:.2f} s")
    if compiled is None:
        print("numba's replay does not take this program")
        return
    start = time.perf_counter()
    _fuse.scalar_replay(program, to_source, loops)
    print(f"the same program again (cached): {time.perf_counter() - start:.3f} s")
    want = gradient(p)
    print(f"bits equal to eager: {compiled(p).tobytes() == want.tobytes()}")
    folded, unrolled = compile_program(program), compile_program(program, loops=False)
    for name, fn in (("numba, folded", compiled), ("python, folded", folded), ("python, unrolled", unrolled)):
        best = min(timeit.repeat(lambda fn=fn: fn(p), number=5, repeat=7)) / 5
        print(f"{name:18s} {best * 1e6:9.1f} us")


if __name__ == "__main__":
    main()
