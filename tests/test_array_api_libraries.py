"""SciPy (SCIPY_ARRAY_API=1) and scikit-learn (array_api_dispatch=True) functions differentiated unchanged.

Each case runs in a fresh interpreter (SciPy reads SCIPY_ARRAY_API when it is imported): the value
under funcgrad must equal the plain call, the gradient must match central differences.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("scipy")
pytest.importorskip("sklearn")
pytest.importorskip("array_api_compat")

import array_api_compat  # noqa: E402

import funcgrad as fg  # noqa: E402
import funcgrad.array_api as xp  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent(
    """
    import json, os
    os.environ["SCIPY_ARRAY_API"] = "1"
    import numpy as np
    import funcgrad as fg  # first: SciPy's and scikit-learn's lookups are wrapped as they are imported
    import funcgrad.numpy as fnp
    import scipy.fft, scipy.integrate, scipy.signal, scipy.special, scipy.stats
    import sklearn
    import sklearn.decomposition
    import sklearn.metrics.pairwise as pairwise
    import sklearn.utils.extmath

    sklearn.set_config(array_api_dispatch=True)
    rng = np.random.default_rng(0)
    x = rng.normal(size=6)
    p = rng.uniform(0.5, 2.0, size=6)
    X = rng.normal(size=(5, 3))
    Y = rng.normal(size=(4, 3))  # a NumPy constant mixed with the traced X
    cases = {
        "scipy.special.logsumexp": (lambda a: scipy.special.logsumexp(a), x),
        "scipy.special.softmax": (lambda a: scipy.special.softmax(a)[0], x),
        "scipy.special.rel_entr": (lambda a: fnp.sum(scipy.special.rel_entr(a, p[::-1])), p),
        "scipy.special.xlogy": (lambda a: fnp.sum(scipy.special.xlogy(a, a)), p),
        "scipy.stats.skew": (lambda a: scipy.stats.skew(a), x),
        "scipy.stats.zscore": (lambda a: scipy.stats.zscore(a)[1], x),
        "scipy.stats.kurtosis": (lambda a: scipy.stats.kurtosis(a), x),
        "scipy.stats.moment": (lambda a: scipy.stats.moment(a, 3), x),
        "scipy.stats.gmean": (lambda a: scipy.stats.gmean(a), p),
        "scipy.stats.entropy": (lambda a: scipy.stats.entropy(a), p),
        "scipy.stats.sem": (lambda a: scipy.stats.sem(a), x),
        "scipy.stats.ttest_1samp": (lambda a: scipy.stats.ttest_1samp(a, 0.0).statistic, x),
        "scipy.fft.rfft": (lambda a: fnp.sum(fnp.abs(scipy.fft.rfft(a))), x),
        "scipy.signal.fftconvolve": (lambda a: scipy.signal.fftconvolve(a, x[:3])[2], x),
        "scipy.integrate.cumulative_trapezoid": (lambda a: scipy.integrate.cumulative_trapezoid(a)[-2], x),
        "sklearn.metrics.pairwise.rbf_kernel": (lambda a: fnp.sum(pairwise.rbf_kernel(a, Y)), X),
        "sklearn.metrics.pairwise.cosine_similarity": (lambda a: fnp.sum(pairwise.cosine_similarity(a, Y)), X),
        "sklearn.metrics.pairwise.euclidean_distances": (lambda a: fnp.sum(pairwise.euclidean_distances(a, Y)), X),
        "sklearn.decomposition.PCA": (
            lambda a: fnp.sum(sklearn.decomposition.PCA(2, svd_solver="full").fit(a).explained_variance_), X
        ),
        "sklearn.utils.extmath.softmax": (lambda a: sklearn.utils.extmath.softmax(a)[0, 1], X),
    }
    results = {}
    for name, (fun, a) in cases.items():
        plain = float(np.real(fun(a)))
        value, gradient = fg.value_and_grad(fun)(a)
        step = 1e-6
        basis = np.eye(a.size).reshape((a.size,) + a.shape)
        differences = [(float(fun(a + step * e)) - float(fun(a - step * e))) / (2 * step) for e in basis]
        results[name] = {
            "value": bool(np.isclose(float(value), plain, rtol=1e-12, atol=0.0)),
            "gradient": bool(np.allclose(gradient, np.reshape(differences, a.shape), rtol=1e-5, atol=1e-7)),
            "rev_vs_fwd": bool(np.allclose(gradient, np.reshape(fg.jacfwd(fun)(a), a.shape), rtol=1e-10, atol=1e-12)),
        }
    print(json.dumps(results))
    """
)


def test_scipy_and_sklearn_functions_differentiate_unchanged() -> None:
    env = dict(os.environ, SCIPY_ARRAY_API="1")
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr[-3000:]
    results = json.loads(out.stdout.splitlines()[-1])
    assert len(results) == 20
    failed = {name: checks for name, checks in results.items() if not all(checks.values())}
    assert not failed


def test_traced_values_mixed_with_numpy_constants_get_funcgrads_namespace() -> None:
    seen = []

    def f(x):
        seen.append(array_api_compat.array_namespace(x, np.ones(2), np.float64(2.0), 3.0, None))
        return xp.sum(x)

    fg.grad(f)(np.ones(2))
    assert seen == [xp]


def test_lookups_without_traced_values_are_unchanged() -> None:
    import array_api_compat.numpy as compat_numpy

    assert array_api_compat.array_namespace(np.ones(2), np.float64(1.0)) is compat_numpy

    class Foreign:
        def __array_namespace__(self, api_version=None):
            return sys.modules[__name__]

    def mixed_with_a_third_library(x):
        return array_api_compat.array_namespace(x, Foreign())

    with pytest.raises(TypeError, match="Multiple namespaces"):
        fg.grad(mixed_with_a_third_library)(np.ones(2))
    with pytest.raises(TypeError, match="Multiple namespaces"):
        array_api_compat.array_namespace(np.ones(2), Foreign())
