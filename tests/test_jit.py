"""make_program and jit: listings, replay equal to the eager call bit for bit, guards, caching, composition, purity."""

from __future__ import annotations

import collections
import tracemalloc
import warnings
from typing import Any

import numpy as np
import pytest
from conftest import in_threads

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._jit import to_source
from funcgrad._trace import Primitive

X = np.array([0.3, -1.2, 2.0])


def same(a: Any, b: Any) -> None:
    """Equal bit for bit, with the same types and dtypes, leaf by leaf."""
    leaves_a, tree_a = fg.tree.tree_flatten(a)
    leaves_b, tree_b = fg.tree.tree_flatten(b)
    assert tree_a == tree_b
    for x, y in zip(leaves_a, leaves_b):
        assert type(x) is type(y), (type(x), type(y))
        if isinstance(x, (np.ndarray, np.generic)):
            assert x.dtype == y.dtype and np.shape(x) == np.shape(y)
            assert np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"), (x, y)
        else:
            assert x == y


def counting(fun: Any) -> tuple[Any, list[int]]:
    """``fun`` with a Python side effect: how often it ran (as Python, not as a replay)."""
    calls: list[int] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return fun(*args, **kwargs)

    return counted, calls


# --- make_program --------------------------------------------------------------------------------


def test_listing_of_two_x_dot_x_and_its_backward_pass() -> None:
    f = lambda x: 2 * fnp.dot(x, x)  # noqa: E731
    assert str(fg.make_program(f)(np.arange(3.0))) == (
        "{ lambda ; a:f64[3]. let\n    b:f64[] = matmul a a\n    c:f64[] = multiply 2 b\n  in (c,) }"
    )
    backward = fg.make_program(fg.grad(f))(np.arange(3.0))
    assert [eqn.prim.name for eqn in backward.eqns] == ["matmul", "multiply", "multiply", "multiply", "add"]


def test_listing_names_constants_params_and_types() -> None:
    weights = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    program = fg.make_program(lambda x: fnp.sum(weights @ x, axis=0))(np.ones(3, np.float32))
    text = str(program)
    assert text.startswith("{ lambda k0:f32[2,3]; a:f32[3]. let")
    assert "b:f32[2] = matmul k0 a" in text
    assert "c:f32[] = sum[axis=(-1,) keepdims=False] b" in text


def test_program_of_hessian_is_forward_over_reverse() -> None:
    f = lambda x: fnp.sum(fnp.sin(x) * x)  # noqa: E731
    program = fg.make_program(fg.hessian(f))(X)
    names = [eqn.prim.name for eqn in program.eqns]
    assert "cos" in names and names.count("sin") >= 2  # sin's rule is differentiated again
    assert program.outputs[0].shape == (3, 3)


def test_to_dot_has_a_node_per_value_and_call() -> None:
    dot = fg.make_program(lambda x: fnp.sin(x) * x)(X).to_dot()
    assert dot.startswith("digraph program {") and dot.rstrip().endswith("}")
    assert 'label="sin"' in dot and 'label="multiply"' in dot
    assert dot.count("->") == 6  # a->sin, sin->b, b->multiply, a->multiply, multiply->c, c->out0
    assert "out0" in dot


def test_make_program_static_argnums_and_guards_shown() -> None:
    def f(x: Any, n: int) -> Any:
        for _ in range(n):
            x = fnp.sin(x)
        return x if fnp.sum(x) else -x

    program = fg.make_program(f, static_argnums=1)(X, 2)
    assert [eqn.prim.name for eqn in program.eqns] == ["sin", "sin", "sum"]
    assert "guard d is True" in str(program)


# --- jit: replay equals eager -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "x",
    [X, np.float64(0.7), np.array(0.7), 0.7, np.array([1.5, -2.0], np.float32), np.array([1 + 2j, -0.5j])],
    ids=["vector", "np_scalar", "0d_array", "python_float", "float32", "complex"],
)
def test_replay_is_the_eager_call_bit_for_bit(x: Any) -> None:
    def f(x: Any) -> Any:
        y = fnp.exp(fnp.sin(x) * 1.5 - x / 3.0) + x * x
        return {"y": y, "parts": (fnp.sum(y), y * 0.5)}

    jitted, calls = counting(f)
    jitted = fg.jit(jitted)
    first = jitted(x)
    same(first, f(x) if not isinstance(x, float) else fg.jit(f)(x))
    other = x * 0.5 - 1.0
    if isinstance(x, np.ndarray):
        other = np.asarray(other)  # a 0-d array stays one (arithmetic would give a NumPy scalar)
    same(jitted(other), fg.jit(f)(other))
    assert len(calls) == 1  # the second call was a replay


def test_jit_of_grad_is_one_program_and_exact() -> None:
    f = lambda x: 2 * fnp.dot(x, x) + fnp.sum(fnp.tanh(x) * x)  # noqa: E731
    g = fg.jit(fg.grad(f))
    same(g(X), fg.grad(f)(X))
    same(g(X - 3.0), fg.grad(f)(X - 3.0))
    assert g._cache_size() == 1


def test_jit_of_the_scalar_chain_gradient() -> None:
    def chain(x: Any) -> Any:
        for _ in range(50):
            x = fnp.sin(x) * 1.01 + 0.1
        return x

    g = fg.jit(fg.grad(chain))
    for x in (0.5, -0.25, 3.0):
        same(g(x), fg.grad(chain)(x))


def test_replay_source_is_one_line_a_call_with_operators_for_floats() -> None:
    program = fg.make_program(lambda x: fnp.sin(x) * 2.0 + x)(np.float64(0.5))
    source, _ = to_source(program.pruned())
    assert source.splitlines() == [
        "def replay(a):",
        "    b = sin_(a)",
        "    c = b * 2.0",
        "    d = c + a",
        "    return d",
    ]


def test_replay_drops_each_intermediate_array_after_its_last_use() -> None:
    def chain(x: Any) -> Any:
        for _ in range(40):
            x = fnp.sin(x) + x
        return x

    f = fg.jit(chain)
    x = np.linspace(-1.0, 1.0, 100_000)
    f(x)  # recorded
    tracemalloc.start()
    try:
        result = f(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    same(result, chain(x))
    assert peak < 5 * x.nbytes  # a few arrays alive at once, not the 80 intermediates


def test_replay_source_frees_arrays_but_not_inputs_outputs_or_scalars() -> None:
    program = fg.make_program(lambda x, s: (fnp.tanh(x) * x, fnp.sin(s) * s))(X, np.float64(0.5))
    source, _ = to_source(program.pruned())
    assert source.splitlines() == [
        "def replay(a, b):",
        "    c = tanh_(a)",
        "    d = c * a",
        "    del c",
        "    e = sin_(b)",
        "    f = e * b",
        "    return (d, f)",
    ]


def test_replay_builds_the_output_pytree() -> None:
    Pair = collections.namedtuple("Pair", "first second")
    cases = {
        "nested": (lambda x: {"b": [x * 2.0, (fnp.sin(x),)], "a": None, "c": x}, False),
        "one-tuple": (lambda x: (x + 1.0,), False),
        "constant": (lambda x: (x * 2.0, np.arange(2.0), 1.5), False),
        "namedtuple": (lambda x: Pair(x * 2.0, [fnp.cos(x)]), True),
    }
    for name, (f, unflattens) in cases.items():
        jitted = fg.jit(f)
        jitted(X)  # recorded
        for x in (X, -X):
            got = jitted(x)
            same(got, f(x))
            assert type(got) is type(f(x)), name
        source, _ = to_source(fg.make_program(f)(X).pruned())
        assert ("unflatten_(" in source) == unflattens, name


def test_two_python_numbers_are_not_replayed_as_python_arithmetic() -> None:
    f = fg.jit(lambda x, y: x * y)
    same(f(2.0, 3.0), np.multiply(2.0, 3.0))  # NumPy's scalar, as the eager recording returned
    same(f(4.0, 0.5), np.multiply(4.0, 0.5))


def test_jit_of_jvp_hessian_and_jit_of_jit() -> None:
    f = lambda x: fnp.sum(fnp.sin(x) * x)  # noqa: E731
    jj = fg.jit(lambda x, t: fg.jvp(f, (x,), (t,)))
    same(jj(X, np.ones(3)), fg.jvp(f, (X,), (np.ones(3),)))
    same(jj(-X, X), fg.jvp(f, (-X,), (X,)))
    jh = fg.jit(fg.hessian(f))
    same(jh(X + 1.0), fg.hessian(f)(X + 1.0))
    inner = fg.jit(lambda x: fnp.cos(x) * x)
    outer = fg.jit(lambda x: inner(x) + 1.0)
    same(outer(X), fnp.cos(X) * X + 1.0)
    same(outer(-X), fnp.cos(-X) * -X + 1.0)
    assert inner._cache_size() == 0  # inside a recording it runs as Python: the outer program holds it


def test_grad_of_jit_and_jit_inside_other_transforms() -> None:
    f = fg.jit(lambda x: fnp.sum(fnp.sin(x) * x))
    f(X)  # recorded
    same(fg.grad(f)(X), fg.grad(lambda x: fnp.sum(fnp.sin(x) * x))(X))
    same(fg.hessian(f)(X), fg.hessian(lambda x: fnp.sum(fnp.sin(x) * x))(X))
    assert f._cache_size() == 1


def test_jit_of_custom_rules_and_checkpoint() -> None:
    @fg.custom_vjp
    def scaled(x: Any) -> Any:
        return fnp.sin(x)

    scaled.defvjp(lambda x: (fnp.sin(x), x), lambda x, g: (100.0 * g * x,))

    @fg.custom_jvp
    def doubled(x: Any) -> Any:
        return fnp.sin(x)

    doubled.defjvp(lambda p, t: (fnp.sin(p[0]), 7.0 * t[0]))
    for x in (X, -X):
        same(fg.jit(scaled)(x), fnp.sin(x))
        same(fg.jit(fg.grad(lambda x: fnp.sum(scaled(x))))(x), 100.0 * x)
        same(fg.jit(lambda x: fg.jvp(doubled, (x,), (x,)))(x), (fnp.sin(x), 7.0 * x))
        same(fg.jit(fg.grad(lambda x: fnp.sum(doubled(x))))(x), np.full(3, 7.0))
        remat = fg.jit(fg.grad(lambda x: fnp.sum(fg.checkpoint(lambda y: fnp.sin(fnp.sin(y)))(x))))
        same(remat(x), fg.grad(lambda x: fnp.sum(fnp.sin(fnp.sin(x))))(x))


# --- guards ---------------------------------------------------------------------------------------------


def branchy(x: Any) -> Any:
    if fnp.sum(x):  # bool() of a traced value: a guard
        return x * 2.0
    return x * 3.0 + 1.0


def test_guard_branch_then_the_other_then_the_first_again() -> None:
    f, calls = counting(branchy)
    f = fg.jit(f)
    ones, zeros = np.ones(2), np.zeros(2)
    same(f(ones), ones * 2.0)
    same(f(zeros), zeros * 3.0 + 1.0)  # the guard disagrees: that branch is recorded too
    same(f(ones + 1), (ones + 1) * 2.0)  # the first branch again, replayed
    same(f(zeros), zeros * 3.0 + 1.0)  # the second branch, replayed
    assert len(calls) == 2
    assert f._cache_size() == 2


def test_while_loop_counted_by_values() -> None:
    def halvings(x: Any) -> Any:
        while fnp.maximum(x - 1.0, 0.0):  # stop once x <= 1
            x = x / 2.0
        return x

    f, calls = counting(halvings)
    f = fg.jit(f)
    for x in (8.0, 3.0, 8.0, 0.5, 100.0, 3.0, 0.5):
        x = np.float64(x)
        expected = x
        while expected > 1.0:
            expected = expected / 2.0
        same(f(x), expected)
    assert len(calls) == 4  # one recording per iteration count: 8 (3), 3 (2), 0.5 (0), 100 (7)
    assert f._cache_size() == 4


def test_data_dependent_shape_is_a_guard() -> None:
    positive = Primitive("positive_part_example", lambda x: x[x > 0])  # not registered: an example only
    positive.data_dependent_shape = True
    f, calls = counting(lambda x: fnp.sum(positive(x)) * 2.0)
    f = fg.jit(f)
    same(f(np.array([1.0, -1.0, 2.0])), np.float64(6.0))
    same(f(np.array([3.0, -1.0, 2.0])), np.float64(10.0))  # two positives again: replayed
    same(f(np.array([3.0, 1.0, 2.0])), np.float64(12.0))  # three: the shape guard misses, recorded
    assert len(calls) == 2
    assert "guard shape b == (2,)" in str(fg.make_program(lambda x: positive(x))(np.array([1.0, -1.0, 2.0])))


def test_guard_under_jit_of_grad() -> None:
    def f(x: Any) -> Any:
        return fnp.sum(x * x) if fnp.sum(x) else fnp.sum(fnp.sin(x))

    g = fg.jit(fg.grad(f))
    for x in (X, np.zeros(3), X + 1.0, np.zeros(3)):
        same(g(x), fg.grad(f)(x))
    assert g._cache_size() == 2


# --- errors -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "read", [float, int, lambda x: x.item(), lambda x: range(x)], ids=["float", "int", "item", "index"]
)
def test_reading_a_traced_number_names_static_argnums(read: Any) -> None:
    with pytest.raises(TypeError, match="static_argnums"):
        fg.jit(lambda x: read(x))(3.0)
    with pytest.raises(TypeError, match="static_argnums"):
        fg.make_program(lambda x: read(x))(3.0)


def test_unhashable_static_argument_is_named() -> None:
    f = fg.jit(lambda x, sizes: x * len(sizes), static_argnums=1)
    with pytest.raises(TypeError, match=r"static argument 1 is a list, which is not hashable"):
        f(1.0, [1, 2])
    g = fg.jit(lambda x, *, opts: x, static_argnames="opts")
    with pytest.raises(TypeError, match="static argument 'opts' is a dict"):
        g(1.0, opts={})


def test_non_array_argument_points_to_static_argnums() -> None:
    with pytest.raises(TypeError, match=r"is a str .*static_argnums"):
        fg.jit(lambda x, mode: x)(1.0, "fast")
    assert fg.jit(lambda x, mode: x * 2 if mode == "fast" else x, static_argnums=1)(1.0, "fast") == 2.0


def test_jit_of_a_non_callable_is_refused() -> None:
    with pytest.raises(TypeError, match="function"):
        fg.jit(3)  # type: ignore[arg-type]


def test_escaped_jit_tracer_is_an_unexpected_tracer_error() -> None:
    leaked: list[Any] = []
    fg.jit(lambda x: leaked.append(x) or x * 2)(1.0)
    with pytest.raises(fg.errors.UnexpectedTracerError):
        fnp.sin(leaked[0])


# --- cache ------------------------------------------------------------------------------------------------------


def test_every_structure_and_leaf_type_has_its_own_recording() -> None:
    Pair = collections.namedtuple("Pair", "first second")

    def total(*args: Any, **kwargs: Any) -> Any:
        leaves = fg.tree.tree_leaves((args, kwargs))
        return sum((leaf * (i + 1.0) for i, leaf in enumerate(leaves)), start=fnp.zeros(()))

    f, calls = counting(total)
    f = fg.jit(f)
    one = np.ones(2)
    arguments: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        ((one, one), {}),
        (([one, one],), {}),
        (((one, one),), {}),
        (({"a": one, "b": one},), {}),
        (({"a": one, "c": one},), {}),
        ((one,), {"b": one}),
        ((one,), {"c": one}),
        ((one, 1.0), {}),
        ((one, 1), {}),
        ((one, True), {}),
        ((one, np.float64(1.0)), {}),
        ((one, np.float32(1.0)), {}),
        ((one, np.array(1.0)), {}),
        ((one, np.ones(2, np.float32)), {}),
        ((one, np.ones((1, 2))), {}),
        ((Pair(one, one),), {}),  # not a plain container: the general signature
        ((one, None, one), {}),
    ]
    for args, kwargs in arguments:
        f(*args, **kwargs)
    assert len(calls) == len(arguments) == f._cache_size()
    for args, kwargs in arguments:  # each hits its own recording, and replays the eager result
        scaled = fg.tree.tree_map(lambda leaf: leaf * 3, (args, kwargs))
        same(f(*scaled[0], **scaled[1]), total(*scaled[0], **scaled[1]))
    assert len(calls) == len(arguments)


def test_static_values_of_equal_value_but_other_type_record_apart() -> None:
    def scale(x: Any, n: Any, mode: str = "a") -> Any:
        return x * n, mode

    f = fg.jit(scale, static_argnums=1, static_argnames="mode")
    for n in (2, 2.0, True, 2, -1):
        same(f(X, n), scale(X, n))
    assert f._cache_size() == 4
    same(f(X, 2, mode="b"), (X * 2, "b"))
    same(f(X, n=3), (X * 3, "a"))  # static by name too: completed from the signature
    same(f(x=X, n=3), (X * 3, "a"))
    assert f._cache_size() == 7
    with pytest.raises(TypeError, match="not hashable"):
        f(X, [2])


def test_cache_hits_and_misses_by_signature_and_static_values() -> None:
    f, calls = counting(lambda x, n: x * n)
    f = fg.jit(f, static_argnums=1)
    f(np.ones(3), 2)
    f(np.zeros(3), 2)  # hit
    assert len(calls) == 1
    f(np.ones(4), 2)  # shape
    f(np.ones(3, np.float32), 2)  # dtype
    f(np.float64(1.0), 2)  # scalar type
    f(np.ones(3), 3)  # static value
    f([np.ones(3)], 2)  # structure
    assert len(calls) == 6 and f._cache_size() == 6
    f(np.ones(3), 3)
    assert len(calls) == 6
    f.clear_cache()
    assert f._cache_size() == 0
    f(np.ones(3), 3)
    assert len(calls) == 7


def test_static_argnums_and_argnames_find_each_other() -> None:
    f, calls = counting(lambda x, n: x * n)
    f = fg.jit(f, static_argnames="n")
    same(f(np.ones(2), 3), np.full(2, 3.0))
    same(f(np.ones(2), n=4), np.full(2, 4.0))
    same(f(np.ones(2), n=4), np.full(2, 4.0))
    assert len(calls) == 2


def test_cache_is_bounded_least_recently_used() -> None:
    f, calls = counting(lambda x: x + 1.0)
    f = fg.jit(f)
    f.cache_limit = 2
    f(np.ones(1))
    f(np.ones(2))
    f(np.ones(1))  # 1 is now the most recently used
    f(np.ones(3))  # evicts 2
    assert f._cache_size() == 2
    f(np.ones(1))
    assert len(calls) == 3
    f(np.ones(2))
    assert len(calls) == 4


def test_side_effects_run_when_recording_only() -> None:
    printed: list[str] = []

    @fg.jit
    def f(x: Any) -> Any:
        printed.append("traced")
        return x + 1

    f(1.0)
    f(2.0)
    f(3.0)
    assert printed == ["traced"]


# --- purity -----------------------------------------------------------------------------------------------------


def test_inputs_and_recording_never_mutated() -> None:
    table = np.array([1.0, 2.0, 3.0])
    f = fg.jit(lambda x: (x * 2.0, table, fnp.sum(x)))
    x = X.copy()
    first = f(x)
    assert first[1] is table  # the recording call returns what the function returned, as eager
    np.testing.assert_array_equal(x, X)
    second = f(x)
    assert second[1] is not table  # a replay hands out a copy of the constant it keeps
    second[1][:] = -1.0
    second[0][:] = 0.0
    third = f(x)
    np.testing.assert_array_equal(third[0], X * 2.0)
    np.testing.assert_array_equal(third[1], [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(table, [1.0, 2.0, 3.0])


def test_array_constants_keep_their_memory_layout() -> None:
    table = np.arange(12.0).reshape(3, 4)
    f = fg.jit(lambda w: (table.T @ w, table.T))
    program = fg.make_program(f.fun)(np.ones(3))
    assert program.eqns[0].inputs[0].value.flags.f_contiguous  # what eager's matmul was handed
    f(np.ones(3))
    product, constant = f(np.linspace(0.0, 1.0, 3))
    same(product, table.T @ np.linspace(0.0, 1.0, 3))
    assert constant.flags.f_contiguous and not np.shares_memory(constant, table)


def test_accumulated_cotangents_are_fresh_each_replay() -> None:
    def f(x: Any) -> Any:  # x reaches the output along many paths: the sweep accumulates its cotangent
        return fnp.sum(x * x + fnp.sin(x) * x + x * 3.0 + fnp.exp(x) * x)

    g = fg.jit(fg.grad(f))
    expected = fg.grad(f)(X)
    results = [g(X) for _ in range(3)]
    for result in results:
        same(result, expected)
    assert results[1] is not results[2]
    results[1] += 1.0
    same(g(X), expected)


def test_replay_is_thread_safe_and_reentrant() -> None:
    f = fg.jit(fg.grad(lambda x: fnp.sum(fnp.tanh(x) * x) if fnp.sum(x) else fnp.sum(x * x)))
    inputs = [X * k for k in range(8)]
    expected = [fg.grad(lambda x: fnp.sum(fnp.tanh(x) * x) if fnp.sum(x) else fnp.sum(x * x))(x) for x in inputs]
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                for x, want in zip(inputs, expected):
                    same(f(x), want)
        except BaseException as error:  # noqa: BLE001  (reported by the main thread)
            errors.append(error)

    in_threads(work, 4)
    assert not errors
    assert 1 <= f._cache_size() <= 2 * 4


def _sin_dot(x: Any) -> Any:
    return np.sum(np.sin(x) * x)


def test_jit_of_vmap_replays_the_batched_program() -> None:
    batched = fg.jit(fg.vmap(_sin_dot))
    rows = np.random.default_rng(0).normal(size=(5, 3))
    assert np.array_equal(batched(rows), fg.vmap(_sin_dot)(rows))  # recording
    shifted = rows + 1.0
    replayed = batched(shifted)
    assert batched._cache_size() == 1
    assert np.array_equal(replayed, fg.vmap(_sin_dot)(shifted))
    assert np.allclose(replayed, [_sin_dot(row) for row in shifted])


def test_vmap_of_jit_and_jit_of_vmap_of_grad_equal_loops() -> None:
    rows = np.random.default_rng(1).normal(size=(4, 3))
    assert np.allclose(fg.vmap(fg.jit(_sin_dot))(rows), [_sin_dot(row) for row in rows])
    per_example = fg.jit(fg.vmap(fg.grad(_sin_dot)))
    per_example(rows)
    shifted = rows - 0.5
    assert np.allclose(per_example(shifted), np.stack([fg.grad(_sin_dot)(row) for row in shifted]))
    assert per_example._cache_size() == 1


def test_a_count_read_while_recording_is_a_guard() -> None:
    def repeat_by_argmax(x: Any) -> Any:
        return fnp.sum(fnp.repeat(x, fnp.argmax(x) + 1))  # the count decides the output's size

    jitted = fg.jit(repeat_by_argmax)
    first, second = np.array([1.0, 3.0, 2.0]), np.array([3.0, 1.0, 2.0])
    assert jitted(first) == repeat_by_argmax(first)
    assert jitted(second) == repeat_by_argmax(second)  # a stale replay would give 12.0, not 6.0
    assert jitted(first) == repeat_by_argmax(first)
    assert jitted._cache_size() == 2
    assert "guard value" in str(fg.make_program(repeat_by_argmax)(first))


_SPECIAL = [0.0, -0.0, 1.5, -2.25, 1e308, -1e308, 5e-324, np.inf, -np.inf, np.nan, 0.1]


@pytest.mark.parametrize("ufunc", [np.add, np.subtract, np.multiply])
def test_recorded_scalar_arithmetic_is_the_ufunc_s_bits_type_and_warnings(ufunc: np.ufunc) -> None:
    """A recording computes float64 scalar ``+ - *`` by Python's operators (cheaper than the ufunc): each
    value, its type and each floating-point warning are the ufunc's, for NumPy scalars and Python floats."""
    prim = getattr(fnp, ufunc.__name__)
    for first in _SPECIAL:
        for second in _SPECIAL:
            for a, b in ((np.float64(first), np.float64(second)), (np.float64(first), second), (first, np.float64(second))):
                with warnings.catch_warnings(record=True) as eager_warned:
                    warnings.simplefilter("always")
                    want = ufunc(a, b)
                with warnings.catch_warnings(record=True) as recorded_warned:
                    warnings.simplefilter("always")
                    got = fg.jit(lambda x, y: prim(x, y))(a, b)  # the recording's value
                assert type(got) is type(want) is np.float64 and got.tobytes() == want.tobytes(), (ufunc, a, b)
                assert [w.category for w in recorded_warned] == [w.category for w in eager_warned], (a, b)
            with np.errstate(all="ignore"):
                overflows = np.isfinite([first, second]).all() and not np.isfinite(ufunc(first, second))
            if overflows:
                for a, b in ((np.float64(first), np.float64(second)), (np.float64(first), second), (first, second)):
                    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
                        fg.jit(lambda x, y: prim(x, y))(a, b)  # two Python floats too: the ufunc's error
