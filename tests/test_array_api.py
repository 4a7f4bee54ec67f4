"""The Array API namespace (funcgrad.array_api): conformance points, derivatives, mixed NumPy constants."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.array_api as xp
from funcgrad.testing import check_grads

ROOT = Path(__file__).resolve().parent.parent


def _namespace(x):
    return x.__array_namespace__()


def test_traced_values_report_the_namespace_device_and_version() -> None:
    seen = {}

    def f(x):
        seen["ns"], seen["device"] = x.__array_namespace__(api_version="2024.12"), x.device
        assert x.to_device("cpu") is x
        return xp.sum(x)

    fg.grad(f)(np.ones(2))
    assert seen == {"ns": xp, "device": "cpu"}
    assert xp.__array_api_version__ == "2024.12"


def test_unknown_version_and_device_are_refused() -> None:
    def version(x):
        return x.__array_namespace__(api_version="1999.01")

    with pytest.raises(ValueError, match="1999.01"):
        fg.grad(version)(np.ones(2))
    with pytest.raises(ValueError, match="'gpu'"):
        xp.zeros(2, device="gpu")
    with pytest.raises(ValueError, match="'gpu'"):
        fg.grad(lambda x: xp.sum(x.to_device("gpu")))(np.ones(2))


@pytest.mark.parametrize(
    ("name", "call", "numpy_call"),
    [
        ("concat", lambda m, a: m.concat([a, a], axis=None), lambda a: np.concat([a, a], axis=None)),
        ("permute_dims", lambda m, a: m.permute_dims(a, (1, 0)), lambda a: np.permute_dims(a, (1, 0))),
        ("sort", lambda m, a: m.sort(a, axis=0, descending=True), lambda a: -np.sort(-a, axis=0)),
        ("argsort", lambda m, a: m.argsort(a, descending=True), lambda a: np.argsort(-a, stable=True)),
        ("std", lambda m, a: m.std(a, axis=0, correction=1), lambda a: np.std(a, axis=0, ddof=1)),
        ("var", lambda m, a: m.var(a, correction=1.5), lambda a: np.var(a, ddof=1.5)),
        ("unique_values", lambda m, a: m.unique_values(a), np.unique_values),
        ("astype", lambda m, a: m.astype(a, m.float32), lambda a: a.astype(np.float32)),
        ("clip", lambda m, a: m.clip(a, 0.0, 1.0), lambda a: np.clip(a, 0.0, 1.0)),
        ("isdtype", lambda m, a: m.isdtype(a.dtype, "real floating"), lambda a: True),
    ],
)
def test_plain_calls_give_numpys_results(name, call, numpy_call) -> None:
    a = np.array([[0.5, 2.0, 0.5], [-1.0, 3.0, 0.25]])
    assert np.array_equal(call(xp, a), numpy_call(a))


def test_descending_sorts_keep_ties_in_order() -> None:
    a = np.array([1.0, 2.0, 1.0, 2.0])
    assert xp.argsort(a, descending=True).tolist() == [1, 3, 0, 2]
    assert xp.argsort(a, descending=True, stable=True).tolist() == np.argsort(-a, kind="stable").tolist()


def test_unique_all_of_traced_values_matches_numpy_and_differentiates_the_values() -> None:
    a = np.array([[2.0, 1.0], [2.0, 3.0]])
    plain = np.unique_all(a)

    def f(x):
        result = _namespace(x).unique_all(x)
        for traced, expected in zip(result[1:], plain[1:]):
            assert np.array_equal(traced, expected)
        return xp.sum(result.values**2)

    assert np.array_equal(fg.grad(f)(a), [[4.0, 2.0], [0.0, 6.0]])


@pytest.mark.parametrize(
    "fun",
    [
        lambda x: xp.sum(xp.sort(x, descending=True)[:2] * np.array([1.0, 2.0])),
        lambda x: xp.std(x, correction=1),
        lambda x: xp.sum(xp.concat([x, xp.flip(x)]) ** 3),
        lambda x: xp.linalg.vector_norm(x),
        lambda x: xp.sum(xp.fft.rfft(x).real),
        lambda x: xp.linalg.slogdet(xp.reshape(x, (2, 2)) + 3.0 * xp.eye(2)).logabsdet,
        lambda x: xp.sum(xp.linalg.eigh(xp.reshape(x, (2, 2)) + xp.reshape(x, (2, 2)).T).eigenvalues ** 2),
        lambda x: xp.sum(xp.permute_dims(xp.reshape(x, (2, 2)), (1, 0)) @ x[:2]),
        lambda x: xp.special.logsumexp(x),
    ],
)
def test_namespace_functions_differentiate(fun) -> None:
    check_grads(fun, (np.array([0.3, -1.2, 2.0, 0.7]),), order=2)


def test_plain_namespace_calls_stay_numpy_arrays() -> None:
    assert type(xp.asarray([1.0, 2.0])) is np.ndarray
    assert type(xp.linalg.svd(np.eye(2)).U) is np.ndarray
    assert xp.__array_namespace_info__().default_dtypes()["real floating"] == np.float64


def test_a_scipy_ufunc_loads_its_rules_on_first_sight() -> None:
    # a fresh interpreter: funcgrad.scipy.special is not imported by the test session there
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        import scipy.special
        import funcgrad as fg
        assert "funcgrad.scipy.special" not in sys.modules
        print(float(fg.grad(lambda x: scipy.special.erf(x))(0.0)))
        try:
            fg.grad(lambda x: scipy.special.struve(1.0, x))(1.0)
        except TypeError as error:
            print(str(error).split("'")[1])
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "SCIPY_ARRAY_API"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    derivative, name = out.stdout.split()
    assert float(derivative) == pytest.approx(2.0 / np.sqrt(np.pi))
    assert name == "scipy.special.struve"
