"""MkDocs hook (see ``hooks:`` in mkdocs.yml): show docstring doctests as code.

Docstrings hold bare ``>>>`` examples (run by ``--doctest-modules``).  In
Markdown a line starting with ``>`` is a block quote, so mkdocstrings would
render them as nested quotes.  This adds a tiny Markdown preprocessor that
wraps every run of unfenced ``>>>`` lines (and their output, up to the next
blank line) in a ```` ```pycon ```` fence.  Pages that already fence their
examples are left alone.
"""

from __future__ import annotations

from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor
from mkdocs.plugins import event_priority


def fence_doctests(lines: list[str]) -> list[str]:
    """Wrap unfenced doctest blocks in ```pycon fences."""
    out: list[str] = []
    in_fence = False
    in_doctest = False
    indent = ""
    for line in lines:
        stripped = line.strip()
        if in_doctest and not stripped:
            out.append(indent + "```")
            in_doctest = False
        elif not in_doctest and not in_fence and stripped.startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            out.append(indent + "```pycon")
            in_doctest = True
        elif not in_doctest and stripped.startswith(("```", "~~~")):
            in_fence = not in_fence
        out.append(line)
    if in_doctest:
        out.append(indent + "```")
    return out


class _DoctestFence(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        return fence_doctests(lines)


class DoctestFenceExtension(Extension):
    """Register the preprocessor before fenced-code handling."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Markdown's API name)
        md.preprocessors.register(_DoctestFence(md), "funcgrad_doctest_fence", 40)


@event_priority(100)  # before mkdocstrings copies the extension list for its handlers
def on_config(config: Any) -> Any:
    config.markdown_extensions.append(DoctestFenceExtension())
    return config
