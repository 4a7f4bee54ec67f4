"""jit: replaying a recorded program, against the NumPy calls made directly and against JAX jit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
from benchmarks.peers import Peers
from benchmarks.targets import time_ratio
from benchmarks.workload import Workload, workload
from benchmarks.workloads.chains import CHAIN_X0, chain_lines, chain_numpy_grad, chain_peer_impls, sin_chain
from benchmarks.workloads.mlp import mlp_peer_impls, mlp_problem


def jit_peers(impls: dict[str, Callable[[], Any]], eager: str) -> tuple[dict[str, Callable[[], Any]], dict[str, str]]:
    """The compiled and the eager peer beside a jit workload (JAX jit, torch), and why the others are left out."""
    shown: dict[str, Callable[[], Any]] = {name: impls[name] for name in ("jax-jit", "torch") if name in impls}
    skipped = {name: f"eager, shown in {eager!r}" for name in impls if name not in shown}
    return shown, skipped


def _replay_overhead(results: dict[str, Any]) -> str:
    numpy_call, replay_call = results["impls"]["numpy"]["per_op"] * 1e6, results["impls"]["funcgrad"]["per_op"] * 1e6
    return (
        f"jit replay, µs per operation of the scalar chain: NumPy's own call {numpy_call:.2f}, "
        f"the same calls replayed by jit {replay_call:.2f} (overhead {replay_call - numpy_call:+.2f} a call)"
    )


@workload()
def jit_chain_forward(quick: bool, peers: Peers) -> Workload:
    """``jit(chain)`` against the same NumPy calls made directly: what replaying costs beyond NumPy itself."""
    lines = chain_lines(quick)
    fg_jit = fg.jit(lambda x: sin_chain(x, fnp.sin, lines))
    impls: dict[str, Callable[[], Any]] = {
        "numpy": lambda: sin_chain(CHAIN_X0, np.sin, lines),
        "funcgrad": lambda: fg_jit(CHAIN_X0),
    }
    why = "this measures jit's own overhead; peers are beside 'jit scalar chain'"
    skipped = {name: why for name, lib in peers.loaded().items() if lib}
    return Workload(
        "jit chain forward",
        f"jit of the {3 * lines}-operation scalar chain (no derivative) against the NumPy calls made directly",
        impls,
        per=3 * lines,
        per_unit="op",
        rtol=0.0,
        skipped=skipped,
        note=_replay_overhead,
    )


@workload(time_ratio("jit(grad) of the scalar chain / NumPy forward chain", 3.0))
def jit_scalar_chain(quick: bool, peers: Peers) -> Workload:
    """``jit(grad(chain))`` against the plain-NumPy *forward* chain (the cheap-gradient principle: a gradient
    should cost a small multiple of the function), JAX jit and torch eager beside."""
    lines = chain_lines(quick)
    fg_jit = fg.jit(fg.grad(lambda x: sin_chain(x, fnp.sin, lines)))
    shown, skipped = jit_peers(chain_peer_impls(lines, peers), "scalar chain")
    impls: dict[str, Callable[[], Any]] = {
        "numpy": lambda: sin_chain(CHAIN_X0, np.sin, lines),
        "funcgrad": lambda: fg_jit(CHAIN_X0),
        **shown,
    }
    return Workload(
        "jit scalar chain",
        f"jit(grad) of the {3 * lines}-operation scalar chain; the floor is NumPy's forward chain alone",
        impls,
        per=3 * lines,
        per_unit="op",
        floor_name="numpy fwd",
        reference=chain_numpy_grad(lines),
        skipped=skipped,
    )


@workload(time_ratio("jit(grad) of the MLP / hand-written gradient", 1.03))
def jit_mlp(quick: bool, peers: Peers) -> Workload:
    """``jit(grad(mlp_loss))`` against the hand-written NumPy gradient, JAX jit and torch eager beside."""
    problem = mlp_problem(quick)
    fg_jit = fg.jit(fg.grad(problem.fg_loss))
    shown, skipped = jit_peers(mlp_peer_impls(problem, peers), "mlp")
    impls: dict[str, Callable[[], Any]] = {
        "numpy": problem.numpy_grad,
        "funcgrad": lambda: fg_jit(problem.params),
        **shown,
    }
    shape = "-".join(map(str, problem.sizes))
    return Workload("jit mlp", f"jit(grad) of the {shape} MLP, batch {problem.batch}, float64", impls, skipped=skipped)
