"""The graph view: text tree, DOT parsed back, SVG through Graphviz, Jupyter display."""

import re
import shutil
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import flambeau as fl
from flambeau import viz

COURSE_TREE = """\
z  [] float32
└─ MeanBackward0 (z)  [] float32
   │  saved: shape = (3,)
   └─ MulBackward0  [3] float32
      │  saved: b = 3
      └─ a: MulBackward0  [3] float32
         │  saved: a = [3, 4, 5], b = [3, 4, 5]
         ├─ a: AddBackward0 (y)  [3] float32  #1
         │  └─ a: AccumulateGrad (x)  [3] float32  leaf
         └─ b: AddBackward0 (y)  ↑ #1"""

COURSE_GRADS = """\
z  [] float32
└─ MeanBackward0 (z)  [] float32
   └─ MulBackward0  [3] float32  grad [0.3333, 0.3333, 0.3333]
      └─ a: MulBackward0  [3] float32  grad [1, 1, 1]
         ├─ a: AddBackward0 (y)  [3] float32  #1  grad [3, 4, 5]
         │  └─ a: AccumulateGrad (x)  [3] float32  leaf  grad [6, 8, 10]
         └─ b: AddBackward0 (y)  ↑ #1  grad [3, 4, 5]"""

MLP_TREE = """\
out  [2, 1] float64
└─ MmBackward0 (out)  [2, 1] float64
   │  saved: a = [[0, 0, 2.2], [2.6, 0, 0]], b = [[1], [-2], [0.5]]
   ├─ a: ReluBackward0 (h)  [2, 3] float64
   │  │  saved: out = [[0, 0, 2.2], [2.6, 0, 0]]
   │  └─ AddBackward0  [2, 3] float64
   │     │  saved: alpha = 1
   │     ├─ a: MmBackward0  [2, 3] float64
   │     │  │  saved: a = [[1, -2], [0.5, 1]]
   │     │  └─ b: AccumulateGrad (layer1.weight)  [2, 3] float64  leaf
   │     └─ b: AccumulateGrad (layer1.bias)  [3] float64  leaf
   └─ b: AccumulateGrad (layer2.weight)  [3, 1] float64  leaf"""


def course():
    x = fl.tensor([1., 2., 3.], requires_grad=True)
    y = x + 2
    z = (y * y * 3).mean()
    return x, y, z


def mlp():
    X = fl.tensor(np.array([[1., -2.], [0.5, 1.]]))
    W1 = fl.tensor(np.array([[1., -1., 0.5], [2., 0., -1.]]), requires_grad=True)
    b1 = fl.tensor(np.array([0.1, 0.2, -0.3]), requires_grad=True)
    W2 = fl.tensor(np.array([[1.], [-2.], [0.5]]), requires_grad=True)
    h = fl.relu(X @ W1 + b1)
    return X, W1, b1, W2, h, h @ W2


def test_course_graph_as_text():
    x, y, z = course()
    assert str(viz.graph(z, show_saved=True)) == COURSE_TREE
    assert repr(viz.graph(z)) == "\n".join(line for line in COURSE_TREE.splitlines() if "saved:" not in line)


def test_mlp_graph_as_text_with_named_parameters():
    X, W1, b1, W2, h, out = mlp()
    params = iter([("layer1.weight", W1), ("layer1.bias", b1), ("layer2.weight", W2)])  # as model.named_parameters() gives them
    assert str(viz.graph(out, params=params, show_saved=True)) == MLP_TREE


def test_grads_along_edges_after_an_explained_backward():
    x, y, z = course()
    with fl.autograd.explain():
        z.backward()
    assert str(viz.graph(z, show_grads=True)) == COURSE_GRADS
    freed = str(viz.graph(z, show_saved=True))
    assert "saved: a = freed by backward(), b = freed by backward()" in freed and "saved: shape = (3,)" in freed


def test_grads_are_not_recorded_outside_explain():
    x, y, z = course()
    z.backward()
    assert "grad" not in str(viz.graph(z, show_grads=True)).replace("AccumulateGrad", "")


def _recorded(t):
    """Nodes and edges of the recorded graph, counted straight from grad_fn.next_functions."""
    seen, stack, edges = {t.grad_fn}, [t.grad_fn], 1  # the edge from the root node to the output tensor
    while stack:
        node = stack.pop()
        for nxt, _ in node.next_functions:
            if nxt is not None:
                edges += 1
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
    return len(seen) + 1, edges, {n.name() for n in seen}


@pytest.mark.parametrize("which", ["course", "mlp"])
def test_dot_parses_back_to_the_recorded_graph(which):
    out = course()[-1] if which == "course" else mlp()[-1]
    g = viz.graph(out, show_saved=True)
    src = g.dot()
    assert src == g.source and src.startswith("digraph flambeau {") and src.rstrip().endswith("}")
    node_lines = re.findall(r'^\s+(n\d+) \[label="((?:[^"\\]|\\.)*)"', src, re.M)
    edge_lines = re.findall(r"^\s+(n\d+) -> (n\d+)", src, re.M)
    n_nodes, n_edges, names = _recorded(out)
    assert len(node_lines) == len(g.nodes) == n_nodes
    assert len(edge_lines) == len(g.edges) == n_edges
    ids = {i for i, _ in node_lines}
    assert all(a in ids and b in ids for a, b in edge_lines)
    labels = " ".join(label for _, label in node_lines)
    assert all(name in labels for name in names)


def test_dot_escapes_quotes_and_newlines():
    x = fl.tensor([1., 2.], requires_grad=True)
    g = viz.graph((x * 2).sum(), params={'the "x"': x})
    assert 'the \\"x\\"\\nAccumulateGrad' in g.dot()


def test_graph_of_something_else_is_a_type_error():
    with pytest.raises(TypeError, match="expected a Tensor, got list"):
        viz.graph([1, 2])


def test_a_tensor_without_history_is_one_node():
    t = fl.tensor([1., 2.])
    g = viz.graph(t)
    assert len(g.nodes) == 1 and g.edges == [] and str(g) == "t  [2] float32"


def test_graph_labels_follow_the_language():
    x, y, z = course()
    fl.set_language("fr")
    try:
        text = str(viz.graph(z, show_saved=True))
    finally:
        fl.set_language("en")
    assert "AccumulateGrad (x)  [3] float32  feuille" in text and "sauvé: b = 3" in text


HAVE_GRAPHVIZ = shutil.which("dot") is not None and __import__("importlib.util").util.find_spec("graphviz") is not None


def test_svg_names_every_node():
    if not HAVE_GRAPHVIZ:
        pytest.fail("this check needs `pip install graphviz` and the Graphviz `dot` program (apt-get install graphviz)")
    X, W1, b1, W2, h, out = mlp()
    g = viz.graph(out, params={"W1": W1, "b1": b1, "W2": W2})
    svg = g.svg()
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    texts = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    for n in g.nodes:
        assert n.name in texts or n.kind == "tensor"
    assert all(name in texts for name in ("W1", "b1", "W2", "MmBackward0", "ReluBackward0", "AddBackward0"))
    assert g.png().startswith(b"\x89PNG")
    bundle = g._repr_mimebundle_()
    assert bundle["text/plain"] == str(g) and ET.fromstring(bundle["image/svg+xml"]) is not None
    assert g._repr_svg_() == svg


def test_rendering_without_graphviz_says_what_to_install(monkeypatch):
    x, y, z = course()
    g = viz.graph(z)
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(ImportError, match="pip install graphviz") as e:
        g.svg()
    assert "`dot` program" in str(e.value)
    assert g._repr_mimebundle_() == {"text/plain": str(g)} and g._repr_svg_() is None


def test_rendering_without_dot_says_what_to_install(monkeypatch):
    x, y, z = course()
    g = viz.graph(z)
    monkeypatch.setattr(viz.shutil, "which", lambda name: None)
    if sys.modules.get("graphviz") is None and __import__("importlib.util").util.find_spec("graphviz") is None:
        monkeypatch.setitem(sys.modules, "graphviz", type(sys)("graphviz"))
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        g.png()
