"""Forward mode: native rules for the core primitives, batched tangents, linearize, Jacobian costs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._prims import _ufuncs
from funcgrad._prims._ufuncs import _logaddexp_formula, logaddexp2_weight_p, logaddexp_weight_p, masked_scale_p
from funcgrad._rules import REGISTRY
from funcgrad.testing import check_grads

RNG = np.random.default_rng(3)
POS = RNG.uniform(0.5, 1.5, size=(2, 3))
MAT = RNG.normal(size=(3, 3))

# the core subset that must hold at order 3 in both modes (issue 3, point 5)
ORDER_THREE = [
    ("sin", lambda x: fnp.sin(x), POS),
    ("exp", lambda x: fnp.exp(x), POS),
    ("log", lambda x: fnp.log(x), POS),
    ("tanh", lambda x: fnp.tanh(x), POS),
    ("mul", lambda x: x * x[::-1], POS),
    ("div", lambda x: x[0] / x[1], POS),
    ("pow", lambda x: x ** x[::-1], POS),
    ("pow_const", lambda x: x**2.5, POS),
    ("dot", lambda x: fnp.dot(x, MAT), POS),
    ("sum", lambda x: fnp.sum(x * x, axis=0), POS),
]


@pytest.mark.parametrize("name, f, x", ORDER_THREE, ids=[c[0] for c in ORDER_THREE])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_core_subset_to_order_three(name, f, x, dtype):
    check_grads(f, (x.astype(dtype),), order=3 if dtype == np.float64 else 2, modes=("fwd", "rev"))


@pytest.mark.parametrize("name, f, x", ORDER_THREE, ids=[c[0] for c in ORDER_THREE])
def test_batched_tangents_match_reverse(name, f, x):
    np.testing.assert_allclose(fg.jacfwd(f)(x), fg.jacrev(f)(x), rtol=1e-12, atol=1e-14)


def test_every_differentiable_primitive_has_a_forward_rule():
    missing = [
        name
        for name, prim in REGISTRY.items()
        if prim.vjps is not None and any(r is not None for r in prim.vjps) and prim.jvps is None
    ]
    assert missing == []


def test_jacfwd_pushes_one_batch_not_one_pass_per_column():
    calls = []

    def f(x):
        calls.append(1)
        return fnp.tanh(MAT @ x) * x

    x = RNG.normal(size=3)
    j = fg.jacfwd(f)(x)
    assert len(calls) == 1
    calls.clear()
    assert np.allclose(j, fg.jacrev(f)(x))
    assert len(calls) == 1


def test_linearize_does_not_call_the_function_again():
    calls = []

    def f(x):
        calls.append(1)
        return fnp.sin(x) * fnp.exp(x)

    x = np.array([0.1, 0.2])
    y, f_jvp = fg.linearize(f, x)
    for v in (np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([2.0, -1.0])):
        np.testing.assert_allclose(f_jvp(v), fg.jvp(f, (x,), (v,))[1], rtol=1e-14)
    assert len(calls) == 1 + 3  # linearize once, plus the three reference jvp calls


def test_jvp_with_integer_input_gets_float0_and_is_constant():
    y, t = fg.jvp(lambda x, n: x * n, (2.0, 3), (1.0, np.zeros((), fg.float0)))
    assert y == 6.0 and t == 3.0


def test_jvp_complex_holomorphic():
    z = np.array([1.0 + 1.0j, 0.5 - 2.0j])
    v = np.array([1.0, 1j])
    _, t = fg.jvp(lambda z: z * z, (z,), (v,))
    np.testing.assert_allclose(t, 2 * z * v)
    assert t.dtype == np.complex128


# --- a batch of tangents through elementwise steps: factors kept beside it, the batch made once -------

SCALED = {
    "chain": lambda v: fnp.sum(fnp.exp(fnp.tanh(v) * v - v**2) / (1.0 + v * v)),
    "logaddexp": lambda v: fnp.sum(fnp.logaddexp(0.0, MAT @ v) - v * (MAT @ v)),
    "where": lambda v: fnp.sum(fnp.where(v > 0.2, fnp.sin(v) * v, -(v**3))),
    "two scalings of one batch": lambda v: fnp.sum(fnp.sin(v) * v + fnp.cos(v) * v),
}


@pytest.mark.parametrize("name", SCALED)
def test_hessian_through_scaled_tangents_is_the_columns_of_hvp(name):
    # jacfwd keeps a batch's elementwise factors apart (funcgrad/_forward.py); one tangent at a time does not
    f, x = SCALED[name], np.array([-0.7, 0.1, 0.9])
    columns = np.stack([fg.hvp(f, (x,), (e,))[1] for e in np.eye(3)])
    np.testing.assert_allclose(fg.hessian(f)(x), columns, rtol=1e-13, atol=1e-15)
    check_grads(fg.grad(f), (x,), order=2, modes=("fwd", "rev"))


def test_a_zeroed_tangent_stays_zero_where_the_batch_is_not_finite():
    # sqrt's tangent at 0 is infinite; reversed (not elementwise) it is part of the batch, and the where
    # zeroes it: the scaled batch must give 0 there, as the where on the whole batch does, not inf * 0
    f = lambda v: fnp.where(v[::-1] > 0.0, fnp.sqrt(v)[::-1], 0.0)  # noqa: E731
    x = np.array([0.0, 1.0, 4.0])
    with np.errstate(divide="ignore", invalid="ignore"):
        by_column = np.stack([fg.jvp(f, (x,), (e,))[1] for e in np.eye(3)], axis=-1)
        jacobian = fg.jacfwd(f)(x)
    np.testing.assert_array_equal(jacobian, by_column)
    assert np.isfinite(jacobian).all()


# --- the zeroed and scaled batch in one array: masked_scale = where(keep, base, 0) * factor -------------------

#: (base, factor, keep) shapes: the batch and a value's factor and mask; broadcasting each way
MASKED_SHAPES = [((2, 3, 4), (3, 4), (3, 4)), ((2, 3, 4), (3, 1), (4,)), ((4,), (3, 4), (3, 1)), ((3,), (), ())]


def _masked_case(shapes, kind, seed=0):
    rng = np.random.default_rng(seed)
    bshape, fshape, kshape = shapes
    base = rng.normal(size=bshape).astype(kind)
    if kind == np.complex128:
        base = base + 1j * rng.normal(size=bshape)
    factor = rng.normal(size=fshape)
    keep = rng.random(kshape) > 0.4
    return base, factor, keep


@pytest.mark.parametrize("shapes", MASKED_SHAPES, ids=str)
@pytest.mark.parametrize("kind", [np.float64, np.float32, np.complex128], ids=lambda k: k.__name__)
def test_masked_scale_is_the_where_then_the_product_bit_for_bit(shapes, kind):
    base, factor, keep = _masked_case(shapes, kind)
    # non-finite entries of the batch and of the factor where the mask drops them and where it keeps them,
    # negative factors (0 * -f is -0.0) and a float32 factor or a Python one
    flat = base.reshape(-1)
    flat[: min(3, flat.size)] = [np.inf, np.nan, -np.inf][: min(3, flat.size)]
    if np.ndim(factor):
        factor.reshape(-1)[:2] = [np.inf, -np.nan][: factor.size]
    zeroed = np.where(keep, factor, 0.0)  # as forward mode's factor is where a rule zeroed the tangent
    for f in (factor, zeroed, np.asarray(factor, np.float32), -2.5, np.float32(-2.5)):
        with np.errstate(all="warn"), warnings.catch_warnings(record=True) as warned_where:
            warnings.simplefilter("always")
            want = np.where(keep, base, 0.0) * f
        with np.errstate(all="warn"), warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            got = masked_scale_p(base, f, keep)
        # the same warnings (NumPy's one per call: two calls may say it twice); none for an infinite entry of the
        # batch where it is dropped (inf * 0 is not computed)
        assert {str(w.message) for w in warned} == {str(w.message) for w in warned_where}
        assert type(got) is type(want) and got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
        for part in (np.real, np.imag):
            assert np.array_equal(np.signbit(part(got)), np.signbit(part(want)))  # zeros of the same sign


@pytest.mark.parametrize("shapes", MASKED_SHAPES, ids=str)
def test_masked_scale_differentiates_in_both_operands_to_second_order(shapes):
    base, factor, keep = _masked_case(shapes, np.float64, seed=1)
    check_grads(lambda b, f: masked_scale_p(b, f, keep), (base, factor), order=2, modes=("fwd", "rev"))
    # batched tangents (jacfwd) and a batch of examples (vmap) against one at a time
    f = lambda b, f: fnp.sin(masked_scale_p(b * b, fnp.cos(f), keep))  # noqa: E731
    for argnum in (0, 1):
        np.testing.assert_allclose(
            fg.jacfwd(f, argnums=argnum)(base, factor), fg.jacrev(f, argnums=argnum)(base, factor), rtol=1e-13
        )
    bases = np.stack([base, 2 * base, -base])
    np.testing.assert_array_equal(
        fg.vmap(lambda b: masked_scale_p(b, factor, keep))(bases),
        np.stack([masked_scale_p(b, factor, keep) for b in bases]),
    )


def test_the_scaled_batch_is_made_by_masked_scale_where_a_rule_zeroed_it():
    # where(keep, batch, 0) and then the product made two arrays of the batch's size; masked_scale makes one
    f = lambda v: fnp.sum(fnp.logaddexp(0.0, MAT @ v) - v * (MAT @ v))  # noqa: E731
    program = fg.make_program(fg.hessian(f))(np.array([0.3, -0.2, 0.5]))
    names = [e.prim.name for e in program.eqns]
    assert "masked_scale" in names
    check_grads(fg.hessian(f), (np.array([0.3, -0.2, 0.5]),), order=1, modes=("fwd", "rev"))


# --- logaddexp's weight, one primitive: the formula's values and derivatives, block by block on chunked arrays --

#: x and y of logaddexp with the infinities the formula treats apart: -inf ties, one -inf, +inf
LAE_X = np.array([-0.7, 0.1, 3.0, -np.inf, -np.inf, np.inf, 2.0, -40.0])
LAE_Y = np.array([0.4, 0.1, -2.0, -np.inf, 1.0, 0.5, np.inf, 40.0])


@pytest.mark.parametrize(
    "prim, formula, ufunc",
    [
        (logaddexp_weight_p, _logaddexp_formula(lambda: _ufuncs.exp), np.logaddexp),
        (logaddexp2_weight_p, _logaddexp_formula(lambda: _ufuncs.exp2), np.logaddexp2),
    ],
    ids=["logaddexp", "logaddexp2"],
)
def test_the_logaddexp_weight_is_its_formula_bit_for_bit(prim, formula, ufunc):
    # the primitive replaced the formula written in the rule: the same values, and forward and reverse derivatives
    # (a batch of tangents too, scaled as the formula's steps scaled it) of the same operations: the same bits
    for x, y in [(LAE_X, LAE_Y), (LAE_X[:3], LAE_Y[:3])]:  # with infinities (the general path) and without
        with np.errstate(all="ignore"):
            np.testing.assert_array_equal(prim(ufunc(x, y), x, y), formula(ufunc(x, y), x, y))
            both = [lambda x, y, w=w: w(fnp.__dict__[ufunc.__name__](x, y), x, y) for w in (prim, formula)]
            tx, ty = np.cos(np.arange(x.size)), np.sin(np.arange(x.size))
            jvps = [fg.jvp(f, (x, y), (tx, ty))[1] for f in both]
            vjps = [fg.vjp(f, x, y)[1](np.linspace(-1.0, 2.0, x.size)) for f in both]
        np.testing.assert_array_equal(jvps[0], jvps[1])
        for a, b in zip(*vjps):
            np.testing.assert_array_equal(a, b)
            assert np.array_equal(np.signbit(a), np.signbit(b))
        finite = np.isfinite(x) & np.isfinite(y)
        hessians = [fg.hessian(lambda v, f=f: fnp.sum(f(v, y[finite]) * v))(x[finite]) for f in both]
        np.testing.assert_array_equal(hessians[0], hessians[1])
    # to third order in both modes, both arguments
    check_grads(lambda x, y: fnp.sum(fnp.sin(fnp.__dict__[ufunc.__name__](x, y))), (LAE_X[:3], LAE_Y[:3]), order=3)


def test_jacfwd_of_a_matrix_product_is_the_matrix_without_a_product_with_the_seed():
    program = fg.make_program(fg.jacfwd(lambda v: fnp.tanh(MAT @ v)))(np.ones(3))
    products = [e for e in program.eqns if e.prim.name == "matmul"]
    assert len(products) == 1  # the value's; the tangents are MAT's columns scaled, not eye @ MAT.T
    want = (1 - np.tanh(MAT @ np.ones(3)) ** 2)[:, None] * MAT
    np.testing.assert_allclose(fg.jacfwd(lambda v: fnp.tanh(MAT @ v))(np.ones(3)), want, rtol=1e-14)


# --- one rule for all tangents (defjvp_joint) and sums written in place (defjvp(fresh=True)) ------------

JOINT = [
    ("add_broadcast", lambda x, y: x + y, [(3, 1), (1, 4)]),
    ("add_lower_rank", lambda x, y: x + y, [(2, 3), (3,)]),
    ("subtract_broadcast", lambda x, y: x - y, [(3, 1), (4,)]),
    ("subtract_same_value", lambda x, y: x - x * y, [(2, 3), (2, 3)]),
    ("subtract_scalar", lambda x, y: y - x, [(), (2,)]),
    ("concatenate_two", lambda x, y: fnp.concatenate([x, y]), [(2, 3), (1, 3)]),
    ("concatenate_with_constant", lambda x, y: fnp.concatenate([x, np.ones((2, 1)), y[:, :2] * x[:, :2]], axis=1),
     [(2, 2), (2, 3)]),
    ("concatenate_same_value", lambda x, y: fnp.concatenate([x, y, x], axis=-1), [(2,), (3,)]),
    ("product_of_itself", lambda x, y: x * x * y / (x + 2.0), [(2, 3), (3,)]),
]  # fmt: skip


@pytest.mark.parametrize("name, f, shapes", JOINT, ids=[c[0] for c in JOINT])
@pytest.mark.parametrize("dtypes", [(np.float64, np.float64), (np.float32, np.float64), (np.float32, np.float32)])
def test_joint_rules_and_summed_tangents_match_reverse_and_differences(name, f, shapes, dtypes):
    rng = np.random.default_rng(5)
    x, y = (np.asarray(rng.uniform(0.5, 1.5, s), d) for s, d in zip(shapes, dtypes))
    check_grads(f, (x, y), order=2 if dtypes[0] == np.float64 else 1, modes=("fwd", "rev"))
    forward = fg.jacfwd(f, argnums=(0, 1))(x, y)
    reverse = fg.jacrev(f, argnums=(0, 1))(x, y)
    tol = 1e-13 if dtypes == (np.float64, np.float64) else 1e-5
    for a, b in zip(forward, reverse):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    # the joint rule gives exactly what the per-argument rules summed give (one tangent at a time: no joint rule)
    value, tangent = fg.jvp(f, (x, y), (np.ones_like(x), np.ones_like(y)))
    _, tx = fg.jvp(lambda a: f(a, y), (x,), (np.ones_like(x),))
    _, ty = fg.jvp(lambda b: f(x, b), (y,), (np.ones_like(y),))
    np.testing.assert_allclose(tangent, tx + ty, rtol=tol, atol=tol)
    assert tangent.dtype == np.asarray(value).dtype


def test_forward_sums_in_place_never_write_a_tangent_they_do_not_own():
    x = np.arange(1.0, 4.0)
    seed = np.full(3, 0.5)
    kept = seed.copy()

    def f(x):
        square = x * x  # two fresh parts, the second added into the first
        again = square * square  # square's tangent is read twice, never written
        # index_add's rule for x hands x's tangent on as it is (not fresh): the sum is a new array
        bumped = x.at[0].add(x[1] * 2.0)
        return again + square, square, x * 1.0, bumped

    (value, square, same, bumped), (t_value, t_square, t_same, t_bumped) = fg.jvp(f, (x,), (seed,))
    np.testing.assert_array_equal(seed, kept)
    np.testing.assert_allclose(t_square, 2 * x * kept, rtol=1e-15)
    np.testing.assert_allclose(t_value, (4 * x**3 + 2 * x) * kept, rtol=1e-15)
    np.testing.assert_array_equal(t_same, kept)
    np.testing.assert_array_equal(t_bumped, [1.5, 0.5, 0.5])
    batch = np.stack([seed, 2 * seed])
    before = batch.copy()
    jac = fg.jacfwd(lambda x: f(x)[0])(x)
    np.testing.assert_allclose(jac, np.diag(4 * x**3 + 2 * x), rtol=1e-15)
    np.testing.assert_array_equal(batch, before)


def test_linear_primitives_push_tangents_through_themselves():
    # roll's tangent is rolled (not gathered), x - y is one subtraction, concatenate one join of the tangents
    def f(x):
        return fnp.concatenate([fnp.roll(x * x, 1, 0), fnp.sin(x)], axis=1) - fnp.cos(x[:, :1])

    program = fg.make_program(fg.jacfwd(f))(np.ones((3, 2)))
    names = [e.prim.name for e in program.eqns]
    assert "gather" not in names
    assert names.count("roll") == 2  # the value's and the tangents'
    assert names.count("concatenate") == 2
    assert names.count("subtract") == 2 and names.count("negative") == 1  # cos's derivative only
    np.testing.assert_allclose(fg.jacfwd(f)(np.arange(6.0).reshape(3, 2)), fg.jacrev(f)(np.arange(6.0).reshape(3, 2)))


def test_scaled_factors_keep_the_tangents_precision():
    # (v * 0.1) * c * c with v float64 and c complex64 is complex128: the factors 0.1 and c are not combined
    # in complex64 first (that rounded the Hessian to 6e-10 relative)
    c = np.array([0.606 - 0.069j, -0.544 - 0.917j, -0.325 - 0.527j], np.complex64)

    def f(x):
        v = ((fnp.square(x) + 1.0) * 0.1) * c
        return fnp.sum(fnp.sin(fnp.abs(fnp.sqrt(2.0 + (v * c + 0.3))) ** 2))

    x = np.array([0.3, -0.2, 0.5])
    np.testing.assert_allclose(fg.hessian(f)(x), fg.jacrev(fg.jacfwd(f))(x), rtol=1e-13, atol=1e-15)
    g = lambda x: fnp.sum(fnp.sin(x * 0.1 + x * np.float32(0.3)) ** 2)  # noqa: E731 - two scalings of one batch
    np.testing.assert_allclose(fg.hessian(g)(x), fg.jacrev(fg.jacfwd(g))(x), rtol=1e-13, atol=1e-15)


def test_a_list_factor_scales_a_batch_of_tangents():
    f = lambda x: fnp.sum(fnp.interp(x, [-0.6, -0.1, 0.45], fnp.sin(x).ravel()[:1] * [-0.6, -0.1, 0.45]))  # noqa: E731
    x = np.array([[0.3, -0.2], [0.1, 0.4]])
    np.testing.assert_allclose(fg.hessian(f)(x), fg.jacrev(fg.jacfwd(f))(x), rtol=1e-12, atol=1e-15)
    h = lambda x: fnp.sum(fnp.tanh(x * [0.5, 2.0]))  # noqa: E731
    np.testing.assert_allclose(fg.hessian(h)(x[0]), fg.jacrev(fg.jacfwd(h))(x[0]), rtol=1e-14)
