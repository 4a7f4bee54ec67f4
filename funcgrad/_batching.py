"""``vmap``: map a function over an axis of its arguments as one batched computation.

A ``vmap`` call opens a level like every other transform.  Its values are
:class:`BatchTracer` objects holding the whole batch with the batch axis
moved to the front; user code sees one example's shape.  A primitive that
meets them goes to :meth:`BatchTrace.process`, which unwraps them and applies
the primitive's batching rule (``Primitive.batcher``, declared beside its
derivative rules with ``funcgrad._rules.defbatch``) to the batched values.
Operands that are not batched stay plain values: they are never broadcast
to the batch.  The rule calls primitives again on the unwrapped values, so
transforms below the batch see every operation (``grad(vmap(f))``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from funcgrad import _errors
from funcgrad._prims import _shape
from funcgrad._prims._array import ArrayTracer
from funcgrad._prims._base import broadcast_batch, broadcast_to_p, reshape_p
from funcgrad._prims._batch import WORDS, data_dependent, loop
from funcgrad._prims._indexing import getitem_p
from funcgrad._prims._nondiff import all as all_of
from funcgrad._prims._nondiff import any as any_of
from funcgrad._prims._shape import moveaxis
from funcgrad._trace import Primitive, Trace, Tracer, full_lower, new_level, read_value
from funcgrad._values import dtype, ndim, shape
from funcgrad.tree import _children, tree_flatten, tree_unflatten

__all__ = ["vmap"]


class BatchTracer(ArrayTracer):
    """A batch of values seen by ``vmap``: ``_value`` holds them stacked along axis 0.

    ``shape``, ``ndim``, ``size`` and ``len`` describe one example, as the
    function being mapped expects; ``_payload`` is the batch size.
    """

    __slots__ = ()

    @property
    def shape(self) -> tuple[int, ...]:
        return shape(self._value)[1:]

    @property
    def ndim(self) -> int:
        return ndim(self._value) - 1

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def __repr__(self) -> str:
        return f"Batched<{full_lower(self._value)!r}, batch of {self._payload}, level {self._trace.level}>"

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray[Any, Any]:
        raise _errors.array_of_traced("numpy.asarray() / numpy.array()", "would read one array for the whole batch")


class BatchTrace(Trace):
    """One ``vmap`` call: every value it traces holds a batch of ``size`` examples along axis 0."""

    __slots__ = ("size",)

    keeps_values = True
    checks_nondiff = False  # a custom rule's nondifferentiable argument that holds a batch is mapped over


    def __init__(self, level: int, size: int) -> None:
        super().__init__(level)
        self.size = size

    def constant(self, value: Any) -> Any:
        # the same value for every example (a read-only view: writes are functional updates)
        return BatchTracer(np.broadcast_to(value, (self.size,) + shape(value)), self, self.size)

    def process(self, prim: Primitive, args: tuple[Any, ...], params: dict[str, Any]) -> Any:
        values = list(args)
        batched = [False] * len(args)
        for argnum, arg in enumerate(args):
            if isinstance(arg, Tracer) and arg._trace is self:
                values[argnum] = arg._value
                batched[argnum] = True
        rule = prim.batcher
        if rule is None or isinstance(rule, str):
            rule = WORDS[rule or "loop"]
        if not self.size and rule is not data_dependent:
            rule = loop  # no example to compute: the output's shape from one stand-in (many libraries refuse 0-size stacks)
        out = rule(prim, values, batched, self.size, **params)
        return BatchTracer(out, self, self.size)

    def bool_of(self, tracer: Tracer) -> bool:
        """The branch every example takes (a loop takes it too); examples that disagree have no single answer.

        A batch of no examples takes the branch of ``False``: a ``while`` ends and an ``if bad: raise`` check passes.
        """

        value = tracer._value
        if int(np.prod(shape(value)[1:], dtype=np.int64)) != 1:
            raise _errors.ambiguous_truth_value()
        if not self.size:
            return False
        if bool(all_of(value)):
            return True
        if not bool(any_of(value)):
            return False
        raise _errors.batched_bool()

    def read_value(self, tracer: Tracer, why: str) -> Any:
        """One value for the whole batch when every example has it (a count that decides a shape); else refused."""
        batch = np.asarray(read_value(tracer._value, why))
        if batch.shape[0] and not (batch == batch[:1]).all():
            raise _errors.batched_value_differs(why)
        return batch[0] if batch.shape[0] else np.zeros(batch.shape[1:], batch.dtype)

    def lowered(self, tracer: Tracer) -> Any:
        return BatchTracer(full_lower(tracer._value), self, self.size)

    # custom rules and checkpoint: the batch moves inside the call, vmapping the function and its rule
    def process_custom_vjp_call(self, rule: Any, call: Any) -> Any:
        return rule.batched(self, call)

    def process_custom_jvp_call(self, rule: Any, call: Any) -> Any:
        return rule.batched(self, call)

    def process_checkpoint(self, call: Any) -> Any:
        return call.batched(self)




def per_example(fun: Callable[..., Any], *args: Any) -> Any:
    """``fun(*args)`` once per example of the innermost batch among ``args`` (pytrees), results stacked.

    For code that reads the values it is given (a rule calling SciPy) and
    so cannot run on a batch: each call sees plain slices, and the output
    leaves (``None`` for a zero) come back batched again.  With no batched
    leaf it is ``fun(*args)``.
    """

    leaves, treedef = tree_flatten(args)
    batches = [t for t in (getattr(leaf, "_trace", None) for leaf in leaves) if isinstance(t, BatchTrace) and t.active]
    if not batches:
        return fun(*args)
    trace = max(batches, key=lambda t: t.level)

    def example(k: int | None) -> Any:
        def part(leaf: Any) -> Any:
            if not (isinstance(leaf, Tracer) and leaf._trace is trace):
                return leaf
            if k is None:
                return np.zeros(shape(leaf), dtype(leaf))
            return getitem_p(leaf._value, index=k)

        return per_example(fun, *tree_unflatten(treedef, [part(leaf) for leaf in leaves]))

    parts = [example(k) for k in range(trace.size)] or [example(None)]
    flat = [tree_flatten(p, is_leaf=_is_none)[0] for p in parts]
    out_def = tree_flatten(parts[0], is_leaf=_is_none)[1]
    stacked: list[Any] = []
    for column in zip(*flat):
        if all(c is None for c in column):
            stacked.append(None)
            continue
        if trace.size == 0:
            stacked.append(BatchTracer(np.zeros((0,) + shape(column[0]), dtype(column[0])), trace, 0))
            continue
        first = next(c for c in column if c is not None)
        filled = [np.zeros(shape(first), dtype(first)) if c is None else c for c in column]
        stacked.append(BatchTracer(_shape.stack(filled), trace, trace.size))
    return tree_unflatten(out_def, stacked)


def split_batch(
    trace: BatchTrace, args: tuple[Any, ...], everywhere: frozenset[int] = frozenset()
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """``args`` with ``trace``'s batches unwrapped, and the matching ``in_axes`` (0 for a batch, ``None`` else).

    The leaves of the arguments at the positions in ``everywhere`` all get
    the batch (unbatched ones are broadcast to it), for rules that must give
    one result per example.  With :func:`rebatch` this moves a batch inside
    a call: ``rebatch(trace, g(*values))`` for ``g`` a ``vmap`` of the call
    with these ``in_axes`` (how custom rules and checkpoint batch).
    """

    values: list[Any] = []
    axes: list[Any] = []
    for position, arg in enumerate(args):
        leaves, treedef = tree_flatten(arg)
        leaf_values: list[Any] = []
        leaf_axes: list[int | None] = []
        for leaf in leaves:
            if isinstance(leaf, Tracer) and leaf._trace is trace:
                leaf_values.append(leaf._value)
                leaf_axes.append(0)
            elif position in everywhere:
                leaf_values.append(
                    broadcast_batch(np.asarray(leaf) if isinstance(leaf, (int, float, complex)) else leaf, trace.size)
                )
                leaf_axes.append(0)
            else:
                leaf_values.append(leaf)
                leaf_axes.append(None)
        values.append(tree_unflatten(treedef, leaf_values))
        axes.append(tree_unflatten(treedef, leaf_axes) if leaves else None)
    return tuple(values), tuple(axes)


def rebatch(trace: BatchTrace, out: Any) -> Any:
    """The leaves of ``out`` (each with the batch leading, as ``vmap`` returns them) as ``trace``'s values."""
    leaves, treedef = tree_flatten(out)
    return tree_unflatten(treedef, [BatchTracer(leaf, trace, trace.size) for leaf in leaves])


def closes_over_batch(fun: Any, trace: BatchTrace) -> bool:
    """Does ``fun`` close over one of ``trace``'s values (which a call moved inside the batch cannot see as such)?"""
    for cell in getattr(fun, "__closure__", None) or ():
        try:
            contents = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if any(isinstance(leaf, Tracer) and leaf._trace is trace for leaf in tree_flatten(contents)[0]):
            return True
    return False


def _is_none(value: Any) -> bool:
    return value is None


# --- in_axes / out_axes -------------------------------------------------------------------


def _is_axis(spec: Any) -> bool:
    return spec is None or (isinstance(spec, (int, np.integer)) and not isinstance(spec, bool))


def _broadcast_prefix(spec: Any, tree: Any, path: str, what: str) -> list[tuple[str, Any, Any]]:
    """``(path, leaf, axis)`` for each leaf of ``tree``, the axis taken from the prefix ``spec``."""
    if _is_axis(spec):
        return _leaf_paths(tree, path, spec)
    spec_node = _children(spec)
    tree_node = _children(tree)
    if spec_node is None:
        raise _errors.vmap_bad_axis_spec(what, path, spec)
    if (
        tree_node is None
        or spec_node[0] != tree_node[0]
        or spec_node[1] != tree_node[1]
        or type(spec) is not type(tree)
    ):
        raise _errors.vmap_not_a_prefix(what, path, spec, tree)
    if len(spec_node[2]) != len(tree_node[2]):
        raise _errors.vmap_not_a_prefix(what, path, spec, tree)
    out = []
    for key, (s, t) in zip(_child_keys(tree, tree_node), zip(spec_node[2], tree_node[2])):
        out.extend(_broadcast_prefix(s, t, f"{path}{key}", what))
    return out


def _leaf_paths(tree: Any, path: str, axis: Any) -> list[tuple[str, Any, Any]]:
    node = _children(tree)
    if node is None:
        return [(path, tree, axis)]
    out = []
    for key, child in zip(_child_keys(tree, node), node[2]):
        out.extend(_leaf_paths(child, f"{path}{key}", axis))
    return out


def _child_keys(tree: Any, node: tuple[str, Any, list[Any]]) -> list[str]:
    kind, aux, children = node
    if kind == "dict":
        return [f"[{k!r}]" for k in aux]
    if kind == "namedtuple":
        return [f".{f}" for f in type(tree)._fields]
    return [f"[{i}]" for i in range(len(children))]


def _axes_per_argument(in_axes: Any, nargs: int) -> list[Any]:
    if _is_axis(in_axes):
        return [in_axes] * nargs
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)
    if not isinstance(in_axes, tuple):
        raise _errors.vmap_bad_axis_spec("in_axes", "", in_axes)
    if len(in_axes) != nargs:
        raise _errors.vmap_in_axes_length(len(in_axes), nargs)
    return list(in_axes)


def _check_axis(axis: int, rank: int, name: str, what: str, extra: int = 0) -> int:
    """``axis`` as a non-negative axis of an array of ``rank + extra`` axes (``extra`` = 1 for out_axes)."""
    total = rank + extra
    if not -total <= axis < total:
        raise _errors.vmap_axis_out_of_range(what, name, axis, rank, extra)
    return int(axis) % total


# --- vmap ---------------------------------------------------------------------------------


def vmap(
    fun: Callable[..., Any], in_axes: Any = 0, out_axes: Any = 0, *, axis_size: int | None = None
) -> Callable[..., Any]:
    """``fun`` mapped over an axis of its arguments, run as one batched computation.

    ``in_axes`` says which axis of each argument is mapped: an int for all of
    them, ``None`` for an argument passed whole to every example, or a
    tuple with one entry per positional argument, each entry itself a
    pytree prefix of that argument (``{"w": None, "b": 0}``).  Keyword
    arguments are mapped over axis 0.  ``out_axes`` places the batch axis in
    each output (a pytree prefix of the output); an output that does not
    depend on a mapped input is broadcast to the batch.  Negative axes count
    from the end.  ``axis_size`` gives the batch size when no argument is
    mapped.

    >>> import funcgrad as fg, numpy as np
    >>> fg.vmap(np.dot, in_axes=(0, None))(np.arange(6.0).reshape(3, 2), np.array([1.0, 10.0]))
    array([10., 32., 54.])
    >>> fg.vmap(fg.grad(lambda w, x: np.sum(w * x) ** 2), in_axes=(None, 0))(np.ones(2), np.eye(2))
    array([[2., 0.],
           [0., 2.]])

    Raises ``ValueError`` when mapped axes differ in size (naming each
    argument's axis and size), when ``in_axes``/``out_axes`` is not a prefix
    of the arguments/outputs (naming the path), when an axis is out of range,
    or when nothing is mapped and ``axis_size`` is missing; ``TypeError`` for
    ``bool()`` of a batched value (Python control flow on a batch).
    """
    if not callable(fun):
        raise _errors.vmap_not_a_function(fun)
    _check_spec(in_axes, "in_axes")
    _check_spec(out_axes, "out_axes")
    if axis_size is not None and (not isinstance(axis_size, (int, np.integer)) or axis_size < 0):
        raise _errors.vmap_axis_size(axis_size)

    @functools.wraps(fun)
    def vmapped(*args: Any, **kwargs: Any) -> Any:
        mapped: list[tuple[str, Any, Any]] = []
        for i, (arg, spec) in enumerate(zip(args, _axes_per_argument(in_axes, len(args)))):
            mapped.extend(_broadcast_prefix(spec, arg, f"argument {i}", "in_axes"))
        for key in sorted(kwargs):
            mapped.extend(_broadcast_prefix(0, kwargs[key], f"keyword argument {key!r}", "in_axes"))
        size = _batch_size(mapped, axis_size)
        with new_level() as level:
            trace = BatchTrace(level, size)
            boxed = [_box(leaf, axis, name, trace) for name, leaf, axis in mapped]
            nargs = sum(len(tree_flatten(a)[0]) for a in args)
            positional = _rebuild(args, boxed[:nargs])
            keywords = dict(zip(sorted(kwargs), _rebuild(tuple(kwargs[k] for k in sorted(kwargs)), boxed[nargs:])))
            try:
                out = fun(*positional, **keywords)
            finally:
                trace.active = False
        placed = [
            _unbox(leaf, axis, name, trace)
            for name, leaf, axis in _broadcast_prefix(out_axes, out, "output", "out_axes")
        ]
        return tree_unflatten(tree_flatten(out)[1], placed)

    return vmapped


def _check_spec(spec: Any, what: str) -> None:
    for leaf in tree_flatten(spec)[0]:
        if not _is_axis(leaf):
            raise _errors.vmap_bad_axis_spec(what, "", spec)


def _rebuild(args: tuple[Any, ...], leaves: list[Any]) -> list[Any]:
    out = []
    start = 0
    for arg in args:
        leaves_of, treedef = tree_flatten(arg)
        out.append(tree_unflatten(treedef, leaves[start : start + len(leaves_of)]))
        start += len(leaves_of)
    return out


def _batch_size(mapped: list[tuple[str, Any, Any]], axis_size: int | None) -> int:
    sizes: list[tuple[str, int, int]] = []
    for name, leaf, axis in mapped:
        if axis is None:
            continue
        if not isinstance(full_lower(leaf), (np.ndarray, np.generic, Tracer, float, int, complex)):
            raise _errors.vmap_not_an_array(name, leaf)
        leaf_shape = shape(leaf)
        positive = _check_axis(axis, len(leaf_shape), name, "in_axes")
        sizes.append((name, int(axis), leaf_shape[positive]))
    if not sizes:
        if axis_size is None:
            raise _errors.vmap_no_mapped_input()
        return int(axis_size)
    found = {s for _, _, s in sizes}
    if axis_size is not None:
        found.add(int(axis_size))
    if len(found) > 1:
        raise _errors.vmap_sizes_differ(sizes, axis_size)
    return sizes[0][2]


def _box(leaf: Any, axis: Any, name: str, trace: BatchTrace) -> Any:
    if axis is None:
        return leaf

    if isinstance(leaf, (float, int, complex)):
        leaf = np.asarray(leaf)
    rank = ndim(leaf)
    axis = _check_axis(axis, rank, name, "in_axes")
    return BatchTracer(moveaxis(leaf, axis, 0) if axis else leaf, trace, trace.size)


def _unbox(leaf: Any, axis: Any, name: str, trace: BatchTrace) -> Any:
    ours = isinstance(leaf, Tracer) and leaf._trace is trace
    if axis is None:
        if ours:
            raise _errors.vmap_unmapped_output_depends(name)
        return _plain(leaf)
    if ours:
        value = leaf._value
    else:
        if isinstance(leaf, (float, int, complex)) and not isinstance(leaf, bool):
            leaf = np.asarray(leaf)
        s = shape(leaf)
        value = broadcast_to_p(reshape_p(leaf, newshape=(1,) + s), shape=(trace.size,) + s)
    rank = ndim(value) - 1
    axis = _check_axis(axis, rank, name, "out_axes", extra=1)
    if axis:
        value = moveaxis(value, 0, axis)
    if isinstance(value, np.ndarray) and not value.flags.writeable:
        value = value.copy()
    return _plain(value)


def _plain(value: Any) -> Any:
    if isinstance(value, (float, int, complex)) and not isinstance(value, bool):
        return np.asarray(value)[()]
    return value
