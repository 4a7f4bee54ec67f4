"""Run the data-apis array-api-tests conformance suite against funcgrad.array_api and against NumPy.

The suite is not on PyPI: check it out (with its ``array-api`` submodule, the
standard's signatures) and install its requirements (``hypothesis``,
``ndindex``, ``pytest-json-report``), then, from the repository root::

    python scripts/array_api_tests.py /path/to/array-api-tests --max-examples 20

Each namespace runs in its own pytest process in the checkout
(``ARRAY_API_TESTS_MODULE``; ``ARRAY_API_TESTS_VERSION=2024.12``); the script
prints one line per namespace with the pass/fail/skip counts and the suite's
commit, and, with ``--failures FILE``, writes funcgrad's failing test ids.
docs/array-api.md holds the table it produced.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAMESPACES = {"funcgrad.array_api": "funcgrad.array_api", "numpy": "numpy"}


def run(checkout: Path, module: str, max_examples: int, extra: list[str]) -> dict[str, object]:
    """One pytest run of the suite against ``module``; the outcome counts and failing test ids."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        env = dict(os.environ, ARRAY_API_TESTS_MODULE=module, ARRAY_API_TESTS_VERSION="2024.12")
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
        command = [sys.executable, "-m", "pytest", "array_api_tests", "-q", "-p", "no:cacheprovider"]
        command += [f"--max-examples={max_examples}", "--json-report", f"--json-report-file={report}", *extra]
        subprocess.run(command, cwd=checkout, env=env, stdout=subprocess.DEVNULL, check=False)
        tests = json.loads(report.read_text())["tests"]
    counts: dict[str, int] = {}
    for test in tests:
        counts[test["outcome"]] = counts.get(test["outcome"], 0) + 1
    failing = sorted(test["nodeid"] for test in tests if test["outcome"] in ("failed", "error"))
    return {"counts": counts, "failing": failing}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="a checkout of github.com/data-apis/array-api-tests")
    parser.add_argument("--max-examples", type=int, default=20, help="Hypothesis examples per test")
    parser.add_argument("--only", choices=sorted(NAMESPACES), help="run one namespace")
    parser.add_argument("--failures", type=Path, help="write funcgrad's failing test ids here")
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    args = parser.parse_args()
    commit = subprocess.run(
        ["git", "-C", str(args.checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    for name, module in NAMESPACES.items():
        if args.only and name != args.only:
            continue
        result = run(args.checkout, module, args.max_examples, args.pytest_args)
        counts = result["counts"]
        assert isinstance(counts, dict)
        print(f"{name}: {json.dumps(counts, sort_keys=True)} (array-api-tests {commit}, 2024.12)", flush=True)
        if args.failures and name == "funcgrad.array_api":
            args.failures.write_text("\n".join(result["failing"]) + "\n")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
