"""The recorded graph: nodes, leaves' ``AccumulateGrad``, and the public ``Function`` API.

A tensor made by an op that records remembers its ``grad_fn``: a :class:`Node` that knows how to
turn the gradient of that tensor into gradients of the op's inputs. ``next_functions`` links each
input to the node that produced it (``AccumulateGrad`` for a leaf, ``None`` for a constant)::

    x (leaf) ──► AccumulateGrad ◄── MulBackward0 ◄── MeanBackward0 ◄── loss.backward()

Nodes know nothing of each other's math; the engine (``engine.py``) walks them. Built-in ops are a
table spelling of the same mechanism (``flambeau.ops``); user code subclasses :class:`Function`::

    >>> import flambeau as torch
    >>> class Cube(torch.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         (x,) = ctx.saved_tensors
    ...         return 3 * x ** 2 * g
    >>> x = torch.tensor(2.0, requires_grad=True)
    >>> Cube.apply(x).backward(); x.grad
    tensor(12.)
"""

from __future__ import annotations

import functools
import threading
import weakref
from itertools import count

import numpy as np

from .._tensor import Tensor, _new_tensor, edge_of, short_node_name, tensor_type_name, zeros_like_meta
from .anomaly_mode import remember_stack
from .grad_mode import STATE, _Toggle

__all__ = ["Node", "AccumulateGrad", "Function", "FunctionCtx", "once_differentiable"]

FREED = ("Trying to backward through the graph a second time (or directly access saved tensors after they have already "
         "been freed). Saved intermediate values of the graph are freed when you call .backward() or autograd.grad(). "
         "Specify retain_graph=True if you need to backward through the graph a second time or if you need to access "
         "saved tensors after calling backward.")


def version_error(t, saved: int, node_name: str | None) -> RuntimeError:
    what = f"[{tensor_type_name(t)}]"
    where = f", which is output {t._output_nr} of {short_node_name(node_name)}," if node_name else ""
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"{what}{where} is at version {t._version[0]}; expected version {saved} instead. Hint: enable anomaly detection "
        "to find the operation that failed to compute its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False).")


class Node:
    """A step of the recorded graph (PyTorch's ``grad_fn``).

    ``_meta`` holds ``shape, numpy dtype`` of each output, one after the other (one flat tuple): the
    engine shapes and casts every gradient arriving at the node to it (un-broadcasting centrally, so
    no op repeats it).
    ``_seq`` numbers nodes in creation order and ``_uses`` counts the edges made into the node,
    from one for a node with several outputs (it then always waits for all of them): the engine's
    schedule (see ``engine.py``).
    """

    __slots__ = ("next_functions", "_meta", "_nout", "_hooks", "_freed", "_seq", "_uses", "metadata_", "_trace", "__weakref__")

    def __init__(self) -> None:
        self._hooks = None  # a _NodeHooks once any hook is registered: the engine checks this one slot
        self._freed = False
        self._nout = 1
        self._seq = next(SEQ)
        self._uses = 0

    def name(self) -> str:
        """The node's PyTorch name, e.g. ``'MulBackward0'``."""
        return type(self).__name__

    @property
    def metadata(self) -> dict:
        try:
            return self.metadata_
        except AttributeError:
            self.metadata_ = {}
            return self.metadata_

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after the node; it may return replacement grad_inputs."""
        return _Handle(self._hook_lists().post, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before the node; it may return replacement grad_outputs."""
        return _Handle(self._hook_lists().pre, fn)

    def _tensor_hook(self, output_nr: int, fn):
        return _Handle(self._hook_lists().tensor_pre, (output_nr, fn))

    def _hook_lists(self) -> _NodeHooks:
        if self._hooks is None:
            self._hooks = _NodeHooks()
        return self._hooks

    def apply(self, grads: list, graph: bool) -> tuple:
        """Gradients of the inputs from the gradients of the outputs (arrays, or Tensors when ``graph``)."""
        raise NotImplementedError

    def release(self) -> None:
        """Free what was saved for backward (called by the engine unless ``retain_graph``)."""
        self._freed = True

    def step(self, grads: list, graph: bool, keep: bool) -> tuple:
        """The engine's call: :meth:`apply`, then, unless ``keep``, :meth:`release`. (A built-in op's node does both in
        its compiled ``apply``.)"""
        out = self.apply(grads, graph)
        if not keep:
            self.release()
        return out

    def __call__(self, *grads):
        """Apply the node to output gradients (Tensors), as ``grad_fn(grad)`` does in PyTorch."""
        graph = STATE.enabled and any(g is not None and g._rg for g in grads)
        out = self.apply([g if graph or g is None else g._data for g in grads], graph)
        out = tuple(g if graph or g is None else _new_tensor(g, False, None, 0) for g in out)
        return out[0] if len(out) == 1 else out

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {id(self):#x}>"


#: Creation numbers of nodes: a node's consumers are made after it, so they carry higher numbers.
SEQ = count()  # read with next(SEQ), cheaper than calling a bound SEQ.__next__


def counted(edges: tuple) -> tuple:
    """``edges``, a new node's input edges, after counting one more use of each node they lead to."""
    for n, _ in edges:
        if n is not None:
            n._uses += 1
    return edges


def _meta_of(outputs) -> tuple:
    """A node's ``_meta`` for these outputs: the shape and dtype of each (``()`` and None for one that is not a tensor)."""
    return tuple([m for o in outputs for m in ((o._data.shape, o._data.dtype) if isinstance(o, Tensor) else ((), None))])


class _NodeHooks:
    """A node's hooks: ``pre`` (before it, on its output gradients), ``post`` (after it) and ``tensor_pre`` (hooks of its
    output tensors, ``(output_nr, fn)``)."""

    __slots__ = ("pre", "post", "tensor_pre")

    def __init__(self) -> None:
        self.pre, self.post, self.tensor_pre = _HookList(), _HookList(), _HookList()


#: How many autograd hooks (of nodes and tensors) are registered, not removed, on nodes and tensors still alive. While
#: none is, the engine and ``AccumulateGrad`` skip looking for them. Changed under a lock, so that threads registering
#: hooks at once cannot lose a count.
HOOKS = [0]
_HOOKS_LOCK = threading.Lock()


class _HookList(list):
    """A node's or tensor's list of hooks: when its owner is freed, the hooks still in it leave the count."""

    __slots__ = ()

    def __del__(self) -> None:
        if self:
            with _HOOKS_LOCK:
                HOOKS[0] -= len(self)


class _Handle:
    """What ``register_hook`` returns: ``handle.remove()`` takes the hook away."""

    __slots__ = ("_list", "_item")

    def __init__(self, lst: list, item) -> None:
        with _HOOKS_LOCK:
            lst.append(item)
            HOOKS[0] += 1
        self._list, self._item = lst, item

    def remove(self) -> None:
        with _HOOKS_LOCK:
            if self._item in self._list:
                self._list.remove(self._item)
                HOOKS[0] -= 1


class AccumulateGrad(Node):
    """The node of a leaf tensor: adds the arriving gradient into ``leaf.grad``.

    The leaf holds its accumulator; the accumulator refers back weakly (no reference cycle, and a
    leaf nobody can read any more simply receives nothing).
    """

    __slots__ = ("_variable",)

    def __init__(self, variable) -> None:
        super().__init__()
        self._variable = weakref.ref(variable)
        self.next_functions = ()
        self._meta = (variable._data.shape, variable._data.dtype)

    @property
    def variable(self):
        """The leaf tensor this node accumulates into."""
        return self._variable()

    def apply(self, grads: list, graph: bool, keep: bool = True) -> tuple:
        if not keep:
            self._freed = True
        g = grads[0]
        t = self._variable()
        if t is None:
            return ()
        if HOOKS[0] and t._hooks:
            for fn in t._hooks:
                g = _call_tensor_hook(fn, g, graph)
        old = t._grad
        if old is None:
            if graph:  # copied into a fresh tensor, as PyTorch's accumulator does: its grad_fn is CopyBackwards
                t._grad = _new_tensor(np.empty_like(g._data), False, None, 0).copy_(g)
            else:  # an array with no base is the walk's own (formulas make fresh arrays, and what user code saw arrives as a
                # view: ``handed_on``): adopted as it is; a view is copied
                t._grad = _new_tensor(g if g.base is None else g.copy(), False, None, 0)
        elif graph:
            t._grad = old + g
        else:  # in place, as PyTorch does outside grad mode (a .grad made by create_graph keeps its grad_fn)
            d = old._data
            if d.ndim == 0:  # NumPy's scalar math: a fraction of a ufunc call on 0-d arrays
                d[()] = d[()] + g[()]
            else:
                d += g
            old._version[0] += 1
        if HOOKS[0] and t._post_acc_hooks:
            for fn in t._post_acc_hooks:
                fn(t)
        return ()

    step = apply  # apply(grads, graph, keep) marks the node run itself


def _call_tensor_hook(fn, g, graph: bool):
    """Run a tensor hook (which sees a Tensor) on an array or Tensor gradient."""
    out = fn(g if graph else _new_tensor(g, False, None, 0))
    if graph:
        return g if out is None else out
    return handed_on(g if out is None else out._data)


def handed_on(g):
    """An array gradient that user code has seen (a hook's argument or result, a custom backward's result), as the walk
    takes it on: a view, so that a leaf copies it into its ``.grad`` instead of adopting it, and a later accumulation into
    that ``.grad`` in place cannot change a tensor the user kept (PyTorch clones such a gradient too)."""
    return g.view() if type(g) is np.ndarray else g  # None, or a number: nothing to share


class _Packed:
    """A saved tensor as a ``saved_tensors_hooks`` pack hook returned it, with the unpack hook that restores it."""

    __slots__ = ("unpack", "obj")

    def __init__(self, unpack, obj) -> None:
        self.unpack, self.obj = unpack, obj


def pack_saved(t):
    """What a node keeps for saved tensor ``t``: ``t`` itself, or its packed form under ``saved_tensors_hooks``."""
    hooks = STATE.saved_hooks
    if not hooks:
        return t
    pack, unpack = hooks[-1]
    return _Packed(unpack, pack(t))


def unpack_saved(x):
    """The tensor a node saved (running the unpack hook if it was packed)."""
    if type(x) is not _Packed:
        return x
    t = x.unpack(x.obj)
    if not isinstance(t, Tensor):
        raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor but got result of type {type(t).__name__}")
    return t


class FunctionCtx:
    """The ``ctx`` of a custom :class:`Function`: what forward saves for backward.

    ``needs_input_grad`` (one bool per argument) is set before ``forward`` runs.
    """

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors (or ``None``) for backward; ``saved_tensors`` checks they were not modified in place since."""
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is of type {type(t).__name__}")
        self._to_save = tensors

    @property
    def saved_tensors(self) -> tuple:
        node = self._node
        if node._freed:
            raise RuntimeError(FREED)
        saved = []
        for packed, ver in node._saved:
            t = unpack_saved(packed)
            if t is not None and t._version[0] != ver:
                raise version_error(t, ver, t._grad_fn.name() if t._grad_fn is not None else None)
            saved.append(t)
        return tuple(saved)

    def mark_dirty(self, *tensors) -> None:
        """Declare the tensors ``forward`` modified in place (they must be returned as outputs)."""
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        """Declare outputs that have no gradient (indices, masks): they don't require grad; backward gets zeros for them."""
        self._non_diff = tensors

    def set_materialize_grads(self, value: bool) -> None:
        """With ``False``, backward receives ``None`` (not zeros) for outputs that got no gradient."""
        self._materialize = bool(value)


class _FunctionNode(Node):
    """The node recorded by ``MyFunction.apply``; named ``MyFunctionBackward``."""

    __slots__ = ("ctx", "_saved")
    _fn = None

    def __getattr__(self, name: str):
        # as in PyTorch, where the node is the ctx: ``y.grad_fn.saved_tensors``, ``y.grad_fn.<attr set in forward>``
        if name == "ctx":
            raise AttributeError(name)
        return getattr(self.ctx, name)

    def apply(self, grads: list, graph: bool) -> tuple:
        ctx = self.ctx
        if self._freed and self._saved:
            raise RuntimeError(FREED)
        if getattr(ctx, "_materialize", True):
            grads = [zeros_like_meta(*self._meta[2 * i:2 * i + 2], graph) if g is None else g for i, g in enumerate(grads)]
        args = [g if graph or g is None else _new_tensor(g, False, None, 0) for g in grads]
        with _Toggle(graph):
            out = self._fn.backward(ctx, *args)
        if not isinstance(out, tuple):
            out = (out,)
        n = len(self.next_functions)
        if len(out) > n and all(o is None for o in out[n:]):
            out = out[:n]
        if len(out) != n:
            raise RuntimeError(f"function {type(self).__name__} returned an incorrect number of gradients (expected {n}, got {len(out)})")
        if graph:
            return out
        return tuple(handed_on(o._data) if isinstance(o, Tensor) else o for o in out)

    def release(self) -> None:
        self._freed = True


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs) -> None:
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(name + "Backward", (_FunctionNode,), {"__slots__": (), "_fn": cls})


class Function(metaclass=_FunctionMeta):
    """Base class of custom differentiable operations (PyTorch's ``torch.autograd.Function``).

    Define ``forward(ctx, *args)`` (or ``forward(*args)`` with ``setup_context(ctx, inputs, output)``)
    and ``backward(ctx, *grad_outputs)``, then call ``MyFunction.apply(*args)``. See the module
    docstring for an example.
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom autograd.Function to use it with "
                                  "backward mode AD.")

    vjp = backward
    setup_context = None

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` without recording, then link its outputs into the graph under one ``<Name>Backward`` node."""
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg for a in args)
        records = STATE.enabled and True in ctx.needs_input_grad
        with _Toggle(False):
            if cls.setup_context is not None and cls.setup_context is not Function.setup_context:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        if not records:
            return output
        outputs = output if isinstance(output, tuple) else (output,)
        node = cls._backward_cls()
        node.ctx = ctx
        ctx._node = node
        node.next_functions = counted(tuple(edge_of(a) if r else (None, 0) for a, r in zip(args, ctx.needs_input_grad)))
        node._meta = _meta_of(outputs)
        node._nout = len(outputs)
        node._uses = int(len(outputs) > 1)
        non_diff = {id(t) for t in getattr(ctx, "_non_diff", ())}
        dirty = {id(t) for t in getattr(ctx, "_dirty", ())}
        input_ids = {id(a) for a in args if isinstance(a, Tensor)}
        result = []
        for i, o in enumerate(outputs):
            if not isinstance(o, Tensor):
                result.append(o)
                continue
            if id(o) in dirty:
                if o._grad_fn is None and o._rg:
                    raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
                o._version[0] += 1  # as PyTorch: a dirty output's version moves once more when it is rebased on the node
            elif id(o) in input_ids:
                o = o.view_as(o)  # an input returned as is: the output is a new view of it
            if id(o) in non_diff:
                o._rg = False
            else:
                o._grad_fn, o._output_nr, o._rg = node, i, True
            result.append(o)
        node._saved = tuple((None, 0) if t is None else (pack_saved(t), t._version[0]) for t in getattr(ctx, "_to_save", ()))
        if STATE.anomaly:
            remember_stack(node)
        return tuple(result) if isinstance(output, tuple) else result[0]


def once_differentiable(fn):
    """Decorate a custom ``backward`` that cannot itself be differentiated.

    It runs without recording; under ``create_graph=True`` its results get a node that raises
    PyTorch's error if anything tries to differentiate through it again.
    """
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        graph = STATE.enabled
        with _Toggle(False):
            out = fn(ctx, *args)
        needing = [a for a in args if isinstance(a, Tensor) and a._rg]
        if not graph or not needing:
            return out
        return _delay_error(out, needing)
    return wrapper


class _DelayedError(Node):
    """Stands for the derivative of a once-differentiable backward: reaching it in a backward pass is an error."""

    __slots__ = ()

    def name(self) -> str:
        return "torch::autograd::Error"

    def apply(self, grads: list, graph: bool) -> tuple:
        raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")


def _delay_error(out, needing: list):
    single = not isinstance(out, tuple)
    outs = (out,) if single else out
    node = _DelayedError()
    node.next_functions = counted(tuple(edge_of(a) for a in needing))
    node._meta = _meta_of(outs)
    node._nout = len(outs)
    node._uses = int(len(outs) > 1)
    wrapped = tuple(_new_tensor(o._data, True, node, k) if isinstance(o, Tensor) else o for k, o in enumerate(outs))
    return wrapped[0] if single else wrapped
