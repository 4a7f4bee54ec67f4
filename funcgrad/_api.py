"""The user-facing transforms: grad, value_and_grad, vjp, jvp, linearize, jacfwd, jacrev, hessian.

This is the pytree boundary: arguments are flattened and checked here, once
per call, so the per-primitive path never sees a pytree.
"""

from __future__ import annotations

import functools
import math
import types
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from funcgrad import _backends, _dask, _errors
from funcgrad._batching import vmap
from funcgrad._forward import ForwardTrace, Identity, materialize
from funcgrad._prims import _shape
from funcgrad._prims._array import ArrayTracer
from funcgrad._prims._base import match_dtype
from funcgrad._protect import Hold, held_or_copied
from funcgrad._reverse import ReverseTrace, backward, forward_replay
from funcgrad._trace import Tracer, full_lower, new_level
from funcgrad._values import Shaped, shaped
from funcgrad._values import dtype as _dtype_of
from funcgrad._values import shape as _shape_of
from funcgrad._values import size as _size_of
from funcgrad.tree import PyTreeDef, mismatch_path, tree_flatten, tree_unflatten

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "linearize", "jacfwd", "jacrev", "jacobian", "hessian", "float0"]

#: dtype of the zero cotangent of an integer input (as in JAX)
float0 = np.dtype([("float0", np.void, 0)])

Argnums = int | Sequence[int]


# --- argument checks ------------------------------------------------------------------


def _check_argnums_type(argnums: Any, transform: str) -> None:
    if isinstance(argnums, bool) or not (
        isinstance(argnums, (int, np.integer))
        or (
            isinstance(argnums, tuple)
            and argnums
            and all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in argnums)
        )
    ):
        raise _errors.argnums_type(transform, argnums)


def _check_callable(fun: Any, transform: str) -> None:
    if not callable(fun):
        raise _errors.not_a_function(transform, fun)


def _resolve_argnums(argnums: Argnums, nargs: int, transform: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, (int, np.integer)) else tuple(argnums)
    out = []
    for a in nums:
        if not -nargs <= a < nargs:
            raise _errors.argnums_out_of_range(transform, argnums, nargs)
        out.append(int(a) % nargs)
    return tuple(out)


def _value_dtype(value: Any) -> np.dtype[Any] | None:
    value = full_lower(value)
    if isinstance(value, (np.ndarray, np.generic, Tracer)) or hasattr(value, "dtype") and hasattr(value, "shape"):
        kind: np.dtype[Any] = np.dtype(value.dtype)
        return kind
    if isinstance(value, (bool, int, float, complex)):
        return np.result_type(value)
    if _backends.is_foreign(value):
        return value.dtype  # type: ignore[no-any-return]
    return None


def _as_primal(value: Any) -> Any:
    """Python numbers become NumPy scalars, so traced values always know their dtype."""
    if type(value) is np.ndarray:
        return value  # already a NumPy value (a type check: nothing is read)
    if isinstance(value, (float, complex, int)) and not isinstance(value, bool):
        return np.asarray(value)[()]
    if isinstance(value, (list, tuple)):
        return np.asarray(value)
    return value


def _check_differentiable(
    leaves: list[Any], names: list[str], transform: str, allow_int: bool, holomorphic: bool
) -> None:
    for leaf, name in zip(leaves, names):
        kind = _value_dtype(leaf)
        if kind is None or kind.kind not in "biufc":
            raise _errors.not_differentiable_type(transform, name, leaf)
        if kind.kind in "biu" and not allow_int:
            raise _errors.integer_input(transform, name, kind)
        if holomorphic and kind.kind != "c":
            raise _errors.holomorphic_real_input(transform, name, kind)


#: exact types of leaves that are plainly differentiable when their dtype is a float (or complex) one
_ARRAY_TYPES = frozenset({np.ndarray, np.float64, np.float32, np.complex128, np.complex64})
#: the structure of a tuple of ``n`` leaves, by ``n`` (the common case of ``grad``'s chosen arguments)
_TUPLE_DEFS: dict[int, PyTreeDef] = {}


def _flatten_chosen(args: tuple[Any, ...], nums: tuple[int, ...]) -> tuple[list[Any], PyTreeDef]:
    """``tree_flatten`` of the chosen arguments, without the tree walk when each is a single array or float."""
    chosen = [args[n] for n in nums]
    for arg in chosen:
        kind = type(arg)
        if kind is not float and kind not in _ARRAY_TYPES:
            return tree_flatten(tuple(chosen))
    treedef = _TUPLE_DEFS.get(len(chosen))
    if treedef is None:
        treedef = _TUPLE_DEFS[len(chosen)] = tree_flatten((0.0,) * len(chosen))[1]
    return chosen, treedef


def _plainly_differentiable(leaves: list[Any], holomorphic: bool) -> bool:
    """True when every leaf is a float (complex with ``holomorphic``) array or scalar: nothing to report."""
    kinds = "c" if holomorphic else "fc"
    for leaf in leaves:
        kind = type(leaf)
        if kind is float and not holomorphic:
            continue
        if kind not in _ARRAY_TYPES or leaf.dtype.kind not in kinds:
            return False
    return True


def _leaf_names(args: tuple[Any, ...], nums: tuple[int, ...]) -> list[str]:
    names = []
    for n in nums:
        count = len(tree_flatten(args[n])[0])
        names.extend([f"argument {n}"] * count if count == 1 else [f"a leaf of argument {n}"] * count)
    return names


def _zero_like(value: Any) -> Any:
    value = full_lower(value)
    kind = _value_dtype(value)
    if kind is not None and kind.kind in "biu":
        return np.zeros(_shape_of(value), float0)
    if _backends.is_foreign(value):
        return _backends.zeros_like(value, kind)
    out = np.zeros(np.shape(value), kind)
    return out if isinstance(value, np.ndarray) else out[()]


def _deliver(cotangent: Any, primal: Any) -> Any:
    """A result with the primal's shape and dtype; plain NumPy unless it is still traced."""
    what = type(cotangent)
    if what is type(primal) and what in _ARRAY_TYPES and cotangent.dtype == primal.dtype:
        if cotangent.shape == primal.shape:
            if what is np.ndarray and not cotangent.flags.writeable:
                return cotangent.copy()  # e.g. a broadcast view from sum's rule: hand back an array of one's own
            return cotangent  # already right: what the slow path below would return
    if cotangent is None:
        return _zero_like(primal)
    kind = _value_dtype(primal)
    if kind is not None and kind.kind in "biu":
        return np.zeros(_shape_of(primal), float0)
    if isinstance(cotangent, Tracer):
        out = match_dtype(cotangent, primal)
        if not _shape_of(out):
            if not isinstance(full_lower(primal), np.ndarray):
                return out[()]  # a recorded NumPy scalar, as the eager call hands back for a scalar primal
            # a 0-d array primal gets a 0-d array, as the eager call's ``np.asarray`` hands back, also when the
            # value underneath is a NumPy scalar (0-d arithmetic's result): reshaped through (1,), recorded
            return _shape.reshape(_shape.reshape(out, (1,)), ())
        return out
    if _backends.is_foreign(cotangent) or _backends.is_foreign(full_lower(primal)):
        return _deliver_foreign(cotangent, full_lower(primal), kind)
    if kind is not None and kind.kind == "f" and np.iscomplexobj(cotangent):
        cotangent = np.real(cotangent)
    out = np.asarray(cotangent, dtype=kind)
    if out.shape != np.shape(full_lower(primal)):
        out = np.broadcast_to(out, np.shape(full_lower(primal))).copy()
    elif not out.flags.writeable:
        out = out.copy()
    return out if isinstance(full_lower(primal), np.ndarray) else out[()]


def _deliver_all(cotangents: list[Any], primals: list[Any]) -> list[Any]:
    """``_deliver`` each input's cotangent; a result that shares its buffer with an earlier one is copied.

    ``add``'s rule hands one cotangent to both operands, so in ``sum(x + y)`` the
    gradients in ``x`` and ``y`` are one array: each caller's leaf gets an array
    of its own (a write into one must not change another).  Read in O(1) per
    leaf from the arrays' ``base``, no pass over the data.

    >>> import funcgrad as fg, numpy as np
    >>> gx, gy = fg.grad(lambda x, y: np.sum(x + y), argnums=(0, 1))(np.ones(2), np.ones(2))
    >>> np.shares_memory(gx, gy)
    False
    """
    return _own_buffers([_deliver(c, p) for c, p in zip(cotangents, primals)])


def _own_buffers(out: list[Any]) -> list[Any]:
    """``out`` with each ndarray that shares its buffer with an earlier one copied."""
    if len(out) > 1:
        seen: set[int] = set()
        for i, result in enumerate(out):
            if type(result) is np.ndarray:  # buffers compared by identity: no value is read
                root = id(result if result.base is None else result.base)
                if root in seen:
                    out[i] = result.copy()
                else:
                    seen.add(root)
    return out


def _unshared(cotangent: Any, seeds: list[Any]) -> Any:
    """``cotangent``, copied if it may be (a view of) one of the caller's ``seeds`` (``x + 0`` hands its seed back).

    ``np.may_share_memory`` compares memory bounds only: no pass over the data.
    """
    if type(cotangent) is np.ndarray:
        for seed in seeds:
            if type(seed) is np.ndarray and np.may_share_memory(cotangent, seed):
                return cotangent.copy()
    return cotangent


def _deliver_foreign(cotangent: Any, primal: Any, kind: np.dtype[Any] | None) -> Any:
    """``_deliver`` when the cotangent or the primal is another backend's array: shaped, typed and
    chunked like the primal without computing anything (a NumPy primal's cotangent stays lazy if it is)."""
    if kind is not None and kind.kind == "f" and _dtype_of(cotangent).kind == "c":
        cotangent = np.real(cotangent)
    cotangent = _backends.to_backend(cotangent, primal)
    if kind is not None and _dtype_of(cotangent) != kind:
        cotangent = cotangent.astype(kind) if _backends.is_foreign(cotangent) else np.asarray(cotangent, kind)
    if _shape_of(cotangent) != _shape_of(primal):
        cotangent = np.broadcast_to(cotangent, _shape_of(primal))
    return _backends.like_primal(cotangent, primal)


def _ours(value: Any, trace: Any) -> bool:
    return isinstance(value, Tracer) and value._trace is trace


def _strip(value: Any, trace: Any) -> Any:
    """Remove this transform's tracing from one value (lower levels stay traced)."""
    return value._value if _ours(value, trace) else value


def _strip_tree(tree: Any, trace: Any) -> Any:
    leaves, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, [_strip(v, trace) for v in leaves])


def _plain(value: Any) -> Any:
    """Hand a value back to the user: plain NumPy unless an outer transform still traces it."""
    if isinstance(value, Tracer):
        return value
    if isinstance(value, (float, int, complex)) and not isinstance(value, bool):
        return np.asarray(value)[()]
    return value


# --- reverse mode -------------------------------------------------------------------------


def _known_chunks(args: Sequence[Any]) -> None:
    """Refuse, naming it, an argument that is a chunked array of unknown chunk sizes (no tree walk: cheap)."""
    for n, arg in enumerate(args):
        if type(arg) not in _ARRAY_TYPES:
            _backends.known_chunks(arg, f"argument {n}")


def _trace_reverse(
    fun: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    nums: tuple[int, ...],
    flat: tuple[list[Any], PyTreeDef] | None = None,
) -> tuple[Any, ReverseTrace, list[Any], list[int], PyTreeDef]:
    """Run ``fun`` with the chosen arguments traced; return its output and the trace.

    ``flat`` is ``tree_flatten`` of the chosen arguments when the caller already has it.
    """
    leaves, treedef = flat if flat is not None else tree_flatten(tuple(args[n] for n in nums))
    _known_chunks(args)
    primals = [_as_primal(leaf) for leaf in leaves]
    code = getattr(fun, "__code__", None)
    # a function that writes into a plain array after a traced call used it (a reused buffer), or hands one to
    # code that needs it writeable, runs again keeping copies, and keeps copies from then on
    (out, trace, input_ids), copied = held_or_copied(
        lambda copies: _run_reverse(fun, args, kwargs, nums, primals, treedef, copies), code in _WRITES_KEPT
    )
    if copied and code is not None:
        _WRITES_KEPT.add(code)
    return out, trace, primals, input_ids, treedef


#: the code of functions that write into a plain array after a traced call used it: their tapes keep copies
#: (``_run_reverse``; a code object, so that a function made anew each time, a closure, is remembered too)
_WRITES_KEPT: set[types.CodeType] = set()


def _run_reverse(
    fun: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    nums: tuple[int, ...],
    primals: list[Any],
    treedef: PyTreeDef,
    copies: bool,
) -> tuple[Any, ReverseTrace, list[int]]:
    """Run ``fun`` on a new reverse trace.  The plain arrays its tape keeps are read-only until it returns
    (``funcgrad._protect``), or with ``copies`` are copied as they are kept."""
    hold = None if copies else Hold()
    with new_level() as level:
        trace = ReverseTrace(level, hold)
        inputs = [trace.new_input(p) for p in primals]
        input_ids = [t._payload for t in inputs]  # before the function runs: it may write into its arguments
        chosen = tree_unflatten(treedef, inputs)
        call_args = list(args)
        for n, value in zip(nums, chosen):
            call_args[n] = value
        try:
            out = fun(*call_args, **kwargs)
        finally:
            trace.active = False
            if hold is not None:
                hold.release()
    return out, trace, input_ids


_REAL_SCALAR_TYPES = frozenset({np.float64, np.float32})


def _split_aux(out: Any, has_aux: bool, transform: str) -> tuple[Any, Any]:
    if not has_aux:
        return out, None
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        raise _errors.aux_not_a_pair(transform, out)
    return out[0], out[1]


def _scalar_output(out: Any, trace: ReverseTrace, holomorphic: bool, has_aux: bool, transform: str) -> Any:
    value = _strip(out, trace)
    if type(value) in _REAL_SCALAR_TYPES and not holomorphic:
        return value  # the common case: a real NumPy scalar
    if isinstance(value, (tuple, list)) and not has_aux:
        raise _errors.output_is_a_sequence(transform, value)
    kind = _value_dtype(value)
    shape = _shape_of(value) if kind is not None else None
    if kind is None or shape != () or kind.kind not in ("c" if holomorphic else "f"):
        raise _errors.output_not_a_scalar(transform, value, shape, kind, holomorphic)
    return value


def value_and_grad(
    fun: Callable[..., Any],
    argnums: Argnums = 0,
    *,
    has_aux: bool = False,
    holomorphic: bool = False,
    allow_int: bool = False,
) -> Callable[..., Any]:
    """A function returning ``(fun(*args), gradient)``; ``((value, aux), gradient)`` with ``has_aux``.

    >>> import funcgrad as fg, numpy as np
    >>> fg.value_and_grad(lambda x: np.sum(x ** 2))(np.array([1.0, 2.0]))
    (np.float64(5.0), array([2., 4.]))

    Raises ``TypeError`` when the output is not a real scalar or an argument
    is not differentiable, ``ValueError`` when ``argnums`` is out of range.
    """
    _check_argnums_type(argnums, "value_and_grad")
    _check_callable(fun, "value_and_grad")

    @functools.wraps(fun)
    def value_and_grad_fun(*args: Any, **kwargs: Any) -> Any:
        nums = _resolve_argnums(argnums, len(args), "grad")
        flat = _flatten_chosen(args, nums)
        plain = _plainly_differentiable(flat[0], holomorphic)
        if not plain:
            _check_differentiable(flat[0], _leaf_names(args, nums), "grad", allow_int, holomorphic)
        with _backends.guard(not plain and _backends.any_foreign(flat[0])):
            out, trace, primals, inputs, treedef = _trace_reverse(fun, args, kwargs, nums, flat)
            out, aux = _split_aux(out, has_aux, "grad")
            value = _scalar_output(out, trace, holomorphic, has_aux, "grad")
            if _ours(out, trace):
                seed = _dtype_of(value).type(1)
                cotangents = backward(trace.tape, [(out._payload, seed)], inputs, consume=True)
            else:
                cotangents = [None] * len(inputs)
            trace.tape.clear()
            grads = tree_unflatten(treedef, _deliver_all(cotangents, primals))
        gradient = grads[0] if isinstance(argnums, (int, np.integer)) else grads
        value, gradient = _dask.streamed(_plain(value)), _dask.streamed(gradient)
        if has_aux:
            return (value, _strip_tree(aux, trace)), gradient
        return value, gradient

    return value_and_grad_fun


def grad(
    fun: Callable[..., Any],
    argnums: Argnums = 0,
    *,
    has_aux: bool = False,
    holomorphic: bool = False,
    allow_int: bool = False,
) -> Callable[..., Any]:
    """The gradient of a scalar function, shaped like the chosen argument(s).

    >>> import funcgrad as fg, numpy as np
    >>> x = np.arange(4.0)
    >>> fg.grad(lambda x: 2 * np.dot(x, x))(x)
    array([ 0.,  4.,  8., 12.])

    ``argnums`` picks the argument (a tuple gives a tuple of gradients);
    ``has_aux`` returns ``(gradient, aux)``.  Raises ``TypeError`` for a
    non-scalar output (use ``vjp`` with an explicit cotangent) or an integer
    argument (``allow_int=True`` gives a zero gradient).
    """
    _check_argnums_type(argnums, "grad")
    _check_callable(fun, "grad")
    value_and_grad_fun = value_and_grad(fun, argnums, has_aux=has_aux, holomorphic=holomorphic, allow_int=allow_int)

    @functools.wraps(fun)
    def grad_fun(*args: Any, **kwargs: Any) -> Any:
        value, gradient = value_and_grad_fun(*args, **kwargs)
        if has_aux:
            return gradient, value[1]
        return gradient

    return grad_fun


def _check_like(given: Any, expected: Any, what: str, transform: str) -> tuple[list[Any], PyTreeDef]:
    """Flatten ``given`` and check it matches ``expected``'s structure, shapes and dtype kinds."""
    given_leaves, given_def = tree_flatten(given)
    expected_leaves, expected_def = tree_flatten(expected)
    if given_def != expected_def:
        raise _errors.tangent_structure(transform, what, expected_def, given_def, mismatch_path(expected, given))
    checked = []
    for i, (g, e) in enumerate(zip(given_leaves, expected_leaves)):
        e_value = full_lower(e)
        e_shape = _shape_of(e_value)
        e_kind = _value_dtype(e_value)
        g_value = g if isinstance(g, (Tracer, np.ndarray, np.generic)) or _backends.is_foreign(g) else np.asarray(g)
        g_kind = _value_dtype(g_value)
        g_shape = _shape_of(g_value)
        where = f" (leaf {i})" if len(expected_leaves) > 1 else ""
        if g_kind == float0 and e_kind is not None and e_kind.kind in "biu" and g_shape == e_shape:
            checked.append(g_value)  # an integer primal's (zero) tangent, as in JAX
            continue
        if g_kind is None or g_kind.kind not in "biufc":
            raise _errors.tangent_not_numeric(transform, what, where, g)
        if g_shape != e_shape:
            raise _errors.tangent_shape(transform, what, where, e_shape, g_shape)
        if e_kind is not None and e_kind.kind in "fc" and g_kind.kind == "c" and e_kind.kind == "f":
            raise _errors.tangent_complex(transform, what, where, e_kind, g_kind)
        if e_kind is not None and e_kind.kind in "fc" and not isinstance(g_value, Tracer) and g_kind != e_kind:
            if _backends.is_foreign(g_value):
                checked.append(g_value.astype(e_kind))
                continue
            g_value = np.asarray(g_value, dtype=e_kind)
            if not isinstance(e_value, (np.ndarray, Shaped)):
                g_value = g_value[()]
        checked.append(g_value)
    return checked, given_def


def vjp(fun: Callable[..., Any], *primals: Any, has_aux: bool = False) -> Any:
    """Evaluate ``fun(*primals)`` and return ``(out, vjp_fn)`` (``(out, vjp_fn, aux)`` with ``has_aux``).

    ``vjp_fn(cotangent)`` returns a tuple with one cotangent per primal.  It
    is pure: call it as often as you like.  MXNet's ``y.backward(head)`` is
    ``vjp(f, x)[1](head)``:
    >>> import funcgrad as fg, numpy as np
    >>> y, vjp_fn = fg.vjp(lambda x: 2 * x, np.arange(4.0))
    >>> vjp_fn(np.array([10, 1, .1, .01]))
    (array([20.  ,  2.  ,  0.2 ,  0.02]),)

    Raises ``ValueError`` when the cotangent's structure, shape or dtype
    does not match the output.
    """
    _check_callable(fun, "vjp")
    nums = tuple(range(len(primals)))
    leaves = tree_flatten(primals)[0]
    _check_differentiable(leaves, _leaf_names(primals, nums), "vjp", True, False)
    foreign = _backends.any_foreign(leaves)
    with _backends.guard(foreign):
        out, trace, values, inputs, treedef = _trace_reverse(fun, primals, {}, nums)
    out, aux = _split_aux(out, has_aux, "vjp")
    out_leaves, out_def = tree_flatten(out)
    out_values = [_strip(o, trace) for o in out_leaves]
    out_ids = [o._payload if _ours(o, trace) else None for o in out_leaves]
    out_tree = _dask.streamed(tree_unflatten(out_def, [_plain(v) for v in out_values]))
    # what vjp_fn checks a cotangent against: the outputs' shapes and dtypes, not the arrays (the caller may drop them)
    out_spec = tree_unflatten(out_def, [shaped(v) if type(v) is np.ndarray else v for v in tree_flatten(out_tree)[0]])
    tape = trace.tape

    def vjp_fn(cotangent: Any) -> tuple[Any, ...]:
        checked, _ = _check_like(cotangent, out_spec, "cotangent", "vjp_fn")
        # the sweep never writes into a seed (it does not own it), so the caller's cotangent is swept as it is
        seeds = [(node, ct) for node, ct in zip(out_ids, checked) if node is not None]
        with _backends.guard(foreign or _backends.any_foreign(checked)):
            cotangents = backward(tape, seeds, inputs, consume=False) if seeds else [None] * len(inputs)
            cotangents = [_unshared(c, checked) for c in cotangents]
            return tuple(_dask.streamed(tree_unflatten(treedef, _deliver_all(cotangents, values))))

    if has_aux:
        return out_tree, vjp_fn, _strip_tree(aux, trace)
    return out_tree, vjp_fn


# --- forward mode --------------------------------------------------------------------------


def _trace_forward(
    fun: Callable[..., Any],
    primals: Sequence[Any],
    tangents: Sequence[Any],
    batch: int,
    flat: tuple[list[Any], PyTreeDef, list[Any]] | None = None,
) -> tuple[Any, ForwardTrace]:
    """Run ``fun`` with tangents attached; ``flat`` is ``(primal leaves, their treedef, tangent leaves)``
    when the caller already has them."""
    if flat is None:
        leaves, treedef = tree_flatten(tuple(primals))
        tangent_leaves = tree_flatten(tuple(tangents))[0]
    else:
        leaves, treedef, tangent_leaves = flat
    _known_chunks(primals)
    with new_level() as level:
        trace = ForwardTrace(level, batch)
        boxed = []
        for leaf, tangent in zip(leaves, tangent_leaves):
            value = _as_primal(leaf)
            kind = _value_dtype(value)
            if kind is not None and kind.kind in "biu":
                boxed.append(value)
            else:
                boxed.append(ArrayTracer(value, trace, _backends.to_backend(tangent, value)))
        try:
            out = fun(*tree_unflatten(treedef, boxed))
        finally:
            trace.active = False
    return out, trace


def _tangent_out(value: Any, trace: ForwardTrace) -> Any:
    if _ours(value, trace):
        return materialize(value._payload)
    base = full_lower(value)
    shape = ((trace.batch,) if trace.batch else ()) + _shape_of(base)
    kind = _value_dtype(base)
    if kind is None or kind.kind in "biu":
        return np.zeros(shape, float0)
    if _backends.is_foreign(base):
        return np.broadcast_to(_backends.zeros_like(base, kind), shape)
    out = np.zeros(shape, kind)
    return out if isinstance(base, np.ndarray) or trace.batch else out[()]


def jvp(fun: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], *, has_aux: bool = False) -> Any:
    """Forward mode: ``(fun(*primals), J @ tangents)`` (plus ``aux`` with ``has_aux``).

    >>> import funcgrad as fg, numpy as np
    >>> fg.jvp(np.sin, (0.0,), (2.0,))
    (np.float64(0.0), np.float64(2.0))

    Raises ``ValueError`` when the tangents do not match the primals in
    structure, shape or dtype.
    """
    _check_callable(fun, "jvp")
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise _errors.not_argument_tuples("jvp", primals, tangents)
    primals = tuple(primals)
    leaves = tree_flatten(primals)[0]
    _check_differentiable(leaves, _leaf_names(primals, tuple(range(len(primals)))), "jvp", True, False)
    checked, tangent_def = _check_like(tuple(tangents), primals, "tangent", "jvp")
    with _backends.guard(_backends.any_foreign(leaves) or _backends.any_foreign(checked)):
        out, trace = _trace_forward(fun, primals, tree_unflatten(tangent_def, checked), 0)
        out, aux = _split_aux(out, has_aux, "jvp")
        out_leaves, out_def = tree_flatten(out)
        values = tree_unflatten(out_def, [_plain(_strip(o, trace)) for o in out_leaves])
        # a tangent handed through unchanged (the identity, x + 0) is copied: the caller's array stays theirs
        delivered = [_unshared(_deliver(_tangent_out(o, trace), _strip(o, trace)), checked) for o in out_leaves]
        tangent_out = _dask.streamed(tree_unflatten(out_def, _own_buffers(delivered)))
        values = _dask.streamed(values)
    if has_aux:
        return values, tangent_out, _strip_tree(aux, trace)
    return values, tangent_out


def linearize(fun: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., Any]]:
    """Evaluate ``fun`` once and return ``(out, jvp_fn)``; ``jvp_fn(*tangents)``
    replays the recorded operations forward without calling ``fun`` again.

    >>> import funcgrad as fg, numpy as np
    >>> y, f_jvp = fg.linearize(np.exp, 0.0)
    >>> f_jvp(3.0)
    np.float64(3.0)
    """
    _check_callable(fun, "linearize")
    nums = tuple(range(len(primals)))
    leaves = tree_flatten(primals)[0]
    _check_differentiable(leaves, _leaf_names(primals, nums), "linearize", True, False)
    foreign = _backends.any_foreign(leaves)
    with _backends.guard(foreign):
        out, trace, values, inputs, _ = _trace_reverse(fun, primals, {}, nums)
    out_leaves, out_def = tree_flatten(out)
    out_values = [_strip(o, trace) for o in out_leaves]
    out_ids = [o._payload if _ours(o, trace) else None for o in out_leaves]
    tape = trace.tape

    def jvp_fn(*tangents: Any) -> Any:
        checked, _ = _check_like(tuple(tangents), tuple(primals), "tangent", "linearize")
        with _backends.guard(foreign or _backends.any_foreign(checked)):
            carried = forward_replay(tape, inputs, checked, out_ids)
            return _dask.streamed(tree_unflatten(out_def, [_deliver(t, v) for t, v in zip(carried, out_values)]))

    return _dask.streamed(tree_unflatten(out_def, [_plain(v) for v in out_values])), jvp_fn


# --- Jacobians ---------------------------------------------------------------------


def _chosen(
    args: tuple[Any, ...], argnums: Argnums, transform: str, holomorphic: bool = False
) -> tuple[tuple[int, ...], list[Any], PyTreeDef]:
    nums = _resolve_argnums(argnums, len(args), transform)
    leaves, treedef = _flatten_chosen(args, nums)
    if not _plainly_differentiable(leaves, holomorphic):
        _check_differentiable(leaves, _leaf_names(args, nums), transform, False, holomorphic)
    return nums, [_as_primal(leaf) for leaf in leaves], treedef


def _check_jacobian_dtype(value: Any, holomorphic: bool, transform: str, what: str) -> None:
    """JAX's rule: without ``holomorphic`` jacfwd needs real inputs and jacrev real outputs;
    with it, inputs and outputs must be complex."""
    kind = _value_dtype(value)
    if kind is None or kind.kind not in "fc":
        return
    if holomorphic and kind.kind != "c":
        raise _errors.holomorphic_real_values(transform, what, kind)
    if not holomorphic and kind.kind == "c":
        raise _errors.jacobian_of_complex(transform, what, kind)


def _assemble(per_input: list[Any], treedef: PyTreeDef, argnums: Argnums) -> Any:
    tree = tree_unflatten(treedef, per_input)
    return tree[0] if isinstance(argnums, (int, np.integer)) else tree


def jacfwd(
    fun: Callable[..., Any], argnums: Argnums = 0, *, has_aux: bool = False, holomorphic: bool = False
) -> Callable[..., Any]:
    """The Jacobian by forward mode, shape ``out.shape + in.shape``.

    All columns travel through one evaluation of ``fun`` as a batch of
    tangents (an extra leading axis), not one evaluation per column.
    Complex inputs need ``holomorphic=True`` (as in JAX).

    >>> import funcgrad as fg, numpy as np
    >>> fg.jacfwd(lambda x: x ** 2)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    _check_argnums_type(argnums, "jacfwd")
    _check_callable(fun, "jacfwd")

    @functools.wraps(fun)
    @_guard_foreign
    def jac_fun(*args: Any, **kwargs: Any) -> Any:
        nums, leaves, treedef = _chosen(args, argnums, "jacfwd", holomorphic)
        for leaf in leaves:
            _check_jacobian_dtype(leaf, holomorphic, "jacfwd", "input")
        sizes = [_size_of(leaf) for leaf in leaves]
        total = sum(sizes)
        tangents = []
        offset = 0
        for leaf, size in zip(leaves, sizes):
            kind = _value_dtype(leaf)
            if size == total:
                basis = np.eye(size, dtype=kind)
            else:
                basis = np.zeros((total, size), kind)
                basis[offset : offset + size] = np.eye(size, dtype=kind)
            seed = basis.reshape((total,) + _shape_of(leaf))
            # the identity over one vector stays symbolic: a matrix product with it is its other operand
            tangents.append(Identity(seed) if size == total and seed.ndim == 2 and not _backends.is_foreign(leaf) else seed)
            offset += size
        def call(*chosen_values: Any) -> Any:
            call_args = list(args)
            for n, value in zip(nums, chosen_values):
                call_args[n] = value
            return fun(*call_args, **kwargs)

        out, trace = _trace_forward(call, (), (), total, (leaves, treedef, tangents))
        out, aux = _split_aux(out, has_aux, "jacfwd")
        out_leaves, out_def = tree_flatten(out)
        results = []
        for o, batched in zip(out_leaves, _own_buffers([_tangent_out(o, trace) for o in out_leaves])):
            # (an output returned twice, or two outputs add's rule made one array: each gets a buffer of its own)
            value = _strip(o, trace)
            if holomorphic:
                _check_jacobian_dtype(value, True, "jacfwd", "output")
            out_shape = _shape_of(value)
            moved = _moveaxis_first_to_last(batched)
            blocks = []
            offset = 0
            for leaf, size in zip(leaves, sizes):
                block = moved[..., offset : offset + size] if size != total else moved
                blocks.append(_reshape(block, out_shape + _shape_of(leaf)))
                offset += size
            results.append(_assemble(blocks, treedef, argnums))
        jac = tree_unflatten(out_def, results)
        if has_aux:
            return jac, _strip_tree(aux, trace)
        return jac

    return jac_fun


def _moveaxis_first_to_last(value: Any) -> Any:
    return _shape.moveaxis(value, 0, -1)


def _reshape(value: Any, shape: tuple[int, ...]) -> Any:
    out = _shape.reshape(value, shape)
    return out if isinstance(out, Tracer) or _backends.is_foreign(out) else np.asarray(out)


def _guard_foreign(jac_fun: Callable[..., Any]) -> Callable[..., Any]:
    """Run a Jacobian transform under ``_backends.guard`` when some argument is a foreign array."""

    def guarded(*args: Any, **kwargs: Any) -> Any:
        if all(type(a) in _ARRAY_TYPES or type(a) is float for a in args):
            # plain NumPy arguments: nothing to guard (a Dask array closed over may still make a Dask Jacobian)
            return _dask.streamed(jac_fun(*args, **kwargs))
        with _backends.guard(_backends.any_foreign(tree_flatten(args)[0])):
            return _dask.streamed(jac_fun(*args, **kwargs))

    return guarded


def jacrev(
    fun: Callable[..., Any], argnums: Argnums = 0, *, has_aux: bool = False, holomorphic: bool = False
) -> Callable[..., Any]:
    """The Jacobian by reverse mode, shape ``out.shape + in.shape``.

    ``fun`` runs once; the whole identity basis of cotangents (one per
    output element, over every output leaf) goes through one backward sweep
    of the recording as a ``vmap`` batch, not one sweep per output row.
    Complex outputs need ``holomorphic=True`` (as in JAX).

    >>> import funcgrad as fg, numpy as np
    >>> fg.jacrev(lambda x: x[0] * x)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [2., 1.]])

    Raises ``TypeError`` for complex outputs without ``holomorphic=True`` or
    a non-differentiable argument, ``ValueError`` when ``argnums`` is out of range.
    """
    _check_argnums_type(argnums, "jacrev")
    _check_callable(fun, "jacrev")

    @functools.wraps(fun)
    @_guard_foreign
    def jac_fun(*args: Any, **kwargs: Any) -> Any:
        nums, leaves, treedef = _chosen(args, argnums, "jacrev", holomorphic)
        out, trace, primals, inputs, _ = _trace_reverse(fun, args, kwargs, nums, (leaves, treedef))
        out, aux = _split_aux(out, has_aux, "jacrev")
        out_leaves, out_def = tree_flatten(out)
        values = [_strip(o, trace) for o in out_leaves]
        for value in values:
            _check_jacobian_dtype(value, holomorphic, "jacrev", "output")
        nodes = [o._payload if _ours(o, trace) else None for o in out_leaves]
        rows, leading = _pull_basis(trace.tape, nodes, values, inputs, primals)
        trace.tape.clear()
        results = []
        offset = 0
        for value in values:
            out_shape = _shape_of(value)
            size = math.prod(out_shape)
            blocks = [_block(r, p, leading, offset, size, out_shape) for r, p in zip(rows, primals)]
            results.append(_assemble(blocks, treedef, argnums))
            offset += size
        jac = tree_unflatten(out_def, results)
        if has_aux:
            return jac, _strip_tree(aux, trace)
        return jac

    return jac_fun


def _pull_basis(
    tape: list[Any], nodes: list[int | None], values: list[Any], inputs: list[int], primals: list[Any]
) -> tuple[list[Any], bool]:
    """Each input's cotangents for the identity basis over all output elements, stacked: ``(total,) + in.shape``.

    The basis is one ``vmap`` batch through one backward sweep.  A single
    output element needs no batch (one plain sweep, as ``grad``): then the
    cotangents come without the leading axis, and the flag is False.
    """
    sizes = [math.prod(_shape_of(v)) for v in values]
    total = sum(sizes)
    if total == 0 or all(n is None for n in nodes):
        return [_zero_rows(p, total) for p in primals], True
    if total == 1:
        node = next(n for n in nodes if n is not None)
        value = values[nodes.index(node)]
        seed = np.ones(_shape_of(value), _value_dtype(value))
        seed = seed if seed.ndim else seed[()]
        cts = backward(tape, [(node, seed)], inputs, consume=True)
        return _deliver_all(cts, primals), False
    basis = []
    offset = 0
    for value, size in zip(values, sizes):
        seed = np.zeros((total, size), _value_dtype(value))
        seed[offset : offset + size] = np.eye(size, dtype=seed.dtype)
        basis.append(seed.reshape((total,) + _shape_of(value)))
        offset += size

    def pull(*cotangents: Any) -> list[Any]:
        seeds = [(n, c) for n, c in zip(nodes, cotangents) if n is not None]
        cts = backward(tape, seeds, inputs, consume=True)
        return [_deliver(c, p) for c, p in zip(cts, primals)]

    return _own_buffers(list(vmap(pull)(*basis))), True


def _block(rows: Any, primal: Any, leading: bool, offset: int, size: int, out_shape: tuple[int, ...]) -> Any:
    """One output leaf's block of the Jacobian from an input's stacked cotangents (no op where none is needed).

    Without ``leading`` the rows are the one cotangent of the single output element.
    """
    shape = out_shape + _shape_of(primal)
    if not leading and not size:
        return _reshape(_zero_rows(primal, 0), shape)
    if leading and (offset or size != _shape_of(rows)[0]):
        rows = rows[offset : offset + size]
    return rows if _shape_of(rows) == shape else _reshape(rows, shape)


def _zero_rows(primal: Any, total: int) -> Any:
    """``total`` zero cotangents of ``primal`` stacked, in the primal's backend."""
    rows = (total,) + _shape_of(primal)
    if _backends.is_foreign(full_lower(primal)):
        return np.broadcast_to(_zero_like(primal), rows)
    return np.zeros(rows, _value_dtype(primal))


jacobian = jacrev


def hessian(fun: Callable[..., Any], argnums: Argnums = 0, *, holomorphic: bool = False) -> Callable[..., Any]:
    """The Hessian, forward-over-reverse (``jacfwd(jacrev(fun))``), shape ``in.shape + in.shape``.

    >>> import funcgrad as fg, numpy as np
    >>> fg.hessian(lambda x: np.sum(x ** 3))(np.array([1.0, 2.0]))
    array([[ 6.,  0.],
           [ 0., 12.]])
    """
    _check_argnums_type(argnums, "hessian")
    _check_callable(fun, "hessian")
    return jacfwd(jacrev(fun, argnums, holomorphic=holomorphic), argnums, holomorphic=holomorphic)
