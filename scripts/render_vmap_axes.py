"""Draw docs/images/vmap_axes.svg: which slices ``in_axes`` hands each example, and where ``out_axes`` stacks them.

Hand-written SVG (no plotting library needed): ``python scripts/render_vmap_axes.py``.
"""

from __future__ import annotations

from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "docs" / "images" / "vmap_axes.svg"
CELL = 22
COLOURS = ["#4c72b0", "#dd8452", "#55a868"]  # one colour per example of a batch of 3
SHARED = "#b0b0b0"


def grid(x: float, y: float, rows: int, cols: int, colour_of: object, label: str) -> list[str]:
    """A ``rows`` x ``cols`` array drawn cell by cell, ``colour_of(r, c)`` filling each, ``label`` under it."""
    parts = []
    for r in range(rows):
        for c in range(cols):
            fill = colour_of(r, c)  # type: ignore[operator]
            parts.append(
                f'<rect x="{x + c * CELL}" y="{y + r * CELL}" width="{CELL}" height="{CELL}" '
                f'fill="{fill}" stroke="white" stroke-width="2"/>'
            )
    parts.append(
        f'<text x="{x + cols * CELL / 2}" y="{y + rows * CELL + 18}" text-anchor="middle" '
        f'font-family="monospace" font-size="13">{label}</text>'
    )
    return parts


def text(x: float, y: float, words: str, size: int = 14, anchor: str = "start", weight: str = "normal") -> str:
    return (
        f'<text x="{x}" y="{y}" text-anchor="{anchor}" font-family="sans-serif" font-size="{size}" '
        f'font-weight="{weight}">{words}</text>'
    )


def arrow(x1: float, y: float, x2: float) -> str:
    return f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" stroke="black" stroke-width="1.5" marker-end="url(#head)"/>'


def panel(
    y: float, title: str, inputs: list[tuple[int, int, object, str]], output: tuple[int, int, object, str]
) -> list[str]:
    parts = [text(20, y, title, 15, weight="bold")]
    x = 70.0
    top = y + 16
    for rows, cols, colour_of, label in inputs:
        parts += grid(x, top, rows, cols, colour_of, label)
        x += cols * CELL + 100
    parts.append(arrow(x - 10, top + 1.5 * CELL, x + 50))
    parts.append(text(x + 20, top + 1.5 * CELL - 8, "f", 14, "middle"))
    rows, cols, colour_of, label = output
    parts += grid(x + 70, top, rows, cols, colour_of, label)
    return parts


def main() -> None:
    by_row = lambda r, c: COLOURS[r]  # noqa: E731
    by_col = lambda r, c: COLOURS[c]  # noqa: E731
    shared = lambda r, c: SHARED  # noqa: E731
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="470" viewBox="0 0 640 470">',
        '<defs><marker id="head" markerWidth="8" markerHeight="8" refX="7" refY="4" orient="auto">'
        '<path d="M0,0 L8,4 L0,8 z"/></marker></defs>',
        '<rect width="640" height="470" fill="white"/>',
    ]
    parts += panel(
        24,
        "vmap(f, in_axes=(0, None))(x, w): the rows of x, all of w to each",
        [(3, 4, by_row, "x: (3, 4), axis 0"), (4, 2, shared, "w: (4, 2), None")],
        (3, 2, by_row, "out: (3, 2)"),
    )
    parts += panel(
        170,
        "vmap(f, in_axes=1)(x): the columns of x are the examples",
        [(4, 3, by_col, "x: (4, 3), axis 1")],
        (3, 2, by_row, "out: (3, 2), out_axes=0"),
    )
    parts += panel(
        316,
        "vmap(f, in_axes=1, out_axes=-1)(x): each result a column",
        [(4, 3, by_col, "x: (4, 3), axis 1")],
        (2, 3, by_col, "out: (2, 3), out_axes=-1"),
    )
    parts.append(text(630, 460, "one colour per example (a batch of 3); grey: not mapped", 12, "end"))
    parts.append("</svg>")
    OUT.write_text("\n".join(parts) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
