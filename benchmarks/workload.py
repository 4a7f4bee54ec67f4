"""What a workload is, how it is registered, and the one builder for gradients of scalar functions of arrays.

A workload is a function ``build(quick, peers) -> Workload | None`` in a module of
``benchmarks/workloads/``, decorated with ``@workload(...targets)``; ``None`` means its library
(Dask, say) is not installed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp
from benchmarks.peers import Peers
from benchmarks.targets import Target

#: a computation split in two: ``forward()`` returns what ``backward(saved)`` needs (the residuals)
Phases = tuple[Callable[[], Any], Callable[[Any], Any]]


@dataclass
class Extra:
    """A measurement beyond the timings (run after every workload is timed), stored in the results under ``key``."""

    key: str
    measure: Callable[[], dict[str, Any] | None]
    #: one line of the report from what ``measure`` returned
    describe: Callable[[dict[str, Any]], str]


@dataclass
class Workload:
    """Implementations of one computation, ``impls[name]()`` returning the result to check."""

    name: str
    description: str
    impls: dict[str, Callable[[], Any]]
    per: int = 1  # divide the time by this for a per-operation figure
    per_unit: str = ""
    rtol: float = 1e-7
    skipped: dict[str, str] = field(default_factory=dict)
    floor_name: str = "numpy"  # how the floor ("numpy" in ``impls``) is labelled in the table
    #: (forward, backward) per implementation, for the peak memory of the backward sweep (``sweep_memory``)
    memory: dict[str, Phases] = field(default_factory=dict)
    #: what every implementation but the floor must return, when the floor computes something else (a forward pass)
    reference: Callable[[], Any] | None = None
    extras: list[Extra] = field(default_factory=list)
    #: per implementation, called after its first call and before its calls are timed (a jit brought to its
    #: last tier, so that its median is its steady state); returns how many calls it made
    settle: dict[str, Callable[[], int]] = field(default_factory=dict)
    #: per implementation, a factory of a new instance whose first call pays again what the first call paid (a
    #: jit with an empty cache); its first call is timed after the rounds too, in a warm process (``fresh_first_call``)
    fresh: dict[str, Callable[[], Callable[[], Any]]] = field(default_factory=dict)
    #: a line for the report from this workload's measured results (``impls`` with medians)
    note: Callable[[dict[str, Any]], str] | None = None


Builder = Callable[[bool, Peers], "Workload | None"]


@dataclass(frozen=True)
class Registered:
    """A workload's builder and the targets checked on its results."""

    build: Builder
    targets: tuple[Target, ...]
    before_peers: bool

    @property
    def name(self) -> str:
        """The name ``--only`` and ``--profile`` take: the builder function's."""
        return self.build.__name__


#: every registered workload, in the order the modules of ``benchmarks/workloads/`` define them
REGISTRY: list[Registered] = []


def workload(*targets: Target, before_peers: bool = False) -> Callable[[Builder], Builder]:
    """Register a workload builder with the targets its results are checked against.

    ``before_peers`` runs it before every other workload: a call of a few microseconds slows
    down by a third once JAX and PyTorch have started their threads.
    """

    def register(build: Builder) -> Builder:
        REGISTRY.append(Registered(build, targets, before_peers))
        return build

    return register


def _tree_map(fn: Callable[[Any], Any], tree: Any) -> Any:
    """``fn`` of an array, or of each array in a list (``None`` stays ``None``)."""
    if tree is None:
        return None
    return [fn(leaf) for leaf in tree] if isinstance(tree, list) else fn(tree)


def gradient_workload(
    name: str,
    description: str,
    peers: Peers,
    f: Callable[[Any, Any, Any], Any],
    params: Any,
    consts: Any = None,
    *,
    floor: Phases | Callable[[], Any],
    peer_skipped: dict[str, str] | None = None,
    **options: Any,
) -> Workload:
    """The gradient of ``f(xp, params, consts)`` w.r.t. ``params`` (an array or a list of arrays) in every library.

    ``f`` is written once against a NumPy-like module ``xp`` (``fnp``, autograd's numpy, ``jax.numpy``,
    ``torch``); ``consts`` are arrays it reads, converted to each library.  ``floor`` is the
    hand-written gradient: one callable, or ``(forward, backward)`` phases, in which case the memory
    of the backward sweep is measured for the floor, funcgrad and autograd too.  A peer named in
    ``peer_skipped`` is left out with that reason.
    """
    skipped = {name: why for name, why in (peer_skipped or {}).items() if peers.loaded()[name]}
    fg_grad = fg.grad(lambda ps: f(fnp, ps, consts))
    memory: dict[str, Phases] = {}
    if isinstance(floor, tuple):
        forward, backward = floor
        one = np.float64(1.0)
        memory["numpy"] = floor
        memory["funcgrad"] = (lambda: fg.vjp(lambda ps: f(fnp, ps, consts), params)[1], lambda vjp_fn: vjp_fn(one))
        impls: dict[str, Callable[[], Any]] = {"numpy": lambda: backward(forward())}
    else:
        impls = {"numpy": floor}
    impls["funcgrad"] = lambda: fg_grad(params)
    if peers.autograd and "autograd" not in skipped:
        anp = peers.anp

        def ag_f(ps: Any) -> Any:
            return f(anp, ps, consts)

        ag_grad = peers.autograd.grad(ag_f)
        impls["autograd"] = lambda: ag_grad(params)
        if memory:
            memory["autograd"] = (lambda: peers.autograd.make_vjp(ag_f)(params)[0], lambda vjp_fn: vjp_fn(1.0))
    if peers.jax and "jax" not in skipped:
        jax, jnp = peers.jax, peers.jnp
        jparams, jconsts = _tree_map(jnp.asarray, params), _tree_map(jnp.asarray, consts)
        jax_grad = jax.grad(lambda ps: f(jnp, ps, jconsts))
        jax_jit = jax.jit(jax_grad)
        impls["jax"] = lambda: jax.block_until_ready(jax_grad(jparams))
        impls["jax-jit"] = lambda: jax.block_until_ready(jax_jit(jparams))
    if peers.torch and "torch" not in skipped:
        torch = peers.torch
        tparams = _tree_map(lambda a: torch.tensor(a, requires_grad=True), params)
        tconsts = _tree_map(torch.tensor, consts)
        leaves = tparams if isinstance(tparams, list) else [tparams]

        def torch_grad() -> Any:
            grads = torch.autograd.grad(f(torch, tparams, tconsts), leaves)
            return list(grads) if isinstance(tparams, list) else grads[0]

        impls["torch"] = torch_grad
    if peers.torch_compile and "torch-compile" not in skipped:
        torch = peers.torch
        tplain = _tree_map(torch.tensor, params)
        tconsts = _tree_map(torch.tensor, consts)
        compiled = torch.compile(torch.func.grad(lambda ps: f(torch, ps, tconsts)))
        impls["torch-compile"] = lambda: compiled(tplain)
    return Workload(name, description, impls, memory=memory, skipped=skipped, **options)
