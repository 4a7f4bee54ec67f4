"""The backward sweep's plain-cotangent shortcuts (docs/performance.md, "Plain cotangents").

When a cotangent is a plain ndarray, ``unbroadcast``, ``expand_reduced`` and
matmul's rules call NumPy themselves instead of dispatching through ``sum_p``,
``broadcast_to_p`` and ``matmul``.  These tests pin that the shortcut gives
what the primitives give (the same values, bit for bit, the same shapes,
dtypes and scalar-ness), that a traced cotangent still goes through the
primitives (so grad-of-grad and ``jit`` see every call), and that the sweep
of a plain MLP gradient dispatches no primitive at all.
"""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import _trace
from funcgrad._prims import _base, _contract
from funcgrad._prims._base import unbroadcast
from funcgrad._reverse import ReverseTrace
from funcgrad._trace import Tracer, new_level
from funcgrad._values import Shaped


def traced_path(rule, g, *rest):
    """``rule`` with ``g`` traced by a fresh reverse level: every call goes through the primitives."""
    with new_level() as level:
        trace = ReverseTrace(level)
        out = rule(trace.new_input(g), *rest)
        trace.active = False
    assert isinstance(out, Tracer), "the traced cotangent must stay traced"
    return out._value


def same(fast, slow):
    assert type(fast) is type(slow)
    assert np.shape(fast) == np.shape(slow) and np.result_type(fast) == np.result_type(slow)
    assert np.asarray(fast).tobytes() == np.asarray(slow).tobytes()


RNG = np.random.default_rng(7)

UNBROADCAST_CASES = [
    ((3,), np.float64(0.0)),
    ((2, 3), np.zeros(3)),
    ((2, 3), np.zeros((1, 3))),
    ((2, 3), np.zeros((2, 1))),
    ((4, 2, 3), np.zeros((2, 1))),
    ((4, 2, 3), np.zeros((1, 1, 1))),
    ((2, 3), np.zeros((2, 3), np.float32)),
    ((5, 3), np.zeros(3, np.float32)),
    ((2, 3), Shaped(np.zeros((1, 3)))),
]


@pytest.mark.parametrize("gshape, x", UNBROADCAST_CASES, ids=[f"{g}->{np.shape(x)}" for g, x in UNBROADCAST_CASES])
@pytest.mark.parametrize("gdtype", [np.float64, np.float32, np.complex128])
def test_unbroadcast_of_a_plain_cotangent_is_what_sum_p_gives(gshape, x, gdtype):
    g = RNG.standard_normal(gshape).astype(gdtype)
    if np.dtype(gdtype).kind == "c":
        g = g + 1j * RNG.standard_normal(gshape)
    same(unbroadcast(g, x), traced_path(unbroadcast, g, x))


EXPAND_CASES = [
    ((2, 3), (-1,), False),
    ((2, 3), (-2,), False),
    ((2, 3), (-2, -1), False),
    ((2, 3), (-1,), True),
    ((4, 2, 3), (-3, -1), False),
    ((4, 2, 3), (-2,), True),
    ((200, 100), (-1,), False),  # above the size where a fresh array beats a broadcast view
    ((200, 100), (-2, -1), False),
]


@pytest.mark.parametrize("xshape, axis, keepdims", EXPAND_CASES)
@pytest.mark.parametrize("xdtype", [np.float64, np.float32])
def test_expand_reduced_of_a_plain_cotangent_is_what_broadcast_to_gives(xshape, axis, keepdims, xdtype):
    x = RNG.standard_normal(xshape).astype(xdtype)
    g = np.add.reduce(x, axis=axis, keepdims=keepdims)
    fast = _base.expand_reduced(g, x, axis, keepdims)
    slow = traced_path(_base.expand_reduced, g, x, axis, keepdims)
    assert fast.shape == x.shape and fast.dtype == slow.dtype
    assert np.asarray(fast).tobytes() == np.asarray(slow).tobytes()
    if x.size > _base._SMALL:
        assert not fast.flags.writeable  # a view of the cotangent, as broadcast_to gives: no pass over memory
    np.testing.assert_array_equal(g, np.add.reduce(x, axis=axis, keepdims=keepdims))  # g itself unchanged


@pytest.mark.parametrize("ashape, bshape", [((3, 4), (4, 5)), ((1, 4), (4, 1)), ((3, 4), (4, 2))])
@pytest.mark.parametrize("dt", [np.float64, np.float32, np.complex128])
def test_matmul_rules_of_a_plain_cotangent_are_what_the_primitive_gives(ashape, bshape, dt):
    a = RNG.standard_normal(ashape).astype(dt)
    b = RNG.standard_normal(bshape).astype(dt)
    g = RNG.standard_normal((ashape[0], bshape[1])).astype(dt)
    ans = a @ b
    for rule in (_contract._matmul_vjp_a, _contract._matmul_vjp_b):
        same(rule(g, ans, a, b), traced_path(lambda g, *rest: rule(g, ans, *rest), g, a, b))


def mlp_loss(params, X, T):
    h = X
    for W, b in params[:-1]:
        h = fnp.tanh(h @ W + b)
    W, b = params[-1]
    z = h @ W + b
    z = z - fnp.max(fg.stop_gradient(z), axis=1, keepdims=True)
    return -fnp.sum(T * (z - fnp.log(fnp.sum(fnp.exp(z), axis=1, keepdims=True)))) / X.shape[0]


def mlp_problem():
    sizes = (6, 5, 4, 3)
    params = [(RNG.standard_normal((m, n)), RNG.standard_normal(n)) for m, n in zip(sizes[:-1], sizes[1:])]
    X = RNG.standard_normal((8, sizes[0]))
    T = np.eye(sizes[-1])[RNG.integers(0, sizes[-1], 8)]
    return params, X, T


def test_the_sweep_of_a_plain_mlp_gradient_dispatches_no_primitive(monkeypatch):
    params, X, T = mlp_problem()
    _, pullback = fg.vjp(lambda ps: mlp_loss(ps, X, T), params)
    calls = []
    original = _trace.Primitive.__call__

    def counting(self, *args, **kwargs):
        calls.append(self.name)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(_trace.Primitive, "__call__", counting)
    (grads,) = pullback(np.float64(1.0))
    monkeypatch.undo()
    assert calls == []  # every rule met a plain cotangent and called NumPy itself
    # and the numbers are the gradient: against finite differences of the loss in each parameter
    fg.testing.check_grads(lambda ps: mlp_loss(ps, X, T), (params,), order=1, modes=("rev",))
    assert [tuple(np.shape(p) for p in pair) for pair in grads] == [tuple(np.shape(p) for p in pair) for pair in params]


def test_second_order_still_sees_every_call():
    # inside grad-of-grad the inner sweep's cotangents are traced: the rules take the primitives' path
    params, X, T = mlp_problem()
    W0 = params[0][0]

    def loss_in_w0(w):
        return mlp_loss([(w, params[0][1]), *params[1:]], X, T)

    v = RNG.standard_normal(W0.shape)
    hvp = fg.grad(lambda w: fnp.sum(fg.grad(loss_in_w0)(w) * v))(W0)
    eps = 1e-5
    fd = (fg.grad(loss_in_w0)(W0 + eps * v) - fg.grad(loss_in_w0)(W0 - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hvp, fd, rtol=1e-5, atol=1e-8)
    fg.testing.check_grads(loss_in_w0, (W0,), order=2)


def test_jit_records_the_sweep_of_a_plain_cotangent():
    # under jit the cotangents are recorded values, so the program holds the sums and broadcasts
    params, X, T = mlp_problem()
    program = fg.make_program(fg.grad(lambda ps: mlp_loss(ps, X, T)))(params)
    names = [eqn.prim.name for eqn in program.eqns]
    assert names.count("sum") >= 3 and "spread" in names and names.count("matmul") >= 5
    jitted = fg.jit(fg.grad(lambda ps: mlp_loss(ps, X, T)))
    for got, want in zip(fg.tree.tree_leaves(jitted(params)), fg.tree.tree_leaves(fg.grad(lambda ps: mlp_loss(ps, X, T))(params))):
        np.testing.assert_array_equal(got, want)  # the replay spreads cotangents as the eager sweep does


ALIASING = {
    "sum of a sum": lambda x, y: fnp.sum(x + y),  # sum's rule makes one array; add's hands it to both
    "scaled sum": lambda x, y: fnp.sum((x + y) * 2.0),  # multiply's fresh array, handed to both
    "one output twice": lambda x, y: fnp.sum(x * 1.0) + fnp.sum(y * 1.0),
}


@pytest.mark.parametrize("name", sorted(ALIASING))
def test_gradients_of_distinct_leaves_never_share_memory(name):
    f = ALIASING[name]
    x, y = np.ones(3), np.ones(3)

    def apart(a, b):
        assert not np.shares_memory(a, b)
        a[...] = 7.0  # a write into one result must leave the other as it was
        assert not np.any(b == 7.0)

    apart(*fg.grad(f, argnums=(0, 1))(x, y))
    apart(*fg.grad(lambda p: f(p[0], p[1]))([x, y]))
    out, pullback = fg.vjp(lambda x, y: (x + y) * 2.0, x, y)
    apart(*pullback(np.ones(3)))
    apart(*fg.jacrev(lambda x, y: (x + y) * 2.0, argnums=(0, 1))(x, y))
    rows = fg.hessian(f, argnums=(0, 1))(x, y)
    blocks = [block for row in rows for block in row]
    for i, a in enumerate(blocks):
        for b in blocks[i + 1 :]:
            assert not np.shares_memory(a, b)


@pytest.mark.parametrize("f", [lambda x: x, lambda x: x + 0.0, lambda x: (x * 1.0, x * 1.0)], ids=["identity", "plus zero", "twice"])
def test_jvp_never_hands_back_the_callers_tangent_or_one_buffer_twice(f):
    tangent = np.arange(3.0)
    kept = tangent.copy()
    _, out = fg.jvp(f, (np.ones(3),), (tangent,))
    outs = list(out) if isinstance(out, tuple) else [out]
    for i, t in enumerate(outs):
        assert not np.shares_memory(t, tangent)
        for other in outs[i + 1 :]:
            assert not np.shares_memory(t, other)
        t[...] = -1.0
    np.testing.assert_array_equal(tangent, kept)
