"""Dask arrays handed back by the transforms: each chunk's work for every output computed in one task.

A derivative graph over a row-chunked ``X`` does, for each chunk, work for
several outputs at once (a value and a gradient; a gradient and a Hessian
computed together; the pieces of a loss written as two sums).  Dask fuses a
chain of per-chunk steps into one task only where a step has one dependent,
so steps shared by the outputs stay separate tasks, and the scheduler may then
run one output's work over every chunk before the other's, holding all of
``X`` in between.  The transforms hand back their Dask arrays as
:func:`streamed` arrays: the same graph, whose optimisation (Dask calls it
with the graphs of all such arrays computed together) merges, for each chunk,
the tasks that depend on that chunk alone into one task returning a tuple of
what leaves the chunk (small partial results); each original key becomes a
``getitem`` of it.  Every task runs as before, so the results are the same
bits.  See docs/dask.md, "Memory: X streams through".
"""

from __future__ import annotations

import functools
import operator
import sys
from collections import defaultdict
from typing import Any

from funcgrad.tree import tree_flatten, tree_unflatten

__all__ = ["streamed", "merge_chunks", "optimize"]

#: the name prefix of a merged chunk's task
MERGED = "funcgrad-chunk-"


def _pack(*values: Any) -> tuple[Any, ...]:
    """The outputs of one merged chunk, as one tuple."""
    return values


def _is_dask_array(value: Any) -> bool:
    kind = type(value)
    return kind.__name__ == "Array" and kind.__module__ == "dask.array.core"


def streamed(tree: Any) -> Any:
    """``tree`` with each plain Dask array leaf handed back as a :func:`streamed` Dask array (same graph, name, chunks).

    >>> import numpy as np
    >>> streamed((np.ones(2), 1.0))
    (array([1., 1.]), 1.0)
    """
    if "dask.array.core" not in sys.modules:
        return tree  # no Dask array exists
    if _is_dask_array(tree):
        return _streamed_type()(tree.dask, tree.name, tree.chunks, meta=tree._meta)
    if type(tree) in (tuple, list, dict):
        leaves, treedef = tree_flatten(tree)
        if any(_is_dask_array(leaf) for leaf in leaves):
            return tree_unflatten(treedef, [streamed(leaf) for leaf in leaves])
    return tree


@functools.cache
def _streamed_type() -> Any:
    import dask.array as da  # dask is an optional extra: imported only once a Dask array is handed back

    class Array(da.Array):  # type: ignore[misc]
        """A Dask array whose graph is optimised with each chunk's tasks merged (``funcgrad._dask.optimize``).

        Operations on it give plain Dask arrays; pickled, it is a plain Dask array.
        """

        __slots__ = ()
        __dask_optimize__ = staticmethod(optimize)

    Array.__qualname__ = "Array"  # shown as funcgrad._dask.Array
    return Array


def optimize(dsk: Any, keys: Any, **kwargs: Any) -> Any:
    """Dask's own array optimisation of ``dsk`` for ``keys``, then :func:`merge_chunks` (unless fusion is off)."""
    import dask  # dask is an optional extra: this runs only inside Dask's compute
    import dask.array as da  # (the same)
    from dask.core import flatten  # (the same)
    from dask.highlevelgraph import HighLevelGraph  # (the same)

    optimized = da.Array.__dask_optimize__(dsk, keys, **kwargs)
    if isinstance(optimized, HighLevelGraph) or dask.config.get("optimization.fuse.active") is False:
        return optimized
    wanted = list(flatten(keys)) if isinstance(keys, (list, set)) else [keys]
    return merge_chunks(dict(optimized), wanted)


def _topological(dependencies: dict[Any, set[Any]], dependents: dict[Any, set[Any]]) -> list[Any]:
    waiting = {key: len(deps) for key, deps in dependencies.items()}
    ready = [key for key, count in waiting.items() if count == 0]
    ordered = []
    while ready:
        key = ready.pop()
        ordered.append(key)
        for dependent in dependents[key]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                ready.append(dependent)
    return ordered


def merge_chunks(dsk: dict[Any, Any], keys: list[Any]) -> dict[Any, Any]:
    """``dsk`` with each chunk's tasks merged into one task returning a tuple of what leaves the chunk.

    The chunks are those of the *partitioned* sources: tasks without
    dependencies whose keys ``(name, *index)`` share a name with another such
    task (the chunks of a generated or loaded ``X``).  A task belongs to a
    chunk when it depends (directly or not) on sources of exactly one index per
    name and on nothing that does not belong (sources of one chunk, such as a
    NumPy weight vector, are read by every chunk's task); the tasks belonging
    to the same chunk and connected through dependencies are merged.  A task
    depending on two chunks of one source (a reduction), on one that depends
    on two, or that blocks fusion belongs to none, nor do its dependents, so a
    merged task depends only on tasks that belong to no chunk and depend on
    none: the merged graph has no cycle.  Each key of a merged task that is
    wanted in ``keys`` or read by a task outside becomes a ``getitem`` of the
    merged task's tuple.
    """
    from dask._task_spec import DependenciesMapping, Task, TaskRef  # dask is an optional extra (the same)
    from dask.tokenize import tokenize  # (the same)

    wanted = set(keys)
    dependencies = {key: set(deps) for key, deps in DependenciesMapping(dsk).items()}
    dependents: dict[Any, set[Any]] = {key: set() for key in dependencies}
    for key, deps in dependencies.items():
        for dep in deps:
            dependents.setdefault(dep, set()).add(key)
    sources: defaultdict[Any, set[Any]] = defaultdict(set)
    for key, deps in dependencies.items():
        if not deps and isinstance(key, tuple) and len(key) > 1:
            sources[key[0]].add(key[1:])
    partitioned = {name for name, indices in sources.items() if len(indices) > 1}
    if not partitioned:
        return dsk
    # per task: None (belongs to no chunk, nor may its dependents), {} (depends on no chunk) or its group's root
    state: dict[Any, Any] = {}
    parent: dict[Any, Any] = {}
    chunk_of: dict[Any, dict[Any, Any]] = {}

    def find(key: Any) -> Any:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for key in _topological(dependencies, dependents):
        deps = dependencies[key]
        if not deps:
            if isinstance(key, tuple) and key[0] in partitioned:
                parent[key] = key
                chunk_of[key] = {key[0]: key[1:]}
                state[key] = key
            else:
                state[key] = {}
            continue
        if getattr(dsk[key], "block_fusion", False) or any(state[dep] is None for dep in deps):
            state[key] = None
            continue
        groups = {find(state[dep]) for dep in deps if state[dep] != {}}
        if not groups:
            state[key] = {}
            continue
        chunk: dict[Any, Any] = {}
        if any(chunk.setdefault(name, index) != index for group in groups for name, index in chunk_of[group].items()):
            state[key] = None  # two chunks of one source meet here: a reduction
            continue
        parent[key] = key
        chunk_of[key] = chunk
        state[key] = key
        for group in groups:
            parent[group] = key
    members: defaultdict[Any, list[Any]] = defaultdict(list)
    for key in parent:
        members[find(key)].append(key)
    out = dict(dsk)
    for root, group_keys in members.items():
        if len(group_keys) < 2:
            continue
        inside = set(group_keys)
        # (a task nothing reads, left in the graph by Dask's culling, leaves too: a merged task has one output)
        leaving = [
            k for k in group_keys if k in wanted or not dependents[k] or any(d not in inside for d in dependents[k])
        ]
        index = next(iter(chunk_of[root].values()))
        merged_key = (MERGED + tokenize(sorted(map(str, group_keys))), *index)
        pack = Task(merged_key, _pack, *(TaskRef(k) for k in leaving))
        merged = Task.fuse(*(dsk[k] for k in group_keys), pack, key=merged_key)
        for k in group_keys:
            del out[k]
        out[merged_key] = merged
        for position, k in enumerate(leaving):
            out[k] = Task(k, operator.getitem, TaskRef(merged_key), position)
    return out
