"""``checkpoint`` (``remat``): trade compute for memory in reverse mode.

Under a reverse transform a checkpointed call is one tape node that keeps
only its inputs and outputs.  Its backward rule runs the function again
under a fresh ``vjp`` and sweeps that short recording, which is dropped as
soon as the node's cotangents are known.  Other transforms (forward mode,
no transform) just call the function.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from funcgrad import _errors
from funcgrad._api import jvp, vjp
from funcgrad._batching import BatchTrace, rebatch, split_batch, vmap
from funcgrad._custom import DirectPrimitive, Pack, find_top, fresh, numeric_kind, record, traced_from, zeros_like
from funcgrad._trace import Trace, below
from funcgrad.tree import PyTreeDef, tree_flatten, tree_unflatten

__all__ = ["checkpoint", "remat"]


class _Closure(Exception):
    """The function closes over a value of the recording transform: store its inside after all."""


def checkpoint(
    fun: Callable[..., Any] | None = None,
    *,
    prevent_cse: bool = True,
    policy: Callable[..., Any] | None = None,
    static_argnums: int | Sequence[int] = (),
) -> Any:
    """``fun`` unchanged, except that reverse mode recomputes its inside on the backward pass.

    Gradients are identical to those of ``fun``; the tape keeps only the
    checkpointed call's inputs and outputs, so a long chain split into
    checkpointed segments needs far less memory (at the price of running
    each segment twice).  Usable as a decorator; ``fg.remat`` is the same.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> @fg.checkpoint
    ... def block(x):
    ...     return fnp.sin(fnp.sin(x))
    >>> fg.grad(lambda x: block(block(x)))(0.0)
    np.float64(1.0)

    Arguments may be pytrees; ``static_argnums`` marks arguments that are not
    arrays (passed through untouched).  ``prevent_cse`` is accepted for JAX
    compatibility and has no effect; ``policy`` (save some intermediates) is
    not supported.  A function that closes over a value the transform is
    differentiating still gets correct gradients, but its inside is then
    stored as usual (pass such values as arguments to save the memory).
    """
    if fun is None:
        return functools.partial(checkpoint, prevent_cse=prevent_cse, policy=policy, static_argnums=static_argnums)
    if not callable(fun):
        raise _errors.expected_a_function("checkpoint", fun)
    if policy is not None:
        raise _errors.checkpoint_policy()
    static = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)

    @functools.wraps(fun)
    def checkpointed(*args: Any, **kwargs: Any) -> Any:
        static_idx = {n % len(args) for n in static} if args else set()
        dynamic_idx = [i for i in range(len(args)) if i not in static_idx]
        leaves, treedef = tree_flatten((tuple(args[i] for i in dynamic_idx), kwargs))
        top = find_top(leaves, getattr(fun, "__name__", "checkpoint"))
        call = _Checkpointed(fun, args, kwargs, dynamic_idx, leaves, treedef)
        return call.plain() if top is None else top.process_checkpoint(call)

    return checkpointed


remat = checkpoint


class _Checkpointed(NamedTuple):
    """One call of a checkpointed function, which the innermost trace handles (``process_checkpoint``)."""

    fun: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    dynamic_idx: list[int]
    leaves: list[Any]
    treedef: PyTreeDef

    def plain(self) -> Any:
        """The function as it is (no transform to recompute for, or one it closes over)."""
        return self.fun(*self.args, **self.kwargs)

    def reverse(self, trace: Trace) -> Any:
        """Under a reverse transform: one tape node that recomputes the function on the backward pass."""
        if _closes_over(self.fun, trace.level):
            return self.plain()
        call = _RematCall(self.fun, self.args, self.dynamic_idx, self.treedef, trace)
        try:
            outs = record(trace, remat_p, self.leaves, {"call": call}, lambda: call.out_def.num_leaves)
        except _Closure:
            return self.plain()
        return tree_unflatten(call.out_def, outs)

    def batched(self, trace: BatchTrace) -> Any:
        """Under ``vmap``: a checkpoint of the vmapped function (see ``_batched``)."""
        if _closes_over(self.fun, trace.level):
            return self.plain()
        return _batched(self.fun, trace, self.args, self.kwargs)


def _batched(fun: Callable[..., Any], trace: BatchTrace, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Under ``vmap``: a checkpoint of ``vmap(fun)`` on the unbatched values, so a reverse transform
    below still recomputes instead of storing (keywords travel as positions: vmap maps all of its own)."""
    keys = sorted(kwargs)
    values, axes = split_batch(trace, tuple(args) + tuple(kwargs[k] for k in keys))

    def positional(*values: Any) -> Any:
        head = len(values) - len(keys)
        return fun(*values[:head], **dict(zip(keys, values[head:])))

    return rebatch(trace, checkpoint(vmap(positional, in_axes=axes, axis_size=trace.size))(*values))


def _closes_over(fun: Callable[..., Any], level: int) -> bool:
    """Does ``fun`` close over a value traced by the recording transform?

    Such a function cannot be run again on the backward pass (the transform has returned by
    then), even when it only reads the value through a function with no derivative (``copysign``'s
    sign, ``ones_like``), which leaves no traced output for ``forward`` to notice.
    """
    for cell in getattr(fun, "__closure__", None) or ():
        try:
            contents = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if any(traced_from(leaf, level) for leaf in tree_flatten(contents)[0]):
            return True
    return False


class _RematCall:
    """One checkpointed call under a reverse transform."""

    __slots__ = ("fun", "args", "dynamic_idx", "treedef", "level", "outer", "out_def")

    def __init__(
        self, fun: Callable[..., Any], args: tuple[Any, ...], dynamic_idx: list[int], treedef: PyTreeDef, top: Trace
    ) -> None:
        self.fun = fun
        # the traced arguments come back through the pack: keeping them here would tie this
        # call (kept on the tape) to the tape in a reference cycle
        self.args = tuple(None if i in dynamic_idx else a for i, a in enumerate(args))
        self.dynamic_idx = dynamic_idx
        self.treedef = treedef
        self.level = top.level
        self.outer = weakref.ref(top)  # the function runs below the transform that calls it (weak: no cycle)
        self.out_def: PyTreeDef = treedef

    def call(self, leaves: Sequence[Any]) -> Any:
        dynamic, kwargs = tree_unflatten(self.treedef, fresh(leaves))
        full = list(self.args)
        for i, value in zip(self.dynamic_idx, dynamic):
            full[i] = value
        with below(self.outer):
            return self.fun(*full, **kwargs)

    def flat(self, pack: Pack, ans: Pack) -> tuple[Callable[..., Any], list[int]]:
        """``fun`` from and to its float/complex leaves only, and the input leaves' positions."""
        slots = [i for i, p in enumerate(pack.items) if numeric_kind(p) in ("f", "c")]
        out_slots = [j for j, o in enumerate(ans.items) if numeric_kind(o) in ("f", "c")]

        def fun_of_slots(*values: Any) -> list[Any]:
            leaves = list(pack.items)
            for i, v in zip(slots, values):
                leaves[i] = v
            outs = tree_flatten(self.call(leaves))[0]
            return [outs[j] for j in out_slots]

        return fun_of_slots, slots

    def forward(self, pack: Pack) -> Pack:
        out_leaves, self.out_def = tree_flatten(self.call(pack.items))
        if any(traced_from(v, self.level) for v in out_leaves):
            raise _Closure
        return Pack(out_leaves)

    def backward(self, g: Pack, ans: Pack, pack: Pack) -> Pack:
        items = g.items if isinstance(g, Pack) else [None] * len(ans.items)
        cts = [zeros_like(o) if c is None else c for c, o in zip(items, ans.items)]
        fun_of_slots, slots = self.flat(pack, ans)
        _, vjp_fn = vjp(fun_of_slots, *[pack.items[i] for i in slots])
        got = vjp_fn([c for c, o in zip(cts, ans.items) if numeric_kind(o) in ("f", "c")])
        out: list[Any] = [None] * len(pack.items)
        for i, c in zip(slots, got):
            out[i] = c
        return Pack(out)

    def replay(self, t: Pack, ans: Pack, pack: Pack) -> Pack:
        """Forward rule of the node (``linearize``): a ``jvp`` of the recomputed function."""
        fun_of_slots, slots = self.flat(pack, ans)
        primals = [pack.items[i] for i in slots]
        tangents = [zeros_like(pack.items[i]) if t.items[i] is None else t.items[i] for i in slots]
        t_out = iter(jvp(fun_of_slots, primals, tangents)[1])
        return Pack([next(t_out) if numeric_kind(o) in ("f", "c") else None for o in ans.items])


remat_p = DirectPrimitive("checkpoint", lambda pack, call: call.forward(pack))
remat_p.vjps = (lambda g, ans, pack, call: call.backward(g, ans, pack),)
remat_p.jvps = (lambda t, ans, pack, call: call.replay(t, ans, pack),)
