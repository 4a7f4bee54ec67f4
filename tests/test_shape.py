"""Shape functions: values equal NumPy's, derivatives match finite differences
(forward and reverse, order 2), ``jacfwd`` agrees with ``jacrev``.

Every case is written once as ``fun(m, *args)`` and run with ``m = funcgrad.numpy``
and with ``m = numpy`` (traced values reach funcgrad through ``__array_function__``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import R, combo_check

import funcgrad as fg
import funcgrad.numpy as fnp

# (name, fun(m, *args), argument shapes)
CASES = [
    ("reshape", lambda m, x: m.reshape(x, (3, 2)), [(2, 3)]),
    ("reshape_-1", lambda m, x: m.reshape(x, (-1,)), [(2, 3)]),
    ("reshape_scalar", lambda m, x: m.reshape(x, (1, 1)), [()]),
    ("reshape_3d", lambda m, x: m.reshape(x, (4, -1)), [(2, 3, 2)]),
    ("ravel", lambda m, x: m.ravel(x), [(2, 3)]),
    ("squeeze", lambda m, x: m.squeeze(x), [(1, 3, 1)]),
    ("squeeze_axis", lambda m, x: m.squeeze(x, axis=-1), [(1, 3, 1)]),
    ("expand_dims", lambda m, x: m.expand_dims(x, 1), [(2, 3)]),
    ("expand_dims_tuple", lambda m, x: m.expand_dims(x, (0, -1)), [(3,)]),
    ("transpose", lambda m, x: m.transpose(x), [(2, 3)]),
    ("transpose_axes", lambda m, x: m.transpose(x, (1, 2, 0)), [(2, 3, 4)]),
    ("transpose_neg", lambda m, x: m.transpose(x, (-1, 0, 1)), [(2, 3, 4)]),
    ("moveaxis", lambda m, x: m.moveaxis(x, 0, -1), [(2, 3, 4)]),
    ("moveaxis_multi", lambda m, x: m.moveaxis(x, (0, 1), (2, 0)), [(2, 3, 4)]),
    ("swapaxes", lambda m, x: m.swapaxes(x, 0, 2), [(2, 3, 4)]),
    ("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 3)), [(3,)]),
    ("broadcast_to_ones", lambda m, x: m.broadcast_to(x, (2, 2, 3)), [(1, 3)]),
    ("broadcast_to_scalar", lambda m, x: m.broadcast_to(x, (2, 2)), [()]),
    ("atleast_1d_scalar", lambda m, x: m.atleast_1d(x), [()]),
    ("atleast_1d_matrix", lambda m, x: m.atleast_1d(x), [(2, 3)]),
    ("atleast_2d_vector", lambda m, x: m.atleast_2d(x), [(3,)]),
    ("atleast_2d_scalar", lambda m, x: m.atleast_2d(x), [()]),
    ("atleast_3d_scalar", lambda m, x: m.atleast_3d(x), [()]),
    ("atleast_3d_vector", lambda m, x: m.atleast_3d(x), [(3,)]),
    ("atleast_3d_matrix", lambda m, x: m.atleast_3d(x), [(2, 3)]),
    ("atleast_2d_many", lambda m, x, y: m.atleast_2d(x, y), [(3,), (2, 2)]),
    ("concatenate", lambda m, x, y: m.concatenate([x, y]), [(2, 3), (1, 3)]),
    ("concatenate_axis1", lambda m, x, y: m.concatenate([x, y, x], axis=1), [(2, 3), (2, 1)]),
    ("concatenate_neg", lambda m, x, y: m.concatenate((x, y), axis=-1), [(2, 2, 3), (2, 2, 1)]),
    ("concatenate_none", lambda m, x, y: m.concatenate([x, y], axis=None), [(2, 3), (4,)]),
    ("concatenate_const", lambda m, x: m.concatenate([x, np.ones((1, 3))]), [(2, 3)]),
    ("concatenate_mixed_dtypes", lambda m, x: m.concatenate([x, x.astype(np.float64), x]), [(2,)]),
    ("concatenate_dtype", lambda m, x, y: m.concatenate([x, y], dtype=np.float64), [(2,), (1,)]),
    ("stack_dtype", lambda m, x, y: m.stack([x, y], axis=1, dtype=np.float64), [(2,), (2,)]),
    ("stack", lambda m, x, y: m.stack([x, y]), [(2, 3), (2, 3)]),
    ("stack_neg", lambda m, x, y: m.stack([x, y], axis=-1), [(3,), (3,)]),
    ("stack_scalars", lambda m, x, y: m.stack([x, y]), [(), ()]),
    ("hstack_1d", lambda m, x, y: m.hstack([x, y]), [(3,), (2,)]),
    ("hstack_2d", lambda m, x, y: m.hstack((x, y)), [(2, 3), (2, 1)]),
    ("hstack_scalars", lambda m, x, y: m.hstack([x, y]), [(), ()]),
    ("vstack_1d", lambda m, x, y: m.vstack([x, y]), [(3,), (3,)]),
    ("vstack_2d", lambda m, x, y: m.vstack([x, y]), [(2, 3), (1, 3)]),
    ("dstack", lambda m, x, y: m.dstack([x, y]), [(2, 3), (2, 3)]),
    ("dstack_1d", lambda m, x, y: m.dstack([x, y]), [(3,), (3,)]),
    ("column_stack", lambda m, x, y: m.column_stack([x, y]), [(3,), (3, 2)]),
    ("block_2d", lambda m, x, y, z: m.block([[x, y], [z]]), [(2, 2), (2, 3), (1, 5)]),
    ("block_1d", lambda m, x, y: m.block([x, y, np.ones(2)]), [(2,), (3,)]),
    ("block_promotes", lambda m, x, y: m.block([[[x]], [[y]]]), [(2, 2), (2, 2)]),
    ("block_mixed", lambda m, x, y: m.block([[x, np.zeros((2, 1))], [np.ones((1, 2)), y]]), [(2, 2), (1, 1)]),
    ("block_scalars", lambda m, x, y: m.block([[x, y]]), [(), ()]),
    ("block_single", lambda m, x: m.block(x), [(2, 3)]),
    ("split_sections", lambda m, x: m.split(x, 2), [(4,)]),
    ("split_points", lambda m, x: m.split(x, [1, 3], axis=1), [(2, 4)]),
    ("split_negative_point", lambda m, x: m.split(x, [-1], axis=-1), [(2, 3)]),
    ("split_past_end", lambda m, x: m.split(x, [1, 5]), [(3, 2)]),
    ("array_split", lambda m, x: m.array_split(x, 3, axis=1), [(2, 4)]),
    ("array_split_more_than_n", lambda m, x: m.array_split(x, 4), [(3,)]),
    ("hsplit_1d", lambda m, x: m.hsplit(x, 2), [(4,)]),
    ("hsplit_2d", lambda m, x: m.hsplit(x, [1]), [(2, 3)]),
    ("vsplit", lambda m, x: m.vsplit(x, 2), [(4, 2)]),
    ("dsplit", lambda m, x: m.dsplit(x, [1]), [(2, 1, 3)]),
    ("repeat_int", lambda m, x: m.repeat(x, 2), [(2, 2)]),
    ("repeat_axis", lambda m, x: m.repeat(x, 2, axis=1), [(2, 3)]),
    ("repeat_array", lambda m, x: m.repeat(x, [0, 2, 1], axis=-1), [(2, 3)]),
    ("repeat_scalar", lambda m, x: m.repeat(x, 3), [()]),
    ("tile_int", lambda m, x: m.tile(x, 2), [(3,)]),
    ("tile_tuple", lambda m, x: m.tile(x, (2, 1, 2)), [(2, 3)]),
    ("tile_fewer_reps", lambda m, x: m.tile(x, 2), [(2, 2)]),
    ("flip_all", lambda m, x: m.flip(x), [(2, 3)]),
    ("flip_axis", lambda m, x: m.flip(x, 1), [(2, 3, 2)]),
    ("flip_axes", lambda m, x: m.flip(x, (0, -1)), [(2, 3, 2)]),
    ("flip_scalar", lambda m, x: m.flip(x), [()]),
    ("fliplr", lambda m, x: m.fliplr(x), [(2, 3)]),
    ("flipud", lambda m, x: m.flipud(x), [(3,)]),
    ("rot90", lambda m, x: m.rot90(x), [(2, 3)]),
    ("rot90_k2", lambda m, x: m.rot90(x, 2), [(2, 3)]),
    ("rot90_k3_axes", lambda m, x: m.rot90(x, 3, axes=(1, 2)), [(2, 3, 2)]),
    ("rot90_kneg", lambda m, x: m.rot90(x, -1, axes=(1, 0)), [(2, 3)]),
    ("roll_flat", lambda m, x: m.roll(x, 2), [(2, 3)]),
    ("roll_axis", lambda m, x: m.roll(x, -1, axis=1), [(2, 3)]),
    ("roll_tuple", lambda m, x: m.roll(x, (1, 2), axis=(0, 1)), [(2, 3)]),
    ("roll_same_axis_twice", lambda m, x: m.roll(x, (1, 4), axis=(-1, 1)), [(2, 3)]),
    ("roll_past_the_length", lambda m, x: m.roll(x, -7, axis=0), [(3, 2)]),
    ("roll_full_turn", lambda m, x: m.roll(x, 3, axis=1) * x, [(2, 3)]),
    ("roll_scalar", lambda m, x: m.roll(x, 1), [()]),
    ("roll_empty_axis", lambda m, x: m.roll(x, 1, axis=0), [(0, 3)]),
    ("roll_flat_tuple", lambda m, x: m.roll(x, (1, 3)), [(2, 3)]),
    ("pad_int", lambda m, x: m.pad(x, 1), [(2, 3)]),
    ("pad_pairs", lambda m, x: m.pad(x, ((1, 0), (0, 2))), [(2, 3)]),
    ("pad_constant_values", lambda m, x: m.pad(x, 1, constant_values=2.5), [(3,)]),
    ("pad_per_axis_values", lambda m, x: m.pad(x, 1, constant_values=((1, 2), (3, 4))), [(2, 2)]),
    ("pad_traced_constant", lambda m, x, c: m.pad(x, (1, 2), constant_values=c), [(2, 2), ()]),
    ("pad_traced_pairs", lambda m, x, c: m.pad(x, 1, constant_values=c), [(2, 2), (2, 2)]),
    ("pad_traced_before_after", lambda m, x, c: m.pad(x, ((0, 1), (2, 0)), constant_values=c), [(2, 2), (2,)]),
    ("pad_edge", lambda m, x: m.pad(x, ((1, 2), (0, 1)), mode="edge"), [(2, 3)]),
    ("pad_reflect", lambda m, x: m.pad(x, 2, mode="reflect"), [(3, 3)]),
    ("pad_reflect_long", lambda m, x: m.pad(x, 4, mode="reflect"), [(3,)]),
    ("pad_symmetric", lambda m, x: m.pad(x, (1, 3), mode="symmetric"), [(2, 3)]),
    ("pad_wrap", lambda m, x: m.pad(x, ((2, 1),), mode="wrap"), [(3,)]),
    ("pad_mean", lambda m, x: m.pad(x, ((1, 2), (2, 1)), mode="mean"), [(3, 4)]),
    ("pad_mean_stat", lambda m, x: m.pad(x, 2, mode="mean", stat_length=((1, 2), (3, 1), (2, 2))), [(2, 3, 4)]),
    ("pad_linear_ramp", lambda m, x: m.pad(x, 2, mode="linear_ramp"), [(3, 2)]),
    ("pad_linear_ramp_end", lambda m, x: m.pad(x, (1, 3), mode="linear_ramp", end_values=((1, 2), (3, -1))), [(3, 2)]),
    ("pad_maximum", lambda m, x: m.pad(x, ((1, 2), (2, 0)), mode="maximum"), [(3, 4)]),
    ("pad_minimum_stat", lambda m, x: m.pad(x, 2, mode="minimum", stat_length=((1, 2), (3, 1), (2, 2))), [(2, 3, 4)]),
    ("pad_median_odd", lambda m, x: m.pad(x, (2, 1), mode="median"), [(3,)]),
    ("pad_median_even", lambda m, x: m.pad(x, 1, mode="median"), [(2, 4)]),
    ("pad_reflect_odd", lambda m, x: m.pad(x, 4, mode="reflect", reflect_type="odd"), [(3,)]),
    ("pad_symmetric_odd", lambda m, x: m.pad(x, ((3, 1), (2, 4)), mode="symmetric", reflect_type="odd"), [(3, 4)]),
    ("meshgrid_xy", lambda m, x, y: m.meshgrid(x, y), [(2,), (3,)]),
    ("meshgrid_ij", lambda m, x, y: m.meshgrid(x, y, indexing="ij"), [(2,), (3,)]),
    ("meshgrid_three", lambda m, x, y, z: m.meshgrid(x, y, z), [(2,), (3,), (2,)]),
    ("meshgrid_sparse", lambda m, x, y: m.meshgrid(x, y, sparse=True), [(2,), (3,)]),
    ("meshgrid_one", lambda m, x: m.meshgrid(x), [(3,)]),
    ("rollaxis", lambda m, x: m.rollaxis(x, 2), [(2, 3, 4)]),
    ("rollaxis_start", lambda m, x: m.rollaxis(x, 0, 3), [(2, 3, 4)]),
    ("rollaxis_negative", lambda m, x: m.rollaxis(x, -1, 1), [(2, 3, 4)]),
    ("delete_flat", lambda m, x: m.delete(x, [0, 4]), [(2, 3)]),
    ("delete_axis", lambda m, x: m.delete(x, slice(0, 2), axis=1), [(2, 3)]),
    ("delete_int", lambda m, x: m.delete(x, -1, axis=0), [(3, 2)]),
    ("insert_scalar", lambda m, x, v: m.insert(x, 1, v), [(3,), ()]),
    ("insert_plain_values", lambda m, x: m.insert(x, [0, 2], 5.0), [(3,)]),
    ("insert_repeated", lambda m, x, v: m.insert(x, [1, 1, 3], v), [(3,), (3,)]),
    ("insert_axis", lambda m, x, v: m.insert(x, 1, v, axis=1), [(2, 3), (2,)]),
    ("insert_axis_seq", lambda m, x, v: m.insert(x, [0, 2], v, axis=0), [(2, 3), (2, 3)]),
    ("insert_broadcast", lambda m, x, v: m.insert(x, [2], v, axis=1), [(2, 3), (2, 1)]),
    ("append_flat", lambda m, x, v: m.append(x, v), [(2, 2), (3,)]),
    ("append_axis", lambda m, x, v: m.append(x, v, axis=0), [(2, 2), (1, 2)]),
    ("compress", lambda m, x: m.compress([True, False, True], x, axis=1), [(2, 3)]),
    ("compress_flat", lambda m, x: m.compress([False, True, True], x), [(2, 3)]),
    ("resize_grow", lambda m, x: m.resize(x, (3, 3)), [(2, 2)]),
    ("resize_shrink", lambda m, x: m.resize(x, 3), [(2, 3)]),
]


@pytest.mark.parametrize("name,fun,shapes", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_shape_function(name: str, fun: Any, shapes: list[tuple[int, ...]], dtype: Any) -> None:
    combo_check(fun, *[R(*s, dtype=dtype, seed=i) for i, s in enumerate(shapes)])


COMPLEX = ["reshape", "transpose_axes", "concatenate_axis1", "split_points", "repeat_array", "tile_tuple",
           "flip_axes", "rot90", "roll_tuple", "pad_traced_constant", "pad_reflect", "pad_mean", "meshgrid_xy",
           "insert_axis"]  # fmt: skip


@pytest.mark.parametrize("name", COMPLEX)
def test_shape_function_complex(name: str) -> None:
    _, fun, shapes = next(c for c in CASES if c[0] == name)
    combo_check(fun, *[R(*s, dtype=np.complex128, seed=i) for i, s in enumerate(shapes)])


def test_split_returns_list_of_tracers() -> None:
    def f(x: Any) -> Any:
        parts = fnp.split(x, 2)
        assert isinstance(parts, list) and all(isinstance(p, fnp.ArrayTracer) for p in parts)
        return parts[0] * parts[1]

    np.testing.assert_allclose(fg.grad(lambda x: f(x).sum())(np.arange(4.0)), [2.0, 3.0, 0.0, 1.0])


def test_pad_gradient_of_constant_counts_padded_cells() -> None:
    grad = fg.grad(lambda c: fnp.pad(np.ones((2, 3)), ((1, 0), (2, 1)), constant_values=c).sum())(0.5)
    assert grad == 3 * 6 - 6


def test_tile_gradient_accumulates() -> None:
    np.testing.assert_allclose(fg.grad(lambda x: (fnp.tile(x, (2, 3)) * np.arange(12.0).reshape(2, 6)).sum())(
        np.ones(2)), [0 + 2 + 4 + 6 + 8 + 10, 1 + 3 + 5 + 7 + 9 + 11])  # fmt: skip


@pytest.mark.parametrize(
    "call,error",
    [
        (lambda x: fnp.pad(x, 1, mode="maximum", stat_length=x[:1]), NotImplementedError),
        (lambda x: fnp.pad(x, 1, mode="empty"), NotImplementedError),
        (lambda x: fnp.pad(x, 1, mode=lambda *a, **k: None), NotImplementedError),
        (lambda x: fnp.pad(x, 1, mode="linear_ramp", end_values=x[0]), NotImplementedError),
        (lambda x: fnp.split(x, 3), ValueError),
        (lambda x: fnp.fliplr(x), ValueError),
        (lambda x: fnp.vsplit(x, 2), ValueError),
        (lambda x: fnp.meshgrid(x, indexing="yx"), ValueError),
        (lambda x: fnp.concatenate([x, x], axis=2), np.exceptions.AxisError),
        (lambda x: fnp.reshape(x, (3, 3)), ValueError),
        (lambda x: fnp.transpose(x[None], (0, 2)), np.exceptions.AxisError),
        (lambda x: fnp.transpose(x[None], (0, 0)), ValueError),
        (lambda x: fnp.moveaxis(x, 3, 0), np.exceptions.AxisError),
        (lambda x: fnp.swapaxes(x, 0, 1), np.exceptions.AxisError),
        (lambda x: fnp.squeeze(x, 0), ValueError),
        (lambda x: fnp.concatenate([x, x[None]]), ValueError),
        (lambda x: fnp.stack([x, x[1:]]), ValueError),
        (lambda x: fnp.block([[x], x]), ValueError),
    ],
)
def test_shape_errors(call: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        fg.grad(lambda x: fnp.sum(call(x)))(np.ones(4))


def test_pad_unsupported_mode_names_mode() -> None:
    with pytest.raises(NotImplementedError, match="'empty'"):
        fg.grad(lambda x: fnp.sum(fnp.pad(x, 1, mode="empty")))(np.ones(2))


def test_plain_inputs_return_numpy_results() -> None:
    x = np.arange(6.0).reshape(2, 3)
    assert type(fnp.split(x, 3, axis=1)) is list
    np.testing.assert_array_equal(fnp.rot90(x), np.rot90(x))
    np.testing.assert_array_equal(fnp.pad(x, 1, mode="wrap"), np.pad(x, 1, mode="wrap"))
    assert fnp.pad(x.astype(np.float32), 1).dtype == np.float32
