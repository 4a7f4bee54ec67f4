"""fg.tree.ravel_pytree: round trips, dtype promotion as JAX's, differentiable in both directions."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.tree import ravel_pytree, register_dataclass, tree_flatten

RNG = np.random.default_rng(1)


class Layer(NamedTuple):
    w: np.ndarray
    b: np.ndarray


@register_dataclass
@dataclasses.dataclass
class Model:
    layers: list
    scale: float
    name: str = dataclasses.field(default="m", metadata={"static": True})


def _same(a, b):
    la, da = tree_flatten(a)
    lb, db = tree_flatten(b)
    assert da == db
    for x, y in zip(la, lb):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape and x.dtype == y.dtype and x.tobytes() == y.tobytes()


@pytest.mark.parametrize(
    "tree",
    [
        np.arange(6.0).reshape(2, 3),
        {"w": RNG.normal(size=(2, 3)), "b": RNG.normal(size=3), "none": None},
        [Layer(RNG.normal(size=(3, 2)), RNG.normal(size=2)), (np.float64(2.5), np.zeros((0, 4)))],
        Model([Layer(RNG.normal(size=(2, 2)), RNG.normal(size=2))], np.float64(0.5)),
    ],
)
def test_round_trip_keeps_structure_shapes_dtypes_and_bits(tree):
    flat, unravel = ravel_pytree(tree)
    assert flat.ndim == 1 and flat.size == sum(np.size(leaf) for leaf in tree_flatten(tree)[0])
    _same(unravel(flat), tree)
    again, _ = ravel_pytree(unravel(flat))
    assert again.tobytes() == flat.tobytes()


def test_order_is_tree_flatten_order():
    flat, _ = ravel_pytree({"b": np.array([1.0, 2.0]), "a": np.array([[3.0]])})
    np.testing.assert_array_equal(flat, [3.0, 1.0, 2.0])


def test_unravel_returns_fresh_arrays_not_views_of_the_vector():
    flat, unravel = ravel_pytree({"a": np.zeros(2), "b": np.zeros(3)})
    vector = np.arange(5.0)
    out = unravel(vector)
    vector[:] = -1
    np.testing.assert_array_equal(out["a"], [0.0, 1.0])


def test_mixed_dtypes_promote_and_come_back_in_each_leaf_dtype():
    tree = {"f32": np.ones(2, np.float32), "f64": np.ones(1), "i": np.arange(2)}
    flat, unravel = ravel_pytree(tree)
    assert flat.dtype == np.float64
    back = unravel(flat * 3)
    assert [back[k].dtype for k in ("f32", "f64", "i")] == [np.float32, np.float64, np.int64]
    np.testing.assert_array_equal(back["i"], [0, 3])
    with pytest.raises(TypeError, match="promoted dtype float64"):
        unravel(flat.astype(np.float32))


def test_python_numbers_promote_weakly_as_in_jax():
    flat, unravel = ravel_pytree((np.ones(2, np.float32), 2.0))
    assert flat.dtype == np.float32
    back = unravel(flat)
    assert back[1].shape == () and back[1].dtype == np.float64
    flat, _ = ravel_pytree([1.0, 2])
    assert flat.dtype == np.float64


def test_complex_and_real_leaves():
    flat, unravel = ravel_pytree((np.array([1.0 + 2.0j]), np.array([3.0])))
    assert flat.dtype == np.complex128
    back = unravel(flat + 1j)
    assert back[1].dtype == np.float64 and back[1][0] == 3.0


def test_one_dtype_unravel_keeps_the_dtype_it_is_given():
    flat, unravel = ravel_pytree({"a": np.ones(2, np.float32)})
    assert flat.dtype == np.float32
    assert unravel(np.zeros(2))["a"].dtype == np.float64


def test_empty_tree():
    flat, unravel = ravel_pytree({"a": None, "b": []})
    assert flat.shape == (0,) and flat.dtype == np.float64
    assert unravel(flat) == {"a": None, "b": []}


def test_wrong_size_names_the_expected_shape():
    _, unravel = ravel_pytree({"a": np.zeros(2), "b": np.zeros(3)})
    with pytest.raises(ValueError, match=r"size 5 .*got shape \(4,\)"):
        unravel(np.zeros(4))
    with pytest.raises(ValueError, match=r"got shape \(5, 1\)"):
        unravel(np.zeros((5, 1)))


PARAMS = {"w": RNG.normal(size=(2, 3)), "b": RNG.normal(size=3)}
INPUTS = RNG.normal(size=(4, 2))


def _loss(p):
    return fnp.sum(fnp.tanh(INPUTS @ p["w"] + p["b"]) ** 2)


def test_differentiable_through_unravel():
    flat, unravel = ravel_pytree(PARAMS)
    g_flat = fg.grad(lambda z: _loss(unravel(z)))(flat)
    np.testing.assert_array_equal(g_flat, ravel_pytree(fg.grad(_loss)(PARAMS))[0])
    fg.testing.check_grads(lambda z: _loss(unravel(z)), (flat,), order=2)
    np.testing.assert_allclose(fg.jacfwd(lambda z: ravel_pytree(unravel(z))[0])(flat), np.eye(flat.size))


def test_differentiable_through_ravel():
    flat, unravel = ravel_pytree(PARAMS)
    jac = fg.jacrev(lambda p: ravel_pytree(p)[0])(PARAMS)
    columns = np.concatenate([jac["b"], jac["w"].reshape(flat.size, -1)], axis=1)  # leaves in flatten order
    np.testing.assert_array_equal(columns, np.eye(flat.size))
    fg.testing.check_grads(lambda p: fnp.sum(ravel_pytree(p)[0] ** 3), (PARAMS,), order=2)


def test_unravel_under_vmap_and_jit():
    flat, unravel = ravel_pytree(PARAMS)
    batch = RNG.normal(size=(3, flat.size))
    out = fg.vmap(lambda z: unravel(z)["w"])(batch)
    np.testing.assert_array_equal(out, batch[:, 3:].reshape(3, 2, 3))
    jitted = fg.jit(fg.grad(lambda z: _loss(unravel(z))))
    assert jitted(flat).tobytes() == fg.grad(lambda z: _loss(unravel(z)))(flat).tobytes()
