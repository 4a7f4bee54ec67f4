"""What funcgrad's NumPy functions cost when nothing is traced."""

from __future__ import annotations

import numpy as np

import funcgrad.numpy as fnp
from benchmarks.peers import Peers
from benchmarks.targets import time_ratio
from benchmarks.workload import Workload, workload


@workload(time_ratio("fnp.sin on a plain ndarray / numpy.sin", 1.2), before_peers=True)
def sin_plain(quick: bool, peers: Peers) -> Workload:
    """``fnp.sin`` on a plain ndarray against ``numpy.sin`` (the cost of funcgrad's dispatch when nothing is traced)."""
    n = 1000
    x = np.linspace(-3.0, 3.0, n)
    return Workload(
        "fnp.sin(ndarray)",
        f"fnp.sin on a plain float64 array of {n} elements (nothing traced)",
        {"numpy": lambda: np.sin(x), "funcgrad": lambda: fnp.sin(x)},
    )
