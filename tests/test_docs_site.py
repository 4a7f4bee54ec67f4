"""The documentation site is complete: every page in the nav, every public name and error documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import funcgrad
from funcgrad import _errors

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def nav_pages() -> list[str]:
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    return re.findall(r":\s*([\w/.-]+\.md)\s*$", text, flags=re.MULTILINE)


def test_every_page_is_in_the_nav_and_exists() -> None:
    pages = nav_pages()
    assert "index.md" in pages and "tutorial.md" in pages
    for page in pages:
        assert (DOCS / page).is_file(), f"mkdocs.yml lists {page}, which does not exist"
    on_disk = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    missing = [p for p in on_disk if p not in pages]
    assert not missing, f"pages not in the mkdocs.yml nav: {missing}"


def test_every_public_name_is_in_the_api_reference() -> None:
    api = (DOCS / "api.md").read_text(encoding="utf-8")
    for name in funcgrad.__all__:
        if name in ("float0", "jacobian", "remat"):
            assert f"`fg.{name}`" in api or f"funcgrad.{name}" in api, name
        else:
            assert f"funcgrad.{name}" in api, f"docs/api.md does not document funcgrad.{name}"


def test_public_transforms_have_annotated_signatures_and_doctests() -> None:
    import inspect

    for name in funcgrad.__all__:
        obj = getattr(funcgrad, name)
        if not callable(obj) or isinstance(obj, type(funcgrad)):
            continue
        doc = inspect.getdoc(obj) or ""
        assert ">>>" in doc, f"funcgrad.{name} has no doctested example"
        if inspect.isfunction(obj):
            hints = inspect.signature(obj)
            assert hints.return_annotation is not inspect.Signature.empty, f"funcgrad.{name} lacks a return annotation"


@pytest.mark.parametrize(
    "factory", sorted(n for n, f in vars(_errors).items() if callable(f) and not n.startswith("_") and n != "describe")
)
def test_every_error_factory_is_in_the_catalogue(factory: str) -> None:
    if getattr(getattr(_errors, factory), "__module__", None) != _errors.__name__:
        pytest.skip(f"{factory} is imported into _errors, not defined there")
    assert f"`{factory}`" in (DOCS / "errors.md").read_text(encoding="utf-8"), (
        f"docs/errors.md does not mention the error {factory} from funcgrad/_errors.py"
    )


def test_the_readme_links_resolve() -> None:
    readme = ROOT / "README.md"
    if not readme.exists():
        pytest.skip("no README")
    for target in re.findall(r"\]\((docs/[^)#]+)", readme.read_text(encoding="utf-8")):
        assert (ROOT / target).exists(), f"README links to {target}, which does not exist"


def test_every_image_a_page_shows_exists() -> None:
    shown = []
    for page in DOCS.rglob("*.md"):
        for target in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page.read_text(encoding="utf-8")):
            shown.append(target)
            assert (page.parent / target).is_file(), f"{page.relative_to(ROOT)} shows {target}, which does not exist"
    for name in ("tanh_derivatives.png", "loss_curve.png", "taylor_sin.png"):
        assert f"images/{name}" in shown


def test_the_mkdocs_hook_fences_bare_doctests_only() -> None:
    pytest.importorskip("mkdocs")
    import importlib.util

    spec = importlib.util.spec_from_file_location("funcgrad_mkdocs_hooks", ROOT / "scripts" / "mkdocs_hooks.py")
    assert spec is not None and spec.loader is not None
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)
    bare = ["Text.", "", ">>> f(1)", "[1, 2]", "", "More text."]
    assert hooks.fence_doctests(bare) == ["Text.", "", "```pycon", ">>> f(1)", "[1, 2]", "```", "", "More text."]
    fenced = ["```python", ">>> f(1)", "2", "", "```"]
    assert hooks.fence_doctests(fenced) == fenced
    assert hooks.fence_doctests(["    >>> g()"]) == ["    ```pycon", "    >>> g()", "    ```"]


def test_fg_testing_check_grads_is_reachable_as_the_spec_spells_it() -> None:
    import subprocess
    import sys

    code = "import funcgrad as fg, numpy as np; fg.testing.check_grads(np.sin, (np.ones(2),), order=1); print('ok')"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.stdout.strip() == "ok", done.stderr
