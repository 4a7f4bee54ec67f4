"""Controlling differentiation: ``stop_gradient``, and the machinery that
``custom_vjp``, ``custom_jvp`` and ``checkpoint`` share.

A custom rule is one tape node for the *whole* function.  Its inputs and
outputs are pytrees, while a primitive has positional array arguments and
one output, so the leaves travel as one :class:`Pack`:

* ``pack_p(*leaves)`` makes the pack; its cotangent (tangent) is a pack of
  the leaves' cotangents (tangents), ``None`` meaning zero;
* the custom primitive maps the input pack to an output pack;
* ``unpack_p(pack, index=i)`` takes one output leaf out again.

Only the transform that owns the call (the innermost one tracing its
arguments) records these nodes; transforms below it see the operations the
rule itself runs (``fwd``, ``bwd``, the JVP rule, the recomputation), which
is how custom rules differentiate again at higher order, as in JAX.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar

import numpy as np

from funcgrad import _backends, _errors, _values
from funcgrad._api import float0
from funcgrad._prims._inplace import copy_of
from funcgrad._rules import defjvp, defjvp_variadic, defvjp, defvjp_variadic
from funcgrad._trace import Primitive, Trace, Tracer, full_lower
from funcgrad.tree import tree_flatten, tree_leaves

T = TypeVar("T")


# --- packs: several leaves as one traced value -------------------------------------------


class Pack:
    """Several values (or their tangents / cotangents) travelling as one.

    ``items[i] is None`` means a zero (co)tangent.  ``extra`` carries what a
    custom node keeps for its backward pass (``custom_vjp`` residuals).
    Packs add item by item, so the reverse sweep can accumulate them.
    """

    __slots__ = ("items", "extra")

    def __init__(self, items: Sequence[Any], extra: Any = None) -> None:
        self.items = list(items)
        self.extra = extra

    def __add__(self, other: Any) -> Pack:
        if other is None:
            return self
        if not isinstance(other, Pack):
            return NotImplemented
        return Pack([a if b is None else b if a is None else a + b for a, b in zip(self.items, other.items)])

    __radd__ = __add__

    def __repr__(self) -> str:
        return f"Pack({self.items!r})"


def one_hot(n: int, index: int, value: Any) -> Pack:
    """A pack of ``n`` zero (``None``) items with ``value`` at ``index``."""
    items: list[Any] = [None] * n
    items[index] = value
    return Pack(items)


class DirectPrimitive(Primitive):
    """A primitive handled only by the trace it is handed to.

    Calling it never dispatches to the traces below: they see the operations
    its implementation runs instead (``fwd``, the JVP rule, ...).
    """

    __slots__ = ()

    def __call__(self, *args: Any, **params: Any) -> Any:
        return self.impl(*args, **params)


pack_p = DirectPrimitive("pack", lambda *leaves: Pack(leaves))
defvjp_variadic(pack_p, lambda i: lambda g, ans, *args: g.items[i])
defjvp_variadic(pack_p, lambda i: lambda t, ans, *args: one_hot(len(args), i, t), batched=True)

unpack_p = Primitive("unpack", lambda pack, index: pack.items[index])
defvjp(unpack_p, lambda g, ans, pack, index: one_hot(len(pack.items), index, g))
defjvp(unpack_p, lambda t, ans, pack, index: t.items[index], batched=True)


def record(
    trace: Trace, prim: Primitive, leaves: Sequence[Any], params: dict[str, Any], count: Callable[[], int]
) -> list[Any]:
    """Record ``prim`` as one node of ``trace`` taking ``leaves``; return its output leaves.

    ``count()`` (read after the node ran) is the number of output leaves.
    """
    packed = trace.process(pack_p, tuple(leaves), {})
    out = trace.process(prim, (packed,), params)
    return [unpack_p(out, index=i) for i in range(count())]


# --- helpers shared by the custom transforms ----------------------------------------------


def fresh(leaves: Sequence[Any]) -> list[Any]:
    """``leaves`` as new objects for a user function that may write into them (in-place writes), so the
    values the transforms hold (tape residuals, tangents) never change: arrays copied, traced values
    re-wrapped (no computation is recorded)."""
    return [
        leaf.copy() if type(leaf) is np.ndarray else copy_of(leaf) if isinstance(leaf, Tracer) else leaf
        for leaf in leaves
    ]


def find_top(leaves: Sequence[Any], name: str) -> Trace | None:
    """The innermost live transform tracing any of ``leaves`` (``None`` if none does)."""
    top: Trace | None = None
    for leaf in leaves:
        if isinstance(leaf, Tracer):
            trace = leaf._trace
            if top is None or trace.level > top.level:
                top = trace
            elif trace is not top and trace.level == top.level:
                raise _errors.escaped_tracer(name)
    if top is not None and not top.active:
        raise _errors.escaped_tracer(name)
    return top


def traced_from(value: Any, level: int) -> bool:
    """Is ``value`` traced by a transform of level ``level`` or above?"""
    return isinstance(value, Tracer) and value._trace.level >= level


def numeric_kind(value: Any) -> str:
    """The dtype kind (``'f'``, ``'c'``, ``'i'``...) of an array-like leaf, ``''`` for anything else."""
    value = full_lower(value)
    if isinstance(value, (np.ndarray, np.generic)):
        return str(value.dtype.kind)
    if isinstance(value, Tracer):  # a batch under vmap: full_lower keeps it
        return str(_values.dtype(value).kind)
    if isinstance(value, (bool, int, float, complex)):
        return str(np.result_type(value).kind)
    if _backends.is_foreign(value):
        return str(value.dtype.kind)
    return ""


def zeros_like(value: Any) -> Any:
    """A plain zero with ``value``'s shape and dtype (``float0`` for integers, as in JAX)."""
    base = full_lower(value)
    kind = numeric_kind(base)
    if kind in "fc" and _backends.is_foreign(base):
        return _backends.zeros_like(base)
    out = np.zeros(_values.shape(base), _values.dtype(base) if kind in "fc" else float0)
    return out if isinstance(base, np.ndarray) else out[()]


def resolve_kwargs(
    fun: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], what: str
) -> tuple[Any, ...]:
    """Bind keyword arguments to positions, as JAX does for custom rules."""
    if not kwargs:
        return args
    try:
        bound = inspect.signature(fun).bind(*args, **kwargs)
    except (TypeError, ValueError) as error:
        raise _errors.custom_arguments(what, _name(fun), error) from None
    bound.apply_defaults()
    if bound.kwargs:
        raise _errors.custom_keyword_only(what, _name(fun), sorted(bound.kwargs))
    return tuple(bound.args)


def split_args(args: tuple[Any, ...], nondiff: tuple[int, ...], what: str) -> tuple[list[int], tuple[Any, ...]]:
    """Positions of the differentiable arguments and the differentiable arguments."""
    for n in nondiff:
        if not 0 <= n < len(args):
            raise _errors.nondiff_argnums_range(what, nondiff, len(args))
    diff_idx = [i for i in range(len(args)) if i not in nondiff]
    return diff_idx, tuple(args[i] for i in diff_idx)


def merge_args(args: tuple[Any, ...], diff_idx: list[int], diff_args: Sequence[Any]) -> tuple[Any, ...]:
    """``args`` with the differentiable positions replaced by ``diff_args``."""
    full = list(args)
    for i, value in zip(diff_idx, diff_args):
        full[i] = value
    return tuple(full)


def check_nondiff(
    args: tuple[Any, ...], nondiff: tuple[int, ...], level: int, fun: Callable[..., Any], what: str
) -> None:
    for n in nondiff:
        if any(traced_from(leaf, level) for leaf in tree_leaves(args[n])):
            raise _errors.nondiff_argument_traced(what, n, _name(fun))


def bind_call(
    fun: Callable[..., Any],
    nondiff: tuple[int, ...],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    what: str,
    default_name: str,
) -> tuple[Bound, Trace | None]:
    """The prelude shared by custom_vjp and custom_jvp calls.

    Resolves keywords to positions, splits off the nondifferentiable
    arguments, and finds the innermost transform (``None`` when nothing is
    traced); returns the bound call and that transform.
    """

    args = resolve_kwargs(fun, args, kwargs, what)
    diff_idx, diff_args = split_args(args, nondiff, what)
    leaves, treedef = tree_flatten(diff_args)
    nondiff_leaves = tree_leaves([args[n] for n in nondiff])
    top = find_top(leaves + nondiff_leaves, getattr(fun, "__name__", default_name))
    if top is not None and top.checks_nondiff:  # a batched nondiff argument is mapped, not differentiated
        check_nondiff(args, nondiff, top.level, fun, what)
    return Bound(args, diff_idx, leaves, treedef, what), top


class Bound(NamedTuple):
    """A custom rule's call, bound: what a trace's ``process_custom_vjp_call`` / ``_jvp_call`` hands back."""

    args: tuple[Any, ...]
    diff_idx: list[int]
    leaves: list[Any]
    treedef: Any
    what: str


def _name(fun: Any) -> str:
    return f"'{getattr(fun, '__name__', type(fun).__name__)}'"


def describe_leaf(value: Any) -> str:
    return _errors.describe(full_lower(value)) if numeric_kind(value) else _errors.describe(value)
