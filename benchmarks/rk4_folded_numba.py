"""A measurement, not a feature: the RK4 model's folded replay compiled by numba.

The gradient of the 200-step RK4 model (benchmarks/workloads/scientists.py) replays 34,000 NumPy scalar
calls; loop folding writes them as two ``for`` loops of 58 and 112 calls.  This script takes that
generated source, rewrites the few calls numba does not know (element reads, ``** 1``, the final
``set_elements``) into plain Python numba compiles, and times numba's compile and the compiled replay
against the folded Python replay and the unrolled one, checking the bits against the eager gradient.

Run: ``python benchmarks/rk4_folded_numba.py [steps]`` (needs numba).
"""

from __future__ import annotations

import re
import sys
import time
import timeit
from typing import Any

import numba
import numpy as np

import funcgrad as fg
from benchmarks.workloads.scientists import _rk4_loss
from funcgrad._jit import compile_program, prepare, to_source
from funcgrad._loops import fold


def _numba_source(source: str) -> str:
    """The generated replay with the calls numba cannot compile spelled as plain Python."""
    source = re.sub(r"getitem_\((\w+), index=(\d+)\)", r"\1[\2]", source)
    source = re.sub(r"pow_operator_\((\w+), (\d+)\)", r"\1 ** \2", source)
    source = re.sub(
        r"(\w+) = set_elements_\((\w+), ([^=]*), positions=(\([^)]*\)|\w+)\)", r"\1 = set_into(\2, \4, \3)", source
    )
    source = re.sub(r"(\w+_) = \[\]", r"\1 = numba.typed.List.empty_list(numba.float64)", source)
    return source


def main() -> None:
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    p = np.array([1.5, 1.0, 1.0, 3.0])
    gradient = fg.grad(lambda q: _rk4_loss(q, steps))
    program = prepare(fg.make_program(gradient)(p))
    loops = fold(program)
    print(f"{len(program.eqns)} calls; loops: {loops}")
    source, namespace = to_source(program, loops=loops)
    plain = _numba_source(source)
    if "_(" in re.sub(r"\b(it\d+_|st\d+_\d+_|ys\d+_\d+_|sq\d+_\d+_|k\d+_)", "", plain):
        print("calls left that numba does not know:", sorted(set(re.findall(r"\b\w+_\(", plain))))

    def set_into(total: Any, positions: Any, *values: Any) -> Any:
        out = total.copy()
        for position, value in zip(positions, values):
            out.reshape(-1)[position] = value
        return out

    scope: dict[str, Any] = {key: value for key, value in namespace.items() if not callable(value)}
    scope.update({"numba": numba, "np": np, "set_into": numba.njit(set_into)})
    for key, value in list(scope.items()):
        if isinstance(value, tuple) and key.startswith("p"):
            scope[key] = np.array(value)
    exec(compile(plain, "<rk4 numba replay>", "exec"), scope)  # noqa: S102 - our own generated code
    start = time.perf_counter()
    compiled = numba.njit(scope["replay"])
    got = compiled(p)
    compile_seconds = time.perf_counter() - start
    want = gradient(p)
    print(f"numba compile + first call: {compile_seconds:.2f} s; bits equal to eager: {got.tobytes() == want.tobytes()}")
    folded, unrolled = compile_program(program), compile_program(program, loops=False)
    for name, fn in (("numba, folded", compiled), ("python, folded", folded), ("python, unrolled", unrolled)):
        best = min(timeit.repeat(lambda fn=fn: fn(p), number=5, repeat=7)) / 5
        print(f"{name:18s} {best * 1e6:9.1f} us")


if __name__ == "__main__":
    main()
