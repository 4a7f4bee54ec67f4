"""Every example in docs/examples runs quickly and reaches a known numeric outcome."""

from __future__ import annotations

import importlib.util
import math
import re
import runpy
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import funcgrad as fg
from funcgrad.testing import check_grads

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
NAMES = ["logistic_regression", "mlp", "newton", "spring_chain", "taylor_sin", "tanh_derivatives"]


def load(name: str) -> ModuleType:
    key = f"funcgrad_docs_example_{name}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module


def test_every_example_is_listed_and_documented() -> None:
    on_disk = sorted(p.stem for p in EXAMPLES.glob("*.py"))
    assert on_disk == sorted(NAMES)
    page = (EXAMPLES.parent / "examples.md").read_text()
    for name in NAMES:
        assert f"examples/{name}.py" in page, f"docs/examples.md does not show {name}.py"


@pytest.mark.parametrize("name", NAMES)
def test_example_has_main_and_docstring(name: str) -> None:
    module = load(name)
    assert callable(module.main)
    assert module.__doc__ and ">>>" in module.__doc__


def test_logistic_regression_learns() -> None:
    out = load("logistic_regression").main(steps=150)
    assert out["accuracy"] > 0.9
    losses = out["losses"]
    assert losses[0] == pytest.approx(math.log(2))  # zero weights: p = 1/2 everywhere
    assert losses[-1] < 0.5 * losses[0]
    assert all(b <= a + 1e-12 for a, b in zip(losses, losses[1:]))  # small steps: monotone


def test_logistic_regression_gradient_matches_finite_differences() -> None:
    module = load("logistic_regression")
    X, y = module.make_data(n=20, seed=1)
    params = (np.array([0.3, -0.2]), 0.1)
    check_grads(lambda w, b: module.loss((w, b), X, y), params, order=2)


def test_mlp_fits_sin() -> None:
    module = load("mlp")
    out = module.main(steps=300)
    assert out["losses"][-1] < 0.01 * out["losses"][0]
    x = np.linspace(-3, 3, 32)[:, None]
    assert np.sqrt(np.mean((module.forward(out["params"], x) - np.sin(x)) ** 2)) < 0.05


def test_mlp_gradient_matches_finite_differences() -> None:
    module = load("mlp")
    params = module.init_params(sizes=(1, 3, 1), seed=2)
    x = np.linspace(-1, 1, 4)[:, None]
    check_grads(lambda p: module.loss(p, x, np.sin(x)), (params,), order=2)


def test_newton_root_converges_quadratically() -> None:
    module = load("newton")
    root, steps = module.newton_root(lambda x: x**3 - 2.0, 1.0)
    assert root == pytest.approx(2 ** (1 / 3), abs=1e-14)
    assert steps <= 8
    root, _ = module.newton_root(lambda x: x * x - 612.0, 10.0)
    assert root == pytest.approx(math.sqrt(612.0), rel=1e-14)


def test_newton_minimizes_rosenbrock() -> None:
    out = load("newton").main()
    np.testing.assert_allclose(out["xmin"], [1.0, 1.0], atol=1e-10)
    assert out["fmin"] < 1e-20
    assert out["steps"] < 20


def test_spring_forces_match_finite_differences() -> None:
    module = load("spring_chain")
    out = module.main(n=4, seed=3)
    assert out["max_fd_error"] < 1e-6
    np.testing.assert_allclose(out["forces"].sum(axis=0), 0.0, atol=1e-12)  # Newton's third law
    K = out["stiffness"]
    np.testing.assert_allclose(K, K.T, atol=1e-10)
    # stiffness = -(d forces / dx), computed independently by forward mode
    x = out["positions"]
    np.testing.assert_allclose(-fg.jacfwd(module.forces)(x).reshape(K.shape), K, atol=1e-10)


def test_springs_at_rest_feel_no_force() -> None:
    module = load("spring_chain")
    x = np.stack([np.arange(4.0), np.zeros(4)], axis=1)  # rest length 1
    np.testing.assert_allclose(module.forces(x), 0.0, atol=1e-14)


def test_taylor_sin() -> None:
    module = load("taylor_sin")
    coefficients = module.derivatives_at(0.0, 9)
    np.testing.assert_allclose(coefficients, [0, 1, 0, -1, 0, 1, 0, -1, 0, 1], atol=1e-12)
    np.testing.assert_allclose(module.derivatives_at(0.5, 4, np.exp), np.exp(0.5) * np.ones(5), rtol=1e-12)
    out = module.main(max_order=13)
    errors = out["errors"]
    assert all(b < a for a, b in zip(errors, errors[1:]))
    assert errors[-1] < 1e-4


def test_tanh_derivatives() -> None:
    module = load("tanh_derivatives")
    out = module.main(order=7, n=21)
    assert len(out["curves"]) == 8
    assert out["max_error"] < 1e-8
    # the first derivative is sech^2, the second -2 tanh sech^2
    x, t = out["x"], np.tanh(out["x"])
    np.testing.assert_allclose(out["curves"][1], 1 - t**2, atol=1e-12)
    np.testing.assert_allclose(out["curves"][2], -2 * t * (1 - t**2), atol=1e-12)
    assert x.shape == out["curves"][7].shape


@pytest.mark.parametrize("name", NAMES)
def test_example_runs_as_a_script(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name="__main__")
    assert capsys.readouterr().out.strip()


def test_the_page_shows_each_examples_code() -> None:
    """examples.md includes each program's code (pymdownx.snippets sections), not import boilerplate."""
    page = (EXAMPLES.parent / "examples.md").read_text()
    assert "importlib" not in page
    included = re.findall(r'^--8<-- "docs/examples/(\w+)\.py:(\w+)"$', page, flags=re.M)
    assert sorted(name for name, _ in included) == sorted(NAMES)
    for name, section in included:
        source = (EXAMPLES / f"{name}.py").read_text()
        start, end = f"# --8<-- [start:{section}]", f"# --8<-- [end:{section}]"
        assert source.count(start) == 1 and source.count(end) == 1 and source.index(start) < source.index(end)
        assert "def " in source[source.index(start) : source.index(end)]
