"""Sparse Jacobians and Hessians: detect the pattern, colour it, differentiate once per colour, decompress.

``jacobian_sparsity`` / ``hessian_sparsity`` run the function once under the
detection transform (``funcgrad/_sparse_detect.py``).  ``sparse_jacfwd``,
``sparse_jacrev``, ``sparse_jacobian`` and ``sparse_hessian`` detect and
colour once per argument signature (shapes, dtypes, pytree structure, as
``jit`` keys its recordings; a *local* pattern is detected again on every
call), then make one batched pass over the colours: ``vmap`` of ``jvp``
(forward), of the ``vjp`` of one evaluation (reverse), of ``jvp`` of ``grad``
(Hessians), and gather the nonzeros into CSR.  Arguments are flattened as
``fg.tree.tree_flatten`` orders the leaves, each raveled in C order; outputs
likewise.  SciPy is needed (the ``scipy`` extra).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from funcgrad import _errors
from funcgrad._api import _tangent_out, _trace_forward, grad, vjp
from funcgrad._batching import vmap
from funcgrad._jit import jit as _jit
from funcgrad._prims import _shape
from funcgrad.tree import tree_flatten, tree_unflatten

Argnums = int | Sequence[int]

__all__ = [
    "Coloring",
    "hessian_sparsity",
    "jacobian_sparsity",
    "sparse_hessian",
    "sparse_jacfwd",
    "sparse_jacobian",
    "sparse_jacrev",
]


def _engine(name: str) -> Any:
    try:
        # scipy is an optional extra: the modules that need it load on first use
        from funcgrad import _coloring, _sparse_detect  # why: they need scipy, an optional extra (loaded on first use)
    except ImportError as error:
        raise _errors.sparse_needs_scipy(name) from error
    return _sparse_detect, _coloring


class _Call:
    """One call's arguments seen as a vector: the chosen arguments' leaves raveled and concatenated."""

    __slots__ = ("fun", "args", "kwargs", "nums", "single", "treedef", "shapes", "sizes", "dtype")

    def __init__(self, fun: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], argnums: Argnums):
        self.fun, self.args, self.kwargs = fun, args, kwargs
        self.single = isinstance(argnums, int)
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        self.nums = tuple(n % len(args) for n in nums) if args else nums
        chosen = args[self.nums[0]] if self.single else tuple(args[n] for n in self.nums)
        leaves, self.treedef = tree_flatten(chosen)
        arrays = [np.asarray(leaf) for leaf in leaves]
        self.shapes = [a.shape for a in arrays]
        self.sizes = [a.size for a in arrays]
        kinds = [a.dtype for a in arrays if a.dtype.kind in "fc"]
        self.dtype = np.result_type(*kinds) if kinds else np.dtype(np.float64)

    def leaves(self) -> list[Any]:
        chosen = self.args[self.nums[0]] if self.single else tuple(self.args[n] for n in self.nums)
        return [np.asarray(leaf) for leaf in tree_flatten(chosen)[0]]

    def vector(self) -> np.ndarray[Any, Any]:
        parts = [np.ravel(leaf).astype(self.dtype, copy=False) for leaf in self.leaves()]
        return np.concatenate(parts) if parts else np.zeros(0, self.dtype)

    def call(self, leaves: list[Any], rest: tuple[Any, ...], kwargs: dict[str, Any] | None = None) -> Any:
        """``fun`` with the chosen arguments rebuilt from ``leaves``, the others from ``rest``."""
        chosen = tree_unflatten(self.treedef, leaves)
        args = list(rest)
        for k, n in enumerate(self.nums):
            args[n] = chosen if self.single else chosen[k]
        return self.fun(*args, **(self.kwargs if kwargs is None else kwargs))

    def watched(self) -> tuple[list[Any], Callable[[list[Any], list[Any]], Any]]:
        """The float values among the other arguments, and ``fun`` of (chosen leaves, those values).

        The detection traces them too (with no inputs behind them), so a branch
        on one (``if t > 1``) makes the pattern local, as a branch on an input does.
        """
        flat, treedef = tree_flatten((self.rest(), self.kwargs))
        spots = [k for k, leaf in enumerate(flat) if _is_float(leaf)]

        def run(leaves: list[Any], watched: list[Any]) -> Any:
            values = list(flat)
            for k, value in zip(spots, watched):
                values[k] = value
            rest, kwargs = tree_unflatten(treedef, values)
            return self.call(leaves, rest, kwargs)

        return [flat[k] for k in spots], run

    def detect(self, detect_mod: Any, second: bool) -> Any:
        watched, run = self.watched()
        return detect_mod.detect(run, self.leaves(), second, watched)

    def split(self, v: Any) -> list[Any]:
        if len(self.shapes) == 1 and len(self.shapes[0]) == 1:
            return [v]  # one vector argument: the vector itself (no slice, no reshape)
        out = []
        offset = 0
        for shape, size in zip(self.shapes, self.sizes):
            out.append(_shape.reshape(v[offset : offset + size], shape))
            offset += size
        return out

    def flat(self, rest: tuple[Any, ...], scalar: bool) -> Callable[[Any], Any]:
        """The function of one vector: outputs raveled and concatenated (or the one scalar output)."""

        def fun(v: Any) -> Any:
            outs = tree_flatten(self.call(self.split(v), rest))[0]
            if scalar:
                return _shape.reshape(outs[0], ())
            if len(outs) == 1:
                return _shape.reshape(outs[0], (-1,))  # one output: no copy by a concatenation of one
            return _shape.concatenate([_shape.reshape(o, (-1,)) for o in outs])

        return fun

    def rest(self) -> tuple[Any, ...]:
        return tuple(None if n in self.nums else a for n, a in enumerate(self.args))


def _is_float(leaf: Any) -> bool:
    if isinstance(leaf, (float, complex)):
        return True
    return isinstance(leaf, (np.ndarray, np.generic)) and leaf.dtype.kind in "fc"


def _key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    leaves, treedef = tree_flatten((args, kwargs))
    sig: list[Any] = []
    for leaf in leaves:
        if isinstance(leaf, (np.ndarray, np.generic)) or hasattr(leaf, "shape"):
            sig.append((np.shape(leaf), str(getattr(leaf, "dtype", ""))))
        elif isinstance(leaf, (bool, int, str, type(None))):
            sig.append((type(leaf), leaf))
        else:
            sig.append((type(leaf), None))
    return treedef, tuple(sig)


def _detector(fun: Callable[..., Any], argnums: Argnums, second: bool, name: str) -> Callable[..., Any]:
    def detect(*args: Any, **kwargs: Any) -> Any:
        detect_mod, _ = _engine(name)
        return _Call(fun, args, kwargs, argnums).detect(detect_mod, second)

    return detect


def jacobian_sparsity(fun: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """The boolean pattern of ``fun``'s Jacobian, a ``scipy.sparse`` CSR matrix (outputs x inputs).

    Rows are the output leaves' elements, columns the ``argnums`` leaves'
    elements (``fg.tree.tree_flatten`` order, each raveled in C order).  The
    result's ``is_global`` is True when the pattern holds for every input,
    False when ``fun`` branched on its values (``if x[0] > 0``) or indexed with
    positions computed from them (``sort``): then it holds at these inputs.

    >>> import funcgrad as fg, funcgrad.numpy as fnp, numpy as np
    >>> p = fg.jacobian_sparsity(lambda x: x[1:] - x[:-1])(np.zeros(4))
    >>> p.toarray().astype(int)
    array([[1, 1, 0, 0],
           [0, 1, 1, 0],
           [0, 0, 1, 1]])
    >>> p.is_global
    True
    """
    return _detector(fun, argnums, False, "jacobian_sparsity")


def hessian_sparsity(fun: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """The boolean pattern of the Hessian of scalar-valued ``fun``, a symmetric ``scipy.sparse`` CSR matrix.

    Only second-order interactions count: linear operations add none,
    ``x * y`` pairs ``x`` with ``y``, ``sin(x)`` pairs ``x`` with itself.
    ``is_global`` as for :func:`jacobian_sparsity`.

    >>> import funcgrad as fg, funcgrad.numpy as fnp, numpy as np
    >>> fg.hessian_sparsity(lambda x: fnp.sum(x[1:] * x[:-1]) + x[0] ** 3)(np.ones(3)).toarray().astype(int)
    array([[1, 1, 0],
           [1, 0, 1],
           [0, 1, 0]])
    """
    return _detector(fun, argnums, True, "hessian_sparsity")


class Coloring(NamedTuple):
    """How a sparse derivative is computed: the pattern, its colouring and the mode."""

    #: the boolean pattern (``scipy.sparse`` CSR)
    pattern: Any
    #: whether the pattern holds for every input (else it is detected again on each call)
    is_global: bool
    #: ``"forward"`` (columns coloured), ``"reverse"`` (rows coloured) or ``"symmetric"`` (Hessians)
    mode: str
    #: the colour of each column (forward, symmetric) or row (reverse)
    colors: np.ndarray[Any, Any]
    #: the number of colours: the number of passes batched into one
    ncolors: int


class _Plan(NamedTuple):
    coloring: Coloring
    seeds: np.ndarray[Any, Any]
    positions: np.ndarray[Any, Any]
    data: Callable[..., Any]


class SparseDerivative:
    """A sparse Jacobian or Hessian function; call it like ``fun``, get a ``scipy.sparse`` CSR matrix.

    ``coloring(*args)`` tells the pattern, the mode and the number of colours used for such arguments.
    """

    def __init__(
        self, fun: Callable[..., Any], argnums: Argnums, mode: str, sparsity: Any, use_jit: bool, name: str
    ) -> None:
        self.fun, self.argnums, self.mode, self.sparsity, self.use_jit, self.name = (
            fun, argnums, mode, sparsity, use_jit, name,
        )  # fmt: skip
        self.cache: dict[Any, _Plan] = {}
        functools.update_wrapper(self, fun)

    def _plan(self, call: _Call) -> _Plan:
        key = _key(call.args, call.kwargs)
        plan = self.cache.get(key)
        if plan is not None:
            return plan
        detect_mod, coloring_mod = _engine(self.name)
        second = self.mode == "symmetric"
        n = sum(call.sizes)
        if self.sparsity is not None:
            pattern = detect_mod.SparsityPattern(self.sparsity, dtype=bool)
            pattern.sort_indices()
            is_global = True
            if second and pattern.shape != (n, n) or not second and pattern.shape[1] != n:
                raise _errors.sparsity_shape(self.name, pattern.shape, (pattern.shape[0] if not second else n, n))
        else:
            pattern = call.detect(detect_mod, second)
            is_global = pattern.is_global
        mode = self.mode
        if second:
            star = coloring_mod.star_coloring(pattern)
            column = coloring_mod.column_coloring(pattern)
            colors = star if coloring_mod.count(star) <= coloring_mod.count(column) else column
            positions = coloring_mod.symmetric_positions(pattern, colors)
        else:
            if mode == "auto":
                by_column = coloring_mod.column_coloring(pattern)
                by_row = coloring_mod.row_coloring(pattern)
                mode = "forward" if coloring_mod.count(by_column) <= coloring_mod.count(by_row) else "reverse"
                colors = by_column if mode == "forward" else by_row
            elif mode == "forward":
                colors = coloring_mod.column_coloring(pattern)
            else:
                colors = coloring_mod.row_coloring(pattern)
            place = coloring_mod.forward_positions if mode == "forward" else coloring_mod.reverse_positions
            positions = place(pattern, colors)
        ncolors = coloring_mod.count(colors)
        seeds = coloring_mod.seeds(colors, ncolors, call.dtype)
        data = _compressed(call, mode, seeds, positions)
        plan = _Plan(Coloring(pattern, is_global, mode, colors, ncolors), seeds, positions, _jit(data) if self.use_jit else data)
        if is_global:
            self.cache[key] = plan
        return plan

    def coloring(self, *args: Any, **kwargs: Any) -> Coloring:
        """The pattern, mode and colouring used for arguments like these."""
        return self._plan(_Call(self.fun, args, kwargs, self.argnums)).coloring

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        call = _Call(self.fun, args, kwargs, self.argnums)
        plan = self._plan(call)
        pattern = plan.coloring.pattern
        if pattern.nnz:
            values = np.asarray(plan.data(call.vector(), call.rest(), kwargs))
        else:
            values = np.zeros(0, call.dtype)
        csr = _engine(self.name)[0].sp.csr_matrix
        return csr((values, pattern.indices.copy(), pattern.indptr.copy()), shape=pattern.shape)


def _push(f: Callable[[Any], Any], x: Any, seeds: np.ndarray[Any, Any]) -> Any:
    """``(J @ seeds.T).T``: every seed a tangent of one forward pass (as ``jacfwd`` pushes its basis)."""
    out, trace = _trace_forward(f, (x,), (seeds,), len(seeds))
    product = _tangent_out(out, trace)
    want = (len(seeds),) + tuple(np.shape(out))
    return product if tuple(np.shape(product)) == want else _shape.broadcast_to(product, want)


def _compressed(call: _Call, mode: str, seeds: np.ndarray[Any, Any], positions: np.ndarray[Any, Any]) -> Callable[..., Any]:
    """The nonzeros, in CSR order, from one batched pass over the colours' seeds."""
    template = _Call.__new__(_Call)
    for slot in _Call.__slots__:
        setattr(template, slot, getattr(call, slot))

    def data(x: Any, rest: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        template.kwargs = kwargs
        f = template.flat(rest, scalar=mode == "symmetric")
        if mode == "reverse":
            pull = vjp(f, x)[1]
            product = vmap(lambda u: pull(u)[0])(seeds)
        else:
            product = _push(f if mode == "forward" else grad(f), x, seeds)
        if type(product) is np.ndarray:
            return np.take(product.reshape(-1), positions)  # one gather into CSR order (faster than indexing)
        return _shape.reshape(product, (-1,))[positions]  # traced (jit): the same gather, recorded

    return data


def sparse_jacfwd(
    fun: Callable[..., Any], argnums: Argnums = 0, *, sparsity: Any = None, jit: bool = False
) -> SparseDerivative:
    """The Jacobian as ``scipy.sparse`` CSR, one forward pass per column colour (batched into one).

    The pattern is detected (or given as ``sparsity``), its columns coloured
    so that columns of one colour share no row, and each colour's columns are
    computed by one Jacobian-vector product.  ``jit=True`` records the
    compressed pass with ``fg.jit``.

    >>> import funcgrad as fg, funcgrad.numpy as fnp, numpy as np
    >>> f = lambda x: x[1:] ** 2 - x[:-1]
    >>> jac = fg.sparse_jacfwd(f)
    >>> jac(np.arange(4.0)).toarray()
    array([[-1.,  2.,  0.,  0.],
           [ 0., -1.,  4.,  0.],
           [ 0.,  0., -1.,  6.]])
    >>> jac.coloring(np.arange(4.0)).ncolors
    2
    """
    return SparseDerivative(fun, argnums, "forward", sparsity, jit, "sparse_jacfwd")


def sparse_jacrev(
    fun: Callable[..., Any], argnums: Argnums = 0, *, sparsity: Any = None, jit: bool = False
) -> SparseDerivative:
    """The Jacobian as ``scipy.sparse`` CSR, one reverse pass per row colour (batched through one sweep).

    >>> import funcgrad as fg, funcgrad.numpy as fnp, numpy as np
    >>> fg.sparse_jacrev(lambda x: fnp.stack([fnp.sum(x), x[0] * x[1]]))(np.array([1.0, 2.0])).toarray()
    array([[1., 1.],
           [2., 1.]])
    """
    return SparseDerivative(fun, argnums, "reverse", sparsity, jit, "sparse_jacrev")


def sparse_jacobian(
    fun: Callable[..., Any], argnums: Argnums = 0, *, sparsity: Any = None, jit: bool = False
) -> SparseDerivative:
    """The Jacobian as ``scipy.sparse`` CSR, in the mode with fewer colours (forward on a tie).

    >>> import funcgrad as fg, funcgrad.numpy as fnp, numpy as np
    >>> jac = fg.sparse_jacobian(lambda x: fnp.stack([fnp.sum(x ** 2), x[0]]))
    >>> jac(np.arange(1.0, 5.0)).toarray()
    array([[2., 4., 6., 8.],
           [1., 0., 0., 0.]])
    >>> c = jac.coloring(np.arange(1.0, 5.0)); c.mode, c.ncolors
    ('reverse', 2)
    """
    return SparseDerivative(fun, argnums, "auto", sparsity, jit, "sparse_jacobian")


def sparse_hessian(
    fun: Callable[..., Any], argnums: Argnums = 0, *, sparsity: Any = None, jit: bool = False
) -> SparseDerivative:
    """The Hessian of scalar-valued ``fun`` as ``scipy.sparse`` CSR, from a star colouring of its pattern.

    One forward-over-reverse pass (``jvp`` of ``grad``) per colour, batched;
    symmetry lets each entry be read from whichever of its two products has
    it alone in its colour.

    >>> import funcgrad as fg, funcgrad.numpy as fnp, numpy as np
    >>> f = lambda x: fnp.sum((x[1:] - x[:-1] ** 2) ** 2)
    >>> h = fg.sparse_hessian(f)
    >>> h(np.ones(4)).toarray()
    array([[ 8., -4.,  0.,  0.],
           [-4., 10., -4.,  0.],
           [ 0., -4., 10., -4.],
           [ 0.,  0., -4.,  2.]])
    >>> h.coloring(np.ones(4)).ncolors
    3
    """
    return SparseDerivative(fun, argnums, "symmetric", sparsity, jit, "sparse_hessian")
