"""Indexing (``x[idx]`` with every index form) and the selection functions
(take, take_along_axis, sort, diag, diagonal, trace, triu/tril, where, select,
interp): values equal NumPy's, check_grads fwd+rev order 2, jacfwd == jacrev.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import R, combo_check

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads

MASK = np.array([[True, False, True], [False, True, True]])

# (name, index) applied to a (2, 3, 4) array
INDEXES = [
    ("int", 1),
    ("negative_int", -1),
    ("tuple_ints", (1, 2, 3)),
    ("slice", slice(0, 1)),
    ("slice_step", (slice(None), slice(None, None, 2))),
    ("negative_step", (slice(None, None, -1), slice(2, 0, -1))),
    ("negative_step_last", (Ellipsis, slice(None, None, -2))),
    ("newaxis", (None, 0, None)),
    ("newaxis_middle", (slice(None), None, 1)),
    ("ellipsis", (Ellipsis, 1)),
    ("ellipsis_middle", (0, Ellipsis, 2)),
    ("ellipsis_newaxis", (Ellipsis, None)),
    ("empty_tuple", ()),
    ("bool_mask_2d", MASK),
    ("bool_mask_axis1", (slice(None), np.array([True, False, True]))),
    ("bool_mask_full", np.arange(24).reshape(2, 3, 4) % 3 == 0),
    ("bool_scalar", True),
    ("int_array", np.array([1, 0, 1])),
    ("int_list", [0, 1, 1]),
    ("int_array_repeats_last", (Ellipsis, np.array([3, 3, 0, 3]))),
    ("int_arrays_pair", (np.array([0, 1, 1]), np.array([2, 2, 0]))),
    ("int_arrays_broadcast", (np.array([[0], [1]]), slice(None), np.array([1, 3, 3]))),
    ("int_arrays_separated", (np.array([0, 1]), slice(1, 3), np.array([3, 3]))),
    ("int_and_array_separated", (0, slice(None), np.array([2, 2, 1]))),
    ("int_array_2d", np.array([[0, 1], [1, 1]])),
    ("negative_int_array", (slice(None), np.array([-1, -3]))),
    ("mask_and_array", (np.array([True, False]), slice(None), np.array([0, 0]))),
    ("mixed_everything", (np.array([1, 1]), None, Ellipsis, slice(None, None, -1))),
    ("zero_d_int_array", np.array(1)),
    ("nested_tuples", ((0, 1), slice(None), (1, 1))),
    ("range", (range(1, -1, -1), slice(None), np.array([0, 0]))),
]


@pytest.mark.parametrize("name,index", INDEXES, ids=[c[0] for c in INDEXES])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_getitem(name: str, index: Any, dtype: Any) -> None:
    combo_check(lambda m, x: x[index], R(2, 3, 4, dtype=dtype))


@pytest.mark.parametrize("name,index", INDEXES[::3], ids=[c[0] for c in INDEXES[::3]])
def test_getitem_complex(name: str, index: Any) -> None:
    combo_check(lambda m, x: x[index], R(2, 3, 4, dtype=np.complex128))


@pytest.mark.parametrize("index", [0, (), Ellipsis, None, np.array(True)])
def test_getitem_scalar(index: Any) -> None:
    combo_check(lambda m, x: x[index] if index != 0 else x[None][index], R())


def test_getitem_vector_and_matrix() -> None:
    combo_check(lambda m, x: x[::-1][np.array([0, 0, 2])], R(3))
    combo_check(lambda m, x: x[1:, ::-1][:, None, [0, 0]], R(3, 3))


CASES = [
    ("take_flat", lambda m, x: m.take(x, [0, 5, 5, 2]), [(2, 3)]),
    ("take_axis", lambda m, x: m.take(x, np.array([[2, 0], [2, 2]]), axis=1), [(2, 3)]),
    ("take_negative_axis", lambda m, x: m.take(x, [1, 1], axis=-1), [(2, 2, 3)]),
    ("take_scalar_index", lambda m, x: m.take(x, 1, axis=0), [(3, 2)]),
    ("take_clip", lambda m, x: m.take(x, [-2, 5], mode="clip"), [(3,)]),
    ("take_wrap", lambda m, x: m.take(x, [-2, 5], mode="wrap"), [(3,)]),
    ("take_along_axis", lambda m, x: m.take_along_axis(x, np.array([[0, 0, 2], [1, 2, 2]]), axis=1), [(2, 3)]),
    ("take_along_axis_0", lambda m, x: m.take_along_axis(x, np.array([[1, 0, 1]]), axis=0), [(2, 3)]),
    ("take_along_axis_none", lambda m, x: m.take_along_axis(x, np.array([5, 0, 0]), axis=None), [(2, 3)]),
    ("sort", lambda m, x: m.sort(x), [(4,)]),
    ("sort_axis0", lambda m, x: m.sort(x, axis=0), [(3, 2)]),
    ("sort_3d", lambda m, x: m.sort(x, axis=1), [(2, 3, 2)]),
    ("sort_none", lambda m, x: m.sort(x, axis=None), [(2, 3)]),
    ("sort_stable", lambda m, x: m.sort(x, kind="stable"), [(2, 3)]),
    ("partition", lambda m, x: m.partition(x, 2), [(4,)]),
    ("partition_axis", lambda m, x: m.partition(x, (0, 2), axis=0)[[0, 2]], [(3, 2)]),
    ("partition_none", lambda m, x: m.partition(x, 3, axis=None)[3], [(2, 3)]),
    ("choose", lambda m, x, y: m.choose(np.array([1, 0, 1]), [x, y]), [(3,), (3,)]),
    ("choose_broadcast", lambda m, x, y: m.choose(np.array([[0], [1]]), [x, y]), [(3,), ()]),
    ("choose_clip", lambda m, x, y: m.choose(np.array([-1, 5]), [x, y], mode="clip"), [(2,), (2,)]),
    ("triu_indices_from", lambda m, x: x[m.triu_indices_from(x, 1)], [(3, 3)]),
    ("diag_indices_from", lambda m, x: x[m.diag_indices_from(x)], [(3, 3)]),
    ("ix_", lambda m, x: x[m.ix_([0, 2], [1, 1])], [(3, 3)]),
    ("unravel_index", lambda m, x: x[m.unravel_index([5, 0, 5], x.shape)], [(2, 3)]),
    ("diag_extract", lambda m, x: m.diag(x), [(3, 3)]),
    ("diag_extract_k", lambda m, x: m.diag(x, -1), [(3, 4)]),
    ("diag_build", lambda m, x: m.diag(x), [(3,)]),
    ("diag_build_k", lambda m, x: m.diag(x, 2), [(2,)]),
    ("diag_build_negative_k", lambda m, x: m.diag(x, -1), [(3,)]),
    ("diagonal", lambda m, x: m.diagonal(x), [(3, 2)]),
    ("diagonal_offset", lambda m, x: m.diagonal(x, 1), [(3, 3)]),
    ("diagonal_axes", lambda m, x: m.diagonal(x, -1, 2, 0), [(3, 2, 3)]),
    ("diagflat", lambda m, x: m.diagflat(x), [(2, 2)]),
    ("diagflat_k", lambda m, x: m.diagflat(x, -2), [(3,)]),
    ("extract", lambda m, x: m.extract(np.array([[True, False, True], [False, False, True]]), x), [(2, 3)]),
    ("extract_traced_condition", lambda m, x: m.extract(x > 0, x), [(2, 3)]),
    ("trace", lambda m, x: m.trace(x), [(3, 3)]),
    ("trace_offset_axes", lambda m, x: m.trace(x, 1, 1, 2), [(2, 3, 3)]),
    ("triu", lambda m, x: m.triu(x), [(3, 3)]),
    ("triu_k", lambda m, x: m.triu(x, 1), [(3, 4)]),
    ("triu_batch", lambda m, x: m.triu(x, -1), [(2, 3, 3)]),
    ("triu_vector", lambda m, x: m.triu(x), [(3,)]),
    ("tril", lambda m, x: m.tril(x), [(3, 3)]),
    ("tril_k", lambda m, x: m.tril(x, -1), [(2, 4, 3)]),
    ("where", lambda m, x, y: m.where(np.array([True, False, True]), x, y), [(3,), (3,)]),
    ("where_broadcast", lambda m, x, y: m.where(np.array([[True], [False]]), x, y), [(3,), (2, 1)]),
    ("where_scalar_other", lambda m, x: m.where(np.array([True, False]), x, 0.0), [(2, 2)]),
    ("where_traced_condition", lambda m, x: m.where(x > 0, x, -x), [(2, 3)]),
    (
        "select",
        lambda m, x, y: m.select([np.array([True, False, False]), np.array([True, True, False])], [x, y]),
        [(3,), (3,)],
    ),  # fmt: skip
    ("select_default", lambda m, x, d: m.select([x > 0], [x], d), [(2, 3), ()]),
    ("select_broadcast", lambda m, x, y: m.select([np.array([[True], [False]])], [x], y), [(3,), (2, 3)]),
    (
        "interp_fp",
        lambda m, fp: m.interp(np.array([-1.0, 0.25, 1.0, 1.5, 3.0]), np.array([0.0, 1.0, 2.0]), fp),
        [(3,)],
    ),  # fmt: skip
    (
        "interp_x",
        lambda m, x: m.interp(x, np.array([-3.0, -1.0, 0.5, 3.0]), np.array([1.0, -2.0, 0.5, 4.0])),
        [(2, 2)],
    ),  # fmt: skip
    ("piecewise", lambda m, x: m.piecewise(x, [x < 0, x > 1], [lambda v: v**2, lambda v: -v, 7.0]), [(2, 3)]),
    ("piecewise_default", lambda m, x: m.piecewise(x, [x < 0], [lambda v: v**3]), [(4,)]),
    ("piecewise_scalar", lambda m, x: m.piecewise(x, [x < 0, x >= 0], [lambda v: v**3, lambda v: 2 * v]), [()]),
    ("apply_along_axis", lambda m, x: m.apply_along_axis(lambda v: v * v.sum(), 1, x), [(2, 3, 2)]),
    ("apply_along_axis_scalar", lambda m, x: m.apply_along_axis(lambda v: v @ v, 0, x), [(3, 2)]),
    ("apply_along_axis_matrix", lambda m, x: m.apply_along_axis(lambda v: np.outer(v, v), -1, x), [(2, 3)]),
    ("interp_all", lambda m, x, xp, fp: m.interp(x, np.sort(np.abs(xp)) * np.arange(1, 4), fp), [(4,), (3,), (3,)]),
    (
        "interp_left_right",
        lambda m, x, fp: m.interp(3 * x, np.array([-1.0, 0.0, 1.0]), fp, left=-5.0, right=fp[0]),
        [(4,), (3,)],
    ),  # fmt: skip
    ("interp_scalar", lambda m, x, fp: m.interp(x, np.array([-1.0, 2.0]), fp), [(), (2,)]),
]


def _args(shapes: list[tuple[int, ...]], dtype: Any) -> list[Any]:
    return [R(*s, dtype=dtype, seed=i) for i, s in enumerate(shapes)]


@pytest.mark.parametrize("name,fun,shapes", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_select_function(name: str, fun: Any, shapes: list[tuple[int, ...]], dtype: Any) -> None:
    args = _args(shapes, dtype)
    if name.startswith("interp") and dtype == np.float32:
        # numpy.interp computes in float64 whatever the input; so does funcgrad
        args = [np.asarray(a, np.float64) for a in args[:-1]] + [args[-1]]
    combo_check(fun, *args)


COMPLEX = ["take_axis", "sort_axis0", "diag_build_k", "diagonal_axes", "trace", "triu_k", "where_broadcast",
           "select_default", "interp_fp"]  # fmt: skip


@pytest.mark.parametrize("name", COMPLEX)
def test_select_function_complex(name: str) -> None:
    _, fun, shapes = next(c for c in CASES if c[0] == name)
    args = _args(shapes, np.complex128)
    if name == "select_default":
        args = [np.real(args[0]), args[1]]
        fun = lambda m, x, d: m.select([x > 0], [x * (1 + 2j)], d)  # noqa: E731
    combo_check(fun, *args)


def test_sort_gradient_follows_permutation() -> None:
    x = np.array([3.0, 1.0, 2.0])
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sort(x)[0])(x), [0.0, 1.0, 0.0])
    np.testing.assert_allclose(fg.jacfwd(fnp.sort)(x), np.eye(3)[np.argsort(x)])


def test_interp_slope_at_breakpoints_is_right_segment() -> None:
    xp, fp = np.array([0.0, 1.0, 3.0]), np.array([0.0, 2.0, 3.0])
    d = fg.grad(lambda x: fnp.interp(x, xp, fp))
    assert d(1.0) == 0.5 and d(0.0) == 2.0 and d(3.0) == 0.5 and d(-1.0) == 0.0 and d(4.0) == 0.0
    assert fg.jacfwd(lambda x: fnp.interp(x, xp, fp))(1.0) == 0.5


def test_where_one_argument_is_nonzero() -> None:
    def f(x: Any) -> Any:
        (i,) = np.where(x > 0)
        assert isinstance(i, np.ndarray) and i.dtype.kind == "i"
        return fnp.sum(x[i] ** 2)

    np.testing.assert_allclose(fg.grad(f)(np.array([-1.0, 2.0, 3.0])), [0.0, 4.0, 6.0])


def test_index_builders_read_traced_values() -> None:
    def f(x: Any) -> Any:
        i = fnp.argmax(x)  # a plain integer, but index arithmetic on traced ints also works
        rows, cols = np.unravel_index(i, x.shape)
        return x[rows, cols] * fnp.sum(x[fnp.tril_indices(3)]) + fnp.sum(x[np.diag_indices_from(x)])

    x = R(3, 3, seed=2)
    check_grads(f, (x,), order=2)


def test_traced_integer_index_is_read_as_value() -> None:
    def f(x: Any) -> Any:
        i = fnp.astype(x[0], np.int64)
        return x[i] * x[[i, i]].sum()

    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(fg.grad(f)(x), fg.grad(lambda x: x[1] * x[[1, 1]].sum())(x))


@pytest.mark.parametrize(
    "index",
    [
        lambda x: x[0],
        lambda x: (x[0], 1),
        lambda x: [x[0], 0],
    ],
)
def test_traced_float_index_raises(index: Any) -> None:
    with pytest.raises(TypeError, match="index must be integers or booleans"):
        fg.grad(lambda x: fnp.sum(x[index(x)]))(np.ones(3))


def test_other_misuse_raises() -> None:
    with pytest.raises(TypeError):
        fg.grad(lambda x: fnp.sum(fnp.take(x, x)))(np.ones(2))
    with pytest.raises(ValueError, match="both or neither"):
        fg.grad(lambda x: fnp.sum(fnp.where(x > 0, x)))(np.ones(2))
    with pytest.raises(TypeError, match="boolean"):
        fg.grad(lambda x: fnp.sum(fnp.select([np.array([1, 0])], [x])))(np.ones(2))
    with pytest.raises(NotImplementedError, match="period"):
        fg.grad(lambda x: fnp.interp(x, np.array([0.0, 1.0]), np.array([0.0, 1.0]), period=1.0))(0.5)
    with pytest.raises(ValueError):
        fg.grad(lambda x: fnp.sum(fnp.diag(x)))(np.ones((2, 2, 2)))
    with pytest.raises(IndexError):
        fg.grad(lambda x: x.__setitem__(5, 1.0) or x.sum())(np.ones(2))  # NumPy's bounds check


def test_plain_inputs_return_numpy_results() -> None:
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(fnp.take(x, [1, 1], axis=1), np.take(x, [1, 1], axis=1))
    np.testing.assert_array_equal(fnp.diag(np.arange(2.0), 1), np.diag(np.arange(2.0), 1))
    assert fnp.interp(0.5, [0.0, 1.0], [0.0, 1.0]) == 0.5
    np.testing.assert_array_equal(fnp.where(x > 2)[0], np.where(x > 2)[0])


def test_array_methods() -> None:
    x = np.arange(6.0).reshape(2, 3)

    def f(x: Any) -> Any:
        return (
            x.take([0, 0], axis=1).sum() + x.repeat(2).sum() + x.diagonal().sum() + x.trace() + x.swapaxes(0, 1)[0, 1]
        )

    np.testing.assert_allclose(fg.grad(f)(x), [[6.0, 2.0, 2.0], [5.0, 4.0, 2.0]])
    def sort_in_place(v):
        v.sort()
        return (v * np.arange(3.0)).sum()

    check_grads(sort_in_place, (x,), order=2)  # in place, as NumPy: the sorted values' derivative
    for in_place in (lambda v: v.put([0], 1.0), lambda v: v.fill(0.0), lambda v: v.partition(1)):
        def written(v, in_place=in_place):
            in_place(v)
            return (v**2).sum()

        assert fg.value_and_grad(written)(x)[0] == written(x.copy())
    np.testing.assert_allclose(fg.grad(lambda x: x.compress([True, False], axis=0).sum())(x), [[1.0] * 3, [0.0] * 3])


HESSIANS = {
    "at_multiply": lambda x: (fnp.at(x)[[0, 0, 2], [1, 1, 0]].multiply(x[1]) ** 2).sum(),
    "at_set": lambda x: (fnp.at(x)[[0, 0], :].set(x[2] * x[1]) ** 2).sum(),
    "at_add": lambda x: (fnp.at(x)[..., [0, 0]].add(x[:, 1:] ** 2) ** 3).sum(),
    "pad": lambda x: (fnp.pad(x, 1, mode="reflect") ** 3).sum(),
    "sort": lambda x: (fnp.sort(x, axis=0) * np.arange(9.0).reshape(3, 3) ** 2).sum() + (fnp.sort(x) ** 3).sum(),
    "getitem": lambda x: (x[[0, 0, 1]][:, None, ::-1] ** 3).sum(),
    "mask": lambda x: (x[x > 0] ** 3).sum(),
    "interp": lambda x: (fnp.interp(x[0], x[1] * 0 + np.array([-1, 0, 1.0]), x[2] ** 2) ** 2).sum(),
    "diag": lambda x: (fnp.diag(fnp.diag(x) ** 2, 1) ** 2).sum() + fnp.trace(x @ x),
}


@pytest.mark.parametrize("name", list(HESSIANS))
def test_hessians_agree(name: str) -> None:
    f = HESSIANS[name]
    x = R(3, 3, seed=5)
    h = fg.hessian(f)(x)
    np.testing.assert_allclose(h, fg.jacfwd(fg.jacfwd(f))(x), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(h, fg.jacrev(fg.jacrev(f))(x), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(h.reshape(9, 9), h.reshape(9, 9).T, rtol=1e-10, atol=1e-10)
