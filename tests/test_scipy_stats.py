"""funcgrad.scipy.stats: SciPy's values, derivatives of every order in x and every parameter, tails, named errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

st = pytest.importorskip("scipy.stats", reason="funcgrad.scipy needs the scipy extra")

import funcgrad as fg  # noqa: E402
import funcgrad.numpy as fnp  # noqa: E402
from funcgrad.scipy import stats  # noqa: E402
from funcgrad.testing import check_grads  # noqa: E402

CONTINUOUS_METHODS = ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf")
DISCRETE_METHODS = ("pmf", "logpmf", "cdf", "logcdf", "sf", "logsf")

# (name, shape parameters, points inside the support away from kinks, points anywhere (some outside the support))
CONTINUOUS: list[tuple[str, tuple[float, ...], np.ndarray, np.ndarray]] = [
    ("norm", (), np.array([-2.3, 0.4, 3.1]), np.array([-40.0, -1.0, 0.0, 2.0, 40.0])),
    ("logistic", (), np.array([-2.3, 0.4, 3.1]), np.array([-800.0, -1.0, 0.0, 2.0, 800.0])),
    ("laplace", (), np.array([-2.3, 0.4, 3.1]), np.array([-700.0, -1.0, 0.1, 0.0, 2.0, 700.0])),
    ("cauchy", (), np.array([-2.3, 0.4, 3.1]), np.array([-1e8, -1.0, 0.0, 2.0, 1e8])),
    ("expon", (), np.array([0.3, 1.4, 3.1]), np.array([-1.0, 0.0, 0.1, 2.0, 700.0])),
    ("uniform", (), np.array([0.3, 0.8, 0.95]), np.array([-1.0, 0.1, 0.5, 1.6, 3.0])),
    ("t", (3.5,), np.array([-2.3, 0.4, 3.1]), np.array([-1e4, -1.0, 0.0, 2.0, 1e4])),
    ("gamma", (2.5,), np.array([0.3, 1.4, 3.1]), np.array([-1.0, 0.0, 0.1, 2.0, 30.0])),
    ("chi2", (3.0,), np.array([0.3, 1.4, 3.1]), np.array([-1.0, 0.0, 0.1, 2.0, 60.0])),
    ("beta", (2.5, 1.5), np.array([0.2, 0.55, 0.9]), np.array([-1.0, 0.1, 0.5, 0.95, 1.6, 3.0])),
]
CDF_WITHOUT_SHAPE_DERIVATIVE = {"t", "gamma", "chi2", "beta"}
LOC, SCALE = 0.1, 1.5


def _traced_value(f: Any, *args: Any) -> Any:
    """``f(*args)`` computed on traced arguments (the primal of a vjp)."""
    return fg.vjp(f, *args)[0]


@pytest.mark.parametrize("method", CONTINUOUS_METHODS)
@pytest.mark.parametrize("name, shapes, _, x", CONTINUOUS, ids=[c[0] for c in CONTINUOUS])
def test_values_match_scipy_plain_and_traced(name: str, shapes: tuple[float, ...], _: Any, x: Any, method: str) -> None:
    ours, theirs = getattr(getattr(stats, name), method), getattr(getattr(st, name), method)
    expected = theirs(x, *shapes, loc=LOC, scale=SCALE)
    plain = ours(x, *shapes, loc=LOC, scale=SCALE)
    assert plain.dtype == expected.dtype and np.array_equal(plain, expected, equal_nan=True)
    traced = _traced_value(lambda x, *p: ours(x, *p[:-2], loc=p[-2], scale=p[-1]), x, *shapes, LOC, SCALE)
    np.testing.assert_allclose(traced, expected, rtol=1e-9, atol=0)


@pytest.mark.parametrize("method", CONTINUOUS_METHODS)
@pytest.mark.parametrize("name, shapes, x, _", CONTINUOUS, ids=[c[0] for c in CONTINUOUS])
def test_second_derivatives_in_x_loc_scale_and_shapes(
    name: str, shapes: tuple[float, ...], x: Any, _: Any, method: str
) -> None:
    function = getattr(getattr(stats, name), method)
    if method in ("cdf", "logcdf", "sf", "logsf") and name in CDF_WITHOUT_SHAPE_DERIVATIVE:
        check_grads(
            lambda x, loc, scale: function(x, *shapes, loc, scale), (x, LOC, SCALE), order=2, modes=("fwd", "rev")
        )
    else:
        check_grads(lambda x, *p: function(x, *p), (x, *shapes, LOC, SCALE), order=2, modes=("fwd", "rev"))


# shape parameters across SciPy's ranges: below one (a pole or a heavy tail), near one, large
SHAPE_RANGES: list[tuple[str, tuple[float, ...], np.ndarray]] = [
    ("t", (0.7,), np.array([-4.0, 0.3, 9.0])),
    ("t", (45.0,), np.array([-2.0, 0.3, 3.0])),
    ("gamma", (0.6,), np.array([0.05, 0.7, 4.0])),
    ("gamma", (30.0,), np.array([22.0, 30.0, 41.0])),
    ("chi2", (1.0,), np.array([0.05, 0.7, 4.0])),
    ("chi2", (25.0,), np.array([15.0, 24.0, 40.0])),
    ("beta", (0.6, 0.8), np.array([0.02, 0.5, 0.97])),
    ("beta", (12.0, 3.0), np.array([0.6, 0.8, 0.93])),
]


@pytest.mark.parametrize("name, shapes, x", SHAPE_RANGES, ids=[f"{c[0]}{c[1]}" for c in SHAPE_RANGES])
def test_shape_parameters_across_their_range(name: str, shapes: tuple[float, ...], x: Any) -> None:
    distribution, reference = getattr(stats, name), getattr(st, name)
    for method in CONTINUOUS_METHODS:
        traced = _traced_value(lambda x: getattr(distribution, method)(x, *shapes), x)
        np.testing.assert_allclose(traced, getattr(reference, method)(x, *shapes), rtol=1e-9)
    check_grads(lambda x, *p: distribution.logpdf(x, *p), (x, *shapes), order=2, modes=("fwd", "rev"))
    check_grads(lambda x: distribution.logcdf(x, *shapes), (x,), order=2, modes=("fwd", "rev"))


@pytest.mark.slow
@pytest.mark.parametrize("name, shapes, x, _", CONTINUOUS, ids=[c[0] for c in CONTINUOUS])
def test_random_points_and_parameters_sweep(name: str, shapes: tuple[float, ...], x: Any, _: Any) -> None:
    rng = np.random.default_rng(len(name))
    distribution, reference = getattr(stats, name), getattr(st, name)
    for _round in range(20):
        params = tuple(rng.uniform(0.3, 6.0) for _ in shapes)
        loc, scale = rng.normal(), rng.uniform(0.2, 4.0)
        points = loc + scale * (x if name not in ("uniform", "beta") else rng.uniform(0.05, 0.95, size=3))
        for method in CONTINUOUS_METHODS:
            f = getattr(distribution, method)
            np.testing.assert_allclose(
                _traced_value(lambda x: f(x, *params, loc, scale), points),
                getattr(reference, method)(points, *params, loc, scale),
                rtol=1e-8,
            )
            check_grads(lambda x, at, s: f(x, *params, at, s), (points, loc, scale), order=2, modes=("fwd", "rev"))
        check_grads(lambda *p: distribution.logpdf(points, *p, loc, scale), params, order=2, modes=("fwd", "rev"))


def test_loc_and_scale_broadcast_positionally_and_by_keyword() -> None:
    x, loc, scale = np.array([0.2, 1.3, 2.9]), np.array([[0.0], [0.5]]), np.array([1.0, 2.0, 0.5])
    expected = st.gamma.logpdf(x, 2.0, loc, scale)
    np.testing.assert_allclose(_traced_value(lambda x: stats.gamma.logpdf(x, 2.0, loc, scale), x), expected)
    np.testing.assert_allclose(
        _traced_value(lambda loc: stats.gamma.logpdf(x, a=2.0, scale=scale, loc=loc), loc), expected, rtol=1e-12
    )
    check_grads(
        lambda x, loc, scale: stats.t.logpdf(x, 4.0, loc, scale), (x, loc, scale), order=2, modes=("fwd", "rev")
    )


def test_defaults_are_scipys() -> None:
    x = np.array([0.5, 1.5])
    np.testing.assert_allclose(_traced_value(stats.norm.logpdf, x), st.norm.logpdf(x), rtol=1e-13)
    np.testing.assert_allclose(_traced_value(lambda df: stats.t.cdf(x, df), 2.0), st.t.cdf(x, 2.0), rtol=1e-13)


def test_gradient_in_scale_matches_the_hand_derivation() -> None:
    x = np.array([-1.0, 0.5, 2.0])
    grad = fg.grad(lambda s: stats.norm.logpdf(x, 0.3, s).sum())(1.7)
    z = (x - 0.3) / 1.7
    assert np.isclose(grad, np.sum((z**2 - 1.0) / 1.7), rtol=1e-13)


@pytest.mark.parametrize("name, shapes, x, _", CONTINUOUS, ids=[c[0] for c in CONTINUOUS])
def test_float32_stays_float32(name: str, shapes: tuple[float, ...], x: Any, _: Any) -> None:
    x32 = x.astype(np.float32)
    distribution = getattr(stats, name)
    for method in CONTINUOUS_METHODS:
        value = _traced_value(lambda x: getattr(distribution, method)(x, *shapes), x32)
        assert value.dtype == np.float32, method
        np.testing.assert_allclose(value, getattr(getattr(st, name), method)(x, *shapes), rtol=2e-5)
        grad = fg.grad(lambda x: getattr(distribution, method)(x, *shapes).sum())(x32)
        assert grad.dtype == np.float32, method
    check_grads(lambda x: distribution.logpdf(x, *shapes), (x32,), order=2, modes=("fwd", "rev"))


# (call, SciPy's value or None where SciPy underflows to -inf): far tails stay finite, with finite derivatives
TAILS: list[tuple[str, Any, float]] = [
    ("norm.logcdf", lambda x: stats.norm.logcdf(x), -40.0),
    ("norm.logsf", lambda x: stats.norm.logsf(x), 40.0),
    ("norm.logcdf far", lambda x: stats.norm.logcdf(x), -1e4),
    ("logistic.logcdf", lambda x: stats.logistic.logcdf(x), -800.0),
    ("logistic.logsf", lambda x: stats.logistic.logsf(x), 800.0),
    ("logistic.logpdf", lambda x: stats.logistic.logpdf(x), -800.0),
    ("laplace.logcdf", lambda x: stats.laplace.logcdf(x), -800.0),
    ("laplace.logsf", lambda x: stats.laplace.logsf(x), 800.0),
    ("cauchy.logcdf", lambda x: stats.cauchy.logcdf(x), -1e12),
    ("cauchy.logsf", lambda x: stats.cauchy.logsf(x), 1e12),
    ("expon.logsf", lambda x: stats.expon.logsf(x), 1e4),
    ("t.logcdf", lambda x: stats.t.logcdf(x, 3.0), -1e6),
]


@pytest.mark.parametrize("name, f, x", TAILS, ids=[c[0] for c in TAILS])
def test_log_tails_stay_finite_with_finite_derivatives(name: str, f: Any, x: float) -> None:
    value = _traced_value(f, x)
    first = fg.grad(f)(x)
    second = fg.grad(fg.grad(f))(x)
    assert np.isfinite(value) and np.isfinite(first) and np.isfinite(second)
    distribution, method = name.split()[0].split(".")
    expected = getattr(getattr(st, distribution), method)(x, *((3.0,) if distribution == "t" else ()))
    if np.isfinite(expected):
        assert np.isclose(value, expected, rtol=1e-8)


def test_norm_logcdf_tail_derivative_is_the_mills_ratio() -> None:
    x = -40.0
    assert np.isclose(fg.grad(stats.norm.logcdf)(x), np.exp(st.norm.logpdf(x) - st.norm.logcdf(x)), rtol=1e-12)


def test_cauchy_cdf_keeps_digits_in_the_left_tail() -> None:
    # 0.5 + arctan(x) / pi would cancel: the exact value is arctan(1/1e10)/pi
    assert np.isclose(_traced_value(stats.cauchy.cdf, -1e10), np.arctan(1e-10) / np.pi, rtol=1e-14)


def test_outside_the_support_zero_density_and_zero_derivative() -> None:
    for f, x in [
        (lambda x: stats.gamma.pdf(x, 2.0), -1.0),
        (lambda x: stats.beta.pdf(x, 2.0, 2.0), 1.5),
        (lambda x: stats.uniform.cdf(x), 3.0),
        (lambda x: stats.expon.sf(x), -2.0),
    ]:
        assert fg.grad(f)(x) == 0.0 and fg.grad(fg.grad(f))(x) == 0.0
    assert _traced_value(lambda x: stats.gamma.logpdf(x, 2.0), -1.0) == -np.inf
    assert fg.grad(lambda x: stats.gamma.logpdf(x, 2.0))(-1.0) == 0.0


def test_parameters_outside_their_domain_give_nan_like_scipy() -> None:
    x = np.array([0.5, 1.5])
    for f, scipy_value in [
        (lambda s: stats.norm.logpdf(x, 0.0, s), st.norm.logpdf(x, 0.0, -1.0)),
        (lambda s: stats.gamma.cdf(x, 2.0, 0.0, s), st.gamma.cdf(x, 2.0, 0.0, -1.0)),
    ]:
        assert np.all(np.isnan(_traced_value(f, -1.0))) and np.all(np.isnan(scipy_value))
    assert np.isnan(_traced_value(lambda a: stats.gamma.logpdf(1.0, a), -2.0))
    assert np.isnan(_traced_value(lambda x: stats.beta.pdf(x, -1.0, 2.0), 0.5))
    assert np.isnan(_traced_value(lambda x: stats.uniform.logpdf(x), np.nan))


# (function, argument, its value, the primitive named in the error)
NO_DERIVATIVE: list[tuple[Any, str, float, str]] = [
    (lambda df: stats.t.cdf(0.5, df), "df", 3.0, "stats.t.cdf"),
    (lambda df: stats.t.logsf(0.5, df), "df", 3.0, "stats.t.logcdf"),
    (lambda a: stats.gamma.cdf(0.5, a), "a", 2.0, "stats.gamma.cdf"),
    (lambda a: stats.gamma.logsf(0.5, a), "a", 2.0, r"stats.gamma.(logsf|sf|cdf)"),
    (lambda df: stats.chi2.cdf(0.5, df), "df", 2.0, "stats.chi2.cdf"),
    (lambda df: stats.chi2.sf(0.5, df), "df", 2.0, "stats.chi2.sf"),
    (lambda a: stats.beta.cdf(0.5, a, 2.0), "a", 2.0, "stats.beta.cdf"),
    (lambda b: stats.beta.sf(0.5, 2.0, b), "b", 2.0, "stats.beta.sf"),
    (
        lambda x: stats.multivariate_normal.cdf(x * np.array([1.0, -1.0]), cov=np.eye(2)),
        "x",
        0.5,
        "multivariate_normal",
    ),
]


@pytest.mark.parametrize("f, argument, value, where", NO_DERIVATIVE, ids=[f"{c[3]}-{c[1]}" for c in NO_DERIVATIVE])
def test_no_closed_form_derivative_raises_a_named_type_error(f: Any, argument: str, value: float, where: str) -> None:
    for transform in (fg.grad(f), lambda v: fg.jvp(f, (v,), (1.0,))):
        with pytest.raises(TypeError, match=f"{where}.*no derivative with respect to {argument} .*stop_gradient"):
            transform(value)
    assert fg.grad(lambda v: f(fg.stop_gradient(v)))(value) == 0.0  # the fix the message names works
    assert np.isfinite(fg.jit(f)(value))


def test_the_cdf_without_a_shape_derivative_still_differentiates_in_x_loc_scale() -> None:
    check_grads(
        lambda x, loc, scale: stats.beta.cdf(x, 2.0, 3.0, loc, scale), (0.5, 0.1, 1.2), order=2, modes=("fwd", "rev")
    )


def test_frozen_distribution_is_the_same_function() -> None:
    x = np.array([0.3, 1.2])
    frozen = stats.gamma(2.0, loc=0.1, scale=2.0)
    for method in CONTINUOUS_METHODS:
        np.testing.assert_array_equal(getattr(frozen, method)(x), getattr(st.gamma(2.0, loc=0.1, scale=2.0), method)(x))
    np.testing.assert_allclose(
        fg.grad(lambda x: frozen.logpdf(x).sum())(x), fg.grad(lambda x: stats.gamma.logpdf(x, 2.0, 0.1, 2.0).sum())(x)
    )


def test_a_missing_shape_parameter_names_the_signature() -> None:
    with pytest.raises(TypeError, match=r"stats.t.logpdf: missing a required argument: 'df'.*\(x, df, loc=0.0"):
        fg.grad(lambda x: stats.t.logpdf(x))(0.5)
    with pytest.raises(TypeError, match="stats.norm.cdf: .*scale"):
        fg.grad(lambda x: stats.norm.cdf(x, 0.0, 1.0, 2.0))(0.5)


def test_jit_and_vmap_replay_with_new_parameters() -> None:
    jitted = fg.jit(lambda x, a: stats.gamma.logpdf(x, a).sum())
    x = np.array([0.5, 2.0])
    for a in (2.0, 0.5, -1.0):
        np.testing.assert_allclose(jitted(x, a), st.gamma.logpdf(x, a).sum(), rtol=1e-12)
    scales = np.array([0.5, 1.0, 2.0])
    batched = fg.vmap(lambda s: stats.norm.logcdf(x, 0.0, s))(scales)
    np.testing.assert_allclose(batched, st.norm.logcdf(x, 0.0, scales[:, None]), rtol=1e-12)


REPLAYED: list[tuple[str, Any, tuple[Any, ...], tuple[Any, ...]]] = [
    ("t.logcdf", lambda x, df, s: stats.t.logcdf(x, df, 0.0, s), (0.5, 3.0, 1.0), (-2.0, 0.8, 3.0)),
    ("beta.pdf", lambda x, a, b: stats.beta.pdf(x, a, b), (0.3, 2.0, 3.0), (1.5, 0.5, 0.7)),
    ("uniform.logsf", lambda x, at, s: stats.uniform.logsf(x, at, s), (0.3, 0.0, 1.0), (5.0, 0.0, -1.0)),
    ("poisson.logpmf", lambda k, mu: stats.poisson.logpmf(k, mu), (2.0, 1.5), (2.5, 3.0)),
    ("poisson.cdf", lambda k, mu: stats.poisson.cdf(k, mu), (2.0, 1.5), (-1.0, 3.0)),
    (
        "dirichlet.logpdf",
        lambda x, a: stats.dirichlet.logpdf(x, a),
        (np.array([0.3, 0.7]), np.ones(2)),
        (np.array([0.4, 0.7]), np.ones(2)),
    ),
    (
        "multivariate_normal.logpdf",
        lambda x, c: stats.multivariate_normal.logpdf(x, None, c),
        (np.ones(2), np.eye(2)),
        (np.zeros(2), 2.0 * np.eye(2)),
    ),
]


@pytest.mark.parametrize("name, f, first, second", REPLAYED, ids=[c[0] for c in REPLAYED])
def test_jit_replays_each_region_without_stale_values(name: str, f: Any, first: Any, second: Any) -> None:
    jitted = fg.jit(f)
    for args in (first, second, first):
        np.testing.assert_allclose(jitted(*args), _traced_value(f, *args), rtol=1e-13, equal_nan=True)


# --- poisson ----------------------------------------------------------------------------------
K_ANY = np.array([-1.0, 0.0, 1.0, 2.5, 3.0, 12.0])


@pytest.mark.parametrize("method", DISCRETE_METHODS)
def test_poisson_matches_scipy_and_differentiates_in_mu(method: str) -> None:
    ours, theirs = getattr(stats.poisson, method), getattr(st.poisson, method)
    expected = theirs(K_ANY, 2.0, loc=0.0)
    assert np.array_equal(ours(K_ANY, 2.0), expected, equal_nan=True)
    # logcdf near 0 goes through log1p(-sf) here, SciPy through log(cdf): the digits past 1e-9 are SciPy's rounding
    np.testing.assert_allclose(_traced_value(lambda mu: ours(K_ANY, mu), 2.0), expected, rtol=1e-9)
    np.testing.assert_allclose(
        _traced_value(lambda loc: ours(K_ANY, 2.0, loc), 1.0), theirs(K_ANY, 2.0, 1.0), rtol=1e-10
    )
    check_grads(lambda mu: ours(np.array([0.0, 1.0, 3.0, 7.0]), mu), (2.0,), order=2, modes=("fwd", "rev"))


def test_poisson_cdf_derivative_in_mu_is_minus_the_pmf() -> None:
    assert np.isclose(fg.grad(lambda mu: stats.poisson.cdf(3.0, mu))(2.0), -st.poisson.pmf(3, 2.0), rtol=1e-12)


def test_poisson_logpmf_at_mu_zero_and_k_zero_is_finite() -> None:
    assert _traced_value(lambda mu: stats.poisson.logpmf(0.0, mu), 0.0) == 0.0
    assert np.isnan(_traced_value(lambda mu: stats.poisson.logpmf(1.0, mu), -1.0))


# --- multivariate normal -----------------------------------------------------------------------
RNG = np.random.default_rng(14)
_A = RNG.normal(size=(3, 3))
COV = _A @ _A.T + 3.0 * np.eye(3)
MEAN = np.array([0.3, -0.2, 1.0])
POINTS = RNG.normal(size=(4, 3))


@pytest.mark.parametrize(
    "x, mean, cov",
    [
        (POINTS, MEAN, COV),
        (POINTS[0], MEAN, COV),
        (POINTS[:1], MEAN, COV),
        (POINTS, MEAN, np.diag(COV)),
        (np.array([0.3, -1.0]), None, np.array([2.0])),
        (POINTS, MEAN, 2.5),
        (np.array([0.3, -1.0, 2.0]), None, 2.0),  # dimension 1: three points
        (0.4, 1.0, 2.0),
        (POINTS.reshape(2, 2, 3), MEAN, COV),
    ],
    ids=["points", "one-point", "squeezed", "diagonal", "dim-1-vector-cov", "scalar-cov", "dim-1", "scalar", "stacked"],
)
def test_multivariate_normal_matches_scipy_shapes_and_values(x: Any, mean: Any, cov: Any) -> None:
    for method in ("logpdf", "pdf"):
        expected = getattr(st.multivariate_normal, method)(x, mean, cov)
        assert np.array_equal(getattr(stats.multivariate_normal, method)(x, mean, cov), expected)
        traced = _traced_value(lambda x: getattr(stats.multivariate_normal, method)(x, mean, cov), x)
        assert np.shape(traced) == np.shape(expected)
        np.testing.assert_allclose(traced, expected, rtol=1e-11)


def test_multivariate_normal_second_derivatives_in_x_mean_and_cov() -> None:
    def logpdf(x: Any, mean: Any, root: Any) -> Any:
        # cov as root root^T + 3 I: every perturbation of root is a symmetric perturbation of cov
        return stats.multivariate_normal.logpdf(x, mean, root @ root.T + 3.0 * np.eye(3))

    check_grads(logpdf, (POINTS, MEAN, _A), order=2, modes=("fwd", "rev"))
    check_grads(
        lambda c: stats.multivariate_normal.logpdf(POINTS, MEAN, (c + c.T) / 2), (COV,), order=2, modes=("fwd", "rev")
    )


def test_multivariate_normal_cov_gradient_is_the_symmetric_closed_form() -> None:
    x = POINTS[0]
    grad = fg.grad(stats.multivariate_normal.logpdf, argnums=2)(x, MEAN, COV)
    inverse = np.linalg.inv(COV)
    deviation = inverse @ (x - MEAN)
    np.testing.assert_allclose(grad, 0.5 * (np.outer(deviation, deviation) - inverse), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fg.grad(stats.multivariate_normal.logpdf)(x, MEAN, COV), -deviation, rtol=1e-10)


def test_multivariate_normal_bad_shapes_raise_value_error() -> None:
    with pytest.raises(ValueError, match="cov must have shape"):
        fg.grad(lambda m: stats.multivariate_normal.logpdf(POINTS, m, np.eye(2)).sum())(MEAN)
    with pytest.raises(ValueError, match="last axis"):
        fg.grad(lambda x: stats.multivariate_normal.logpdf(x, MEAN, COV).sum())(np.ones((4, 2)))


def test_multivariate_normal_cdf_values_on_traced_input() -> None:
    x = np.array([0.2, -0.1, 0.5])
    expected = st.multivariate_normal.cdf(x, MEAN, COV, rng=np.random.default_rng(0))
    got = fg.jit(lambda x: stats.multivariate_normal.cdf(x, MEAN, COV, rng=np.random.default_rng(0)))(x)
    assert np.isclose(got, expected, rtol=1e-4)


# --- dirichlet -----------------------------------------------------------------------------------
ALPHA = np.array([1.5, 2.0, 4.0])


@pytest.mark.parametrize(
    "x",
    [
        np.array([0.2, 0.3, 0.5]),
        np.array([[0.2, 0.6], [0.3, 0.1], [0.5, 0.3]]),
        np.array([0.2, 0.3]),
        np.array([[0.2, 0.6], [0.3, 0.1]]),
    ],
    ids=["K", "K-by-N", "K-1", "K-1-by-N"],
)
def test_dirichlet_matches_scipy(x: Any) -> None:
    for method in ("logpdf", "pdf"):
        expected = getattr(st.dirichlet, method)(x, ALPHA)
        assert np.array_equal(getattr(stats.dirichlet, method)(x, ALPHA), expected)
        traced = _traced_value(lambda a: getattr(stats.dirichlet, method)(x, a), ALPHA)
        assert np.shape(traced) == np.shape(expected)
        np.testing.assert_allclose(traced, expected, rtol=1e-12)


def test_dirichlet_second_derivatives_in_x_and_alpha() -> None:
    x = np.array([[0.2, 0.6], [0.3, 0.1]])  # the last component is 1 - sum: every perturbation stays on the simplex
    check_grads(lambda x, a: stats.dirichlet.logpdf(x, a), (x, ALPHA), order=2, modes=("fwd", "rev"))
    check_grads(lambda a: stats.dirichlet.pdf(np.array([0.2, 0.3, 0.5]), a), (ALPHA,), order=2, modes=("fwd", "rev"))


def test_dirichlet_gradient_in_alpha_is_the_closed_form() -> None:
    from scipy.special import digamma

    x = np.array([0.2, 0.3, 0.5])
    expected = np.log(x) - digamma(ALPHA) + digamma(ALPHA.sum())
    np.testing.assert_allclose(fg.grad(stats.dirichlet.logpdf, argnums=1)(x, ALPHA), expected, rtol=1e-12)


def test_dirichlet_off_the_simplex_is_nan_and_bad_shapes_raise() -> None:
    assert np.isnan(_traced_value(lambda a: stats.dirichlet.logpdf(np.array([0.2, 0.3, 0.6]), a), ALPHA))
    assert np.isnan(_traced_value(lambda a: stats.dirichlet.logpdf(np.array([0.2, 0.3, 0.5]), a), -ALPHA))
    with pytest.raises(ValueError, match="components"):
        fg.grad(lambda a: stats.dirichlet.logpdf(np.ones(5) / 5, a))(ALPHA)
    with pytest.raises(ValueError, match="alpha must be a vector"):
        fg.grad(lambda a: stats.dirichlet.logpdf(np.ones(3) / 3, a).sum())(np.ones((3, 1)))


def test_the_package_lists_stats() -> None:
    import funcgrad.scipy as fsp

    assert "stats" in fsp.__all__ and fsp.stats is stats


def test_frozen_multivariate_distributions_and_missing_methods() -> None:
    frozen = stats.multivariate_normal(MEAN, COV)
    np.testing.assert_array_equal(frozen.logpdf(POINTS), st.multivariate_normal(MEAN, COV).logpdf(POINTS))
    np.testing.assert_allclose(
        fg.grad(lambda x: frozen.logpdf(x).sum())(POINTS),
        fg.grad(lambda x: stats.multivariate_normal.logpdf(x, MEAN, COV).sum())(POINTS),
    )
    x = np.array([0.2, 0.3, 0.5])
    assert stats.dirichlet(ALPHA).logpdf(x) == st.dirichlet(ALPHA).logpdf(x)
    with pytest.raises(AttributeError, match="pmf"):
        stats.norm(0.0, 1.0).pmf(1.0)


@pytest.mark.parametrize("name", stats.__all__)
def test_every_distribution_and_method_has_a_doctest(name: str) -> None:
    import inspect

    distribution = getattr(stats, name)
    assert ">>>" in (distribution.__doc__ or ""), name
    methods = [m for m in dir(type(distribution)) if not m.startswith("_") and callable(getattr(distribution, m))]
    assert methods, name
    for method in methods:
        function = getattr(type(distribution), method)
        assert ">>>" in (inspect.getdoc(function) or ""), f"{name}.{method}"
        assert inspect.signature(function).return_annotation is not inspect.Signature.empty, f"{name}.{method}"


def test_vmap_over_parameters_equals_the_loop() -> None:
    shapes_, points = np.array([0.5, 2.0, 3.0]), np.array([0.3, 1.0])
    np.testing.assert_allclose(
        fg.vmap(lambda a: stats.gamma.cdf(points, a))(shapes_), st.gamma.cdf(points, shapes_[:, None])
    )
    counts = np.array([0.0, 1.5, 3.0])
    np.testing.assert_allclose(fg.vmap(lambda k: stats.poisson.logcdf(k, 2.0))(counts), st.poisson.logcdf(counts, 2.0))
    covs = np.stack([COV * s for s in (1.0, 2.0, 3.0)])
    np.testing.assert_allclose(
        fg.vmap(lambda c: stats.multivariate_normal.logpdf(POINTS, MEAN, c))(covs),
        [st.multivariate_normal.logpdf(POINTS, MEAN, c) for c in covs],
        rtol=1e-12,
    )
    alphas = np.array([[1.0, 2.0, 3.0], [2.0, 2.0, 2.0]])
    x = np.array([0.2, 0.3, 0.5])
    np.testing.assert_allclose(
        fg.vmap(lambda a: stats.dirichlet.logpdf(x, a))(alphas), [st.dirichlet.logpdf(x, a) for a in alphas], rtol=1e-12
    )


@pytest.mark.parametrize("df", [1e3, 1e8, 1e15, np.inf])
def test_t_with_large_and_infinite_df_keeps_its_digits(df: float) -> None:
    # gammaln((df+1)/2) - gammaln(df/2) would cancel to nothing: the density goes through betaln
    x = np.array([-3.0, 0.2, 2.0])
    for method in CONTINUOUS_METHODS:
        traced = _traced_value(lambda x: getattr(stats.t, method)(x, df), x)
        np.testing.assert_allclose(traced, getattr(st.t, method)(x, df), rtol=1e-12)
    np.testing.assert_allclose(
        fg.grad(lambda x: stats.t.logpdf(x, df).sum())(x),
        -x * (df + 1) / (df + x**2) if np.isfinite(df) else -x,
        rtol=1e-9,
    )
    assert np.isfinite(fg.grad(lambda df: stats.t.logpdf(x, df).sum())(df))


def test_t_logpdf_second_derivative_in_df() -> None:
    check_grads(lambda df: stats.t.logpdf(np.array([-3.0, 0.2, 2.0]), df), (80.0,), order=2, modes=("fwd", "rev"))


# the edges of each support, where poles, zeros and log(0) meet (SciPy's value, no warning)
EDGES: list[tuple[str, tuple[float, ...], list[float]]] = [
    ("gamma", (0.5,), [0.0]),
    ("gamma", (1.0,), [0.0]),
    ("gamma", (2.0,), [0.0]),
    ("chi2", (1.0,), [0.0]),
    ("chi2", (2.0,), [0.0]),
    ("beta", (0.5, 2.0), [0.0, 1.0]),
    ("beta", (1.0, 1.0), [0.0, 1.0]),
    ("beta", (2.0, 0.5), [0.0, 1.0]),
    ("expon", (), [0.0]),
    ("uniform", (), [0.0, 1.0]),
]


@pytest.mark.parametrize("name, shapes, x", EDGES, ids=[f"{c[0]}{c[1]}" for c in EDGES])
def test_values_at_the_edges_of_the_support(name: str, shapes: tuple[float, ...], x: list[float]) -> None:
    for method in CONTINUOUS_METHODS:
        traced = _traced_value(lambda x: getattr(getattr(stats, name), method)(x, *shapes), np.array(x))
        np.testing.assert_allclose(traced, getattr(getattr(st, name), method)(x, *shapes), rtol=1e-12)


def test_poisson_with_mu_zero_is_a_point_mass() -> None:
    k = np.array([0.0, 1.0])
    for method in DISCRETE_METHODS:
        traced = _traced_value(lambda mu: getattr(stats.poisson, method)(k, mu), 0.0)
        np.testing.assert_allclose(traced, getattr(st.poisson, method)(k, 0.0))


def test_poisson_derivative_in_k_is_the_continuous_formulas_and_the_cdf_is_a_step() -> None:
    from scipy.special import digamma

    assert np.isclose(fg.grad(stats.poisson.logpmf)(3.0, 2.0), np.log(2.0) - digamma(4.0), rtol=1e-13)
    for method in ("cdf", "sf", "logcdf", "logsf"):  # their primitives refuse k, but a floored k carries no tangent
        assert fg.grad(getattr(stats.poisson, method))(3.0, 2.0) == 0.0, method
    assert fg.grad(lambda loc: stats.poisson.sf(3.0, 2.0, loc))(0.5) == 0.0


def test_dask_primals_give_dask_gradients() -> None:
    da = pytest.importorskip("dask.array", reason="Dask arrays as primals need the dask extra")
    values = np.array([0.5, 1.0, 2.0, 3.0])
    gradient = fg.grad(lambda x: stats.gamma.logpdf(x, 2.0, 0.0, 1.5).sum())(da.from_array(values, chunks=2))
    assert isinstance(gradient, da.Array)
    np.testing.assert_allclose(
        gradient.compute(), fg.grad(lambda x: stats.gamma.logpdf(x, 2.0, 0.0, 1.5).sum())(values)
    )


def test_third_derivatives_in_x_and_parameters() -> None:
    x = np.array([-3.0, 0.4, 2.0])
    check_grads(lambda x, s: stats.norm.logcdf(x, 0.2, s), (x, 1.3), order=3, modes=("fwd", "rev"))
    check_grads(lambda df: stats.t.logpdf(x, df), (4.0,), order=3, modes=("fwd", "rev"))
    check_grads(lambda a, b: stats.beta.logpdf(np.array([0.2, 0.7]), a, b), (2.0, 3.0), order=3, modes=("fwd", "rev"))
    check_grads(lambda x: stats.gamma.logsf(x, 2.0), (np.array([0.5, 3.0]),), order=3, modes=("fwd", "rev"))
    cov = np.array([[2.0, 0.3], [0.3, 1.0]])
    check_grads(
        lambda c: stats.multivariate_normal.logpdf(POINTS[:2, :2], None, (c + c.T) / 2),
        (cov,),
        order=3,
        modes=("fwd", "rev"),
    )


def test_multivariate_float32_stays_float32_and_singular_cov_raises() -> None:
    x32, mean32, cov32 = POINTS.astype(np.float32), MEAN.astype(np.float32), COV.astype(np.float32)
    value = _traced_value(lambda x: stats.multivariate_normal.logpdf(x, mean32, cov32), x32)
    assert value.dtype == np.float32
    np.testing.assert_allclose(value, st.multivariate_normal.logpdf(POINTS, MEAN, COV), rtol=1e-5)
    alpha32 = ALPHA.astype(np.float32)
    for x in ([0.2, 0.3], [0.1, 0.6, 0.3]):  # the sum of a float32 x is 1 only to float32's rounding
        value = _traced_value(lambda a: stats.dirichlet.logpdf(np.float32(x), a), alpha32)
        assert value.dtype == np.float32
        np.testing.assert_allclose(value, st.dirichlet.logpdf(np.array(x), ALPHA), rtol=1e-5)
    with pytest.raises(np.linalg.LinAlgError):
        fg.grad(lambda c: stats.multivariate_normal.logpdf(POINTS, MEAN, c).sum())(np.ones((3, 3)))


SINGULAR = np.array([[2.0, 1.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 0.0]])  # rank 2: the third coordinate is fixed


def test_multivariate_normal_allow_singular_matches_scipy_and_differentiates() -> None:
    points = np.array([[0.3, -0.2, 0.0], [1.0, 0.5, 0.0], [0.1, 0.1, 0.4]])  # the last one is off the range
    expected = st.multivariate_normal.logpdf(points, np.zeros(3), SINGULAR, allow_singular=True)
    logpdf = lambda x, m: stats.multivariate_normal.logpdf(x, m, SINGULAR, allow_singular=True)
    np.testing.assert_allclose(_traced_value(lambda x: logpdf(x, np.zeros(3)), points), expected, rtol=1e-12)
    assert np.isneginf(expected[2])
    # along the range (the first two coordinates): off it the density is -inf
    on_range = lambda xy, m: logpdf(fnp.concatenate([xy, np.zeros((2, 1))], axis=1), fnp.concatenate([m, np.zeros(1)]))
    check_grads(on_range, (points[:2, :2], np.array([0.1, -0.3])), order=2, modes=("fwd", "rev"))
    # a nonsingular cov gives the Cholesky path's value and derivative in cov (built symmetric: SciPy reads one triangle)
    full = lambda a, singular: stats.multivariate_normal.logpdf(points, None, a @ a.T + 3.0 * np.eye(3), allow_singular=singular).sum()
    np.testing.assert_allclose(fg.grad(full)(_A, True), fg.grad(full)(_A, False), rtol=1e-10)
    check_grads(lambda a: full(a, True), (_A,), order=2, modes=("fwd", "rev"))


def test_multivariate_normal_entropy_is_scipys_and_differentiates_in_cov() -> None:
    assert np.isclose(stats.multivariate_normal.entropy(MEAN, COV), st.multivariate_normal.entropy(MEAN, COV))
    entropy = lambda c: stats.multivariate_normal.entropy(None, c)
    assert np.isclose(_traced_value(entropy, COV), st.multivariate_normal.entropy(None, COV), rtol=1e-13)
    np.testing.assert_allclose(fg.grad(entropy)(COV), 0.5 * np.linalg.inv(COV), rtol=1e-10)
    check_grads(lambda a: entropy(a @ a.T + 3.0 * np.eye(3)), (_A,), order=2, modes=("fwd", "rev"))
    singular = st.multivariate_normal(None, SINGULAR, allow_singular=True).entropy()
    assert np.isclose(_traced_value(lambda c: stats.multivariate_normal(None, c, True).entropy(), SINGULAR), singular)


def test_scipys_other_methods_are_forwarded_for_plain_values() -> None:
    assert stats.norm.ppf(0.975, 1.0, 2.0) == st.norm.ppf(0.975, 1.0, 2.0)
    assert stats.t.interval(0.9, 3.0) == st.t.interval(0.9, 3.0)
    assert stats.gamma.mean(2.0, scale=3.0) == st.gamma.mean(2.0, scale=3.0)
    np.testing.assert_array_equal(stats.poisson.rvs(3.0, size=4, random_state=1), st.poisson.rvs(3.0, size=4, random_state=1))
    frozen = stats.beta(2.0, 3.0)
    assert (frozen.var(), frozen.isf(0.1)) == (st.beta(2.0, 3.0).var(), st.beta(2.0, 3.0).isf(0.1))
    np.testing.assert_array_equal(frozen.rvs(size=3, random_state=0), st.beta(2.0, 3.0).rvs(size=3, random_state=0))
    np.testing.assert_array_equal(
        stats.multivariate_normal(MEAN, COV).rvs(size=2, random_state=0),
        st.multivariate_normal(MEAN, COV).rvs(size=2, random_state=0),
    )
    np.testing.assert_array_equal(stats.dirichlet.mean(ALPHA), st.dirichlet.mean(ALPHA))


@pytest.mark.parametrize(
    "call",
    [
        lambda m: stats.norm.ppf(0.3, m),
        lambda m: stats.norm(m).mean(),
        lambda m: stats.gamma(2.0, scale=m).rvs(random_state=0),
        lambda m: stats.multivariate_normal.rvs(m * np.ones(2), random_state=0)[0],
    ],
)
def test_forwarded_methods_refuse_traced_values_by_name(call) -> None:
    with pytest.raises(TypeError, match=r"scipy\.stats\.\w+.*SciPy's own method"):
        fg.grad(call)(1.0)


@pytest.mark.parametrize("x", [650.0, 690.0, 700.0, 800.0, 5000.0])
def test_gamma_logsf_stays_finite_past_the_underflow_of_sf(x: float) -> None:
    # for an integer a the tail has a closed form: Q(2, x) = exp(-x) (1 + x); 690 and 700 straddle the switch
    logsf = lambda x: stats.gamma.logsf(x, 2.0)
    assert np.isclose(_traced_value(logsf, x), -x + np.log1p(x), rtol=1e-13)
    assert np.isclose(fg.grad(logsf)(x), -1.0 + 1.0 / (1.0 + x), rtol=1e-12)
    assert np.isclose(fg.grad(fg.grad(logsf))(x), -1.0 / (1.0 + x) ** 2, rtol=1e-9)
    if x < 700:  # finite differences call SciPy on plain values, whose logsf is -inf past the underflow
        check_grads(lambda x, s: stats.gamma.logsf(x, 2.5, 0.0, s), (x, 1.0), order=2, modes=("fwd", "rev"))


def test_gamma_and_chi2_log_tails_have_closed_forms_there() -> None:
    tiny = 1e-160  # P(3, x) = x**3 / 3! (1 + O(x)): far below the smallest double
    assert np.isclose(
        _traced_value(lambda x: stats.gamma.logcdf(x, 3.0), tiny), 3 * np.log(tiny) - np.log(6.0), rtol=1e-14
    )
    assert np.isclose(fg.grad(lambda x: stats.gamma.logcdf(x, 3.0))(tiny), 3.0 / tiny, rtol=1e-12)
    assert _traced_value(lambda x: stats.chi2.logsf(x, 2.0), 2000.0) == pytest.approx(-1000.0, rel=1e-14)  # exp(-x/2)
    with pytest.raises(TypeError, match="stats.gamma.logsf.*no derivative with respect to a"):
        fg.grad(lambda a: stats.gamma.logsf(800.0, a))(2.0)


def test_poisson_log_tails_stay_finite_past_underflow() -> None:
    # P(X > 3) = mu**4 / 4! (1 + O(mu)) and P(X <= 3) = exp(-mu) (1 + mu + mu**2/2 + mu**3/6): closed forms
    logsf, logcdf = (lambda mu: stats.poisson.logsf(3.0, mu)), (lambda mu: stats.poisson.logcdf(3.0, mu))
    assert np.isclose(_traced_value(logsf, 1e-100), 4 * np.log(1e-100) - np.log(24.0), rtol=1e-14)
    assert np.isclose(fg.grad(logsf)(1e-100), 4e100, rtol=1e-12)
    mu = 900.0
    assert np.isclose(_traced_value(logcdf, mu), -mu + np.log(1 + mu + mu**2 / 2 + mu**3 / 6), rtol=1e-13)
    assert np.isfinite(fg.grad(fg.grad(logcdf))(mu))


def test_beta_and_t_log_tails_stay_finite_past_underflow() -> None:
    # closed forms: I_x(a, 1) = x**a, 1 - I_x(1, b) = (1 - x)**b, and t with 2 degrees of freedom
    assert np.isclose(_traced_value(lambda x: stats.beta.logcdf(x, 2.0, 1.0), 1e-200), 2 * np.log(1e-200), rtol=1e-14)
    assert np.isclose(fg.grad(lambda x: stats.beta.logcdf(x, 2.0, 1.0))(1e-200), 2e200, rtol=1e-12)
    assert np.isclose(_traced_value(lambda x: stats.beta.logsf(x, 1.0, 500.0), 0.8), 500 * np.log(0.2), rtol=1e-13)
    assert np.isclose(fg.grad(lambda x: stats.beta.logsf(x, 1.0, 500.0))(0.8), -500 / 0.2, rtol=1e-12)
    z = -1e160  # t(2).cdf(z) = 1 / ((sqrt(2 + z**2) + |z|) sqrt(2 + z**2))
    assert np.isclose(
        _traced_value(lambda z: stats.t.logcdf(z, 2.0), z), -(np.log(2.0) + 320 * np.log(10.0)), rtol=1e-14
    )
    assert np.isclose(fg.grad(lambda z: stats.t.logcdf(z, 2.0))(z), 2 / abs(z), rtol=1e-12)
    assert np.isclose(
        _traced_value(lambda z: stats.t.logsf(z, 2.0), -z), -(np.log(2.0) + 320 * np.log(10.0)), rtol=1e-14
    )
    with pytest.raises(TypeError, match="stats.beta.logcdf.*no derivative with respect to b"):
        fg.grad(lambda b: stats.beta.logcdf(1e-200, 2.0, b))(1.0)
    check_grads(lambda x, loc: stats.beta.logsf(x, 2.0, 3.0, loc), (0.4, 0.1), order=2, modes=("fwd", "rev"))
