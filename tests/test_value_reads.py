"""No hidden value reads: every rule and wrapper lets an outer transform see what it reads.

``spy`` (tests/spy_trace.py) is an outermost transform whose values cannot be
read directly: under it, every function of the surface table
(tests/test_surface.py) runs forward, under ``grad`` and under ``jvp``, so
each primitive's rules run on values of a lower level, as under ``jit``.  A
rule that computed a mask or a sign from the plain value (``full_lower`` +
NumPy) raises ``HiddenRead``; one that uses primitives is recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from scipy_cases import SCIPY
from spy_trace import HiddenRead, spy
from test_surface import TABLE, _cast, _scalar_loss

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._prims._ufuncs import mask
from funcgrad._rules import REGISTRY, defvjp
from funcgrad._trace import Primitive, full_lower

#: cases whose result depends on no value at all (so no primitive runs): ``matrix_power(a, 0)`` is the identity
CONSTANT = {"matrix_power-0"}
#: the sanctioned reads (``bool()``, ``read_value``: guards under jit) a case makes; every other case makes none
_DET = {"det: is the matrix nearly singular"}
_LSTSQ = {"numpy.linalg.lstsq rank"}
GUARDS = {
    "average-weights": {"numpy.average: do the weights sum to zero"},  # NumPy's ZeroDivisionError check
    "average-weights_full": {"numpy.average: do the weights sum to zero"},
    "det": _DET,
    "det-stack": _DET,
    "det-complex_stack": _DET,
    "lstsq-vec": _LSTSQ,  # the residuals' shape depends on the rank
    "lstsq-mat_residuals": _LSTSQ,
    "special.multigammaln": {"bool"},  # SciPy's domain check (a ValueError below (d - 1) / 2)
    "linalg.sqrtm": {"linalg.sqrtm: is the root complex"},  # SciPy's root is complex for some real matrices
}
CASES = [pytest.param(fn, args, name, id=name) for name, fn, args, flags in TABLE + SCIPY]


def _transforms(fn: Callable[..., Any], args: tuple[Any, ...]) -> dict[str, Callable[..., Any]]:
    f = lambda *a: fn(fnp, *a)  # noqa: E731
    argnums = tuple(range(len(args)))
    tangents = tuple(np.ones_like(a) for a in args)
    return {
        "forward": f,
        "grad": fg.grad(_scalar_loss(f), argnums=argnums),
        "jvp": lambda *a: fg.jvp(f, a, tangents),
    }


@pytest.mark.parametrize(("fn", "args", "case"), CASES)
def test_no_rule_reads_a_value_behind_the_outer_transform(
    fn: Callable[..., Any], args: tuple[Any, ...], case: str
) -> None:
    args = _cast(args, "float64")
    with np.errstate(all="ignore"):
        for name, transformed in _transforms(fn, args).items():
            expected = transformed(*args)
            got, trace = spy(transformed)(*args)
            assert bool(trace.calls) != (case in CONSTANT), name
            assert set(trace.reads) <= GUARDS.get(case, set()), f"{name}: unexpected reads {trace.reads}"
            for e, g in zip(fg.tree.tree_leaves(expected), fg.tree.tree_leaves(got)):
                e, g = np.asarray(e), np.asarray(g)
                assert e.dtype == g.dtype and e.shape == g.shape, name
                if e.dtype.kind in "fc":
                    np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-14, err_msg=name)
                elif e.dtype.kind != "V":  # a float0 tangent (of an integer output) has no contents
                    np.testing.assert_array_equal(g, e, err_msg=name)


X = np.array([1.0, 3.0, 2.0])


def test_the_spy_catches_a_rule_that_reads_a_value() -> None:
    """A rule computing its mask in plain NumPy from ``full_lower`` is exactly what the spy refuses."""
    reads = Primitive("reads_example", np.abs)  # not registered: an example only
    defvjp(reads, lambda g, ans, x: g * np.sign(full_lower(x)))
    with pytest.raises((HiddenRead, TypeError), match="Unread|traced by an outer transform"):
        spy(fg.grad(lambda x: fnp.sum(reads(x))))(X)
    honest = Primitive("honest_example", np.abs)
    defvjp(honest, lambda g, ans, x: g * mask(fnp.sign(x), x))
    got, trace = spy(fg.grad(lambda x: fnp.sum(honest(x))))(X * np.array([1.0, -1.0, 1.0]))
    np.testing.assert_array_equal(got, [1.0, -1.0, 1.0])
    assert {"sign", "mask"} <= set(trace.calls)


def test_comparisons_and_logic_on_traced_values_are_recorded() -> None:
    got, trace = spy(lambda v: (v > 1.5) & ~(v == 3.0) | (v <= 1.0))(X)
    np.testing.assert_array_equal(got, (X > 1.5) & ~(X == 3.0) | (X <= 1.0))
    assert {"greater", "equal", "invert", "bitwise_and", "less_equal", "bitwise_or"} <= set(trace.calls)
    assert not trace.reads


@pytest.mark.parametrize(
    ("name", "call"),
    [
        ("argmax", lambda v: fnp.argmax(v)),
        ("argsort", lambda v: np.argsort(v, kind="stable")),
        ("nonzero", lambda v: fnp.nonzero(v > 1.5)),
        ("isclose", lambda v: fnp.isclose(v, [1.0, 3.0 + 1e-12, 0.0])),
        ("searchsorted", lambda v: fnp.searchsorted(np.array([0.0, 2.5]), v)),
        ("floor_divide", lambda v: v // 2.0),
        ("all", lambda v: (v > 0).all()),
    ],
)
def test_value_reading_functions_are_recorded_primitives(name: str, call: Callable[[Any], Any]) -> None:
    got, trace = spy(call)(X)
    np.testing.assert_equal(got, call(X))
    assert name in trace.calls and not trace.reads


def test_a_traced_integer_index_is_a_recorded_gather() -> None:
    f = lambda v: v[fnp.argmax(v)] ** 2  # noqa: E731
    got, trace = spy(f)(X)
    assert got == 9.0
    assert {"argmax", "positions", "gather_at"} <= set(trace.calls) and not trace.reads
    grad, trace = spy(fg.grad(f))(X)
    np.testing.assert_array_equal(grad, [0.0, 6.0, 0.0])
    assert "scatter_add_at" in trace.calls
    np.testing.assert_array_equal(spy(fg.jacfwd(lambda v: fnp.sort(v)))(X)[0], fg.jacfwd(fnp.sort)(X))


def test_a_traced_boolean_mask_is_a_gather_of_data_dependent_size() -> None:
    f = lambda v: fnp.sum(v[v > 1.5] ** 2)  # noqa: E731
    got, trace = spy(f)(X)
    assert got == 13.0 and "mask_positions" in trace.calls and not trace.reads
    np.testing.assert_array_equal(spy(fg.grad(f))(X)[0], [0.0, 6.0, 4.0])


def test_output_shapes_that_depend_on_values_are_marked() -> None:
    for name in ("nonzero", "argwhere", "flatnonzero", "mask_positions"):
        assert REGISTRY[name].data_dependent_shape, name
    for name in ("argmax", "greater", "positions", "gather_at", "mask"):
        assert not REGISTRY[name].data_dependent_shape, name


def test_explicit_reads_go_through_the_trace_hooks() -> None:
    text, trace = spy(lambda v: fnp.array2string(v))(X)
    assert text == np.array2string(X) and trace.reads == ["numpy.array2string"]
    out, trace = spy(lambda v: v * 2.0 if fnp.sum(v) > 0 else v)(X)
    np.testing.assert_array_equal(out, 2.0 * X)
    assert trace.reads == ["bool"]
    out, trace = spy(lambda v: fnp.repeat(v, fnp.argmax(v) + 1))(X)
    np.testing.assert_array_equal(out, np.repeat(X, 2))
    assert trace.reads == ["numpy.repeat with a traced count"]
