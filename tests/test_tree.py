"""Pytrees: containers, registration, readable structures, and mismatch errors that name the path."""

from __future__ import annotations

import collections
import dataclasses
from typing import NamedTuple

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.tree import (
    mismatch_path,
    register_dataclass,
    register_pytree_node,
    tree_flatten,
    tree_leaves,
    tree_map,
    tree_structure,
    tree_unflatten,
)


class Point(NamedTuple):
    x: float
    y: float


Pair = collections.namedtuple("Pair", "first second")


class Box:
    """A custom container registered by hand."""

    def __init__(self, content, label):
        self.content, self.label = content, label

    def __eq__(self, other):
        return (
            isinstance(other, Box)
            and self.label == other.label
            and tree_leaves(self.content) == tree_leaves(other.content)
        )


register_pytree_node(Box, lambda b: ((b.content,), b.label), lambda label, children: Box(children[0], label))


@register_dataclass
@dataclasses.dataclass
class Layer:
    w: np.ndarray
    b: np.ndarray
    activation: str = dataclasses.field(default="tanh", metadata={"static": True})


@dataclasses.dataclass
class Explicit:
    a: float
    n: int


register_dataclass(Explicit, data_fields=["a"], meta_fields=["n"])


TREES = [
    pytest.param(1.0, "*", id="leaf"),
    pytest.param(None, "None", id="none"),
    pytest.param((1.0,), "(*,)", id="tuple1"),
    pytest.param([1.0, (2.0, None)], "[*, (*, None)]", id="nested"),
    pytest.param({"b": 1.0, "a": [2.0]}, "{'a': [*], 'b': *}", id="dict"),
    pytest.param(Point(1.0, 2.0), "Point(x=*, y=*)", id="namedtuple"),
    pytest.param(Pair(1.0, None), "Pair(first=*, second=None)", id="namedtuple-none"),
    pytest.param(Box([1.0, 2.0], "lbl"), "Box([*, *])", id="custom"),
    pytest.param(Layer(1.0, 2.0), "Layer(w=*, b=*)", id="dataclass"),
    pytest.param(Explicit(1.0, 3), "Explicit(a=*)", id="dataclass-explicit"),
]


@pytest.mark.parametrize("tree, shown", TREES)
def test_roundtrip_and_readable_repr(tree, shown):
    leaves, treedef = tree_flatten(tree)
    assert repr(treedef) == f"PyTreeDef({shown})"
    rebuilt = tree_unflatten(treedef, leaves)
    assert type(rebuilt) is type(tree)
    assert tree_structure(rebuilt) == treedef
    assert tree_leaves(rebuilt) == leaves


def test_none_has_no_leaves_and_dict_order_is_sorted():
    assert tree_leaves([None, {"z": 1, "a": 2}, None]) == [2, 1]
    assert tree_map(lambda v: v * 10, {"a": None, "b": 1}) == {"a": None, "b": 10}


def test_static_fields_are_structure():
    assert tree_structure(Layer(1.0, 2.0, "relu")) != tree_structure(Layer(1.0, 2.0, "tanh"))
    assert tree_map(lambda v: -v, Explicit(1.0, 3)) == Explicit(-1.0, 3)


def test_registration_errors():
    with pytest.raises(ValueError, match="already registered"):
        register_pytree_node(Box, lambda b: ((), None), lambda a, c: Box(None, None))
    with pytest.raises(TypeError, match="expects a class"):
        register_pytree_node(Box(1, 2), lambda b: ((), None), lambda a, c: None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expects a dataclass"):
        register_dataclass(Box)

    @dataclasses.dataclass
    class Bad:
        a: float
        b: float

    with pytest.raises(ValueError, match="must split the init fields"):
        register_dataclass(Bad, data_fields=["a"], meta_fields=[])


@pytest.mark.parametrize(
    "a, b, where",
    [
        ((1.0, 2.0), [1.0, 2.0], "the root (a tuple of 2 item(s) versus a list of 2 item(s))"),
        ({"w": (1.0, 2.0)}, {"w": (1.0,)}, "['w'] (a tuple of 2 item(s) versus a tuple of 1 item(s))"),
        ({"w": 1.0}, {"v": 1.0}, "the root (a dict with keys ['w'] versus a dict with keys ['v'])"),
        ([1.0, {"a": None}], [1.0, {"a": 2.0}], "[1]['a'] (None versus a leaf (float))"),
        (Point(1.0, (2.0, 3.0)), Point(1.0, 2.0), ".y (a tuple of 2 item(s) versus a leaf (float))"),
        (Layer(1.0, [2.0]), Layer(1.0, 2.0), ".b (a list of 1 item(s) versus a leaf (float))"),
        (Box(1.0, "a"), Box(1.0, "b"), "the root (a Box of 1 item(s) versus a Box of 1 item(s))"),
    ],
)
def test_mismatch_path_names_where(a, b, where):
    assert mismatch_path(a, b) == where
    with pytest.raises(ValueError) as info:
        tree_map(lambda u, v: u, a, b)
    assert where.split(" (")[0] in str(info.value)


def test_unflatten_wrong_leaf_count():
    with pytest.raises(ValueError, match="has 2 leaves, got 3"):
        tree_unflatten(tree_structure((1, 2)), [1, 2, 3])


# --- pytrees through the transforms ------------------------------------------------------------


def loss(params, x):
    h = fnp.tanh(params["layer"].w * x + params["layer"].b)
    return fnp.sum(h * params["scale"].x) + params["scale"].y * fnp.sum(params["extra"][0].content)


def make_params():
    r = np.random.default_rng(4)
    return {
        "layer": Layer(r.standard_normal(3), r.standard_normal(3), "tanh"),
        "scale": Point(r.standard_normal(3), 0.5),
        "extra": (Box(r.standard_normal(2), "z"), None),
    }


def test_grad_returns_the_same_structure():
    params, x = make_params(), np.arange(3.0)
    g = fg.grad(loss)(params, x)
    assert tree_structure(g) == tree_structure(params)
    assert isinstance(g["layer"], Layer) and g["layer"].activation == "tanh"
    assert isinstance(g["scale"], Point) and g["extra"][1] is None
    np.testing.assert_allclose(g["extra"][0].content, np.full(2, params["scale"].y))
    np.testing.assert_allclose(g["scale"].y, np.sum(params["extra"][0].content))
    eps = 1e-6
    bumped = make_params()
    bumped["layer"].w[1] += eps
    np.testing.assert_allclose(g["layer"].w[1], (loss(bumped, x) - loss(params, x)) / eps, rtol=1e-4)


def test_vjp_cotangent_structure_mismatch_names_path():
    params = make_params()
    out, vjp_fn = fg.vjp(lambda p: {"h": p["layer"].w * 2, "pt": p["scale"]}, params)
    with pytest.raises(ValueError, match=r"\['pt'\]"):
        vjp_fn({"h": np.ones(3), "pt": (np.ones(3), 1.0)})
    with pytest.raises(ValueError, match=r"\['pt'\]\.y"):
        vjp_fn({"h": np.ones(3), "pt": Point(np.ones(3), (1.0, 2.0))})
    (g,) = vjp_fn({"h": np.ones(3), "pt": Point(np.zeros(3), 1.0)})
    np.testing.assert_allclose(g["layer"].w, 2 * np.ones(3))
    assert g["scale"].y == 1.0


def test_jvp_tangent_structure_mismatch_names_path():
    with pytest.raises(ValueError, match=r"\[0\]\.y"):
        fg.jvp(lambda p: p.x * p.y, (Point(1.0, 2.0),), (Point(1.0, (2.0,)),))
    assert fg.jvp(lambda p: p.x * p.y, (Point(1.0, 2.0),), (Point(1.0, 0.0),))[1] == 2.0


def test_jacobians_of_pytrees():
    p = Point(np.array([1.0, 2.0]), np.array(3.0))
    jac = fg.jacrev(lambda p: {"s": p.x * p.y})(p)
    assert isinstance(jac["s"], Point)
    np.testing.assert_allclose(jac["s"].x, 3.0 * np.eye(2))
    np.testing.assert_allclose(jac["s"].y, [1.0, 2.0])
    jac_f = fg.jacfwd(lambda p: {"s": p.x * p.y})(p)
    np.testing.assert_allclose(jac_f["s"].x, jac["s"].x)
    np.testing.assert_allclose(jac_f["s"].y, jac["s"].y)


@pytest.mark.parametrize(
    "tree",
    [
        [(np.ones(2), np.zeros(3)), (np.ones(1), 2.0)],
        ((), [], [()], ([],)),
        [1.0] * 40,  # longer than the shared structures
        ([1.0, (2.0, [3.0, np.float32(4.0)])], {"a": (5.0, 6.0)}),
        [(1.0, 2.0), [3.0, 4.0], ((5.0, 6.0),)],
    ],
)
def test_flattening_shortcuts_keep_structure_and_order(tree):
    # leaves taken without a recursive call, and tuples/lists of leaves sharing one structure, change nothing
    leaves, treedef = tree_flatten(tree)
    slow_leaves, slow_def = tree_flatten(tree, is_leaf=lambda node: False)  # the general walk
    assert [id(x) for x in leaves] == [id(x) for x in slow_leaves]
    assert treedef == slow_def and hash(treedef) == hash(slow_def) and treedef.num_leaves == len(leaves)
    rebuilt = tree_unflatten(treedef, leaves)
    assert tree_flatten(rebuilt, is_leaf=lambda node: False)[1] == slow_def
    assert repr(tree_unflatten(treedef, ["*"] * len(leaves))) == repr(tree_unflatten(slow_def, ["*"] * len(leaves)))
