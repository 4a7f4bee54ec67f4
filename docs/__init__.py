"""The documentation pages (a package only so that docs/conftest.py and tests/conftest.py keep distinct module names under pytest)."""
