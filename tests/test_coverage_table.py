"""docs/coverage.md is generated from the rule registry and must be current."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad._rules import REGISTRY

ROOT = Path(__file__).resolve().parent.parent


def load_generator() -> ModuleType:
    key = "funcgrad_scripts_gen_coverage"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, ROOT / "scripts" / "gen_coverage.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]


def fresh_interpreter(code: str) -> str:
    """Run code in a new Python process on this checkout.

    The registry of the test process may hold primitives that doctests and
    other tests created (``funcgrad.extend`` examples), so the page is
    rendered where only funcgrad's own modules have been imported.
    """
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def fresh() -> dict[str, object]:
    code = (
        "import json, runpy\n"
        "gen = runpy.run_path('scripts/gen_coverage.py', run_name='gen_coverage')\n"
        "from funcgrad._rules import REGISTRY\n"
        "from funcgrad._prims import _dispatch\n"
        "print(json.dumps({'page': gen['render'](), 'primitives': sorted(REGISTRY),"
        " 'ufuncs': sorted(u.__name__ for u, h in _dispatch.UFUNCS.items() if not gen['_is_scipy'](getattr(h, 'name', ''))),"
        " 'functions': len(_dispatch.FUNCTIONS)}))\n"
    )
    return json.loads(fresh_interpreter(code))  # type: ignore[no-any-return]


def test_coverage_page_is_current(fresh: dict[str, Any]) -> None:
    if importlib.util.find_spec("scipy") is None:
        pytest.skip("the committed page lists funcgrad.scipy, which needs the scipy extra")
    committed = (ROOT / "docs" / "coverage.md").read_text(encoding="utf-8")
    assert committed == fresh["page"], "docs/coverage.md is stale: run python scripts/gen_coverage.py and commit it"


def test_every_primitive_and_dispatch_entry_is_listed(fresh: dict[str, Any]) -> None:
    page = fresh["page"]
    assert len(fresh["primitives"]) > 30
    for name in fresh["primitives"]:
        assert f"| `{name}` |" in page
    for name in fresh["ufuncs"]:
        assert f"| `np.{name}` |" in page
    assert f"## NumPy functions on traced values ({fresh['functions']})" in page


def test_rule_columns_are_read_from_the_registry() -> None:
    gen = load_generator()
    assert gen._rule_summary(None, None) == "✗ none"
    assert gen._rule_summary((None, None), True) == "0 (zero)"
    assert gen._rule_summary((None, len), False) == "✓ args 1"
    assert gen._rule_summary((len, len), True) == "✓, batched"
    sin = REGISTRY["sin"]
    row = next(line for line in gen.render().splitlines() if line.startswith("| `sin` |"))
    assert ("batched" in row) == sin.batch_jvp
    assert "✓" in row.split("|")[3]  # reverse column


def test_complex_column_is_measured() -> None:
    gen = load_generator()
    assert gen._probe_complex(np.sin, REGISTRY["sin"]) == "✓ checked"
    assert gen._probe_complex(np.floor, REGISTRY["floor"]) == "real only (NumPy)"

    # a primitive whose rule is wrong for complex inputs (a conjugated derivative) is caught
    from funcgrad._rules import defjvp, defvjp, primitive

    bad = primitive(np.exp, "bad_exp_for_test")
    try:
        defvjp(bad, lambda g, ans, x: g * fnp.conj(ans))
        defjvp(bad, lambda t, ans, x: t * fnp.conj(ans), batched=True)

        class FakeUfunc:
            types = ["D->D"]
            nin = 1

            def __call__(self, x: object) -> object:
                return bad(x)

        assert gen._probe_complex(FakeUfunc(), bad).startswith("✗")  # type: ignore[arg-type]
    finally:
        del REGISTRY["bad_exp_for_test"]


def test_nondifferentiable_ufuncs_are_marked() -> None:
    gen = load_generator()
    spaces = gen._public_namespaces()
    assert gen._ufunc_handler(REGISTRY["sin"], spaces) == "primitive `sin`"
    assert "no derivative" in gen._ufunc_handler(len, spaces)


def test_check_mode_detects_a_stale_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gen = load_generator()
    stale = tmp_path / "coverage.md"
    stale.write_text("# Coverage\n\nold\n")
    monkeypatch.setattr(gen, "OUTPUT", stale)
    monkeypatch.setattr(gen, "ROOT", tmp_path)
    assert gen.main(["--check"]) == 1
    assert gen.main([]) == 0
    assert gen.main(["--check"]) == 0


def test_documented_conventions_hold() -> None:
    """The notes column states conventions (ties, kinks, zeros); keep them true."""
    x = np.array([1.0, 3.0, 3.0])
    np.testing.assert_allclose(fg.grad(fnp.max)(x), [0.0, 0.5, 0.5])
    np.testing.assert_allclose(fg.grad(fnp.min)(-x), [0.0, 0.5, 0.5])
    np.testing.assert_allclose(fg.grad(fnp.maximum, (0, 1))(2.0, 2.0), (0.5, 0.5))
    np.testing.assert_allclose(fg.grad(fnp.minimum, (0, 1))(2.0, 2.0), (0.5, 0.5))
    assert fg.grad(fnp.abs)(0.0) == 0.0
    np.testing.assert_allclose(fg.grad(fnp.linalg.norm)(np.zeros(3)), 0.0)
    np.testing.assert_allclose(fg.grad(fnp.prod)(np.array([0.0, 2.0, 3.0])), [6.0, 0.0, 0.0])  # exact with zeros
    np.testing.assert_allclose(fg.grad(fnp.prod)(np.array([0.0, 0.0, 3.0])), 0.0)
    np.testing.assert_allclose(fg.grad(lambda x: fnp.sum(x.astype(int) * 1.0))(np.array([1.5, 2.5])), 0.0)
    for name in ("floor", "ceil", "sign"):
        assert fg.grad(getattr(fnp, name))(0.3) == 0.0
