"""Doctest collection for the documentation pages."""

import importlib.util

# dask.md's examples need the dask extra (pip install funcgrad[dask]); without it the page is not collected
collect_ignore = [] if importlib.util.find_spec("dask") and importlib.util.find_spec("distributed") else ["dask.md"]
