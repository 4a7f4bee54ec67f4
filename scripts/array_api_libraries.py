"""How many array-API-aware SciPy and scikit-learn functions a backend differentiates unchanged.

    python scripts/array_api_libraries.py            # funcgrad
    python scripts/array_api_libraries.py --peer jax # JAX (jax.grad on jax arrays, float64), when installed

Each case calls a SciPy (``SCIPY_ARRAY_API=1``) or scikit-learn
(``array_api_dispatch=True``) function as it is, on a traced value, with NumPy
constants mixed in where the call has a second array; it counts as
differentiated when the gradient matches central differences of the plain
call (rtol 1e-4).  One line per case and the total; docs/array-api.md
reports a run.
"""

import argparse
import os
import sys
from pathlib import Path

os.environ["SCIPY_ARRAY_API"] = "1"  # before SciPy is imported
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import scipy.cluster  # noqa: E402
import scipy.fft  # noqa: E402
import scipy.integrate  # noqa: E402
import scipy.linalg  # noqa: E402
import scipy.signal  # noqa: E402
import scipy.spatial.distance  # noqa: E402
import scipy.special  # noqa: E402
import scipy.stats  # noqa: E402
import sklearn  # noqa: E402
import sklearn.decomposition  # noqa: E402
import sklearn.linear_model  # noqa: E402
import sklearn.metrics  # noqa: E402
import sklearn.metrics.pairwise as pw  # noqa: E402
import sklearn.preprocessing  # noqa: E402
import sklearn.utils.extmath  # noqa: E402

sklearn.set_config(array_api_dispatch=True)
rng = np.random.default_rng(0)
x = rng.normal(size=6)
X = rng.normal(size=(5, 3))
Y = rng.normal(size=(4, 3))  # a NumPy constant beside the traced X
p = rng.uniform(0.1, 1, 6)
CASES = {
    "special.logsumexp": (lambda a: scipy.special.logsumexp(a), x),
    "special.softmax": (lambda a: scipy.special.softmax(a)[0], x),
    "special.log_softmax": (lambda a: scipy.special.log_softmax(a)[1], x),
    "special.erf": (lambda a: scipy.special.erf(a).sum(), x),
    "special.gammaln": (lambda a: scipy.special.gammaln(a).sum(), p),
    "special.expit": (lambda a: scipy.special.expit(a).sum(), x),
    "special.xlogy": (lambda a: scipy.special.xlogy(a, a).sum(), p),
    "special.entr": (lambda a: scipy.special.entr(a).sum(), p),
    "special.rel_entr": (lambda a: scipy.special.rel_entr(a, 1.0).sum(), p),
    "stats.skew": (lambda a: scipy.stats.skew(a), x),
    "stats.kurtosis": (lambda a: scipy.stats.kurtosis(a), x),
    "stats.zscore": (lambda a: scipy.stats.zscore(a)[0], x),
    "stats.moment": (lambda a: scipy.stats.moment(a, 3), x),
    "stats.variation": (lambda a: scipy.stats.variation(p * a), x),
    "stats.gmean": (lambda a: scipy.stats.gmean(a), p),
    "stats.hmean": (lambda a: scipy.stats.hmean(a), p),
    "stats.pmean": (lambda a: scipy.stats.pmean(a, 2.0), p),
    "stats.entropy": (lambda a: scipy.stats.entropy(a), p),
    "stats.sem": (lambda a: scipy.stats.sem(a), x),
    "stats.tmean": (lambda a: scipy.stats.tmean(a), x),
    "stats.tvar": (lambda a: scipy.stats.tvar(a), x),
    "stats.tstd": (lambda a: scipy.stats.tstd(a), x),
    "stats.describe": (lambda a: scipy.stats.describe(a).variance, x),
    "stats.pearsonr": (lambda a: scipy.stats.pearsonr(a, x[::-1]).statistic, x),
    "stats.ttest_1samp": (lambda a: scipy.stats.ttest_1samp(a, 0.0).statistic, x),
    "stats.ttest_ind": (lambda a: scipy.stats.ttest_ind(a, x[::-1] + 1).statistic, x),
    "stats.trim_mean": (lambda a: scipy.stats.trim_mean(a, 0.1), x),
    "stats.iqr": (lambda a: scipy.stats.iqr(a), x),
    "stats.circmean": (lambda a: scipy.stats.circmean(a), x),
    "stats.circvar": (lambda a: scipy.stats.circvar(a), x),
    "stats.circstd": (lambda a: scipy.stats.circstd(a), x),
    "stats.gstd": (lambda a: scipy.stats.gstd(a), p),
    "stats.tsem": (lambda a: scipy.stats.tsem(a), x),
    "stats.differential_entropy": (lambda a: scipy.stats.differential_entropy(a), x),
    "stats.linregress": (lambda a: scipy.stats.linregress(x, a).slope, x[::-1]),
    "stats.rankdata": (lambda a: scipy.stats.rankdata(a).sum() * a.sum(), x),
    "stats.quantile": (lambda a: scipy.stats.quantile(a, 0.3), x),
    "fft.fft": (lambda a: scipy.fft.fft(a).real.sum(), x),
    "fft.rfft": (lambda a: abs(scipy.fft.rfft(a)).sum(), x),
    "fft.irfft": (lambda a: scipy.fft.irfft(a)[1], x),
    "fft.dct": (lambda a: scipy.fft.dct(a)[1], x),
    "fft.fftn": (lambda a: abs(scipy.fft.fftn(a)).sum(), X),
    "fft.fftshift": (lambda a: scipy.fft.fftshift(a)[0], x),
    "signal.fftconvolve": (lambda a: scipy.signal.fftconvolve(a, x[:3])[2], x),
    "signal.convolve": (lambda a: scipy.signal.convolve(a, x[:3])[2], x),
    "signal.correlate": (lambda a: scipy.signal.correlate(a, x[:3])[2], x),
    "signal.detrend": (lambda a: scipy.signal.detrend(a)[2], x),
    "signal.windows.hann": (lambda a: (scipy.signal.windows.hann(6) * a).sum(), x),
    "signal.oaconvolve": (lambda a: scipy.signal.oaconvolve(a, x[:3])[2], x),
    "signal.welch": (lambda a: scipy.signal.welch(a, nperseg=4)[1].sum(), x),
    "signal.periodogram": (lambda a: scipy.signal.periodogram(a)[1].sum(), x),
    "signal.lfilter": (lambda a: scipy.signal.lfilter([1.0, 0.5], [1.0], a)[3], x),
    "linalg.expm": (lambda a: scipy.linalg.expm(a.reshape(2, 3)[:, :2]).sum(), x),
    "linalg.solve": (lambda a: scipy.linalg.solve(a.reshape(2, 3)[:, :2] + 3 * np.eye(2), np.ones(2)).sum(), x),
    "linalg.det": (lambda a: scipy.linalg.det(a.reshape(2, 3)[:, :2]), x),
    "linalg.inv": (lambda a: scipy.linalg.inv(a.reshape(2, 3)[:, :2]).sum(), x),
    "linalg.norm": (lambda a: scipy.linalg.norm(a), x),
    "integrate.trapezoid": (lambda a: scipy.integrate.trapezoid(a), x),
    "integrate.simpson": (lambda a: scipy.integrate.simpson(a), x),
    "integrate.cumulative_trapezoid": (lambda a: scipy.integrate.cumulative_trapezoid(a)[-1], x),
    "spatial.distance.cdist": (lambda a: scipy.spatial.distance.cdist(a.reshape(2, 3), Y).sum(), x),
    "cluster.vq.whiten": (lambda a: scipy.cluster.vq.whiten(a.reshape(3, 2)).sum(), x),
    "sk.rbf_kernel": (lambda a: pw.rbf_kernel(a, Y).sum(), X),
    "sk.rbf_kernel(X)": (lambda a: pw.rbf_kernel(a).sum(), X),
    "sk.linear_kernel": (lambda a: pw.linear_kernel(a, Y).sum(), X),
    "sk.polynomial_kernel": (lambda a: pw.polynomial_kernel(a, Y).sum(), X),
    "sk.sigmoid_kernel": (lambda a: pw.sigmoid_kernel(a, Y).sum(), X),
    "sk.laplacian_kernel": (lambda a: pw.laplacian_kernel(a, Y).sum(), X),
    "sk.cosine_similarity": (lambda a: pw.cosine_similarity(a, Y).sum(), X),
    "sk.euclidean_distances": (lambda a: pw.euclidean_distances(a, Y).sum(), X),
    "sk.pairwise_distances": (lambda a: pw.pairwise_distances(a, Y).sum(), X),
    "sk.chi2_kernel": (lambda a: pw.additive_chi2_kernel(abs(a), abs(Y)).sum(), X),
    "sk.PCA": (lambda a: sklearn.decomposition.PCA(2, svd_solver="full").fit_transform(a).sum(), X),
    "sk.PCA.covariance": (
        lambda a: sklearn.decomposition.PCA(2, svd_solver="full").fit(a).explained_variance_.sum(),
        X,
    ),
    "sk.StandardScaler": (lambda a: sklearn.preprocessing.StandardScaler().fit_transform(a)[0].sum(), X),
    "sk.MinMaxScaler": (lambda a: sklearn.preprocessing.MinMaxScaler().fit_transform(a)[1].sum(), X),
    "sk.normalize": (lambda a: sklearn.preprocessing.normalize(a)[1].sum(), X),
    "sk.r2_score": (lambda a: sklearn.metrics.r2_score(x, a), x[::-1]),
    "sk.mean_squared_error": (lambda a: sklearn.metrics.mean_squared_error(x, a), x[::-1]),
    "sk.mean_absolute_error": (lambda a: sklearn.metrics.mean_absolute_error(x, a), x[::-1]),
    "sk.log_loss": (lambda a: sklearn.metrics.log_loss([0, 1, 1, 0, 1, 0], scipy.special.expit(a)), x),
    "sk.softmax": (lambda a: sklearn.utils.extmath.softmax(a.reshape(2, 3)).sum(), x),
    "sk.Ridge": (lambda a: sklearn.linear_model.Ridge(alpha=1.0).fit(a, Y[:, 0].tolist() + [0.0]).coef_.sum(), X),
}


def gradient_function(peer: str):
    """``f -> (a -> gradient of real(f) at a)`` for the backend."""
    if peer == "jax":
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)
        return lambda f: lambda a: np.asarray(jax.grad(lambda v: jnp.real(f(v)))(jnp.asarray(a)))
    import funcgrad as fg
    import funcgrad.numpy as fnp

    return lambda f: fg.grad(lambda v: fnp.real(f(v)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", choices=("funcgrad", "jax"), default="funcgrad")
    args = parser.parse_args()
    gradient = gradient_function(args.peer)
    passed = 0
    for name, (f, a) in CASES.items():
        try:
            got = gradient(f)(a)
            step = 1e-6
            basis = np.eye(a.size).reshape((a.size,) + a.shape)
            numeric = [(np.real(f(a + step * e)) - np.real(f(a - step * e))) / (2 * step) for e in basis]
            good = bool(np.allclose(got, np.reshape(numeric, a.shape), rtol=1e-4, atol=1e-6))
            verdict = "ok" if good else "WRONG"
        except Exception as error:  # a refusal: the case does not count
            good, verdict = (
                False,
                f"refused: {type(error).__name__}: {str(error).splitlines()[0][:100] if str(error) else ''}",
            )
        passed += good
        print(f"{name}: {verdict}", flush=True)
    print(f"{args.peer}: {passed} of {len(CASES)} differentiated unchanged")


if __name__ == "__main__":
    main()
