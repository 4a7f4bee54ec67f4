"""The measurement: results checked against the floor first, then interleaved rounds of process time, medians;
memory by tracemalloc (peaks, and the residuals and backward peak of a split computation)."""

from __future__ import annotations

import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.peers import Peers
from benchmarks.workload import Builder, Phases, Workload

#: the clock of the timings: CPU time of this process (all its threads) or wall-clock time
TIMERS: dict[str, Callable[[], float]] = {"process": time.process_time, "wall": time.perf_counter}


def to_numpy(value: Any) -> Any:
    """Any framework's result (pytrees of tensors too) as nested lists of NumPy arrays."""
    if isinstance(value, (list, tuple)):
        return [to_numpy(v) for v in value]
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def flat_arrays(value: Any) -> list[np.ndarray]:
    value = to_numpy(value)
    if isinstance(value, list):
        return [a for v in value for a in flat_arrays(v)]
    return [np.asarray(value)]


def agrees(result: Any, expected: Any, rtol: float = 1e-7) -> tuple[bool, float]:
    """Whether ``result`` matches the floor, and the largest relative error."""
    got, want = flat_arrays(result), flat_arrays(expected)
    if len(got) != len(want):
        return False, float("inf")
    worst = 0.0
    for g, w in zip(got, want):
        if g.shape != w.shape:
            return False, float("inf")
        scale = max(float(np.max(np.abs(w))) if w.size else 0.0, 1e-300)
        worst = max(worst, float(np.max(np.abs(g - w))) / scale if w.size else 0.0)
    return worst <= rtol, worst


def calibrate(fn: Callable[[], Any], budget: float, timer: Callable[[], float]) -> int:
    """How many calls make one timed sample last about ``budget`` seconds."""
    start = timer()
    fn()
    once = timer() - start
    return max(1, min(10_000, int(budget / max(once, 1e-9))))


def measure(workload: Workload, repeat: int, budget: float, timer: Callable[[], float]) -> dict[str, Any]:
    """Check every implementation against the floor, then time them in interleaved rounds."""
    results: dict[str, Any] = {
        "description": workload.description,
        "impls": {},
        "skipped": dict(workload.skipped),
        "floor_name": workload.floor_name,
    }
    expected = (workload.reference or workload.impls["numpy"])()
    runnable: dict[str, Callable[[], Any]] = {}
    for name, fn in workload.impls.items():
        try:
            gc.collect()
            start = timer()
            result = fn()  # first call: also jit compilation
            first_call = timer() - start
            unchecked = name == "numpy" and workload.reference is not None  # the floor computes something else
            ok, err = (True, 0.0) if unchecked else agrees(result, expected, workload.rtol)
        except Exception as exc:  # a peer that cannot run this workload is reported, not fatal
            results["skipped"][name] = f"{type(exc).__name__}: {exc}"[:200]
            if name in ("numpy", "funcgrad"):
                raise
            continue
        results["impls"][name] = {
            "agrees": ok,
            "max_rel_error": err,
            "checked": not unchecked,
            "first_call": first_call,
            "times": [],
        }
        settle = workload.settle.get(name)
        if settle is not None:
            start = timer()
            calls = settle()
            results["impls"][name]["settle"] = {"calls": calls, "seconds": timer() - start}
        runnable[name] = fn
    numbers = {name: calibrate(fn, budget, timer) for name, fn in runnable.items()}
    for _ in range(repeat):
        for name, fn in runnable.items():
            number = numbers[name]
            gc.collect()
            start = timer()
            for _ in range(number):
                fn()
            results["impls"][name]["times"].append((timer() - start) / number)
    for name, factory in workload.fresh.items():
        if name in runnable:
            results["impls"][name]["fresh_first_call"] = fresh_first_call(factory, runnable[name], timer)
    for name, entry in results["impls"].items():
        entry["median"] = statistics.median(entry["times"])
        entry["calls_per_sample"] = numbers[name]
        if workload.per > 1:
            entry["per_" + workload.per_unit] = entry["median"] / workload.per
    return results


#: new instances whose first call is timed (``fresh_first_call``)
FRESH_SAMPLES = 5


def fresh_first_call(
    factory: Callable[[], Callable[[], Any]], warm: Callable[[], Any], timer: Callable[[], float]
) -> float:
    """The median first call of new instances (a new ``jit`` each) made after the timed rounds, each right after
    one call of ``warm`` (the timed implementation: the same computation), so that it meets the memory and caches
    a timed call meets: the recording's own cost.  The first call proper also meets the process's cold memory and
    caches (an eager gradient's own first call is often several times its median too).  No collection runs
    between (a timed sample's calls after its first do not follow one either; a collection walks every object
    of the process and leaves the recording's own code cold: 1.5x became 2.2x for the logistic model), and a
    recording pauses the collector itself."""
    samples = []
    for _ in range(FRESH_SAMPLES):
        fn = factory()
        warm()
        start = timer()
        fn()
        samples.append(timer() - start)
        del fn
    return statistics.median(samples)


def peak(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated (Python objects and NumPy buffers) while ``fn`` runs, above what was live before."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def sweep_memory(phases: Phases) -> dict[str, int]:
    """Bytes held after the forward pass (the residuals) and the peak above them while the backward runs."""
    forward, backward = phases
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        saved = forward()
        held = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = backward(saved)
        peak = tracemalloc.get_traced_memory()[1]
        del result, saved
    finally:
        tracemalloc.stop()
    return {"residual_bytes": held - base, "sweep_peak_bytes": peak - held}


def profile(build: Builder, quick: bool, seconds: float = 1.0, top: int = 25) -> int:
    """Print cProfile's view of funcgrad's implementation of one workload (the hot path, function by function)."""
    import cProfile  # only for --profile
    import pstats

    workload = build(quick, Peers())
    if workload is None:
        print(f"{build.__name__}: its library is not installed")
        return 1
    fn = workload.impls["funcgrad"]
    calls = calibrate(fn, seconds, time.perf_counter)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        fn()
    profiler.disable()
    print(f"{build.__name__}: {calls} calls of funcgrad's implementation under cProfile")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(top)
    return 0
