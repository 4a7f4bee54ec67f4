"""Colourings of sparsity patterns, and decompression of compressed derivatives into CSR.

* **Column colouring** (forward mode): columns that share no row get one
  colour; one Jacobian-vector product per colour, seeded with the sum of that
  colour's unit vectors, gives every column of the colour at once.
* **Row colouring** (reverse mode): the same on the transpose; one
  vector-Jacobian product per colour.
* **Star colouring** (symmetric Hessians): a distance-1 colouring in which
  every path on four vertices uses at least three colours.  Symmetry lets an
  entry be read from either of its two products, so star colourings need
  fewer colours than column colourings (Gebremedhin, Manne & Pothen, "What
  color is your Jacobian?", SIAM Review 2005, greedy star colouring).

Column and row colourings start greedy in the natural order (optimal for
banded patterns), then recolour greedily with the vertices taken colour class
by colour class, the last class first (Culberson's iterated greedy: never more
colours, often fewer; a periodic 2-D stencil of two species drops from 12 to
10), until the count reaches the largest row's (no colouring has fewer) or
stops falling.  The star colouring is greedy in the natural order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

IntArray = np.ndarray[Any, np.dtype[np.int64]]


#: at most this many recolourings by classes (each one is one greedy pass)
_ROUNDS = 8


def _greedy(indptr: list[int], indices: list[int], n: int, order: Any = None) -> IntArray:
    """Greedy distance-1 colouring of a graph given by adjacency lists (CSR), vertices in ``order``."""
    colors = [-1] * n
    mark = [-1] * (n + 1)
    for v in range(n) if order is None else order:
        for w in indices[indptr[v] : indptr[v + 1]]:
            c = colors[w]
            if c >= 0:
                mark[c] = v
        c = 0
        while mark[c] == v:
            c += 1
        colors[v] = c
    return np.asarray(colors, dtype=np.int64)


def column_coloring(pattern: sp.spmatrix) -> IntArray:
    """A colour per column such that no two columns of one colour share a row.

    >>> import scipy.sparse as sp, numpy as np
    >>> column_coloring(sp.csr_matrix(np.eye(3) + np.eye(3, k=1)))
    array([0, 1, 0])
    """
    p = sp.csr_matrix(pattern, dtype=bool)
    n = p.shape[1]
    if n == 0:
        return np.zeros(0, np.int64)
    conflict = (p.T @ p).tocsr()  # columns sharing a row
    return _iterated_greedy(conflict.indptr.tolist(), conflict.indices.tolist(), n, int(np.diff(p.indptr).max()))


def _iterated_greedy(indptr: list[int], indices: list[int], n: int, least: int) -> IntArray:
    """Greedy colouring, then greedy again class by class (last class first) while that saves colours.

    Taking each class's vertices together, the classes in any order, greedy
    gives every vertex a colour no higher than its class's rank, so the count
    never grows (Culberson 1992, "Iterated greedy graph coloring").  ``least``
    is a lower bound (a clique's size): reaching it ends the search.
    """
    colors = _greedy(indptr, indices, n)
    stale = 0
    for _ in range(_ROUNDS):
        if count(colors) <= least or stale == 2:
            break
        order = np.argsort(-colors, kind="stable").tolist()  # classes last first, each in natural order
        again = _greedy(indptr, indices, n, order)
        stale = stale + 1 if count(again) == count(colors) else 0
        colors = again
    return colors


def row_coloring(pattern: sp.spmatrix) -> IntArray:
    """A colour per row such that no two rows of one colour share a column.

    >>> import scipy.sparse as sp, numpy as np
    >>> row_coloring(sp.csr_matrix(np.ones((1, 3))))
    array([0])
    """
    return column_coloring(sp.csr_matrix(pattern, dtype=bool).T)


def star_coloring(pattern: sp.spmatrix) -> IntArray:
    """A star colouring of the symmetric pattern's adjacency graph (its diagonal ignored).

    >>> import scipy.sparse as sp, numpy as np
    >>> arrow = np.eye(4); arrow[0, :] = arrow[:, 0] = 1
    >>> star_coloring(sp.csr_matrix(arrow))  # a star: the centre, then one colour for every leaf
    array([0, 1, 1, 1])
    """
    p = sp.csr_matrix(pattern, dtype=bool)
    n = p.shape[0]
    p = (p + p.T).tocsr()
    p.setdiag(False)
    p.eliminate_zeros()
    indptr, indices = p.indptr.tolist(), p.indices.tolist()
    adj = [indices[indptr[v] : indptr[v + 1]] for v in range(n)]
    colors = [-1] * n
    forbidden = [-1] * (n + 1)
    for v in range(n):
        for w in adj[v]:
            cw = colors[w]
            if cw >= 0:
                forbidden[cw] = v
            for x in adj[w]:
                if x == v or colors[x] < 0:
                    continue
                if cw < 0:
                    forbidden[colors[x]] = v  # v-w-x with w still uncoloured: keep v apart from x
                else:
                    for y in adj[x]:
                        if y != w and colors[y] == cw:
                            forbidden[colors[x]] = v  # v-w-x-y would use two colours
                            break
        c = 0
        while forbidden[c] == v:
            c += 1
        colors[v] = c
    return np.asarray(colors, dtype=np.int64)


def seeds(colors: IntArray, count: int, dtype: Any = np.float64) -> np.ndarray[Any, Any]:
    """One seed per colour (rows): the sum of the unit vectors of that colour's members."""
    out = np.zeros((count, len(colors)), dtype)
    out[colors, np.arange(len(colors))] = 1
    return out


def count(colors: IntArray) -> int:
    return int(colors.max()) + 1 if len(colors) else 0


def forward_positions(pattern: sp.csr_matrix, colors: IntArray) -> IntArray:
    """Where each nonzero ``(i, j)`` sits in the flat compressed product ``B`` (colours x rows): ``B[c_j, i]``."""
    rows = np.repeat(np.arange(pattern.shape[0], dtype=np.int64), np.diff(pattern.indptr))
    out: IntArray = colors[pattern.indices] * pattern.shape[0] + rows
    return out


def reverse_positions(pattern: sp.csr_matrix, colors: IntArray) -> IntArray:
    """Where each nonzero ``(i, j)`` sits in the flat compressed product ``C`` (colours x columns): ``C[c_i, j]``."""
    rows = np.repeat(np.arange(pattern.shape[0], dtype=np.int64), np.diff(pattern.indptr))
    out: IntArray = colors[rows] * pattern.shape[1] + pattern.indices
    return out


def symmetric_positions(pattern: sp.csr_matrix, colors: IntArray) -> IntArray:
    """Where each nonzero ``(i, j)`` of a symmetric matrix sits in ``B = (H V).T`` (colours x rows).

    ``H[i, j]`` is ``B[c_j, i]`` when ``j`` is the only column of its colour
    in row ``i``, else ``B[c_i, j]`` (a star colouring guarantees one of the two).
    """
    n = pattern.shape[0]
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(pattern.indptr))
    cols = pattern.indices.astype(np.int64)
    k = count(colors)
    key = rows * k + colors[cols]
    alone = np.bincount(key, minlength=n * k)[key] == 1
    out: IntArray = np.where(alone, colors[cols] * n + rows, colors[rows] * n + cols)
    return out


def is_star_coloring(pattern: sp.spmatrix, colors: IntArray) -> bool:
    """Whether ``colors`` is a star colouring: adjacent vertices differ, and no path on 4 vertices uses 2 colours.

    >>> import scipy.sparse as sp, numpy as np
    >>> path = sp.csr_matrix(np.eye(4, k=1) + np.eye(4, k=-1))
    >>> is_star_coloring(path, np.array([0, 1, 0, 1])), is_star_coloring(path, np.array([0, 1, 0, 2]))
    (False, True)
    """
    p = sp.csr_matrix(pattern, dtype=bool)
    p = (p + p.T).tocsr()
    p.setdiag(False)
    p.eliminate_zeros()
    adj = [set(p.indices[p.indptr[v] : p.indptr[v + 1]].tolist()) for v in range(p.shape[0])]
    for v, near in enumerate(adj):
        for w in near:
            if colors[v] == colors[w]:
                return False
            for x in adj[w] - {v}:
                if colors[x] != colors[v]:
                    continue
                for y in adj[x] - {w, v}:
                    if colors[y] == colors[w]:
                        return False
    return True
