"""The benchmark script must keep running: one quick repeat at tiny sizes, no timing thresholds.

CI runs the same command as ``test_quick_run_without_peers``::

    python benchmarks/run.py --quick --repeat 1 --peers none --json bench.json

The peers (autograd, JAX, PyTorch) are exercised by the opt-in slow test
when they are installed; a missing peer is skipped by the script itself.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from funcgrad._fuse import available as fuse_available

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "run.py"
WORKLOADS = {
    "scalar chain",
    "mlp",
    "fnp.sin(ndarray)",
    "hessian",
    "jacobian fwd",
    "jacobian rev",
    "tanh 4th derivative",
    "long chain",
    "large vjp",
    "elementwise chain",
    "matmul chain",
    "jit chain forward",
    "jit scalar chain",
    "jit mlp",
    "per-example grads",
    "fit logistic BFGS",
    "fit logistic Newton",
    "stiff ODE BDF",
    "sparse brusselator",
    "sparse laplacian",
    "sparse control hessian",
    "sparse ode jacobian",
    "sci logistic",
    "sci gp",
    "sci rk4",
    "sci elementwise",
    "sci cnn",
    "sci per-example",
    "sci hessian",
} | ({"dask logistic", "dask newton step"} if importlib.util.find_spec("dask") else set())


def _run(tmp_path: Path, *extra: str) -> tuple[str, dict]:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--repeat", "1", "--json", str(out), *extra],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout, json.loads(out.read_text())


def test_quick_run_without_peers(tmp_path: Path) -> None:
    stdout, results = _run(tmp_path, "--peers", "none")
    assert set(results["workloads"]) == WORKLOADS
    for name, workload in results["workloads"].items():
        # the scientists' models run jit beside eager, and jit(..., fuse=True) when numba is installed
        jitted = ({"fg-jit"} | ({"fg-jit-fuse"} if fuse_available() else set())) if name.startswith("sci ") else set()
        assert set(workload["impls"]) == {"numpy", "funcgrad"} | jitted, name
        for impl, entry in workload["impls"].items():
            assert entry["agrees"], (name, impl, entry["max_rel_error"])
            assert len(entry["times"]) == 1 and entry["median"] > 0 and entry["first_call"] > 0
    memory = results["memory"]
    assert memory["funcgrad_peak_bytes"] > 0 and memory["saved_arrays_bytes"] > 0
    assert set(results["sweep_memory"]) == {"large vjp", "elementwise chain", "matmul chain"}
    for name, per_impl in results["sweep_memory"].items():
        assert set(per_impl) == {"numpy", "funcgrad"}, name
        assert all(m["sweep_peak_bytes"] > 0 for m in per_impl.values()), name
    assert "targets (met when measured <= limit)" in stdout and "MISMATCH" not in stdout


def test_unknown_peer_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--peers", "tensorflow"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 2 and "unknown peer" in done.stderr


def test_profile_names_the_hot_path() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--profile", "scalar_chain"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "under cProfile" in done.stdout and "_reverse.py" in done.stdout


def test_unknown_workload_is_refused() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--only", "scalar_chian"], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 2 and "unknown workload 'scalar_chian'" in done.stderr


PEERS = [name for name in ("autograd", "jax", "torch") if importlib.util.find_spec(name) is not None]


@pytest.mark.slow
@pytest.mark.skipif(not PEERS, reason="no peer (autograd, jax, torch) installed")
def test_quick_run_with_installed_peers(tmp_path: Path) -> None:
    peers = ",".join(p for name in PEERS for p in ((name, "jax-jit") if name == "jax" else (name,)))
    _, results = _run(tmp_path, "--peers", peers)
    for name, workload in results["workloads"].items():
        for impl, entry in workload["impls"].items():
            assert entry["agrees"], (name, impl, entry["max_rel_error"])
        ran = set(workload["impls"]) | set(workload["skipped"])
        assert set(PEERS) <= ran or name in ("fnp.sin(ndarray)", "dask logistic"), (name, ran)  # no peer takes Dask
