"""Contractions: matmul, dot, vdot, inner, outer, tensordot, einsum, kron, cross, convolve, correlate.

Each case is checked against finite differences in both modes up to second
order, its value against NumPy's, and (for the batched forward rules)
``jacfwd`` against ``jacrev``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from conftest import rnd

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._prims import _contract
from funcgrad.testing import check_grads


def realified(f: Any, args: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
    """``f`` as a real function of real arguments (complex ones split into real and imaginary parts),
    so that jacfwd and jacrev must agree whatever the holomorphy of ``f``."""
    kinds = [np.iscomplexobj(a) for a in args]

    def g(*us: Any) -> Any:
        xs = [u[0] + 1j * u[1] if c else u for u, c in zip(us, kinds)]
        out = f(*xs)
        if np.iscomplexobj(fg.stop_gradient(out)):
            return fnp.stack([fnp.real(out), fnp.imag(out)])
        return out

    return g, tuple(np.stack([a.real, a.imag]) if c else a for a, c in zip(args, kinds))


def check_all(f: Any, numpy_f: Any, args: tuple[Any, ...]) -> None:
    check_grads(f, args, modes=("fwd", "rev"), order=2)
    value, _ = fg.vjp(f, *args)
    np.testing.assert_allclose(value, numpy_f(*args), rtol=1e-5, atol=1e-6)
    g, us = realified(f, args)
    argnums = tuple(range(len(args)))
    forward = fg.jacfwd(g, argnums=argnums)(*us)
    reverse = fg.jacrev(g, argnums=argnums)(*us)
    for jf, jr in zip(forward, reverse):
        np.testing.assert_allclose(jf, jr, rtol=1e-5, atol=1e-6)


def einsum_case(spec: str, *shapes: tuple[int, ...], dtype: Any = np.float64) -> Any:
    return pytest.param(
        lambda *a: fnp.einsum(spec, *a),
        lambda *a: np.einsum(spec, *a),
        tuple(rnd(*s, dtype=dtype) for s in shapes),
        id=f"einsum[{spec}]-{np.dtype(dtype).name}",
    )


def case(name: str, f: Any, numpy_f: Any, *shapes: tuple[int, ...], dtype: Any = np.float64) -> Any:
    return pytest.param(f, numpy_f, tuple(rnd(*s, dtype=dtype) for s in shapes), id=f"{name}-{np.dtype(dtype).name}")


F32, C64, C128 = np.float32, np.complex64, np.complex128

CASES = [
    # matmul: vector/matrix combinations, stacks, broadcasting stacks
    case("matmul-vv", fnp.matmul, np.matmul, (3,), (3,)),
    case("matmul-vm", fnp.matmul, np.matmul, (3,), (3, 2)),
    case("matmul-mv", fnp.matmul, np.matmul, (2, 3), (3,)),
    case("matmul-mm", fnp.matmul, np.matmul, (2, 3), (3, 4)),
    case("matmul-stacked", fnp.matmul, np.matmul, (2, 2, 3), (2, 3, 2)),
    case("matmul-bcast", fnp.matmul, np.matmul, (2, 1, 2, 3), (3, 3, 2)),
    case("matmul-v-stack", fnp.matmul, np.matmul, (3,), (2, 3, 2)),
    case("matmul-stack-v", fnp.matmul, np.matmul, (2, 2, 3), (3,)),
    case("matmul-f32", fnp.matmul, np.matmul, (2, 3), (3, 2), dtype=F32),
    case("matmul-c128", fnp.matmul, np.matmul, (2, 3), (3, 2), dtype=C128),
    # dot: scalars, up to 2-D, and the N-D case
    case("dot-scalar", fnp.dot, np.dot, (), (3,)),
    case("dot-vv", fnp.dot, np.dot, (3,), (3,)),
    case("dot-mm", fnp.dot, np.dot, (2, 3), (3, 2)),
    case("dot-3d-v", fnp.dot, np.dot, (2, 2, 3), (3,)),
    case("dot-3d-3d", fnp.dot, np.dot, (2, 2, 3), (2, 3, 2)),
    case("dot-m-3d", fnp.dot, np.dot, (2, 3), (2, 3, 4)),
    case("dot-3d-f32", fnp.dot, np.dot, (2, 1, 3), (2, 3, 2), dtype=F32),
    case("dot-3d-c64", fnp.dot, np.dot, (2, 1, 3), (2, 3, 2), dtype=C64),
    # vdot conjugates its first argument
    case("vdot", fnp.vdot, np.vdot, (3,), (3,)),
    case("vdot-2d", fnp.vdot, np.vdot, (2, 2), (4,)),
    case("vdot-c128", fnp.vdot, np.vdot, (2, 3), (3, 2), dtype=C128),
    case("vdot-c64", fnp.vdot, np.vdot, (3,), (3,), dtype=C64),
    # inner / outer
    case("inner-vv", fnp.inner, np.inner, (3,), (3,)),
    case("inner-mm", fnp.inner, np.inner, (2, 3), (4, 3)),
    case("inner-3d", fnp.inner, np.inner, (2, 2, 3), (3,)),
    case("inner-scalar", fnp.inner, np.inner, (), (2, 2)),
    case("inner-c128", fnp.inner, np.inner, (2, 3), (3,), dtype=C128),
    case("outer", fnp.outer, np.outer, (3,), (2,)),
    case("outer-2d", fnp.outer, np.outer, (2, 2), (3,)),
    case("outer-f32", fnp.outer, np.outer, (3,), (2,), dtype=F32),
    # tensordot
    case("tensordot-2", fnp.tensordot, np.tensordot, (2, 3, 4), (3, 4, 2)),
    case("tensordot-0", lambda a, b: fnp.tensordot(a, b, 0), lambda a, b: np.tensordot(a, b, 0), (2,), (3,)),
    case("tensordot-1", lambda a, b: fnp.tensordot(a, b, 1), lambda a, b: np.tensordot(a, b, 1), (2, 3), (3, 2)),
    case(
        "tensordot-pairs",
        lambda a, b: fnp.tensordot(a, b, axes=([0, 2], [2, 0])),
        lambda a, b: np.tensordot(a, b, axes=([0, 2], [2, 0])),
        (2, 3, 4),
        (4, 2, 2),
    ),
    case(
        "tensordot-ints",
        lambda a, b: fnp.tensordot(a, b, axes=(-1, 0)),
        lambda a, b: np.tensordot(a, b, axes=(-1, 0)),
        (2, 3),
        (3, 2),
    ),
    case("tensordot-c64", fnp.tensordot, np.tensordot, (2, 3, 2), (3, 2), dtype=C64),
    # einsum: explicit, implicit, '...', traces, diagonals, sums, broadcasting, three operands
    einsum_case("ij,jk->ik", (2, 3), (3, 4)),
    einsum_case("ij,jk", (2, 3), (3, 2)),
    einsum_case("ba", (2, 3)),
    einsum_case("ii->i", (3, 3)),
    einsum_case("ii", (3, 3)),
    einsum_case("iij->ji", (2, 2, 3)),
    einsum_case("ij->", (2, 3)),
    einsum_case("ij->j", (2, 3)),
    einsum_case("i,i", (3,), (3,)),
    einsum_case("i,j->ij", (3,), (2,)),
    einsum_case("ijk,ikl->ijl", (2, 2, 3), (2, 3, 2)),
    einsum_case("...ij,...jk->...ik", (2, 2, 3), (3, 2)),
    einsum_case("...i,...i", (2, 3), (3,)),
    einsum_case("i...->...", (2, 3)),
    einsum_case("ij,ij->ij", (3, 1), (1, 4)),
    einsum_case("ij,j->i", (3, 4), (1,)),
    einsum_case("ij,ij->", (1, 1), (2, 3)),
    einsum_case("...i,...i->...", (2, 1, 3), (2, 3)),
    einsum_case("ij,jk,kl->il", (2, 3), (3, 2), (2, 2)),
    einsum_case("ij,jk,k", (2, 3), (3, 2), (2,)),
    einsum_case("i,i->", (3,), (3,), dtype=F32),
    einsum_case("ij,jk->ik", (2, 3), (3, 2), dtype=F32),
    einsum_case("ij,jk->ki", (2, 3), (3, 2), dtype=C128),
    einsum_case("ii->", (2, 2), dtype=C64),
    case(
        "einsum-sublist",
        lambda a, b: fnp.einsum(a, [0, 1], b, [1, 2], [0, 2]),
        lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [0, 2]),
        (2, 3),
        (3, 2),
    ),
    case(
        "einsum-optimize",
        lambda a, b, c: fnp.einsum("ij,jk,kl->il", a, b, c, optimize="greedy"),
        lambda a, b, c: np.einsum("ij,jk,kl->il", a, b, c, optimize="greedy"),
        (2, 3),
        (3, 4),
        (4, 2),
    ),
    # kron
    case("kron-vv", fnp.kron, np.kron, (2,), (3,)),
    case("kron-mm", fnp.kron, np.kron, (2, 2), (2, 3)),
    case("kron-mv", fnp.kron, np.kron, (2, 2), (3,)),
    case("kron-scalar", fnp.kron, np.kron, (), (2,)),
    case("kron-c128", fnp.kron, np.kron, (2,), (2, 2), dtype=C128),
    # cross
    case("cross-3", fnp.cross, np.cross, (3,), (3,)),
    case("cross-stack", fnp.cross, np.cross, (2, 3), (3,)),
    case(
        "cross-axes",
        lambda a, b: fnp.cross(a, b, axisa=0, axisb=1, axisc=0),
        lambda a, b: np.cross(a, b, axisa=0, axisb=1, axisc=0),
        (3, 2),
        (2, 3),
    ),
    case("cross-axis", lambda a, b: fnp.cross(a, b, axis=0), lambda a, b: np.cross(a, b, axis=0), (3, 2), (3, 2)),
    case("cross-f32", fnp.cross, np.cross, (2, 3), (2, 3), dtype=F32),
    case("cross-c128", fnp.cross, np.cross, (3,), (3,), dtype=C128),
    # convolve / correlate: every mode, either argument longer
    *[
        case(
            f"{name}-{mode}-{n}-{m}",
            lambda a, v, f=f, mode=mode: f(a, v, mode),
            lambda a, v, g=g, mode=mode: g(a, v, mode),
            (n,),
            (m,),
        )
        for name, f, g in [("convolve", fnp.convolve, np.convolve), ("correlate", fnp.correlate, np.correlate)]
        for mode in ("full", "same", "valid")
        for n, m in [(4, 3), (2, 4), (3, 3), (1, 3)]
    ],
    case("convolve-f32", fnp.convolve, np.convolve, (4,), (2,), dtype=F32),
    case(
        "convolve-c128",
        lambda a, v: fnp.convolve(a, v, "same"),
        lambda a, v: np.convolve(a, v, "same"),
        (4,),
        (3,),
        dtype=C128,
    ),
    case(
        "correlate-c128",
        lambda a, v: fnp.correlate(a, v, "full"),
        lambda a, v: np.correlate(a, v, "full"),
        (3,),
        (4,),
        dtype=C128,
    ),
    case("correlate-c64", fnp.correlate, np.correlate, (4,), (2,), dtype=C64),
]


GUFUNCS = [
    # NumPy 2's vector gufuncs, reached through __array_ufunc__; vecdot and vecmat conjugate x1
    case("vecdot", lambda a, b: np.vecdot(a, b), lambda a, b: np.vecdot(a, b), (2, 3), (3,), dtype=C128),
    case("vecdot-axis", lambda a, b: np.vecdot(a, b, axis=0), lambda a, b: np.vecdot(a, b, axis=0), (3, 2), (3, 1)),
    case("vecdot-f32", fnp.vecdot, lambda a, b: np.vecdot(a, b), (2, 1, 3), (2, 3), dtype=F32),
    case("matvec", lambda a, b: np.matvec(a, b), lambda a, b: np.matvec(a, b), (2, 2, 3), (3,)),
    case("matvec-c128", fnp.matvec, lambda a, b: np.matvec(a, b), (2, 3), (2, 3), dtype=C128),
    case("vecmat", lambda a, b: np.vecmat(a, b), lambda a, b: np.vecmat(a, b), (3,), (2, 3, 2), dtype=C128),
    case("vecmat-f64", fnp.vecmat, lambda a, b: np.vecmat(a, b), (2, 3), (3, 2)),
]
if hasattr(np, "matvec"):  # NumPy >= 2.2
    CASES += GUFUNCS


@pytest.mark.parametrize("f, numpy_f, args", CASES)
def test_contraction(f: Any, numpy_f: Any, args: tuple[Any, ...]) -> None:
    check_all(f, numpy_f, args)


def test_cross_two_vectors() -> None:
    a, b = rnd(2, 2), rnd(2)
    with pytest.warns(DeprecationWarning):
        value, _ = fg.vjp(fnp.cross, a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        np.testing.assert_allclose(value, np.cross(a, b))
        check_grads(fnp.cross, (a, b), order=2)
        check_grads(fnp.cross, (rnd(3), rnd(2)), order=2)
        check_grads(fnp.cross, (rnd(2), rnd(2, 3)), order=2)
        c = rnd(3)
        np.testing.assert_allclose(fg.vjp(fnp.cross, c, b)[0], np.cross(c, b))
        np.testing.assert_allclose(fg.vjp(fnp.cross, b, c)[0], np.cross(b, c))


def test_mixed_precision_cotangents_keep_dtypes() -> None:
    a32, b64 = rnd(2, 3, dtype=F32), rnd(3, 2)
    ga, gb = fg.grad(lambda a, b: fnp.sum(fnp.einsum("ij,jk->ik", a, b)), argnums=(0, 1))(a32, b64)
    assert ga.dtype == np.float32 and gb.dtype == np.float64
    # a real operand contracted with a complex one gets a real cotangent
    x, z = rnd(3), rnd(3, dtype=C128)
    gx = fg.grad(lambda x: fnp.real(fnp.dot(x, z)))(x)
    assert gx.dtype == np.float64
    np.testing.assert_allclose(gx, z.real)


def test_vdot_conjugates_first_argument() -> None:
    # d/da Re(vdot(a, b)) with pairing Re(g * da): vdot = sum(conj(a) b), so the cotangent is conj(b)
    a, b = rnd(3, dtype=C128), rnd(3, dtype=C128)
    ga = fg.grad(lambda a: fnp.real(fnp.vdot(a, b)))(a)
    np.testing.assert_allclose(ga, np.conj(b))
    gb = fg.grad(lambda b: fnp.real(fnp.vdot(a, b)))(b)
    np.testing.assert_allclose(gb, np.conj(a))


@pytest.mark.parametrize(
    "call",
    [
        lambda a, b: np.einsum("ij,jk->ik", a, b),
        lambda a, b: np.tensordot(a, b, 1),
        lambda a, b: np.dot(a, b),
        lambda a, b: np.inner(a, b.T),
        lambda a, b: np.outer(a, b),
        lambda a, b: np.vdot(a, b.T),
        lambda a, b: np.kron(a, b),
        lambda a, b: np.cross(a, b.T),
        lambda a, b: np.convolve(a[0], b[:, 0]),
        lambda a, b: np.correlate(a[0], b[:, 0], "same"),
    ],
)
def test_plain_numpy_dispatches(call: Any) -> None:
    """``numpy.einsum(tracer, ...)`` and friends reach funcgrad through ``__array_function__``."""
    a, b = rnd(2, 3), rnd(3, 2)
    check_grads(call, (a, b), order=1)
    value, _ = fg.vjp(call, a, b)
    np.testing.assert_allclose(value, call(a, b))


def test_einsum_path_reads_shapes_of_traced_operands() -> None:
    a, b, c = rnd(2, 3), rnd(3, 4), rnd(4, 2)

    def f(a: Any) -> Any:
        path, _ = np.einsum_path("ij,jk,kl->il", a, b, c, optimize="greedy")
        return fnp.sum(fnp.einsum("ij,jk,kl->il", a, b, c, optimize=path))

    check_grads(f, (a,), order=2)


def test_einsum_letters_run_out_clearly() -> None:
    # 52 letters: an operand using them all leaves none for a batched tangent
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    x = np.ones((1,) * 52)
    with pytest.raises(ValueError, match="ran out of index letters"):
        fg.jacfwd(lambda x: fnp.einsum(letters + "->", x))(x)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda x: fnp.einsum("ij,jk", x), ValueError, "2 operand"),
        (lambda x: fnp.einsum("ijk", x), ValueError, "do not match"),
        (lambda x: fnp.einsum("...i->i", fnp.stack([x, x])), ValueError, "no '...'"),
        (lambda x: fnp.einsum("i1", x), ValueError, "invalid subscripts"),
        (lambda x: fnp.tensordot(x, x, axes=([0], [1])), ValueError, "shape-mismatch"),
        (lambda x: fnp.tensordot(x, x, axes=3), IndexError, "at most 2"),  # NumPy's type
        (lambda x: fnp.vdot(x, x[0]), ValueError, "same number of elements"),
        (lambda x: fnp.cross(x, x), ValueError, "dimension must be 2 or 3"),
        (lambda x: fnp.convolve(x, x), ValueError, "one-dimensional"),
        (lambda x: fnp.convolve(x[0], x[0, :0]), ValueError, "cannot be empty"),
        (lambda x: fnp.correlate(x[0], x[0], "middle"), ValueError, "mode must be"),
        (lambda x: fnp.dot(x, x.T, out=np.empty((2, 2))), TypeError, "stored into a plain NumPy array"),
        (lambda x: fnp.einsum("ij->ij", x, out=np.empty((2, 4))), TypeError, "stored into a plain NumPy array"),
        pytest.param(
            lambda x: fnp.vecdot(x, x, axes=[(0,), (0,), ()]),
            TypeError,
            "does not support the keyword",
            marks=pytest.mark.skipif(not hasattr(np, "vecdot"), reason="NumPy < 2"),
        ),
    ],
)
def test_bad_input_raises(call: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        fg.grad(lambda x: fnp.sum(fnp.real(call(x))))(rnd(2, 4))


def test_einsum_dtype_keyword() -> None:
    a = rnd(2, 2, dtype=F32)
    out = fg.jvp(lambda a: fnp.einsum("ij->i", a, dtype=np.float64), (a,), (np.ones_like(a),))
    assert out[0].dtype == np.float64 and out[1].dtype == np.float64


@pytest.mark.parametrize(
    "subscripts, shapes, dtypes",
    [
        ("i,i->i", [(3,), (3,)], [np.float64, np.complex128]),
        ("ij,jk->ik", [(2, 3), (3, 2)], [np.float32, np.float64]),
        ("ij,j->ij", [(2, 1), (3,)], [np.float32, np.complex64]),
        ("ii->", [(2, 2)], [np.float32]),
    ],
)
def test_einsum_rules_return_operand_shape_and_dtype(subscripts: str, shapes: Any, dtypes: Any) -> None:
    """Reverse rules give each operand's exact shape and dtype (real part for a real operand)."""
    from funcgrad._prims._contract import einsum_p

    ops = [rnd(*s, dtype=d) for s, d in zip(shapes, dtypes)]
    ans = np.einsum(subscripts, *ops)
    g = rnd(*ans.shape, dtype=np.complex128)
    for i, op in enumerate(ops):
        cot = einsum_p.vjps[i](g, ans, *ops, subscripts=subscripts, optimize=False)
        assert cot.shape == op.shape and cot.dtype == op.dtype, (i, cot.shape, cot.dtype)


def test_convolve_rules_return_operand_shape_and_dtype() -> None:
    from funcgrad._prims._contract import convolve_p

    a, v = rnd(4, dtype=np.float32), rnd(2, dtype=np.complex128)
    ans = np.convolve(a, v)
    g = rnd(*ans.shape, dtype=np.complex128)
    for i, op in enumerate((a, v)):
        cot = convolve_p.vjps[i](g, ans, a, v)
        assert cot.shape == op.shape and cot.dtype == op.dtype


@pytest.mark.parametrize(
    "subscripts, shapes",
    [("ij,jk->ik", [(2, 3), (3, 2)]), ("ii->i", [(2, 2)]), ("i,j->", [(2,), (3,)]), ("ij,ij->j", [(2, 1), (1, 3)])],
)
def test_einsum_forward_rules_honour_a_tangent_batch(subscripts: str, shapes: Any) -> None:
    from funcgrad._prims._contract import einsum_p

    assert einsum_p.batch_jvp
    ops = [rnd(*s) for s in shapes]
    ans = np.einsum(subscripts, *ops)
    for i, op in enumerate(ops):
        tangents = np.stack([rnd(*op.shape) for _ in range(3)])
        batched = einsum_p.jvps[i](tangents, ans, *ops, subscripts=subscripts, optimize=False)
        for k in range(3):
            np.testing.assert_allclose(
                batched[k], einsum_p.jvps[i](tangents[k], ans, *ops, subscripts=subscripts, optimize=False)
            )


def test_convolve_forward_rules_honour_a_tangent_batch() -> None:
    from funcgrad._prims._contract import convolve_p

    assert convolve_p.batch_jvp
    a, v = rnd(4), rnd(2)
    ans = np.convolve(a, v)
    for i, op in enumerate((a, v)):
        tangents = np.stack([rnd(*op.shape) for _ in range(3)])
        batched = convolve_p.jvps[i](tangents, ans, a, v)
        for k in range(3):
            np.testing.assert_allclose(batched[k], convolve_p.jvps[i](tangents[k], ans, a, v))


@pytest.mark.parametrize(
    "f",
    [
        lambda x: fnp.sum(fnp.einsum("ij,jk->ik", x, x) ** 2),
        lambda x: fnp.einsum("ii", fnp.einsum("ij,kj->ik", x, x)) ** 2,
        lambda x: fnp.sum(fnp.tensordot(x, x, axes=([0], [1])) ** 3),
        lambda x: fnp.sum(fnp.kron(x, x) ** 2),
        lambda x: fnp.sum(fnp.cross(x, x[::-1]) ** 2),
        lambda x: fnp.sum(fnp.convolve(x[0], x[1], "same") ** 2) + fnp.sum(fnp.correlate(x[1], x[2], "full") ** 3),
        lambda x: fnp.vdot(x, fnp.sin(x)) ** 2,
    ],
)
def test_hessian_forward_over_reverse_matches_reverse_over_reverse(f: Any) -> None:
    x = rnd(3, 3)
    np.testing.assert_allclose(fg.hessian(f)(x), fg.jacrev(fg.jacrev(f))(x), rtol=1e-8, atol=1e-8)


SEEDS = 40


def random_einsum(seed: int) -> tuple[str, list[np.ndarray]]:
    """A random valid einsum: 1-3 operands over letters a-d (sizes 1-3), repeats, broadcasting, any output."""
    rng = np.random.default_rng(seed)
    sizes = dict(zip("abcd", rng.integers(1, 4, size=4)))
    terms, ops = [], []
    for _ in range(rng.integers(1, 4)):
        term = "".join(rng.choice(list("abcd"), size=rng.integers(0, 4)))
        shape = [1 if rng.random() < 0.15 else int(sizes[c]) for c in term]
        for k, c in enumerate(term):  # a repeated letter needs one size within the operand
            shape[k] = shape[term.index(c)]
        terms.append(term)
        ops.append(rnd(*shape, dtype=C128 if rng.random() < 0.25 else np.float64))
    used = sorted(set("".join(terms)))
    out = "".join(c for c in rng.permutation(used) if rng.random() < 0.5) if used else ""
    return ",".join(terms) + "->" + out, ops


@pytest.mark.parametrize("seed", range(SEEDS))
def test_random_einsums(seed: int) -> None:
    spec, ops = random_einsum(seed)
    f = lambda *a: fnp.einsum(spec, *a)  # noqa: E731
    try:
        expected = np.einsum(spec, *ops)
    except ValueError:
        with pytest.raises(ValueError):
            fg.vjp(f, *ops)
        return
    check_grads(f, ops, modes=("fwd", "rev"), order=2)
    np.testing.assert_allclose(fg.vjp(f, *ops)[0], expected, rtol=1e-10, atol=1e-12)
    g, us = realified(f, tuple(ops))
    argnums = tuple(range(len(ops)))
    for jf, jr in zip(fg.jacfwd(g, argnums=argnums)(*us), fg.jacrev(g, argnums=argnums)(*us)):
        np.testing.assert_allclose(jf, jr, rtol=1e-8, atol=1e-10)


_STRIDED = [  # subscripts, the shapes, whether a slice of the second operand is packed
    ("oc,bchw->bohw", (4, 5), (3, 5, 9, 11), True),  # a shifted slice of an image, contracted over channels
    ("ij,bjk->bik", (6, 7), (2, 7, 13), True),
    ("bij,bjk->bik", (2, 6, 7), (2, 7, 30), True),
    ("ik,kj->ij", (5, 4), (4, 17), True),
    ("i,ij->ij", (6,), (6, 3), True),
    ("ij,kj->ik", (5, 4), (6, 4), False),  # its last axis is summed: the inner loop's length groups the sums
    ("abc,c->abc", (3, 4, 5), (5,), False),  # one axis: one inner loop either way
    ("bchw,oc->bohw", (2, 3, 6, 8), (4, 3), False),
]


@pytest.mark.parametrize("subscripts, first, second, packed", _STRIDED, ids=[case[0] for case in _STRIDED])
def test_a_traced_unoptimised_einsum_of_strided_views_gives_numpy_s_bits(
    subscripts: str, first: tuple[int, ...], second: tuple[int, ...], packed: bool
) -> None:
    """A strided view an unoptimised einsum would walk in short inner loops is copied to C order first
    (``_contract._packed``: faster); the values are still NumPy's bits, eagerly and in every jit tier, over
    slices, skipping and reversed views, and the derivatives are right."""
    rng = np.random.default_rng(5)
    a = rng.standard_normal(first)
    for pad, step in ((1, 1), (2, 1), (1, 2), (0, -1)):
        big = rng.standard_normal(tuple(n * abs(step) + 2 * pad for n in second))
        view = big[tuple(slice(pad, pad + n * step, step) if step > 0 else slice(None, None, -1) for n in second)]
        assert view.shape == second
        want = np.einsum(subscripts, a, view)
        got = fg.vjp(lambda u, v: fnp.einsum(subscripts, u, v), a, view)[0]
        assert type(got) is type(want) and got.tobytes() == want.tobytes(), (subscripts, pad, step)
        jitted = fg.jit(lambda u, v: fnp.einsum(subscripts, u, v))
        for _ in range(5):  # the recording, the interpreted and the compiled tiers
            assert jitted(a, view).tobytes() == want.tobytes(), (subscripts, pad, step)
    sliced = rng.standard_normal(tuple(n + 2 for n in second))[tuple(slice(1, 1 + n) for n in second)]
    assert (_contract._packed((a, sliced), subscripts)[1] is not sliced) == packed
    check_grads(lambda u, v: fnp.einsum(subscripts, u, v), (a, sliced), modes=("fwd", "rev"), order=2)
