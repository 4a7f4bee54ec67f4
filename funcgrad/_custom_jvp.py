"""``custom_jvp``: a function with a hand-written forward-mode rule that serves reverse mode too.

Forward mode calls the rule with the tangents.  Reverse mode records the
rule's tangent computation once (its tangents traced by a fresh reverse
transform, so only the part linear in them is recorded) and, on the
backward pass, transposes that recording: the cotangents of the tangent
inputs are the cotangents of the arguments.  Every operation the rule runs
on the primals is seen by the transforms below, so the rule keeps applying
at higher order (``grad(grad(f))``, ``hessian``).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from funcgrad import _errors
from funcgrad._api import vjp
from funcgrad._batching import BatchTrace, closes_over_batch, rebatch, split_batch, vmap
from funcgrad._custom import (
    Bound,
    DirectPrimitive,
    Pack,
    _name,
    bind_call,
    describe_leaf,
    fresh,
    numeric_kind,
    record,
    traced_from,
    zeros_like,
)
from funcgrad._custom_vjp import check_cotangent
from funcgrad._forward import materialize
from funcgrad._prims._array import ArrayTracer
from funcgrad._prims._shape import stack_tangents
from funcgrad._trace import Trace, below
from funcgrad.tree import PyTreeDef, mismatch_path, tree_flatten, tree_map, tree_unflatten

__all__ = ["custom_jvp"]


class custom_jvp:
    """Give ``fun`` a hand-written forward-mode derivative, used by every transform.

    ``f.defjvp(rule)`` sets it with JAX's calling convention:
    ``rule(*nondiff_args, primals, tangents)`` gets tuples of the
    differentiable arguments and their tangents and returns
    ``(primal_out, tangent_out)``.  The tangent output must be linear in the
    tangents.  A numerically stable ``log(1 + exp(x))``:
    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> @fg.custom_jvp
    ... def log1pexp(x):
    ...     return fnp.log(1.0 + fnp.exp(x))
    >>> @log1pexp.defjvp
    ... def log1pexp_jvp(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return log1pexp(x), t * (1.0 - 1.0 / (1.0 + fnp.exp(x)))
    >>> fg.grad(log1pexp)(100.0)
    np.float64(1.0)

    Works in forward mode (``jvp``, ``jacfwd``), in reverse mode (``grad``,
    ``vjp``, ``jacrev``) and at any order (``grad(grad(f))``, ``hessian``).
    ``defjvps`` gives one rule per argument instead.  Arguments listed in
    ``nondiff_argnums`` are passed to the rule first and get no tangent.
    ``fun`` may not close over a value the applied transform is
    differentiating (``TypeError``): pass such values as arguments.
    """

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = ()) -> None:
        if not callable(fun):
            raise _errors.expected_a_function("custom_jvp", fun)
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(sorted(int(n) for n in nondiff_argnums))
        self.jvp: Callable[..., Any] | None = None

    def defjvp(self, jvp: Callable[..., Any], symbolic_zeros: bool = False) -> Callable[..., Any]:
        """Set the rule ``jvp(*nondiff_args, primals, tangents) -> (primal_out, tangent_out)``; returns it.

        >>> import funcgrad as fg, numpy as np
        >>> f = fg.custom_jvp(np.sin)
        >>> _ = f.defjvp(lambda p, t: (np.sin(p[0]), np.cos(p[0]) * t[0]))
        >>> fg.jvp(f, (0.0,), (2.0,))
        (np.float64(0.0), np.float64(2.0))
        """
        if not callable(jvp):
            raise _errors.rule_not_a_function("custom_jvp.defjvp", jvp)
        if symbolic_zeros:
            raise _errors.symbolic_zeros(
                "custom_jvp.defjvp", "the rule receives zero arrays for arguments that are not differentiated"
            )
        self.jvp = jvp
        return jvp

    def defjvps(self, *jvps: Callable[..., Any] | None) -> None:
        """One rule per differentiable argument: ``jvp_i(tangent_i, primal_out, *primals)``,
        its contribution to the output tangent (``None``: that argument does not matter).

        >>> import funcgrad as fg, funcgrad.numpy as fnp
        >>> f = fg.custom_jvp(lambda x, y: x * fnp.sin(y))
        >>> f.defjvps(lambda tx, ans, x, y: tx * fnp.sin(y),
        ...           lambda ty, ans, x, y: ty * x * fnp.cos(y))
        >>> fg.grad(f, argnums=(0, 1))(2.0, 0.0)
        (np.float64(0.0), np.float64(2.0))
        """

        def rule(*rule_args: Any) -> tuple[Any, Any]:
            nondiff, (primals, tangents) = rule_args[:-2], rule_args[-2:]
            full = _full_args(self.nondiff_argnums, nondiff, primals)
            primal_out = self(*full)
            if len(jvps) != len(primals):
                raise _errors.defjvps_count(_name(self.fun), len(jvps), len(primals))
            total = None
            for jvp_i, t in zip(jvps, tangents):
                if jvp_i is None:
                    continue
                part = jvp_i(t, primal_out, *full)
                total = part if total is None else tree_map(lambda a, b: a + b, total, part)
            if total is None:
                total = tree_map(zeros_like, primal_out)
            return primal_out, total

        self.jvp = rule

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        what = f"custom_jvp function {_name(self.fun)}"
        if self.jvp is None:
            raise _errors.custom_without_rule(what, ".defjvp(rule) or .defjvps(...)")
        bound, top = bind_call(self.fun, self.nondiff_argnums, args, kwargs, what, "custom_jvp")
        if top is None:
            return self.fun(*bound.args)
        return top.process_custom_jvp_call(self, bound)

    def forward(self, trace: Trace, bound: Bound) -> Any:
        """Under a forward transform: the rule, called with the tangents."""
        call = _JVPCall(self, bound.args, bound.diff_idx, bound.treedef, trace)
        return call.forward_mode(trace, bound.leaves)

    def reverse(self, trace: Trace, bound: Bound) -> Any:
        """Under a reverse transform: one tape node whose backward pass transposes the rule's tangent map."""
        call = _JVPCall(self, bound.args, bound.diff_idx, bound.treedef, trace)
        outs = record(trace, custom_jvp_p, bound.leaves, {"call": call}, lambda: call.out_def.num_leaves)
        return tree_unflatten(call.out_def, outs)


    def batched(self, trace: BatchTrace, bound: Bound) -> Any:
        """Under ``vmap``: the same call on the unbatched values, with ``fun`` and the rule vmapped
        (as JAX batches it), so a transform below still sees this custom rule."""
        args, what = bound.args, bound.what
        if any(closes_over_batch(g, trace) for g in (self.fun, self.jvp)):
            raise _errors.custom_closure(what)
        nondiff = self.nondiff_argnums
        values, axes = split_batch(trace, args)
        diff_axes = tuple(a for i, a in enumerate(axes) if i not in nondiff)
        size = trace.size
        inner = custom_jvp(vmap(self.fun, in_axes=axes, axis_size=size), nondiff_argnums=nondiff)
        # a tangent is batched where its primal is: a tangent of an unbatched primal is one for every example
        inner.defjvp(
            vmap(self.jvp, in_axes=(*(axes[n] for n in nondiff), diff_axes, diff_axes), axis_size=size)  # type: ignore[arg-type]
        )
        return rebatch(trace, inner(*values))


def _full_args(nondiff_idx: tuple[int, ...], nondiff: Sequence[Any], primals: Sequence[Any]) -> tuple[Any, ...]:
    """All positional arguments from the nondifferentiable and the differentiable ones."""
    full: list[Any] = []
    nondiff_it, primal_it = iter(nondiff), iter(primals)
    for i in range(len(nondiff) + len(primals)):
        full.append(next(nondiff_it) if i in nondiff_idx else next(primal_it))
    return tuple(full)


class _JVPCall:
    """One call of a custom_jvp function under a transform."""

    __slots__ = ("f", "args", "diff_idx", "treedef", "level", "outer", "out_def", "vjp_fn", "what")

    def __init__(self, f: custom_jvp, args: tuple[Any, ...], diff_idx: list[int], treedef: PyTreeDef, top: Trace):
        self.f = f
        # the traced arguments come back through the pack: keeping them here would tie this
        # call (kept on the tape) to the tape in a reference cycle
        self.args = tuple(None if i in diff_idx else a for i, a in enumerate(args))
        self.diff_idx = diff_idx
        self.treedef = treedef
        self.level = top.level
        self.outer = weakref.ref(top)  # the rule runs below the transform that calls it (weak: no cycle)
        self.out_def: PyTreeDef = treedef
        self.vjp_fn: Callable[..., Any] | None = None
        self.what = f"custom_jvp function {_name(f.fun)}"

    def run_rule(self, primals: list[Any], tangents: list[Any]) -> tuple[list[Any], list[Any]]:
        """Call the rule on flat leaves; check and return flat (primal_out, tangent_out) leaves."""
        f = self.f
        nondiff = [self.args[n] for n in f.nondiff_argnums]
        tangents = [zeros_like(p) if t is None else t for t, p in zip(tangents, primals)]
        with below(self.outer):
            result = f.jvp(  # type: ignore[misc]
                *nondiff, tree_unflatten(self.treedef, fresh(primals)), tree_unflatten(self.treedef, fresh(tangents))
            )
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise _errors.jvp_rule_not_a_pair(self.what, describe_leaf(result))
        primal_out, tangent_out = result
        out_leaves, self.out_def = tree_flatten(primal_out)
        t_leaves, t_def = tree_flatten(tangent_out)
        if t_def != self.out_def:
            t_leaves, t_def = tree_flatten(tangent_out, is_leaf=lambda x: x is None)
            if t_def.num_leaves != len(out_leaves) or t_def != tree_flatten(primal_out, is_leaf=lambda x: x is None)[1]:
                raise _errors.jvp_rule_structure(
                    self.what, self.out_def, tree_flatten(tangent_out)[1], mismatch_path(primal_out, tangent_out)
                )
        checked = []
        for k, (t, p) in enumerate(zip(t_leaves, out_leaves)):
            where = f"tangent output (leaf {k})" if len(out_leaves) > 1 else "tangent output"
            checked.append(check_cotangent(t, p, self.what, f"the jvp rule's {where}"))
        return out_leaves, checked

    def check_closure(self, values: list[Any]) -> None:
        if any(traced_from(v, self.level) for v in values):
            raise _errors.custom_closure(self.what)

    # forward mode: call the rule with the tangents (one batch column at a time)
    def forward_mode(self, top: Any, leaves: list[Any]) -> Any:
        ours = [isinstance(v, ArrayTracer) and v._trace is top for v in leaves]
        primals = [v._value if o else v for v, o in zip(leaves, ours)]
        tangents = [materialize(v._payload) if o else None for v, o in zip(leaves, ours)]
        batch = getattr(top, "batch", 0)
        if not batch:
            out_leaves, t_out = self.run_rule(primals, tangents)
        else:
            columns = []
            for k in range(batch):
                out_leaves, t_k = self.run_rule(primals, [None if t is None else t[k] for t in tangents])
                columns.append(t_k)
            t_out = [
                None if all(c[j] is None for c in columns) else stack_tangents([c[j] for c in columns], out_leaves[j])
                for j in range(len(out_leaves))
            ]
        self.check_closure(out_leaves + [t for t in t_out if t is not None])
        outs = [
            p if t is None or numeric_kind(p) not in ("f", "c") else ArrayTracer(p, top, t)
            for p, t in zip(out_leaves, t_out)
        ]
        return tree_unflatten(self.out_def, outs)

    # reverse mode: record the rule's linear tangent map, transpose it on the backward pass
    def record_linear(self, pack: Pack) -> Pack:
        primals = pack.items
        slots = [i for i, p in enumerate(primals) if numeric_kind(p) in ("f", "c")]

        def linear(*ts: Any) -> tuple[list[Any], list[Any]]:
            tangents: list[Any] = [None] * len(primals)
            for i, t in zip(slots, ts):
                tangents[i] = t
            out_leaves, t_out = self.run_rule(primals, tangents)
            t_out = [zeros_like(p) if t is None else t for t, p in zip(t_out, out_leaves)]
            return t_out, out_leaves

        t_values, vjp_fn, out_leaves = vjp(linear, *[zeros_like(primals[i]) for i in slots], has_aux=True)
        self.check_closure(out_leaves + list(t_values))
        self.vjp_fn = vjp_fn
        return Pack(out_leaves)

    def transpose(self, g: Pack, ans: Pack, pack: Pack) -> Pack:
        items = g.items if isinstance(g, Pack) else [None] * len(ans.items)
        cts = [zeros_like(o) if c is None else c for c, o in zip(items, ans.items)]
        assert self.vjp_fn is not None
        got = self.vjp_fn(cts)
        out: list[Any] = [None] * len(pack.items)
        slots = [i for i, p in enumerate(pack.items) if numeric_kind(p) in ("f", "c")]
        for i, c in zip(slots, got):
            out[i] = c
        return Pack(out)

    def replay(self, t: Pack, ans: Pack, pack: Pack) -> Pack:
        """Forward rule of the recorded node (``linearize``): the rule again, with these tangents."""
        return Pack(self.run_rule(pack.items, list(t.items))[1])


custom_jvp_p = DirectPrimitive("custom_jvp_call", lambda pack, call: call.record_linear(pack))
custom_jvp_p.vjps = (lambda g, ans, pack, call: call.transpose(g, ans, pack),)
custom_jvp_p.jvps = (lambda t, ans, pack, call: call.replay(t, ans, pack),)
