"""What ``hessian`` (forward over reverse) records: no call that leaves its operand unchanged.

The seed cotangent of ``grad``/``jacrev`` is one everywhere; multiplying it into a traced partial,
or reshaping a scalar cotangent before broadcasting it, would be recorded and differentiated at
the forward level too (issue 12).  The derivatives stay those of the unshortened rules.
"""

from __future__ import annotations

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._program import Const
from funcgrad.testing import check_grads

A = np.random.default_rng(1).standard_normal((5, 5)) / np.sqrt(5)


def workload(v):
    # the benchmark's Hessian workload (benchmarks/run.py `hessian`)
    return fnp.sum(fnp.tanh(A @ v)) + fnp.log(fnp.sum(fnp.exp(v)))


def _is_one(atom):
    return isinstance(atom, Const) and np.ndim(atom.value) <= 1 and np.all(np.asarray(atom.value) == 1)


def test_hessian_program_multiplies_no_seed_in():
    program = fg.make_program(fg.hessian(workload))(np.linspace(-1.0, 1.0, 5))
    seeded = [e for e in program.eqns if e.prim.name == "multiply" and any(_is_one(a) for a in e.inputs)]
    assert seeded == []


def test_hessian_program_reshapes_only_the_batched_tangent():
    program = fg.make_program(fg.hessian(workload))(np.linspace(-1.0, 1.0, 5))
    reshapes = [e for e in program.eqns if e.prim.name == "reshape"]
    # sum's scalar cotangent broadcasts as it is; only its tangent (batch axis first) needs the extra axis
    assert [e.out.shape for e in reshapes] == [(5, 1)]
    assert len(program.eqns) == 37


@pytest.mark.parametrize("dt", [np.float64, np.float32])
def test_hessian_matches_the_analytic_one(dt):
    x = np.linspace(-1.0, 1.0, 5).astype(dt)
    a = A.astype(dt)
    t = np.tanh(a @ x)
    s = np.exp(x) / np.sum(np.exp(x))
    expected = (a.T * (-2.0 * t * (1.0 - t * t))) @ a + np.diag(s) - np.outer(s, s)
    h = fg.hessian(lambda v: fnp.sum(fnp.tanh(a @ v)) + fnp.log(fnp.sum(fnp.exp(v))))(x)
    assert h.dtype == dt
    np.testing.assert_allclose(h, expected, rtol=1e-4 if dt == np.float32 else 1e-12, atol=1e-6)


@pytest.mark.parametrize(
    "f",
    [
        lambda v: fnp.sum(fnp.tanh(v) * v),  # unary and multiply rules meet a broadcast seed
        lambda v: fnp.log(fnp.sum(fnp.exp(v))),  # a scalar seed through log's rule
        lambda v: fnp.sum(np.broadcast_to(np.float32(1.0), (3,)) * fnp.sin(v)),  # a plain one of another dtype
        lambda v: fnp.sum(fnp.sum(v * v, axis=0, keepdims=True) * fnp.cos(v)),
    ],
)
def test_derivatives_through_the_shortcuts_at_order_three(f):
    x = np.array([[0.3, -0.7, 1.1], [0.5, 0.2, -0.4]])
    check_grads(f, (x,), order=3, modes=("fwd", "rev"))
    np.testing.assert_allclose(fg.hessian(f)(x).reshape(6, 6), fg.jacrev(fg.jacrev(f))(x).reshape(6, 6))


def test_a_seed_of_ones_keeps_the_partials_dtype():
    x = np.array([0.5, 1.5], np.float32)
    for f in (lambda v: fnp.sum(fnp.exp(v)), lambda v: fnp.sum(np.float64(1.0) * fnp.exp(v))):
        h = fg.hessian(f)(x)
        assert h.dtype == np.float32
        np.testing.assert_allclose(h, np.diag(np.exp(x)), rtol=1e-6)


@pytest.mark.parametrize("dt", [np.float64, np.complex128])
def test_batched_tangents_of_a_matrix_times_a_vector(dt):
    # jacfwd pushes every column through one matrix product; each column is the jvp of its own
    a = (np.arange(12.0).reshape(3, 4) / 7).astype(dt)
    x = np.linspace(-1.0, 1.0, 4).astype(dt)
    f = lambda v: fnp.sin(a @ v)  # noqa: E731
    columns = np.stack([fg.jvp(f, (x,), (e,))[1] for e in np.eye(4, dtype=dt)], axis=-1)
    np.testing.assert_allclose(fg.jacfwd(f, holomorphic=dt == np.complex128)(x), columns, rtol=1e-13)
    check_grads(lambda v: fnp.sum(fnp.sin(a.real @ v)), (x.real,), order=3, modes=("fwd", "rev"))
