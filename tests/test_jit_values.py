"""Every value-dependent choice a wrapper or rule makes is a recorded operation or a guard.

Each function here picks something from its input's values (an integer
index, unique positions, an eigenvector's pivot, a mask count, the element a
pad copies, a rank).  ``jit`` records it at one input and replays it at
inputs that choose differently; the replay must give exactly what a fresh
recording (the eager traced call) gives, bit for bit.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from spy_trace import spy

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._program import Guard
from funcgrad.testing import check_grads


def _leaves(fun: Callable[..., Any], *args: Any) -> Any:
    try:
        return fg.tree.tree_leaves(fun(*args))
    except ValueError as error:
        return type(error)


def _replays_like_eager(fun: Callable[..., Any], recorded: tuple[Any, ...], *others: tuple[Any, ...]) -> None:
    jitted = fg.jit(fun)
    jitted(*recorded)
    for args in (recorded, *others):
        got, want = _leaves(jitted, *args), _leaves(fg.jit(fun), *args)
        if isinstance(want, type):
            assert got is want, args
            continue
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert type(g) is type(w) and np.shape(g) == np.shape(w) and np.result_type(g) == np.result_type(w)
            np.testing.assert_array_equal(g, w, err_msg=str(args))


def _guards(fun: Callable[..., Any], *args: Any) -> list[str]:
    return [step.kind for step in fg.make_program(fun)(*args).steps if isinstance(step, Guard)]


W = np.array([[1.0, 2.0, 0.0], [3.0, 4.0, 1.0]])
W_SWAPPED = np.array([[1.0, 2.0, 1.0], [3.0, 4.0, 0.0]])


def test_an_integer_cast_through_numpy_is_a_value_guard() -> None:
    f = lambda w: w[np.int64(w[:, -1]), 0].sum() * w[0, 0]  # noqa: E731
    assert _guards(f, W) == ["value"]
    _replays_like_eager(f, (W,), (W_SWAPPED,))
    _replays_like_eager(fg.grad(f), (W,), (W_SWAPPED,))
    assert spy(f)(W)[1].reads == ["an integer cast to int64 (numpy.asarray)"]


def test_astype_int_is_a_recorded_cast() -> None:
    f = lambda w: fnp.take(w[:, 1], w[:, -1].astype(int)).sum() * w[1, 1]  # noqa: E731
    assert _guards(f, W) == []
    _replays_like_eager(f, (W,), (W_SWAPPED,))
    _replays_like_eager(fg.grad(f), (W,), (W_SWAPPED,))


def test_unique_positions_inverse_and_counts_are_recorded() -> None:
    def f(v: Any) -> Any:
        values, index, inverse, counts = fnp.unique(v, return_index=True, return_inverse=True, return_counts=True)
        return values**2, index, inverse, counts

    recorded = np.array([2.0, 1.0, 2.0])
    _replays_like_eager(f, (recorded,), (np.array([3.0, 1.0, 2.0]),), (np.array([5.0, 5.0, 5.0]),))
    _replays_like_eager(fg.grad(lambda v: fnp.sum(f(v)[0])), (recorded,), (np.array([1.0, 2.0, 1.0]),))
    assert "unique_part" in spy(f)(recorded)[1].calls and not spy(f)(recorded)[1].reads


def _eig_loss(a: Any) -> Any:
    w, v = fnp.linalg.eig(a)
    return fnp.sum(fnp.real(w) ** 2) + fnp.sum(fnp.real(v * v[:1]) + fnp.imag(v) * np.array([1.0, 2.0]))


A_COMPLEX = np.array([[0.5, 2.0], [-1.0, 0.3]])  # complex eigenvalues: the phase-fixing pivot is used
A_OTHER_PIVOT = np.array([[0.3, -1.0], [2.0, 0.5]])


def test_the_eigenvector_pivot_is_a_recorded_position() -> None:
    assert np.iscomplexobj(np.linalg.eig(A_COMPLEX)[1])
    pivots = [np.argmax(np.abs(np.linalg.eig(a)[1]), axis=0).tolist() for a in (A_COMPLEX, A_OTHER_PIVOT)]
    assert pivots[0] != pivots[1]
    grad = fg.grad(_eig_loss)
    _replays_like_eager(grad, (A_COMPLEX,), (A_OTHER_PIVOT,))
    _replays_like_eager(lambda a: fg.jvp(_eig_loss, (a,), (np.ones((2, 2)),)), (A_COMPLEX,), (A_OTHER_PIVOT,))
    _, trace = spy(grad)(A_COMPLEX)
    assert "eig_pivot" in trace.calls and not trace.reads
    check_grads(_eig_loss, (A_COMPLEX,), order=2, modes=("fwd", "rev"))


def _piecewise(v: Any) -> Any:
    return fnp.piecewise(v, [v < 0, v > 2], [lambda u: -u, lambda u: u**3, lambda u: u**2])


def test_piecewise_with_traced_conditions_records_its_masks() -> None:
    recorded = np.array([-1.0, 3.0, 1.0])
    others = [(np.array([1.0, -3.0, -2.0]),), (np.array([0.5, 0.5, 0.5]),), (np.array([4.0, 5.0, 6.0]),)]
    _replays_like_eager(_piecewise, (recorded,), *others)
    _replays_like_eager(fg.grad(lambda v: fnp.sum(_piecewise(v))), (recorded,), *others)
    _, trace = spy(_piecewise)(recorded)
    assert {"less", "greater", "mask_rank"} <= set(trace.calls)
    assert set(trace.reads) == {"bool"}  # only whether each piece has entries (NumPy calls no function otherwise)
    jitted = fg.jit(_piecewise)
    jitted(recorded)
    jitted(np.array([3.0, 1.0, -1.0]))  # the same counts elsewhere: replayed, not recorded again
    assert jitted._cache_size() == 1
    np.testing.assert_array_equal(
        _piecewise(recorded),
        np.piecewise(recorded, [recorded < 0, recorded > 2], [lambda u: -u, lambda u: u**3, lambda u: u**2]),
    )
    check_grads(_piecewise, (recorded,), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("mode", ["maximum", "minimum", "median"])
def test_statistic_pads_record_the_element_they_copy(mode: str) -> None:
    f = lambda x: fnp.pad(x, ((1, 2), (2, 0)), mode=mode) * x[0, 0]  # noqa: E731
    recorded = np.array([[1.0, 3.0, 2.0], [0.5, -1.0, 4.0]])
    others = [(recorded[:, ::-1].copy(),), (-recorded,)]
    _replays_like_eager(f, (recorded,), *others)
    _replays_like_eager(fg.grad(lambda x: fnp.sum(f(x) ** 2)), (recorded,), *others)
    _, trace = spy(f)(recorded)
    assert "pad_stat_map" in trace.calls and not trace.reads


def test_geomspace_zero_check_is_a_guard() -> None:
    f = lambda a, b: fnp.geomspace(a, b, 4)  # noqa: E731
    assert set(_guards(f, 1.0, 100.0)) == {"bool"}
    _replays_like_eager(f, (1.0, 100.0), (0.0, 100.0), (-1.0, -8.0), (2.0, 0.0))


def test_matrix_rank_and_lstsq_rank_are_recorded() -> None:
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    _replays_like_eager(fnp.linalg.matrix_rank, (np.eye(2),), (singular,))
    tall = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    f = lambda a, b: fnp.linalg.lstsq(a, b, rcond=None)[1:3]  # noqa: E731
    assert _guards(f, tall, np.ones(3)) == ["value"]  # the residuals' shape depends on the rank
    _replays_like_eager(f, (tall, np.ones(3)), (np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]), np.ones(3)))
    assert _guards(lambda a, b: fnp.linalg.lstsq(a, b, rcond=None)[0], np.eye(2), np.ones(2)) == []


def test_sqrtm_guards_the_dtype_scipy_picks_by_the_eigenvalues() -> None:
    pytest.importorskip("scipy", reason="funcgrad.scipy needs the scipy extra")
    from funcgrad.scipy import linalg

    spd = np.array([[2.0, 0.5], [0.5, 1.0]])
    assert _guards(linalg.sqrtm, spd) == ["value"]
    _replays_like_eager(linalg.sqrtm, (spd,), (-spd,), (spd,))
    _replays_like_eager(fg.grad(lambda a: fnp.sum(fnp.real(linalg.sqrtm(a)) ** 2)), (spd,), (-spd,))


# --- replay semantics: floating-point warnings and errors, dead calls ------------------------------------------

WARNING_CASES = [
    ("log", lambda x: fnp.log(x) * 2.0),
    ("divide", lambda x: 1.0 / x + x),
    ("overflow", lambda x: fnp.exp(-x) * 2.0),
    ("grad_sqrt", fg.grad(lambda x: fnp.sum(fnp.sqrt(x) * x[0]))),
    ("jvp_power", lambda x: fg.jvp(lambda y: y**0.5, (x,), (np.ones(2),))),
]
SAFE, WARNS = np.array([1.0, 2.0]), np.array([-1000.0, 0.0])


def _warned(fun: Callable[..., Any], *args: Any) -> tuple[Any, list[tuple[type, str]]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fg.tree.tree_leaves(fun(*args))
    return out, [(w.category, str(w.message)) for w in caught]


def _raised(fun: Callable[..., Any], *args: Any) -> tuple[type, str] | None:
    try:
        fun(*args)
    except (FloatingPointError, RuntimeWarning) as error:
        return type(error), str(error)
    return None


@pytest.mark.parametrize("fun", [f for _, f in WARNING_CASES], ids=[n for n, _ in WARNING_CASES])
def test_a_replay_warns_and_raises_as_the_eager_call_under_the_callers_errstate(fun: Callable[..., Any]) -> None:
    jitted = fg.jit(fun)
    jitted(SAFE)
    got, got_warnings = _warned(jitted, WARNS)
    want, want_warnings = _warned(fun, WARNS)  # the eager call, no jit
    assert got_warnings == want_warnings and want_warnings
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
    with np.errstate(all="raise"):
        assert _raised(jitted, WARNS) == _raised(fun, WARNS) is not None
    with np.errstate(all="ignore"):
        assert _warned(jitted, WARNS)[1] == _warned(fun, WARNS)[1] == []
    with warnings.catch_warnings():  # a filter on the module that warns treats replay and the traced call alike
        warnings.filterwarnings("error", category=RuntimeWarning, module="funcgrad")
        assert _raised(jitted, WARNS) == _raised(fg.jit(fun), WARNS) is not None
    assert jitted._cache_size() == 1  # every call above was a replay


def test_a_call_whose_result_is_unused_does_not_run_on_replay() -> None:
    def checked(a: Any) -> Any:
        fnp.linalg.inv(a)  # dead: nothing returned depends on it
        return a * 2.0

    jitted = fg.jit(checked)
    jitted(np.eye(2))
    with pytest.raises(np.linalg.LinAlgError):
        checked(np.zeros((2, 2)))
    np.testing.assert_array_equal(jitted(np.zeros((2, 2))), np.zeros((2, 2)))  # pruned: no LinAlgError
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dead_log = fg.jit(lambda x: (fnp.log(x), x + 1.0)[1])
        dead_log(SAFE)
        np.testing.assert_array_equal(dead_log(WARNS), WARNS + 1.0)  # nor does its warning


def test_reshape_order_a_guards_the_memory_layout() -> None:
    c_order = np.arange(6.0).reshape(2, 3)
    f_order = np.asfortranarray(c_order)
    f = lambda x: fnp.reshape(x * 1.0, (-1,), order="A") * np.arange(6.0)  # noqa: E731
    assert _guards(f, c_order) == ["value"]
    _replays_like_eager(f, (c_order,), (f_order,), (c_order,))
    _replays_like_eager(fg.grad(lambda x: fnp.sum(f(x) ** 2)), (c_order,), (f_order,))
    np.testing.assert_array_equal(fg.jit(f)(f_order), np.reshape(f_order, (-1,), order="A") * np.arange(6.0))


_BATCH = np.random.default_rng(3).standard_normal((3, 3, 3))
VMAP_CASES = {
    "det_grad": (fg.grad(lambda a: fnp.linalg.det(a)), _BATCH),
    "slogdet_sign": (lambda a: fnp.linalg.slogdet(a)[0], _BATCH),
    "norm_ord0": (lambda x: fnp.linalg.norm(x - x[0, 0], 0, axis=1), _BATCH),
    "eig_pivot": (fg.grad(lambda a: fnp.sum(fnp.real(fnp.linalg.eig(a)[1]))), _BATCH),
    "pad_maximum": (lambda x: fnp.pad(x, 1, mode="maximum"), _BATCH),
    "lstsq_rank": (lambda a: fnp.linalg.lstsq(a, np.ones(3))[2], _BATCH),
    "matrix_rank": (fnp.linalg.matrix_rank, _BATCH),
    "reshape_order_a": (lambda x: fnp.reshape(x, (-1,), order="A"), _BATCH),
}


@pytest.mark.parametrize("name", VMAP_CASES)
def test_the_recorded_choices_batch_under_vmap(name: str) -> None:
    fun, batch = VMAP_CASES[name]
    np.testing.assert_array_equal(fg.vmap(fun)(batch), np.stack([fun(example) for example in batch]))


@pytest.mark.parametrize(
    "fun",
    [lambda x: x * x, lambda x: fnp.sum(fnp.atleast_1d(x) * x), lambda x: fnp.cosh(x) * x],
    ids=["product", "through a 1-vector", "two rules"],
)
def test_a_gradient_at_a_zero_d_array_is_a_zero_d_array_in_every_call(fun: Any) -> None:
    # 0-d arithmetic hands back NumPy scalars: the recording's cotangent is one, where the eager call's
    # delivery makes a 0-d array (a writeable one) of it
    x = np.array(0.3)
    want = fg.grad(fun)(x)
    assert type(want) is np.ndarray
    jitted = fg.jit(fg.grad(fun))
    for _ in range(6):  # the recording, the interpreted and the compiled tiers
        got = jitted(x)
        assert type(got) is np.ndarray and got.shape == () and got.flags.writeable
        assert got.tobytes() == want.tobytes()
    assert type(fg.jit(fg.grad(fg.grad(fun)))(x)) is type(fg.grad(fg.grad(fun))(x))


def test_a_copy_of_a_traced_numpy_scalar_is_a_zero_d_array_as_numpy_copy_gives() -> None:
    # ``numpy.copy`` of a NumPy scalar (0-d arithmetic's result) is a 0-d array; so is funcgrad's, in every tier
    def fun(x: Any) -> Any:
        total = fnp.sum(x * x)
        c = fnp.copy(total)
        d = fnp.copy(total)
        d[...] = d * 2.0  # each copy is an array of its own: a write into one reaches nothing else
        return c, d, total

    x = np.array([0.5, -1.5, 2.0])
    want = fun(x)
    jitted = fg.jit(fun)
    for _ in range(6):  # the recording, the interpreted and the compiled tiers
        got = jitted(x)
        assert [type(v) for v in got] == [type(v) for v in want] == [np.ndarray, np.ndarray, np.float64]
        assert [v.tobytes() for v in got] == [v.tobytes() for v in want]
    np.testing.assert_array_equal(fg.grad(lambda v: fun(v)[1])(x), 4.0 * x)
    check_grads(lambda v: fun(v)[0] + fun(v)[1], (x,), order=2)


_Z = np.complex128(0.3 - 0.7j)
_W = np.complex64(-0.4 + 0.9j)


@pytest.mark.parametrize(
    "fun",
    [
        lambda v: v * v,
        lambda v: _Z * v,  # a NumPy scalar's __mul__ hands the traced operand to numpy.multiply
        lambda v: v * (0.2 + 1.1j),
        lambda v: (0.2 + 1.1j) * v,
        lambda v: fnp.einsum("i,i->", v, v) * v[0],  # a 0-d reduction is a NumPy scalar too
        lambda v: v * _W,
    ],
    ids=["square", "constant first", "python complex", "python complex first", "einsum", "complex64"],
)
def test_a_product_of_complex_numpy_scalars_is_numpy_scalar_math(fun: Any) -> None:
    # ``z * w`` of complex NumPy scalars is NumPy's scalar math, which rounds most products differently in
    # the last bit from numpy.multiply's loop: jit (and the derivatives' primal) replay the operator
    rng = np.random.default_rng(5)
    for _ in range(20):
        z = np.complex128(complex(*rng.uniform(-1, 1, 2)))
        x = np.array([z, z * 0.5]) if "einsum" in str(fun.__code__.co_names) else z
        want = fun(x)
        jitted = fg.jit(fun)
        for _ in range(4):  # the recording, the interpreted and the compiled tiers
            got = jitted(x)
            assert type(got) is type(want) and got.tobytes() == want.tobytes(), (x, got, want)
        assert fg.jvp(fun, (x,), (np.ones_like(x),))[0].tobytes() == want.tobytes()
        loss = lambda v: fnp.real(fun(v) * fnp.conj(fun(v)))  # noqa: E731
        assert fg.jit(fg.grad(loss))(x).tobytes() == fg.grad(loss)(x).tobytes()


def test_the_complex_scalar_product_differentiates() -> None:
    z, w = np.complex128(0.3 - 0.7j), np.complex128(-1.2 + 0.4j)
    assert [e.prim.name for e in fg.make_program(lambda a: a * w)(z).eqns] == ["multiply_operator"]
    check_grads(lambda a, b: a * b * a, (z, w), order=2, modes=("fwd", "rev"))
    check_grads(lambda a: (0.5 + 2j) * a * a, (z,), order=2, modes=("fwd", "rev"))


_R = np.random.default_rng(11)
_C = _R.uniform(-1, 1, (2, 3, 4)) + 1j * _R.uniform(-1, 1, (2, 3, 4))


@pytest.mark.parametrize(
    ("fun", "args"),
    [
        (lambda a, b: fnp.vecdot(a, fnp.sin(b)), (_R.uniform(-1, 1, (2, 3)), _R.uniform(-1, 1, 3))),
        (lambda a, b: fnp.vecdot(a, b, axis=0), (_C[0], _C[1])),
        (lambda a, b: fnp.linalg.vecdot(a, b, axis=0), (_R.uniform(-1, 1, (5, 2)), _R.uniform(-1, 1, (5, 2)))),
        (lambda a, b: fnp.matvec(a, b), (_C, _R.uniform(-1, 1, 4))),
        (lambda a, b: fnp.vecmat(a, b), (_C[0, 0, :3], _C)),
        (lambda a, b: fnp.vecmat(a.ravel(), fnp.outer(a.ravel(), b)), (_R.uniform(-1, 1, (2, 2)), _R.uniform(-1, 1, 4))),
    ],
    ids=["vecdot", "vecdot complex axis 0", "linalg.vecdot", "matvec", "vecmat", "vecmat of an outer product"],
)
def test_the_vector_gufuncs_give_numpys_own_bits(fun: Any, args: tuple[Any, ...]) -> None:
    # numpy.vecdot/matvec/vecmat sum in their own loops; an einsum (or a product and a sum) of the same terms
    # rounds differently: traced values, jit and the derivatives' primal use the gufunc itself
    want = fun(*args)
    jitted = fg.jit(fun)
    for _ in range(4):  # the recording, the interpreted and the compiled tiers
        got = jitted(*args)
        assert type(got) is type(want) and got.tobytes() == want.tobytes()
    assert fg.jvp(fun, args, tuple(np.ones_like(a) for a in args))[0].tobytes() == want.tobytes()
    check_grads(lambda *a: fun(*a) * fun(*a), args, order=2, modes=("fwd", "rev"))
    batch = np.stack([args[0], 0.5 * args[0]])
    np.testing.assert_array_equal(fg.vmap(lambda a: fun(a, args[1]))(batch), np.stack([fun(a, args[1]) for a in batch]))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (_C[0, :, :1].copy(), _C[1, :1, :].copy()),
        (_C[0, :, :1].astype(np.complex64), _C[1, :1, :].astype(np.complex64)),
        (_C[0], _C[1, 0]),
        (_C[0, 0], _C[1].T),
    ],
    ids=["outer product", "complex64 outer product", "matrix vector", "vector matrix"],
)
def test_dot_of_complex_matrices_gives_numpys_own_bits(a: Any, b: Any) -> None:
    # numpy.dot's outer products of complex operands round differently from numpy.matmul's
    want = np.dot(a, b)
    for fun in (lambda x: fnp.dot(x, b), lambda x: np.dot(x, b), lambda x: x.dot(b)):
        jitted = fg.jit(fun)
        for _ in range(4):
            assert jitted(a).tobytes() == want.tobytes()
        assert fg.jvp(fun, (a,), (np.ones_like(a),))[0].tobytes() == want.tobytes()
        check_grads(lambda x: fun(x) * fun(x), (a,), order=2, modes=("fwd", "rev"))  # noqa: B023
    batch = np.stack([a, 0.5 * a])
    np.testing.assert_allclose(fg.vmap(lambda x: fnp.dot(x, b))(batch), np.stack([np.dot(x, b) for x in batch]), rtol=1e-6)


def test_the_variance_of_complex_values_gives_numpys_own_bits() -> None:
    # NumPy's var squares the real and imaginary parts and adds them (not real(d * conj(d)))
    rng = np.random.default_rng(3)
    fun = lambda v: fnp.var(v, axis=None)  # noqa: E731
    jitted = fg.jit(fun)
    for _ in range(40):
        x = (rng.uniform(-1, 1, (2, 2)) + 1j * rng.uniform(-1, 1, (2, 2))).astype(np.complex64)
        want = np.var(x)
        assert jitted(x).tobytes() == want.tobytes() and fg.jit(fun)(x).tobytes() == want.tobytes()
    check_grads(lambda v: fnp.var(v * v), (x.astype(np.complex128),), order=2, modes=("fwd", "rev"))


def test_the_sign_of_one_complex_matrix_is_a_numpy_scalar() -> None:
    a = np.array([[2.0 + 1j, 0.5], [0.25j, 3.0 - 1j]])
    fun = lambda m: fnp.linalg.slogdet(m)[0]  # noqa: E731
    assert type(fg.jit(fun)(a)) is type(fun(a)) is np.complex128
    assert type(fg.jit(fun)(np.stack([a, a]))) is np.ndarray


@pytest.mark.parametrize("kind", [np.complex64, np.complex128])
@pytest.mark.parametrize(
    "fun",
    [
        lambda v: fnp.sin(v) * fnp.exp(0.3 * v),
        lambda v: fnp.tanh(v) / (v + 2.0),
    ],
    ids=["sin times exp", "tanh over"],
)
def test_a_gradient_of_one_complex_element_is_the_recordings(kind: Any, fun: Any) -> None:
    # NumPy multiplies a one-element complex array in place by another loop than into a new array (the
    # last bit differs for most values): the eager sweep's in-place rules must not, as jit records neither
    rng = np.random.default_rng(44)
    loss = lambda v: fnp.sum(fnp.abs(fun(v)) ** 2)  # noqa: E731
    jitted = fg.jit(fg.grad(loss))
    for size in (1, 1, 1, 1, 1, 1, 3):
        x = (rng.uniform(-1, 1, size) + 1j * rng.uniform(-1, 1, size)).astype(kind)
        want = fg.grad(loss)(x)
        for got in (jitted(x), fg.jit(fg.grad(loss))(x)):
            assert got.dtype == want.dtype and got.tobytes() == want.tobytes(), (x, got, want)
    check_grads(fun, (x.astype(np.complex128),), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("kind", [np.float64, np.float32, np.complex64, np.float16])
@pytest.mark.parametrize(
    ("name", "axis", "mask_shape", "keepdims"),
    [
        ("sum", None, (3, 40), False),
        ("sum initial", -1, (3, 40), True),
        ("mean", None, (3, 40), False),
        ("mean", -1, (40,), False),
        ("mean", 0, (3, 1), True),
    ],
)
def test_a_sum_or_mean_with_where_gives_numpys_own_bits(
    kind: Any, name: str, axis: Any, mask_shape: tuple[int, ...], keepdims: bool
) -> None:
    # NumPy's masked reduction adds in another order than the pairwise sum of where(mask, x, 0), and its mean
    # divides by an intp count (a float32 sum in float64): traced values, jit and a traced mask give its bits
    def fun(m: Any, x: Any, w: Any) -> Any:
        if name == "sum initial":
            return m.sum(x, axis=axis, keepdims=keepdims, where=w, initial=0.7)
        return getattr(m, name)(x, axis=axis, keepdims=keepdims, where=w)

    rng = np.random.default_rng(301)
    for _ in range(3):
        x = rng.normal(size=(3, 40)) * 10 + (1j * rng.normal(size=(3, 40)) if kind is np.complex64 else 0)
        x, w = x.astype(kind), rng.random(mask_shape) < 0.7
        want = fun(np, x, w)
        for got in (fg.jit(lambda v: fun(fnp, v, w))(x), fg.jit(lambda v: fun(np, v, w))(x), fg.jit(lambda v, u: fun(fnp, v, u))(x, w)):  # noqa: B023
            assert type(got) is type(want) and got.dtype == want.dtype and got.tobytes() == want.tobytes(), (got, want)
    if kind is np.float64:
        check_grads(lambda v: fun(fnp, v, w) ** 2, (x / 10,), order=2, modes=("fwd", "rev"))
        batch = np.stack([x, -0.5 * x])
        np.testing.assert_array_equal(fg.vmap(lambda v: fun(fnp, v, w))(batch), np.stack([fun(np, v, w) for v in batch]))
        masks = np.stack([np.broadcast_to(w, x.shape), np.ones(x.shape, bool)])
        np.testing.assert_array_equal(fg.vmap(lambda u: fun(fnp, x, u))(masks), np.stack([fun(np, x, u) for u in masks]))


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_the_sign_of_a_complex_determinant_gives_numpys_own_bits(shape: tuple[int, ...]) -> None:
    # NumPy's slogdet multiplies the LU diagonal's entries over their moduli; det / |det| rounds differently
    rng = np.random.default_rng(288)
    fun = lambda m: fnp.linalg.slogdet(m + 3.0 * fnp.eye(shape[-1]))[0]  # noqa: E731
    for _ in range(10):
        a = rng.uniform(-1, 1, shape) + 1j * rng.uniform(-1, 1, shape)
        want = np.linalg.slogdet(a + 3.0 * np.eye(shape[-1]))[0]
        for got in (fg.jit(fun)(a), fg.jvp(fun, (a,), (np.ones_like(a),))[0], fg.vjp(fun, a)[0]):
            assert type(got) is type(want) and np.asarray(got).tobytes() == np.asarray(want).tobytes(), (got, want)
    check_grads(lambda m: fun(m) * fnp.sin(m[..., 0, 0]), (a,), order=2, modes=("fwd", "rev"))
    if len(shape) == 3:
        np.testing.assert_array_equal(fg.vmap(fun)(a), np.stack([fun(m) for m in a]))


@pytest.mark.parametrize("shape", [(2, 3), (3, 5), (2, 2, 4)])
@pytest.mark.parametrize("kind", [float, complex])
def test_the_qr_of_a_wide_matrix_gives_numpys_own_bits(shape: tuple[int, ...], kind: type) -> None:
    # R's right block is LAPACK's reflectors applied to the right columns; Q^H @ Y rounds differently
    rng = np.random.default_rng(393)
    for _ in range(5):
        a = rng.uniform(-1, 1, shape) + (1j * rng.uniform(-1, 1, shape) if kind is complex else 0)
        for mode in ("reduced", "complete", "r"):
            fun = lambda m: fnp.linalg.qr(m, mode=mode)  # noqa: B023, E731
            want = fg.tree.tree_leaves(np.linalg.qr(a, mode=mode))
            for got in (fun(a), fg.jit(fun)(a), fg.jvp(fun, (a,), (np.ones_like(a),))[0], fg.vjp(fun, a)[0]):
                for g, w in zip(fg.tree.tree_leaves(got), want, strict=True):
                    assert type(g) is type(w) and g.tobytes() == w.tobytes(), (mode, g, w)
    check_grads(lambda x: fnp.linalg.qr(x)[1] * fnp.sin(x) + fnp.linalg.qr(x)[0][..., :1] * x, (a,), order=2, modes=("fwd", "rev"))
    if len(shape) == 3:
        np.testing.assert_array_equal(fg.vmap(lambda x: fnp.linalg.qr(x)[1])(a), np.stack([np.linalg.qr(x)[1] for x in a]))


@pytest.mark.parametrize("b_shape", [(6,), (6, 2)])
@pytest.mark.parametrize("kind", [np.float64, np.complex128, np.float32])
def test_the_residuals_of_lstsq_are_numpys_own(b_shape: tuple[int, ...], kind: Any) -> None:
    # LAPACK's residuals are the squares of the trailing entries of Q^H b, in double precision: |b - a x|^2
    # rounds differently
    rng = np.random.default_rng(365)
    fun = lambda m, v: fnp.linalg.lstsq(m, v)[1]  # noqa: E731
    for _ in range(5):
        a = rng.uniform(-1, 1, (6, 3)) + (1j * rng.uniform(-1, 1, (6, 3)) if kind is np.complex128 else 0)
        a, b = a.astype(kind), rng.uniform(-1, 1, b_shape).astype(np.float32 if kind is np.float32 else np.float64)
        want = np.linalg.lstsq(a, b)[1]
        for got in (fg.jit(fun)(a, b), fg.jvp(fun, (a, b), (np.ones_like(a), np.ones_like(b)))[0], fg.vjp(fun, a, b)[0]):
            assert type(got) is type(want) and got.dtype == want.dtype and got.tobytes() == want.tobytes(), (got, want)
    if kind is not np.float32:
        check_grads(lambda m, v: fun(m, v) * fnp.sin(m[0, 0]), (a, b), order=2, modes=("fwd", "rev"))
        check_grads(lambda m, v: fun(m, v) * fnp.sin(m[0, 0]), (a, b * (1 + 0.3j)), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize(("axis", "keepdims"), [(None, False), (-1, False), (0, True)])
def test_the_mean_of_complex64_values_gives_numpys_own_bits(axis: Any, keepdims: bool) -> None:
    # NumPy divides the sum by an intp count, which takes complex64 to complex128's division (then rounds back)
    rng = np.random.default_rng(831)
    fun = lambda v: fnp.mean(v, axis=axis, keepdims=keepdims)  # noqa: E731
    for _ in range(20):
        x = (rng.uniform(-1, 1, (3, 5)) + 1j * rng.uniform(-1, 1, (3, 5))).astype(np.complex64)
        want = np.mean(x, axis=axis, keepdims=keepdims)
        for got in (fg.jit(fun)(x), fg.jvp(fun, (x,), (np.ones_like(x),))[0]):
            assert type(got) is type(want) and got.dtype == want.dtype and got.tobytes() == want.tobytes(), (got, want)
    check_grads(lambda v: fun(v * v), (x.astype(np.complex128),), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize(("a_shape", "b_shape", "axes"), [((), (1, 1), 1), ((2, 2), (2,), 2), ((2, 3), (3, 2), -1)])
def test_tensordot_with_too_many_or_negative_axes_behaves_as_numpy(
    a_shape: tuple[int, ...], b_shape: tuple[int, ...], axes: int
) -> None:
    # more axes than an operand has: NumPy's IndexError (jit and the eager call raise the same); a negative
    # count: NumPy's outer product
    b = np.full(b_shape, 0.5)
    fun = lambda x: fnp.tensordot(x * 1.5, b, axes=axes)  # noqa: E731
    x = np.ones(a_shape)
    if axes > 0:
        for call in (fun, fg.jit(fun), fg.grad(lambda v: fnp.sum(fun(v)))):
            with pytest.raises(IndexError):
                call(x)
        return
    want = np.tensordot(x * 1.5, b, axes=axes)
    got = fg.jit(fun)(x)
    assert got.shape == want.shape and got.tobytes() == want.tobytes()
    check_grads(fun, (x,), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("name", ["quantile", "nanquantile", "percentile"])
@pytest.mark.parametrize("kind", [np.float32, np.float16])
def test_a_quantile_of_narrow_floats_at_a_python_q_gives_numpys_own_bits(name: str, kind: Any) -> None:
    # NumPy takes a Python q's weight in float64 and rounds it (and one minus it) to the array's precision
    rng = np.random.default_rng(1278)
    for q in (0.3, 0.7, 0.05):
        q = q * 100 if name == "percentile" else q
        for axis in (-1, None):
            fun = lambda v: getattr(fnp, name)(v, q, axis=axis)  # noqa: B023, E731
            x = rng.uniform(-1, 1, (3, 7)).astype(kind)
            want = getattr(np, name)(x, q, axis=axis)
            got = fg.jit(fun)(x)
            assert type(got) is type(want) and got.dtype == want.dtype and got.tobytes() == want.tobytes(), (q, got, want)
    check_grads(lambda v: getattr(fnp, name)(v, 0.3 * (100 if name == "percentile" else 1), axis=-1), (x.astype(np.float64),), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("reduction", [np.var, np.std], ids=["var", "std"])
def test_var_and_std_of_plain_values_under_a_traced_mask_are_recorded(reduction: Any) -> None:
    # the mask is traced (a comparison under jit), the values plain: funcgrad's own var/std take it (NumPy's
    # implementation handed it back to funcgrad's, which handed it to NumPy's: a recursion without end)
    x = np.array([1.0, 2.0, 5.0, 4.0, -3.0])

    def masked(v: Any) -> Any:
        return reduction(x, where=v > 1.5)

    jitted = fg.jit(masked)
    for v in (np.array([1.0, 2.0, 3.0, 4.0, 0.0]), np.array([2.0, 2.0, 0.0, 4.0, 5.0])):
        want = masked(v)
        for _ in range(4):  # the recording, the interpreted and the compiled tiers
            got = jitted(v)
            assert type(got) is type(want)
            # close, not yet the same bits: a traced var/std with where= is where(mask, ...) and a pairwise sum,
            # not NumPy's masked reduction (sum and mean are)
            np.testing.assert_allclose(got, want, rtol=1e-15)
