"""Registry-wide: ``vmap`` of every surface function equals a Python loop over slices, stacked.

Every case of tests/test_surface.py's TABLE (with tests/test_jit_registry.py's
EXTRA, which between them call every differentiable primitive of
``funcgrad._rules.REGISTRY``; the last test checks that each of them is
batched) and the array-valued functions of its NONDIFF list is mapped with
``fg.vmap`` over a batch of perturbed copies of its arguments and compared
with the loop ``numpy.stack([f(*slice_k) for k])``: values (float64 to
1e-12, float32 to 1e-5), dtypes and shapes.  Each runs at several
``in_axes``: all 0, all -1 (with ``out_axes=-1``), 1 where the rank allows,
``None`` for the first argument, a mix of -1/None/1/0, and a batch of size
0; in float64, float32 and complex128 where the function allows.  Its
gradient (``vmap(grad(loss∘f))``) and its JVP with batched tangents
(``vmap(jvp)``) are checked against loops the same way.

The default run takes the first case of each function at a representative
subset of axes; ``-m slow`` runs the whole table at every axis, dtype and mode.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from conftest import first_case_of_each
from scipy_cases import SCIPY
from test_jit_registry import ALL, _registered
from test_surface import NONDIFF, XN, _cast, _scalar_loss

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import _batching
from funcgrad.tree import tree_flatten

BATCH = 3
AXES = ("axis0", "axis_last", "axis1", "none_first", "mixed", "empty")
KINDS = ("float64", "float32", "complex128")
MODES = ("value", "grad", "jvp")

_SCIPY_FLOAT32 = (
    "funcgrad.scipy on float32: a plain call is SciPy's own (a float64 result), a traced call keeps float32, so the "
    "loop and vmap differ in dtype (the decision documented in docs/scipy.md, as JAX keeps float32; not a batching fault)"
)

#: the funcgrad.scipy functions whose traced call gives SciPy's dtype (they call SciPy per example, or promote alike)
_SCIPY_DTYPE_KEPT = ("stats.poisson.", "stats.dirichlet.", "stats.multivariate_normal.cdf")


def known_gap(name: str, kind: str, mode: str) -> str | None:
    """Why this case fails today (a strict xfail: it fails here once fixed, until removed), or None."""
    plain_loop = mode == "value"  # the loop of grad or jvp is traced too, and keeps float32 as vmap does
    scipy = name.startswith(("stats.", "special.multigammaln")) and not name.startswith(_SCIPY_DTYPE_KEPT)
    if kind == "float32" and plain_loop and scipy:
        return _SCIPY_FLOAT32
    return None


def _slices(arg: Any, seed: int, size: int) -> np.ndarray[Any, Any]:
    """``size`` copies of ``arg`` stacked on a new axis 0, each scaled elementwise by a factor in [0.8, 1.2].

    Scaling keeps each argument's domain (signs, zeros, NaNs, distance from 0), so every slice is a valid input;
    the factors are symmetric for a symmetric matrix, and a probability vector is scaled back onto the simplex.
    """
    value = np.asarray(arg, np.float64)
    rng = np.random.default_rng([seed, value.size])
    spread = 0.1 * np.arange(size).reshape((size,) + (1,) * value.ndim)
    factors = 1.0 + spread * rng.uniform(-1, 1, (size,) + value.shape)
    if value.ndim >= 2 and value.shape[-1] == value.shape[-2] and np.allclose(value, np.swapaxes(value, -1, -2)):
        factors = (factors + np.swapaxes(factors, -1, -2)) / 2
    out = value * factors
    if value.ndim and np.all(value >= 0) and np.allclose(np.sum(value, axis=-1), 1.0):
        out = out / np.sum(out, axis=-1, keepdims=True)
    return out


def _in_axes(ranks: list[int], axes: str) -> tuple[Any, ...] | None:
    """Each argument's mapped axis for the variant ``axes`` (its rank is that of one example), or None if not applicable."""
    n = len(ranks)
    if axes in ("axis0", "empty"):
        return (0,) * n
    if axes == "axis_last":
        return (-1,) * n
    if axes == "axis1":
        return tuple(1 if r >= 1 else 0 for r in ranks) if max(ranks) >= 1 else None
    if axes == "none_first":
        return (None,) + (0,) * (n - 1) if n > 1 else None
    mix = (-1, None, 1, 0)  # the third argument at axis 1, or 0 for a scalar example
    return tuple(mix[i % 4] if mix[i % 4] != 1 or r >= 1 else 0 for i, r in enumerate(ranks))


def _batched_args(
    args: tuple[Any, ...], in_axes: tuple[Any, ...], size: int, kind: str
) -> tuple[list[Any], list[tuple[Any, ...]]]:
    """The arguments of the vmapped call (batch at each ``in_axes`` entry), and each example's arguments."""
    stacks = [_slices(a, i, size) for i, a in enumerate(args)]
    cast = _cast(tuple(stacks), kind)
    plain = _cast(args, kind)
    call, examples = [], []
    for a, stack, axis in zip(plain, cast, in_axes):
        call.append(a if axis is None else np.moveaxis(stack, 0, axis))
    for k in range(size):
        examples.append(tuple(a if axis is None else stack[k] for a, stack, axis in zip(plain, cast, in_axes)))
    return call, examples


def _mode(fn: Callable[..., Any], nargs: int, mode: str) -> Callable[..., Any]:
    """The function mapped: ``fn`` itself, its gradient, or its JVP (tangents are the trailing arguments)."""
    plain = lambda *a: fn(fnp, *a)  # noqa: E731
    if mode == "value":
        return plain
    if mode == "grad":
        return fg.grad(_scalar_loss(plain), argnums=tuple(range(nargs)))
    return lambda *a: fg.jvp(plain, a[:nargs], a[nargs:])


def _run(fun: Callable[..., Any], *args: Any) -> Any:
    """``fun(*args)``'s leaves, or the exception it raised."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return tree_flatten(fun(*args))[0]
    except Exception as error:  # noqa: BLE001  (compared, not hidden: the loop must raise the same)
        return error


def _stacked(per_example: list[Any], example_out: Any, out_axis: int) -> list[np.ndarray[Any, Any]]:
    """The loop's answer: each output leaf stacked over the examples, the batch axis moved to ``out_axis``."""
    if not per_example:
        return [
            np.moveaxis(np.zeros((0,) + np.shape(leaf), np.asarray(leaf).dtype), 0, out_axis) for leaf in example_out
        ]
    return [
        np.moveaxis(np.stack([np.asarray(out[j]) for out in per_example]), 0, out_axis) for j in range(len(example_out))
    ]


def _tolerance(kind: str) -> float:
    return 1e-5 if kind == "float32" else 1e-12


def _vmapped(
    fn: Callable[..., Any], args: tuple[Any, ...], axes: str, kind: str, mode: str
) -> tuple[Callable[..., Any], Callable[..., Any], list[Any], list[tuple[Any, ...]], tuple[Any, ...], int]:
    """``(fun, vmap of fun, its batched arguments, each example's arguments, one example, out_axes)`` for a variant."""
    ranks = [np.ndim(a) for a in args]
    in_axes = _in_axes(ranks, axes)
    assert in_axes is not None, f"{axes} does not apply to {len(args)} argument(s) of ranks {ranks}"
    size = 0 if axes == "empty" else BATCH
    out_axis = -1 if axes == "axis_last" else 0
    fun = _mode(fn, len(args), mode)
    if mode == "jvp":  # the tangents are mapped as their primals are
        args = args + tuple(np.cos(np.arange(np.size(a)) + 1.0).reshape(np.shape(a)) for a in args)
        in_axes = in_axes + in_axes
    call, examples = _batched_args(args, in_axes, size, kind)
    return fun, fg.vmap(fun, in_axes=in_axes, out_axes=out_axis), call, examples, _cast(args, kind), out_axis


def check(fn: Callable[..., Any], args: tuple[Any, ...], axes: str, kind: str, mode: str) -> None:
    """``vmap`` of ``fn`` (in ``mode``) at the variant ``axes`` equals the loop over slices: values, dtypes, shapes."""
    fun, vmapped, call, examples, example, out_axis = _vmapped(fn, args, axes, kind, mode)
    example_out = _run(fun, *example)
    assert not isinstance(example_out, Exception), f"the table's own arguments raise {example_out!r}"
    per_example = [_run(fun, *e) for e in examples]
    got = _run(vmapped, *call)
    refused = [out for out in per_example if isinstance(out, Exception)]
    if refused:  # an example the function refuses: the batch is refused the same way
        assert type(got) is type(refused[0]), f"the loop raises {refused[0]!r}; vmap gives {got!r}"
        return
    assert not isinstance(got, Exception), f"vmap raised {type(got).__name__}: {got}; the loop over slices does not"
    want = _stacked(per_example, example_out, out_axis)
    assert len(got) == len(want), (len(got), len(want))
    tol = _tolerance(kind)
    for j, (g, w) in enumerate(zip(got, want)):
        assert type(g) is np.ndarray, f"output {j}: {type(g).__name__}, not a plain ndarray"
        assert g.dtype == w.dtype, f"output {j}: dtype {g.dtype} != loop's {w.dtype}"
        assert g.shape == w.shape, f"output {j}: shape {g.shape} != loop's {w.shape}"
        scale = float(np.max(np.abs(w[np.isfinite(w)]), initial=1.0)) if w.dtype.kind in "fc" else 0.0
        if w.dtype.kind in "fc":
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol * scale, equal_nan=True, err_msg=f"output {j}")
        else:
            np.testing.assert_array_equal(g, w, err_msg=f"output {j}")


def _wanted(name: str, kind: str, flags: str) -> bool:
    if kind == "complex128":
        return "c" in flags
    return kind == "float64" or "-32" not in flags


#: the non-differentiable functions of tests/test_surface.py whose result's shape depends on its values: refused
DATA_DEPENDENT_SHAPE = [(name, fn) for name, fn in NONDIFF if name.startswith(("nonzero", "where-one_argument"))]
#: the other non-differentiable functions of tests/test_surface.py whose results are arrays (not Python ints or bools)
VALUES_ONLY = [
    (name, fn, (XN,), "")
    for name, fn in NONDIFF
    if (name, fn) not in DATA_DEPENDENT_SHAPE
    and all(isinstance(leaf, (np.ndarray, np.generic)) for leaf in tree_flatten(fn(np, XN))[0])
]
#: cases whose output shape is read from the values (lstsq has residuals at full rank only): a batch of no
#: examples has no such shape, so they skip the 0-size batch
SHAPE_FROM_VALUES = {"lstsq-mat_residuals"}
#: an empty batch takes its output shape from a stand-in example of zeros or identity matrices; as band
#: storage ``ab`` both are singular matrices, so vmap of solve_banded over no examples raises LinAlgError
SINGULAR_STAND_IN = {"linalg.solve_banded"}
#: primitives no case reaches outside a known gap (the coverage test names them when that changes)
#: (``multiply_operator`` is ``*`` of complex NumPy scalars: a batched operand is an array, so ``multiply``;
#: ``dot`` is ``numpy.dot`` of complex operands, which these float64 cases never are: tests/test_jit_values.py batches it)
UNREACHED: set[str] = {"multiply_operator", "dot"}


def _family(name: str) -> str:
    """The function a case tests; for funcgrad.scipy.stats, its distribution (its methods share a code path)."""
    family = name.split("-")[0]
    return ".".join(family.split(".")[:2]) if family.startswith("stats.") else family


FIRST = first_case_of_each((name for name, *_ in ALL + VALUES_ONLY), _family)
#: the default run: the first case of each function at all axes 0, -1, a mix and a 0-size batch in float64, its
#: float32 and complex runs at axis 0, its gradient at a mix of axes and its JVP at axis -1; every case, axis, dtype
#: and mode runs with ``-m slow``
DEFAULT = {("axis0", "float64", "value"), ("mixed", "float64", "value"), ("axis_last", "float64", "value"),
           ("empty", "float64", "value"), ("axis0", "float32", "value"), ("axis0", "complex128", "value"),
           ("mixed", "float64", "grad"), ("axis_last", "float64", "jvp")}  # fmt: skip


def _marks(name: str, axes: str, kind: str, mode: str) -> list[Any]:
    marks = [] if name in FIRST and (axes, kind, mode) in DEFAULT else [pytest.mark.slow]
    reason = known_gap(name, kind, mode)
    if reason:
        marks.append(pytest.mark.xfail(reason=reason, strict=True))
    return marks


CASES = [
    pytest.param(fn, args, axes, kind, mode, id=f"{name}-{axes}-{kind}-{mode}", marks=_marks(name, axes, kind, mode))
    for table, modes in ((ALL, MODES), (VALUES_ONLY, ("value",)))
    for name, fn, args, flags in table
    for kind in KINDS
    if _wanted(name, kind, flags)
    for axes in AXES
    if _in_axes([np.ndim(a) for a in args], axes) is not None and not (axes == "empty" and name in SHAPE_FROM_VALUES | SINGULAR_STAND_IN)
    for mode in modes
]


@pytest.mark.parametrize(("fn", "args", "axes", "kind", "mode"), CASES)
def test_vmap_equals_a_loop_over_slices(
    fn: Callable[..., Any], args: tuple[Any, ...], axes: str, kind: str, mode: str
) -> None:
    check(fn, args, axes, kind, mode)


def test_the_table_batches_every_primitive(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every differentiable primitive of funcgrad.numpy (and every one of funcgrad.scipy) meets a batched operand."""
    seen: set[str] = set()
    process = _batching.BatchTrace.process

    def spy(self: _batching.BatchTrace, prim: Any, args: tuple[Any, ...], params: dict[str, Any]) -> Any:
        seen.add(prim.name)
        return process(self, prim, args, params)

    monkeypatch.setattr(_batching.BatchTrace, "process", spy)
    for name, fn, args, _ in ALL:
        for mode in MODES:
            vmapped, call = _vmapped(fn, args, "axis0", "float64", mode)[1:3]
            if isinstance(_run(vmapped, *call), Exception):  # a known gap: what it reached counts
                assert known_gap(name, "float64", mode), (name, mode)
    expected = _registered()
    if SCIPY:
        expected |= _registered(
            tuple(f"funcgrad.scipy.{m}" for m in ("special", "linalg", "signal")), differentiable=False
        )
    missing = expected - seen
    assert missing == UNREACHED, (
        f"differentiable primitives no vmap case batches: {sorted(missing - UNREACHED)}, add a case to the table; "
        f"reached now, remove from UNREACHED: {sorted(UNREACHED - missing)}"
    )


@pytest.mark.parametrize(("fn",), [pytest.param(fn, id=name) for name, fn in DATA_DEPENDENT_SHAPE])
def test_a_shape_read_from_the_values_is_refused_by_name(fn: Callable[..., Any]) -> None:
    """Each example's result has its own shape, so the batch has none (as jax.vmap); a loop over slices runs."""
    with pytest.raises(TypeError, match="nonzero returns an array whose shape depends on each example's values"):
        fg.vmap(lambda x: fn(fnp, x))(np.stack([XN, 2 * XN]))
