"""Registry-wide: jit recorded at one input and replayed at inputs in other regions equals the eager call, bit for bit.

Every case of tests/test_surface.py's TABLE (which between them call every
differentiable primitive of ``funcgrad._rules.REGISTRY``; the last test
checks that) is jitted three ways — the function, its gradient, its JVP —
recorded at the table's arguments, and replayed at the same arguments
negated, zeroed, made all equal (ties), and shifted.  A replay must give
exactly what a fresh recording (the eager traced call) gives at those
inputs: any value read while recording that is not a recorded operation or
a guard shows up here as a stale replay.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from test_surface import TABLE, _scalar_loss

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._rules import REGISTRY

#: cases whose replay is stale today: a rule or wrapper still reads a traced value in plain NumPy (``full_lower``)
#: instead of recording an operation or a guard.  The values audit (issues 13/15) converts them; each that starts
#: to pass fails here (strict xfail) until it is removed from this list.
STALE = set(
    """
    abs-complex_mat-grad abs-complex_mat-jvp abs-mat-grad abs-mat-jvp abs-scalar-grad abs-scalar-jvp abs-vec-grad
    abs-vec-jvp absolute-mat-grad absolute-mat-jvp absolute-scalar-grad absolute-scalar-jvp absolute-vec-grad
    absolute-vec-jvp amax-axis_tuple-grad amax-axis_tuple-jvp amin-vec-grad amin-vec-jvp angle-mat-jvp angle-mat-value
    angle-scalar-jvp angle-scalar-value angle-vec-jvp angle-vec-value arctan2-col_row-grad arctan2-col_row-jvp
    arctan2-mat_vec-grad arctan2-mat_vec-jvp arctan2-scalar-grad arctan2-scalar-jvp arctan2-vec-grad arctan2-vec-jvp
    average-weights-grad average-weights-jvp average-weights-value average-weights_full-grad average-weights_full-jvp
    average-weights_full-value clip-mat-grad clip-mat-jvp clip-traced_bounds-grad clip-traced_bounds-jvp clip-vec-grad
    clip-vec-jvp copysign-grad copysign-jvp det-complex_stack-grad det-complex_stack-jvp det-grad det-jvp det-stack-grad
    det-stack-jvp eig-values_stack-grad eig-vectors-grad eigh-stack_upper-grad eigh-stack_upper-jvp eigh-values-grad
    eigh-vectors-grad eigh-vectors-jvp eigvals-grad eigvalsh-grad fabs-mat-grad fabs-mat-jvp fabs-scalar-grad
    fabs-scalar-jvp fabs-vec-grad fabs-vec-jvp float_power-col_row-grad float_power-col_row-jvp float_power-mat_vec-grad
    float_power-mat_vec-jvp float_power-scalar-grad float_power-scalar-jvp float_power-vec-grad float_power-vec-jvp
    fmax-col_row-grad fmax-col_row-jvp fmax-mat_vec-grad fmax-mat_vec-jvp fmax-scalar-grad fmax-vec-grad
    fmin-col_row-grad fmin-col_row-jvp fmin-mat_vec-grad fmin-mat_vec-jvp fmin-scalar-grad fmin-vec-grad fmod-mat-grad
    fmod-mat-jvp heaviside-col_row-jvp heaviside-mat_vec-jvp heaviside-scalar-jvp heaviside-vec-jvp hypot-col_row-grad
    hypot-col_row-jvp hypot-mat_vec-grad hypot-mat_vec-jvp hypot-scalar-grad hypot-scalar-jvp hypot-vec-grad
    hypot-vec-jvp interp-x-grad interp-x-jvp interp-x-value interp-x_and_fp-grad interp-x_and_fp-jvp
    interp-x_and_fp-value lstsq-mat_residuals-grad lstsq-mat_residuals-jvp lstsq-mat_residuals-value max-all-grad
    max-all-jvp max-axis0-grad max-axis0-jvp maximum-col_row-grad maximum-col_row-jvp maximum-mat_vec-grad
    maximum-mat_vec-jvp maximum-scalar-grad maximum-vec-grad median-axis1_keepdims-grad median-axis1_keepdims-jvp
    median-even_axis0-grad median-even_axis0-jvp min-axis1_keepdims-grad min-axis1_keepdims-jvp minimum-col_row-grad
    minimum-col_row-jvp minimum-mat_vec-grad minimum-mat_vec-jvp minimum-scalar-grad minimum-vec-grad mod-mat_vec-grad
    mod-mat_vec-jvp nanmean-axis1-grad nanmean-axis1-jvp nanstd-axis0_keepdims-grad nanstd-axis0_keepdims-jvp
    nanstd-axis0_keepdims-value nansum-all-grad nansum-all-jvp nansum-all-value nansum-axis0-grad nansum-axis0-jvp
    nansum-axis0-value norm-axis0_keepdims-grad norm-axis0_keepdims-jvp norm-axis_neg_ord3-grad norm-axis_neg_ord3-jvp
    norm-axis_tuple_ord1-grad norm-axis_tuple_ord1-jvp norm-mat_fro_default-grad norm-mat_fro_default-jvp
    norm-mat_ord-1-grad norm-mat_ord-1-jvp norm-mat_ord-2-jvp norm-mat_ord-inf-grad norm-mat_ord-inf-jvp
    norm-mat_ord1-grad norm-mat_ord1-jvp norm-mat_ord2-jvp norm-mat_ordfro-grad norm-mat_ordfro-jvp norm-mat_ordinf-grad
    norm-mat_ordinf-jvp norm-stack_2-grad norm-stack_2-jvp norm-stack_fro-grad norm-stack_fro-jvp
    norm-stack_inf_outer_axes-grad norm-stack_inf_outer_axes-jvp norm-stack_neg2_swapped-grad
    norm-stack_neg2_swapped-jvp norm-stack_nuc_keepdims-grad norm-vec-grad norm-vec-jvp norm-vec_ord-1-grad
    norm-vec_ord-1-jvp norm-vec_ord-2-grad norm-vec_ord-2-jvp norm-vec_ord-inf-grad norm-vec_ord-inf-jvp
    norm-vec_ord0-jvp norm-vec_ord0-value norm-vec_ord0.5-grad norm-vec_ord0.5-jvp norm-vec_ord0_axis-jvp
    norm-vec_ord0_axis-value norm-vec_ord1-grad norm-vec_ord1-jvp norm-vec_ord1_keepdims-grad norm-vec_ord1_keepdims-jvp
    norm-vec_ord2-grad norm-vec_ord2-jvp norm-vec_ord3-grad norm-vec_ord3-jvp norm-vec_ordinf-grad norm-vec_ordinf-jvp
    power-col_row-grad power-col_row-jvp power-mat_vec-grad power-mat_vec-jvp power-scalar-grad power-scalar-jvp
    power-vec-grad power-vec-jvp ptp-all-grad ptp-all-jvp ptp-axis0-grad ptp-axis0-jvp remainder-mat-grad
    remainder-mat-jvp round-mat-jvp round-mat-value round-scalar-jvp round-scalar-value round-vec-jvp round-vec-value
    round_decimals-mat-jvp round_decimals-mat-value round_decimals-scalar-jvp round_decimals-scalar-value
    round_decimals-vec-jvp round_decimals-vec-value select-traced_default-grad select-traced_default-jvp
    select-traced_default-value sinc-mat-grad sinc-mat-jvp sinc-scalar-grad sinc-scalar-jvp sinc-vec-grad sinc-vec-jvp
    slogdet-stack_both-value sort-axis0-grad sort-axis0-jvp sort-axis0-value sort-grad sort-jvp sort-none-grad
    sort-none-jvp sort-none-value sort-value std-all-grad std-all-jvp std-axis1_ddof1_keepdims-grad
    std-axis1_ddof1_keepdims-jvp svd-reduced_wide_stack-grad svd-reduced_wide_stack-jvp where-traced_cond-jvp
    where-traced_cond-value
    """.split()
)
READ = "a rule or wrapper computes a mask, sign, tie or position from the traced value in plain NumPy (full_lower)"
STALE_READS = {
    "round": "round (and fix) run NumPy on the plain value: the result is a constant of the recording",
    "round_decimals": "round runs NumPy on the plain value: the result is a constant of the recording",
    "angle": "angle runs NumPy on the plain value of a real input",
    "sinc": "sinc's derivative picks its Taylor branch by a mask read from the value",
    "sort": "sort learns its permutation (gather positions) from the plain value",
    "median": "median gathers the middle elements at positions read from the value",
    "interp": "interp finds its intervals (searchsorted) on the plain value",
    "where": "where with a traced condition reads the condition as a plain mask",
    "select": "select reads its traced conditions as plain masks",
    "nansum": "the nan-reductions read isnan of the plain value",
    "nanmean": "the nan-reductions read isnan of the plain value",
    "nanstd": "the nan-reductions read isnan of the plain value",
}


def _variants(args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """The arguments in other regions: negated, zeros, ties (every element the first one), shifted."""

    def each(change: Callable[[Any], Any]) -> tuple[Any, ...]:
        out = []
        for a in args:
            value = np.asarray(a)
            changed = np.asarray(change(value), value.dtype) if value.dtype.kind in "fc" else value
            out.append(changed if isinstance(a, np.ndarray) else changed[()])
        return tuple(out)

    return [
        each(np.negative),
        each(np.zeros_like),
        each(lambda v: np.full_like(v, v.flat[0]) if v.size else v),
        each(lambda v: v + 1.5),
    ]


def _modes(fn: Callable[..., Any], nargs: int) -> dict[str, Callable[..., Any]]:
    plain = lambda *a: fn(fnp, *a)  # noqa: E731
    argnums = tuple(range(nargs))
    return {
        "value": plain,
        "grad": fg.grad(_scalar_loss(plain), argnums=argnums),
        "jvp": lambda *a: fg.jvp(
            plain, a, tuple(np.cos(np.arange(np.size(x))).reshape(np.shape(x)).astype(np.result_type(x)) for x in a)
        ),
    }


def _outcome(fun: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    """``fun(*args)``'s leaves, or the type of the exception it raised."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return fg.tree.tree_flatten(fun(*args))[0]
    except Exception as error:  # noqa: BLE001  (compared, not hidden: both sides must raise the same)
        return type(error)


def _assert_same(got: Any, want: Any, where: str) -> None:
    if isinstance(want, type) or isinstance(got, type):
        assert got == want, f"{where}: {got} != {want}"
        return
    assert len(got) == len(want), where
    for g, w in zip(got, want):
        assert type(g) is type(w), f"{where}: {type(g)} != {type(w)}"
        g_arr, w_arr = np.asarray(g), np.asarray(w)
        assert g_arr.dtype == w_arr.dtype and g_arr.shape == w_arr.shape, where
        assert np.array_equal(g_arr, w_arr, equal_nan=w_arr.dtype.kind in "fc"), f"{where}: {g_arr} != {w_arr}"


_RNG = np.random.default_rng(13)
#: primitives no TABLE case reaches
EXTRA = [
    ("copysign", lambda ns, x, y: ns.copysign(x, y), (_RNG.uniform(-2, 2, 3), _RNG.uniform(-2, 2, 3)), ""),
    ("degrees", lambda ns, x: ns.degrees(x), (_RNG.uniform(-2, 2, 3),), ""),
    ("radians", lambda ns, x: ns.radians(x), (_RNG.uniform(-90, 90, 3),), ""),
    ("ldexp", lambda ns, x: ns.ldexp(x, np.array([1, -2, 3])), (_RNG.uniform(-2, 2, 3),), ""),
    ("nextafter", lambda ns, x, y: ns.nextafter(x, y), (_RNG.uniform(-2, 2, 3), _RNG.uniform(-2, 2, 3)), ""),
    ("positive", lambda ns, x: ns.positive(x), (_RNG.uniform(-2, 2, 3),), ""),
    ("spacing", lambda ns, x: ns.spacing(x) * x, (_RNG.uniform(-2, 2, 3),), ""),
]
ALL = TABLE + EXTRA


def _first_of_each_function() -> set[str]:
    """The default run: the first case of each function (the rest of the table runs with ``-m slow``)."""
    seen: dict[str, str] = {}
    for name, *_ in ALL:
        seen.setdefault(name.split("-")[0], name)
    return set(seen.values())


DEFAULT = _first_of_each_function()


def _marks(case: str, name: str) -> list[Any]:
    marks = [] if name in DEFAULT else [pytest.mark.slow]
    family = name.split("-")[0]
    if case in STALE:
        marks.append(pytest.mark.xfail(reason=STALE_READS.get(family, READ), strict=True))
    return marks


CASES = [
    pytest.param(fn, args, mode, id=f"{name}-{mode}", marks=_marks(f"{name}-{mode}", name))
    for name, fn, args, _ in ALL
    for mode in ("value", "grad", "jvp")
]


@pytest.mark.parametrize(("fn", "args", "mode"), CASES)
def test_replay_in_other_regions_equals_eager(fn: Callable[..., Any], args: tuple[Any, ...], mode: str) -> None:
    fun = _modes(fn, len(args))[mode]
    jitted = fg.jit(fun)
    recorded = _outcome(jitted, args)
    if isinstance(recorded, type):
        pytest.skip(f"the function raises {recorded.__name__} at the table's arguments")
    _assert_same(_outcome(jitted, args), recorded, "replay at the recorded arguments")
    for k, variant in enumerate(_variants(args)):
        eager = _outcome(fg.jit(fun), variant)  # a fresh recording: the eager traced call
        _assert_same(_outcome(jitted, variant), eager, f"variant {k}")


def _primitives_of(fn: Callable[..., Any], args: tuple[Any, ...]) -> set[str]:
    names: set[str] = set()
    for fun in _modes(fn, len(args)).values():
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                program = fg.make_program(fun)(*args)
        except Exception:  # noqa: BLE001, S112  (a mode the case does not support: its other modes count)
            continue
        names.update(eqn.prim.name for eqn in program.eqns)
    return names


def test_the_table_reaches_every_primitive() -> None:
    seen: set[str] = set()
    for _, fn, args, _ in ALL:
        seen |= _primitives_of(fn, args)
    missing = set(REGISTRY) - seen
    assert not missing, f"primitives no jit case exercises: {sorted(missing)}; add a case to EXTRA"
