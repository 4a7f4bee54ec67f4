"""Random sequences of in-place writes run as NumPy runs them, under every transform.

Each program starts from ``A = x.reshape(3, 4).copy()`` and applies a random
list of writes: ``A[idx] = v``, augmented assignments on slices and on the
whole array, writes through live views (rows, columns, ``A.T``, a reshape),
``out=`` of ufuncs and reductions, ``fill``, ``sort``, ``np.copyto``,
``np.put``, fancy-index writes (which copy).  The same Python function runs
on a plain array (NumPy's answer), under ``jit`` and inside ``grad`` (the
values must agree bit for bit), under ``vmap`` (one batched run against a
loop), and its derivatives are checked against finite differences.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import funcgrad as fg
from funcgrad.testing import check_grads

ROWS, COLS = 3, 4


def _set_row(A, i, j, c):
    A[i] = np.sin(A[j]) * c


def _iadd_column(A, i, j, c):
    A[:, i % COLS] += c * A[:, j % COLS]


def _imul_whole(A, i, j, c):
    A *= c


def _isub_overlap(A, i, j, c):
    A[1:, ::2] -= c * A[:-1, ::2]


def _row_view(A, i, j, c):
    row = A[i]
    row[1:] = row[:-1] * c


def _transpose_view(A, i, j, c):
    A.T[j % COLS] = A[i, :ROWS] * c


def _column_view_scaled(A, i, j, c):
    column = A[:, j % COLS]
    column *= c
    column += A[i, 0]


def _reshape_view(A, i, j, c):
    flat = A.reshape(-1)
    flat[(i * COLS + j) % (ROWS * COLS)] = flat[0] * c


def _ufunc_out(A, i, j, c):
    np.tanh(A[i], out=A[i])


def _ufunc_out_shifted(A, i, j, c):
    np.multiply(A[:, :-1], c, out=A[:, 1:])


def _reduction_out(A, i, j, c):
    rest = [r for r in range(ROWS) if r != i]
    np.sum(A[rest], axis=0, out=A[i])


def _method_out(A, i, j, c):
    A.cumsum(axis=1, out=A)
    A[:, 1:].mean(axis=1, out=A[:, j % COLS])


def _fill(A, i, j, c):
    A[i, 1:3].fill(c)


def _sort_row(A, i, j, c):
    A[i].sort()


def _copyto(A, i, j, c):
    np.copyto(A[i], A[j] * c, where=np.arange(COLS) % 2 == 0)


def _put(A, i, j, c):
    np.put(A, [i, j + 4, i], [c, A[j, 0], A[i, 1]])


def _fancy_copy(A, i, j, c):
    picked = A[[i, j]]  # an advanced index copies: writing into it leaves A alone
    picked[0] = 100.0
    A[[i, j], [0, 1]] += picked[1, :2] * c


def _repeated_fancy(A, i, j, c):
    A[[i, i], [j % COLS, j % COLS]] = np.stack([A[0, 0], A[1, 1] * c])  # the last write wins


def _power(A, i, j, c):
    A[i] **= 2


def _divide(A, i, j, c):
    A[:, j % COLS] /= 1.0 + c


OPERATIONS = {
    f.__name__[1:]: f
    for f in (
        _set_row,
        _iadd_column,
        _imul_whole,
        _isub_overlap,
        _row_view,
        _transpose_view,
        _column_view_scaled,
        _reshape_view,
        _ufunc_out,
        _ufunc_out_shifted,
        _reduction_out,
        _method_out,
        _fill,
        _sort_row,
        _copyto,
        _put,
        _fancy_copy,
        _repeated_fancy,
        _power,
        _divide,
    )
}

step = st.tuples(
    st.sampled_from(sorted(OPERATIONS)),
    st.integers(0, ROWS - 1),
    st.integers(0, ROWS - 1),
    st.sampled_from([0.5, 0.75, 1.25]),
)


def program(steps):
    def f(x):
        A = x.reshape(ROWS, COLS).copy()
        kept = A[:, 1]  # a live view read at the end: it must see every later write
        for name, i, j, c in steps:
            OPERATIONS[name](A, i, j, c)
        return (A * A).sum() + (kept * np.arange(1.0, ROWS + 1)).sum()

    return f


def _inputs(seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.2, 1.0, ROWS * COLS) + np.arange(ROWS * COLS) * 0.05


def check_program(steps, seed, order):
    f = program(steps)
    x = _inputs(seed)
    kept = x.copy()
    expected = f(x)  # plain NumPy
    np.testing.assert_array_equal(x, kept)
    value, gradient = fg.value_and_grad(f)(x)
    assert value.tobytes() == np.asarray(expected).tobytes()
    assert fg.jit(f)(x).tobytes() == np.asarray(expected).tobytes()
    assert fg.jit(f)(x).tobytes() == np.asarray(expected).tobytes()  # the replay
    assert fg.jit(fg.grad(f))(x).tobytes() == gradient.tobytes()
    np.testing.assert_array_equal(x, kept)  # the caller's array is never written
    batch = np.stack([x, _inputs(seed + 1), x[::-1].copy()])
    np.testing.assert_allclose(fg.vmap(f)(batch), [f(b) for b in batch], rtol=1e-13)
    if "sort_row" not in {s[0] for s in steps}:  # a sort is only piecewise smooth: ties break finite differences
        check_grads(f, (x,), order=order)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=5), st.integers(0, 2**16))
def test_random_write_programs_match_numpy(steps, seed):
    check_program(steps, seed, order=1)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=10), st.integers(0, 2**16))
def test_random_write_programs_match_numpy_long(steps, seed):
    check_program(steps, seed, order=2)


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_each_write_matches_numpy(name):
    check_program([(name, 1, 2, 0.75)], seed=name.__hash__() % 1000, order=2)
