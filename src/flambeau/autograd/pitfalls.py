"""Errors that teach, and an opt-in watch for the classic autograd mistakes.

Every error keeps PyTorch's type and text first (people search for it); after a blank line comes
what it means here and how to fix it, naming the user's tensors and lines where they can be found,
in the language of :func:`flambeau.set_language`.

The pitfall watch (off by default, free when off) warns about what raises no error::

    >>> import flambeau as torch
    >>> torch.autograd.set_detect_pitfalls(True)
    >>> w = torch.tensor([1., 2.], requires_grad=True)
    >>> (w * 2).sum().backward()
    >>> (w * 3).sum().backward()   # doctest: +SKIP
    UserWarning: The gradient of w was added to the one left by a previous forward/backward pass ...
    >>> torch.autograd.set_detect_pitfalls(False)
"""

from __future__ import annotations

import os
import re
import sys
import warnings
import weakref

from .._messages import msg
from .._tensor import NON_LEAF_GRAD, Tensor
from .function import AccumulateGrad
from .grad_mode import STATE

__all__ = ["set_detect_pitfalls", "is_detect_pitfalls_enabled"]

_PKG = os.path.dirname(os.path.dirname(__file__)) + os.sep  # as the code objects spell it
_TOUR = _PKG + "__main__.py"  # the tour is user code that lives in the package

#: ``(root node refs, filename, line)`` of the last backward() that freed its graph, noted while the pitfall watch is on.
LAST_FREE: list = [None]


# ---- where the user is ------------------------------------------------------------------------------

def user_frame(depth: int = 1):
    """The innermost frame outside the flambeau package (the user's code)."""
    f = sys._getframe(depth)
    while f is not None and f.f_code.co_filename.startswith(_PKG) and f.f_code.co_filename != _TOUR:
        f = f.f_back
    return f


def where(frame) -> str:
    """``file.py:12`` for a frame (paths under the working directory are made relative)."""
    return "?" if frame is None else location(frame.f_code.co_filename, frame.f_lineno)


def location(filename: str, line: int) -> str:
    try:
        rel = os.path.relpath(filename)
        filename = rel if not rel.startswith("..") else filename
    except ValueError:
        pass
    return f"{filename}:{line}"


def names_in(frame) -> dict:
    """``{id(tensor): name}`` for the tensors bound to names in ``frame`` (locals first, then globals)."""
    found: dict = {}
    if frame is None:
        return found
    for scope in (frame.f_globals, frame.f_locals):
        for k, v in scope.items():
            if isinstance(v, Tensor) and not k.startswith("_"):
                found[id(v)] = k
    return found


def describe(t, names: dict | None = None) -> str:
    """``'z' (shape [3], float32)``, or ``a tensor of shape [3], float32`` when it has no name."""
    if names is None:
        names = names_in(user_frame())
    shape = list(t._data.shape)
    dtype = str(t._data.dtype)
    name = names.get(id(t))
    return msg("tensor.named", name=name, shape=shape, dtype=dtype) if name else msg("tensor.unnamed", shape=shape, dtype=dtype)


def _name_by(pred, names_frame) -> str | None:
    """The name of the first tensor in the user's frame that satisfies ``pred``."""
    if names_frame is None:
        return None
    for scope in (names_frame.f_locals, names_frame.f_globals):
        for k, v in scope.items():
            if isinstance(v, Tensor) and not k.startswith("_") and pred(v):
                return k
    return None


def teach(e: BaseException, *parts: str) -> BaseException:
    """Append the explanation ``parts`` to ``e``'s message after a blank line (once)."""
    text = str(e.args[0]) if e.args else ""
    if "\n\n" not in text:
        e.args = (text + "\n\n" + "\n".join(p for p in parts if p),) + tuple(e.args[1:])
    return e


# ---- errors that teach ------------------------------------------------------------------------------

_FREED_START = "Trying to backward through the graph a second time"
_VERSION_START = "one of the variables needed for gradient computation has been modified by an inplace operation"


def teach_backward_error(e: RuntimeError, node) -> None:
    """Explain a freed graph or a saved tensor modified in place, raised while ``node`` ran."""
    text = str(e.args[0]) if e.args else ""
    if node is None or "\n\n" in text:
        return
    frame = user_frame()
    if text.startswith(_FREED_START):
        by = _freed_by(node)
        teach(e, msg("freed", node=node.name()), msg("freed.by", where=by) if by else msg("freed.unknown"), msg("freed.fix"),
              msg("at_line", where=where(frame)))
    elif text.startswith(_VERSION_START):
        found = _modified_saved(node)
        if found is None:
            return
        desc, saved, now, changer = found
        ch = msg("version.changer", op=changer.name()) if changer is not None else ""
        made, changed = _forward_line(node), _forward_line(changer)
        lines = msg("version.lines", saver=node.name(), made=made, changed=changed or "?") if made else ""
        teach(e, msg("version", saver=node.name(), tensor=desc(frame), saved=saved, now=now, changer=ch), lines, msg("version.fix"),
              msg("at_line", where=where(frame)))


def _forward_line(node) -> str | None:
    """``file.py:12: code`` of the forward call that made ``node``, when anomaly mode recorded its stack (``node._trace``)."""
    trace = getattr(node, "_trace", None) if node is not None else None
    if not trace:
        return None
    m = re.search(r'File "(.*)", line (\d+), in .*\n\s*(.*)', trace[-1])
    return f"{location(m.group(1), int(m.group(2)))}: {m.group(3).strip()}" if m else trace[-1].strip()


def _freed_by(node) -> str | None:
    """Where the backward() that freed ``node`` was called, if the pitfall watch saw it (its graph reaches ``node``)."""
    if LAST_FREE[0] is None:
        return None
    refs, filename, line = LAST_FREE[0]
    stack = [r() for r in refs if r() is not None]
    seen = set(stack)
    while stack:
        n = stack.pop()
        if n is node:
            return location(filename, line)
        for nxt, _ in n.next_functions:
            if nxt is not None and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return None


def _modified_saved(node):
    """``(describe(frame), saved version, current version, node of the in-place op or None)`` of the saved value that changed."""
    saved = getattr(node, "_saved", None) or ()
    vers = getattr(node, "_vers", None)
    pairs = zip(saved, vers) if vers is not None else saved  # OpNode: parallel tuples; custom Function: (tensor, version) pairs
    for x, v in pairs:
        if isinstance(x, Tensor) and x._version[0] != v:
            return (lambda frame, x=x: _describe_in(x, frame)), v, x._version[0], x._grad_fn
    out = getattr(node, "_out", None)
    if out is not None:
        data, version, v = out
        if version[0] != v:
            def desc(frame):
                name = _name_by(lambda t: t._version is version, frame)
                what = msg("version.output", shape=list(data.shape))
                return f"{what} ('{name}')" if name else what
            return desc, v, version[0], None
    return None


def _describe_in(t, frame) -> str:
    return describe(t, names_in(frame))


def no_grad_root_error(t, i: int) -> RuntimeError:
    """``backward()`` on a tensor outside any graph."""
    e = RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
    frame = user_frame()
    names = names_in(frame)
    scope = {**frame.f_globals, **frame.f_locals} if frame is not None else {}
    tracked = sorted(f"'{k}'" for k, v in scope.items() if isinstance(v, Tensor) and v._rg and not k.startswith("_"))
    hint = msg("noreq.found", names=", ".join(tracked), tensor=describe(t, names)) if tracked else msg("noreq.none")
    return teach(e, msg("noreq", tensor=describe(t, names), now="" if STATE.enabled else msg("noreq.now")), hint, msg("noreq.fix"),
                 msg("at_line", where=where(frame)))


def leaf_inplace_error(t) -> RuntimeError:
    """An in-place operation on a leaf that requires grad."""
    e = RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    frame = user_frame()
    return teach(e, msg("leaf_inplace", tensor=describe(t, names_in(frame))), msg("leaf_inplace.fix"), msg("at_line", where=where(frame)))


def broadcast_explained(e: RuntimeError, op_name: str, sa: tuple, sb: tuple) -> RuntimeError:
    """Add the op, both shapes and the broadcasting rule that failed to a shape error."""
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + tuple(sa), (1,) * (n - len(sb)) + tuple(sb)
    bad = [i for i in range(n) if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1]
    if not bad:
        return e
    i = bad[-1]
    frame = user_frame()
    return teach(e, msg("broadcast", op=op_name, a=list(sa), b=list(sb), dim=i, na=pa[i], nb=pb[i]), msg("broadcast.fix"),
                 msg("at_line", where=where(frame)))


def matmul_explained(e: RuntimeError, op_name: str, sa: tuple, sb: tuple) -> RuntimeError:
    """Add both shapes and the rule that failed to a matrix-product shape error: inner sizes, or batch dimensions."""
    frame = user_frame()
    k1, k2 = sa[-1], sb[0] if len(sb) == 1 else sb[-2]
    if k1 != k2:
        side = msg("matmul.side.first") if len(sb) == 1 else msg("matmul.side.second_last")
        what = msg("matmul", op=op_name, a=list(sa), b=list(sb), k1=k1, k2=k2, side=side)
    else:
        what = msg("matmul.batch", op=op_name, a=list(sa), b=list(sb), ba=list(sa[:-2]), bb=list(sb[:-2]))
    return teach(e, what, msg("matmul.fix"), msg("at_line", where=where(frame)))


def linear_explained(e: RuntimeError, sx: tuple, sw: tuple) -> RuntimeError:
    """A linear layer given inputs whose last dimension is not its in_features."""
    frame = user_frame()
    k2, n_out = (sw[1], sw[0]) if len(sw) == 2 else (sw[0], 1)
    k1 = sx[-1] if sx else 1
    return teach(e, msg("linear", x=list(sx), w=list(sw), k1=k1, k2=k2), msg("linear.fix", k1=k1, n_out=n_out),
                 msg("at_line", where=where(frame)))


def nonleaf_grad_warning(t) -> str:
    """PyTorch's warning for ``.grad`` of a non-leaf, then what happened here (a rebound leaf, typically)."""
    frame = user_frame()
    node = t._grad_fn
    parts = [msg("nonleaf_grad", tensor=describe(t, names_in(frame)), node=node.name())]
    if _rebound_leaf(node):
        parts.append(msg("nonleaf_rebound", node=node.name()))
    parts.append(msg("at_line", where=where(frame)))
    return NON_LEAF_GRAD + "\n\n" + "\n".join(parts)


def _rebound_leaf(node) -> bool:
    """Whether ``node`` is an update ``W = W - lr * W.grad``: a sum or difference of a leaf that holds a gradient (or that
    no name reaches any more, as the leaf only lives on in its graph)."""
    return node.name() in ("SubBackward0", "AddBackward0") and any(
        type(n) is AccumulateGrad and (n.variable is None or n.variable._grad is not None) for n, _ in node.next_functions)


# ---- the pitfall watch ---------------------------------------------------------------------------------

def _warn(text: str) -> None:
    frame = user_frame()
    if frame is None:
        warnings.warn(text, UserWarning, stacklevel=2)
        return
    warnings.warn_explicit(text, UserWarning, frame.f_code.co_filename, frame.f_lineno, module=frame.f_globals.get("__name__"),
                           registry=frame.f_globals.setdefault("__warningregistry__", {}))


class _Watch:
    """The engine recorder behind :func:`set_detect_pitfalls`."""

    def __init__(self, params) -> None:
        self.params = _named(params) if params is not None else []
        self.acc: dict = {}  # id(leaf) -> (leaf ref, root refs, grad ref, grad version, leaf version) after its last accumulation

    def begin(self, roots: list, buffers: dict) -> None:
        self.roots = roots
        self.visited: set = set()
        self.f32: dict = {}
        self.f64: dict = {}
        frame = user_frame()
        for node in roots:
            for g in buffers[node]:
                data = g._data if isinstance(g, Tensor) else g
                if data is not None and data.size > 1 and bool((data == 1).all()):
                    name = _name_by(lambda t, node=node: t._grad_fn is node, frame)
                    _warn(msg("pitfall.implicit_sum", tensor=f"'{name}'" if name else node.name(), shape=list(data.shape)))

    def step(self, node, grads_in: list, grads_out) -> None:
        if type(node) is AccumulateGrad:
            if node.variable is not None:
                self._accumulated(node.variable)
                self._dtype(node.variable)
        else:
            for x in getattr(node, "_saved", None) or ():
                if isinstance(x, Tensor):
                    self._dtype(x)

    def _dtype(self, t) -> None:
        kind = str(t._data.dtype)
        if kind == "float32":
            self.f32[id(t)] = t
        elif kind == "float64":
            self.f64[id(t)] = t

    def _accumulated(self, t) -> None:
        self.visited.add(id(t))
        prev = self.acc.get(id(t))
        grad = t._grad
        # the forgotten zero_(): a new gradient added to the one of an earlier pass. After an update of the leaf (a step) it is a
        # bug; with no update in between it may be gradient accumulation on purpose, and the warning says so.
        if prev is not None and prev[0]() is t and grad is not None and prev[2]() is grad and grad._version[0] == prev[3] + 1 \
                and not any(r() is n for r in prev[1] for n in self.roots):
            names = names_in(user_frame())
            tensor, name = describe(t, names), names.get(id(t), "tensor")
            if t._version[0] != prev[4]:
                _warn(msg("pitfall.accumulate", tensor=tensor, name=name))
            else:
                _warn(msg("pitfall.accumulate_no_step", tensor=tensor, name=name))
        if grad is not None:
            self.acc[id(t)] = (weakref.ref(t), [weakref.ref(n) for n in self.roots], weakref.ref(grad), grad._version[0], t._version[0])

    def end(self) -> None:
        if any(n._freed for n in self.roots):
            f = user_frame()
            LAST_FREE[0] = ([weakref.ref(n) for n in self.roots], f.f_code.co_filename, f.f_lineno) if f is not None else None
        for name, p in self.params if self.visited else ():  # autograd.grad() fills no .grad: nothing to check
            if id(p) not in self.visited and p._rg:
                _warn(msg("pitfall.unused_param", tensor=f"'{name}'"))
        if self.f32 and self.f64:
            names = names_in(user_frame())
            show = lambda ts: ", ".join(sorted(f"'{names[i]}'" if i in names else f"[{', '.join(map(str, t.shape))}]" for i, t in ts.items()))
            _warn(msg("pitfall.mixed_dtype", f64=show(self.f64), f32=show(self.f32)))
        self.roots = []


def _named(params) -> list:
    """``[(name, tensor)]`` from a dict, a ``named_parameters()`` iterator or a list of tensors."""
    if isinstance(params, dict):
        return list(params.items())
    out = []
    for k, p in enumerate(params):
        out.append(p if isinstance(p, tuple) else (str(k), p))
    return out


_WATCH: list = [None]


def set_detect_pitfalls(mode: bool, params=None) -> None:
    """Warn about the classic autograd mistakes that raise no error (off by default; free when off).

    Watched: a gradient added to the one of a previous pass without ``zero_()`` (after an update
    of the parameter it is the course's bug; with no update in between the warning says it is
    expected when gradients are accumulated on purpose); a non-scalar output
    back-propagated with a gradient of ones (an implicit sum); with ``params`` (a dict name→tensor,
    ``model.named_parameters()`` or a list), a parameter that receives no gradient; float64 and
    float32 tensors mixed in one graph. While it is on, the error of a backward through a freed
    graph names the line of the backward() that freed it.

    >>> import flambeau as torch
    >>> torch.autograd.set_detect_pitfalls(True); torch.autograd.set_detect_pitfalls(False)
    """
    from .engine import RECORDERS
    if _WATCH[0] is not None:
        RECORDERS.remove(_WATCH[0])
        _WATCH[0] = None
    if mode:
        _WATCH[0] = _Watch(params)
        RECORDERS.append(_WATCH[0])


def is_detect_pitfalls_enabled() -> bool:
    """Whether :func:`set_detect_pitfalls` is on."""
    return _WATCH[0] is not None
