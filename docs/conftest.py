"""Doctest collection for the documentation pages."""

import importlib.util
import sys
from pathlib import Path

# dask.md's examples need the dask extra (pip install funcgrad[dask]); without it the page is not collected
collect_ignore = [] if importlib.util.find_spec("dask") and importlib.util.find_spec("distributed") else ["dask.md"]

# examples.md imports the example programs as modules, as from inside docs/examples
sys.path.insert(0, str(Path(__file__).parent / "examples"))

# array-api.md mixes traced values with array-api-compat's lookup (pip install funcgrad[array-api])
if not importlib.util.find_spec("array_api_compat"):
    collect_ignore.append("array-api.md")
