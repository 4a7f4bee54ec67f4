"""Audit of the differentiable NumPy surface (issue 4), one line per function.

In the style of autograd's ``combo_check``: every entry of ``TABLE`` names a
case, a function written against a NumPy-like namespace ``ns`` (run once as
``funcgrad.numpy``, once as plain ``numpy`` on traced values) and arguments
drawn from the function's domain.  Each entry is checked for

(i)   forward and reverse derivatives to second order against finite
      differences (``check_grads``), spelled with ``funcgrad.numpy``;
(ii)  the same derivatives when spelled with plain ``numpy`` (dispatch through
      ``__array_ufunc__``/``__array_function__``), and ``jacfwd`` (batched
      forward rules) equal to ``jacrev``;
(iii) on plain arrays, exactly NumPy's value and dtype.

Every entry runs in float64; float32 (looser tolerances) and complex128 for
the entries that allow them.  Non-differentiable functions, the names listed
in the issue, functional updates not covered by tests/test_at.py, plain NumPy
programs and unsupported functions follow the table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads
from funcgrad.tree import tree_flatten

_RNG = np.random.default_rng(20261123)


def _section(name: str) -> None:
    """Restart the random stream, so adding a case to one section leaves the others' data alone."""
    global _RNG
    _RNG = np.random.default_rng([20261123, *name.encode()])


def U(*shape: int, lo: float = -2.0, hi: float = 2.0) -> Any:
    """Uniform values in ``[lo, hi]``; a NumPy scalar for ``shape == ()``."""
    out = _RNG.uniform(lo, hi, shape)
    return out if shape else out[()]


def P(*shape: int) -> Any:
    """Positive values away from zero."""
    return U(*shape, lo=0.5, hi=2.0)


def A(*shape: int) -> Any:
    """Values bounded away from zero, either sign."""
    return np.where(_RNG.random(shape) < 0.5, -1.0, 1.0) * P(*shape)


def FRAC(*shape: int) -> Any:
    """Values whose fractional part is far from 0 and 1/2 (rounding is locally constant)."""
    out = _RNG.integers(-3, 3, shape) + _RNG.uniform(0.15, 0.35, shape)
    return out if shape else out[()]


def GEN(*shape: int) -> Any:
    """Well-conditioned square matrices (a stack when ``len(shape) > 2``)."""
    return U(*shape, lo=-0.5, hi=0.5) + 2.0 * np.eye(shape[-1])


def SPD(*shape: int) -> Any:
    """Symmetric positive definite matrices with distinct eigenvalues."""
    a = U(*shape, lo=-0.5, hi=0.5)
    return a @ np.swapaxes(a, -1, -2) + np.diag(np.arange(1.0, shape[-1] + 1))


def SYM(m: Any) -> Any:
    return (m + np.swapaxes(m, -1, -2)) / 2


def NAN(*shape: int) -> Any:
    """Values with one NaN."""
    out = U(*shape)
    out.flat[1] = np.nan
    return out


def MOD_X(y: Any) -> Any:
    """``x`` with ``x / y`` far from integers, so ``mod(x, y)`` is smooth there."""
    return y * FRAC(*np.shape(y)) * 2.0


Y_MOD = P(2, 3)

# (case id, function of (ns, *args), args, flags): flags "c" adds a complex128 run,
# "-32" drops the float32 run
Case = tuple[str, Callable[..., Any], tuple[Any, ...], str]


def unary(name: str, gen: Callable[..., Any], flags: str = "", call: Callable[..., Any] | None = None) -> list[Case]:
    """A unary elementwise function over scalar, vector and matrix shapes."""
    fn = call or (lambda ns, x: getattr(ns, name)(x))
    return [(f"{name}-{s}", fn, (gen(*shape),), flags) for s, shape in (("scalar", ()), ("vec", (3,)), ("mat", (2, 3)))]


def GRID_A(*shape: int) -> Any:
    """Values on a grid offset by 0.03 (never within 0.04 of a ``GRID_B`` value: no near ties)."""
    return np.round(U(*shape), 1) + 0.03


def GRID_B(*shape: int) -> Any:
    return np.round(U(*shape), 1) + 0.07


def binary(name: str, gx: Callable[..., Any], gy: Callable[..., Any], flags: str = "") -> list[Case]:
    """A binary elementwise function over scalar, vector and two broadcasting shape pairs."""
    fn = lambda ns, x, y: getattr(ns, name)(x, y)  # noqa: E731
    shapes = (("scalar", (), ()), ("vec", (3,), (3,)), ("mat_vec", (2, 3), (3,)), ("col_row", (2, 1), (1, 3)))
    return [(f"{name}-{s}", fn, (gx(*sx), gy(*sy)), flags) for s, sx, sy in shapes]


_section("ELEMENTWISE")
ELEMENTWISE: list[Case] = [
    *unary("sin", U, "c"), *unary("cos", U, "c"), *unary("tan", lambda *s: U(*s, lo=-1, hi=1), "c"),
    *unary("arcsin", lambda *s: U(*s, lo=-0.8, hi=0.8), "c"), *unary("arccos", lambda *s: U(*s, lo=-0.8, hi=0.8), "c"),
    *unary("arctan", U, "c"), *unary("sinh", U, "c"), *unary("cosh", U, "c"), *unary("tanh", U, "c"),
    *unary("arcsinh", U, "c"), *unary("arccosh", lambda *s: U(*s, lo=1.3, hi=3.0), "c"),
    *unary("arctanh", lambda *s: U(*s, lo=-0.8, hi=0.8), "c"),
    *unary("exp", U, "c"), *unary("exp2", U, "c"), *unary("expm1", U, "c"),
    *unary("log", P, "c"), *unary("log2", P, "c"), *unary("log10", P, "c"),
    *unary("log1p", lambda *s: U(*s, lo=-0.5, hi=2.0), "c"), *unary("sqrt", P, "c"), *unary("cbrt", A),
    *unary("square", U, "c"), *unary("reciprocal", A, "c"), *unary("sinc", U, "c"),
    *unary("deg2rad", lambda *s: U(*s, lo=-90, hi=90)), *unary("rad2deg", U),
    *unary("sign", A), *unary("abs", A, "c"), *unary("absolute", A, "c"), *unary("fabs", A),
    *unary("floor", FRAC), *unary("ceil", FRAC), *unary("round", FRAC), *unary("rint", FRAC), *unary("trunc", FRAC),
    *unary("nan_to_num", U, "c"), *unary("real", U, "c"), *unary("imag", U, "c"), *unary("conj", U, "c"),
    *unary("angle", A, "c"),
    *unary("clip", U, call=lambda ns, x: ns.clip(x, -1.5, 1.5)),
    *unary("round_decimals", FRAC, call=lambda ns, x: ns.round(x / 10, 1)),
    *binary("logaddexp", U, U), *binary("logaddexp2", U, U),
    *binary("power", P, U, "c"), *binary("float_power", P, U, "c"), *binary("true_divide", U, A, "c"),
    *binary("hypot", A, A), *binary("arctan2", U, A),
    *binary("maximum", GRID_A, GRID_B), *binary("minimum", GRID_B, GRID_A), *binary("fmax", GRID_A, GRID_B),
    *binary("fmin", GRID_B, GRID_A),
    *binary("heaviside", A, U),
    ("clip-traced_bounds", lambda ns, x, lo, hi: ns.clip(x, lo, hi), (U(2, 3), U(3, lo=-3, hi=-2.5), U(2, 1, lo=2.5, hi=3)), ""),  # noqa: E501
    ("power-int_exponent", lambda ns, x: ns.power(x, 3), (U(2, 3),), "c"),
    ("mod-mat_vec", lambda ns, x, y: ns.mod(x, y), (MOD_X(Y_MOD), Y_MOD[0]), "-32"),
    ("fmod-mat", lambda ns, x, y: ns.fmod(x, y), (-MOD_X(Y_MOD), Y_MOD), "-32"),
    ("remainder-mat", lambda ns, x, y: ns.remainder(x, y), (MOD_X(Y_MOD), Y_MOD), "-32"),
    ("abs-complex_mat", lambda ns, x: ns.abs(x * (1 + 0.5j)), (A(2, 3),), ""),
]  # fmt: skip

_section("REDUCTIONS")
REDUCTIONS: list[Case] = [
    ("sum-scalar", lambda ns, x: ns.sum(x), (U(),), "c"),
    ("sum-all", lambda ns, x: ns.sum(x), (U(2, 3),), "c"),
    ("sum-axis0", lambda ns, x: ns.sum(x, axis=0), (U(2, 3),), "c"),
    ("sum-axis_neg_keepdims", lambda ns, x: ns.sum(x, axis=-1, keepdims=True), (U(2, 3),), ""),
    ("sum-axis_tuple", lambda ns, x: ns.sum(x, axis=(0, 2)), (U(2, 3, 2),), ""),
    ("mean-all", lambda ns, x: ns.mean(x), (U(3),), "c"),
    ("mean-axis1_keepdims", lambda ns, x: ns.mean(x, axis=1, keepdims=True), (U(2, 3),), ""),
    ("prod-all", lambda ns, x: ns.prod(x), (U(2, 3),), "c"),
    ("prod-axis0", lambda ns, x: ns.prod(x, axis=0), (U(3, 2),), ""),
    ("prod-one_zero", lambda ns, x: ns.prod(x, axis=-1), (np.array([[0.0, 1.5, -2.0], [0.7, 1.2, 0.9]]),), ""),
    ("prod-two_zeros", lambda ns, x: ns.prod(x), (np.array([0.0, 1.5, 0.0]),), ""),
    # fixed inputs (no draw from U's stream, which the saved JAX answers of later cases depend on)
    ("logaddexp.reduce-axis1", lambda ns, x: ns.logaddexp.reduce(x, axis=1), (np.array([[0.3, -0.7, 1.1], [0.4, 2.0, -1.3]]),), ""),
    ("logaddexp2.reduce-all", lambda ns, x: ns.logaddexp2.reduce(x, axis=None), (np.array([[1.2, -0.4], [0.1, 0.9]]),), ""),
    ("max-all", lambda ns, x: ns.max(x), (U(2, 3),), ""),
    ("max-axis0", lambda ns, x: ns.max(x, axis=0), (U(2, 3),), ""),
    ("min-axis1_keepdims", lambda ns, x: ns.min(x, axis=1, keepdims=True), (U(2, 3),), ""),
    ("amax-axis_tuple", lambda ns, x: ns.amax(x, axis=(0, 1)), (U(2, 3, 2),), ""),
    ("amin-vec", lambda ns, x: ns.amin(x), (U(4),), ""),
    ("var-all", lambda ns, x: ns.var(x), (U(2, 3),), "c"),
    ("var-axis0_ddof1", lambda ns, x: ns.var(x, axis=0, ddof=1), (U(3, 2),), ""),
    ("std-all", lambda ns, x: ns.std(x), (U(4),), ""),
    ("std-axis1_ddof1_keepdims", lambda ns, x: ns.std(x, axis=1, ddof=1, keepdims=True), (U(2, 3),), ""),
    ("cumsum-flat", lambda ns, x: ns.cumsum(x), (U(2, 3),), "c"),
    ("cumsum-axis1", lambda ns, x: ns.cumsum(x, axis=1), (U(2, 3),), ""),
    ("cumprod-flat", lambda ns, x: ns.cumprod(x), (U(4),), "c"),
    ("cumprod-axis0_zero", lambda ns, x: ns.cumprod(x, axis=0), (np.array([[0.5, 0.0], [1.5, 2.0], [0.0, -1.0]]),), ""),  # noqa: E501
    ("nansum-all", lambda ns, x: ns.nansum(x), (NAN(2, 3),), ""),
    ("nansum-axis0", lambda ns, x: ns.nansum(x, axis=0), (NAN(2, 3),), ""),
    ("nanmean-axis1", lambda ns, x: ns.nanmean(x, axis=1), (NAN(2, 3),), ""),
    ("nanvar-all_ddof1", lambda ns, x: ns.nanvar(x, ddof=1), (NAN(2, 3),), ""),
    ("nanstd-axis0_keepdims", lambda ns, x: ns.nanstd(x, axis=0, keepdims=True), (NAN(3, 2),), ""),
    ("median-odd", lambda ns, x: ns.median(x), (U(3),), ""),
    ("median-even_axis0", lambda ns, x: ns.median(x, axis=0), (U(4, 2),), ""),
    ("median-axis1_keepdims", lambda ns, x: ns.median(x, axis=1, keepdims=True), (U(2, 3),), ""),
    ("average-plain", lambda ns, x: ns.average(x), (U(2, 3),), ""),
    ("average-weights", lambda ns, x, w: ns.average(x, axis=1, weights=w), (U(2, 3), P(3)), ""),
    ("average-weights_full", lambda ns, x, w: ns.average(x, weights=w), (U(2, 3), P(2, 3)), ""),
    ("ptp-all", lambda ns, x: ns.ptp(x), (U(2, 3),), ""),
    ("ptp-axis0", lambda ns, x: ns.ptp(x, axis=0), (U(3, 2),), ""),
    ("diff-vec", lambda ns, x: ns.diff(x), (U(4),), "c"),
    ("diff-n2_axis0", lambda ns, x: ns.diff(x, n=2, axis=0), (U(4, 2),), ""),
    ("trapezoid-vec", lambda ns, y: ns.trapezoid(y), (U(4),), ""),
    ("trapezoid-x_axis0", lambda ns, y, x: ns.trapezoid(y, x, axis=0), (U(3, 2), np.array([0.0, 0.4, 1.1])), ""),
    ("trapezoid-dx", lambda ns, y: ns.trapezoid(y, dx=0.3), (U(2, 3),), ""),
]  # fmt: skip

_section("SHAPE")
SHAPE: list[Case] = [
    ("reshape", lambda ns, x: ns.reshape(x, (3, 2)), (U(2, 3),), "c"),
    ("reshape-minus1", lambda ns, x: ns.reshape(x, (-1,)), (U(2, 3),), ""),
    ("ravel", lambda ns, x: ns.ravel(x), (U(2, 3),), ""),
    ("squeeze", lambda ns, x: ns.squeeze(x), (U(2, 1, 3),), ""),
    ("squeeze-axis", lambda ns, x: ns.squeeze(x, axis=1), (U(2, 1, 1),), ""),
    ("expand_dims", lambda ns, x: ns.expand_dims(x, -1), (U(2, 3),), ""),
    ("expand_dims-tuple", lambda ns, x: ns.expand_dims(x, (0, 2)), (U(3),), ""),
    ("transpose", lambda ns, x: ns.transpose(x), (U(2, 3),), "c"),
    ("transpose-axes", lambda ns, x: ns.transpose(x, (1, 2, 0)), (U(2, 3, 2),), ""),
    ("moveaxis", lambda ns, x: ns.moveaxis(x, 0, -1), (U(2, 3, 2),), ""),
    ("swapaxes", lambda ns, x: ns.swapaxes(x, 0, 2), (U(2, 3, 2),), ""),
    ("broadcast_to", lambda ns, x: ns.broadcast_to(x, (2, 3)), (U(3),), "c"),
    ("broadcast_to-scalar", lambda ns, x: ns.broadcast_to(x, (2,)), (U(),), ""),
    ("atleast_1d", lambda ns, x: ns.atleast_1d(x), (U(),), ""),
    ("atleast_2d", lambda ns, x: ns.atleast_2d(x), (U(3),), ""),
    ("atleast_3d", lambda ns, x: ns.atleast_3d(x), (U(2, 3),), ""),
    ("atleast_2d-many", lambda ns, x, y: ns.atleast_2d(x, y), (U(), U(3)), ""),
    ("repeat", lambda ns, x: ns.repeat(x, 2), (U(3),), ""),
    ("repeat-axis_counts", lambda ns, x: ns.repeat(x, [1, 0, 2], axis=1), (U(2, 3),), ""),
    ("tile", lambda ns, x: ns.tile(x, (2, 1)), (U(3),), ""),
    ("flip", lambda ns, x: ns.flip(x), (U(2, 3),), ""),
    ("flip-axis", lambda ns, x: ns.flip(x, axis=1), (U(2, 3),), ""),
    ("fliplr", lambda ns, x: ns.fliplr(x), (U(2, 3),), ""),
    ("flipud", lambda ns, x: ns.flipud(x), (U(2, 3),), ""),
    ("rot90", lambda ns, x: ns.rot90(x), (U(2, 3),), ""),
    ("rot90-k3_axes", lambda ns, x: ns.rot90(x, 3, axes=(1, 2)), (U(2, 3, 2),), ""),
    ("roll", lambda ns, x: ns.roll(x, 1), (U(2, 3),), ""),
    ("roll-axis", lambda ns, x: ns.roll(x, -1, axis=0), (U(3, 2),), ""),
    ("pad-constant", lambda ns, x: ns.pad(x, 1), (U(2, 3),), "c"),
    ("pad-constant_value", lambda ns, x: ns.pad(x, ((1, 0), (0, 2)), constant_values=3.0), (U(2, 3),), ""),
    ("pad-edge", lambda ns, x: ns.pad(x, 2, mode="edge"), (U(3),), ""),
    ("pad-reflect", lambda ns, x: ns.pad(x, 2, mode="reflect"), (U(3),), ""),
    ("pad-symmetric", lambda ns, x: ns.pad(x, (1, 2), mode="symmetric"), (U(2, 3),), ""),
    ("pad-wrap", lambda ns, x: ns.pad(x, 2, mode="wrap"), (U(3),), ""),
    ("concatenate", lambda ns, x, y: ns.concatenate([x, y]), (U(2, 3), U(1, 3)), "c"),
    ("concatenate-axis1", lambda ns, x, y: ns.concatenate((x, y), axis=1), (U(2, 3), U(2, 1)), ""),
    ("concatenate-none", lambda ns, x, y: ns.concatenate((x, y), axis=None), (U(2, 3), U(2)), ""),
    ("stack", lambda ns, x, y: ns.stack([x, y]), (U(3), U(3)), ""),
    ("stack-axis_neg", lambda ns, x, y: ns.stack([x, y], axis=-1), (U(2, 3), U(2, 3)), ""),
    ("hstack", lambda ns, x, y: ns.hstack([x, y]), (U(3), U(2)), ""),
    ("vstack", lambda ns, x, y: ns.vstack([x, y]), (U(3), U(2, 3)), ""),
    ("dstack", lambda ns, x, y: ns.dstack([x, y]), (U(2, 3), U(2, 3)), ""),
    ("column_stack", lambda ns, x, y: ns.column_stack([x, y]), (U(3), U(3, 2)), ""),
    ("split", lambda ns, x: ns.split(x, 2), (U(4, 2),), ""),
    ("split-indices_axis", lambda ns, x: ns.split(x, [1, 2], axis=1), (U(2, 4),), ""),
    ("array_split", lambda ns, x: ns.array_split(x, 3), (U(4),), ""),
    ("hsplit", lambda ns, x: ns.hsplit(x, 2), (U(2, 4),), ""),
    ("vsplit", lambda ns, x: ns.vsplit(x, [1]), (U(3, 2),), ""),
    ("diag-vec", lambda ns, x: ns.diag(x), (U(3),), "c"),
    ("diag-vec_k", lambda ns, x: ns.diag(x, k=-1), (U(2),), ""),
    ("diag-mat", lambda ns, x: ns.diag(x), (U(3, 3),), ""),
    ("diag-mat_k", lambda ns, x: ns.diag(x, 1), (U(2, 3),), ""),
    ("diagonal", lambda ns, x: ns.diagonal(x), (U(3, 3),), ""),
    ("diagonal-offset_axes", lambda ns, x: ns.diagonal(x, offset=-1, axis1=2, axis2=0), (U(3, 2, 3),), ""),
    ("trace", lambda ns, x: ns.trace(x), (U(3, 3),), "c"),
    ("trace-offset_axes", lambda ns, x: ns.trace(x, 1, axis1=1, axis2=2), (U(2, 3, 3),), ""),
    ("triu", lambda ns, x: ns.triu(x), (U(3, 3),), ""),
    ("triu-k_stack", lambda ns, x: ns.triu(x, k=1), (U(2, 3, 3),), ""),
    ("tril", lambda ns, x: ns.tril(x, -1), (U(3, 2),), ""),
    ("tril-vec", lambda ns, x: ns.tril(x), (U(3),), ""),
    ("take", lambda ns, x: ns.take(x, [2, 0, 2]), (U(2, 3),), ""),
    ("take-axis", lambda ns, x: ns.take(x, np.array([[1, 1], [0, 2]]), axis=1), (U(2, 3),), ""),
    ("take_along_axis", lambda ns, x: ns.take_along_axis(x, np.array([[2, 0, 2], [1, 1, 0]]), axis=1), (U(2, 3),), ""),  # noqa: E501
    ("take_along_axis-none", lambda ns, x: ns.take_along_axis(x, np.array([5, 0, 5]), axis=None), (U(2, 3),), ""),
    ("sort", lambda ns, x: ns.sort(x), (U(2, 3),), ""),
    ("sort-axis0", lambda ns, x: ns.sort(x, axis=0), (U(3, 2),), ""),
    ("sort-none", lambda ns, x: ns.sort(x, axis=None), (U(2, 3),), ""),
    ("where-mask", lambda ns, x, y: ns.where(np.array([True, False, True]), x, y), (U(2, 3), U(3)), "c"),
    ("where-scalar_branch", lambda ns, x: ns.where(np.array([[True], [False]]), x, 0.0), (U(2, 3),), ""),
    ("where-traced_cond", lambda ns, x: ns.where(x > 0, x, -x), (A(2, 3),), ""),
    ("select", lambda ns, x, y: ns.select([np.array([True, False, False]), np.array([False, True, False])], [x, y], 0.5), (U(2, 3), U(3)), ""),  # noqa: E501
    ("select-traced_default", lambda ns, x, d: ns.select([x > 0], [x], d), (A(2, 3), U(3)), ""),
    ("interp-fp", lambda ns, fp: ns.interp(np.array([0.3, 1.7, 2.5, -1.0]), np.array([0.0, 1.0, 2.0]), fp), (U(3),), ""),  # noqa: E501
    ("interp-x", lambda ns, x: ns.interp(x, np.array([0.0, 1.0, 2.0]), np.array([1.0, -1.0, 2.0])), (np.array([0.3, 1.7, 1.2]),), ""),  # noqa: E501
    ("interp-x_and_fp", lambda ns, x, fp: ns.interp(x, np.array([0.0, 1.0, 2.0]), fp), (np.array([0.3, 1.7]), U(3)), ""),  # noqa: E501
    ("meshgrid", lambda ns, x, y: ns.meshgrid(x, y), (U(3), U(2)), ""),
    ("meshgrid-ij", lambda ns, x, y: ns.meshgrid(x, y, indexing="ij"), (U(3), U(2)), ""),
]  # fmt: skip

_section("CONTRACTIONS")
CONTRACTIONS: list[Case] = [
    ("dot-scalar", lambda ns, x, y: ns.dot(x, y), (U(), U(3)), "c"),
    ("dot-vec_vec", lambda ns, x, y: ns.dot(x, y), (U(3), U(3)), "c"),
    ("dot-mat_vec", lambda ns, x, y: ns.dot(x, y), (U(2, 3), U(3)), ""),
    ("dot-mat_mat", lambda ns, x, y: ns.dot(x, y), (U(2, 3), U(3, 2)), "c"),
    ("dot-3d_2d", lambda ns, x, y: ns.dot(x, y), (U(2, 2, 3), U(3, 2)), ""),
    ("vdot", lambda ns, x, y: ns.vdot(x, y), (U(3), U(3)), "c"),
    ("vdot-mat", lambda ns, x, y: ns.vdot(x, y), (U(2, 2), U(2, 2)), ""),
    ("inner-vec", lambda ns, x, y: ns.inner(x, y), (U(3), U(3)), "c"),
    ("inner-mat", lambda ns, x, y: ns.inner(x, y), (U(2, 3), U(2, 3)), ""),
    ("outer", lambda ns, x, y: ns.outer(x, y), (U(3), U(2)), "c"),
    ("outer-mat", lambda ns, x, y: ns.outer(x, y), (U(2, 2), U(2)), ""),
    ("matmul-mat", lambda ns, x, y: ns.matmul(x, y), (U(2, 3), U(3, 2)), "c"),
    ("matmul-vec_mat", lambda ns, x, y: ns.matmul(x, y), (U(3), U(3, 2)), ""),
    ("matmul-stack_broadcast", lambda ns, x, y: ns.matmul(x, y), (U(2, 1, 2, 3), U(3, 3, 2)), ""),
    ("matmul-operator", lambda ns, x, y: x @ y, (U(2, 3), U(3)), ""),
    ("tensordot-int", lambda ns, x, y: ns.tensordot(x, y, 1), (U(2, 3), U(3, 2)), "c"),
    ("tensordot-axes", lambda ns, x, y: ns.tensordot(x, y, axes=([0, 2], [1, 0])), (U(2, 3, 2), U(2, 2)), ""),
    ("tensordot-zero", lambda ns, x, y: ns.tensordot(x, y, 0), (U(2), U(3)), ""),
    ("einsum-matmul", lambda ns, x, y: ns.einsum("ij,jk->ik", x, y), (U(2, 3), U(3, 2)), "c"),
    ("einsum-trace", lambda ns, x: ns.einsum("ii", x), (U(3, 3),), ""),
    ("einsum-diag", lambda ns, x: ns.einsum("ii->i", x), (U(3, 3),), ""),
    ("einsum-ellipsis", lambda ns, x, y: ns.einsum("...ij,...j->...i", x, y), (U(2, 2, 3), U(3)), ""),
    ("einsum-three", lambda ns, x, y, z: ns.einsum("i,ij,j", x, y, z), (U(2), U(2, 3), U(3)), "c"),
    ("einsum-implicit_sum", lambda ns, x: ns.einsum("ij->", x), (U(2, 3),), ""),
    ("einsum-repeated_three", lambda ns, x, y: ns.einsum("ij,ij,jk->ik", x, x, y), (U(2, 3), U(3, 2)), ""),
    ("einsum-hadamard", lambda ns, x, y: ns.einsum("i,i->i", x, y), (U(3), U(3)), "c"),
    ("einsum-iji_to_j", lambda ns, x: ns.einsum("iji->j", x), (U(2, 3, 2),), ""),
    ("einsum-broadcast_stacks", lambda ns, x, y: ns.einsum("...ij,...jk->...ik", x, y), (U(2, 1, 2, 3), U(1, 2, 3, 2)), ""),  # noqa: E501
    ("einsum-interleaved", lambda ns, x, y: ns.einsum(x, [Ellipsis, 0], y, [0], [Ellipsis]), (U(2, 3), U(3)), ""),
    ("einsum-optimize", lambda ns, x, y, z: ns.einsum("ij,jk,k->i", x, y, z, optimize=True), (U(2, 3), U(3, 3), U(3)), ""),  # noqa: E501
    ("kron-vec", lambda ns, x, y: ns.kron(x, y), (U(2), U(3)), "c"),
    ("kron-mat", lambda ns, x, y: ns.kron(x, y), (U(2, 2), U(2, 1)), ""),
    ("cross-3", lambda ns, x, y: ns.cross(x, y), (U(3), U(3)), "c"),
    ("cross-broadcast", lambda ns, x, y: ns.cross(x, y), (U(2, 3), U(3)), ""),
    ("cross-axis", lambda ns, x, y: ns.cross(x, y, axis=0), (U(3, 2), U(3, 2)), ""),
    ("convolve-full", lambda ns, x, y: ns.convolve(x, y), (U(4), U(2)), "c"),
    ("convolve-same", lambda ns, x, y: ns.convolve(x, y, mode="same"), (U(3), U(4)), ""),
    ("convolve-valid", lambda ns, x, y: ns.convolve(x, y, mode="valid"), (U(4), U(2)), ""),
    ("correlate-valid", lambda ns, x, y: ns.correlate(x, y), (U(4), U(2)), "c"),
    ("correlate-full", lambda ns, x, y: ns.correlate(x, y, mode="full"), (U(2), U(3)), ""),
    ("correlate-same", lambda ns, x, y: ns.correlate(x, y, "same"), (U(4), U(3)), ""),
]  # fmt: skip


def _sq(parts: Any) -> Any:
    """Squares of eigen/singular vectors: independent of their signs."""
    return [p * p for p in parts]


_section("LINALG")
MNORM = np.array([[1.5, -0.3, 0.8], [-0.2, 0.9, -2.1], [0.4, 1.1, 0.2]])
LINALG: list[Case] = [
    ("inv", lambda ns, a: ns.linalg.inv(a), (GEN(3, 3),), "c"),
    ("inv-stack", lambda ns, a: ns.linalg.inv(a), (GEN(2, 2, 2),), ""),
    ("pinv-tall", lambda ns, a: ns.linalg.pinv(a), (U(3, 2),), ""),
    ("pinv-wide_stack", lambda ns, a: ns.linalg.pinv(a), (U(2, 2, 3),), ""),
    ("solve-vec", lambda ns, a, b: ns.linalg.solve(a, b), (GEN(3, 3), U(3)), "c"),
    ("solve-mat", lambda ns, a, b: ns.linalg.solve(a, b), (GEN(3, 3), U(3, 2)), ""),
    ("solve-stack", lambda ns, a, b: ns.linalg.solve(a, b), (GEN(2, 2, 2), U(2, 2, 1)), ""),
    ("det", lambda ns, a: ns.linalg.det(a), (GEN(3, 3),), "c"),
    ("det-stack", lambda ns, a: ns.linalg.det(a), (GEN(2, 2, 2),), ""),
    ("slogdet", lambda ns, a: ns.linalg.slogdet(a)[1], (GEN(3, 3) - 4 * np.eye(3),), ""),
    ("slogdet-stack_both", lambda ns, a: tuple(ns.linalg.slogdet(a)), (GEN(2, 2, 2),), ""),
    ("cholesky", lambda ns, a: ns.linalg.cholesky(SYM(a)), (SPD(3, 3),), ""),
    ("cholesky-stack", lambda ns, a: ns.linalg.cholesky(SYM(a)), (SPD(2, 2, 2),), ""),
    ("eigh-values", lambda ns, a: ns.linalg.eigh(SYM(a))[0], (SPD(3, 3),), ""),
    ("eigh-vectors", lambda ns, a: _sq(ns.linalg.eigh(SYM(a))), (SPD(3, 3),), ""),
    ("eigh-stack_upper", lambda ns, a: _sq(ns.linalg.eigh(SYM(a), UPLO="U")), (SPD(2, 3, 3),), ""),
    ("eigvalsh", lambda ns, a: ns.linalg.eigvalsh(SYM(a)), (SPD(3, 3),), ""),
    ("eig-values", lambda ns, a: ns.linalg.eig(a)[0], (SPD(3, 3) + U(3, 3, lo=-0.2, hi=0.2),), "-32"),
    ("eig-vectors", lambda ns, a: ns.linalg.eig(a)[1] ** 2, (SPD(3, 3) + U(3, 3, lo=-0.2, hi=0.2),), "-32"),
    ("eigvals", lambda ns, a: ns.linalg.eigvals(a), (SPD(3, 3) + U(3, 3, lo=-0.2, hi=0.2),), "-32"),
    ("svd-values", lambda ns, a: ns.linalg.svd(a, compute_uv=False), (U(3, 2),), ""),
    ("svd-full_square", lambda ns, a: _sq(ns.linalg.svd(a)), (U(3, 3),), ""),
    ("svd-reduced_tall", lambda ns, a: _sq(ns.linalg.svd(a, full_matrices=False)), (U(3, 2),), ""),
    ("svd-reduced_wide_stack", lambda ns, a: _sq(ns.linalg.svd(a, full_matrices=False)), (U(2, 2, 3),), ""),
    ("qr-tall", lambda ns, a: tuple(ns.linalg.qr(a)), (U(3, 2),), "c"),
    ("qr-square_stack", lambda ns, a: tuple(ns.linalg.qr(a)), (GEN(2, 2, 2),), ""),
    ("qr-r", lambda ns, a: ns.linalg.qr(a, mode="r"), (U(3, 2),), ""),
    ("lstsq-vec", lambda ns, a, b: ns.linalg.lstsq(a, b, rcond=None)[0], (U(3, 2), U(3)), "c"),
    ("lstsq-mat_residuals", lambda ns, a, b: ns.linalg.lstsq(a, b)[1], (U(4, 2), U(4, 2)), ""),
    ("matrix_power-3", lambda ns, a: ns.linalg.matrix_power(a, 3), (U(2, 2),), "c"),
    ("matrix_power-0", lambda ns, a: ns.linalg.matrix_power(a, 0), (U(2, 2),), ""),
    ("matrix_power-neg2_stack", lambda ns, a: ns.linalg.matrix_power(a, -2), (GEN(2, 2, 2),), ""),
    ("multi_dot", lambda ns, a, b, c: ns.linalg.multi_dot([a, b, c]), (U(3), U(3, 2), U(2, 2)), "c"),
    ("multi_dot-four", lambda ns, a, b, c: ns.linalg.multi_dot([a, b, c, a.T]), (U(2, 3), U(3, 2), U(2, 3)), ""),
    ("norm-vec", lambda ns, x: ns.linalg.norm(x), (U(3),), "c"),
    ("norm-mat_fro_default", lambda ns, x: ns.linalg.norm(x), (U(2, 3),), "c"),
    *[(f"norm-vec_ord{o}", (lambda o: lambda ns, x: ns.linalg.norm(x, ord=o))(o), (A(3),), "")
      for o in (1, 2, 3, 0.5, -1, -2, np.inf, -np.inf)],
    ("norm-vec_ord0", lambda ns, x: ns.linalg.norm(x, ord=0), (A(3),), ""),
    *[(f"norm-mat_ord{o}", (lambda o: lambda ns, x: ns.linalg.norm(x, ord=o))(o), (MNORM,), "")
      for o in ("fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf)],  # row, column and singular values well apart
    ("norm-axis0_keepdims", lambda ns, x: ns.linalg.norm(x, axis=0, keepdims=True), (U(2, 3),), ""),
    ("norm-axis_tuple_ord1", lambda ns, x: ns.linalg.norm(x, ord=1, axis=(2, 0)), (U(2, 2, 3),), ""),
    ("norm-axis_neg_ord3", lambda ns, x: ns.linalg.norm(x, ord=3, axis=-1), (A(2, 3),), ""),
    ("norm-complex_nuc", lambda ns, x: ns.linalg.norm(x * (1 + 1j), "nuc"), (U(2, 2),), ""),
    ("norm-stack_fro", lambda ns, x: ns.linalg.norm(x, axis=(1, 2)), (U(2, 2, 3),), "c"),
    ("norm-stack_nuc_keepdims", lambda ns, x: ns.linalg.norm(x, "nuc", axis=(-2, -1), keepdims=True), (U(2, 3, 2),), ""),  # noqa: E501
    ("norm-stack_2", lambda ns, x: ns.linalg.norm(x, 2, axis=(1, 2)), (U(2, 3, 2),), ""),
    ("norm-stack_neg2_swapped", lambda ns, x: ns.linalg.norm(x, -2, axis=(2, 1)), (U(2, 3, 2),), ""),
    ("norm-stack_inf_outer_axes", lambda ns, x: ns.linalg.norm(x, np.inf, axis=(0, 2)), (U(2, 3, 2),), ""),
    ("norm-vec_ord0_axis", lambda ns, x: ns.linalg.norm(x, 0, axis=1), (A(2, 3),), ""),
    ("norm-vec_ord1_keepdims", lambda ns, x: ns.linalg.norm(x, 1, axis=-1, keepdims=True), (A(2, 3),), "c"),
    ("eig-values_stack", lambda ns, a: ns.linalg.eig(a)[0], (SPD(2, 3, 3) + U(2, 3, 3, lo=-0.2, hi=0.2),), "-32"),
    ("det-complex_stack", lambda ns, a: ns.linalg.det(a), (GEN(2, 3, 3),), "c"),
    ("cholesky-complex", lambda ns, a: ns.linalg.cholesky(a @ a.conj().T + 2 * np.eye(2)), (U(2, 2),), "c"),
    ("lstsq-wide", lambda ns, a, b: ns.linalg.lstsq(a, b)[0], (GEN(2, 2)[:, [0, 1, 0]] + [0, 0, 1], U(2)), "c-32"),
    ("qr-wide", lambda ns, a: tuple(ns.linalg.qr(a)), (GEN(2, 2)[:, [0, 1, 1]],), "c"),
]  # fmt: skip

_section("FFT")
FFT: list[Case] = [
    ("fft", lambda ns, x: ns.fft.fft(x), (U(4),), "c"),
    ("fft-n_pad_ortho", lambda ns, x: ns.fft.fft(x, n=6, norm="ortho"), (U(2, 4),), "c"),
    ("fft-n_trunc_axis0", lambda ns, x: ns.fft.fft(x, n=2, axis=0), (U(3, 2),), ""),
    ("ifft", lambda ns, x: ns.fft.ifft(x), (U(4),), "c"),
    ("ifft-forward_norm", lambda ns, x: ns.fft.ifft(x, n=3, norm="forward"), (U(2, 4),), "c"),
    ("rfft", lambda ns, x: ns.fft.rfft(x), (U(4),), ""),
    ("rfft-odd_n_axis", lambda ns, x: ns.fft.rfft(x, n=5, axis=0, norm="ortho"), (U(3, 2),), ""),
    ("irfft", lambda ns, x: ns.fft.irfft(x), (U(3),), "c"),
    ("irfft-n_odd", lambda ns, x: ns.fft.irfft(x, n=5, norm="forward"), (U(2, 3),), "c"),
    ("fft2", lambda ns, x: ns.fft.fft2(x), (U(2, 3),), "c"),
    ("fft2-s_axes", lambda ns, x: ns.fft.fft2(x, s=(2, 4), axes=(0, 2)), (U(2, 2, 3),), ""),
    ("ifft2", lambda ns, x: ns.fft.ifft2(x, norm="ortho"), (U(3, 2),), "c"),
    ("fftn", lambda ns, x: ns.fft.fftn(x), (U(2, 2, 3),), "c"),
    ("fftn-axes", lambda ns, x: ns.fft.fftn(x, axes=(-1,)), (U(2, 3),), ""),
    ("ifftn", lambda ns, x: ns.fft.ifftn(x, s=(3, 3), axes=(0, 1)), (U(2, 3),), "c"),
    ("rfftn", lambda ns, x: ns.fft.rfftn(x), (U(2, 4),), ""),
    ("rfftn-s_axes", lambda ns, x: ns.fft.rfftn(x, s=(3,), axes=(0,)), (U(2, 3),), ""),
    ("irfftn", lambda ns, x: ns.fft.irfftn(x), (U(2, 3),), "c"),
    ("irfftn-s_ortho", lambda ns, x: ns.fft.irfftn(x, s=(2, 3), axes=(0, 1), norm="ortho"), (U(2, 3),), ""),
    ("fftn-s_longer", lambda ns, x: ns.fft.fftn(x, s=(3, 4), axes=(0, 1)), (U(2, 3),), "c"),
    ("fftn-s_shorter_swapped", lambda ns, x: ns.fft.fftn(x, s=(1, 2), axes=(1, 0)), (U(2, 3),), "c"),
    ("irfftn-3d_axes", lambda ns, x: ns.fft.irfftn(x, s=(2, 4), axes=(0, 2)), (U(2, 2, 3),), "c"),
    ("irfft-n_even_axis0", lambda ns, x: ns.fft.irfft(x, n=6, axis=0), (U(3, 2),), "c"),
    ("rfft2", lambda ns, x: ns.fft.rfft2(x), (U(2, 4),), ""),
    ("irfft2", lambda ns, x: ns.fft.irfft2(x), (U(2, 3),), "c"),
    ("hfft", lambda ns, x: ns.fft.hfft(x), (U(3),), "c"),
    ("ihfft", lambda ns, x: ns.fft.ihfft(x), (U(4),), ""),
    ("fftshift", lambda ns, x: ns.fft.fftshift(x), (U(2, 3),), "c"),
    ("fftshift-axes", lambda ns, x: ns.fft.fftshift(x, axes=1), (U(2, 3),), ""),
    ("ifftshift", lambda ns, x: ns.fft.ifftshift(x), (U(3, 2),), "c"),
]  # fmt: skip

TABLE: list[Case] = ELEMENTWISE + REDUCTIONS + SHAPE + CONTRACTIONS + LINALG + FFT


def _cast(args: tuple[Any, ...], kind: str) -> tuple[Any, ...]:
    """The arguments in float64, float32, or complex128 (a small imaginary part added)."""
    out = []
    for i, a in enumerate(args):
        a = np.asarray(a, np.float64)
        if kind == "float32":
            a = a.astype(np.float32)
        elif kind == "complex128":
            imag = np.random.default_rng([i, a.size]).uniform(-0.3, 0.3, a.shape)
            a = a + 1j * np.where(np.isnan(a), 0.0, imag)
        out.append(a if a.ndim else a[()])
    return tuple(out)


def _wanted(name: str, kind: str, flags: str) -> bool:
    if kind == "float64":
        return True
    if kind == "complex128":
        return "c" in flags
    # float32: elementwise functions on their matrix (and broadcasting) shapes only
    return "-32" not in flags and not name.endswith(("-scalar", "-vec", "-col_row"))


PARAMS = [
    pytest.param(fn, args, kind, id=f"{name}-{kind}")
    for name, fn, args, flags in TABLE
    for kind in ("float64", "float32", "complex128")
    if _wanted(name, kind, flags)
]


def _leaves(tree: Any) -> list[Any]:
    return [np.asarray(leaf) for leaf in tree_flatten(tree)[0]]


def _assert_trees_close(a: Any, b: Any, rtol: float, atol: float) -> None:
    la, lb = _leaves(a), _leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb):
        assert x.shape == y.shape, (x.shape, y.shape)
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)


def _real_outputs(f: Callable[..., Any]) -> Callable[..., Any]:
    """``f`` with each complex output split into its real and imaginary parts (for Jacobians)."""

    def split(*args: Any) -> list[Any]:
        parts = []
        for out in tree_flatten(f(*args))[0]:
            parts.extend([fnp.real(out), fnp.imag(out)] if fnp.iscomplexobj(out) else [out])
        return parts

    return split


def _scalar_loss(f: Callable[..., Any]) -> Callable[..., Any]:
    """A real scalar of ``f``'s outputs, nonlinear in each (so second derivatives see every output)."""

    def loss(*args: Any) -> Any:
        total = 0.0
        for k, out in enumerate(tree_flatten(f(*args))[0]):
            weights = np.cos(np.arange(np.size(out)) + k).reshape(np.shape(out))
            total = total + fnp.sum(fnp.real(out * weights) ** 2)
        return total

    return loss


@pytest.mark.parametrize(("fn", "args", "kind"), PARAMS)
def test_surface(fn: Callable[..., Any], args: tuple[Any, ...], kind: str) -> None:
    args = _cast(args, kind)
    with_fnp = lambda *a: fn(fnp, *a)  # noqa: E731
    with_np = lambda *a: fn(np, *a)  # noqa: E731
    # (iii) plain arrays: NumPy's values and dtypes exactly
    expected, got = _leaves(with_np(*args)), _leaves(with_fnp(*args))
    assert len(expected) == len(got)
    for e, g in zip(expected, got):
        assert g.dtype == e.dtype and g.shape == e.shape, (g.dtype, e.dtype, g.shape, e.shape)
        np.testing.assert_array_equal(g, e)
    # (i) both modes to second order against finite differences
    check_grads(with_fnp, args, modes=("fwd", "rev"), order=2)
    # (ii) plain numpy on traced values: NumPy's values, and the derivatives of funcgrad.numpy
    tol = 1e-5 if kind == "float32" else 1e-11
    out_np, vjp_np = fg.vjp(with_np, *args)
    out_fnp, vjp_fnp = fg.vjp(with_fnp, *args)
    _assert_trees_close(out_np, expected, tol, tol)
    for e, g in zip(expected, _leaves(out_np)):
        assert g.dtype == e.dtype, (g.dtype, e.dtype)
    rng = np.random.default_rng(1)
    cotangent = fg.tree.tree_map(lambda o: np.asarray(rng.standard_normal(np.shape(o)), np.result_type(o))[()], out_fnp)
    cotangents = vjp_np(cotangent)
    _assert_trees_close(cotangents, vjp_fnp(cotangent), tol, tol)
    for c, a in zip(cotangents, args):  # each argument's own shape and dtype
        assert np.shape(c) == np.shape(a) and np.result_type(c) == np.result_type(a)
    tangents = tuple(np.ones_like(a) for a in args)
    tangent_out = fg.jvp(with_np, args, tangents)[1]
    _assert_trees_close(tangent_out, fg.jvp(with_fnp, args, tangents)[1], tol, tol)
    for t, e in zip(_leaves(tangent_out), expected):
        assert t.dtype == e.dtype
    if kind == "float64":
        # batched forward rules (jacfwd, numpy spelling) against reverse mode (jacrev, funcgrad spelling)
        argnums = tuple(range(len(args)))
        forward = fg.jacfwd(_real_outputs(with_np), argnums=argnums)(*args)
        reverse = fg.jacrev(_real_outputs(with_fnp), argnums=argnums)(*args)
        _assert_trees_close(forward, reverse, tol, tol)
        # the third composition of second derivatives: forward over reverse (check_grads does fwd-fwd, rev-rev)
        loss = _scalar_loss(with_fnp)
        _assert_trees_close(
            fg.hessian(loss, argnums=argnums)(*args), fg.jacrev(fg.jacrev(loss, argnums=argnums), argnums=argnums)(*args),
            1e-8, 1e-8,
        )  # fmt: skip


def test_svd_full_matrices_of_a_rectangular_matrix_is_refused() -> None:
    """``U``'s completion columns have no derivative (as in JAX): a named error, never a number."""
    a = U(3, 2)
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        fg.jvp(lambda a: fnp.linalg.svd(a)[0], (a,), (a,))
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        fg.vjp(lambda a: np.linalg.svd(a)[2], a)


def test_svd_full_matrices_of_a_rectangular_matrix_is_refused_in_both_modes() -> None:
    a = U(2, 3)
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        fg.jacfwd(lambda a: np.linalg.svd(a)[2])(a)


# --- every name in issue 4 exists -----------------------------------------------------------------

ISSUE_NAMES = {
    "elementwise": """sin cos tan arcsin arccos arctan sinh cosh tanh arcsinh arccosh arctanh exp exp2 expm1 log log2
        log10 log1p logaddexp logaddexp2 sqrt cbrt square reciprocal power float_power true_divide mod fmod
        remainder hypot arctan2 sinc deg2rad rad2deg maximum minimum fmax fmin clip sign abs absolute fabs floor
        ceil round rint trunc nan_to_num heaviside real imag conj angle""",
    "reductions": """sum mean prod max min amax amin var std cumsum cumprod nansum nanmean nanvar nanstd median
        average ptp diff trapezoid""",
    "shape": """reshape ravel squeeze expand_dims transpose moveaxis swapaxes broadcast_to atleast_1d atleast_2d
        atleast_3d repeat tile flip fliplr flipud rot90 roll pad concatenate stack hstack vstack dstack column_stack
        split array_split hsplit vsplit diag diagonal trace triu tril take take_along_axis sort where select interp
        meshgrid""",
    "contractions": "dot vdot inner outer matmul tensordot einsum kron cross convolve correlate",
    "non-differentiable": """argmax argmin argsort nonzero isfinite isnan shape ndim size allclose array_equal
        floor_divide logical_and logical_or logical_not logical_xor zeros_like ones_like full_like empty_like
        random""",
    "linalg": "inv pinv solve det slogdet cholesky eigh eig svd qr lstsq norm matrix_power multi_dot",
    "fft": "fft ifft rfft irfft fft2 ifft2 fftn ifftn rfftn irfftn fftshift ifftshift",
}


@pytest.mark.parametrize("section", sorted(ISSUE_NAMES))
def test_every_function_named_in_issue_4_exists(section: str) -> None:
    namespace = {"linalg": fnp.linalg, "fft": fnp.fft}.get(section, fnp)
    numpy_namespace = {"linalg": np.linalg, "fft": np.fft}.get(section, np)
    names = ISSUE_NAMES[section].split()
    missing = [name for name in names if not hasattr(namespace, name)]
    assert not missing, f"issue 4 lists these {section} functions, missing from funcgrad.numpy: {missing}"
    # and each is NumPy's name: a test on the numpy spelling exercises the same function
    assert all(hasattr(numpy_namespace, name) for name in names)


def test_every_differentiable_name_in_issue_4_has_a_table_entry() -> None:
    """A name added to the lists above without a line in TABLE fails here."""
    covered = {name.split("-")[0] for name, *_ in TABLE}
    sections = ("elementwise", "reductions", "shape", "contractions", "linalg", "fft")
    untested = [n for s in sections for n in ISSUE_NAMES[s].split() if n not in covered]
    assert not untested, untested


# --- non-differentiable functions: traced values in, plain NumPy results out -----------------------

XN = np.array([[0.5, -1.2, np.nan], [2.0, np.inf, -0.3]])
NONDIFF: list[tuple[str, Callable[..., Any]]] = [
    ("argmax", lambda ns, x: ns.argmax(x)),
    ("argmax-axis_keepdims", lambda ns, x: ns.argmax(x, axis=1, keepdims=True)),
    ("argmin-axis0", lambda ns, x: ns.argmin(x, axis=0)),
    ("argsort", lambda ns, x: ns.argsort(x)),
    ("argsort-none_stable", lambda ns, x: ns.argsort(x, axis=None, kind="stable")),
    ("nonzero", lambda ns, x: ns.nonzero(x)),
    ("nonzero-mask", lambda ns, x: ns.nonzero(x > 0)),
    ("where-one_argument", lambda ns, x: ns.where(x > 0)),
    ("isfinite", lambda ns, x: ns.isfinite(x)),
    ("isnan", lambda ns, x: ns.isnan(x)),
    ("shape", lambda ns, x: ns.shape(x)),
    ("ndim", lambda ns, x: ns.ndim(x)),
    ("size", lambda ns, x: ns.size(x)),
    ("size-axis", lambda ns, x: ns.size(x, 1)),
    ("allclose", lambda ns, x: ns.allclose(x, x + 1e-12)),
    ("allclose-equal_nan", lambda ns, x: ns.allclose(x, x, equal_nan=True)),
    ("array_equal", lambda ns, x: ns.array_equal(x, x)),
    ("array_equal-equal_nan", lambda ns, x: ns.array_equal(x, x, equal_nan=True)),
    ("floor_divide", lambda ns, x: ns.floor_divide(x, 0.7)),
    ("floor_divide-operator", lambda ns, x: 2.5 // x),
    ("logical_and", lambda ns, x: ns.logical_and(x > 0, x < 1)),
    ("logical_or", lambda ns, x: ns.logical_or(x, 0.0)),
    ("logical_not", lambda ns, x: ns.logical_not(x)),
    ("logical_xor", lambda ns, x: ns.logical_xor(x > 0, True)),
    ("less", lambda ns, x: ns.less(x, 0.5)),
    ("greater_equal-operator", lambda ns, x: x >= 0.5),
    ("equal-ndarray_left", lambda ns, x: np.zeros(3) == x),
    # zeros_like, ones_like and full_like of a traced value are writable constants of its trace: tests/test_inplace.py
    ("empty_like-shape_dtype", lambda ns, x: (ns.empty_like(x).shape, ns.empty_like(x, dtype=np.int8).dtype)),
    ("random-shaped_like", lambda ns, x: ns.random.default_rng(0).normal(size=ns.shape(x))),
    ("random-legacy", lambda ns, x: (ns.random.seed(3), ns.random.rand(*ns.shape(x)))[1]),
]  # fmt: skip


def _plain_leaves(tree: Any) -> list[Any]:
    leaves = tree_flatten(tree)[0] if isinstance(tree, (tuple, list)) else [tree]
    return leaves


@pytest.mark.parametrize(("fn",), [pytest.param(fn, id=name) for name, fn in NONDIFF])
@pytest.mark.parametrize("spelling", ["fnp", "np"])
@pytest.mark.parametrize("transform", ["jvp", "vjp"])
def test_non_differentiable_functions_return_plain_numpy_results(
    fn: Callable[..., Any], spelling: str, transform: str
) -> None:
    ns = fnp if spelling == "fnp" else np
    with np.errstate(invalid="ignore"):
        expected = fn(np, XN)
        assert repr(fn(fnp, XN)) == repr(expected)  # plain arrays: NumPy's answer
        seen: list[Any] = []

        def f(x: Any) -> Any:
            seen.append(fn(ns, x))
            return x * 1.0

        if transform == "jvp":
            fg.jvp(f, (XN,), (XN,))
        else:
            fg.vjp(f, XN)
    got = seen[0]
    assert type(got) is type(expected)
    for g, e in zip(_plain_leaves(got), _plain_leaves(expected)):
        assert not isinstance(g, fnp.ArrayTracer), "a traced value escaped a non-differentiable function"
        assert type(g) is type(e)
        assert np.array_equal(np.asarray(g), np.asarray(e), equal_nan=np.asarray(e).dtype.kind == "f")
        assert np.asarray(g).dtype == np.asarray(e).dtype


def test_a_non_differentiable_result_carries_no_derivative() -> None:
    """An index computed from a traced value selects; the derivative flows through the selection only."""
    x = np.array([0.3, 2.0, -1.0])
    g = fg.grad(lambda x: np.sum(x[np.argsort(x)] * np.arange(3.0)) + np.sum(np.isfinite(x) * x))(x)
    np.testing.assert_array_equal(g, [2.0, 3.0, 1.0])


# --- functional updates: what tests/test_at.py does not already pin ---------------------------------
# (test_at.py compares every method and index form with ufunc.at and check_grads; here: zeros in the
# array and the values at repeated positions, second derivatives by both compositions, float32)

AT_INDEX = (np.array([0, 1, 0, 0]), np.array([2, 0, 2, 2]))  # position (0, 2) four times
AT_X = np.array([[0.0, 1.5, -2.0], [0.7, 0.0, 0.9]])
AT_V = np.array([0.0, -1.2, 3.0, 0.5])
AT_UFUNC = {"add": np.add, "multiply": np.multiply, "divide": np.divide, "min": np.minimum, "max": np.maximum}


def _at(op: str, x: Any, v: Any) -> Any:
    ref = fnp.at(x)[AT_INDEX]
    return ref.get() if op == "get" else getattr(ref, op)(v)


@pytest.mark.parametrize("op", ["set", "add", "multiply", "divide", "min", "max", "get"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_at_repeated_indices_with_zeros(op: str, dtype: Any) -> None:
    x = AT_X.astype(dtype)
    v = (AT_V + 2.0 * (op == "divide")).astype(dtype)
    if op == "get":
        expected = x[AT_INDEX]
    else:
        expected = x.copy()
        if op == "set":
            expected[AT_INDEX] = v
        else:
            AT_UFUNC[op].at(expected, AT_INDEX, v)
    out = fg.vjp(lambda x: _at(op, x, v), x)[0]
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(_at(op, x, v), expected)
    check_grads(lambda x, v: _at(op, x, v) ** 3, (x, v), modes=("fwd", "rev"), order=2)
    if dtype == np.float64:
        # second derivatives: forward-over-reverse (hessian) equals reverse-over-reverse
        def loss(x: Any, v: Any) -> Any:
            return fnp.sum(_at(op, x, v) ** 3)

        fwd_rev = fg.hessian(loss, argnums=(0, 1))(x, v)
        rev_rev = fg.jacrev(fg.grad(loss, argnums=(0, 1)), argnums=(0, 1))(x, v)
        _assert_trees_close(fwd_rev, rev_rev, 1e-12, 1e-12)


def test_at_multiply_with_zeros_at_a_repeated_position_is_exact() -> None:
    """``x[0] * v0 * v1 * v2`` with zeros among the factors: each derivative is the product of the others."""
    x, v = np.array([2.0, 5.0]), np.array([0.0, 3.0, 0.0])
    gx, gv = fg.grad(lambda x, v: fnp.at(x)[[0, 0, 0]].multiply(v)[0], argnums=(0, 1))(x, v)
    np.testing.assert_array_equal(gx, [0.0, 0.0])
    np.testing.assert_array_equal(gv, [0.0, 0.0, 0.0])
    gv = fg.grad(lambda v: fnp.at(x)[[0, 0, 0]].multiply(v)[0])(np.array([0.0, 3.0, 4.0]))
    np.testing.assert_array_equal(gv, [24.0, 0.0, 0.0])


# --- plain NumPy code --------------------------------------------------------------------------------

MLP_X = np.random.default_rng(5).standard_normal((4, 3))
MLP_Y = np.array([0, 2, 1, 2])


def mlp_params() -> list[Any]:
    rng = np.random.default_rng(6)
    return [rng.standard_normal((3, 4)) * 0.5, rng.standard_normal(4) * 0.1, rng.standard_normal((4, 3)) * 0.5]


def mlp_loss(ns: Any, params: list[Any]) -> Any:
    """A two-layer network with a softmax cross-entropy loss, written against a NumPy namespace ``ns``."""
    w1, b1, w2 = params
    hidden = ns.tanh(ns.dot(MLP_X, w1) + b1)
    hidden = ns.maximum(hidden, 0.1 * hidden)  # leaky ReLU
    logits = (hidden @ w2).reshape(4, 3)
    logits = logits - logits.max(axis=1, keepdims=True)
    log_probs = logits - ns.log(ns.sum(ns.exp(logits), axis=1, keepdims=True))
    nll = -ns.mean(log_probs[np.arange(4), MLP_Y])
    penalty = 1e-2 * sum(ns.sum(w**2) for w in (w1, w2)) + 1e-3 * ns.linalg.norm(b1)
    return nll + penalty + 0.1 * ns.var(hidden.ravel()) + 0.01 * hidden.T.std(axis=0).sum()


def test_plain_numpy_mlp_matches_funcgrad_numpy_and_finite_differences() -> None:
    params = mlp_params()
    value_np, grad_np = fg.value_and_grad(lambda p: mlp_loss(np, p))(params)
    value_fnp, grad_fnp = fg.value_and_grad(lambda p: mlp_loss(fnp, p))(params)
    assert value_np == mlp_loss(np, params) == value_fnp
    _assert_trees_close(grad_np, grad_fnp, 1e-14, 1e-14)
    check_grads(lambda p: mlp_loss(np, p), (params,), modes=("fwd", "rev"), order=2)


def _bool_part(out: Any) -> Any:
    return out


# (operator, function of (left, right)); each runs with the tracer on the left and on the right of
# ndarrays of several dtypes, NumPy scalars and Python numbers
OPERATORS: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("+", lambda a, b: a + b), ("-", lambda a, b: a - b), ("*", lambda a, b: a * b), ("/", lambda a, b: a / b),
    ("**", lambda a, b: a**b), ("%", lambda a, b: a % b), ("@", lambda a, b: a @ b),
]  # fmt: skip
COMPARISONS: list[tuple[str, Callable[[Any, Any], Any]]] = [
    ("<", lambda a, b: a < b), ("<=", lambda a, b: a <= b), (">", lambda a, b: a > b), (">=", lambda a, b: a >= b),
    ("==", lambda a, b: a == b), ("!=", lambda a, b: a != b), ("//", lambda a, b: a // b),
]  # fmt: skip
OTHERS: list[tuple[str, Any]] = [
    ("ndarray", np.array([1.3, 0.6, 2.1])),
    ("ndarray_float32", np.array([1.3, 0.6, 2.1], np.float32)),
    ("ndarray_int", np.array([2, 1, 3])),
    ("ndarray_0d", np.array(1.7)),
    ("np_float64", np.float64(1.7)),
    ("np_float32", np.float32(1.7)),
    ("python_float", 1.7),
    ("python_int", 2),
]
X_OP = np.array([0.7, 1.9, 1.2])


OPERATOR_CASES = [
    pytest.param(f, o, id=f"{n}-{m}") for n, f in OPERATORS for m, o in OTHERS if n != "@" or np.ndim(o) == 1
]


@pytest.mark.parametrize(("op", "other"), OPERATOR_CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_operators_with_a_tracer_on_either_side(op: Callable[[Any, Any], Any], other: Any, dtype: Any) -> None:
    x = X_OP.astype(dtype)
    for f in (lambda x: op(x, other), lambda x: op(other, x)):
        expected = f(x)
        out, vjp_fn = fg.vjp(f, x)
        assert out.dtype == expected.dtype and out.shape == expected.shape  # NumPy's promotion (NEP 50)
        np.testing.assert_allclose(out, expected, rtol=1e-15 if dtype == np.float64 else 1e-6)
        assert vjp_fn(np.ones_like(expected))[0].dtype == dtype
        check_grads(f, (x,), modes=("fwd", "rev"), order=2)


@pytest.mark.parametrize(("other",), [pytest.param(o, id=n) for n, o in OTHERS])
@pytest.mark.parametrize(("op",), [pytest.param(f, id=n) for n, f in COMPARISONS])
def test_comparisons_with_a_tracer_on_either_side_are_plain(op: Callable[[Any, Any], Any], other: Any) -> None:
    for f in (lambda x: op(x, other), lambda x: op(other, x)):
        seen: list[Any] = []

        def record(x: Any, f: Callable[[Any], Any] = f) -> Any:
            seen.append(f(x))
            return x

        fg.jvp(record, (X_OP,), (X_OP,))
        expected = f(X_OP)
        assert type(seen[0]) is type(expected)
        np.testing.assert_array_equal(seen[0], expected)
        assert seen[0].dtype == expected.dtype


def test_numpy_copy_and_conversions() -> None:
    x = np.array([0.5, -1.0, 2.0])
    check_grads(lambda x: np.copy(x) * x + x.copy() ** 2 + fnp.copy(x), (x,), order=2)
    check_grads(lambda x: fnp.array([x[0], x[2]]) * fnp.array(x, copy=True)[:2] + np.stack([x[1], x[0]]), (x,))
    for convert in (
        lambda x: np.array(x),
        lambda x: np.array(x, copy=True),
        lambda x: np.array(x, copy=False),
        lambda x: np.array([x, x]),
        lambda x: np.asarray(x),
    ):
        with pytest.raises(TypeError, match=r"np\.stack\(\[\.\.\.\]\) \(or fnp\.array\(\[\.\.\.\]\)\)"):
            fg.grad(lambda x: np.sum(convert(x)))(x)


# --- unsupported NumPy functions and ufunc methods: a TypeError naming them, before any result ------

UNSUPPORTED: list[tuple[str, Callable[[Any], Any]]] = [
    ("numpy.histogram", lambda x: np.histogram(x)[0]),
    ("numpy.i0", lambda x: np.i0(x)),
    ("numpy.roots", lambda x: np.roots(x)),
    ("numpy.histogram2d", lambda x: np.histogram2d(x, x)[0]),
    ("numpy.intersect1d", lambda x: np.intersect1d(x, x)),
    ("numpy.<lambda> (vectorized)", lambda x: np.frompyfunc(lambda a: a, 1, 1)(x)),
    ("numpy.sort_complex", lambda x: np.sort_complex(x)),
    ("numpy.union1d", lambda x: np.union1d(x, x)),
    ("numpy.add.reduceat", lambda x: np.add.reduceat(x, [0, 2])),
    ("numpy.logaddexp.accumulate", lambda x: np.logaddexp.accumulate(x)),
    ("numpy.subtract.reduce", lambda x: np.subtract.reduce(x)),
    ("numpy.sin", lambda x: np.sin(x, where=x > 0)),  # the where= keyword
    ("numpy.add.reduce", lambda x: np.add.reduce(x, where=x > 0)),
]


@pytest.mark.parametrize(("name", "call"), UNSUPPORTED, ids=[u[0] for u in UNSUPPORTED])
@pytest.mark.parametrize("transform", ["grad", "jvp", "jacfwd"])
def test_unsupported_numpy_raises_type_error_naming_it(name: str, call: Callable[[Any], Any], transform: str) -> None:
    x = np.array([0.5, -1.2, 2.0])
    reached: list[bool] = []

    def f(x: Any) -> Any:
        out = call(x)
        reached.append(True)  # never: the call raises before anything is returned
        return fnp.sum(out)

    with pytest.raises(TypeError) as info:
        if transform == "grad":
            fg.grad(f)(x)
        elif transform == "jvp":
            fg.jvp(f, (x,), (x,))
        else:
            fg.jacfwd(f)(x)
    assert name in str(info.value)
    assert not reached


# --- ndarray methods on traced values: NumPy's value, the function's derivative -------------------

XM = np.array([[0.5, -1.2, 2.0], [0.7, 1.4, -0.3]])
METHODS: list[tuple[str, Callable[[Any], Any]]] = [
    ("sum", lambda x: x.sum(0, keepdims=True)), ("mean", lambda x: x.mean(axis=1)), ("prod", lambda x: x.prod()),
    ("prod_where", lambda x: x.prod(where=np.array([True, False, True]))), ("max", lambda x: x.max(axis=0)),
    ("min_initial", lambda x: x.min(axis=1, initial=0.0)), ("var", lambda x: x.var(ddof=1)),
    ("std", lambda x: x.std(axis=0)), ("cumsum", lambda x: x.cumsum(axis=1)), ("cumprod", lambda x: x.cumprod()),
    ("clip", lambda x: x.clip(-1.0, 1.0)), ("clip_max", lambda x: x.clip(max=1.0)),
    ("round", lambda x: x.round(1) * x), ("T", lambda x: x.T), ("real", lambda x: x.real), ("imag", lambda x: x.imag),
    ("conj", lambda x: x.conj()), ("conjugate", lambda x: x.conjugate()), ("astype", lambda x: (x.astype(np.complex128) * 1j).imag),
    ("copy", lambda x: x.copy()), ("reshape", lambda x: x.reshape(3, 2)), ("reshape_tuple", lambda x: x.reshape((-1,))),
    ("transpose", lambda x: x.transpose()), ("transpose_axes", lambda x: x.transpose(1, 0)),
    ("ravel", lambda x: x.ravel()), ("flatten", lambda x: x.flatten()), ("squeeze", lambda x: x[None].squeeze(0)),
    ("dot", lambda x: x.dot(x.T)), ("swapaxes", lambda x: x.swapaxes(0, 1)), ("take", lambda x: x.take([0, 0, 5])),
    ("repeat", lambda x: x.repeat(2, axis=0)), ("diagonal", lambda x: x.diagonal(1)), ("trace", lambda x: x.trace()),
    ("compress", lambda x: x.compress([True, False, True], axis=1)), ("getitem", lambda x: x[:, [2, 0, 2]][::-1]),
    ("argmax_index", lambda x: x[x.argmax(axis=0), np.arange(3)]), ("iter", lambda x: sum(row for row in x)),
    ("len_shape_size_ndim", lambda x: x * (len(x) + x.shape[1] + x.size + x.ndim)),
]  # fmt: skip


@pytest.mark.parametrize(("method",), [pytest.param(m, id=n) for n, m in METHODS])
def test_ndarray_methods_on_traced_values(method: Callable[[Any], Any]) -> None:
    expected = method(XM)
    out = fg.vjp(method, XM)[0]
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out, expected)
    check_grads(method, (XM,), modes=("fwd", "rev"), order=2)
    np.testing.assert_allclose(fg.jacfwd(method)(XM), fg.jacrev(method)(XM), rtol=1e-13, atol=1e-13)


# --- gaps found by this audit in other modules (strict xfails: they fail loudly once fixed) ----------


def test_sign_of_complex_has_the_derivative_of_z_over_abs_z() -> None:
    """Found by this audit (the derivative was silently zero); numpy.sign(z) = z/|z| is smooth for z != 0."""
    z = np.array([1.0 + 1.0j, -0.5 + 2.0j])
    check_grads(fnp.sign, (z,), modes=("fwd", "rev"), order=2)
    check_grads(np.sign, (z,), modes=("fwd", "rev"), order=2)
    x = np.array([0.5, -2.0])  # real input: piecewise constant
    np.testing.assert_array_equal(fg.jacfwd(np.sign)(x), np.zeros((2, 2)))


@pytest.mark.parametrize(
    "call",
    [lambda x: fnp.reshape(x, (3, 2), order="F"), lambda x: np.ravel(x, order="F"), lambda x: x.flatten("F")],
    ids=["reshape", "ravel", "flatten_method"],
)
def test_reshape_in_fortran_order(call: Callable[[Any], Any]) -> None:
    check_grads(call, (XM,), modes=("fwd", "rev"), order=2)
    np.testing.assert_array_equal(fg.vjp(call, XM)[0], call(XM))


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.mT,
        lambda x: (x[None] * x[:, None]).mT,
        lambda x: x.flat[[1, 4, 4]],
        lambda x: x.flat[::2] + sum(x.flat),
        lambda x: x * x.nbytes / x.itemsize,
        lambda x: x[:, x[0].argpartition(1)],
        lambda x: x * np.sort(x, axis=None).searchsorted(x),
        lambda x: x.view(),
    ],
    ids=["mT", "mT_stack", "flat", "flat_slice_iter", "nbytes_itemsize", "argpartition", "searchsorted", "view"],
)
def test_ndarray_attributes_found_missing(call: Callable[[Any], Any]) -> None:
    """Added to ArrayTracer after this audit found them missing (AttributeError before)."""
    expected = call(XM)
    out = fg.vjp(call, XM)[0]
    assert type(out) is type(expected) and out.dtype == expected.dtype
    np.testing.assert_array_equal(out, expected)
    check_grads(call, (XM,), modes=("fwd", "rev"), order=2)


@pytest.mark.parametrize(
    "call", [lambda x: x.resize(4), lambda x: x.view(np.int64)],
    ids=["resize", "view_dtype"],
)  # fmt: skip
def test_in_place_and_memory_attributes_refuse_traced_values(call: Callable[[Any], Any]) -> None:
    with pytest.raises(TypeError, match="funcgrad"):
        fg.grad(lambda x: fnp.sum(call(x)))(XM)


# --- every method of every binary ufunc: NumPy's value and the right derivative, or a named TypeError --

BINARY_UFUNCS = sorted(
    {u for u in vars(np).values() if isinstance(u, np.ufunc) and u.nin == 2 and u.nout == 1}, key=lambda u: u.__name__
)
UFUNC_METHODS: dict[str, Callable[[Any, Any], Any]] = {
    "reduce": lambda u, x: u.reduce(x, axis=1),
    "accumulate": lambda u, x: u.accumulate(x, axis=1),
    "outer": lambda u, x: u.outer(x[0], x[1]),
    "reduceat": lambda u, x: u.reduceat(x, [0, 2], axis=1),
}
XU = np.array([[0.7, 1.3, 0.4], [1.1, 0.6, 1.9]])


@pytest.mark.parametrize("method", sorted(UFUNC_METHODS))
def test_every_binary_ufunc_method_is_right_or_refused_by_name(method: str) -> None:
    call = UFUNC_METHODS[method]
    supported = []
    for ufunc in BINARY_UFUNCS:
        try:
            expected = call(ufunc, XU)
        except (TypeError, ValueError, RuntimeError):
            continue  # NumPy itself refuses (integer-only ufuncs, ...)
        try:
            out = fg.jvp(lambda x: call(ufunc, x), (XU,), (XU,))[0]
        except TypeError as error:
            assert f"numpy.{ufunc.__name__}.{method}" in str(error)
            continue
        supported.append(ufunc.__name__)
        assert np.asarray(out).dtype == np.asarray(expected).dtype
        np.testing.assert_array_equal(out, expected)
        if np.asarray(expected).dtype.kind == "f":
            check_grads(lambda x: call(ufunc, x), (XU,), modes=("fwd", "rev"), order=1)
    assert {"reduce": "add", "accumulate": "multiply", "outer": "power", "reduceat": None}[method] in supported + [None]
    if method == "accumulate":  # running extremes: a gather of the elements kept
        assert {"maximum", "minimum", "fmax", "fmin"} <= set(supported)


@pytest.mark.parametrize("name", ["maximum", "minimum", "fmax", "fmin"])
def test_running_extremes_at_second_order_with_nans_and_under_every_transform(name: str) -> None:
    ufunc = getattr(np, name)
    f = lambda x: (ufunc.accumulate(x, axis=1) * x).sum()
    check_grads(f, (XU,), order=2)
    g32 = fg.grad(f)(XU.astype(np.float32))
    assert g32.dtype == np.float32
    np.testing.assert_allclose(g32, fg.grad(f)(XU), rtol=1e-6)
    with_nan = np.array([[1.0, np.nan, 3.0, 0.5], [2.0, 1.0, 4.0, np.nan]])
    np.testing.assert_array_equal(fg.jit(lambda x: ufunc.accumulate(x, axis=1))(with_nan), ufunc.accumulate(with_nan, axis=1))
    rows = fg.vmap(lambda r: ufunc.accumulate(r))(XU)
    np.testing.assert_array_equal(rows, ufunc.accumulate(XU, axis=1))
    jac = fg.jacrev(lambda x: getattr(fnp, name).accumulate(x))(XU[0])
    kept = ufunc.accumulate(XU[0])[:, None] == XU[0][None, :]
    np.testing.assert_array_equal(jac, kept & (np.cumsum(kept, axis=1) == kept.sum(axis=1, keepdims=True)))


def test_funcgrad_numpy_ufuncs_have_numpys_methods_and_attributes() -> None:
    """``import funcgrad.numpy as np`` code spells ``np.add.reduce``, ``np.multiply.outer``, ``np.add.at``."""

    def f(x):
        y = fnp.zeros_like(x[0])
        fnp.add.at(y, [0, 0, 2], x[1])
        return fnp.add.reduce(x * x, axis=0).sum() + fnp.multiply.outer(x[0], y).sum() + fnp.maximum.accumulate(y).sum()

    check_grads(f, (XU,), order=2)
    assert fnp.add.identity == 0 and fnp.multiply.identity == 1 and fnp.add.nout == 1
    with pytest.raises(ValueError, match="reduce only supported for binary functions"):
        fnp.sin.reduce(XU)
    with pytest.raises(AttributeError, match="no attribute 'reduced'"):
        fnp.add.reduced  # noqa: B018
