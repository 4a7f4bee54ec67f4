"""Functional updates ``x.at[idx].set/add/multiply/divide/min/max/get/apply``.

Values are compared with NumPy's ``ufunc.at`` (``np.add.at``, ``np.multiply.at``,
...) and with copy-then-assign for ``set``; derivatives in both ``x`` and the
values ``v`` with check_grads (fwd + rev, order 2) and jacfwd == jacrev, for
every index form, including repeated integer indices.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import R

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.testing import check_grads


def _numpy_update(op: str, x: Any, index: Any, v: Any) -> Any:
    """What NumPy computes: ``ufunc.at`` for the arithmetic updates, assignment for set."""
    out = np.array(x, copy=True)
    if op == "set":
        out[index] = v
        return out
    if op == "get":
        return x[index]
    ufunc = {"add": np.add, "multiply": np.multiply, "divide": np.divide, "min": np.minimum, "max": np.maximum}[op]
    ufunc.at(out, index, v)
    return out


def _update(op: str, x: Any, index: Any, v: Any) -> Any:
    ref = fnp.at(x)[index]
    return ref.get() if op == "get" else getattr(ref, op)(v)


def _values(op: str, shape: tuple[int, ...], dtype: Any, seed: int = 1) -> Any:
    v = R(*shape, dtype=dtype, seed=seed)
    if op == "divide":
        v = (np.sign(np.real(v)) + 0.5 * v).astype(dtype)  # away from zero
    return v


MASK = np.array([[True, False, True], [False, True, True]])

# (name, index into a (2, 3, 4) array); values are given the selected shape,
# or a broadcastable one when the name says so
INDEXES = [
    ("int", 1),
    ("negative_int", -2),
    ("tuple_ints", (1, 2, 3)),
    ("slice", slice(0, 1)),
    ("negative_step", (slice(None), slice(None, None, -2))),
    ("newaxis", (None, 0)),
    ("ellipsis", (Ellipsis, 1)),
    ("ellipsis_newaxis", (0, Ellipsis, None)),
    ("all", ()),
    ("bool_mask", MASK),
    ("bool_mask_axis", (slice(None), slice(None), np.array([True, False, False, True]))),
    ("bool_full", np.arange(24).reshape(2, 3, 4) % 5 == 1),
    ("int_array", np.array([1, 0])),
    ("int_list_repeats", [1, 1]),
    ("repeats_last_axis", (Ellipsis, np.array([3, 0, 3, 3]))),
    ("pairs_repeated", (np.array([0, 1, 0, 0]), np.array([2, 1, 2, 2]))),
    ("separated_arrays", (np.array([0, 0]), slice(None), np.array([1, 1]))),
    ("int_and_array", (1, slice(1, 3), np.array([0, 2, 0]))),
    ("array_2d_repeats", np.array([[1, 1], [0, 1]])),
    ("mask_and_array", (np.array([True, False]), slice(None), np.array([2, 2]))),
    ("negative_array", (slice(None), np.array([-1, 2, -1]))),
    ("mixed", (np.array([1, 1]), None, Ellipsis, slice(None, None, -1))),
    ("nested_tuples", ((0, 0), slice(None), (1, 1))),
]

OPS = ["set", "add", "multiply", "divide", "min", "max"]


def _selected(index: Any) -> tuple[int, ...]:
    return np.zeros((2, 3, 4))[index].shape


@pytest.mark.parametrize("name,index", INDEXES, ids=[c[0] for c in INDEXES])
@pytest.mark.parametrize("op", OPS + ["get"])
def test_update_values_and_derivatives(name: str, index: Any, op: str) -> None:
    x = R(2, 3, 4)
    v = _values(op, _selected(index), np.float64)
    expected = _numpy_update(op, x, index, v)
    # values: on traced x (the .at property) and on plain x (fnp.at)
    np.testing.assert_allclose(_update(op, x, index, v), expected, rtol=1e-12)
    traced = fg.jvp(lambda x, v: getattr(x.at[index], op)(v) if op != "get" else x.at[index].get(), (x, v),
                    (x, v))[0]  # fmt: skip
    np.testing.assert_allclose(traced, expected, rtol=1e-12)
    np.testing.assert_allclose(fg.vjp(lambda v: _update(op, x, index, v), v)[0], expected, rtol=1e-12)
    # derivatives in x and v
    check_grads(lambda x, v: _update(op, x, index, v) ** 2, (x, v), order=2)
    forward = fg.jacfwd(lambda x, v: _update(op, x, index, v), argnums=(0, 1))(x, v)
    reverse = fg.jacrev(lambda x, v: _update(op, x, index, v), argnums=(0, 1))(x, v)
    for f, r in zip(forward, reverse):
        np.testing.assert_allclose(f, r, rtol=1e-12, atol=1e-12)


BROADCAST = [("scalar", 1, ()), ("row", (slice(None), 1), (4,)), ("column", (Ellipsis, [0, 0, 2]), (3, 1)),
             ("mask_scalar", MASK, ()), ("repeats_scalar", ([0, 0, 1], [2, 2, 2]), ())]  # fmt: skip


@pytest.mark.parametrize("name,index,vshape", BROADCAST, ids=[c[0] for c in BROADCAST])
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_update_broadcast_values(name: str, index: Any, vshape: tuple[int, ...], op: str, dtype: Any) -> None:
    x = R(2, 3, 4, dtype=dtype)
    v = _values(op, vshape, dtype)
    out = fg.jvp(lambda x, v: _update(op, x, index, v), (x, v), (x, v))[0]
    assert out.dtype == dtype
    np.testing.assert_allclose(out, _numpy_update(op, x, index, v), rtol=1e-6)
    check_grads(lambda x, v: _update(op, x, index, v) ** 2, (x, v), order=2)
    forward = fg.jacfwd(lambda x, v: _update(op, x, index, v), argnums=(0, 1))(x, v)
    reverse = fg.jacrev(lambda x, v: _update(op, x, index, v), argnums=(0, 1))(x, v)
    for f, r in zip(forward, reverse):
        np.testing.assert_allclose(f, r, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("index", [1, [0, 0, 2], (slice(None), [1, 1])], ids=["int", "repeats", "tuple"])
def test_update_scalar_vector_matrix(op: str, index: Any) -> None:
    for x in (R(3), R(3, 2)):
        if np.ndim(x) == 1 and isinstance(index, tuple):
            continue
        v = _values(op, np.zeros(x.shape)[index].shape, np.float64)
        np.testing.assert_allclose(fg.jvp(lambda x: _update(op, x, index, v), (x,), (x,))[0],
                                   _numpy_update(op, x, index, v))  # fmt: skip
        check_grads(lambda x, v: _update(op, x, index, v) ** 2, (x, v), order=2)


@pytest.mark.parametrize("op", ["set", "add", "multiply", "divide"])
def test_update_complex(op: str) -> None:
    x, v = R(3, 2, dtype=np.complex128), _values(op, (3, 2), np.complex128)
    index = ([0, 0, 2], slice(None))
    np.testing.assert_allclose(fg.jvp(lambda x: _update(op, x, index, v), (x,), (x,))[0],
                               _numpy_update(op, x, index, v))  # fmt: skip
    check_grads(lambda x, v: _update(op, x, index, v) ** 2, (x, v), order=2)


def test_add_accumulates_repeats() -> None:
    g = fg.grad(lambda v: (fnp.at(np.zeros(3))[[0, 0, 2]].add(v) ** 2).sum())(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(g, [6.0, 6.0, 6.0])  # out[0] = v0 + v1 = 3; out[2] = v2 = 3


def test_set_last_write_wins_and_only_it_has_a_derivative() -> None:
    g = fg.grad(lambda v: fnp.at(np.zeros(3))[[1, 1, 1]].set(v).sum())(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(g, [0.0, 0.0, 1.0])


def test_multiply_repeats_multiply_each_time() -> None:
    x, v = np.array([2.0, 5.0]), np.array([3.0, 0.0, 4.0])
    out, (gx, gv) = fg.value_and_grad(lambda x, v: fnp.at(x)[[0, 1, 0]].multiply(v).sum(), argnums=(0, 1))(x, v)
    assert out == 2.0 * 3.0 * 4.0 + 0.0
    np.testing.assert_allclose(gx, [12.0, 0.0])
    np.testing.assert_allclose(gv, [8.0, 5.0, 6.0])  # exact with a zero factor: no division


def test_min_max_with_repeats() -> None:
    x = np.array([0.0, 0.0])
    v = np.array([1.0, -2.0, -1.0])
    np.testing.assert_allclose(fnp.at(x)[[0, 0, 0]].min(v), [-2.0, 0.0])
    np.testing.assert_allclose(fg.grad(lambda v: fnp.at(x)[[0, 0, 0]].min(v)[0])(v), [0.0, 1.0, 0.0])
    np.testing.assert_allclose(fg.grad(lambda v: fnp.at(x)[[0, 0, 0]].max(v)[0])(v), [1.0, 0.0, 0.0])


def test_apply() -> None:
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(fnp.at(x)[[0, 0, 2]].apply(lambda a: a * a), [1.0, 2.0, 9.0])
    np.testing.assert_allclose(fg.grad(lambda x: x.at[[0, 0, 2]].apply(lambda a: a * a).sum())(x), [4.0, 1.0, 6.0])


def test_updates_do_not_modify_inputs() -> None:
    x = np.ones(3)
    fg.grad(lambda x: x.at[0].set(5.0).sum())(x)
    fnp.at(x)[[0, 0]].add(1.0)
    np.testing.assert_array_equal(x, np.ones(3))


def test_traced_float_index_in_at_raises() -> None:
    with pytest.raises(TypeError, match="index must be integers or booleans"):
        fg.grad(lambda x: x.at[x[0]].set(0.0).sum())(np.ones(3))


def test_in_place_assignment_is_the_functional_update() -> None:
    def written(x: Any) -> Any:
        x[[0, 0, 1]] = x * 3.0
        np.add.at(x, [2, 2], x[0])
        return (x**2).sum()

    def functional(x: Any) -> Any:
        x = x.at[[0, 0, 1]].set(x * 3.0)
        x = x.at[[2, 2]].add(x[0])
        return (x**2).sum()

    x = np.array([0.5, 1.5, 2.5])
    np.testing.assert_array_equal(fg.grad(written)(x), fg.grad(functional)(x))


PUT_CASES = [
    ("axis1", np.array([[0, 2], [1, 1]]), (2, 2), 1),
    ("axis0", np.array([[1, 0, 1]]), (1, 3), 0),
    ("repeats_last_wins", np.array([[0, 0, 0], [2, 1, 2]]), (2, 3), -1),
    ("broadcast_values", np.array([[2], [0]]), (), 1),
    ("flat", np.array([5, 0, 5]), (3,), None),
]


@pytest.mark.parametrize("name,indices,vshape,axis", PUT_CASES, ids=[c[0] for c in PUT_CASES])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_put_along_axis(name: str, indices: Any, vshape: tuple[int, ...], axis: Any, dtype: Any) -> None:
    x, v = R(2, 3, dtype=dtype), R(*vshape, dtype=dtype, seed=3)
    expected = x.copy()
    np.put_along_axis(expected, indices, v, axis)

    def f(x: Any, v: Any) -> Any:
        return fnp.put_along_axis(x, indices, v, axis, inplace=False)

    np.testing.assert_allclose(f(x, v), expected)
    out = fg.jvp(f, (x, v), (x, v))[0]
    assert out.dtype == dtype
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    check_grads(lambda x, v: f(x, v) ** 2, (x, v), order=2)
    forward = fg.jacfwd(f, argnums=(0, 1))(x, v)
    reverse = fg.jacrev(f, argnums=(0, 1))(x, v)
    for a, b in zip(forward, reverse):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "call",
    [
        lambda x: np.put(x, [0], 1.0),
        lambda x: np.place(x, x > 1, x[:1] * 2.0),
        lambda x: np.putmask(x, x > 1, 1.0),
        lambda x: np.fill_diagonal(x[None], 0.0),
        lambda x: np.put_along_axis(x, np.array([0]), x[2] ** 2, 0),
    ],
)
def test_numpy_in_place_writers_match_numpy(call: Any) -> None:
    def f(x: Any) -> Any:
        x = x * 1.0
        call(x)
        return (x**2).sum()

    x = np.array([0.5, 1.5, 2.5])
    assert fg.value_and_grad(f)(x)[0] == f(x)
    check_grads(f, (x,), order=1)


@pytest.mark.parametrize(
    "call",
    [
        lambda x: np.copyto(np.zeros(3), x),
        lambda x: fnp.put_along_axis(np.zeros(3), np.array([0]), x[0], 0),
    ],
)
def test_plain_destinations_refuse_traced_values(call: Any) -> None:
    with pytest.raises(TypeError, match=r"np\.zeros_like\(x\)"):
        fg.grad(lambda x: call(x) or x.sum())(np.ones(3))


def _random_index(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[Any, ...]:
    """A random index mixing ints, slices (any step), None, Ellipsis, int arrays with repeats, masks."""
    items: list[Any] = []
    axis, ellipsis = 0, False
    for _ in range(int(rng.integers(1, len(shape) + 2))):
        kind = rng.choice(["int", "slice", "none", "ellipsis", "array", "mask"])
        if kind == "none":
            items.append(None)
        elif kind == "ellipsis" and not ellipsis:
            items.append(Ellipsis)
            ellipsis = True
        elif axis < len(shape):
            n = shape[axis]
            axis += 1
            if kind == "int":
                items.append(int(rng.integers(-n, n)))
            elif kind == "slice":
                step = rng.choice([None, 1, 2, -1, -2])
                items.append(slice(rng.choice([None, int(rng.integers(-n, n + 1))]), None, step))
            elif kind == "array":
                items.append(rng.integers(-n, n, size=(3,) if rng.random() < 0.7 else (2, 1)))
            else:
                items.append(rng.random(n) < 0.6)
    return tuple(items)


@pytest.mark.parametrize("seed", range(4))
def test_random_indexes_against_numpy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    checked = 0
    while checked < 10:
        shape = tuple(int(s) for s in rng.integers(1, 4, size=int(rng.integers(1, 4))))
        index = _random_index(rng, shape)
        x = rng.standard_normal(shape)
        try:
            selected = x[index].shape
        except IndexError:
            continue
        checked += 1
        v = rng.standard_normal(selected) + 2.0
        for op in OPS + ["get"]:
            expected = _numpy_update(op, x, index, v)
            got = fg.jvp(lambda x, v: _update(op, x, index, v), (x, v), (x, v))[0]
            np.testing.assert_allclose(got, expected, err_msg=f"{op} {shape} {index}")
            forward = fg.jacfwd(lambda x, v: _update(op, x, index, v), argnums=(0, 1))(x, v)
            reverse = fg.jacrev(lambda x, v: _update(op, x, index, v), argnums=(0, 1))(x, v)
            for f, r in zip(forward, reverse):
                np.testing.assert_allclose(f, r, atol=1e-12, err_msg=f"{op} {shape} {index}")
        check_grads(lambda x, v: _update("multiply", x, index, v) ** 2, (x, v), order=2)


@pytest.mark.parametrize("op", OPS)
def test_values_with_extra_leading_ones(op: str) -> None:
    x, v = R(2, 3), _values(op, (1, 1, 3), np.float64)
    expected = _numpy_update(op, x, (1, [0, 1, 2]), v[0, 0])
    np.testing.assert_allclose(fg.jvp(lambda x, v: _update(op, x, 1, v), (x, v), (x, v))[0], expected)
    check_grads(lambda x, v: _update(op, x, 1, v) ** 2, (x, v), order=2)
