"""Contractions and their rules: matmul, einsum (and everything built on it), convolve.

``einsum`` is the workhorse: its forward rule is the same einsum with the
tangent in place of one operand (a fresh letter carries the tangent batch),
and its reverse rule is another einsum that contracts the cotangent with the
other operands into the operand's subscripts.  ``dot`` beyond two dimensions,
``vdot``, ``inner``, ``outer``, ``tensordot`` and ``kron`` are einsums;
``cross`` is built from indexing and products; ``convolve`` and
``correlate`` share one full-convolution primitive.
"""

from __future__ import annotations

import builtins
import collections
import operator
import string
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from funcgrad import _backends, _errors, _values
from funcgrad._prims import _base, _shape
from funcgrad._prims._base import astype, batch_align, lift, match_dtype, unbroadcast
from funcgrad._prims._dispatch import implements, store_out
from funcgrad._prims._indexing import getitem_p
from funcgrad._prims._shape import operand
from funcgrad._prims._ufuncs import UFUNCS, conj, multiply
from funcgrad._rules import defbatch, defjvp, defjvp_identity, defjvp_variadic, defvjp, defvjp_variadic, primitive
from funcgrad._sparsity import defsparsity
from funcgrad._trace import Tracer
from funcgrad._values import batch_ndim, dtype, is_traced, ndim, shape

__all__ = [
    "convolve",
    "correlate",
    "cross",
    "dot",
    "einsum",
    "einsum_path",
    "inner",
    "kron",
    "matmul",
    "outer",
    "tensordot",
    "vdot",
]


def _swap(x: Any) -> Any:
    if type(x) is np.ndarray:
        return x.swapaxes(-1, -2)  # a view, as transpose_p gives; nothing to record
    rank = ndim(x)
    return _base.transpose_p(x, perm=tuple(range(rank - 2)) + (rank - 1, rank - 2))


def _expand(x: Any, axis: int) -> Any:
    s = shape(x)
    axis = axis % (len(s) + 1)
    return _base.reshape_p(x, newshape=s[:axis] + (1,) + s[axis:])


def _squeeze(x: Any, axis: int) -> Any:
    s = list(shape(x))
    del s[axis]
    return _base.reshape_p(x, newshape=tuple(s))


def _matmul_vjp_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if type(g) is np.ndarray and type(b) is np.ndarray and g.ndim == 2 and b.ndim == 2:
        # plain 2-D arrays (exact types: value-independent): the last line below, without its dispatch
        return unbroadcast(np.matmul(g, b.swapaxes(-1, -2)), a)
    if ndim(a) == 1 and ndim(b) == 1:
        return unbroadcast(g * b, a)
    if ndim(a) == 1 and ndim(b) == 2:
        return matmul(b, g)  # one contraction: no reshapes for a (batched) tangent to carry along
    if ndim(a) == 1:
        return unbroadcast(_squeeze(matmul(_expand(g, -2), _swap(b)), -2), a)
    if ndim(b) == 1:
        return unbroadcast(_expand(g, -1) * b, a)
    return unbroadcast(matmul(g, _swap(b)), a)


def _matmul_vjp_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if type(g) is np.ndarray and type(a) is np.ndarray and g.ndim == 2 and a.ndim == 2:
        # plain 2-D arrays (exact types: value-independent): the last line below, without its dispatch
        return unbroadcast(np.matmul(a.swapaxes(-1, -2), g), b)
    if ndim(a) == 1 and ndim(b) == 1:
        return unbroadcast(g * a, b)
    if ndim(b) == 1 and ndim(a) == 2:
        return matmul(g, a)  # one contraction: no reshapes for a (batched) tangent to carry along
    if ndim(b) == 1:
        return unbroadcast(_squeeze(matmul(_swap(a), _expand(g, -1)), -1), b)
    if ndim(a) == 1:
        return unbroadcast(_expand(a, -1) * _expand(g, -2), b)
    return unbroadcast(matmul(_swap(a), g), b)


def _matmul_jvp_a(t: Any, ans: Any, a: Any, b: Any) -> Any:
    nb = batch_ndim(t, a)
    if nb == 0 or (ndim(a) == 1 and ndim(b) <= 2):
        return matmul(t, b)
    # give the tangent's batch axes room before the operands' stack axes
    lead = shape(t)[:nb]
    if ndim(a) == 1:
        lifted = _base.reshape_p(t, newshape=lead + (1,) * (ndim(b) - 2) + (1,) + shape(a))
        return _squeeze(matmul(lifted, b), -2)
    pad = max(ndim(b) - ndim(a), 0)
    return matmul(_base.reshape_p(t, newshape=lead + (1,) * pad + shape(a)), b)


def _matmul_jvp_b(t: Any, ans: Any, a: Any, b: Any) -> Any:
    nb = batch_ndim(t, b)
    if nb == 0:
        return matmul(a, t)
    if ndim(b) == 1 and ndim(a) == 2:
        # the batch of tangent vectors is a matrix: one matrix product, not a stack of matrix-vector ones
        return matmul(t, _swap(a))
    lead = shape(t)[:nb]
    if ndim(b) == 1:
        lifted = _base.reshape_p(t, newshape=lead + (1,) * max(ndim(a) - 2, 0) + shape(b) + (1,))
        return _squeeze(matmul(a, lifted), -1)
    pad = max(ndim(a) - ndim(b), 0)
    return matmul(a, _base.reshape_p(t, newshape=lead + (1,) * pad + shape(b)))


matmul = primitive(np.matmul, "matmul")
defvjp(matmul, _matmul_vjp_a, _matmul_vjp_b, fresh=True)
defjvp(matmul, _matmul_jvp_a, _matmul_jvp_b, batched=True)
defjvp_identity(
    matmul,
    lambda ans, a, b: b if ndim(a) == 1 and ndim(b) == 2 else None,  # eye @ b
    lambda ans, a, b: _swap(a) if ndim(b) == 1 and ndim(a) == 2 else None,  # the rows of a, one per entry of b
)


def _matmul_batch(prim: Any, values: list[Any], batched: list[bool], size: int) -> Any:
    # a batched vector becomes a one-row (one-column) matrix, so the batch axis is a stack axis; then the
    # batched operands get ones after the batch axis until their stacks line up with the other operand's
    a, b = values
    vector_a = batched[0] and ndim(a) == 2
    vector_b = batched[1] and ndim(b) == 2
    if vector_a and not batched[1] and ndim(b) == 2:
        return matmul(a, b)  # the batch of vectors is a matrix of rows
    if vector_b and not batched[0] and ndim(a) == 2:
        return matmul(b, _swap(a))
    if vector_a:
        a = _base.reshape_p(a, newshape=shape(a)[:1] + (1,) + shape(a)[1:])
    if vector_b:
        b = _base.reshape_p(b, newshape=shape(b) + (1,))
    rank = builtins.max(ndim(a) - batched[0], ndim(b) - batched[1])
    a = batch_align(a, rank) if batched[0] else a
    b = batch_align(b, rank) if batched[1] else b
    out = matmul(a, b)
    if vector_b:
        out = _squeeze(out, -1)
    if vector_a:
        out = _squeeze(out, -2 if not vector_b and ndim(values[1]) - batched[1] > 1 else -1)
    return out


defbatch(matmul, _matmul_batch)
defsparsity(matmul, "contract", "bilinear")

#: ``numpy.dot`` of complex operands of one or two dimensions: ``matmul`` in meaning (and its rules), but
#: NumPy's own call, whose outer products (an inner dimension of 1) round differently from ``matmul``'s
dot_p = primitive(np.dot, "dot")
defvjp(dot_p, _matmul_vjp_a, _matmul_vjp_b, fresh=True)
defjvp(dot_p, _matmul_jvp_a, _matmul_jvp_b, batched=True)
defbatch(dot_p, _matmul_batch)
defsparsity(dot_p, "contract", "bilinear")


# --- einsum: the general contraction ------------------------------------------------

_LETTERS = string.ascii_letters


def _fresh(used: Any, count: int) -> str:
    """``count`` index letters not in ``used``."""
    free = [c for c in _LETTERS if c not in used]
    if count > len(free):
        raise _errors.einsum_letters(count)
    return "".join(free[:count])


def _split(subscripts: str) -> tuple[list[str], str]:
    lhs, out = subscripts.split("->")
    return lhs.split(","), out


def _real_dtype(x: Any) -> np.dtype[Any]:
    return np.empty(0, dtype(x)).real.dtype


def _letter_sizes(terms: Sequence[str], operands: Sequence[Any]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for term, op in zip(terms, operands):
        for c, n in zip(term, shape(op)):
            sizes[c] = builtins.max(sizes.get(c, 1), n)
    return sizes


def _einsum(*operands: Any, subscripts: str, optimize: Any) -> Any:
    if optimize == "auto":
        optimize = len(operands) > 1 and builtins.max(_values.size(o) for o in operands) >= 4096
    elif optimize is False and len(operands) == 2 and "->" in subscripts and "." not in subscripts:
        operands = _packed(operands, subscripts)
    return np.einsum(subscripts, *operands, optimize=optimize)


#: the longest last axis a strided einsum operand is packed for (``_packed``): beyond it, the inner loops
#: are long already and the copy would cost more than it saves
_PACKED_INNER = 256


def _packed(operands: tuple[Any, ...], subscripts: str) -> tuple[Any, ...]:
    """``operands`` with each strided view NumPy's unoptimised einsum would walk in short inner loops (a
    shifted slice of an image, ``x[:, :, i:i + h, j:j + w]``) copied to C order first: the same bits, in
    about half the time.

    The same bits: the view's axes keep their order of strides in the copy and its last axis is contiguous
    in both, so NumPy's iterator orders the axes alike and its inner loop has the same strides; that last
    axis is also the output's (not summed), so the inner loop computes each output element on its own
    (``out[i] += a * b[i]``), whatever its length, and at most one letter is summed, so no two summed loops
    merge.  The copy only merges the short inner loops into long ones.  Two operands only; decided by the
    layout, never by a value.  tests/test_contract.py compares the bits over such layouts; a randomized run
    of 25,000 two-operand einsums of every float and complex dtype (slices, transposes, either order) found
    no difference, where allowing two summed letters gave 19 in 20,000.
    """
    terms, out = _split(subscripts)
    if len(set("".join(terms)) - set(out)) > 1:
        return operands  # two letters summed or more: the copy may merge their loops and group the sums anew
    packed = list(operands)
    for position, (term, op) in enumerate(zip(terms, operands)):
        if type(op) is not np.ndarray or op.ndim < 2 or op.flags.c_contiguous or not term:
            continue  # (type, shape and strides only: the same choice for every value of that layout)
        last = term[-1]
        if not out or out[-1] != last or term.count(last) != 1 or out.count(last) != 1:
            continue  # the inner loop could sum over this axis: its length would change the sums' grouping
        strides = [stride for stride, size in zip(op.strides, op.shape) if size > 1]
        if (
            op.strides[-1] != op.itemsize
            or not 1 < op.shape[-1] <= _PACKED_INNER
            or any(later <= 0 or earlier <= later for earlier, later in zip(strides, strides[1:]))
        ):
            continue
        packed[position] = np.ascontiguousarray(op)
    return tuple(packed)


def _einsum_vjp(i: int) -> Any:
    def rule(g: Any, ans: Any, *operands: Any, subscripts: str, optimize: Any) -> Any:
        # contract the cotangent with every other operand into operand i's subscripts
        terms, out = _split(subscripts)
        target, tshape = terms[i], shape(operands[i])
        sizes = _letter_sizes(terms, operands)
        subs = [out] + [t for j, t in enumerate(terms) if j != i]
        ops = [g] + [o for j, o in enumerate(operands) if j != i]
        used = set(subscripts)
        real = _real_dtype(g)
        result: list[str] = []
        for pos, c in enumerate(target):
            if tshape[pos] == 1 and sizes[c] != 1 or c in result:
                fresh = _fresh(used, 1)
                used.add(fresh)
                if tshape[pos] == 1 and sizes[c] != 1:  # broadcast operand axis: summed, kept as size one
                    subs.append(fresh)
                    ops.append(np.ones(1, real))
                else:  # repeated letter ('ii'): the cotangent lives on the diagonal
                    subs.append(c + fresh)
                    ops.append(np.eye(sizes[c], dtype=real))
                result.append(fresh)
            else:
                result.append(c)
        present = _letter_sizes(subs, ops)
        for c, n in zip(result, shape(operands[i])):
            if present.get(c) != n:  # summed inside this operand alone (or broadcast by the others)
                subs.append(c)
                ops.append(np.ones(n, real))
                present[c] = n
        cotangent = einsum_p(*ops, subscripts=",".join(subs) + "->" + "".join(result), optimize=optimize or "auto")
        return match_dtype(cotangent, operands[i])

    return rule


def _einsum_jvp(i: int) -> Any:
    def rule(t: Any, ans: Any, *operands: Any, subscripts: str, optimize: Any) -> Any:
        # multilinear: the tangent takes operand i's place; batch axes get fresh leading letters
        ops = list(operands)
        ops[i] = t
        nb = batch_ndim(t, operands[i])
        if nb == 0:
            return einsum_p(*ops, subscripts=subscripts, optimize=optimize or "auto")
        terms, out = _split(subscripts)
        lead = _fresh(set(subscripts), nb)
        terms[i] = lead + terms[i]
        return einsum_p(*ops, subscripts=",".join(terms) + "->" + lead + out, optimize=optimize or "auto")

    return rule


einsum_p = primitive(_einsum, "einsum")
defvjp_variadic(einsum_p, _einsum_vjp)
defjvp_variadic(einsum_p, _einsum_jvp, batched=True)


def _einsum_batch(prim: Any, values: list[Any], batched: list[bool], size: int, subscripts: str, optimize: Any) -> Any:
    # the batch axis gets a fresh letter, in every batched operand and in front of the output
    terms, out = _split(subscripts)
    letter = _fresh(set(subscripts), 1)
    terms = [letter + term if b else term for term, b in zip(terms, batched)]
    return einsum_p(*values, subscripts=",".join(terms) + "->" + letter + out, optimize=optimize)


defbatch(einsum_p, _einsum_batch)
defsparsity(einsum_p, "contract", "bilinear")


# --- contractions valued by NumPy's own routine (np.inner, np.vdot, np.tensordot) -----------------------------


def _contract(a: Any, b: Any, subscripts: str, numpy_call: tuple[str, Any]) -> Any:
    """``numpy_call``'s routine on ``a`` and ``b`` (its BLAS path and result type, as the plain call's); the
    derivatives are those of ``einsum(subscripts, a, b)``, the same product (``vdot``'s ``a`` comes conjugated)."""
    name, axes = numpy_call
    if _backends.is_foreign(a) or _backends.is_foreign(b):
        return np.einsum(subscripts, a, b)
    if name == "inner":
        return np.inner(a, b)
    if name == "dot":
        return np.dot(a, b)
    if name == "vdot":
        return np.vdot(np.conj(a) if np.iscomplexobj(a) else a, b)  # conjugating twice is exact
    return np.tensordot(a, b, axes)


def _contract_rule(rule: Any) -> Any:
    return lambda d, ans, a, b, subscripts, numpy_call: rule(d, ans, a, b, subscripts=subscripts, optimize="auto")


contract_p = primitive(_contract, "contract")
defvjp(contract_p, _contract_rule(_einsum_vjp(0)), _contract_rule(_einsum_vjp(1)))
defjvp(contract_p, _contract_rule(_einsum_jvp(0)), _contract_rule(_einsum_jvp(1)), batched=True)
defbatch(
    contract_p,
    lambda prim, values, batched, size, subscripts, numpy_call: _einsum_batch(
        einsum_p, values, batched, size, subscripts, "auto"
    ),
)


def _letters_of(sublist: Any) -> str:
    out = []
    for item in sublist:
        if item is Ellipsis:
            out.append("...")
            continue
        k = operator.index(item)
        if not 0 <= k < len(_LETTERS):
            raise _errors.einsum_subscript_integer(k)
        out.append(_LETTERS[k])
    return "".join(out)


def _einsum_args(args: tuple[Any, ...]) -> tuple[str, list[Any]]:
    """The subscripts string and operands of either calling convention of ``numpy.einsum``."""
    if not args:
        raise _errors.einsum_no_arguments()
    if isinstance(args[0], str):
        return args[0], list(args[1:])
    pairs, out = (args[:-1], args[-1]) if len(args) % 2 else (args, None)
    spec = ",".join(_letters_of(s) for s in pairs[1::2])
    if out is not None:
        spec += "->" + _letters_of(out)
    return spec, list(pairs[0::2])


def einsum_spec(subscripts: str, shapes: Sequence[tuple[int, ...]]) -> tuple[tuple[str, ...], str]:
    """Resolve ``subscripts`` to one explicit letter per axis: ``'...'`` expanded, output explicit.

    >>> einsum_spec("...i,i", [(2, 3), (3,)])
    (('ai', 'i'), 'a')
    >>> einsum_spec("ba", [(2, 3)])
    (('ba',), 'ab')
    """
    spec = subscripts.replace(" ", "")
    lhs, arrow, rhs = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise _errors.einsum_operand_count(subscripts, len(terms), len(shapes))
    for term in [*terms, rhs]:
        if not all(c in _LETTERS for c in term.replace("...", "", 1)):
            raise _errors.einsum_invalid_subscripts(subscripts)
    extras = []
    for term, s in zip(terms, shapes):
        extra = len(s) - (len(term) - 3 if "..." in term else len(term))
        if extra < 0 or (extra and "..." not in term):
            raise _errors.einsum_operand_shape(term, tuple(s))
        extras.append(extra)
    rank = builtins.max(extras, default=0)
    ellipsis = _fresh({c for c in spec if c in _LETTERS}, rank)
    inputs = tuple(term.replace("...", ellipsis[rank - k :]) for term, k in zip(terms, extras))
    if arrow:
        if "..." in rhs:
            return inputs, rhs.replace("...", ellipsis)
        if rank:
            raise _errors.einsum_missing_ellipsis(subscripts)
        return inputs, rhs
    counts = collections.Counter(c for c in lhs if c in _LETTERS)
    return inputs, ellipsis + "".join(sorted(c for c, n in counts.items() if n == 1))


def _operand(a: Any) -> Any:
    a = operand(a)
    # a Dask (foreign) operand stays as it is: np.asarray would compute it
    return a if isinstance(a, Tracer) or _backends.is_foreign(a) else np.asarray(a)


@implements(np.einsum)
def einsum(*operands: Any, out: Any = None, optimize: Any = False, dtype: Any = None, **kwargs: Any) -> Any:
    """``numpy.einsum``, differentiable in every operand: implicit and explicit
    output, ``'...'``, repeated indices (``'ii->i'``, ``'ii'``), the sublist
    form, ``optimize``.

    >>> import funcgrad as fg
    >>> fg.grad(lambda a: einsum("ii", a))(np.ones((2, 2)))
    array([[1., 0.],
           [0., 1.]])
    """
    spec, ops = _einsum_args(operands)
    ops = [_operand(o) for o in ops]
    if not is_traced(*ops):
        return np.einsum(spec, *ops, out=out, optimize=optimize, dtype=dtype, **kwargs)
    if out is not None:
        return store_out(out, einsum(*operands, optimize=optimize, dtype=dtype, **kwargs))
    if kwargs.get("casting", "safe") != "safe" or kwargs.get("order", "K") not in "KACF":
        raise _errors.einsum_keywords(sorted(kwargs))
    if dtype is not None:
        ops = [astype(o, dtype=np.dtype(dtype)) for o in ops]
    inputs, output = einsum_spec(spec, [shape(o) for o in ops])
    if not isinstance(optimize, (bool, str)):
        optimize = True  # an explicit path fits only this call's operands, not the rules' contractions
    return einsum_p(*ops, subscripts=",".join(inputs) + "->" + output, optimize=optimize)


# --- products built on einsum ------------------------------------------------------------


def _axis_list(axes: Any, rank: int, name: str) -> list[int]:
    items = [axes] if np.ndim(axes) == 0 else list(axes)
    out = []
    for a in items:
        a = operator.index(a)
        if not -rank <= a < rank:
            raise _errors.axis_out_of_range(a, rank, name)
        out.append(a % rank)
    return out


@implements(np.tensordot)
def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """``numpy.tensordot``: ``axes`` an int (last of ``a`` with first of ``b``) or a pair of axis lists.

    >>> tensordot(np.ones((2, 3, 4)), np.ones((3, 4, 5)), axes=2).shape
    (2, 5)
    """
    return _tensordot(a, b, axes, None)


def _tensordot(a: Any, b: Any, axes: Any, via: tuple[str, Any] | None) -> Any:
    """``tensordot``'s contraction, valued by NumPy's ``via`` routine (``tensordot`` itself when ``None``)."""
    a, b = _operand(a), _operand(b)
    if not is_traced(a, b):
        return np.tensordot(a, b, axes)
    na, nb = ndim(a), ndim(b)
    if np.ndim(axes) == 0:
        count = operator.index(axes)
        if count > builtins.min(na, nb):
            raise _errors.tensordot_axes_count(count, builtins.min(na, nb))
        # a negative count contracts nothing, as in NumPy (its ranges of axes are empty): an outer product
        axa, axb = (list(range(na - count, na)), list(range(count))) if count >= 0 else ([], [])
    else:
        try:
            first, second = axes
        except (TypeError, ValueError):
            raise _errors.tensordot_axes_spec(axes) from None
        axa, axb = _axis_list(first, na, "tensordot"), _axis_list(second, nb, "tensordot")
    if len(axa) != len(axb) or builtins.any(shape(a)[x] != shape(b)[y] for x, y in zip(axa, axb)):
        raise _errors.tensordot_shape_mismatch(shape(a), shape(b), axa, axb)
    if na + nb > len(_LETTERS):
        raise _errors.too_many_axes("tensordot", "more than 52 axes in total")
    la = _LETTERS[:na]
    lb = list(_LETTERS[na : na + nb])
    for x, y in zip(axa, axb):
        lb[y] = la[x]
    out = "".join(la[k] for k in range(na) if k not in axa) + "".join(lb[k] for k in range(nb) if k not in axb)
    call = ("tensordot", (tuple(axa), tuple(axb))) if via is None else via
    return contract_p(a, b, subscripts=f"{la},{''.join(lb)}->{out}", numpy_call=call)


@implements(np.dot)
def dot(a: Any, b: Any, out: Any = None) -> Any:
    """``numpy.dot``: products for scalars, ``matmul`` up to two dimensions, and
    beyond that a sum over the last axis of ``a`` and the second-to-last of ``b``.

    >>> dot(np.ones((2, 3, 4)), np.ones((5, 4, 6))).shape
    (2, 3, 5, 6)
    """

    a, b = _operand(a), _operand(b)
    if not is_traced(a, b):
        return np.dot(a, b, out=out)
    if out is not None:
        return store_out(out, dot(a=a, b=b))
    na, nb = ndim(a), ndim(b)
    if na == 0 or nb == 0:
        return multiply(a, b)
    if na <= 2 and nb <= 2:
        return dot_p(a, b) if "c" in (dtype(a).kind, dtype(b).kind) else matmul(a, b)  # real: the same bits
    return _tensordot(a, b, ([na - 1], [builtins.max(nb - 2, 0)]), ("dot", None))


@implements(np.inner)
def inner(a: Any, b: Any) -> Any:
    """``numpy.inner``: a sum over the last axes (no complex conjugation).

    >>> float(inner(np.array([1.0, 2.0]), np.array([3.0, 4.0])))
    11.0
    """

    a, b = _operand(a), _operand(b)
    if not is_traced(a, b):
        return np.inner(a, b)
    na, nb = ndim(a), ndim(b)
    if na == 0 or nb == 0:
        return multiply(a, b)
    return _tensordot(a, b, ([na - 1], [nb - 1]), ("inner", None))


@implements(np.outer)
def outer(a: Any, b: Any, out: Any = None) -> Any:
    """``numpy.outer``: ``a.ravel()[:, None] * b.ravel()[None, :]``.

    >>> outer(np.array([1.0, 2.0]), np.array([1.0, 0.0, -1.0])).shape
    (2, 3)
    """
    a, b = _operand(a), _operand(b)
    if not is_traced(a, b):
        return np.outer(a, b, out=out)
    if out is not None:
        return store_out(out, outer(a=a, b=b))
    # NumPy's own product of broadcast operands (a sum in einsum would turn -0.0 into +0.0)
    return _shape.reshape(a, (-1, 1)) * _shape.reshape(b, (1, -1))


@implements(np.vdot)
def vdot(a: Any, b: Any) -> Any:
    """``numpy.vdot``: the dot product of the flattened arrays, conjugating ``a``.

    >>> complex(vdot(np.array([1j, 2.0]), np.array([1j, 1.0])))
    (3+0j)
    """

    a, b = _operand(a), _operand(b)
    if not is_traced(a, b):
        return np.vdot(a, b)
    if _values.size(a) != _values.size(b):
        raise _errors.vdot_sizes(shape(a), shape(b))
    a, b = _shape.ravel(a), _shape.ravel(b)
    if dtype(a).kind == "c":
        a = conj(a)
    return contract_p(a, b, subscripts="i,i->", numpy_call=("vdot", None))


@implements(np.kron)
def kron(a: Any, b: Any) -> Any:
    """``numpy.kron``: the Kronecker product (blocks ``a[i, j] * b``).

    >>> kron(np.eye(2), np.ones((2, 3))).shape
    (4, 6)
    """

    a, b = _operand(a), _operand(b)
    if not is_traced(a, b):
        return np.kron(a, b)
    rank = builtins.max(ndim(a), ndim(b))
    if rank == 0:
        return multiply(a, b)
    sa = (1,) * (rank - ndim(a)) + shape(a)
    sb = (1,) * (rank - ndim(b)) + shape(b)
    # NumPy's own product of interleaved broadcast axes (a sum in einsum would turn -0.0 into +0.0)
    blocks = multiply(
        _shape.reshape(a, tuple(n for x in sa for n in (x, 1))), _shape.reshape(b, tuple(n for y in sb for n in (1, y)))
    )
    return _shape.reshape(blocks, tuple(x * y for x, y in zip(sa, sb)))


@implements(np.cross)
def cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: int | None = None) -> Any:
    """``numpy.cross`` of 3-vectors (and, deprecated as in NumPy, 2-vectors).

    >>> cross(np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
    array([0., 0., 1.])
    """
    a, b = _operand(a), _operand(b)
    if not is_traced(a, b):
        return np.cross(a, b, axisa, axisb, axisc, axis)
    if axis is not None:
        axisa = axisb = axisc = axis
    a = _shape.moveaxis(a, _axis_list(axisa, ndim(a), "cross: axisa")[0], -1) if ndim(a) else a
    b = _shape.moveaxis(b, _axis_list(axisb, ndim(b), "cross: axisb")[0], -1) if ndim(b) else b
    da, db = (shape(a)[-1:] or (0,))[0], (shape(b)[-1:] or (0,))[0]
    if da not in (2, 3) or db not in (2, 3):
        raise _errors.cross_dimensions(da, db)
    if da == 2 or db == 2:
        warnings.warn(_errors.cross_of_2d_vectors(), stacklevel=2)

    def part(x: Any, k: int) -> Any:
        return getitem_p(x, index=(Ellipsis, k))

    a0, a1, b0, b1 = part(a, 0), part(a, 1), part(b, 0), part(b, 1)
    z = a0 * b1 - a1 * b0
    if da == 2 and db == 2:
        return z
    if da == 2:
        b2 = part(b, 2)
        x, y = a1 * b2, -(a0 * b2)
    elif db == 2:
        a2 = part(a, 2)
        x, y = -(a2 * b1), a2 * b0
    else:
        a2, b2 = part(a, 2), part(b, 2)
        x, y = a1 * b2 - a2 * b1, a2 * b0 - a0 * b2
    parts = [_shape.broadcast_to(v, np.broadcast_shapes(shape(x), shape(y), shape(z))) for v in (x, y, z)]
    c = _shape.stack(parts, axis=-1)
    return _shape.moveaxis(c, -1, _axis_list(axisc, ndim(c), "cross: axisc")[0])


# --- convolution ------------------------------------------------------------------------


def _convolve_full(a: Any, v: Any) -> Any:
    """Full discrete convolution along the last axis, broadcasting leading axes."""
    if _backends.is_foreign(a) or _backends.is_foreign(v):
        return np.convolve(a, v)  # Dask has none: inside a transform this is refused, naming numpy.convolve
    a, v = np.asarray(a), np.asarray(v)
    if a.ndim == 1 and v.ndim == 1:
        return np.convolve(a, v)
    n, m = a.shape[-1], v.shape[-1]
    out = np.zeros(np.broadcast_shapes(a.shape[:-1], v.shape[:-1]) + (n + m - 1,), np.result_type(a, v))
    if m > n:
        a, v, n, m = v, a, m, n
    for j in range(m):
        out[..., j : j + n] += a * v[..., j : j + 1]
    return out


def _flip(x: Any) -> Any:
    return getitem_p(x, index=(Ellipsis, slice(None, None, -1)))


def _window(x: Any, start: int, length: int) -> Any:
    return getitem_p(x, index=(Ellipsis, slice(start, start + length)))


def _convolve_vjp(g: Any, x: Any, other: Any) -> Any:
    # d out[k] / d x[i] = other[k - i]: a correlation of g with other, i.e. a window of g * flip(other)
    n, m = shape(x)[-1], shape(other)[-1]
    return unbroadcast(_window(convolve_p(g, _flip(other)), m - 1, n), x)


convolve_p = primitive(_convolve_full, "convolve")
defvjp(convolve_p, lambda g, ans, a, v: _convolve_vjp(g, a, v), lambda g, ans, a, v: _convolve_vjp(g, v, a))
defjvp(
    convolve_p,
    lambda t, ans, a, v: convolve_p(lift(t, a, ans), v),
    lambda t, ans, a, v: convolve_p(a, lift(t, v, ans)),
    batched=True,
)
defbatch(convolve_p, "elementwise")  # leading axes broadcast as in a ufunc: a tangent batch meets the vmap batch
defsparsity(convolve_p, "dense", "bilinear")


def _convolution(name: str, a: Any, v: Any, mode: Any, correlate: bool) -> Any:
    if ndim(a) != 1 or ndim(v) != 1:
        raise _errors.convolve_rank(name, shape(a), shape(v))
    n, m = shape(a)[0], shape(v)[0]
    if n == 0 or m == 0:
        raise _errors.convolve_empty(name, "a" if n == 0 else "v")
    kind = str(mode)[:1].lower()
    if kind not in ("f", "s", "v"):
        raise _errors.convolve_mode(name, mode)
    if correlate:
        v = _flip(conj(v) if dtype(v).kind == "c" else v)
    full = convolve_p(a, v)
    short, long = builtins.min(n, m), builtins.max(n, m)
    if kind == "f":
        return full
    if kind == "v":
        return _window(full, short - 1, long - short + 1)
    start = n // 2 if correlate and n < m else (short - 1) // 2
    return _window(full, start, long)


@implements(np.convolve)
def convolve(a: Any, v: Any, mode: Any = "full") -> Any:
    """``numpy.convolve`` of one-dimensional arrays, modes ``'full'``, ``'same'``, ``'valid'``.

    >>> convolve(np.array([1.0, 2.0]), np.array([1.0, 1.0, 1.0]))
    array([1., 3., 3., 2.])
    """
    a, v = _operand(a), _operand(v)
    if not is_traced(a, v):
        return np.convolve(a, v, mode)
    return _convolution("convolve", a, v, mode, correlate=False)


@implements(np.correlate)
def correlate(a: Any, v: Any, mode: Any = "valid") -> Any:
    """``numpy.correlate``: ``c[k] = sum_n a[n + k] * conj(v[n])``, modes as ``convolve``.

    >>> correlate(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0]))
    array([2., 3.])
    """
    a, v = _operand(a), _operand(v)
    if not is_traced(a, v):
        return np.correlate(a, v, mode)
    return _convolution("correlate", a, v, mode, correlate=True)


# --- contraction paths ------------------------------------------------------------------------


@implements(np.einsum_path)
def einsum_path(*operands: Any, optimize: Any = "greedy", einsum_call: Any = False) -> Any:
    """``numpy.einsum_path``: the contraction order; it reads only shapes, so traced operands are fine.

    >>> einsum_path("ij,jk,kl->il", np.ones((2, 3)), np.ones((3, 4)), np.ones((4, 2)))[0]
    ['einsum_path', (1, 2), (0, 1)]
    """
    # data-free stand-ins with each operand's shape and dtype: nothing is read (nor computed, for Dask)
    plain = [np.broadcast_to(np.zeros((), dtype(o)), shape(o)) if isinstance(o, Tracer) else o for o in operands]
    return np.einsum_path(*plain, optimize=optimize, einsum_call=einsum_call)


# --- the vector gufuncs of NumPy 2 --------------------------------------------------------


def _gufunc_kwargs(name: str, kwargs: dict[str, Any]) -> None:
    if kwargs:
        raise _errors.traced_keywords(name, sorted(kwargs))


def _conj_if_complex(x: Any) -> Any:
    return conj(x) if dtype(x).kind == "c" else x


def _loop_padded(t: Any, x: Any, pad: int) -> Any:
    """Tangent ``t`` of operand ``x`` with ``pad`` ones after its batch axes, so they stay ahead of the
    other operand's loop axes when the gufunc broadcasts."""
    nb = batch_ndim(t, x)
    if nb == 0 or pad <= 0:
        return t
    s = shape(t)
    return _base.reshape_p(t, newshape=s[:nb] + (1,) * pad + s[nb:])


def _loop_ranks(x1: Any, x2: Any, core1: int, core2: int) -> tuple[int, int]:
    """The ones each operand's tangent needs before its own axes (its loop rank against the other's)."""
    loop1, loop2 = ndim(x1) - core1, ndim(x2) - core2
    return max(loop2 - loop1, 0), max(loop1 - loop2, 0)


def _gufunc_primitive(ufunc_name: str) -> Any:
    """``numpy.<ufunc_name>`` itself (the gufunc's own bits), or a stand-in where NumPy lacks it."""
    return getattr(np, ufunc_name, None) or (lambda *a: None)


#: ``numpy.vecdot`` along the last axis: NumPy's own loop (an ``einsum`` of the same sum rounds differently)
vecdot_p = primitive(_gufunc_primitive("vecdot"), "vecdot")
defvjp(
    vecdot_p,
    lambda g, ans, x1, x2: match_dtype(unbroadcast(_conj_if_complex(_expand(g, -1) * x2), x1), x1),
    lambda g, ans, x1, x2: match_dtype(unbroadcast(_expand(g, -1) * _conj_if_complex(x1), x2), x2),
)
defjvp(
    vecdot_p,
    lambda t, ans, x1, x2: vecdot_p(_loop_padded(t, x1, _loop_ranks(x1, x2, 1, 1)[0]), x2),
    lambda t, ans, x1, x2: vecdot_p(x1, _loop_padded(t, x2, _loop_ranks(x1, x2, 1, 1)[1])),
    batched=True,
)
defbatch(vecdot_p, "elementwise")  # one core axis each, last: NumPy's broadcasting lines the loop axes up
defsparsity(vecdot_p, "contract", "bilinear")

#: ``numpy.matvec``: NumPy's own loop
matvec_p = primitive(_gufunc_primitive("matvec"), "matvec")
#: ``numpy.vecmat``: NumPy's own loop
vecmat_p = primitive(_gufunc_primitive("vecmat"), "vecmat")
defvjp(
    matvec_p,
    lambda g, ans, x1, x2: match_dtype(unbroadcast(_expand(g, -1) * _expand(x2, -2), x1), x1),
    lambda g, ans, x1, x2: match_dtype(unbroadcast(matvec_p(_swap(x1), g), x2), x2),
)
defjvp(
    matvec_p,
    lambda t, ans, x1, x2: matvec_p(_loop_padded(t, x1, _loop_ranks(x1, x2, 2, 1)[0]), x2),
    lambda t, ans, x1, x2: matvec_p(x1, _loop_padded(t, x2, _loop_ranks(x1, x2, 2, 1)[1])),
    batched=True,
)
defvjp(
    vecmat_p,
    lambda g, ans, x1, x2: match_dtype(unbroadcast(_conj_if_complex(matvec_p(x2, g)), x1), x1),
    lambda g, ans, x1, x2: match_dtype(unbroadcast(_expand(_conj_if_complex(x1), -1) * _expand(g, -2), x2), x2),
)
defjvp(
    vecmat_p,
    lambda t, ans, x1, x2: vecmat_p(_loop_padded(t, x1, _loop_ranks(x1, x2, 1, 2)[0]), x2),
    lambda t, ans, x1, x2: vecmat_p(x1, _loop_padded(t, x2, _loop_ranks(x1, x2, 1, 2)[1])),
    batched=True,
)
for _prim in (matvec_p, vecmat_p):
    defbatch(_prim, "loop")  # two core axes against one: the batch axis cannot be lined up by broadcasting
    defsparsity(_prim, "contract", "bilinear")


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1, out: Any = None, **kwargs: Any) -> Any:
    """``numpy.vecdot``: ``sum(conj(x1) * x2, axis)`` with broadcasting.

    >>> vecdot(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1.0, 1.0]))
    array([3., 7.])
    """
    x1, x2 = _operand(x1), _operand(x2)
    if not is_traced(x1, x2):
        return np.vecdot(x1, x2, axis=axis, out=out, **kwargs)  # type: ignore[call-overload]
    if out is not None:
        return store_out(out, vecdot(x1, x2, axis=axis, **kwargs))
    _gufunc_kwargs("vecdot", kwargs)
    x1 = _shape.moveaxis(x1, axis, -1) if ndim(x1) else x1
    x2 = _shape.moveaxis(x2, axis, -1) if ndim(x2) else x2
    return vecdot_p(x1, x2)  # NumPy's loop along the last axis (the same bits as along ``axis``)


def matvec(x1: Any, x2: Any, /, *, out: Any = None, **kwargs: Any) -> Any:
    """``numpy.matvec``: stacks of matrices times stacks of vectors (no conjugation).

    >>> matvec(np.eye(2), np.array([1.0, 2.0]))
    array([1., 2.])
    """
    x1, x2 = _operand(x1), _operand(x2)
    if not is_traced(x1, x2):
        return np.matvec(x1, x2, out=out, **kwargs)  # type: ignore[attr-defined]
    if out is not None:
        return store_out(out, matvec(x1, x2, **kwargs))
    _gufunc_kwargs("matvec", kwargs)
    return matvec_p(x1, x2)


def vecmat(x1: Any, x2: Any, /, *, out: Any = None, **kwargs: Any) -> Any:
    """``numpy.vecmat``: conjugated stacks of vectors times stacks of matrices.

    >>> vecmat(np.array([1.0, 2.0]), np.eye(2))
    array([1., 2.])
    """
    x1, x2 = _operand(x1), _operand(x2)
    if not is_traced(x1, x2):
        return np.vecmat(x1, x2, out=out, **kwargs)  # type: ignore[attr-defined]
    if out is not None:
        return store_out(out, vecmat(x1, x2, **kwargs))
    _gufunc_kwargs("vecmat", kwargs)
    return vecmat_p(x1, x2)


def _register_ufunc() -> None:
    UFUNCS[np.matmul] = matmul
    for name, func in (("vecdot", vecdot), ("matvec", matvec), ("vecmat", vecmat)):
        if hasattr(np, name):  # NumPy >= 2.0 (vecdot) and 2.2 (matvec, vecmat)
            UFUNCS[getattr(np, name)] = func  # type: ignore[assignment]
            __all__.append(name)


_register_ufunc()
