"""Pytrees: nested tuples, lists, dicts, namedtuples and ``None``.

Leaves are everything that is not a registered container.  ``None`` is an
empty container (it has no leaves), as in JAX.

>>> leaves, treedef = tree_flatten({"w": 1.0, "b": (2.0, None)})
>>> leaves
[2.0, 1.0]
>>> tree_unflatten(treedef, [20.0, 10.0])
{'b': (20.0, None), 'w': 10.0}
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from itertools import islice
from typing import Any, NamedTuple, TypeVar

import numpy as np

from funcgrad import _errors

__all__ = [
    "PyTreeDef",
    "register_pytree_node",
    "register_dataclass",
    "tree_flatten",
    "tree_unflatten",
    "tree_map",
    "tree_leaves",
    "tree_structure",
    "ravel_pytree",
]

T = TypeVar("T")


class _NodeType(NamedTuple):
    flatten: Callable[[Any], tuple[Iterable[Any], Hashable]]
    unflatten: Callable[[Hashable, Iterable[Any]], Any]


_REGISTRY: dict[type, _NodeType] = {}
#: child names of registered dataclasses (for readable structures and error paths)
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def register_pytree_node(
    nodetype: type,
    flatten_func: Callable[[Any], tuple[Iterable[Any], Hashable]],
    unflatten_func: Callable[[Hashable, Iterable[Any]], Any],
) -> None:
    """Make ``nodetype`` a container: ``flatten_func(x) -> (children, aux)``
    and ``unflatten_func(aux, children) -> x``.

    >>> class Pair:
    ...     def __init__(self, a, b):
    ...         self.a, self.b = a, b
    >>> register_pytree_node(Pair, lambda p: ((p.a, p.b), None),
    ...                      lambda aux, ch: Pair(*ch))
    >>> tree_leaves(Pair(1.0, (2.0, 3.0)))
    [1.0, 2.0, 3.0]
    """
    if not isinstance(nodetype, type):
        raise _errors.pytree_not_a_class(nodetype)
    if nodetype in _REGISTRY:
        raise _errors.pytree_registered_twice(nodetype)
    _REGISTRY[nodetype] = _NodeType(flatten_func, unflatten_func)
    _PLAIN_LEAVES.discard(nodetype)


def register_dataclass(
    nodetype: type[T] | None = None,
    data_fields: Sequence[str] | None = None,
    meta_fields: Sequence[str] | None = None,
) -> Any:
    """Register a dataclass as a pytree: its data fields are children, its meta
    fields static (part of the structure, like JAX's ``register_dataclass``).

    Usable as a decorator.  Without ``data_fields``/``meta_fields`` every field
    is data, except those declared ``field(metadata={"static": True})``.

    >>> import dataclasses
    >>> @register_dataclass
    ... @dataclasses.dataclass
    ... class Params:
    ...     w: float
    ...     b: float
    ...     name: str = dataclasses.field(default="layer", metadata={"static": True})
    >>> tree_flatten(Params(1.0, 2.0))
    ([1.0, 2.0], PyTreeDef(Params(w=*, b=*)))
    >>> tree_map(lambda v: 10 * v, Params(1.0, 2.0, "out"))
    Params(w=10.0, b=20.0, name='out')
    """
    if nodetype is None:
        return lambda cls: register_dataclass(cls, data_fields, meta_fields)
    if not (isinstance(nodetype, type) and dataclasses.is_dataclass(nodetype)):
        raise _errors.pytree_not_a_dataclass(nodetype)
    fields = [f for f in dataclasses.fields(nodetype) if f.init]
    if data_fields is None and meta_fields is None:
        meta = tuple(f.name for f in fields if f.metadata.get("static", False))
        data = tuple(f.name for f in fields if f.name not in meta)
    else:
        data, meta = tuple(data_fields or ()), tuple(meta_fields or ())
        names = {f.name for f in fields}
        if set(data) | set(meta) != names or set(data) & set(meta):
            raise _errors.pytree_dataclass_fields(nodetype, list(data), list(meta), sorted(names))

    def flatten(obj: Any) -> tuple[list[Any], Hashable]:
        return [getattr(obj, n) for n in data], tuple(getattr(obj, n) for n in meta)

    def unflatten(aux: Any, children: Iterable[Any]) -> Any:
        return nodetype(**dict(zip(data, children)), **dict(zip(meta, aux)))

    register_pytree_node(nodetype, flatten, unflatten)
    _FIELD_NAMES[nodetype] = data
    return nodetype


def _is_namedtuple(obj: Any) -> bool:
    return isinstance(obj, tuple) and hasattr(type(obj), "_fields")


def _children(node: Any) -> tuple[str, Any, list[Any]] | None:
    """(kind, aux, children) for a container, ``None`` for a leaf."""
    kind = type(node)
    if kind is tuple:
        return "tuple", None, list(node)
    if kind is list:
        return "list", None, list(node)
    if kind is dict:
        keys = sorted(node)
        return "dict", tuple(keys), [node[k] for k in keys]
    if node is None:
        return "none", None, []
    if kind in _REGISTRY:
        children, aux = _REGISTRY[kind].flatten(node)
        return "custom", aux, list(children)
    if _is_namedtuple(node):
        return "namedtuple", None, list(node)
    return None


class PyTreeDef:
    """The shape of a pytree with its leaves taken out."""

    __slots__ = ("kind", "node_type", "aux", "children", "num_leaves", "leafy")

    def __init__(self, kind: str, node_type: type | None, aux: Any, children: tuple[PyTreeDef, ...]) -> None:
        self.kind = kind
        self.node_type = node_type
        self.aux = aux
        self.children = children
        #: a tuple or list whose children are all leaves (rebuilt in one slice of the leaves)
        self.leafy = kind in ("tuple", "list") and all(c.kind == "leaf" for c in children)
        if kind == "leaf":
            self.num_leaves: int = 1
        else:
            count = 0
            for c in children:
                count += c.num_leaves
            self.num_leaves = count

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PyTreeDef):
            return NotImplemented
        return (
            self.kind == other.kind
            and self.node_type is other.node_type
            and self.aux == other.aux
            and self.children == other.children
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.node_type, self.children))

    def __repr__(self) -> str:
        return f"PyTreeDef({self._show()})"

    def _show(self) -> str:
        inner = [c._show() for c in self.children]
        if self.kind == "leaf":
            return "*"
        if self.kind == "none":
            return "None"
        if self.kind == "tuple":
            return "(" + ", ".join(inner) + ("," if len(inner) == 1 else "") + ")"
        if self.kind == "list":
            return "[" + ", ".join(inner) + "]"
        if self.kind == "dict":
            return "{" + ", ".join(f"{k!r}: {v}" for k, v in zip(self.aux, inner)) + "}"
        name = self.node_type.__name__ if self.node_type else "?"
        fields = _child_names(self.kind, self.node_type)
        if fields is not None and len(fields) == len(inner):
            inner = [f"{f}={v}" for f, v in zip(fields, inner)]
        return f"{name}(" + ", ".join(inner) + ")"

    def unflatten(self, leaves: Iterable[Any]) -> Any:
        return tree_unflatten(self, leaves)


_LEAF = PyTreeDef("leaf", None, None, ())
#: exact types that are always leaves (never registered containers): ``_flatten`` takes them without a call
_PLAIN_LEAVES = {np.ndarray, float, int, complex, np.float64, np.float32, np.complex128, np.complex64}


def _flatten(node: Any, leaves: list[Any], is_leaf: Callable[[Any], bool] | None) -> PyTreeDef:
    if is_leaf is not None and is_leaf(node):
        leaves.append(node)
        return _LEAF
    found = _children(node)
    if found is None:
        leaves.append(node)
        return _LEAF
    kind, aux, children = found
    if is_leaf is None:
        defs = []
        plain = _PLAIN_LEAVES
        for c in children:
            ckind = type(c)
            if ckind in plain:  # an array or a number: a leaf, without the recursive call
                leaves.append(c)
                defs.append(_LEAF)
                continue
            if ckind is tuple or ckind is list:
                for e in c:
                    if type(e) not in plain:
                        break
                else:  # a tuple or list of arrays and numbers (a (W, b) pair): its shared structure
                    leaves.extend(c)
                    defs.append(_leafy(ckind, len(c)))
                    continue
            defs.append(_flatten(c, leaves, None))
        return PyTreeDef(kind, type(node), aux, tuple(defs))
    return PyTreeDef(kind, type(node), aux, tuple(_flatten(c, leaves, is_leaf) for c in children))


def tree_flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list[Any], PyTreeDef]:
    """Split a pytree into its leaves (left to right; dicts by sorted key) and its structure.

    >>> tree_flatten([1.0, (2.0, 3.0)])[0]
    [1.0, 2.0, 3.0]
    """
    leaves: list[Any] = []
    treedef = _flatten(tree, leaves, is_leaf)
    return leaves, treedef


#: the structure of a tuple or list of ``n`` leaves, by (type, n): shared, as structures are never changed
_LEAFY: dict[tuple[type, int], PyTreeDef] = {}


def _leafy(kind: type, n: int) -> PyTreeDef:
    found = _LEAFY.get((kind, n))
    if found is None:
        found = PyTreeDef(kind.__name__, kind, None, (_LEAF,) * n)
        if n <= 16:  # short ones (pairs, small lists) are shared; a long list's structure is its own
            _LEAFY[(kind, n)] = found
    return found


def _build(treedef: PyTreeDef, it: Any) -> Any:
    kind = treedef.kind
    if kind == "leaf":
        return next(it)
    if treedef.leafy:
        return tuple(islice(it, treedef.num_leaves)) if kind == "tuple" else list(islice(it, treedef.num_leaves))
    children = [next(it) if c is _LEAF else _build(c, it) for c in treedef.children]
    if kind == "tuple":
        return tuple(children)
    if kind == "list":
        return children
    if kind == "dict":
        return dict(zip(treedef.aux, children))
    if kind == "none":
        return None
    if kind == "namedtuple":
        assert treedef.node_type is not None
        return treedef.node_type(*children)
    assert treedef.node_type is not None
    return _REGISTRY[treedef.node_type].unflatten(treedef.aux, children)


def tree_unflatten(treedef: PyTreeDef, leaves: Iterable[Any]) -> Any:
    """Rebuild a pytree of structure ``treedef`` from ``leaves``.

    >>> _, treedef = tree_flatten((1.0, [2.0]))
    >>> tree_unflatten(treedef, ["a", "b"])
    ('a', ['b'])
    """
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise _errors.unflatten_leaf_count(treedef, len(leaves))
    return _build(treedef, iter(leaves))


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list[Any]:
    """The leaves of ``tree``, left to right.

    >>> tree_leaves({"a": 1, "b": [2, None, 3]})
    [1, 2, 3]
    """
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree: Any) -> PyTreeDef:
    """The structure of ``tree`` without its leaves.

    >>> tree_structure((1.0, {"x": 2.0}))
    PyTreeDef((*, {'x': *}))
    """
    return tree_flatten(tree)[1]


def _leaf_dtype(leaf: Any) -> np.dtype[Any]:
    kind = getattr(leaf, "dtype", None)
    return np.dtype(kind) if kind is not None else np.asarray(leaf).dtype


def ravel_pytree(tree: Any) -> tuple[Any, Callable[[Any], Any]]:
    """Flatten a pytree of arrays into one 1-D array, and the function that rebuilds the tree from such an array.

    As ``jax.flatten_util.ravel_pytree``.  Leaves are raveled in
    ``tree_flatten``'s order and concatenated.  Their dtypes are promoted to
    one with ``np.result_type`` (Python numbers are weak, as in JAX: a
    ``float32`` array with a Python ``float`` stays ``float32``).  When every
    leaf has the same dtype, ``unravel`` keeps the dtype it is given (a
    ``float64`` vector from SciPy gives ``float64`` leaves); when they
    differ, ``unravel`` wants the promoted dtype and casts each piece back to
    its leaf's dtype.  Every leaf comes back as an array of its leaf's shape
    (a Python number as a 0-d array); an empty tree gives a ``float64``
    vector of length 0.  Both directions are made of differentiable
    operations: ``ravel_pytree`` of traced leaves and ``unravel`` of a traced
    vector work under every transform.

    >>> flat, unravel = ravel_pytree({"w": np.ones((2, 2)), "b": np.array([5.0, 6.0])})
    >>> flat
    array([5., 6., 1., 1., 1., 1.])
    >>> unravel(np.arange(6.0))
    {'b': array([0., 1.]), 'w': array([[2., 3.],
           [4., 5.]])}

    ``unravel`` raises ``ValueError`` when the vector's shape is not
    ``(size,)`` and ``TypeError`` when the leaves had several dtypes and the
    vector does not have the promoted one.
    """
    leaves, treedef = tree_flatten(tree)
    dtypes = [_leaf_dtype(leaf) for leaf in leaves]
    shapes = [tuple(np.shape(leaf)) for leaf in leaves]
    sizes = [math.prod(shape) for shape in shapes]
    ends = list(itertools.accumulate(sizes))
    total = ends[-1] if ends else 0
    # Python numbers take part as themselves, so that they promote weakly (NumPy 2, as JAX)
    weak = [leaf if type(leaf) in (bool, int, float, complex) else kind for leaf, kind in zip(leaves, dtypes)]
    promoted = np.result_type(*weak) if leaves else np.dtype(np.float64)
    single = all(kind == promoted for kind in dtypes)
    pieces = [np.ravel(leaf) if kind == promoted else np.ravel(leaf).astype(promoted) for leaf, kind in zip(leaves, dtypes)]
    flat = np.concatenate(pieces) if pieces else np.zeros(0)

    def unravel(vector: Any) -> Any:
        shape = tuple(np.shape(vector))
        if shape != (total,):
            raise _errors.unravel_shape(total, len(leaves), shape)
        if not single and _leaf_dtype(vector) != promoted:
            raise _errors.unravel_dtype(sorted({str(d) for d in dtypes}), promoted, _leaf_dtype(vector))
        parts = []
        for start, end, leaf_shape, kind in zip([0, *ends], ends, shapes, dtypes):
            part = vector[start:end].reshape(leaf_shape)
            if not single:
                if kind.kind != "c" and promoted.kind == "c":
                    part = np.real(part)  # the leaf was real: its piece's imaginary part is dropped, without a warning
                part = part.astype(kind)
            elif type(part) is np.ndarray:
                part = part.copy()  # a leaf of its own, not a view into the caller's vector
            parts.append(part)
        return tree_unflatten(treedef, parts)

    return flat, unravel


def _child_names(kind: str, node_type: type | None) -> tuple[str, ...] | None:
    """Field names of a namedtuple or registered dataclass (``None`` for other containers)."""
    if kind == "namedtuple" and node_type is not None:
        return tuple(node_type._fields)  # type: ignore[attr-defined]
    if kind == "custom" and node_type is not None:
        return _FIELD_NAMES.get(node_type)
    return None


def _describe_node(node: Any) -> str:
    found = _children(node)
    if found is None:
        return f"a leaf ({type(node).__name__})"
    kind, aux, children = found
    if kind == "dict":
        return f"a dict with keys {list(aux)}"
    if kind == "none":
        return "None"
    return f"a {type(node).__name__} of {len(children)} item(s)"


def _mismatch(a: Any, b: Any, path: str) -> tuple[str, str, str] | None:
    """(path, what a has there, what b has there) where two trees first differ."""
    fa, fb = _children(a), _children(b)
    if fa is None and fb is None:
        return None
    if (
        fa is None
        or fb is None
        or fa[0] != fb[0]
        or type(a) is not type(b)
        or fa[1] != fb[1]
        or len(fa[2]) != len(fb[2])
    ):
        return path or "the root", _describe_node(a), _describe_node(b)
    names = _child_names(fa[0], type(a))
    if fa[0] == "dict":
        keys = [f"[{k!r}]" for k in fa[1]]
    elif names is not None:
        keys = [f".{n}" for n in names]
    else:
        keys = [f"[{i}]" for i in range(len(fa[2]))]
    for key, ca, cb in zip(keys, fa[2], fb[2]):
        found = _mismatch(ca, cb, f"{path}{key}")
        if found is not None:
            return found
    return None


def _mismatch_path(a: Any, b: Any, path: str) -> str | None:
    found = _mismatch(a, b, path)
    return None if found is None else found[0]


def tree_map(f: Callable[..., Any], tree: Any, *rest: Any, is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """Apply ``f`` leaf by leaf (to matching leaves of ``rest`` too).

    >>> tree_map(lambda x, y: x + y, (1, {"a": 2}), (10, {"a": 20}))
    (11, {'a': 22})
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    others = []
    for other in rest:
        other_leaves, other_def = tree_flatten(other, is_leaf)
        if other_def != treedef:
            raise _errors.tree_map_structures(mismatch_path(tree, other), treedef, other_def)
        others.append(other_leaves)
    return tree_unflatten(treedef, [f(*xs) for xs in zip(leaves, *others)])


def mismatch_path(a: Any, b: Any) -> str:
    """Where two pytrees first differ in structure, and how (for error messages).

    >>> mismatch_path({"w": (1.0, 2.0)}, {"w": [1.0, 2.0]})
    "['w'] (a tuple of 2 item(s) versus a list of 2 item(s))"
    """
    found = _mismatch(a, b, "")
    if found is None:
        return "the root"
    return f"{found[0]} ({found[1]} versus {found[2]})"
