"""jit's replay rewrites (funcgrad/_rewrites.py): fewer NumPy calls, the eager call's bits.

The registry-wide and random-program checks of every rewrite, in both tiers, are in
tests/test_jit_tiers.py (and tests/test_jit_registry.py replays through them); here, each rewrite
happens where it should, not where it must not, and keeps the bits.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import _jit, _rewrites
from funcgrad._jit import prepare
from funcgrad._rewrites import NonFinite, python_floats


def _prepared(fun: Callable[..., Any], *args: Any) -> Any:
    """What a cached branch replays of ``fun``'s recording (on Python floats where it can)."""
    return python_floats(prepare(fg.make_program(fun)(*args)))


def _names(program: Any) -> list[str]:
    return [eqn.prim.name for eqn in program.eqns]


def _replays_match(fun: Callable[..., Any], *args: Any) -> None:
    """Every tier's replay gives the recording's leaves: types, dtypes, bits and signs of zero."""
    jitted = fg.jit(fun)
    want = fg.tree.tree_flatten(jitted(*args))[0]
    for _ in range(_jit.INTERPRETED_REPLAYS + 2):
        got = fg.tree.tree_flatten(jitted(*args))[0]
        for g, w in zip(got, want, strict=True):
            assert type(g) is type(w)
            assert np.asarray(g).dtype == np.asarray(w).dtype
            np.testing.assert_array_equal(g, w)
            np.testing.assert_array_equal(np.signbit(g), np.signbit(w))


def test_an_exact_duplicate_is_computed_once() -> None:
    f = lambda x: fnp.sin(x) * fnp.sin(x) + fnp.exp(x) / fnp.exp(x)  # noqa: E731
    x = np.linspace(-1.0, 1.0, 7)
    assert _names(fg.make_program(f)(x)).count("sin") == 2
    program = _prepared(f, x)
    assert _names(program).count("sin") == 1 and _names(program).count("exp") == 1
    _replays_match(f, x)


def test_the_gradient_of_a_square_multiplies_once() -> None:
    f = fg.grad(lambda x: fnp.sum(fnp.tanh(x) * fnp.tanh(x)))
    x = np.linspace(-1.0, 1.0, 5)
    before, after = fg.make_program(f)(x).pruned(), _prepared(f, x)
    assert len(after.eqns) < len(before.eqns)
    _replays_match(f, x)


def test_an_element_read_twice_is_read_once_a_view_twice() -> None:
    f = lambda p: p[0] * p[1] + p[0] * p[1] + fnp.sum(p[0:2] * p[0:2])  # noqa: E731
    x = np.array([1.5, -2.0, 0.25])
    assert _names(fg.make_program(f)(x)).count("getitem") == 6
    program = _prepared(f, x)
    assert _names(program).count("getitem") == 4  # p[0], p[1] once each; the slices (views) twice
    _replays_match(f, x)
    _replays_match(fg.grad(f), x)


def test_returned_duplicates_stay_two_arrays() -> None:
    f = lambda x: (fnp.sin(x), fnp.sin(x))  # noqa: E731
    x = np.ones(3)
    assert _names(_prepared(f, x)).count("sin") == 2
    jitted = fg.jit(f)
    for _ in range(_jit.INTERPRETED_REPLAYS + 2):
        a, b = jitted(x)
        assert not np.shares_memory(a, b)


@pytest.mark.parametrize(
    ("first", "second"),
    [(0.0, -0.0), (2.0, np.float64(2.0)), (np.float32(2.0), np.float64(2.0)), (3, 3.0), (np.nan, -np.nan)],
)
def test_constants_differing_in_type_or_bits_are_not_merged(first: Any, second: Any) -> None:
    f = lambda x: (x * first + x * second) * 1.5  # noqa: E731
    x = np.array([1.0, -2.0, np.inf], np.float32)
    with np.errstate(invalid="ignore"):
        assert _names(_prepared(f, x)).count("multiply") == 3
        _replays_match(f, x)


def test_the_gradient_of_a_scaled_sum_keeps_no_array_constant() -> None:
    f = fg.grad(lambda x: fnp.sum(fnp.tanh(x) + 0.1 * x))
    x = np.linspace(-2.0, 2.0, 1000)
    arrays = lambda p: [a for e in p.eqns for a in e.inputs if isinstance(getattr(a, "value", None), np.ndarray)]  # noqa: E731
    assert arrays(fg.make_program(f)(x).pruned())
    program = _prepared(f, x)
    assert not arrays(program), program
    _replays_match(f, x)


@pytest.mark.parametrize(
    ("constant", "x"),
    [
        (np.full((2, 3), 0.1), np.ones((2, 3))),  # two axes: the result's layout could differ
        (np.array([0.1, 0.2, 0.1]), np.ones(3)),  # not uniform
        (np.full(3, 0.1), np.float64(1.0)),  # the constant decides the broadcast
        (np.array([0.0, -0.0, 0.0]), np.ones(3)),  # equal values, different bits
    ],
    ids=["matrix", "varied", "broadcast", "signed-zeros"],
)
def test_an_array_constant_stays_an_array_where_a_scalar_could_differ(constant: np.ndarray, x: Any) -> None:
    f = lambda v: fnp.sin(v) + constant  # noqa: E731
    program = _prepared(f, x)
    (add,) = [eqn for eqn in program.eqns if eqn.prim.name == "add"]
    assert any(type(getattr(a, "value", None)) is np.ndarray for a in add.inputs)
    _replays_match(f, x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("value", [0.1, -0.0, np.nan, np.inf])
def test_a_uniform_constant_read_as_a_scalar_keeps_the_bits(dtype: Any, value: float) -> None:
    # made inside the function: only the program holds it, so its values are fixed (a closed-over one is not read)
    x = np.array([1.5, -0.0, np.inf, 3.0], np.float32)
    for op in (np.add, np.subtract, np.multiply, np.divide):
        for f in (
            lambda v, op=op: op(fnp.cos(v), np.full(4, value, dtype)),
            lambda v, op=op: op(np.full(4, value, dtype), fnp.cos(v)),
        ):
            with np.errstate(all="ignore"):
                program = _prepared(f, x)
                _replays_match(f, x)
            assert not [a for e in program.eqns for a in e.inputs if type(getattr(a, "value", None)) is np.ndarray]


def _shifted_layer(ps: Any) -> Any:
    kernel, image = ps
    out = 0.0
    for k in range(9):
        i, j = divmod(k, 3)
        out = out + fnp.einsum("oc,bchw->bohw", kernel[k], image[:, :, i : i + 4, j : j + 4])
    return fnp.sum(fnp.tanh(out))


def test_slice_cotangents_are_added_into_one_array() -> None:
    rng = np.random.default_rng(3)
    params = [rng.standard_normal((9, 2, 2)), rng.standard_normal((2, 2, 6, 6))]
    f = fg.grad(_shifted_layer)
    program = _prepared(f, params)
    image = [eqn for eqn in program.eqns if eqn.out.shape == (2, 2, 6, 6)]
    # the first slice's cotangent in a fresh array, the other eight added into it where they land (no array
    # of zeros added whole)
    assert [eqn.prim.name for eqn in image] == ["index_add"] + ["index_add_into"] * 8
    assert [eqn.prim.name for eqn in program.eqns if eqn.out.shape == (9, 2, 2)] == ["index_add"] + ["index_add_into"] * 8
    _replays_match(f, params)
    eager = f(params)
    for got, want in zip(fg.jit(f)(params), eager, strict=True):
        np.testing.assert_array_equal(got, want)


def test_a_slice_cotangent_is_added_into_a_copy_of_an_array_read_elsewhere() -> None:
    # y is returned, and read twice: adding into it would change what the caller or the second reader sees
    def f(x: Any, v: Any) -> Any:
        y = fnp.sin(x)
        return y.at[1:3].add(v), y.at[0].add(v[0]), y

    x, v = np.linspace(0.0, 1.0, 5), np.array([2.0, 3.0])
    program = _prepared(f, x, v)
    assert "index_add_into" not in _names(program)
    _replays_match(f, x, v)


def test_slice_cotangents_keep_the_sign_of_a_zero() -> None:
    # x's cotangent is -0.0 everywhere before the slice's -0.0 is added where it lands: -0.0 stays (an array
    # of zeros added whole would have made every position +0.0), eagerly and in every replay
    f = fg.grad(lambda x: fnp.sum(x[1:] * -0.0) + fnp.sum(x * -0.0))
    x = np.array([1.0, -2.0, 3.0, 0.5])
    eager = f(x)
    assert np.signbit(eager).all()
    jitted = fg.jit(f)
    for _ in range(_jit.INTERPRETED_REPLAYS + 2):
        got = jitted(x)
        np.testing.assert_array_equal(got, eager)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(eager))


def _rk4_like(p: Any) -> Any:
    """A loop over scalar states, reading a parameter vector element by element (as an RK4 step by hand)."""
    u, v = 1.0, 1.0
    for _ in range(3):
        du, dv = p[0] * u - p[1] * u * v, p[2] * u * v - p[3] * v
        u, v = u + 0.1 * du, v + 0.1 * dv
    return (u - 1.2) ** 2 + (v - 0.8) ** 2


def test_scalar_arithmetic_replays_on_python_floats() -> None:
    f = fg.grad(_rk4_like)
    p = np.array([1.5, 1.0, 1.0, 3.0])
    program = _prepared(f, p)
    floats = [eqn for eqn in program.eqns if eqn.out.type is float]
    assert len(floats) > 0.8 * len(program.eqns)
    arithmetic = {np.add, np.subtract, np.multiply, np.negative, np.true_divide}
    assert {eqn.prim.name for eqn in floats if eqn.prim.impl not in arithmetic} <= {"float", "finite"}
    # the parameter's gradient gathered in four scalars, written once: no index_add left
    assert _names(program).count("set_elements") == 1 and not {"index_add", "index_add_into"} & set(_names(program))
    _replays_match(f, p)
    _replays_match(_rk4_like, p)
    source = _jit.to_source(program)[0]
    assert "add_(" not in source and "multiply_(" not in source  # operators on Python floats, no ufunc calls


SPECIAL = [0.0, -0.0, 1.0, -2.5, 1e308, -1e308, 5e-324, 1e-300, np.inf, -np.inf, np.nan, -np.nan, 3.0, 0.1]


def _scalar_program(rng: np.random.Generator) -> Callable[[Any], Any]:
    """A random straight-line program on a vector's elements: arithmetic, constants, negation, division by
    constants and by values, NumPy's transcendental functions, ``**``, comparisons."""
    lines = ["def f(p):", "    s = [p[0], p[1], p[2], 0.5 * p[3]]"]
    constants = ["2.0", "-0.0", "0.0", "3", "1e300", "np.float64(0.25)", "np.inf", "-1.5"]
    for _ in range(12):
        a, b = (f"s[{k}]" for k in rng.integers(0, 4, 2))
        c = str(rng.choice(constants))
        form = rng.integers(0, 12)
        expression = [
            f"{a} + {b}", f"{a} - {c}", f"{c} * {a}", f"-{a}", f"{a} / {c}" if float(eval(c)) != 0 else f"{a} * {b}",
            f"{a} / {b}", f"fnp.exp({a} * 1e-3)", f"fnp.sin({a}) * {b}", f"{a} ** 2", f"{a} * {b} - {c}",
            f"fnp.where({a} > {b}, {a}, {b})", f"fnp.maximum({a}, {c})",
        ][form]
        lines.append(f"    s[{rng.integers(0, 4)}] = {expression}")
    lines.append("    return s[0] + s[1] * s[2] - s[3]")
    namespace: dict[str, Any] = {"np": np, "fnp": fnp}
    exec("\n".join(lines), namespace)
    return namespace["f"]  # type: ignore[no-any-return]


def _same_bits(got: Any, want: Any) -> bool:
    return type(got) is type(want) and np.asarray(got).dtype == np.asarray(want).dtype and (
        np.asarray(got).tobytes() == np.asarray(want).tobytes()
    )


@pytest.mark.parametrize("seed", range(40))
def test_random_scalar_programs_replay_the_eager_bits(seed: int) -> None:
    # on Python floats and on NumPy's scalars the replays give the same bits, NaN signs and payloads included,
    # in either tier, and the eager values (a NaN met by another NaN in + or * is the first operand's under
    # NumPy's ufunc, the second's under a scalar operator, and a recording runs a rule's operators as ufuncs:
    # NaN bits are compared between the replays only)
    rng = np.random.default_rng(seed)
    f = _scalar_program(rng)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for _ in range(4):
            p = np.array([rng.choice(SPECIAL) if rng.random() < 0.4 else rng.standard_normal() for _ in range(4)])
            for fun in (f, fg.grad(f)):
                try:
                    eager = fun(p)
                except Exception:  # noqa: BLE001  (a guard-free program: both raise alike, nothing to replay)
                    continue
                on_numpy = prepare(fg.make_program(fun)(p))
                on_floats = python_floats(on_numpy)
                want = _jit.interpret_program(on_numpy)(p)
                for replay in (_jit.interpret_program(on_floats), _jit.compile_program(on_floats)):
                    try:
                        got = replay(p)
                    except NonFinite:
                        continue  # a value leaving the floats is not finite: a branch replays on_numpy instead
                    assert _same_bits(got, want), (p, got, want)
                np.testing.assert_array_equal(want, eager)
                assert type(want) is type(eager)


def test_python_floats_go_back_to_numpy_where_the_result_could_differ() -> None:
    # a float64 scalar times a float32 array is float64 (a Python float would be float32); divisions by a
    # value stay NumPy's (inf, not ZeroDivisionError); the result is NumPy's scalar type
    def f(p: Any, x: Any) -> Any:
        a = p[0] * 2.0 - p[1]
        return a * x, a / (p[1] - p[1]), a * 3.0, fnp.exp(a) + a

    p, x = np.array([0.5, 1.5]), np.linspace(0.0, 1.0, 3, dtype=np.float32)
    with np.errstate(divide="ignore"):
        program = _prepared(f, p, x)
        _replays_match(f, p, x)
        out = fg.jit(f)(p, x)
    assert [eqn.out.type for eqn in program.eqns if eqn.prim.impl is np.multiply][0] is float
    assert out[0].dtype == np.float64 and type(out[2]) is np.float64


def test_floating_point_warnings_and_errors_as_eagerly() -> None:
    # Python's float arithmetic raises no flag: an overflow leaves an inf, and the call is replayed on NumPy's
    # scalars, which warn (or raise) as the eager call does; underflow handled by errstate runs on NumPy's too
    def f(p: Any) -> Any:
        big = p[0] * p[1] * 1e300
        return big - big * 0.5, p[0] * p[2] * 1e-300

    def said(fun: Any, p: Any) -> tuple[Any, set[str]]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = fun(p)
        return out, {str(w.message) for w in caught}

    jitted = fg.jit(f)
    small, huge = np.array([2.0, 3.0, 1e-10]), np.array([1e10, 1e10, 1e-10])
    want, eagerly = said(f, huge)
    assert "overflow encountered in scalar multiply" in eagerly
    said(jitted, huge)  # the recording
    for _ in range(_jit.INTERPRETED_REPLAYS + 2):
        assert all(np.isfinite(jitted(small)))
        got, replayed = said(jitted, huge)
        assert replayed == eagerly
        np.testing.assert_array_equal(got, want)
        with np.errstate(over="raise"), pytest.raises(FloatingPointError):
            jitted(huge)
        with np.errstate(under="raise"), pytest.raises(FloatingPointError):
            jitted(small)
        np.testing.assert_array_equal(jitted(small), f(small))
    assert next(iter(jitted._cache.values())).fallback is not None


def test_a_guard_on_a_python_float() -> None:
    def f(p: Any) -> Any:
        a = p[0] * p[1] - 1.0
        return a * 2.0 if a > 0 else -a

    jitted = fg.jit(f)
    for p in (np.array([2.0, 1.0]), np.array([0.5, 1.0]), np.array([3.0, 1.0]), np.array([0.25, 1.0])):
        for _ in range(_jit.INTERPRETED_REPLAYS + 2):
            got = jitted(p)
            assert type(got) is np.float64 and got == f(p)


def test_float32_scalars_stay_numpy_scalars() -> None:
    f = fg.grad(lambda p: p[0] * p[1] - p[1] * 0.5)
    p = np.array([1.5, 2.0], np.float32)
    assert not [eqn for eqn in _prepared(f, p).eqns if eqn.out.type is float]
    _replays_match(f, p)


def test_an_elementwise_chain_writes_into_its_dying_arrays() -> None:
    f = fg.grad(lambda v: fnp.sum(fnp.tanh(v) * fnp.exp(-0.5 * v * v) + 0.1 * v))
    x = np.linspace(-4.0, 4.0, 10_000)
    program = _prepared(f, x)
    written = [eqn for eqn in program.eqns if eqn.prim.name.endswith("_into")]
    assert len(written) >= 8, program
    _replays_match(f, x)


def test_an_array_returned_viewed_or_read_later_is_not_written_into() -> None:
    def f(x: Any) -> Any:
        y = fnp.sin(x)
        z = fnp.cos(x)
        w = fnp.exp(x)
        return y * 2.0, y, fnp.sum(z[:3]) + z * 3.0, w * w + 1.0

    x = np.linspace(0.0, 1.0, 5000)
    program = _prepared(f, x)
    written = {eqn.inputs[eqn.params["into"]].id for eqn in program.eqns if eqn.prim.name.endswith("_into")}
    sin, cos, exp = (next(e.out.id for e in program.eqns if e.prim.name == name) for name in ("sin", "cos", "exp"))
    assert not {sin, cos} & written  # returned; viewed (z[:3])
    assert exp not in written  # w * w: both operands are w
    jitted = fg.jit(f)
    want = jitted(x)
    for _ in range(_jit.INTERPRETED_REPLAYS + 2):
        got = jitted(x)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_array_equal(g, w)
        assert not np.shares_memory(got[0], got[1])


@pytest.mark.parametrize("order", ["C", "F", "mixed"])
def test_a_result_written_into_an_operand_keeps_numpy_s_layout(order: str) -> None:
    rng = np.random.default_rng(4)
    a = rng.standard_normal((80, 70))
    b = np.asfortranarray(rng.standard_normal((80, 70))) if order != "C" else rng.standard_normal((80, 70))
    if order == "F":
        a = np.asfortranarray(a)
    f = lambda x, y: (fnp.sin(x) * y + 1.0) @ y.T  # noqa: E731  (matmul's bits follow its operands' layouts)
    _replays_match(f, a, b)
    jitted, plain = fg.jit(lambda x, y: fnp.sin(x) * y + 1.0), np.sin(a) * b + 1.0
    for _ in range(_jit.INTERPRETED_REPLAYS + 2):
        got = jitted(a, b)
        assert (got.flags.c_contiguous, got.flags.f_contiguous) == (plain.flags.c_contiguous, plain.flags.f_contiguous)
        np.testing.assert_array_equal(got, plain)


def test_a_program_without_large_arrays_is_not_scanned_for_writes_into_operands() -> None:
    # the RK4 gradient's 34,000 scalar calls: no result can be written into an operand, so the pass returns
    # the calls as they are, without its two passes over them
    program = fg.make_program(fg.grad(lambda p: fnp.sin(p[0] * p[1]) * p[2]))(np.array([0.5, 1.5, 2.0]))
    steps = program.pruned().steps
    assert _rewrites._written_into_dying(steps, program.outputs) is steps
    big = fg.make_program(lambda x: fnp.sin(x) * 2.0 + 1.0)(np.ones(5000))
    written = _rewrites._written_into_dying(big.steps, big.outputs)
    assert written is not big.steps and "add_into" in [eqn.prim.name for eqn in written]
