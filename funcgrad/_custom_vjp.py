"""``custom_vjp``: a function with a hand-written reverse-mode rule (JAX's calling convention)."""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcgrad import _errors
from funcgrad._batching import BatchTrace, closes_over_batch, per_example, rebatch, split_batch, vmap
from funcgrad._custom import (
    Bound,
    DirectPrimitive,
    Pack,
    _name,
    bind_call,
    describe_leaf,
    fresh,
    merge_args,
    numeric_kind,
    record,
    traced_from,
    zeros_like,
)
from funcgrad._prims._base import match_dtype
from funcgrad._trace import Trace, below, full_lower
from funcgrad._values import shape
from funcgrad.tree import PyTreeDef, mismatch_path, tree_flatten, tree_leaves, tree_unflatten

__all__ = ["custom_vjp"]


class custom_vjp:
    """Give ``fun`` a hand-written reverse-mode derivative.

    ``f.defvjp(fwd, bwd)`` sets the rule, with JAX's calling convention:
    * ``fwd(*args)`` returns ``(output, residuals)``: the output of ``fun``
      and whatever the backward pass needs (any pytree);
    * ``bwd(*nondiff_args, residuals, g)`` receives the cotangent ``g`` of the
      output and returns a **tuple** with one cotangent per differentiable
      argument (``None`` for zero), each shaped like its argument.

    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> @fg.custom_vjp
    ... def clip_gradient(x):
    ...     return x
    >>> def fwd(x):
    ...     return x, None
    >>> def bwd(res, g):
    ...     return (fnp.clip(g, -1.0, 1.0),)
    >>> clip_gradient.defvjp(fwd, bwd)
    >>> fg.grad(lambda x: 5.0 * clip_gradient(x))(2.0)
    np.float64(1.0)

    Works under ``grad``, ``vjp``, ``jacrev``, ``hessian``, ``vmap`` (``fwd``
    and ``bwd`` then run on batched values) and nested reverse transforms
    (the outer ones differentiate through ``fwd`` and ``bwd``, so write
    ``bwd`` with ``funcgrad.numpy`` operations).  Forward
    mode (``jvp``, ``jacfwd``, ``linearize``) raises ``TypeError``: use
    :class:`custom_jvp` for that.  Arguments listed in ``nondiff_argnums``
    are passed to ``bwd`` first and get no cotangent; use
    ``functools.partial(fg.custom_vjp, nondiff_argnums=(0,))`` as a
    decorator.  ``fun`` may not close over a value the applied transform is
    differentiating (``TypeError``): pass such values as arguments.
    """

    def __init__(self, fun: Callable[..., Any], nondiff_argnums: Sequence[int] = ()) -> None:
        if not callable(fun):
            raise _errors.expected_a_function("custom_vjp", fun)
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(sorted(int(n) for n in nondiff_argnums))
        self.fwd: Callable[..., Any] | None = None
        self.bwd: Callable[..., Any] | None = None
        #: ``bwd`` reads the values it gets (funcgrad's own SciPy-backed rules): under ``vmap`` it runs per example
        self.per_example = False

    def defvjp(self, fwd: Callable[..., Any], bwd: Callable[..., Any], symbolic_zeros: bool = False) -> None:
        """Set the rule: ``fwd(*args) -> (out, residuals)``, ``bwd(*nondiff, residuals, g) -> tuple``.

        >>> import funcgrad as fg
        >>> f = fg.custom_vjp(lambda x: x * x)
        >>> f.defvjp(lambda x: (x * x, x), lambda x, g: (2 * x * g,))
        >>> fg.grad(f)(3.0)
        np.float64(6.0)
        """
        if not callable(fwd) or not callable(bwd):
            raise _errors.defvjp_not_functions(fwd, bwd)
        if symbolic_zeros:
            raise _errors.symbolic_zeros("custom_vjp.defvjp", "bwd receives zero arrays for zero cotangents")
        self.fwd = fwd
        self.bwd = bwd

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        what = f"custom_vjp function {_name(self.fun)}"
        if self.fwd is None or self.bwd is None:
            raise _errors.custom_without_rule(what, ".defvjp(fwd, bwd)")
        bound, top = bind_call(self.fun, self.nondiff_argnums, args, kwargs, what, "custom_vjp")
        if top is None:
            return self.fun(*bound.args)
        return top.process_custom_vjp_call(self, bound)

    def forward_mode_error(self, what: str) -> TypeError:
        """What a forward-mode transform raises: this rule is reverse-only."""
        return _errors.custom_vjp_in_forward_mode(what)

    def reverse(self, trace: Trace, bound: Bound) -> Any:
        """Under a reverse transform: one tape node that runs ``fwd`` now and ``bwd`` on the backward pass."""
        call = _VJPCall(self, bound.args, bound.diff_idx, bound.treedef, trace)
        outs = record(trace, custom_vjp_p, bound.leaves, {"call": call}, lambda: call.out_def.num_leaves)
        return tree_unflatten(call.out_def, outs)


    def batched(self, trace: BatchTrace, bound: Bound) -> Any:
        """Under ``vmap``: the same call on the unbatched values, with ``fun``, ``fwd`` and ``bwd`` vmapped
        (as JAX batches it), so a transform below still sees this custom rule."""
        args, what = bound.args, bound.what
        if any(closes_over_batch(g, trace) for g in (self.fun, self.fwd, self.bwd)):
            raise _errors.custom_closure(what)
        nondiff = self.nondiff_argnums
        # every differentiable leaf carries the batch: bwd returns one cotangent per example
        values, axes = split_batch(trace, args, frozenset(i for i in range(len(args)) if i not in nondiff))
        size = trace.size
        bwd: Any = functools.partial(per_example, self.bwd) if self.per_example else self.bwd  # type: ignore[arg-type]
        inner = custom_vjp(vmap(self.fun, in_axes=axes, axis_size=size), nondiff_argnums=nondiff)
        inner.defvjp(
            vmap(self.fwd, in_axes=axes, axis_size=size),  # type: ignore[arg-type]
            vmap(bwd, in_axes=(*(axes[n] for n in nondiff), 0, 0), axis_size=size),
        )
        return rebatch(trace, inner(*values))


class _VJPCall:
    """One call of a custom_vjp function under a reverse transform: runs ``fwd``, answers ``bwd``."""

    __slots__ = ("f", "args", "diff_idx", "treedef", "level", "outer", "out_def")

    def __init__(self, f: custom_vjp, args: tuple[Any, ...], diff_idx: list[int], treedef: PyTreeDef, top: Trace):
        self.f = f
        # the traced arguments come back through the pack: keeping them here would tie this
        # call (kept on the tape) to the tape in a reference cycle
        self.args = tuple(None if i in diff_idx else a for i, a in enumerate(args))
        self.diff_idx = diff_idx
        self.treedef = treedef
        self.level = top.level
        self.outer = weakref.ref(top)  # the rule runs below the transform that calls it (weak: no cycle)
        self.out_def: PyTreeDef = treedef

    def forward(self, pack: Pack) -> Pack:
        f = self.f
        what = f"custom_vjp function {_name(f.fun)}"
        full = merge_args(self.args, self.diff_idx, tree_unflatten(self.treedef, fresh(pack.items)))
        with below(self.outer):
            result = f.fwd(*full)  # type: ignore[misc]
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise _errors.fwd_not_a_pair(what, describe_leaf(result))
        out, residuals = result
        out_leaves, self.out_def = tree_flatten(out)
        if any(traced_from(v, self.level) for v in out_leaves + tree_leaves(residuals)):
            raise _errors.custom_closure(what)
        return Pack(out_leaves, extra=residuals)

    def backward(self, g: Pack, ans: Pack, pack: Pack) -> Pack:
        f = self.f
        what = f"custom_vjp function {_name(f.fun)}"
        items = g.items if isinstance(g, Pack) else [None] * len(ans.items)
        cts = [zeros_like(o) if c is None else c for c, o in zip(items, ans.items)]
        nondiff = [self.args[n] for n in f.nondiff_argnums]
        bwd: Any = f.bwd
        if f.per_example:
            bwd = functools.partial(per_example, bwd)
        result = bwd(*nondiff, ans.extra, tree_unflatten(self.out_def, cts))
        primals = tree_unflatten(self.treedef, pack.items)
        return Pack(_check_bwd(result, primals, what))


def _check_bwd(result: Any, primals: tuple[Any, ...], what: str) -> list[Any]:
    """The flat cotangent leaves ``bwd`` returned, checked against the primals."""
    count = len(primals)
    if not isinstance(result, tuple):
        raise _errors.bwd_not_a_tuple(what, count, describe_leaf(result))
    if len(result) != count:
        raise _errors.bwd_length(what, count, len(result))
    leaves: list[Any] = []
    for n, (ct, primal) in enumerate(zip(result, primals)):
        primal_leaves, primal_def = tree_flatten(primal)
        if ct is None:
            leaves.extend([None] * len(primal_leaves))
            continue
        ct_leaves, ct_def = tree_flatten(ct)
        if ct_def != primal_def:
            raise _errors.bwd_structure(what, n, primal_def, ct_def, mismatch_path(primal, ct))
        for k, (c, p) in enumerate(zip(ct_leaves, primal_leaves)):
            where = f"argument {n}" + (f" (leaf {k})" if len(primal_leaves) > 1 else "")
            leaves.append(check_cotangent(c, p, what, f"bwd's cotangent for {where}"))
    return leaves


def check_cotangent(c: Any, p: Any, what: str, role: str) -> Any:
    """``c`` as a (co)tangent of primal ``p``: same shape, compatible dtype (cast to ``p``'s precision)."""

    p_kind = numeric_kind(p)
    if p_kind not in ("f", "c"):
        return None  # integers and other leaves carry no derivative
    if c is None:
        return None
    c_kind = numeric_kind(c)
    p_shape = shape(p)
    c_shape = shape(c) if c_kind else None
    if c_kind not in ("b", "i", "u", "f", "c") or c_shape != p_shape or (p_kind == "f" and c_kind == "c"):
        raise _errors.rule_output_like_primal(what, role, p_shape, np.result_type(full_lower(p)), describe_leaf(c))
    if isinstance(c, (bool, int, float, complex)):
        c = np.asarray(c)
    return match_dtype(c, p)


custom_vjp_p = DirectPrimitive("custom_vjp_call", lambda pack, call: call.forward(pack))
custom_vjp_p.vjps = (lambda g, ans, pack, call: call.backward(g, ans, pack),)


def _no_forward(t: Any, ans: Any, pack: Pack, call: _VJPCall) -> Any:
    raise _errors.custom_vjp_in_linearize(_name(call.f.fun))


custom_vjp_p.jvps = (_no_forward,)
