"""Plain arrays a recording keeps: by reference, read-only while the function runs, read at each replay.

A closed-over array is not copied into the recording: each replay reads what it holds then, as the function
itself does.  While the function runs it is read-only, so that a write into it after a traced call used it (a
reused buffer) raises inside the recording, which then records again keeping copies.  Passes that read constant
values (a uniform array read as a scalar, loop folding, numba's tier) leave such shared arrays alone.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np
import pytest
from conftest import in_threads

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad import _api, _fuse, _protect
from funcgrad._program import Const


def _array_consts(program: Any) -> list[Const]:
    return [a for e in program.eqns for a in e.inputs if isinstance(a, Const) and type(a.value) is np.ndarray]


def _buffered(rows: np.ndarray, calls: list[int] | None = None) -> Any:
    """The sum of ``tanh(row @ v) ** 2`` over the rows, each row copied into one reused plain buffer."""

    def f(v: Any) -> Any:
        if calls is not None:
            calls.append(1)
        buffer = np.empty(rows.shape[1])
        total = 0.0
        for row in rows:
            buffer[:] = row  # written after the traced product used it
            total = total + fnp.tanh(buffer @ v) ** 2
        return total

    return f


def _unbuffered(rows: np.ndarray) -> Any:
    return lambda v: sum(fnp.tanh(row @ v) ** 2 for row in rows)


def test_a_closed_over_array_is_kept_by_reference_and_writeable_again_after() -> None:
    X = np.arange(12.0).reshape(4, 3)
    program = fg.make_program(lambda w: fnp.tanh(X @ w))(np.ones(3))
    (const,) = _array_consts(program)
    assert const.value is X and const.shared
    assert X.flags.writeable


def test_a_replay_reads_what_a_closed_over_array_holds_at_each_call() -> None:
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((50, 4)), rng.standard_normal(50)

    def loss(w: Any) -> Any:
        return fnp.sum((X @ w - y) ** 2)

    w = rng.standard_normal(4)
    for f in (loss, fg.grad(loss), fg.hessian(loss)):
        jitted = fg.jit(f)
        for _ in range(4):  # the recording, then replays through every tier
            np.testing.assert_array_equal(jitted(w), f(w))
        X[:] = rng.standard_normal(X.shape)  # the caller writes into the arrays the function closes over
        y *= 2.0
        for _ in range(3):
            got, want = jitted(w), f(w)
            assert got.tobytes() == want.tobytes()


def test_a_function_that_writes_into_a_buffer_it_used_is_recorded_again_with_copies() -> None:
    calls: list[int] = []
    f = _buffered(np.random.default_rng(1).standard_normal((5, 3)), calls)
    jitted = fg.jit(f)
    w = np.random.default_rng(2).standard_normal(3)
    assert jitted(w) == f(w)
    assert len(calls) == 3  # the recording that met the read-only buffer, the one keeping copies, f itself
    for v in (w, 2 * w, -w):
        assert jitted(v) == f(v)
    assert len(calls) == 6


def test_arrays_are_writeable_again_when_the_function_raises() -> None:
    table = np.ones(3)

    def f(w: Any) -> Any:
        fnp.sum(table * w)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fg.jit(f)(np.ones(3))
    assert table.flags.writeable
    table[0] = 2.0


def test_an_array_the_caller_made_read_only_stays_read_only() -> None:
    table = np.arange(3.0)
    table.flags.writeable = False
    program = fg.make_program(lambda w: table * w)(np.ones(3))
    (const,) = _array_consts(program)
    assert const.value is table and not const.shared and not table.flags.writeable


def test_a_temporary_the_function_made_is_only_the_programs() -> None:
    program = fg.make_program(lambda w: np.full(3, 0.5) * fnp.sin(w) + np.full((2, 3), 2.0).T @ w[:2])(np.ones(3))
    assert len(_array_consts(program)) == 2 and not [c for c in _array_consts(program) if c.shared]


def test_a_view_of_a_callers_array_and_a_returned_array_stay_shared() -> None:
    table = np.arange(6.0).reshape(2, 3)
    returned: list[Any] = []

    def f(w: Any) -> Any:
        made = np.full(3, 2.0)
        returned.append(made)  # held outside the recording: someone may write into it later
        return table.T @ (table @ w) + made * w

    program = fg.make_program(f)(np.ones(3))
    assert all(c.shared for c in _array_consts(program))


def test_a_uniform_closed_over_array_is_not_read_as_a_scalar() -> None:
    scale = np.full(3, 2.0)
    jitted = fg.jit(lambda w: fnp.sin(w) * scale)
    w = np.linspace(0.0, 1.0, 3)
    for _ in range(3):
        jitted(w)
    scale[1] = -7.0  # no longer uniform: a scalar read while rewriting would be stale
    for _ in range(2):
        np.testing.assert_array_equal(jitted(w), np.sin(w) * scale)


def test_a_folded_loop_over_a_closed_over_array_reads_it_at_each_call() -> None:
    coef = np.array([0.5, -0.25, 0.125])

    def f(p: Any) -> Any:
        s = p * 0.0
        for _ in range(12):  # a repeated block: folded into a loop
            s = s + p * coef
        return fnp.sum(s * s)

    p = np.array([1.0, 2.0, 3.0])
    for fun in (f, fg.grad(f)):
        jitted = fg.jit(fun)
        for _ in range(5):
            jitted(p)
        coef[0] = 4.0
        np.testing.assert_array_equal(jitted(p), fun(p))
        coef[0] = 0.5


@pytest.mark.skipif(not _fuse.available(), reason="numba (the fuse extra) is not installed")
def test_numba_does_not_compile_a_closed_over_array_in(monkeypatch: Any) -> None:
    from funcgrad import _jit

    monkeypatch.setattr(_jit, "NUMBA_BUDGET", 0.0)
    coef = np.array([0.5, -0.25])

    def f(p: Any) -> Any:
        s = p[0] * 0.0
        for _ in range(10):
            s = s + fnp.sum(p * coef) * p[1]
        return s

    p = np.array([1.5, 0.5])
    jitted = fg.jit(f)
    for _ in range(20):
        jitted(p)
    for branch in jitted._cache.values():
        branch.wait()
    coef[1] = 3.0
    assert jitted(p) == f(p)


def test_two_threads_recording_over_one_array() -> None:
    X = np.random.default_rng(2).standard_normal((200, 20))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                jitted = fg.jit(fg.grad(lambda w: fnp.sum(fnp.tanh(X @ w))))
                w = np.ones(20)
                np.testing.assert_array_equal(jitted(w), fg.grad(lambda w: fnp.sum(fnp.tanh(X @ w)))(w))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    in_threads(work, 3)
    assert not errors
    assert X.flags.writeable and not _protect._HELD


# --- the hold itself ---------------------------------------------------------------------------


def test_holds_nest_and_release_in_any_order() -> None:
    a = np.zeros(4)
    view = a[:2]
    outer, inner = _protect.Hold(), _protect.Hold()
    assert outer.keep(view) and inner.keep(a) and inner.keep(view)
    assert not a.flags.writeable and not view.flags.writeable
    outer.release()  # the view is still held by inner
    assert not view.flags.writeable
    inner.release()
    assert a.flags.writeable and view.flags.writeable
    # a view released while its base is still held comes back with the base
    first, second = _protect.Hold(), _protect.Hold()
    first.keep(view)
    second.keep(a)
    first.release()
    assert not view.flags.writeable
    second.release()
    assert a.flags.writeable and view.flags.writeable and not _protect._PENDING
    # a view waiting for its base, kept again meanwhile, is the new hold's (read-only by funcgrad, not the caller)
    first, second, third = _protect.Hold(), _protect.Hold(), _protect.Hold()
    assert first.keep(view)  # and its base
    second.keep(a)
    first.release()  # the base is still the second hold's: the view waits
    assert id(view) in _protect._PENDING and _protect.mutable(view)
    assert third.keep(view)  # counted as funcgrad's, not as the caller's read-only array
    second.release()
    assert not view.flags.writeable  # the third hold's now
    third.release()
    assert a.flags.writeable and view.flags.writeable and not _protect._PENDING and not _protect._HELD


@pytest.mark.parametrize(
    "write",
    [
        lambda b: b.__setitem__(0, 1.0),
        lambda b: np.add(b, 1.0, out=b),
        lambda b: b.fill(0.0),
        lambda b: b.sort(),
        lambda b: np.copyto(b, 0.0),
        lambda b: np.put(b, [0], 1.0),
        lambda b: memoryview(b).__setitem__(0, 1.0),
        lambda b: (ctypes.c_double * 3).from_buffer(b),  # C code asking for a writeable buffer
        lambda b: np.dot(np.ones((3, 3)), np.ones(3), out=b),
    ],
)
def test_numpys_refusals_to_write_are_recognised(write: Any) -> None:
    b = np.ones(3)
    b.flags.writeable = False
    with pytest.raises((ValueError, TypeError)) as info:
        write(b)
    assert _protect.read_only_error(info.value)
    assert not _protect.read_only_error(ValueError("operands could not be broadcast together"))


def test_code_that_needs_a_writeable_kept_array_runs_on_a_copy() -> None:
    scratch = np.array([1.0, 2.0, 3.0])

    def f(w: Any) -> Any:
        y = fnp.sum(scratch * w)
        (ctypes.c_double * 3).from_buffer(scratch)[0] = 1.0  # C code writing in place (a writeable buffer asked for)
        return y

    w = np.array([0.5, 0.25, 2.0])
    np.testing.assert_array_equal(fg.grad(f)(w), scratch)
    assert fg.jit(f)(w) == f(w) and scratch.flags.writeable


def test_grad_remembers_a_function_that_writes_into_what_it_used() -> None:
    rows = np.arange(6.0).reshape(2, 3)
    calls: list[int] = []
    f = _buffered(rows, calls)
    _api._WRITES_KEPT.discard(f.__code__)  # (another test's grad of the same code may have met the refusal first)
    gradient = fg.grad(f)
    v = np.array([0.1, 0.2, 0.3])
    want = fg.grad(_unbuffered(rows))(v)
    np.testing.assert_allclose(gradient(v), want, rtol=1e-15)
    assert len(calls) == 2  # refused once, then run keeping copies
    np.testing.assert_allclose(gradient(v), want, rtol=1e-15)
    assert len(calls) == 3  # copies kept from the start


def test_a_reused_buffer_under_vmap_checkpoint_and_hvp() -> None:
    rows = np.arange(12.0).reshape(4, 3) / 10.0
    f, g = _buffered(rows), _unbuffered(rows)
    vs = np.array([[0.1, 0.2, 0.3], [-0.5, 0.25, 1.0]])
    np.testing.assert_allclose(fg.vmap(fg.grad(f))(vs), fg.vmap(fg.grad(g))(vs), rtol=1e-13)
    np.testing.assert_allclose(fg.grad(fg.checkpoint(f))(vs[0]), fg.grad(g)(vs[0]), rtol=1e-13)
    got, want = fg.hvp(f, (vs[0],), (vs[1],)), fg.hvp(g, (vs[0],), (vs[1],))
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)


def test_a_write_before_any_traced_use_runs_the_function_once() -> None:
    table = np.zeros(3)
    calls = []

    def f(v: Any) -> Any:
        calls.append(1)
        table[:] = [1.0, 2.0, 3.0]  # written before the traced product reads it: nothing to refuse
        return fnp.sum(table * v)

    np.testing.assert_array_equal(fg.grad(f)(np.ones(3)), [1.0, 2.0, 3.0])
    assert len(calls) == 1 and table.flags.writeable


def test_a_recording_that_kept_copies_still_reads_the_arrays_the_function_did_not_write() -> None:
    rows = np.arange(12.0).reshape(4, 3) / 10.0
    scale = np.array([1.0, 2.0, 3.0])
    buffered = _buffered(rows)

    def f(v: Any) -> Any:
        return buffered(v) + fnp.sum(scale * v)  # ``scale`` is only read

    jitted = fg.jit(f)
    v = np.array([0.1, 0.2, 0.3])
    assert jitted(v) == f(v)  # recorded twice: the buffer was written after a use
    program = fg.make_program(f)(v)
    kept = {id(c.value): c for c in _array_consts(program)}
    assert id(scale) in kept and kept[id(scale)].shared  # by reference, as a recording that held it
    scale[0] = -5.0
    for u in (v, 2.0 * v):
        assert jitted(u) == f(u)
