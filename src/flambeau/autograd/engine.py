"""The backward walk: the chain rule applied over the recorded graph, iteratively.

1. Every node carries its creation number ``_seq`` and ``_uses``, the number of edges ever made
   into it. A node is created after the nodes of its inputs, so a node's consumers all carry
   higher numbers than itself.
2. The walk starts at the roots with their gradients. A gradient for a node used once is all the
   gradient it will get: the node is ready at once (a stack, no recursion: a chain of 100,000 ops
   backwards fine). A node used more often waits in a heap by creation number: it runs when no
   node left to run has a higher number, so every consumer that could still send it something has
   run. A node with several outputs starts counting at one use (``Node``), so it always waits there,
   where the gradients of its outputs are gathered. Leaves (``AccumulateGrad``) collect their
   gradient and accumulate last, once each (under ``autograd.explain`` and the pitfall watch, as soon
   as their last gradient has arrived).
3. Before a gradient enters a node it is made to fit that node's output: summed down to the shape
   (un-broadcasting) and cast to the dtype. This is the only place that happens.
4. A node's results flow along ``next_functions``; several gradients for one slot are added.
5. Unless ``retain_graph``, each node frees what it saved once it has run.
6. The walk runs with grad mode set to ``create_graph``. A plain walk (arrays, no hook registered
   anywhere, nothing captured or watched) runs only the built-in formulas on arrays and custom
   Functions, which set grad mode themselves: it leaves the (thread-local) mode alone, until a
   custom backward registers a hook; from that node on it takes the usual steps.

Gradients are NumPy arrays, or Tensors when ``create_graph=True`` (then the formulas record a
graph of their own and the result can be differentiated again). The engine knows nothing of ops.
"""

from __future__ import annotations

from heapq import heappop, heappush

import numpy as np
from numpy import asarray, ndarray  # np.<name> is looked up anew on every use (NumPy's module has a __getattr__): the hot paths use these

from .anomaly_mode import run_checked
from .function import HOOKS, AccumulateGrad, _call_tensor_hook, handed_on
from .grad_mode import EXTRAS_ANYWHERE, STATE, set_mode
from .pitfalls import teach_backward_error

__all__ = ["run_backward", "RECORDERS"]

add_reduce = np.add.reduce  # bound once, as above

#: Active recorders (``autograd.explain``, the pitfall watch): objects with ``begin(roots, grads)``,
#: ``step(node, grads_in, grads_out)`` and ``end()``. Empty unless one is switched on.
RECORDERS: list = []


def _fit(g, shape: tuple, dtype, graph: bool):
    """Shape and cast gradient ``g`` to the shape and dtype of the tensor it belongs to."""
    if tuple(g.shape) != shape:
        g = _sum_to(g, shape, graph)
    if g.dtype != dtype:
        g = g.to(_dtype_of(dtype)) if graph else g.astype(dtype)
    return g


def _sum_to(g, shape: tuple, graph: bool):
    if not shape and not graph:
        return asarray(add_reduce(g, None))
    lead = g.ndim - len(shape)
    if lead < 0:
        raise RuntimeError(f"gradient of shape {tuple(g.shape)} does not match its tensor's shape {shape}")
    if tuple(g.shape[lead:]) == shape:  # broadcast along new leading dims only (a bias): they are summed away
        return g.sum(tuple(range(lead))) if graph else add_reduce(g, tuple(range(lead)))
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and g.shape[i + lead] != 1)
    if any(s != 1 and g.shape[i + lead] != s for i, s in enumerate(shape)):
        raise RuntimeError(f"gradient of shape {tuple(g.shape)} cannot be summed to its tensor's shape {shape}")
    if graph:
        return g.sum(axes, keepdim=True).reshape(shape) if axes else g.reshape(shape)
    return g.sum(axis=axes, keepdims=True).reshape(shape) if axes else g.reshape(shape)


def _dtype_of(npdtype):
    from .._dtype import FROM_NP
    return FROM_NP[npdtype]


def _add(old, g, shape: tuple, dtype, graph: bool):
    """Two gradients for one output: their sum (shaped to the output first when broadcasting made them differ)."""
    if old.shape != g.shape:
        return _fit(old, shape, dtype, graph) + _fit(g, shape, dtype, graph)
    return old + g


def _prune(roots, targets: set) -> set:
    """Nodes from which some target can be reached: the only ones worth running for ``autograd.grad``."""
    useful = set()
    visited = set()
    for root in roots:
        if root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(root.next_functions))]
        while stack:  # iterative post-order: a node is settled after all of its inputs
            node, it = stack[-1]
            for nxt, _ in it:
                if nxt is not None and nxt not in visited:
                    visited.add(nxt)
                    stack.append((nxt, iter(nxt.next_functions)))
                    break
            else:
                stack.pop()
                if node in targets or any(n in useful for n, _ in node.next_functions):
                    useful.add(node)
    return useful


def _edges_into_leaves(roots: list) -> dict:
    """How many edges lead into each leaf reachable from the roots (an explicit stack: no recursion)."""
    count: dict = {}
    seen = set(roots)
    stack = list(roots)
    while stack:
        for nxt, _ in stack.pop().next_functions:
            if type(nxt) is AccumulateGrad:
                count[nxt] = count.get(nxt, 0) + 1
            elif nxt is not None and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return count


def run_backward(roots: list, grads: list, retain_graph: bool, create_graph: bool, capture: list | None = None,
                 accumulate: bool = True) -> list | None:
    """Propagate ``grads`` (one per root edge ``(node, output_nr)``) back through the graph.

    ``capture`` lists edges whose arriving gradient is returned (``autograd.grad``); with
    ``accumulate=False`` leaves' ``.grad`` is left untouched.
    """
    graph = create_graph
    waiting: dict = {}  # node -> [gradient per output]: nodes used several times, until their turn in the heap
    heap: list = []
    leaves: dict = {}  # AccumulateGrad -> its gradient so far: accumulated last
    several = False  # several roots: a root may also receive gradients from another root, so it waits whatever its uses
    if len(roots) == 1 and type(roots[0][0]) is not AccumulateGrad and roots[0][0]._nout == 1:
        ready = [(roots[0][0], list(grads))]  # (node, [gradient per output]): nodes whose gradients have all arrived
    else:
        ready = []
        for (node, nr), g in zip(roots, grads):
            if type(node) is AccumulateGrad:
                leaves[node] = g if node not in leaves else leaves[node] + g
                continue
            buf = waiting.get(node)
            if buf is None:
                buf = waiting[node] = [None] * node._nout
                heappush(heap, (-node._seq, node))
            buf[nr] = g if buf[nr] is None else buf[nr] + g
        several = len(heap) > 1
        if not several and heap:
            ready.append((heap.pop()[1], waiting.popitem()[1]))
    recs = list(RECORDERS) if RECORDERS else None
    captured = useful = leaf_edges = None
    if capture is not None or recs:
        root_nodes = [n for _, n in heap] + [n for n, _ in ready] + list(leaves)
        if capture is not None:
            captured = [None] * len(capture)
            useful = _prune(root_nodes, {n for n, _ in capture})
        if recs:
            for r in recs:
                r.begin(root_nodes, {**waiting, **dict(ready), **{n: [g] for n, g in leaves.items()}})
            # watched (explain, the pitfall watch): a leaf accumulates as soon as its last gradient arrives, as PyTorch runs it
            leaf_edges = _edges_into_leaves(root_nodes)
    anomaly = EXTRAS_ANYWHERE[0] and STATE.anomaly
    plain = not (useful is not None or not accumulate or anomaly or recs)  # nothing but the chain rule to do per node
    fast = plain and not graph and not HOOKS[0]  # ... and no hook anywhere: grad mode is left as it is (6. above)
    if not fast:
        prev_mode = STATE.enabled
        set_mode(graph)
    node = None
    try:
        while True:
            if ready:
                node, buf = ready.pop()
            elif heap:
                node = heappop(heap)[1]
                buf = waiting.pop(node)
            elif leaves:
                node, g = leaves.popitem()
                buf = [g]
            else:
                break
            meta = node._meta
            if len(buf) == 1:
                g = buf[0]
                shape, dt = meta
                gd = g.dtype
                if g.shape != shape or (gd is not dt and gd != dt):  # dtypes are singletons: `is` first
                    buf[0] = _fit(g, shape, dt, graph)
            else:
                for k, g in enumerate(buf):
                    if g is not None:
                        shape, dt = meta[2 * k], meta[2 * k + 1]
                        gd = g.dtype
                        if g.shape != shape or (gd is not dt and gd != dt):
                            buf[k] = _fit(g, shape, dt, graph)
            if fast and HOOKS[0]:  # a hook registered during this walk (by a custom backward): the usual steps from here on
                fast = False
                prev_mode = STATE.enabled
                set_mode(graph)
            if fast:
                out = node.step(buf, False, retain_graph)
            elif plain and node._hooks is None:
                out = node.step(buf, graph, retain_graph)
            else:
                if node._hooks is not None and node._hooks.tensor_pre:  # hooks of the node's output tensors come first
                    for nr, fn in list(node._hooks.tensor_pre):
                        if buf[nr] is not None:
                            buf[nr] = _call_tensor_hook(fn, buf[nr], graph)
                out = _run_node(node, buf, graph, retain_graph) if plain else \
                    _run_selected(node, buf, graph, retain_graph, capture, captured, useful, accumulate, anomaly, recs)
            if not out:
                continue
            for i, (nxt, nr) in enumerate(node.next_functions):
                if nxt is None:
                    continue
                g = out[i]
                if g is None:
                    continue
                if not graph:
                    if type(g) is not ndarray:
                        g = asarray(g)  # a formula may return a NumPy scalar: gradients are arrays
                    elif i and (out[0] is g if i == 1 else _handed_twice(out, i, g)):
                        g = g.copy()  # the same array handed to two inputs (x + y) must not end up shared by two .grad
                if type(nxt) is AccumulateGrad:
                    old = leaves.get(nxt)
                    leaves[nxt] = g if old is None else _add(old, g, *nxt._meta, graph)
                    if leaf_edges is not None:
                        leaf_edges[nxt] -= 1
                        if not leaf_edges[nxt]:
                            ready.append((nxt, [leaves.pop(nxt)]))
                elif nxt._uses == 1 and not (several and nxt in waiting):  # its one use (one output): all the gradient it gets
                    ready.append((nxt, [g]))
                else:
                    b = waiting.get(nxt)
                    if b is None:
                        b = waiting[nxt] = [None] * nxt._nout
                        heappush(heap, (-nxt._seq, nxt))
                        b[nr] = g
                    elif b[nr] is None:
                        b[nr] = g
                    else:
                        b[nr] = _add(b[nr], g, nxt._meta[2 * nr], nxt._meta[2 * nr + 1], graph)
    except RuntimeError as e:
        teach_backward_error(e, node)
        raise
    finally:
        if not fast:
            set_mode(prev_mode)
    if recs:
        for r in recs:
            r.end()
    return captured


def _run_selected(node, buf: list, graph: bool, retain_graph: bool, capture, captured, useful, accumulate: bool, anomaly: bool, recs):
    """A node's step when something beyond the chain rule is asked: captured gradients (``autograd.grad``),
    pruning, anomaly checks, recorders. Returns the node's input gradients, or None when it is skipped."""
    if captured is not None:
        for i, (n, nr) in enumerate(capture):
            if n is node and buf[nr] is not None:
                captured[i] = buf[nr] if captured[i] is None else captured[i] + buf[nr]
    if not ((useful is None or node in useful) and (accumulate or type(node) is not AccumulateGrad)):
        return None
    if anomaly:
        out = run_checked(node, _run_node, buf, graph)
    else:
        out = _run_node(node, buf, graph, True)
    if recs:
        for r in recs:
            r.step(node, buf, out)
    if not retain_graph:
        node.release()
    return out


def _handed_twice(out, i: int, g) -> bool:
    return any(o is g for o in out[:i])


def _run_node(node, buf: list, graph: bool, keep: bool) -> list:
    """A node's step with its hooks: its pre-hooks, the node (released unless ``keep``), its post-hooks."""
    hooks = node._hooks
    if hooks is None:
        return node.step(buf, graph, keep)
    for fn in list(hooks.pre):
        r = fn(tuple(_as_tensor(g, graph) for g in buf))
        buf = _handed_on(buf if r is None else [_as_array(g, graph) for g in r], graph)
    out = node.step(buf, graph, keep)
    if hooks.post:
        for fn in list(hooks.post):
            r = fn(tuple(_as_tensor(g, graph) for g in out), tuple(_as_tensor(g, graph) for g in buf))
            out = _handed_on(out if r is None else [_as_array(g, graph) for g in r], graph)
    return out


def _as_tensor(g, graph: bool):
    from .._tensor import _new_tensor
    return g if graph or g is None else _new_tensor(g, False, None, 0)


def _as_array(g, graph: bool):
    return g if graph or g is None else g._data


def _handed_on(grads, graph: bool) -> list:
    """Gradients after a node hook has seen them (see ``handed_on``)."""
    return list(grads) if graph else [handed_on(g) for g in grads]
