"""In-place writes on traced arrays: NumPy's semantics, exact derivatives, clear refusals.

Identity is kept, views share writes, advanced indexing copies, arguments are
fresh, overwritten entries have no derivative; NumPy's casting rules hold;
preallocate-and-fill works (``zeros_like``, ``like=``, ``fnp.zeros``) and a
plain array funcgrad never saw refuses a traced value with funcgrad's own
``TypeError``.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.errors import UnexpectedTracerError
from funcgrad.testing import check_grads

X = np.array([0.3, -0.7, 1.1, 0.4])
M = np.arange(1.0, 7.0).reshape(2, 3)


def transforms(f, x):
    """``f``'s value from NumPy, grad, jit and jvp, and its gradient (checked against finite differences)."""
    expected = f(x)
    value, _ = fg.value_and_grad(f)(x)
    assert value.tobytes() == np.asarray(expected).tobytes()
    assert fg.jit(f)(x).tobytes() == np.asarray(expected).tobytes()
    assert fg.jvp(f, (x,), (np.ones_like(x),))[0].tobytes() == np.asarray(expected).tobytes()
    check_grads(f, (x,), order=2)
    return expected


# --- identity, views, copies ---------------------------------------------------------------------------


def test_a_write_keeps_the_object_and_changes_its_value():
    seen = []

    def f(x):
        y = x * 1.0
        before = id(y)
        y[1] = 5.0
        y += x
        y[::2] *= x[1:3]
        seen.append(id(y) == before)
        return (y**2).sum()

    transforms(f, X)
    assert seen and all(seen)


def test_writes_through_views_reach_the_base_and_every_live_view():
    def f(A):
        A = A.copy()
        row = A[0]
        column = A[:, 1]
        row[:] = 0.0  # NumPy: A's first row and column[0] change
        A[:, 2] *= 2.0
        A.T[0] = column * 3.0
        return (A * A).sum() + (row * np.arange(3.0)).sum() + column.sum()

    transforms(f, M)


def test_advanced_indexing_copies():
    def f(x):
        y = x.copy()
        picked = y[[0, 2]]
        picked[:] = 100.0  # a copy: y is unchanged
        mask = y > 0
        masked = y[mask]
        masked *= 0.0
        return (y**2).sum() + picked.sum()

    assert transforms(f, X) == (X**2).sum() + 200.0


def test_copies_are_new_objects():
    def f(x):
        y = x.copy()
        for copied in (y.copy(), np.copy(y), np.array(y, like=y), +y, y.astype(y.dtype), y.flatten()):
            copied[0] = 50.0
        return (y**2).sum()

    np.testing.assert_allclose(fg.grad(f)(X), 2 * X)


def test_repeated_fancy_positions_keep_the_last_write():
    def f(x):
        y = np.zeros_like(x)
        y[[1, 1, 2]] = x[:3] * np.array([1.0, 2.0, 3.0])
        return (y**2).sum()

    transforms(f, X)


def test_overwritten_entries_have_no_derivative():
    def f(x):
        y = x.copy()
        y[1:3] = 0.5
        return (y * x).sum()

    np.testing.assert_allclose(fg.grad(f)(X), [2 * X[0], 0.5, 0.5, 2 * X[3]])


def test_arguments_are_fresh_and_the_caller_array_is_never_written():
    x = X.copy()

    def f(v):
        v[0] = 10.0
        v *= 2.0
        return v.sum()

    g = fg.grad(f)(x)
    np.testing.assert_array_equal(x, X)
    np.testing.assert_array_equal(g, [0.0, 2.0, 2.0, 2.0])
    np.testing.assert_array_equal(fg.jit(fg.grad(f))(x), g)
    np.testing.assert_array_equal(x, X)


# --- NumPy's casting and shape rules -----------------------------------------------------------------------


def test_augmented_assignment_keeps_the_dtype_and_refuses_what_numpy_refuses():
    def f(x):
        y = x.astype(np.float32)
        y += x  # float32 += float64: same kind, stays float32
        assert y.dtype == np.float32
        n = np.zeros(3, dtype=np.int64)
        n += 1
        return y.sum()

    fg.grad(f)(X)
    with pytest.raises(np.exceptions.DTypePromotionError if False else TypeError, match="same_kind"):
        fg.jit(lambda x: x.astype(np.int64).__iadd__(x))(X)
    with pytest.raises(ValueError, match="non-broadcastable"):
        fg.grad(lambda x: (x[:1].__iadd__(x)).sum())(X)


def test_out_arguments_follow_numpy():
    def f(x):
        y = x.copy()
        np.tanh(y, out=y)
        c = np.empty_like(y)
        np.add(y, y[::-1], out=c)
        np.multiply(c[:-1], 2.0, out=c[1:])
        total = np.zeros((), x.dtype, like=x)
        np.sum(c, out=total)
        np.exp(c, out=c, where=c > 0.5)
        return (c * total).sum()

    transforms(f, X)


def test_out_of_funcgrad_numpy_functions_called_directly():
    """``import funcgrad.numpy as np`` code spells ``np.sum(x, out=o)`` with funcgrad's functions."""

    def f(x):
        x = x.copy()  # NumPy itself would write into the caller's array
        A = x.reshape(2, 2).copy()
        total = fnp.zeros((), x.dtype)
        fnp.sum(A * A, out=total)
        fnp.cumsum(x, out=x)
        fnp.clip(A[0], 0.5, 2.0, out=A[1])
        fnp.mean(A, axis=0, out=A[0])
        fnp.dot(A, A[1], out=A[0])
        fnp.take(x, [3, 0], out=A[1])
        fnp.concatenate([x[:1], x[3:]], out=A[0])
        fnp.einsum("ij,j->i", A, x[:2], out=A[1])
        fnp.compress([True, False, True, False], x, out=A[0])
        np.add.reduce(x * x, out=total[...])
        np.multiply.accumulate(x[:2], out=A[0])
        frac, whole, md = fnp.zeros(2), fnp.zeros(2), fnp.zeros((2, 2))
        fnp.linalg.multi_dot([A, A.T, A], out=md)
        fnp.modf(x[:2] * 3.0, out=(frac, whole))
        return (A * total).sum() + x.sum() + frac.sum() + (md * md).sum()

    transforms(f, X)
    transforms(lambda x: fnp.real(fnp.fft.fft(x, out=fnp.zeros(4, complex))).sum() + 0 * x[0], X)


_OUT_FUNCTIONS = [
    (fnp.sum, {"axis": 0}), (fnp.prod, {"axis": 1}), (fnp.max, {"axis": 0}), (fnp.min, {"axis": 1}),
    (fnp.ptp, {"axis": 0}), (fnp.mean, {"axis": 0}), (fnp.var, {"axis": 1}), (fnp.std, {"axis": 0}),
    (fnp.nanmean, {"axis": 0}), (fnp.nanvar, {"axis": 1}), (fnp.nanstd, {"axis": 0}), (fnp.nanmax, {"axis": 0}),
    (fnp.nanmin, {"axis": 1}), (fnp.median, {"axis": 0}), (fnp.nanmedian, {"axis": 1}),
    (lambda a, out: fnp.quantile(a, 0.3, axis=0, out=out), {}),
    (lambda a, out: fnp.nanquantile(a, 0.6, axis=1, out=out), {}),
    (lambda a, out: fnp.cumsum(a, axis=0, out=out), {}), (lambda a, out: fnp.cumprod(a, axis=1, out=out), {}),
    (lambda a, out: fnp.clip(a, 0.0, 1.0, out=out), {}),
    (lambda a, out: fnp.stack([a[0], a[1]], out=out), {}),
    (lambda a, out: fnp.vecdot(a, a[0], out=out), {}), (lambda a, out: fnp.matvec(a, a[1], out=out), {}),
    (lambda a, out: fnp.vecmat(a[0], a, out=out), {}),
]


@pytest.mark.parametrize("function, kwargs", _OUT_FUNCTIONS)
def test_out_of_each_funcgrad_numpy_function(function, kwargs):
    M = np.array([[0.3, -0.7, 1.1], [0.4, 2.0, -1.3]])[:, :2]

    def f(x):
        a = x.reshape(2, 2) * 1.5
        shape = np.shape(function(np.zeros((2, 2)), out=None, **kwargs))
        out = fnp.zeros(shape)
        result = function(a, out=out, **kwargs)
        assert result is out
        return (out * out).sum()

    transforms(f, M.ravel())


def test_out_of_array_methods():
    def f(x):
        A = x.reshape(2, 2).copy()
        A.sum(axis=0, out=A[0])
        A.max(axis=1, out=A[:, 1])
        A.cumsum(axis=1, out=A)
        A[1].clip(0.5, 2.0, out=A[1])
        return (A**2).sum()

    transforms(f, X)


def test_ufunc_at_and_numpy_writers():
    def f(x):
        y = fnp.zeros(6)
        np.put(y, [0, 2, 0], x[:3])
        np.place(y, np.arange(6) % 2 == 1, x[1:])
        np.add.at(y, [5, 5], x[0])
        np.putmask(y, y > 0.5, 0.5 * y)
        A = np.zeros((3, 3), like=x)
        np.fill_diagonal(A, x[:3])
        np.put_along_axis(A, np.array([[2], [0], [1]]), x[:3, None] ** 2, axis=1)
        A.flat[[1, 4]] = x[3]
        y[1:4].sort()
        return (A**2).sum() + (y**3).sum()

    transforms(f, X)


# --- preallocate and fill ------------------------------------------------------------------------------------


def euler(params, y0, steps=6, h=0.1):
    y = fnp.zeros((steps + 1,) + y0.shape)
    y[0] = y0
    for i in range(steps):
        y[i + 1] = y[i] + h * np.array([y[i, 1], -params[0] * np.sin(y[i, 0]) - params[1] * y[i, 1]], like=y0)
    return y


def rk4(params, y0, steps=5, h=0.2):
    def rhs(v):
        out = np.empty_like(v)
        out[0] = v[1]
        out[1] = -params[0] * np.sin(v[0]) - params[1] * v[1]
        return out

    y = np.zeros_like(y0, shape=(steps + 1, y0.size))
    y[0] = y0
    for i in range(steps):
        v = y[i]
        k1 = rhs(v)
        k2 = rhs(v + h / 2 * k1)
        k3 = rhs(v + h / 2 * k2)
        k4 = rhs(v + h * k3)
        y[i + 1] = v + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y


@pytest.mark.parametrize("solver", [euler, rk4])
def test_preallocated_ode_solutions_differentiate_at_second_order(solver):
    theta = np.array([1.3, 0.2, 0.5, -0.1])  # the model's parameters, then its initial state

    def loss(theta):
        return (solver(theta[:2], theta[2:]) ** 2).sum()

    expected = loss(theta)  # plain NumPy
    assert fg.jit(loss)(theta).tobytes() == np.asarray(expected).tobytes()
    assert fg.value_and_grad(loss)(theta)[0].tobytes() == np.asarray(expected).tobytes()
    check_grads(loss, (theta,), order=2)
    hess = fg.hessian(loss)(theta)
    np.testing.assert_allclose(hess, hess.T, rtol=1e-10)
    np.testing.assert_allclose(hess, fg.jacfwd(fg.jacrev(loss))(theta), rtol=1e-12)
    np.testing.assert_array_equal(fg.jit(fg.grad(loss))(theta), fg.grad(loss)(theta))
    batch = np.stack([theta, theta * 1.1])
    np.testing.assert_allclose(fg.vmap(loss)(batch), [loss(t) for t in batch], rtol=1e-13)


def test_fnp_constructors_are_numpy_outside_transforms_and_writable_inside():
    for made in (fnp.zeros(3), fnp.ones(3), fnp.empty(3), fnp.full(3, 2.0), fnp.eye(2), fnp.identity(2)):
        assert type(made) is np.ndarray
    assert type(fnp.zeros_like(X)) is np.ndarray
    found = []

    def worker():
        found.append(type(fnp.zeros(2)))

    def f(x):
        thread = threading.Thread(target=worker)  # another thread runs no transform
        thread.start()
        thread.join()
        out = fnp.zeros(3)
        eye = fnp.eye(3)
        for i in range(3):
            out[i] = x[i] * x[i + 1]
            eye[i, (i + 1) % 3] = x[i]
        return out.sum() + (eye @ out).sum()

    transforms(f, X)
    assert found and set(found) == {np.ndarray}


def test_integer_preallocations_under_jit_and_vmap():
    def f(x):
        where = fnp.zeros(2, dtype=np.int64)
        where[0] = np.argmax(x)
        where[1] = np.argmin(x)
        return x[where].sum()

    assert fg.jit(f)(X) == f(X)
    np.testing.assert_array_equal(fg.vmap(f)(np.stack([X, -X])), [f(X), f(-X)])


# --- plain arrays and nesting: funcgrad's own errors ---------------------------------------------------------

FIXES = r"np\.zeros_like\(x\).*np\.zeros\(n, like=x\).*fnp\.zeros\(n\).*np\.stack"


def _store_scalar(x):
    out = np.zeros(3)
    out[0] = x[0]
    return out.sum()


def _store_slice(x):
    out = np.zeros(3)
    out[:2] = x[:2]
    return out.sum()


def _array_of_list(x):
    return np.array([x[0], x[1]]).sum()


def _plain_iadd(x):
    out = np.zeros(4)
    out += x
    return out.sum()


def _plain_out(x):
    out = np.zeros(4)
    np.sin(x, out=out)
    return out.sum()


@pytest.mark.parametrize("misuse", [_store_scalar, _store_slice, _array_of_list, _plain_iadd, _plain_out])
@pytest.mark.parametrize("transform", ["grad", "jvp", "jit", "vmap"])
def test_plain_arrays_refuse_traced_values_naming_the_fixes(misuse, transform):
    run = {
        "grad": lambda: fg.grad(misuse)(X),
        "jvp": lambda: fg.jvp(misuse, (X,), (X,)),
        "jit": lambda: fg.jit(misuse)(X),
        "vmap": lambda: fg.vmap(misuse)(np.stack([X, X])),
    }[transform]
    with pytest.raises(TypeError, match=FIXES) as info:
        run()
    assert type(info.value) is TypeError
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__ or info.value.__context__ is None


def test_an_inner_transform_cannot_write_into_an_outer_array():
    def f(x):
        y = x * 1.0

        def inner(z):
            y[0] = z  # y belongs to the outer grad: the write would outlive the inner one
            return z * z

        fg.grad(inner)(x[1])
        return y.sum()

    with pytest.raises(TypeError, match=r"inner transform.*outer one"):
        fg.grad(f)(X)


def test_an_inner_transform_writes_into_its_own_arrays_and_outer_values():
    def f(x):
        y = x * 1.0

        def inner(z):
            local = np.zeros_like(z, shape=(2,))
            local[0] = z * x[0]  # an outer value written into the inner array
            local[1] = z
            y[2] = x[3] * 2.0  # an outer value into the outer array: allowed at any depth
            return (local**2).sum()

        return fg.grad(inner)(x[1]) + y.sum()

    transforms(f, X)
    check_grads(fg.grad(lambda x: f(x) ** 2), (X,), order=1)


def test_escaped_preallocation_is_refused_after_its_transform():
    kept = []

    def f(x):
        kept.append(fnp.zeros(2))
        return x.sum()

    fg.grad(f)(X)
    with pytest.raises(UnexpectedTracerError):
        kept[0] + X[:2]


def test_a_reshape_is_a_view_or_a_copy_as_numpy_decides_from_the_layout():
    def f(x):
        r = x.reshape(-1)
        r[0] = 5.0  # a view of a C-ordered x, a copy of a Fortran-ordered one
        return (x * x).sum() + r.sum()

    c_ordered = np.arange(1.0, 7.0).reshape(2, 3)
    fortran = np.asfortranarray(c_ordered)
    assert f(c_ordered.copy()) != f(np.asfortranarray(c_ordered))
    jitted = fg.jit(f)
    for x in (c_ordered, fortran, c_ordered):  # the layout read is a guard: each layout is its own branch
        expected = f(np.array(x, order="K"))
        assert fg.value_and_grad(f)(x)[0] == expected
        assert jitted(x) == expected
    # the Fortran-ordered x is not written: its gradient is 2x + 1, and 2x where r[0] was overwritten
    np.testing.assert_array_equal(fg.grad(f)(fortran), [[2.0, 5.0, 7.0], [9.0, 11.0, 13.0]])
    np.testing.assert_array_equal(fg.grad(f)(c_ordered), [[0.0, 5.0, 7.0], [9.0, 11.0, 13.0]])



def test_a_plain_array_written_while_jit_records_is_two_constants():
    def f(x):
        c = np.zeros(3)  # plain: NumPy writes it in place, between two uses
        y = x + c
        c[0] = 5.0
        return y * c + c

    x = np.array([1.0, 2.0, 3.0])
    jitted = fg.jit(f)
    for _ in range(2):  # the recording, then a replay
        assert jitted(x).tobytes() == f(x).tobytes()
    np.testing.assert_array_equal(fg.jit(fg.grad(lambda v: f(v).sum()))(x), [5.0, 0.0, 0.0])


@pytest.mark.parametrize("where", [None, 0, 40_000, -1])
@pytest.mark.parametrize("written", [-0.0, np.nan, 5.0])
def test_a_large_plain_array_written_while_jit_records_is_seen_in_any_block(where, written):
    # compared with its recorded copy in blocks (funcgrad/_program.py, ``_unchanged``): a write anywhere is
    # seen, bit for bit (0.0 to -0.0, a NaN), and an array not written is one constant
    def f(x):
        c = np.zeros(70_000)
        y = x * c
        if where is not None:
            c[where] = written
        return y + c

    x = np.linspace(1.0, 2.0, 70_000)
    program = fg.make_program(f)(x)
    constants = {id(atom) for eqn in program.eqns for atom in eqn.inputs if not isinstance(atom, type(eqn.out))}
    assert len(constants) == (1 if where is None else 2)
    jitted = fg.jit(f)
    for _ in range(3):
        assert jitted(x).tobytes() == f(x).tobytes()


@pytest.mark.skipif(not __import__("importlib").util.find_spec("dask"), reason="needs the dask extra")
def test_writes_on_dask_primals():
    import dask.array as da

    def f(x):
        y = np.zeros_like(x)
        y[1:] = x[:-1] * x[1:]
        y[0] += x[0] ** 2
        y *= 2.0
        return y.sum()

    x = da.from_array(X, chunks=2)
    value, gradient = fg.value_and_grad(f)(x)
    assert isinstance(gradient, da.Array)
    np.testing.assert_allclose(value.compute() if hasattr(value, "compute") else value, f(X))
    np.testing.assert_allclose(gradient.compute(), fg.grad(f)(X))


def test_lists_of_traced_values_are_written_as_numpy_reads_them():
    def f(x):
        y = np.zeros_like(x)
        y[:2] = [x[1], 2.0 * x[0]]
        y[2:] = [x[0], 1.5]
        z = np.zeros((2, 2), like=x)
        z[:] = [[x[0], x[1]], [0.5, x[2]]]
        return (y**2).sum() + (z**3).sum()

    transforms(f, X)


def test_complex_values_and_parts():
    def f(x):
        y = np.zeros(3, complex, like=x)
        y[0] = x[0] * 1j + x[1]
        y[1:] += x[2:] ** 2
        real = np.zeros_like(x)
        real[:3] = y.imag  # a view of the imaginary parts, written into a real array
        return (y * y.conj()).real.sum() + (real**2).sum()

    transforms(f, X)


def test_checkpointed_and_custom_functions_get_fresh_arguments():
    def inner(v):
        v[0] = v[1] ** 2  # recomputed on the backward pass: it must see the argument as it was
        v *= 2.0
        return (v**2).sum()

    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(fg.grad(fg.checkpoint(inner))(x), fg.grad(inner)(x))
    check_grads(fg.checkpoint(inner), (x,), order=2)

    @fg.custom_vjp
    def h(v):
        return (v**2).sum()

    def h_fwd(v):
        out = h(v)
        v *= 0.0  # the rule's own copy: the tape's value of v is unchanged
        return out, (v,)

    h.defvjp(h_fwd, lambda residuals, g: (g * np.ones(3),))
    np.testing.assert_array_equal(fg.grad(lambda v: h(v) + (v**2).sum())(x), 1.0 + 2 * x)

    @fg.custom_jvp
    def k(v):
        return (v**2).sum()

    @k.defjvp
    def k_jvp(primals, tangents):
        (v,), (t,) = primals, tangents
        out = k(v)
        t *= 3.0  # the rule's own copy of the tangent
        v *= 0.0
        return out, (t * 0.0).sum() + 2.0 * (primals[0] * 0.0 + 1.0).sum()

    np.testing.assert_array_equal(fg.jvp(lambda v: k(v) + v.sum(), (x,), (np.ones(3),))[1], 9.0)
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])


@pytest.mark.skipif(not __import__("importlib").util.find_spec("scipy"), reason="needs the scipy extra")
def test_sparsity_detection_sees_through_preallocated_writes():
    def rhs(y):
        out = np.zeros_like(y)
        out[1:-1] = y[:-2] - 2 * y[1:-1] + y[2:]
        out[0] = -2 * y[0] + y[1]
        out[-1] = y[-2] - 2 * y[-1]
        extra = fnp.zeros(6)
        extra[2] = y[2] ** 2
        return out + extra

    y = np.linspace(0.0, 1.0, 6)
    pattern = fg.jacobian_sparsity(rhs)(y).toarray()
    np.testing.assert_array_equal(pattern, np.abs(np.subtract.outer(np.arange(6), np.arange(6))) <= 1)
    np.testing.assert_allclose(fg.sparse_jacfwd(rhs)(y).toarray(), fg.jacfwd(rhs)(y))


def test_preallocations_inside_custom_rules_and_checkpoints_belong_below_the_calling_transform():
    @fg.custom_jvp
    def square(v):
        return v**2

    @square.defjvp
    def square_jvp(primals, tangents):
        (v,), (t,) = primals, tangents
        out = fnp.zeros(3)  # made while the calling transform processes the rule: not its value
        out[:] = 2 * v * t
        return square(v), out

    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(fg.jvp(square, (x,), (np.ones(3),))[1], 2 * x)
    np.testing.assert_array_equal(fg.grad(lambda v: square(v).sum())(x), 2 * x)
    np.testing.assert_array_equal(fg.jacfwd(square)(x), np.diag(2 * x))

    def filled(v):
        out = fnp.zeros(3)
        out[1:] = v[:-1] ** 2
        return (out * v).sum()

    np.testing.assert_array_equal(fg.grad(fg.checkpoint(filled))(x), fg.grad(filled)(x))
