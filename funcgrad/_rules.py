"""The rule registry: declare primitives and their derivative rules as data.

A rule for argument ``i`` is a function of the incoming (co)tangent, the
primitive's output ``ans``, all positional arguments and the static
parameters.  It is written with funcgrad's own primitives, so it can itself
be differentiated.  ``None`` in place of a rule means "zero derivative".

Conventions every rule follows:

* static parameters that name axes use *negative* axes (the public wrappers
  normalise them), so a forward rule stays right when its tangent carries
  leading batch axes;
* a reverse rule returns a cotangent with exactly its argument's shape and
  dtype (``unbroadcast`` does both);
* a forward rule returns a tangent of shape ``batch + ans.shape``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from funcgrad._trace import Primitive

Rule = Callable[..., Any]

#: every primitive, by name: the source of docs/coverage.md
REGISTRY: dict[str, Primitive] = {}


def primitive(impl: Callable[..., Any], name: str | None = None) -> Primitive:
    """Turn a plain function into a primitive that transforms can see."""
    prim = Primitive(name or str(getattr(impl, "__name__", "primitive")), impl)
    REGISTRY[prim.name] = prim
    return prim


def defvjp(prim: Primitive, *rules: Rule | None, fresh: bool = False) -> None:
    """Reverse rules, one per positional argument: ``rule(g, ans, *args, **params)``.

    ``fresh=True`` promises that a rule whose result is a plain NumPy array
    made a new one (``g * cos(x)``, ``g @ b.T``), never ``g`` itself, a view of
    a value or an array kept elsewhere, so the sweep may add to it in place.
    """
    prim.vjps = tuple(rules)
    prim.vjp_fresh = fresh


def defvjp_into(prim: Primitive, *rules: Rule | None) -> None:
    """Reverse rules that may write into their cotangent ``g``, one per positional argument.

    The sweep calls ``rule(g, ans, *args, **params)`` instead of the ``defvjp``
    rule only when it owns ``g``: a plain NumPy array it allocated, which no
    other argument of the node needs.  A rule returns exactly what the
    ``defvjp`` rule returns, bit for bit (the same operations in the same
    order, with ``out=g``), and falls back to that formula unless ``g`` and
    what it meets are plain arrays of ``g``'s shape and dtype (traced values,
    Dask arrays, broadcasting), so nesting, ``jit`` and ``vmap`` see the
    ``defvjp`` rule.  Declare ``fresh=True`` on ``defvjp`` too.

    >>> import numpy as np, funcgrad as fg
    >>> p = Primitive("twice_example", lambda x: 2 * x)  # not registered: an example only
    >>> defvjp(p, lambda g, ans, x: g * 2.0, fresh=True)
    >>> defvjp_into(p, lambda g, ans, x: np.multiply(g, 2.0, out=g) if type(g) is np.ndarray else g * 2.0)
    >>> fg.grad(lambda x: p(p(x) * x).sum())(np.ones(2))
    array([8., 8.])
    """
    prim.vjp_into = tuple(rules)


def defvjp_add(prim: Primitive, *rules: Rule | None) -> None:
    """Reverse rules that add their argument's contribution into the cotangent gathered so far, one per
    positional argument: ``rule(total, owned, g, ans, *args, **params)`` returns ``total`` plus what the
    ``defvjp`` rule would give.

    The sweep calls it instead of the ``defvjp`` rule when the argument already has a cotangent
    ``total`` (``owned``: the sweep may write into it, see ``defvjp_into``), so a rule whose contribution
    is mostly zeros adds only where it is not: a slice's cotangent goes into ``total[index]`` rather
    than into a fresh array of zeros added whole.  Written with primitives, like every rule (the same
    call, recorded by ``jit``, is replayed in place when the replay owns the array), it may write into
    ``total`` when ``owned`` and it is a plain array of its argument's shape and dtype.

    >>> import numpy as np, funcgrad as fg
    >>> p = Primitive("first_example", lambda x: x[0])  # not registered: an example only
    >>> defvjp(p, lambda g, ans, x: np.concatenate([[g], np.zeros(len(x) - 1)]))
    >>> def add_first(total, owned, g, ans, x):
    ...     total = total if owned else total.copy()
    ...     total[0] += g
    ...     return total
    >>> defvjp_add(p, add_first)
    >>> fg.grad(lambda x: p(x) * p(x))(np.array([3.0, 1.0]))
    array([6., 0.])
    """
    prim.vjp_add = tuple(rules)


def defjvp(prim: Primitive, *rules: Rule | None, batched: bool = False, fresh: bool = False) -> None:
    """Forward rules, one per positional argument: ``rule(t, ans, *args, **params)``.

    ``batched=True`` promises each rule accepts tangents with extra leading
    axes (used by ``jacfwd``/``hessian`` to push many tangents at once).
    ``fresh=True`` promises that a rule whose result is a plain NumPy array
    made a new one (``t * y``), never ``t`` itself, a view of it or an array
    kept elsewhere, so forward mode may add the other arguments' parts to it
    in place.
    """
    prim.jvps = tuple(rules)
    prim.batch_jvp = batched
    prim.jvp_fresh = fresh


def defjvp_joint(prim: Primitive, rule: Rule) -> None:
    """One forward rule for every argument at once: ``rule(tangents, ans, *args, **params)``.

    ``tangents`` has one entry per positional argument, ``None`` where the
    argument has no tangent.  Forward mode calls it instead of summing the
    ``defjvp`` rules when two or more arguments carry tangents, so it must
    return that sum (the same values: ``x - y`` gives ``tx - ty`` where the
    per-argument rules give ``tx + (-ty)``), batched like them.  Linear
    primitives of several arguments declare one: ``concatenate`` joins its
    tangents in one call instead of joining each with zeros and adding.

    >>> import numpy as np, funcgrad as fg
    >>> p = Primitive("difference_example", np.subtract)  # not registered: an example only
    >>> defjvp(p, lambda t, ans, x, y: t, lambda t, ans, x, y: -t, batched=True)
    >>> defjvp_joint(p, lambda ts, ans, x, y: ts[0] - ts[1])
    >>> fg.jvp(lambda x: p(x, 2 * x), (np.ones(2),), (np.ones(2),))[1]
    array([-1., -1.])
    """
    prim.jvp_joint = rule


def defjvp_scales(prim: Primitive, *scales: Rule | None, after: Rule | None = None) -> None:
    """Declare forward rules that scale the tangent elementwise, one per positional argument.

    ``scale(ans, *args, **params)`` returns ``(factor, keep)``: the rule of an
    argument with ``ans``'s shape is ``t * factor`` (``factor`` broadcasting to
    ``ans``; ``None`` for one), then, when ``keep`` is ``(condition, True)``,
    ``where(condition, ., 0)`` (``False``: ``where(condition, 0, .)``).
    ``after`` (same signature) scales the sum of the arguments' parts: a rule
    ``(tx - ty) * d`` is the scales ``None`` and ``-1.0`` and ``after`` giving
    ``d`` (one subtraction, then the product, as the ``defjvp`` rules compute
    it, not ``tx * d - ty * d``).  The ``defjvp`` rules stay the definition;
    under ``jacfwd``/``hessian`` a batch of tangents keeps these factors,
    value-sized, beside it instead of multiplying each one into the whole
    batch (funcgrad/_forward.py).
    """
    prim.jvp_scales = tuple(scales)
    prim.jvp_scale_after = after


def defjvp_identity(prim: Primitive, *rules: Rule | None) -> None:
    """Forward rules for the identity seed of ``jacfwd`` over one vector, one per positional argument.

    ``rule(ans, *args, **params)`` returns the batch of tangents the ``defjvp``
    rule gives for the tangents ``eye(n)`` (the argument a vector of ``n``),
    without multiplying by the seed (``matmul``: the other operand, its axes
    swapped), or ``None`` where it has no such shortcut.
    """
    prim.jvp_identity = tuple(rules)


def defbatch(prim: Primitive, rule: str | Rule) -> None:
    """How ``vmap`` batches ``prim``: a word for the common kinds, or a function.

    The batched operands of a primitive under ``vmap`` carry the batch as
    their *leading* axis; unbatched operands are plain values (never
    broadcast).  The words (implemented in ``funcgrad/_batching.py``):

    * ``"elementwise"``: NumPy broadcasting; a batched operand of lower rank
      gets ones inserted after its batch axis so it lines up with the others;
    * ``"leading"``: the NumPy function already maps over leading axes (its
      static axis parameters are negative, it works on stacks of matrices),
      so it is called on the batched values as they are;
    * ``"loop"``: one call per example, stacked (correct, slow; named in
      docs/coverage.md).  A primitive with no declaration is batched so too.

    A function is an explicit rule: ``rule(prim, values, batched, size,
    **params)`` gets the values (batched ones with the batch axis first),
    one flag per value, the batch size, and returns the batched output.
    """
    prim.batcher = rule


def defresiduals(prim: Primitive, ans: bool, *args: bool) -> None:
    """Declare which values the rules of ``prim`` read: its output ``ans`` and each positional argument.

    The tape keeps a shape-and-dtype stand-in (``funcgrad._values.Shaped``)
    for a plain array whose value no rule reads, so it is freed as soon as the
    user's code drops it: ``add`` needs only the shapes of its operands, ``tanh``
    only its output.  A rule that reads a stand-in anyway fails loudly.

    >>> import numpy as np, funcgrad as fg
    >>> p = Primitive("negate_example", np.negative)  # not registered: an example only
    >>> defvjp(p, lambda g, ans, x: -g)
    >>> defresiduals(p, False, False)
    >>> fg.grad(lambda x: p(x).sum())(np.ones(2))
    array([-1., -1.])
    """
    prim.residuals = (ans, *args)
    prim.dropped = tuple(i for i, kept in enumerate(args) if not kept)


class EveryArgument:
    """Rules for a primitive with any number of array arguments (``concatenate``)."""

    __slots__ = ("make", "cache")

    def __init__(self, make: Callable[[int], Rule]) -> None:
        self.make = make
        self.cache: dict[int, Rule] = {}

    def __len__(self) -> int:
        return 1 << 30

    def __getitem__(self, argnum: int) -> Rule:
        rule = self.cache.get(argnum)
        if rule is None:
            rule = self.cache[argnum] = self.make(argnum)
        return rule


def defvjp_variadic(prim: Primitive, make: Callable[[int], Rule]) -> None:
    """Reverse rules for every argument of a variadic primitive: ``make(i)`` is argument i's rule."""
    prim.vjps = EveryArgument(make)  # type: ignore[assignment]


def defjvp_variadic(prim: Primitive, make: Callable[[int], Rule], batched: bool = False) -> None:
    """Forward rules for every argument of a variadic primitive."""
    prim.jvps = EveryArgument(make)  # type: ignore[assignment]
    prim.batch_jvp = batched


class NoRules:
    """Zero rules for every argument of a primitive taking any number of them (``argmax`` over its traced leaves)."""

    __slots__ = ()

    def __len__(self) -> int:
        return 1 << 30

    def __getitem__(self, argnum: int) -> None:
        return None

    def __iter__(self) -> Iterator[None]:
        return iter(())  # no rule to list: every argument's is zero


def def_nondiff(prim: Primitive, nargs: int | None = 1) -> None:
    """Declare a primitive with zero derivative in every argument (``floor``, ``isfinite``, ``argmax``).

    ``nargs=None``: any number of arguments.  Under ``grad``/``jvp`` such a
    primitive returns its plain result (no argument needs a rule), while a
    transform that records or batches sees the call.
    """
    rules: Any = NoRules() if nargs is None else (None,) * nargs
    prim.vjps = rules
    prim.jvps = rules
    prim.batch_jvp = True


def def_multilinear(prim: Primitive, nargs: int, batched: bool = False) -> None:
    """Forward rules for a function linear in each argument separately
    (``multiply``, ``matmul``, ``einsum`` operands): the tangent takes the
    argument's place."""

    def make(i: int) -> Rule:
        def rule(t: Any, ans: Any, *args: Any, **params: Any) -> Any:
            return prim(*args[:i], t, *args[i + 1 :], **params)

        return rule

    prim.jvps = tuple(make(i) for i in range(nargs))
    prim.batch_jvp = batched
