"""Circular references: the graph of which formula cell reads which cell (names resolved), and its cycles."""

from __future__ import annotations

from collections.abc import Iterator

from ..formulas import cells_of, scan
from ..layout import at
from .context import Auditor
from .rules import CIRCULAR_REFERENCE

Node = tuple[str, str]  # (sheet, cell address)


def circular(a: Auditor) -> None:
    """One finding per cycle, at its first cell, with the path (up to six cells)."""
    for cycle in cycles(reference_graph(a)):
        sheet, cell = cycle[0]
        path = " -> ".join(f"{s}!{c}" for s, c in cycle[:6]) + (" ..." if len(cycle) > 6 else "")
        a.add(CIRCULAR_REFERENCE, sheet, cell, f"Circular reference: {path}.")


def reference_graph(a: Auditor) -> dict[Node, list[Node]]:
    """Formula cell -> the cells it reads, directly or through a defined name (ranges up to 10,000 cells)."""
    name_cells: dict[str, list[Node]] = {}
    for name, dn in a.wb.defined_names.items():
        cells = []
        for t in scan(dn.attr_text or ""):
            if t.kind == "ref" and t.sheet and not t.book:
                cells += [(t.sheet, at(c, r)) for c, r in cells_of(t, 10_000)]
        name_cells[name.upper()] = cells
    graph: dict[Node, list[Node]] = {}
    for ws, c, _, tokens in a.formula_cells():
        deps = []
        for t in tokens:
            if t.kind == "ref" and not t.book:
                sheet = t.sheet or ws.title
                deps += [(sheet, at(col, row)) for col, row in cells_of(t, 10_000)]
            elif t.kind == "name":
                deps += name_cells.get(t.upper, [])
        graph[(ws.title, c.coordinate)] = deps
    return graph


def cycles(graph: dict[Node, list[Node]]) -> list[list[Node]]:
    """Strongly connected components with a cycle (Tarjan's algorithm, iterative: no recursion limit)."""
    index: dict[Node, int] = {}
    low: dict[Node, int] = {}
    on_stack: set[Node] = set()
    stack: list[Node] = []
    out: list[list[Node]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work: list[tuple[Node, Iterator[Node]]] = [(root, iter(graph.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in graph:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(graph.get(nxt, ()))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == node:
                        break
                if len(component) > 1 or node in graph.get(node, ()):
                    out.append(list(reversed(component)))
    return out
