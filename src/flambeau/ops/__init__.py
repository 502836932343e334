"""The op library: every op's forward and derivative, side by side, in one place.

An op is declared once with :func:`defop`::

    mul = defop("MulBackward0", lambda a, b: a * b,
                lambda g, b: g * b,          # ∂ℒ/∂a
                lambda g, a: g * a)          # ∂ℒ/∂b

Glossary: what a derivative formula may use. Its **parameter names** pick what it receives:

=============  ==========================================================================
``g``          the gradient arriving at the op's output (∂ℒ/∂out); a tuple for multi-output ops
``out``        the op's result (a tuple for multi-output ops)
input names    the forward's tensor parameters, by name (``x`` for unary ops, ``a``/``b`` ...)
attr names     the forward's other parameters (``dim``, ``keepdim``, ``exponent`` ...)
=============  ==========================================================================

A formula may use Python operators (``+ - * / ** @ < > ==``), ``.mT``, ``.shape``, ``.ndim``, and
the math namespace :data:`m` (``m.exp``, ``m.where``, ``m.sum``, ``m.expand`` ...). Those work on
NumPy arrays (plain ``backward()``: fast, no graph) and on Tensors (``create_graph=True``: the same
formula records a graph, so every op is differentiable again). A formula returns the gradient of
one input (any broadcastable shape and dtype: the engine reduces and casts it), or ``None``; it
never modifies ``g`` in place. Only what the needed formulas name is saved for backward.

The forward receives NumPy arrays (and attrs) and returns an array (or a tuple of arrays).
Public functions prepare dtypes and call :func:`apply` (or compute the result themselves and call
:func:`record`); nothing here knows the graph walk, which lives in ``autograd/engine.py``.
"""

from __future__ import annotations

import inspect
import itertools
import types
from operator import itemgetter

import numpy as np
from numpy import asarray, ndarray  # np.<name> is looked up anew on every use (NumPy's module has a __getattr__): the hot paths use these

from .._tensor import DUAL, Tensor, _new_tensor, edge_of, short_node_name, tensor_type_name_np
from ..autograd.anomaly_mode import remember_stack
from ..autograd.function import FREED, SEQ, Node, _Packed, counted, pack_saved, unpack_saved, version_error
from ..autograd.grad_mode import EXTRAS_ANYWHERE, GRAD_OFF, STATE

__all__ = ["defop", "apply", "record", "m", "Op", "OpNode"]

G = -1  # plan code: the incoming gradient


class Op:
    """One differentiable operation: forward, per-input derivative formulas, and its node class."""

    __slots__ = ("name", "fwd", "formulas", "rules", "calls", "n_in", "saves", "_save_plans", "_cls", "_make", "_link", "formula_text",
                 "nout")

    def __init__(self, name: str, fwd, formulas: tuple, nout: int = 1, formula_text: tuple = ()) -> None:
        self.name = name
        self.fwd = fwd
        self.formulas = formulas
        self.n_in = len(formulas)
        self.nout = nout
        self.formula_text = formula_text
        self.rules = None  # set by _analyse, on first use: most of the ~300 ops never run in a given program (import time)
        self._save_plans: dict = {}
        self._cls = self._make = self._link = None

    def _analyse(self) -> None:
        """Read which values each formula takes, from its parameter names (``rules``, ``calls``, ``saves``)."""
        params = forward_params(self.fwd)
        if params is None:
            raise TypeError(f"{self.name}: the forward must be a NumPy ufunc, or a Python function whose parameter names are the "
                            "op's inputs and attrs")
        names = {p: i for i, p in enumerate(params[: self.n_in])}
        names["out"] = self.n_in
        for k, p in enumerate(params[self.n_in:]):
            names[p] = self.n_in + 1 + k
        rules = []
        for f in self.formulas:
            if f is None:
                rules.append((None, ()))
                continue
            plan = []
            for p in _param_names(f):
                if p == "g":
                    plan.append(G)
                elif p in names:
                    plan.append(names[p])
                else:
                    raise TypeError(f"{self.name}: formula parameter {p!r} is not g, out, an input or an attr of {params}")
            rules.append((f, tuple(plan)))
        self.saves = any(i >= 0 and i <= self.n_in for _, plan in rules for i in plan)
        self.calls = tuple((f, None if f is None else _getter(plan)) for f, plan in rules)
        self.rules = tuple(rules)

    @property
    def node_cls(self) -> type:
        """The op's node class (``MulBackward0`` ...), made on first use: most of the ~300 ops never run in a given program."""
        return self._cls or self._build()

    def _build(self) -> type:
        if self.rules is None:
            self._analyse()
        body = {"__slots__": (), "_op": self}
        if self.nout == 1:
            body["apply"] = body["step"] = _compiled_apply(self)
        cls = self._cls = type(self.name, (OpNode,), body)
        self._make = _compiled_make(cls, self.nout)
        if self.nout == 1 and self.n_in <= 2:
            self._link = _compiled_link(self, cls)
        return cls

    def linker(self) -> types.FunctionType:
        """``link(x0[, x1], out, attrs)``: the recording of this one-output op of one or two inputs (see :func:`_link`)."""
        if self._link is None:
            self._build()
        return self._link

    def make_node(self, edges: tuple, saved, vers, attrs: tuple, meta: tuple, out) -> OpNode:
        """A new node of this op with its edges and what it keeps for backward."""
        if self._make is None:
            self._build()
        return self._make(edges, saved, vers, attrs, meta, out)

    def save_plan(self, req: tuple) -> tuple:
        """The inputs the formulas of the inputs needing grad use (their indices), and whether they use the output."""
        plan = self._save_plans.get(req)
        if plan is None:
            if self.rules is None:
                self._analyse()
            used = {i for r, (f, p) in zip(req, self.rules) if r and f is not None for i in p}
            keep = tuple(i in used for i in range(self.n_in))
            plan = (tuple(i for i in range(self.n_in) if keep[i]), self.n_in in used)
            self._save_plans[req] = plan
        return plan


def forward_params(fwd) -> list | None:
    """The parameter names of an op's forward: a Python function's own; ``x`` for a one-input ufunc (``np.tanh`` stands for
    ``lambda x: np.tanh(x)``, one call less), ``a, b`` for a two-input one. None for anything else."""
    if fwd is None:
        return []
    if isinstance(fwd, np.ufunc) and fwd.nin <= 2 and fwd.nout == 1:
        return ["x"] if fwd.nin == 1 else ["a", "b"]
    return _param_names(fwd) if inspect.isfunction(fwd) else None


def _param_names(f) -> list:
    """A Python function's parameter names in ``inspect.signature`` order, read from its code object
    (much cheaper: every op is declared at import); an explicit ``__signature__`` wins, as it does there."""
    sig = getattr(f, "__signature__", None)
    if sig is not None:
        return list(sig.parameters)
    code = f.__code__
    n, k = code.co_argcount, code.co_kwonlyargcount
    names = list(code.co_varnames[:n])
    i = n + k
    if code.co_flags & inspect.CO_VARARGS:
        names.append(code.co_varnames[i])
        i += 1
    names += code.co_varnames[n:n + k]
    if code.co_flags & inspect.CO_VARKEYWORDS:
        names.append(code.co_varnames[i])
    return names


def _compiled_apply(op: Op):
    """``OpNode.apply`` written out for one single-output op: each saved value unpacked into a local and each formula called
    with its arguments by name, no argument list built. Plain ``backward()`` only; under ``create_graph``, for saved values
    packed by hooks, and for every error, the general path runs (it raises the errors)."""
    n = op.n_in
    used = sorted({p for f, plan in op.rules if f is not None for p in plan if p != G})
    lines = ["def apply(self, grads, graph, keep=True):",
             "    if graph:",
             "        return general(self, grads, graph, keep)",
             "    g = grads[0]"]
    if op.saves:
        lines += ["    if self._freed:",
                  "        return general(self, grads, graph, keep)"]
    inputs = [i for i in used if i < n]
    if inputs:
        lines += ["    saved = self._saved",
                  "    vers = self._vers"]
    for i in inputs:
        lines += [f"    x{i} = saved[{i}]",
                  f"    if isinstance(x{i}, Tensor):",
                  f"        if x{i}._version[0] != vers[{i}]:",
                  "            return general(self, grads, graph, keep)",
                  f"        x{i} = x{i}._data",
                  f"    elif type(x{i}) is Packed:",
                  "        return general(self, grads, graph, keep)"]
    if n in used:
        lines += ["    out = self._out",
                  "    if out is not None:",
                  "        out, version, v = out",
                  "        if type(out) is Packed or version[0] != v:",
                  "            return general(self, grads, graph, keep)"]
    if any(i > n for i in used):
        lines.append("    attrs = self._attrs")
    lines += [f"    a{i} = attrs[{i - n - 1}]" for i in used if i > n]
    lines.append("    edges = self.next_functions")
    names = {G: "g", n: "out"}
    calls = ["None" if f is None else
             f"f{k}({', '.join(names.get(p) or (f'x{p}' if p < n else f'a{p}') for p in plan)}) if edges[{k}][0] is not None else None"
             for k, (f, plan) in enumerate(op.rules)]
    lines += [f"    result = [{', '.join(calls)}]",
              "    if not keep:",
              "        self._freed = True"]
    if op.saves:
        lines += [f"        self._saved = {(None,) * n}",
                  "        self._out = None"]
    lines.append("    return result")
    scope = {"general": OpNode.apply, "Tensor": Tensor, "Packed": _Packed, **{f"f{k}": f for k, (f, _) in enumerate(op.rules)}}
    exec(compile("\n".join(lines), f"<{op.name}.apply>", "exec"), scope)  # noqa: S102 - code built above from the op's own plan
    return scope["apply"]


_NODE = """    node = cls()
    node.next_functions = {edges}
    node._saved = saved
    node._vers = vers
    node._attrs = attrs
    node._meta = {meta}
    node._out = kept
    node._hooks = None
    node._freed = False
    node._seq = next(SEQ)
    node._uses = uses
    node._nout = nout
"""

_MAKE = "def make(edges, saved, vers, attrs, meta, kept):\n" + _NODE.format(edges="edges", meta="meta") + "    return node\n"


def _compiled_make(cls: type, nout: int):
    """A node constructor for one op's class. The same few lines, compiled once per class: each copy only ever sets the
    slots of its own class, so the interpreter's attribute caches stay on their fast path (a shared constructor would
    see every node class in turn and miss them all)."""
    exec(compile(_MAKE, f"<{cls.__name__}.make>", "exec"), scope := _scope(cls, nout))  # noqa: S102 - fixed source above
    return scope["make"]


def _scope(cls: type, nout: int) -> dict:
    """The names the compiled constructor and linker of node class ``cls`` see."""
    return {"new": object.__new__, "cls": cls, "SEQ": SEQ, "nout": nout, "uses": int(nout > 1), "Tensor": Tensor,
            "edge_of": edge_of, "NO_EDGE": _NO_EDGE, "EXTRAS_ANYWHERE": EXTRAS_ANYWHERE, "STATE": STATE, "extras": _extras}


#: The edge to input ``x{i}`` (which requires grad): its node's, counted as one more use, or its leaf's accumulator.
_EDGE = """fn = x{i}._grad_fn
if fn is not None:
    fn._uses += 1
    e{i} = (fn, x{i}._output_nr)
else:
    e{i} = x{i}._leaf_edge or edge_of(x{i})"""


def _indent(text: str, pad: str) -> list:
    return [pad + line for line in text.splitlines()]


def _compiled_link(op: Op, cls: type):
    """:func:`_link` written out for one op of one output and one or two inputs: the edges, then, for each pattern of
    inputs requiring grad, the save plan as constants; the node's and the output tensor's fields stored in place (no calls
    but the clock ``next(SEQ)``). The callers have checked that grad mode is on and some input requires grad (for one
    input: that input)."""
    n = op.n_in
    xs = [f"x{i}" for i in range(n)]
    lines = [f"def link({', '.join(xs)}, out, attrs):"]
    if n == 1:
        lines += _indent(_EDGE.format(i=0), "    ")
    else:
        for i in range(n):
            lines += [f"    r{i} = isinstance(x{i}, Tensor) and x{i}._rg", f"    if r{i}:", *_indent(_EDGE.format(i=i), "        "),
                      "    else:", f"        e{i} = NO_EDGE"]
    lines.append("    version = [0]")
    patterns = [p for p in itertools.product((True, False), repeat=n) if any(p)]  # (True, True) first
    for k, req in enumerate(patterns):
        keep, keep_out = op.save_plan(req)
        pad = "    "
        if len(patterns) > 1:
            test = " and ".join(f"{'' if r else 'not '}r{i}" for i, r in enumerate(req))
            lines.append("    else:" if k == len(patterns) - 1 else f"    {'elif' if k else 'if'} {test}:")
            pad = "        "
        saved = ", ".join(x if i in keep else "None" for i, x in enumerate(xs))
        vers = ", ".join("0" if i not in keep else f"{x}._version[0]" if req[i] else f"({x}._version[0] if isinstance({x}, Tensor) else 0)"
                         for i, x in enumerate(xs))
        lines += [f"{pad}saved = ({saved},)", f"{pad}vers = ({vers},)", f"{pad}kept = {'(out, version, 0)' if keep_out else None}"]
    lines += _NODE.format(edges=f"({', '.join(f'e{i}' for i in range(n))},)", meta="(out.shape, out.dtype)").splitlines()
    lines += ["    t = new(Tensor)",
              "    t._data = out",
              "    t._rg = True",
              "    t._grad_fn = node",
              "    t._output_nr = 0",
              "    t._grad = None",
              "    t._version = version",
              "    if EXTRAS_ANYWHERE[0] and STATE.extras:",
              f"        extras(node, t, kept is not None, ({', '.join(xs)},))",
              "    return t"]
    exec(compile("\n".join(lines), f"<{op.name}.link>", "exec"), scope := _scope(cls, 1))  # noqa: S102 - built above from the op's plan
    return scope["link"]


def _getter(plan: tuple):
    """A C-level function picking a formula's arguments out of ``[inputs..., out, attrs..., g]``."""
    if len(plan) == 1:
        k = plan[0]
        return lambda vals: (vals[k],)
    return itemgetter(*plan)


def defop(name: str, fwd, *formulas, nout: int = 1, text: tuple = ()) -> Op:
    """Declare an op: its node name, its forward on arrays, and one formula per tensor input.

    ``None`` marks a tensor input that has no gradient (an index, a mask). ``text`` optionally
    gives each formula in plain notation (``"∂(a·b)/∂a = b"``) for explanations.
    """
    return Op(name, fwd, formulas, nout, text)


class OpNode(Node):
    """The node of a built-in op. The class (one per op) carries ``_op``; instances carry saved values."""

    __slots__ = ("_saved", "_vers", "_out", "_attrs")
    _op: Op
    # made only by the compiled constructors, which set every field: ``cls()`` then costs less than ``object.__new__(cls)``
    __init__ = object.__init__

    def apply(self, grads: list, graph: bool, keep: bool = True) -> list:
        op = self._op
        if op.saves:
            if self._freed:
                raise RuntimeError(FREED)
            vals = self._unpack(graph)
        else:
            vals = [None] * (op.n_in + 1)
            vals.extend(self._attrs)
        vals.append(grads[0] if op.nout == 1 else tuple(grads))
        result = [None if f is None or edge[0] is None else f(*get(vals)) for (f, get), edge in zip(op.calls, self.next_functions)]
        if not keep:
            self.release()
        return result

    step = apply  # apply(grads, graph, keep) releases what was saved itself

    def _unpack(self, graph: bool) -> list:
        vals = []
        for x, v in zip(self._saved, self._vers):
            if isinstance(x, Tensor):
                if x._version[0] != v:
                    raise version_error(x, v, x._grad_fn.name() if x._grad_fn is not None else None)
                vals.append(x if graph else x._data)
            elif type(x) is _Packed:
                t = unpack_saved(x)
                vals.append(t if graph else t._data)
            else:
                vals.append(x)
        out = self._out
        if out is None:
            vals.append(None)
        else:
            data, version, v = out
            if type(data) is _Packed:
                data = unpack_saved(data)._data
            elif type(data) is tuple and type(data[0]) is _Packed:
                data = tuple(unpack_saved(p)._data for p in data)
            if version[0] != v:
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an inplace operation: "
                    f"[{tensor_type_name_np(data)}], which is output 0 of {short_node_name(self.name())}, is at version {version[0]}; "
                    f"expected version {v} instead. Hint: enable anomaly detection to find the operation that failed to compute "
                    "its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).")
            if graph:
                if type(data) is tuple:
                    vals.append(tuple(_new_tensor(d, True, self, k) for k, d in enumerate(data)))
                else:
                    t = _new_tensor(data, True, self, 0)
                    t._version = version
                    vals.append(t)
            else:
                vals.append(data)
        vals.extend(self._attrs)
        return vals

    def release(self) -> None:
        self._freed = True
        if self._op.saves:
            self._saved = (None,) * len(self._saved)
            self._out = None


def record(op: Op, inputs: tuple, out, attrs: tuple = ()):
    """Wrap the forward result ``out`` in Tensor(s) and, when recording, link them into the graph."""
    if type(out) is not ndarray:
        out = tuple(asarray(d) for d in out) if type(out) is tuple else asarray(out)
    if not GRAD_OFF or STATE.enabled:
        for x in inputs:
            if isinstance(x, Tensor) and x._rg:
                return _link(op, inputs, out, attrs)
    if type(out) is tuple:
        return tuple(_new_tensor(d, False, None, 0) for d in out)
    return _new_tensor(out, False, None, 0)


def _record_one(op: Op, x: Tensor, out, attrs: tuple):
    """:func:`record` for a one-input, one-output op (the common reductions and unary math), written out."""
    if type(out) is not ndarray:
        out = asarray(out)  # a full reduction gives a NumPy scalar
    if x._rg and (not GRAD_OFF or STATE.enabled):
        return (op._link or op.linker())(x, out, attrs)
    return _new_tensor(out, False, None, 0)


def _link(op: Op, inputs: tuple, out, attrs: tuple):
    """Make the op's node: its edges, what its formulas need saved, and the output tensor(s). A one-output op of one or two
    inputs (most ops) has its own compiled :meth:`Op.linker`; here is the general case."""
    if type(out) is not tuple and len(inputs) == op.n_in <= 2 and op.nout == 1:
        return (op._link or op.linker())(*inputs, out, attrs)
    req = tuple([isinstance(x, Tensor) and x._rg for x in inputs])
    edges = counted(tuple([edge_of(x) if r else _NO_EDGE for x, r in zip(inputs, req)]))
    keep, keep_out = op._save_plans.get(req) or op.save_plan(req)
    if keep:
        saved = [None] * len(inputs)
        vers = [0] * len(inputs)
        for i in keep:
            x = saved[i] = inputs[i]
            if isinstance(x, Tensor):
                vers[i] = x._version[0]
    else:
        saved = vers = _NONES[len(inputs)]
    version = [0]
    if type(out) is tuple:
        node = op.make_node(edges, saved, vers, attrs, tuple([m for d in out for m in (d.shape, d.dtype)]), (out, version, 0) if keep_out else None)
        ts = tuple(_new_tensor(d, True, node, k) for k, d in enumerate(out))
        if ts:
            ts[0]._version = version  # the counter the node checks its saved output against
        if EXTRAS_ANYWHERE[0] and STATE.extras:
            _extras(node, ts, keep_out, inputs)
        return ts
    node = op.make_node(edges, saved, vers, attrs, (out.shape, out.dtype), (out, version, 0) if keep_out else None)
    t = _new_tensor(out, True, node, 0)
    t._version = version
    if EXTRAS_ANYWHERE[0] and STATE.extras:
        _extras(node, t, keep_out, inputs)
    return t


def _extras(node: OpNode, out, keep_out: bool, inputs: tuple) -> None:
    """Off the hot path: pack what the node saved (``saved_tensors_hooks``), remember the forward stack (anomaly mode), mark
    outputs computed only from dual tensors (forward AD) as not requiring grad, as PyTorch reports them."""
    if STATE.dual and all(x._rg == DUAL for x in inputs if isinstance(x, Tensor) and x._rg):
        for t in out if type(out) is tuple else (out,):
            t._rg = DUAL
    if STATE.saved_hooks:
        node._saved = tuple([pack_saved(x) if isinstance(x, Tensor) else x for x in node._saved])
        if keep_out:
            packed = tuple(pack_saved(o) for o in out) if type(out) is tuple else pack_saved(out)
            node._out = (packed,) + node._out[1:]
    if STATE.anomaly:
        remember_stack(node)


_NO_EDGE = (None, 0)
_NONES = [(None,) * k for k in range(16)]


def apply(op: Op, inputs: tuple, arrays: tuple, attrs: tuple = ()):
    """Run ``op``'s forward on prepared arrays and record the result."""
    return record(op, inputs, op.fwd(*arrays, *attrs), attrs)


#: Functions a derivative formula may call; each works on NumPy arrays and on Tensors. The op
#: modules fill it with :func:`math_fn`, so formulas reach array math through the data they get.
m = types.SimpleNamespace()


def math_fn(name: str, on_array, on_tensor=None) -> None:
    """Add ``m.<name>``: ``on_array`` for arrays (and scalars), ``on_tensor`` (default: the flambeau op) for Tensors."""
    def fn(x, *args):
        if isinstance(x, Tensor):
            return (on_tensor or getattr(Tensor, name))(x, *args)
        return on_array(x, *args)
    fn.__name__ = name
    setattr(m, name, fn)
