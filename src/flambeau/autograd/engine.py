"""The backward walk: the chain rule applied over the recorded graph, iteratively.

1. From the roots, count how many edges lead into each node (an explicit stack, no recursion:
   a chain of 100,000 ops backwards fine).
2. Start from the roots with their gradients; a node runs once every edge into it has delivered.
3. Before a gradient enters a node it is made to fit that node's output: summed down to the shape
   (un-broadcasting) and cast to the dtype. This is the only place that happens.
4. A node's results flow along ``next_functions``; several gradients for one slot are added.
5. Unless ``retain_graph``, each node frees what it saved once it has run.

Gradients are NumPy arrays, or Tensors when ``create_graph=True`` (then the formulas record a
graph of their own and the result can be differentiated again). The engine knows nothing of ops.
"""

from __future__ import annotations

import numpy as np

from .anomaly_mode import run_checked
from .function import AccumulateGrad, _call_tensor_hook
from .grad_mode import STATE
from .pitfalls import teach_backward_error

__all__ = ["run_backward", "RECORDERS"]

#: Active recorders (``autograd.explain``, the pitfall watch): objects with ``begin(roots, grads)``,
#: ``step(node, grads_in, grads_out)`` and ``end()``. Empty unless one is switched on.
RECORDERS: list = []


def _fit(g, meta, graph: bool):
    """Shape and cast gradient ``g`` to the ``(shape, dtype)`` of the tensor it belongs to."""
    shape, dtype = meta
    if tuple(g.shape) != shape:
        g = _sum_to(g, shape, graph)
    if g.dtype != dtype:
        g = g.to(_dtype_of(dtype)) if graph else g.astype(dtype)
    return g


def _sum_to(g, shape: tuple, graph: bool):
    if not shape and not graph:
        return np.asarray(np.add.reduce(g, axis=None))
    lead = g.ndim - len(shape)
    if lead < 0:
        raise RuntimeError(f"gradient of shape {tuple(g.shape)} does not match its tensor's shape {shape}")
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and g.shape[i + lead] != 1)
    if any(s != 1 and g.shape[i + lead] != s for i, s in enumerate(shape)):
        raise RuntimeError(f"gradient of shape {tuple(g.shape)} cannot be summed to its tensor's shape {shape}")
    if graph:
        return g.sum(axes, keepdim=True).reshape(shape) if axes else g.reshape(shape)
    return g.sum(axis=axes, keepdims=True).reshape(shape) if axes else g.reshape(shape)


def _dtype_of(npdtype):
    from .._dtype import FROM_NP
    return FROM_NP[npdtype]


def _dependencies(roots: list) -> dict:
    """Number of edges into each node reachable from the roots (an explicit stack: no recursion)."""
    deps: dict = {}
    seen = set(roots)
    stack = list(roots)
    while stack:
        for nxt, _ in stack.pop().next_functions:
            if nxt is None:
                continue
            if nxt in deps:
                deps[nxt] += 1
            else:
                deps[nxt] = 1
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
    return deps


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


def run_backward(roots: list, grads: list, retain_graph: bool, create_graph: bool, capture: list | None = None,
                 accumulate: bool = True) -> list | None:
    """Propagate ``grads`` (one per root edge ``(node, output_nr)``) back through the graph.

    ``capture`` lists edges whose arriving gradient is returned (``autograd.grad``); with
    ``accumulate=False`` leaves' ``.grad`` is left untouched.
    """
    graph = create_graph
    root_nodes = []
    buffers: dict = {}
    for (node, nr), g in zip(roots, grads):
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node._nout
            root_nodes.append(node)
        buf[nr] = g if buf[nr] is None else buf[nr] + g
    deps = _dependencies(root_nodes)
    captured = useful = None
    if capture is not None:
        captured = [None] * len(capture)
        useful = _prune(root_nodes, {n for n, _ in capture})
    selective = useful is not None or not accumulate
    ready = [n for n in root_nodes if n not in deps]
    recs = list(RECORDERS) if RECORDERS else None
    if recs:
        for r in recs:
            r.begin(root_nodes, buffers)
    prev_mode = STATE.enabled
    anomaly = STATE.anomaly
    STATE.enabled = graph
    plain = not (selective or anomaly or recs or captured is not None)  # nothing but the chain rule to do per node
    node = None
    try:
        while ready:
            node = ready.pop()
            buf = buffers.pop(node, None)
            out = None
            if buf is not None:
                meta = node._meta
                if len(buf) == 1:
                    g = buf[0]
                    shape, dt = meta[0]
                    gd = g.dtype
                    if g.shape != shape or (gd is not dt and gd != dt):  # dtypes are singletons: `is` first
                        buf[0] = _fit(g, meta[0], graph)
                else:
                    for k, g in enumerate(buf):
                        if g is not None:
                            shape, dt = meta[k]
                            gd = g.dtype
                            if g.shape != shape or (gd is not dt and gd != dt):
                                buf[k] = _fit(g, meta[k], graph)
                if node._tensor_pre_hooks:
                    for nr, fn in list(node._tensor_pre_hooks):
                        if buf[nr] is not None:
                            buf[nr] = _call_tensor_hook(fn, buf[nr], graph)
                if plain:
                    out = node.apply(buf, graph) if node._pre_hooks is None and node._hooks is None else _run_node(node, buf, graph)
                    if not retain_graph:
                        node.release()
                else:
                    out = _run_selected(node, buf, graph, retain_graph, capture, captured, useful, accumulate, anomaly, recs)
            nexts = node.next_functions
            if out:
                for i, (nxt, nr) in enumerate(nexts):
                    if nxt is None:
                        continue
                    g = out[i]
                    if g is not None:
                        if not graph and type(g) is not np.ndarray:
                            g = np.asarray(g)  # a formula may return a NumPy scalar: gradients are arrays
                        b = buffers.get(nxt)
                        if b is None:
                            # the same array handed to two inputs (x + y) must not end up shared by two .grad
                            if i and not graph and (out[0] is g if i == 1 else _handed_twice(out, i, g)):
                                g = g.copy()
                            if nxt._nout == 1:
                                if plain and type(nxt) is AccumulateGrad and deps[nxt] == 1 and nxt._hooks is None \
                                        and nxt._pre_hooks is None and not nxt._tensor_pre_hooks:
                                    # a leaf with this one gradient coming: accumulate it now, without a trip through the queue
                                    shape, dt = nxt._meta[0]
                                    if g.shape != shape or g.dtype != dt:
                                        g = _fit(g, nxt._meta[0], graph)
                                    nxt.apply((g,), graph)
                                    if not retain_graph:
                                        nxt._freed = True
                                    continue
                                buffers[nxt] = [g]
                            else:
                                b = buffers[nxt] = [None] * nxt._nout
                                b[nr] = g
                        elif b[nr] is None:
                            b[nr] = g.copy() if i and not graph and _handed_twice(out, i, g) else g
                        elif b[nr].shape != g.shape:  # two broadcast gradients of one tensor: shape both to it first
                            b[nr] = _fit(b[nr], nxt._meta[nr], graph) + _fit(g, nxt._meta[nr], graph)
                        else:
                            b[nr] = b[nr] + g
                    left = deps[nxt] - 1
                    if left:
                        deps[nxt] = left
                    else:
                        ready.append(nxt)
            else:
                for nxt, _ in nexts:
                    if nxt is not None:
                        left = deps[nxt] - 1
                        if left:
                            deps[nxt] = left
                        else:
                            ready.append(nxt)
    except RuntimeError as e:
        teach_backward_error(e, node)
        raise
    finally:
        STATE.enabled = prev_mode
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
        out = node.apply(buf, graph) if node._pre_hooks is None and node._hooks is None else _run_node(node, buf, graph)
    if recs:
        for r in recs:
            r.step(node, buf, out)
    if not retain_graph:
        node.release()
    return out


def _handed_twice(out, i: int, g) -> bool:
    return any(o is g for o in out[:i])


def _run_node(node, buf: list, graph: bool) -> list:
    pre = node._pre_hooks
    if pre:
        for fn in list(pre):
            r = fn(tuple(_as_tensor(g, graph) for g in buf))
            if r is not None:
                buf = [_as_array(g, graph) for g in r]
    out = node.apply(buf, graph)
    post = node._hooks
    if post:
        for fn in list(post):
            r = fn(tuple(_as_tensor(g, graph) for g in out), tuple(_as_tensor(g, graph) for g in buf))
            if r is not None:
                out = [_as_array(g, graph) for g in r]
    return out


def _as_tensor(g, graph: bool):
    from .._tensor import _new_tensor
    return g if graph or g is None else _new_tensor(g, False, None, 0)


def _as_array(g, graph: bool):
    return g if graph or g is None else g._data
