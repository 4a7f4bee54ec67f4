"""Sparsity detection: a transform whose values carry, per element, the inputs it depends on.

Each value seen by :class:`SparsityTrace` carries its pattern: a boolean
``scipy.sparse`` CSR matrix with one row per element of the value and one
column per input (the index sets of SparseConnectivityTracer.jl, as rows).
A primitive's declaration (``funcgrad/_sparsity.py``) gives, for each traced
argument, a *local map* ``M`` from the output's elements to that argument's
elements; the output's pattern is the union of ``M @ S_arg``.  A map is the
identity, a gather (an int array: the source element of each output element,
-1 for none), a sparse matrix, or dense.  The values themselves are computed
along, so ``bool()`` of a traced value reads it and the pattern becomes
*local* (valid at these inputs, through the branches taken).

For Hessians the trace also records each call (its parents and maps) and the
first-order patterns of the argument pairs its declaration says interact.
A reverse pass marks which elements of each value reach the output (the
transpose of the maps); the Hessian pattern is the union, over every recorded
interaction, of ``T_a[live].T @ T_b[live]``, symmetrised.  That is exactly
what per-element second-order index sets give, with one boolean vector per
value instead of a set of pairs per element.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from funcgrad import _errors
from funcgrad._prims._array import ArrayTracer
from funcgrad._sparsity import SPARSITY, Sparsity
from funcgrad._trace import Primitive, Trace, Tracer, new_level, read_value
from funcgrad._values import dtype
from funcgrad.tree import tree_flatten

IDENTITY = "identity"
DENSE = "dense"
Map = Any  # IDENTITY, DENSE, an int array (gather) or a CSR matrix (rows: output elements)

#: contraction grids larger than this are treated as dense (the pattern is dense there anyway)
_GRID_LIMIT = 50_000_000


class SparsityPattern(sp.csr_matrix):
    """A boolean CSR pattern; ``is_global`` says whether it holds for every input (else only at these inputs).

    ``is_global`` is False when the function branched on a traced value
    (``bool()``, ``read_value``) or indexed with positions computed from the
    inputs; the pattern then holds at the inputs it was detected at.
    """

    is_global: bool = True


class Deps:
    """What a traced value carries: its pattern (elements x inputs) and its node in the recording."""

    __slots__ = ("pattern", "node")

    def __init__(self, pattern: sp.csr_matrix, node: int) -> None:
        self.pattern = pattern
        self.node = node


class SparsityTrace(Trace):
    """The detection transform: values computed as usual, patterns carried along."""

    __slots__ = ("n", "local", "parents", "pairs", "sizes")
    differentiates = False  # custom_vjp / custom_jvp / checkpoint run their function, whose primitives we see

    def __init__(self, level: int, n: int, second: bool) -> None:
        super().__init__(level)
        self.n = n
        self.local = False
        # the recording, for Hessians: per node, its parents (node, map) and its interacting pattern pairs
        self.parents: list[list[tuple[int, Map]]] | None = [] if second else None
        self.pairs: list[list[tuple[sp.csr_matrix, sp.csr_matrix]]] = []
        self.sizes: list[int] = []

    def new_value(self, value: Any, pattern: sp.csr_matrix, parents: list[tuple[int, Map]], pairs: Any) -> ArrayTracer:
        node = -1
        if self.parents is not None:
            node = len(self.parents)
            self.parents.append(parents)
            self.pairs.append(pairs)
            self.sizes.append(pattern.shape[0])
        return ArrayTracer(value, self, Deps(pattern, node))

    def constant(self, value: Any) -> Any:
        # an array that may be written (np.zeros_like(x) under detection): no input reaches it yet
        return self.new_value(value, _empty(math.prod(np.shape(value)), self.n), [], [])

    def bool_of(self, tracer: Tracer) -> bool:
        self.local = True  # a branch on the values: the pattern holds through this branch only
        return super().bool_of(tracer)

    def read_value(self, tracer: Tracer, why: str) -> Any:
        self.local = True
        return super().read_value(tracer, why)

    def process(self, prim: Primitive, args: tuple[Any, ...], params: dict[str, Any]) -> Any:
        values = list(args)
        mine: list[Deps | None] = [None] * len(args)
        lower = False
        for k, arg in enumerate(args):
            if isinstance(arg, Tracer):
                if arg._trace is self:
                    mine[k] = arg._payload
                    values[k] = arg._value
                    lower = lower or isinstance(values[k], Tracer)
                else:
                    lower = True
        ans = prim(*values, **params) if lower else prim.impl(*values, **params)
        rules = prim.jvps
        active = [d is not None and _has_rule(rules, k) for k, d in enumerate(mine)]
        out_size = math.prod(np.shape(ans))
        if not any(active):
            # no derivative (a comparison, an index): the result still carries its origin, for bool()
            return self.new_value(ans, _empty(out_size, self.n), [], [])
        decl = SPARSITY.get(prim)
        kind = decl.kind if decl is not None and rules is not None else DENSE
        if kind in ("moves", "scatter") and any(d is not None and not a for d, a in zip(mine, active)):
            # positions computed from the inputs (argsort): they decide the pattern at these inputs only
            self.local = True
        maps = _maps(kind, prim, values, ans, params, active)
        terms = []
        parents: list[tuple[int, Map]] = []
        applied: dict[int, sp.csr_matrix] = {}
        for k, (m, deps) in enumerate(zip(maps, mine)):
            if m is None or deps is None:
                continue
            applied[k] = part = _apply(m, deps.pattern, out_size, self.n)
            terms.append(part)
            parents.append((deps.node, m))
        pattern = _union(terms, out_size, self.n)
        pairs = []
        if self.parents is not None:
            for a, b in _interactions(decl, values):
                if a in applied and b in applied:
                    pairs.append((applied[a], applied[b]))
        return self.new_value(ans, pattern, parents, pairs)


def _has_rule(rules: Any, k: int) -> bool:
    if rules is None:
        return True  # undeclared: treated as depending (dense)
    try:
        return rules[k] is not None
    except IndexError:
        return True


def _interactions(decl: Sparsity | None, values: list[Any]) -> list[tuple[int, int]]:
    nargs = len(values)
    second = "nonlinear" if decl is None else decl.second
    if second == "linear when real":  # the operands' dtypes, never their values
        second = "nonlinear" if any(dtype(v).kind == "c" for v in values) else "linear"
    if second == "linear" or (decl is not None and decl.kind == "zero"):
        return []
    if second == "bilinear":
        return [(a, b) for a in range(nargs) for b in range(a + 1, nargs)]
    if second == "nonlinear":
        return [(a, b) for a in range(nargs) for b in range(a, nargs)]
    return list(second)  # type: ignore[arg-type]


# --- patterns --------------------------------------------------------------------------------


def _empty(rows: int, n: int) -> sp.csr_matrix:
    return sp.csr_matrix((np.zeros(0, bool), np.zeros(0, np.int64), np.zeros(rows + 1, np.int64)), shape=(rows, n))


def identity_rows(size: int, offset: int, n: int) -> sp.csr_matrix:
    """The pattern of input elements ``offset .. offset + size``: each depends on itself."""
    return sp.csr_matrix(
        (np.ones(size, bool), np.arange(offset, offset + size, dtype=np.int64), np.arange(size + 1, dtype=np.int64)),
        shape=(size, n),
    )


def _union(terms: list[sp.csr_matrix], rows: int, n: int) -> sp.csr_matrix:
    if not terms:
        return _empty(rows, n)
    out = terms[0]
    for term in terms[1:]:
        out = out + term  # boolean: a union
    return out


def _gather_rows(s: sp.csr_matrix, idx: np.ndarray[Any, Any]) -> sp.csr_matrix:
    """Row ``e`` of the result is row ``idx[e]`` of ``s`` (empty where ``idx[e] < 0``)."""
    valid = idx >= 0
    src = np.where(valid, idx, 0)
    counts = np.where(valid, np.diff(s.indptr)[src], 0)
    indptr = np.zeros(len(idx) + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    total = int(indptr[-1])
    offsets = np.arange(total, dtype=np.int64) - np.repeat(indptr[:-1] - s.indptr[src], counts)
    return sp.csr_matrix((np.ones(total, bool), s.indices[offsets], indptr), shape=(len(idx), s.shape[1]))


def _apply(m: Map, s: sp.csr_matrix, rows: int, n: int) -> sp.csr_matrix:
    if isinstance(m, str):
        if m == IDENTITY:
            return s
        cols = np.unique(s.indices)  # dense: every output element depends on everything the argument does
        return sp.csr_matrix(
            (np.ones(rows * len(cols), bool), np.tile(cols, rows), np.arange(rows + 1, dtype=np.int64) * len(cols)),
            shape=(rows, n),
        )
    if isinstance(m, np.ndarray):
        return _gather_rows(s, m)
    out = (m @ s).tocsr()
    out.data[:] = True
    return out


def _pull_live(m: Map, live: np.ndarray[Any, Any], size: int) -> np.ndarray[Any, Any]:
    """Which argument elements reach a live output element through map ``m`` (the transpose)."""
    if isinstance(m, str):
        return live if m == IDENTITY else np.full(size, bool(live.any()))
    out = np.zeros(size, bool)
    if isinstance(m, np.ndarray):
        src = m[live]
        out[src[src >= 0]] = True
    else:
        out[m[np.flatnonzero(live)].indices] = True
    return out


def hessian_pattern(trace: SparsityTrace, node: int) -> sp.csr_matrix:
    """The Hessian pattern of the scalar value recorded as ``node``: the reverse pass over the recording."""
    assert trace.parents is not None
    live: list[np.ndarray[Any, Any] | None] = [None] * len(trace.parents)
    live[node] = np.ones(trace.sizes[node], bool)
    total = sp.csr_matrix((trace.n, trace.n), dtype=bool)
    for v in range(node, -1, -1):
        lv = live[v]
        if lv is None or not lv.any():
            continue
        rows = np.flatnonzero(lv)
        for ta, tb in trace.pairs[v]:
            a, b = ta[rows], tb[rows]
            total = total + (a.T @ b).tocsr()
        for parent, m in trace.parents[v]:
            pulled = _pull_live(m, lv, trace.sizes[parent])
            have = live[parent]
            live[parent] = pulled if have is None else (have | pulled)
    total = (total + total.T).tocsr()
    total.data[:] = True
    total.sum_duplicates()
    return total


# --- the kinds: one local map per argument ------------------------------------------------


class _Undescribed(Exception):
    """A call a declared kind does not describe (never reaches the user: the primitive is taken as dense)."""



def _maps(kind: str, prim: Primitive, values: list[Any], ans: Any, params: dict[str, Any], active: list[bool]) -> list[Map]:
    if kind == "zero":
        return [None] * len(values)
    if kind != DENSE:
        try:
            plain = [_plain(v) for v in values]
            return KINDS[kind](prim, plain, np.shape(ans), params, active)
        except (_Undescribed, ValueError, TypeError, IndexError):
            pass  # a call the kind does not describe (a shape it did not foresee): dense is always correct
    return [DENSE if a else None for a in active]


def _plain(value: Any) -> Any:
    return read_value(value, "the sparsity pattern") if isinstance(value, Tracer) else value


def _broadcast_map(shape: tuple[int, ...], out_shape: tuple[int, ...]) -> Map:
    if tuple(shape) == tuple(out_shape):
        return IDENTITY
    size = math.prod(shape)
    return np.broadcast_to(np.arange(size, dtype=np.int64).reshape(shape), out_shape).ravel()


def _elementwise(prim: Primitive, values: list[Any], out: tuple[int, ...], params: Any, active: list[bool]) -> list[Map]:
    return [_broadcast_map(np.shape(v), out) if a else None for v, a in zip(values, active)]


def _moves(prim: Primitive, values: list[Any], out: tuple[int, ...], params: Any, active: list[bool]) -> list[Map]:
    # run the primitive on the (1-based) positions of the traced arguments' elements
    probes: list[Any] = []
    spans: list[tuple[int, int]] = []
    offset = 0
    rules = prim.jvps
    for k, (v, a) in enumerate(zip(values, active)):
        shape = np.shape(v)
        size = math.prod(shape)
        spans.append((offset, size))
        if a:
            probes.append(np.arange(offset + 1, offset + size + 1, dtype=np.int64).reshape(shape))
            offset += size
        elif _has_rule(rules, k):
            probes.append(np.zeros(shape, np.int64))  # a constant operand: its values are not positions
        else:
            probes.append(v)  # an index argument: its values decide where elements go
    positions = np.asarray(prim.impl(*probes, **params)).astype(np.int64).ravel()
    maps: list[Map] = []
    for (start, size), a in zip(spans, active):
        if not a:
            maps.append(None)
            continue
        src = positions - 1 - start
        idx = np.where((src >= 0) & (src < size), src, -1)
        same = len(idx) == size and bool((idx == np.arange(size)).all())
        maps.append(IDENTITY if same else idx)
    return maps


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    return tuple(int(a) % ndim for a in axis)


def _reduce(prim: Primitive, values: list[Any], out: tuple[int, ...], params: Any, active: list[bool]) -> list[Map]:
    shape = np.shape(values[0])
    axes = _axes(params.get("axis"), len(shape))
    kept = tuple(1 if i in axes else d for i, d in enumerate(shape))
    size = math.prod(shape)
    rows = np.broadcast_to(np.arange(math.prod(kept), dtype=np.int64).reshape(kept), shape).ravel()
    m = sp.csr_matrix((np.ones(size, bool), (rows, np.arange(size))), shape=(math.prod(out), size))
    return [m if active[0] else None] + [None] * (len(values) - 1)


def _scan(prim: Primitive, values: list[Any], out: tuple[int, ...], params: Any, active: list[bool]) -> list[Map]:
    shape = np.shape(values[0])
    if not shape:
        raise _Undescribed  # a scan of a 0-d value
    axis = int(params["axis"]) % len(shape)
    length = shape[axis]
    size = math.prod(shape)
    lines = np.moveaxis(np.arange(size, dtype=np.int64).reshape(shape), axis, -1).reshape(-1, length)
    ti, tj = np.tril_indices(length)
    rows, cols = lines[:, ti].ravel(), lines[:, tj].ravel()
    m = sp.csr_matrix((np.ones(len(rows), bool), (rows, cols)), shape=(size, size))
    return [m if active[0] else None] + [None] * (len(values) - 1)


def _matmul_terms(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[list[str], str]:
    batch = max(len(a), len(b)) - 2
    letters = "abcdefghijklmnopqrstuvw"[: max(batch, 0)]
    ta = ("" if len(a) == 1 else letters[len(letters) - (len(a) - 2) :] + "X") + "Y"
    tb = "Y" if len(b) == 1 else letters[len(letters) - (len(b) - 2) :] + "YZ"
    out = letters[: max(batch, 0)] if len(a) > 1 and len(b) > 1 else ""
    if len(a) == 1 and len(b) > 2:
        out = letters
    if len(b) == 1 and len(a) > 2:
        out = letters
    out += ("X" if len(a) > 1 else "") + ("Z" if len(b) > 1 else "")
    return [ta, tb], out


def _contract(prim: Primitive, values: list[Any], out: tuple[int, ...], params: Any, active: list[bool]) -> list[Map]:
    shapes = [tuple(np.shape(v)) for v in values]
    if "subscripts" in params:
        lhs, result = params["subscripts"].split("->")
        terms = lhs.split(",")
    else:
        terms, result = _matmul_terms(shapes[0], shapes[1])
    if "." in "".join(terms) + result:
        raise _Undescribed  # an ellipsis
    sizes: dict[str, int] = {}
    for term, shape in zip(terms, shapes):
        for c, d in zip(term, shape):
            sizes[c] = max(sizes.get(c, 1), d)
    # the zeros of constant operands: an output element reads an element only through nonzero products
    masks = [(t, (np.asarray(v) != 0).astype(np.float64)) for t, v, a in zip(terms, values, active) if not a]
    maps: list[Map] = []
    for term, shape, a in zip(terms, shapes, active):
        if not a:
            maps.append(None)
            continue
        letters = "".join(dict.fromkeys(result + term))
        grid = tuple(sizes[c] for c in letters)
        if math.prod(grid) > _GRID_LIMIT:
            maps.append(DENSE)
            continue
        coords = np.indices(grid, dtype=np.int64, sparse=True)
        where = {c: coords[i] for i, c in enumerate(letters)}
        rows: Any = 0
        for c, d in zip(result, out):
            rows = rows * d + where[c]
        cols: Any = 0
        for c, d in zip(term, shape):
            cols = cols * d + (where[c] if d == sizes[c] else 0)
        keep: Any = np.ones(grid, bool)
        others = masks
        if others:
            inner = "".join(c for c in letters if any(c in t for t, _ in others))
            weight = np.einsum(",".join(t for t, _ in others) + "->" + inner, *[mk for _, mk in others])
            weight = weight.reshape(tuple(sizes[c] if c in inner else 1 for c in letters))
            keep = np.broadcast_to(weight != 0, grid)
        r = np.broadcast_to(rows, grid)[keep]
        c_ = np.broadcast_to(cols, grid)[keep]
        maps.append(
            sp.csr_matrix((np.ones(len(r), bool), (r, c_)), shape=(math.prod(out), math.prod(shape)))
        )
    return maps


def _scatter(prim: Primitive, values: list[Any], out: tuple[int, ...], params: Any, active: list[bool]) -> list[Map]:
    if "index" in params:  # x[index] += v: x elementwise, v's elements added where index selects
        x, v = values[0], values[1]
        xshape, vshape = np.shape(x), np.shape(v)
        maps: list[Map] = [IDENTITY if active[0] else None]
        if active[1]:
            where = np.arange(math.prod(xshape), dtype=np.int64).reshape(xshape)[params["index"]]
            vidx = np.broadcast_to(np.arange(math.prod(vshape), dtype=np.int64).reshape(vshape), np.shape(where))
            maps.append(
                sp.csr_matrix(
                    (np.ones(where.size, bool), (np.ravel(where), vidx.ravel())), shape=(math.prod(out), math.prod(vshape))
                )
            )
        else:
            maps.append(None)
        return maps + [None] * (len(values) - 2)
    # scatter to flat positions (a static parameter, or the second argument)
    v = values[0]
    positions = np.asarray(params["positions"] if "positions" in params else values[1])
    shape = params["shape"]
    vshape = np.shape(v)
    lead = vshape[: len(vshape) - positions.ndim]
    count, size = math.prod(lead), math.prod(shape)
    where = positions.reshape(-1).astype(np.int64)
    if count != 1:
        where = (np.arange(count, dtype=np.int64)[:, None] * size + where).reshape(-1)
    m = sp.csr_matrix((np.ones(len(where), bool), (where, np.arange(len(where)))), shape=(count * size, math.prod(vshape)))
    return [m if active[0] else None] + [None] * (len(values) - 1)


KINDS: dict[str, Callable[[Primitive, list[Any], tuple[int, ...], Any, list[bool]], list[Map]]] = {
    "elementwise": _elementwise,
    "moves": _moves,
    "reduce": _reduce,
    "scan": _scan,
    "contract": _contract,
    "scatter": _scatter,
}


def stack_rows(patterns: Sequence[sp.csr_matrix], n: int) -> sp.csr_matrix:
    if not patterns:
        return _empty(0, n)
    out = sp.vstack(patterns, format="csr")
    out.data[:] = True
    return out


def detect(
    call: Callable[[list[Any], list[Any]], Any], leaves: Sequence[Any], second: bool, watched: Sequence[Any] = ()
) -> SparsityPattern:
    """The Jacobian (``second=False``) or Hessian pattern of ``call(leaves, watched)`` at these leaves.

    Columns are the leaves' elements in order, each raveled in C order; rows
    are the output leaves' elements (Jacobian) or the same columns (Hessian
    of a one-element output).  ``watched`` values are traced with no inputs
    behind them: a branch on one makes the pattern local.
    """
    sizes = [math.prod(np.shape(leaf)) for leaf in leaves]
    n = sum(sizes)
    with new_level() as level:
        trace = SparsityTrace(level, n, second)
        try:
            traced = []
            offset = 0
            for leaf, size in zip(leaves, sizes):
                traced.append(trace.new_value(leaf, identity_rows(size, offset, n), [], []))
                offset += size
            others = [trace.new_value(value, _empty(math.prod(np.shape(value)), n), [], []) for value in watched]
            out = call(traced, others)
        finally:
            trace.active = False
    outs = tree_flatten(out)[0]
    if second:
        if len(outs) != 1 or math.prod(np.shape(outs[0])) != 1:
            raise _errors.sparse_hessian_output([np.shape(o) for o in outs])
        o = outs[0]
        if isinstance(o, Tracer) and o._trace is trace:
            matrix = hessian_pattern(trace, o._payload.node)
        else:
            matrix = _empty(n, n)
    else:
        rows = [
            o._payload.pattern if isinstance(o, Tracer) and o._trace is trace else _empty(math.prod(np.shape(o)), n)
            for o in outs
        ]
        matrix = stack_rows(rows, n)
    matrix.sort_indices()
    result = SparsityPattern(matrix)
    result.is_global = not trace.local
    return result
