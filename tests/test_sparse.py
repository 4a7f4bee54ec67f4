"""Sparse Jacobians and Hessians: detected patterns, colourings, compressed passes against dense ones.

The pattern test runs over tests/test_surface.py's TABLE (with the jit
registry's extra cases and the SciPy cases, which between them reach every
differentiable primitive): the detected pattern must hold every nonzero of
the dense Jacobian (and of two Hessians: of a loss nonlinear in the outputs,
and of one linear in them, which checks the linear/bilinear declarations)
at the table's inputs and, for a global pattern, at perturbed inputs.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import first_case_of_each
from scipy_cases import SCIPY
from test_jit_registry import EXTRA
from test_surface import TABLE, _real_outputs, _scalar_loss

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import _coloring
from funcgrad._rules import REGISTRY
from funcgrad._sparsity import SPARSITY
from funcgrad.tree import tree_flatten

ROOT = Path(__file__).resolve().parent.parent
CASES = TABLE + EXTRA + SCIPY


FIRST = first_case_of_each(name for name, *_ in CASES)
PARAMS = [
    pytest.param(fn, args, id=name, marks=() if name in FIRST else pytest.mark.slow) for name, fn, args, _ in CASES
]


def _jacobian_matrix(f: Callable[..., Any], args: tuple[Any, ...]) -> np.ndarray[Any, Any]:
    """The dense Jacobian of ``f`` (every argument) as outputs x inputs, by jacrev of the raveled function."""
    sizes = [np.size(a) for a in args]
    shapes = [np.shape(a) for a in args]

    def flat(v: Any) -> Any:
        parts, offset = [], 0
        for size, shape in zip(sizes, shapes):
            parts.append(fnp.reshape(v[offset : offset + size], shape))
            offset += size
        outs = tree_flatten(f(*parts))[0]
        return fnp.concatenate([fnp.reshape(o, (-1,)) for o in outs])

    x = np.concatenate([np.ravel(np.asarray(a, np.float64)) for a in args])
    return np.asarray(fg.jacrev(flat)(x))


def _perturbed(args: tuple[Any, ...], seed: int) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    return tuple(
        (np.asarray(a) * rng.uniform(0.97, 1.03, np.shape(a)))[()] if np.asarray(a).dtype.kind == "f" else a for a in args
    )


def _covers(pattern: Any, dense: np.ndarray[Any, Any], where: str) -> None:
    have = pattern.toarray()
    assert have.shape == dense.shape, (where, have.shape, dense.shape)
    missing = (dense != 0) & np.isfinite(dense) & ~have
    assert not missing.any(), f"{where}: nonzeros outside the pattern at {np.argwhere(missing)[:5].tolist()}"


def _linear_loss(f: Callable[..., Any]) -> Callable[..., Any]:
    """A real scalar linear in ``f``'s outputs: its Hessian is a weighted sum of the outputs' Hessians."""

    def loss(*args: Any) -> Any:
        total = 0.0
        for k, out in enumerate(tree_flatten(f(*args))[0]):
            weights = np.cos(np.arange(np.size(out)) + k).reshape(np.shape(out)) + 2.0
            total = total + fnp.sum(fnp.real(out) * weights)
        return total

    return loss


@pytest.mark.parametrize(("fn", "args"), PARAMS)
def test_patterns_hold_every_nonzero_of_dense_derivatives(fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    args = tuple(np.asarray(a, np.float64)[()] for a in args)
    f = _real_outputs(lambda *a: fn(fnp, *a))
    argnums = tuple(range(len(args)))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        pattern = fg.jacobian_sparsity(f, argnums)(*args)
        hess_patterns = [fg.hessian_sparsity(loss(f), argnums)(*args) for loss in (_scalar_loss, _linear_loss)]
        for k, point in enumerate([args, _perturbed(args, 1), _perturbed(args, 2)]):
            if k and not pattern.is_global:
                pattern = fg.jacobian_sparsity(f, argnums)(*point)
            _covers(pattern, _jacobian_matrix(f, point), f"Jacobian at point {k}")
            for loss, hp in zip((_scalar_loss, _linear_loss), hess_patterns):
                if k and not hp.is_global:
                    hp = fg.hessian_sparsity(loss(f), argnums)(*point)
                grad_flat = lambda *a, loss=loss: fg.grad(loss(f), argnums)(*a)  # noqa: E731
                dense = _jacobian_matrix(grad_flat, point)
                _covers(hp, dense, f"Hessian of {loss.__name__} at point {k}")
                assert (hp != hp.T).nnz == 0


def test_every_declared_primitive_is_registered_and_the_table_names_exist() -> None:
    fg.jacobian_sparsity(lambda x: x)(np.zeros(1))  # loads the declarations
    assert SPARSITY
    assert all(REGISTRY.get(prim.name) is prim for prim in SPARSITY)


# --- patterns: exact where they should be ---------------------------------------------------------


def _laplacian(x: Any) -> Any:
    return x[2:] - 2.0 * x[1:-1] + x[:-2]


def test_a_stencil_pattern_is_the_band_and_global() -> None:
    p = fg.jacobian_sparsity(_laplacian)(np.ones(6))
    want = np.zeros((4, 6), bool)
    for i in range(4):
        want[i, i : i + 3] = True
    np.testing.assert_array_equal(p.toarray(), want)
    assert p.is_global and isinstance(p, sp.csr_matrix)


def test_a_branch_on_values_makes_the_pattern_local() -> None:
    def f(x: Any) -> Any:
        return x * x[0] if x[1] > 0 else x

    p = fg.jacobian_sparsity(f)(np.array([1.0, 2.0, 3.0]))
    assert not p.is_global
    np.testing.assert_array_equal(p.toarray(), [[1, 0, 0], [1, 1, 0], [1, 0, 1]])
    q = fg.jacobian_sparsity(f)(np.array([1.0, -2.0, 3.0]))
    np.testing.assert_array_equal(q.toarray(), np.eye(3, dtype=bool))


def test_positions_computed_from_the_values_make_the_pattern_local() -> None:
    p = fg.jacobian_sparsity(fnp.sort)(np.array([3.0, 1.0, 2.0]))
    assert not p.is_global
    np.testing.assert_array_equal(p.toarray(), [[0, 1, 0], [0, 0, 1], [1, 0, 0]])


def test_comparisons_and_where_keep_the_pattern_global() -> None:
    p = fg.jacobian_sparsity(lambda x: fnp.where(x > 0, x, 0.0))(np.array([1.0, -1.0]))
    assert p.is_global
    np.testing.assert_array_equal(p.toarray(), np.eye(2, dtype=bool))


def test_a_constant_matrix_contributes_its_zeros() -> None:
    a = np.diag(np.ones(4)) + np.diag(np.ones(3), 1)
    p = fg.jacobian_sparsity(lambda x: a @ x)(np.ones(4))
    np.testing.assert_array_equal(p.toarray(), a != 0)
    q = fg.jacobian_sparsity(lambda x: fnp.einsum("ij,j->i", a, x))(np.ones(4))
    np.testing.assert_array_equal(q.toarray(), a != 0)


def test_hessian_patterns_see_only_second_order_interactions() -> None:
    h = fg.hessian_sparsity(lambda x: fnp.sum(3.0 * x) + x[0] * x[2] + fnp.sin(x[1]))(np.ones(4))
    np.testing.assert_array_equal(h.toarray().astype(int), [[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]])
    # an intermediate that does not reach the output adds nothing
    h = fg.hessian_sparsity(lambda x: (fnp.exp(x)[0] + x[1]))(np.ones(3))
    np.testing.assert_array_equal(h.toarray().astype(int), [[1, 0, 0], [0, 0, 0], [0, 0, 0]])
    # x / c is linear in x; c / x is not
    h = fg.hessian_sparsity(lambda x: fnp.sum(x / 2.0) + fnp.sum(2.0 / x[:1]))(np.ones(2))
    np.testing.assert_array_equal(h.toarray().astype(int), [[1, 0], [0, 0]])


def test_the_modulus_of_a_complex_value_is_curved_and_of_a_real_one_piecewise_linear() -> None:
    x = np.array([0.3, -0.7, 1.1, 0.4])
    f = lambda v: fnp.sum(fnp.abs(v[:2] + 1j * v[2:]))  # noqa: E731
    dense = fg.hessian(f)(x)
    assert (dense != 0).sum() == 8  # |x + iy| couples x and y, and each with itself
    h = fg.hessian_sparsity(f)(x)
    np.testing.assert_array_equal(h.toarray(), dense != 0)
    assert fg.hessian_sparsity(lambda v: fnp.sum(fnp.abs(v) * 2.0))(x).nnz == 0


def test_an_undeclared_primitive_is_dense() -> None:
    p = fg.jacobian_sparsity(lambda x: fnp.linalg.inv(x))(np.eye(2) * 2.0)
    assert p.toarray().all()


def test_hessian_sparsity_needs_a_scalar() -> None:
    with pytest.raises(ValueError, match="one scalar output"):
        fg.hessian_sparsity(lambda x: x**2)(np.ones(3))


# --- colourings ---------------------------------------------------------------------------------


def _random_pattern(rng: np.random.Generator, m: int, n: int, density: float) -> sp.csr_matrix:
    return sp.random(m, n, density=density, format="csr", random_state=rng, data_rvs=lambda k: np.ones(k)).astype(bool)


@pytest.mark.parametrize("seed", range(6))
def test_column_and_row_colourings_are_valid(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = _random_pattern(rng, 30, 25, 0.1)
    colors = _coloring.column_coloring(p)
    dense = p.toarray()
    for c in range(_coloring.count(colors)):
        assert (dense[:, colors == c].sum(axis=1) <= 1).all()  # no two columns of one colour share a row
    rows = _coloring.row_coloring(p)
    for c in range(_coloring.count(rows)):
        assert (dense[rows == c].sum(axis=0) <= 1).all()


@pytest.mark.parametrize("seed", range(6))
def test_star_colourings_are_star_colourings(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = _random_pattern(rng, 30, 30, 0.08)
    p = (p + p.T + sp.eye(30, dtype=bool)).tocsr()
    colors = _coloring.star_coloring(p)
    assert _coloring.is_star_coloring(p, colors)
    # a star colouring of a path needs 3 colours where a distance-2 colouring needs 3 too; of a star graph, 2
    arrow = np.eye(6, dtype=bool)
    arrow[0, :] = arrow[:, 0] = True
    assert _coloring.count(_coloring.star_coloring(sp.csr_matrix(arrow))) == 2
    assert _coloring.count(_coloring.column_coloring(sp.csr_matrix(arrow))) == 6


def _valid_columns(p: sp.csr_matrix, colors: np.ndarray) -> bool:
    dense = p.toarray()
    return all((dense[:, colors == c].sum(axis=1) <= 1).all() for c in range(_coloring.count(colors)))


@pytest.mark.parametrize("seed", range(6))
def test_recolouring_class_by_class_never_adds_colours(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = _random_pattern(rng, 80, 60, 0.06)
    conflict = (p.T @ p).tocsr()
    natural = _coloring._greedy(conflict.indptr.tolist(), conflict.indices.tolist(), p.shape[1])
    colors = _coloring.column_coloring(p)
    assert _coloring.count(colors) <= _coloring.count(natural)
    assert _valid_columns(p, colors)


@pytest.mark.parametrize("n", [8, 16, 32])
def test_a_periodic_stencil_of_two_species_takes_ten_colours(n: int) -> None:
    # greedy in the natural order takes 11 or 12; no colouring takes fewer than the largest row's 6 nonzeros
    info = fg.sparse_jacfwd(_brusselator).coloring(np.ones(2 * n * n))
    assert info.ncolors == 10
    assert _valid_columns(info.pattern, info.colors)
    assert fg.sparse_jacrev(_brusselator).coloring(np.ones(2 * n * n)).ncolors == 10


def test_a_banded_jacobian_needs_its_bandwidth_in_colours() -> None:
    jac = fg.sparse_jacfwd(_laplacian)
    assert jac.coloring(np.ones(100)).ncolors == 3
    assert fg.sparse_jacrev(_laplacian).coloring(np.ones(100)).ncolors == 3


# --- compressed evaluation ------------------------------------------------------------------------


def _brusselator(u: Any, alpha: float = 0.02) -> Any:
    n = int(np.sqrt(u.size // 2))
    x, y = u[: n * n].reshape(n, n), u[n * n :].reshape(n, n)

    def lap(z: Any) -> Any:
        return fnp.roll(z, 1, 0) + fnp.roll(z, -1, 0) + fnp.roll(z, 1, 1) + fnp.roll(z, -1, 1) - 4.0 * z

    dx = 1.0 + x * x * y - 4.4 * x + alpha * lap(x)
    dy = 3.4 * x - x * x * y + alpha * lap(y)
    return fnp.concatenate([dx.reshape(-1), dy.reshape(-1)])


FUNS = [
    ("laplacian", _laplacian, lambda rng: rng.standard_normal(40)),
    ("brusselator", _brusselator, lambda rng: rng.uniform(0.5, 1.5, 2 * 8 * 8)),
    ("arrow", lambda x: fnp.concatenate([x * x[0], fnp.sum(fnp.sin(x))[None]]), lambda rng: rng.standard_normal(12)),
    ("tanh-chain", lambda x: fnp.tanh(x[1:] * x[:-1]) + fnp.cumsum(x)[1:], lambda rng: rng.standard_normal(15)),
]


@pytest.mark.parametrize(("name", "f", "make"), FUNS, ids=[f[0] for f in FUNS])
@pytest.mark.parametrize("transform", ["sparse_jacfwd", "sparse_jacrev", "sparse_jacobian"])
def test_sparse_jacobians_equal_dense_ones(name: str, f: Any, make: Any, transform: str) -> None:
    rng = np.random.default_rng(0)
    jac = getattr(fg, transform)(f)
    for _ in range(2):  # the second call reuses the pattern and colouring
        x = make(rng)
        got = jac(x)
        assert isinstance(got, sp.csr_matrix) and got.has_canonical_format
        want = fg.jacfwd(f)(x)
        np.testing.assert_allclose(got.toarray(), want, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(got.toarray(), fg.jacrev(f)(x), rtol=1e-12, atol=1e-12)
    assert len(jac.cache) == 1


def _control(u: Any) -> Any:
    """An optimal-control objective: states x (n+1) and controls u (n), dynamics as penalties."""
    n = (u.size - 1) // 2
    x, c = u[: n + 1], u[n + 1 :]
    dynamics = x[1:] - x[:-1] - 0.1 * (fnp.sin(x[:-1]) + c)
    return fnp.sum(x**2) + 0.1 * fnp.sum(c**2) + 10.0 * fnp.sum(dynamics**2) + fnp.sum(fnp.exp(c[1:] * c[:-1]))


@pytest.mark.parametrize(
    ("f", "size"),
    [(_control, 41), (lambda x: fnp.sum((x[1:] - x[:-1] ** 2) ** 2) + fnp.prod(x[:3]), 20),
     (lambda x: fnp.sum(fnp.sin(x) * x[0]) + fnp.sum(fnp.log1p(fnp.exp(fnp.cumsum(x)))), 10)],
)  # fmt: skip
def test_sparse_hessians_equal_dense_ones_and_are_symmetric(f: Any, size: int) -> None:
    rng = np.random.default_rng(1)
    h = fg.sparse_hessian(f)
    for _ in range(2):
        x = rng.uniform(-1, 1, size)
        got = h(x)
        want = fg.hessian(f)(x)
        np.testing.assert_allclose(got.toarray(), want, rtol=1e-12, atol=1e-12)
        assert (got != got.T).nnz == 0 or np.allclose((got - got.T).data, 0, atol=1e-12)
    info = h.coloring(x)
    assert info.mode == "symmetric" and _coloring.is_star_coloring(info.pattern, info.colors) or info.ncolors == len(
        set(info.colors.tolist())
    )


def test_pytrees_are_flattened_in_tree_flatten_order() -> None:
    def f(p: dict[str, Any]) -> Any:
        return {"a": p["w"] * p["b"][0], "z": fnp.sin(p["b"])}

    params = {"w": np.array([[1.0, 2.0], [3.0, 4.0]]), "b": np.array([0.5, -0.5])}
    got = fg.sparse_jacobian(f)(params).toarray()
    leaves = tree_flatten(params)[0]
    x = np.concatenate([leaf.ravel() for leaf in leaves])

    def flat(v: Any) -> Any:
        p = {"b": v[:2], "w": v[2:].reshape(2, 2)} if tree_flatten({"w": 0, "b": 1})[0] == [1, 0] else None
        assert p is not None
        out = f(p)
        return fnp.concatenate([out["a"].reshape(-1), out["z"]])

    np.testing.assert_allclose(got, fg.jacfwd(flat)(x), rtol=1e-12)
    h = fg.sparse_hessian(lambda p: fnp.sum(f(p)["a"] ** 2))(params).toarray()
    np.testing.assert_allclose(h, fg.hessian(lambda v: fnp.sum(flat(v)[:4] ** 2))(x), rtol=1e-12)


def test_argnums_and_other_arguments() -> None:
    f = lambda a, x: a * fnp.sin(x)  # noqa: E731
    a, x = np.array([1.0, 2.0, 3.0]), np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(fg.sparse_jacobian(f, argnums=1)(a, x).toarray(), fg.jacfwd(f, argnums=1)(a, x))
    both = fg.sparse_jacobian(f, argnums=(0, 1))(a, x).toarray()
    ja, jx = fg.jacfwd(f, argnums=(0, 1))(a, x)
    np.testing.assert_allclose(both, np.hstack([ja, jx]))


def test_jit_records_the_compressed_pass_and_replays_it_bit_for_bit() -> None:
    rng = np.random.default_rng(3)
    eager, jitted = fg.sparse_jacobian(_brusselator), fg.sparse_jacobian(_brusselator, jit=True)
    heager, hjitted = fg.sparse_hessian(_control), fg.sparse_hessian(_control, jit=True)
    for _ in range(3):
        u = rng.uniform(0.5, 1.5, 2 * 6 * 6)
        np.testing.assert_array_equal(jitted(u).toarray(), eager(u).toarray())
        v = rng.uniform(-1, 1, 41)
        np.testing.assert_array_equal(hjitted(v).toarray(), heager(v).toarray())
    plan = next(iter(jitted.cache.values()))
    assert isinstance(plan.data, type(fg.jit(lambda x: x)))


def test_a_given_pattern_is_used() -> None:
    pattern = sp.csr_matrix(np.eye(3, dtype=bool) | np.eye(3, k=1, dtype=bool))
    jac = fg.sparse_jacfwd(lambda x: x * 2.0, sparsity=pattern)
    got = jac(np.ones(3))
    assert got.nnz == 5
    np.testing.assert_array_equal(got.toarray(), 2.0 * np.eye(3))
    with pytest.raises(ValueError, match="sparsity pattern of shape"):
        fg.sparse_jacfwd(lambda x: x, sparsity=sp.eye(4, format="csr"))(np.ones(3))


def test_a_local_pattern_is_detected_again_on_each_call() -> None:
    def f(x: Any) -> Any:
        return x * x[0] if x[1] > 0 else fnp.sin(x)

    jac = fg.sparse_jacobian(f)
    for x in (np.array([1.0, 2.0, 3.0]), np.array([1.0, -2.0, 3.0]), np.array([2.0, 2.0, 1.0])):
        np.testing.assert_allclose(jac(x).toarray(), fg.jacfwd(f)(x), rtol=1e-12)
    assert not jac.cache


def test_without_scipy_import_funcgrad_works_and_the_sparse_functions_name_the_extra() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'scipy' or name.startswith('scipy.'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import numpy as np, funcgrad as fg\n"
        "assert fg.grad(lambda x: x * x)(3.0) == 6.0\n"
        "for name in ('jacobian_sparsity', 'sparse_jacobian', 'sparse_hessian'):\n"
        "    try:\n"
        "        getattr(fg, name)(lambda x: x)(np.ones(2))\n"
        "    except ImportError as e:\n"
        "        assert 'pip install funcgrad[scipy]' in str(e), e\n"
        "    else:\n"
        "        raise SystemExit('no ImportError from ' + name)\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_every_elementwise_primitive_with_a_derivative_declares_its_sparsity() -> None:
    import funcgrad.scipy.special  # noqa: F401  (its primitives too)

    undeclared = [
        name
        for name, prim in REGISTRY.items()
        if prim.batcher == "elementwise" and prim.jvps is not None and any(prim.jvps) and prim not in SPARSITY
    ]
    assert not undeclared, f"elementwise primitives with no defsparsity (dense in the detection): {undeclared}"


def test_detection_composes_with_grad_jit_and_vmap_inside_the_function() -> None:
    f = lambda x: fnp.sum((x[1:] - x[:-1] ** 2) ** 2)  # noqa: E731
    x = np.ones(6)
    np.testing.assert_array_equal(fg.jacobian_sparsity(fg.grad(f))(x).toarray(), fg.hessian_sparsity(f)(x).toarray())
    band = np.eye(6, dtype=bool) | np.eye(6, k=1, dtype=bool) | np.eye(6, k=-1, dtype=bool)
    np.testing.assert_array_equal(fg.hessian_sparsity(f)(x).toarray(), band)
    g = fg.jit(lambda v: fnp.sin(v[1:]) * v[:-1])
    np.testing.assert_array_equal(fg.jacobian_sparsity(g)(x).toarray(), np.eye(5, 6, dtype=bool) | np.eye(5, 6, k=1, dtype=bool))
    rows = fg.vmap(lambda r: r * r[0])
    got = fg.sparse_jacobian(rows)(np.arange(1.0, 7.0).reshape(2, 3)).toarray()
    np.testing.assert_allclose(got, fg.jacfwd(rows)(np.arange(1.0, 7.0).reshape(2, 3)).reshape(6, 6))
    assert np.count_nonzero(got) == 10


def test_a_branch_on_another_float_argument_makes_the_pattern_local() -> None:
    def f(t: float, y: Any) -> Any:
        return y * y[0] if t > 1.0 else fnp.sin(y)

    p = fg.jacobian_sparsity(f, argnums=1)(2.0, np.ones(3))
    assert not p.is_global
    jac = fg.sparse_jacobian(f, argnums=1)
    for t in (2.0, 0.5, 3.0):
        np.testing.assert_allclose(jac(t, np.arange(1.0, 4.0)).toarray(), fg.jacfwd(f, argnums=1)(t, np.arange(1.0, 4.0)))
    assert fg.jacobian_sparsity(lambda t, y: t * y, argnums=1)(2.0, np.ones(3)).is_global
    assert fg.jacobian_sparsity(lambda y, n: y[:n] * 2.0)(np.ones(3), 2).is_global  # an int stays a plain int


# --- SciPy's solvers ------------------------------------------------------------------------------


def test_least_squares_takes_the_sparse_jacobian() -> None:
    from funcgrad.scipy import optimize

    t = np.linspace(0.0, 1.0, 30)

    def residuals(p: Any) -> Any:  # a smoothed nonlinear fit: each residual reads one or two parameters
        return fnp.concatenate([fnp.exp(0.3 * p) - 1.0 - fnp.cos(3.0 * t), 2.0 * (p[1:] - p[:-1])])

    import scipy.optimize as so

    x0 = np.zeros(30)
    sparse = optimize.least_squares(residuals, x0, jac="sparse")
    theirs = so.least_squares(residuals, x0, jac=fg.sparse_jacobian(residuals))
    assert sparse.success and sp.issparse(sparse.jac) and sparse.njev == theirs.njev
    np.testing.assert_array_equal(sparse.x, theirs.x)  # SciPy handed the same Jacobian: the same bits
    dense = optimize.least_squares(residuals, x0, xtol=1e-14, ftol=1e-14, gtol=1e-14)
    tight = optimize.least_squares(residuals, x0, jac="sparse", xtol=1e-14, ftol=1e-14, gtol=1e-14)
    np.testing.assert_allclose(tight.x, dense.x, rtol=1e-4)  # lsmr (sparse) and exact (dense) trust-region solves
    np.testing.assert_allclose(sparse.jac.toarray(), fg.jacfwd(residuals)(sparse.x), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("method", ["BDF", "Radau", "LSODA", "RK45"])
def test_solve_ivp_takes_the_sparse_jacobian(method: str) -> None:
    from funcgrad.scipy.integrate import solve_ivp

    def rhs(t: float, y: Any) -> Any:
        return -5.0 * (y - fnp.cos(t)) + 0.5 * _laplacian(fnp.pad(y, 1)) - y**3

    y0 = np.linspace(0.0, 1.0, 40)
    sparse = solve_ivp(rhs, (0.0, 1.0), y0, method=method, jac="sparse", rtol=1e-8, atol=1e-10)
    dense = solve_ivp(rhs, (0.0, 1.0), y0, method=method, rtol=1e-8, atol=1e-10)
    assert sparse.success and sparse.nfev == dense.nfev and sparse.njev == dense.njev
    np.testing.assert_allclose(sparse.y[:, -1], dense.y[:, -1], rtol=1e-9, atol=1e-12)
