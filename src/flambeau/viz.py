"""Pictures of the recorded graph: as text in a terminal, as Graphviz DOT, as SVG/PNG, in Jupyter.

>>> import flambeau as torch
>>> x = torch.tensor([1., 2., 3.], requires_grad=True)
>>> y = x + 2
>>> z = (y * y * 3).mean()
>>> print(torch.viz.graph(z))
z  [] float32
└─ MeanBackward0 (z)  [] float32
   └─ MulBackward0  [3] float32
      └─ a: MulBackward0  [3] float32
         ├─ a: AddBackward0 (y)  [3] float32  #1
         │  └─ a: AccumulateGrad (x)  [3] float32  leaf
         └─ b: AddBackward0 (y)  ↑ #1

Nodes carry PyTorch's names; leaves are named from ``params`` (or the variables around the call).
``show_saved`` adds what each node saved for backward; ``show_grads`` adds, after a backward run
inside :func:`flambeau.autograd.explain`, the gradient that flowed along each edge. ``g.dot()`` is
the DOT text (no dependency); ``g.svg()``/``g.png()`` need the ``graphviz`` package and ``dot``.
"""

from __future__ import annotations

import shutil
import sys

from ._messages import msg
from ._tensor import Tensor
from .autograd.explain import fmt, input_names, name_map, recorded_grads, saved_items
from .autograd.function import AccumulateGrad

__all__ = ["graph", "Graph", "GraphNode"]


class GraphNode:
    """One box of the picture: a graph node (``kind`` ``'op'`` or ``'leaf'``) or the output tensor (``'tensor'``)."""

    __slots__ = ("index", "kind", "name", "label", "shape", "dtype", "saved", "node")

    def __init__(self, index: int, kind: str, name: str, label: str, shape: tuple, dtype: str, saved: list, node) -> None:
        self.index, self.kind, self.name, self.label = index, kind, name, label
        self.shape, self.dtype, self.saved, self.node = shape, dtype, saved, node

    def title(self) -> str:
        """``'AddBackward0 (y)'``: the node's name and the user's name for it."""
        if self.kind == "tensor":
            return self.label or "output"
        return f"{self.name} ({self.label})" if self.label else self.name

    def meta(self) -> str:
        return f"{list(self.shape)} {self.dtype}"


class Graph:
    """The recorded computation behind a tensor: ``nodes`` and ``edges`` ``(source, target, input name, grad)``.

    ``str(g)`` draws it as a tree, ``g.dot()`` gives DOT text, ``g.svg()``/``g.png()`` render it with Graphviz.
    """

    def __init__(self, nodes: list, edges: list, show_saved: bool, show_grads: bool) -> None:
        self.nodes = nodes
        self.edges = edges
        self.show_saved = show_saved
        self.show_grads = show_grads

    # ---- text -------------------------------------------------------------------------------------------------
    def __str__(self) -> str:
        children: dict = {}
        parents: dict = {}
        for e in self.edges:
            children.setdefault(e[1], []).append(e)
            parents[e[0]] = parents.get(e[0], 0) + 1
        tag = {i: f"#{k + 1}" for k, i in enumerate(sorted(i for i, n in parents.items() if n > 1))}  # nodes reached twice
        root = self.nodes[0]
        lines = [self._line(root, tag)]
        drawn = {root.index}
        stack: list = []
        _push(stack, children.get(root.index, []), "")
        while stack:
            (src, _, name, grad), prefix, last = stack.pop()
            node = self.nodes[src]
            head = prefix + ("└─ " if last else "├─ ") + (f"{name}: " if name else "")
            more = f"  grad {fmt(grad)}" if self.show_grads and grad is not None else ""
            if src in drawn:
                lines.append(f"{head}{node.title()}  ↑ {tag[src]}{more}")
                continue
            drawn.add(src)
            lines.append(head + self._line(node, tag) + more)
            sub = prefix + ("   " if last else "│  ")
            kids = children.get(src, [])
            if self.show_saved and node.saved:
                lines.append(sub + ("│  " if kids else "   ") + self._saved_text(node))
            _push(stack, kids, sub)
        return "\n".join(lines)

    def _line(self, node: GraphNode, tag: dict) -> str:
        leaf = f"  {msg('viz.leaf')}" if node.kind == "leaf" else ""
        mark = f"  {tag[node.index]}" if node.index in tag else ""
        return f"{node.title()}  {node.meta()}{leaf}{mark}"

    def _saved_text(self, node: GraphNode) -> str:
        parts = [f"{k} = {msg('viz.freed') if isinstance(v, str) else fmt(v)}" for k, v in node.saved]
        return f"{msg('viz.saved')}: " + ", ".join(parts)

    __repr__ = __str__

    # ---- DOT ---------------------------------------------------------------------------------------------------
    def dot(self) -> str:
        """The graph as Graphviz DOT text: one line per node, one per edge (data flows from the leaves down)."""
        out = ["digraph flambeau {", '  node [shape=box, style="rounded,filled", fillcolor="#eeeeee", fontname="Helvetica", fontsize=11];',
               '  edge [fontname="Helvetica", fontsize=9];']
        for n in self.nodes:
            rows = [n.title(), n.meta()]
            if n.kind == "leaf":
                rows = [n.label or "leaf", n.name, n.meta()]
            if self.show_saved and n.saved:
                rows.append(self._saved_text(n))
            style = {"tensor": ', shape=ellipse, fillcolor="#c8e6c9"', "leaf": ', fillcolor="#bbdefb"'}.get(n.kind, "")
            out.append(f'  n{n.index} [label="{_esc(chr(10).join(rows))}"{style}];')
        for src, dst, name, grad in self.edges:
            label = name or ""
            if self.show_grads and grad is not None:
                label = f"{label}\n{msg('viz.grad')} {fmt(grad)}".strip()
            out.append(f'  n{src} -> n{dst}' + (f' [label="{_esc(label)}"]' if label else "") + ";")
        out.append("}")
        return "\n".join(out) + "\n"

    @property
    def source(self) -> str:
        """The DOT text (as ``graphviz.Digraph.source``)."""
        return self.dot()

    # ---- rendering with Graphviz -------------------------------------------------------------------------------
    def pipe(self, format: str = "svg") -> bytes:
        """Render with Graphviz (``'svg'``, ``'png'``, ``'pdf'`` ...): needs the ``graphviz`` package and the ``dot`` program."""
        try:
            import graphviz
        except ImportError:
            raise ImportError(msg("viz.no_graphviz")) from None
        if shutil.which("dot") is None:
            raise RuntimeError(msg("viz.no_graphviz"))
        try:
            return graphviz.Source(self.dot()).pipe(format=format)
        except graphviz.ExecutableNotFound:
            raise RuntimeError(msg("viz.no_graphviz")) from None

    def svg(self) -> str:
        """The picture as SVG text."""
        return self.pipe("svg").decode("utf-8")

    def png(self) -> bytes:
        """The picture as PNG bytes."""
        return self.pipe("png")

    def _repr_svg_(self) -> str | None:
        try:
            return self.svg()
        except (ImportError, RuntimeError):
            return None

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = {"text/plain": str(self)}
        svg = self._repr_svg_()
        if svg is not None:
            bundle["image/svg+xml"] = svg
        return bundle


def _push(stack: list, edges: list, prefix: str) -> None:
    """Queue a node's input edges so that they pop in input order, the last one drawn with └─."""
    stack.extend((e, prefix, k == len(edges) - 1) for k, e in reversed(list(enumerate(edges))))


def _esc(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def graph(tensor: Tensor, params=None, show_saved: bool = False, show_grads: bool = False) -> Graph:
    """The recorded computation that produced ``tensor``, ready to print, export as DOT, or render.

    ``params`` names leaves: a dict name→tensor or ``model.named_parameters()``; by default the
    variables of the calling code name them.

    >>> import flambeau as torch
    >>> w = torch.tensor([1., 2.], requires_grad=True)
    >>> g = torch.viz.graph((w * 2).sum())
    >>> [n.name for n in g.nodes]
    ['tensor', 'SumBackward0', 'MulBackward0', 'AccumulateGrad']
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"graph(): expected a Tensor, got {type(tensor).__name__}")
    names = name_map(sys._getframe(1), params)
    nodes = [GraphNode(0, "tensor", "tensor", names.get(id(tensor), ""), tuple(tensor._data.shape), str(tensor._data.dtype), [], None)]
    edges = []
    root = tensor._grad_fn
    if root is None:
        return Graph(nodes, edges, show_saved, show_grads)
    index = {root: 1}
    nodes.append(_graph_node(1, root, names, show_saved))
    edges.append((1, 0, "", None))
    stack = [root]
    while stack:
        node = stack.pop()
        grads = recorded_grads(node) if show_grads else None
        inames = input_names(node)
        for i, (nxt, _) in enumerate(node.next_functions):
            if nxt is None:
                continue
            if nxt not in index:
                index[nxt] = len(nodes)
                nodes.append(_graph_node(len(nodes), nxt, names, show_saved))
                stack.append(nxt)
            grad = grads[i] if grads is not None and i < len(grads) else None
            edges.append((index[nxt], index[node], inames[i] if len(inames) > 1 else "", grad))
    return Graph(nodes, edges, show_saved, show_grads)


def _graph_node(i: int, node, names: dict, show_saved: bool) -> GraphNode:
    if type(node) is AccumulateGrad:
        v = node.variable  # None once the leaf is gone
        shape, dtype = node._meta[:2]
        return GraphNode(i, "leaf", node.name(), names.get(id(v), "") if v is not None else "", tuple(shape), str(dtype), [], node)
    shape, dtype = node._meta[:2] if node._meta else ((), "?")
    saved = saved_items(node) if show_saved else []
    return GraphNode(i, "op", node.name(), names.get(("node", id(node)), ""), tuple(shape), str(dtype), saved, node)
