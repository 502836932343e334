"""Tensor: a NumPy array plus what autograd needs (requires_grad, grad_fn, grad, version).

Storage is ``_data``, a NumPy array (views of a tensor are NumPy views and share ``_version``,
the in-place counter). Metadata comes straight from the array. Math lives in ``flambeau.ops``:
each op module attaches its Tensor methods and operator dunders (``__add__`` is ``ops.elementwise.add``),
so an op and its method sit side by side and a dunder costs no extra call.

>>> import flambeau as torch
>>> x = torch.tensor([1., 2., 3.], requires_grad=True)
>>> y = x + 2
>>> y
tensor([3., 4., 5.], grad_fn=<AddBackward0>)
"""

from __future__ import annotations

import re
import warnings
import weakref

import numpy as np
from numpy import array as _np_array  # np.<name> is looked up anew on every use (NumPy's module has a __getattr__)

from . import _dtype
from ._dtype import FROM_NP

__all__ = ["Tensor", "is_tensor", "from_numpy", "Size", "numel"]

_object_new = object.__new__

#: ``Tensor._rg`` of a tensor computed only from forward-AD dual tensors: truthy, so the graph that carries its tangent is
#: recorded, yet it reports ``requires_grad=False`` and no ``grad_fn``, as PyTorch's dual tensors do.
DUAL = 2

NON_LEAF_GRAD = ("The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute won't be "
                 "populated during autograd.backward(). If you indeed want the .grad field to be populated for a non-leaf Tensor, "
                 "use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure you access the "
                 "leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 for more information.")


class Size(tuple):
    """A tensor's shape: a tuple that prints as ``flambeau.Size([2, 3])``."""

    def __repr__(self) -> str:
        return f"flambeau.Size([{', '.join(map(str, self))}])"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


class Tensor:
    """A multi-dimensional array that can record the operations applied to it.

    >>> import flambeau as torch
    >>> t = torch.tensor([[1, 2], [3, 4]])
    >>> t.shape, t.dtype
    (flambeau.Size([2, 2]), flambeau.int64)
    """

    __slots__ = ("_data", "_rg", "_grad_fn", "_output_nr", "_grad", "_version", "__dict__", "__weakref__")
    __array_ufunc__ = None  # NumPy defers to Tensor's reflected operators: ndarray * Tensor -> Tensor
    # rarely-set state lives in __dict__, with these class-level defaults:
    _base = None
    _leaf_edge = None  # (AccumulateGrad, 0), once the leaf is first used by a recorded op
    _hooks = None
    _post_acc_hooks = None
    _retains_grad = False

    def __new__(cls, *args) -> Tensor:
        # Legacy constructor: Tensor([1, 2]) or Tensor(2, 3) make float tensors.
        if len(args) == 1 and not isinstance(args[0], int):
            data = np.array(args[0].tolist() if isinstance(args[0], Tensor) else args[0], dtype=_dtype.DEFAULTS.float.np)
        else:
            data = np.zeros(tuple(args), dtype=_dtype.DEFAULTS.float.np)
        return _new_tensor(data, False, None, 0, cls)

    # ---- metadata ---------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        """The shape, or the length of dimension ``dim``."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self) -> _dtype.dtype:
        return FROM_NP[self._data.dtype]

    @property
    def device(self) -> device:
        return CPU

    is_cuda = False
    is_sparse = False
    is_quantized = False
    is_meta = False
    layout = "flambeau.strided"

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def is_floating_point(self) -> bool:
        """Whether the dtype is a floating-point one (also ``torch.is_floating_point(x)``).

        >>> import flambeau as torch
        >>> torch.is_floating_point(torch.ones(1)), torch.arange(2).is_floating_point()
        (True, False)
        """
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        """``False``: flambeau has no complex dtypes (also ``torch.is_complex(x)``)."""
        return False

    def is_signed(self) -> bool:
        """Whether the dtype holds negative values (every dtype but ``uint8`` and ``bool``)."""
        return self._data.dtype.kind not in "ub"

    def is_nonzero(self) -> bool:
        """Whether this one-element tensor is non-zero (an error for any other number of elements, as in PyTorch; also
        ``torch.is_nonzero(x)``)."""
        n = self._data.size
        if n != 1:
            raise RuntimeError(f"Boolean value of Tensor with {'no values' if n == 0 else 'more than one value'} is ambiguous")
        return bool(self._data.reshape(()) != 0)

    def cpu(self, memory_format=None) -> Tensor:
        """This tensor itself: flambeau's tensors always live in CPU memory (as PyTorch returns a CPU tensor unchanged).

        >>> import flambeau as torch
        >>> x = torch.ones(2)
        >>> x.cpu() is x
        True
        """
        return self

    is_cpu = True

    def get_device(self) -> int:
        """``-1``: the device index PyTorch gives CPU tensors."""
        return -1

    def type_as(self, other: Tensor) -> Tensor:
        """This tensor in ``other``'s dtype (itself when the dtypes already agree)."""
        return self.to(other.dtype)

    def type(self, dtype=None):
        """Without arguments, the type name (``'flambeau.FloatTensor'``); with a dtype, a converted tensor."""
        if dtype is None:
            return "flambeau." + FROM_NP[self._data.dtype]._tensor_type
        return self.to(dtype)

    def stride(self, dim: int | None = None):
        """Strides in elements, as PyTorch reports them."""
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim)]

    def is_contiguous(self, memory_format=None) -> bool:
        return self._data.flags.c_contiguous

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0]

    # ---- autograd state -------------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        rg = self._rg
        return bool(rg) and rg != DUAL

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Start (or stop) recording operations on this leaf tensor, in place.

        >>> import flambeau as torch
        >>> torch.ones(2).requires_grad_().requires_grad
        True
        """
        if self._grad_fn is not None:
            if not requires_grad:
                raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to use a computed "
                                   "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().")
            return self
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self._rg = bool(requires_grad)
        return self

    @property
    def grad_fn(self):
        return None if self._rg == DUAL else self._grad_fn

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None or self._rg == DUAL

    @property
    def output_nr(self) -> int:
        return self._output_nr

    @property
    def grad(self) -> Tensor | None:
        if self._grad_fn is not None and not self._retains_grad:
            warnings.warn(nonleaf_grad_warning(self), UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor of size "
                                   f"'{list(self.shape)}'. Please ensure that the gradient and the tensor are the same size")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(f"attempting to assign a gradient with dtype '{_c_name(value._data.dtype)}' to a tensor with "
                                   f"grad_dtype '{FROM_NP[self._data.dtype]._tensor_type[:-6]}'. The gradient must match the "
                                   "tensor's grad_dtype (defaults to the tensor's dtype).")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def retain_grad(self) -> None:
        """Keep ``.grad`` of this non-leaf tensor after backward (leaves always keep theirs)."""
        if self._grad_fn is None:
            if not self._rg:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self._retains_grad:
            return
        self._retains_grad = True
        ref = weakref.ref(self)

        def keep(g):
            t = ref()
            if t is not None:
                t._grad = g.detach() if t._grad is None else t._grad + g.detach()
        self._grad_fn._tensor_hook(self._output_nr, keep)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a replacement.

        >>> import flambeau as torch
        >>> x = torch.ones(2, requires_grad=True)
        >>> h = x.register_hook(lambda g: g * 10)
        >>> x.sum().backward(); x.grad
        tensor([10., 10.])
        """
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            return self._grad_fn._tensor_hook(self._output_nr, hook)
        if self._hooks is None:
            self._hooks = _HookList()
        return _Handle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` after a gradient has been accumulated into this leaf's ``.grad``."""
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._post_acc_hooks is None:
            self._post_acc_hooks = _HookList()
        return _Handle(self._post_acc_hooks, hook)

    def backward(self, gradient: Tensor | None = None, retain_graph: bool | None = None, create_graph: bool = False,
                 inputs=None) -> None:
        """Compute the gradient of this tensor w.r.t. the graph leaves, accumulating into their ``.grad``.

        >>> import flambeau as torch
        >>> x = torch.tensor([1., 2., 3.], requires_grad=True)
        >>> (3 * (x + 2) ** 2).mean().backward()
        >>> x.grad
        tensor([ 6.,  8., 10.])
        """
        if self._rg == DUAL:  # computed only from forward-AD dual tensors: nothing here requires grad
            from .autograd.pitfalls import no_grad_root_error
            raise no_grad_root_error(self, 0)
        if gradient is None and inputs is None and not create_graph and self._grad_fn is not None and self._data.size == 1:
            # the common case, a scalar loss: straight to the engine
            d = self._data
            seed = _np_array(1, d.dtype) if not d.ndim else np.ones(d.shape, d.dtype)
            run_backward([(self._grad_fn, self._output_nr)], [seed], bool(retain_graph), False)
            return
        from .autograd import backward
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """A tensor sharing this one's data, outside the graph."""
        t = _new_tensor(self._data, False, None, 0)
        t._version = self._version
        return t

    def detach_(self) -> Tensor:
        """Take this tensor out of the graph, in place (it becomes a leaf)."""
        self._grad_fn = None
        self._rg = False
        return self

    @property
    def data(self) -> Tensor:
        return self.detach()

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = value._data

    @property
    def _version_number(self) -> int:
        return self._version[0]

    # ---- conversions ------------------------------------------------------------------------------
    def item(self):
        """The single value of this tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The NumPy array behind this tensor (shared memory)."""
        if self._rg and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        if self._rg:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._data if dtype is None else self._data.astype(dtype, copy=False)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data)

    def __float__(self) -> float:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return float(self._data.reshape(()))

    def __int__(self) -> int:
        if self._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(self._data.reshape(()))

    def __index__(self) -> int:
        if self._data.size != 1 or self._data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.reshape(()))

    def __complex__(self) -> complex:
        return complex(self.item())

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return self._data.item().__format__(spec)
        return object.__format__(self, spec)

    def __repr__(self) -> str:
        from ._tensor_str import tensor_repr
        return tensor_repr(self)

    __str__ = __repr__

    def __hash__(self) -> int:
        return id(self)

    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol at the moment. "
                               "If you were attempting to deepcopy a module, this may be because of a torch.nn.utils.weight_norm usage, "
                               "see https://github.com/pytorch/pytorch/pull/103001")
        t = _new_tensor(self._data.copy(), self._rg, None, 0, type(self))
        if self._grad is not None:
            t._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = t
        return t

    def __reduce_ex__(self, proto):
        return (_rebuild, (self._data, self._rg))


def _rebuild(data, rg):
    return _new_tensor(data, rg, None, 0)


class device:
    """A device description; flambeau computes on the CPU."""

    __slots__ = ("type", "index")

    def __init__(self, type: str | device = "cpu", index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index
        name = type.split(":")[0]
        if name != "cpu":
            raise NotImplementedError(f"device '{type}': flambeau runs on the CPU only")
        self.type, self.index = "cpu", index

    def __eq__(self, other) -> bool:
        return isinstance(other, device | str) and str(self) == str(device(other) if isinstance(other, str) else other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __repr__(self) -> str:
        return f"device(type='{self.type}')" if self.index is None else f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = device("cpu")


def check_device(dev) -> None:
    """Accept ``None``, ``'cpu'`` or a cpu device; refuse anything else with NotImplementedError."""
    if dev is not None and not isinstance(dev, device):
        device(str(dev))


# ---- construction (the hot path) ----------------------------------------------------------------

def _new_tensor(data: np.ndarray, rg: bool, grad_fn, nr: int, cls: type = Tensor) -> Tensor:
    t = _object_new(cls)
    t._data = data
    t._rg = rg
    t._grad_fn = grad_fn
    t._output_nr = nr
    t._grad = None
    t._version = [0]
    return t


def _wrap(array, requires_grad: bool = False) -> Tensor:
    """A leaf Tensor around a NumPy array (0-d results are kept as 0-d arrays)."""
    if type(array) is not np.ndarray:
        array = np.asarray(array)
    if array.dtype not in FROM_NP:
        _dtype.from_np(array.dtype)
    return _new_tensor(array, requires_grad, None, 0)


def edge_of(t: Tensor) -> tuple:
    """The graph edge a tensor stands for: its ``grad_fn`` and output slot, or its leaf's AccumulateGrad."""
    fn = t._grad_fn
    if fn is not None:
        return (fn, t._output_nr)
    e = t._leaf_edge
    if e is None:
        e = t._leaf_edge = (AccumulateGrad(t), 0)
    return e


def zeros_like_meta(shape: tuple, npdtype, graph: bool):
    z = np.zeros(shape, npdtype)
    return _new_tensor(z, False, None, 0) if graph else z


def is_tensor(obj) -> bool:
    """Whether ``obj`` is a flambeau Tensor."""
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    """The number of elements of ``input``."""
    return input._data.size


def clear_grads(params, set_to_none: bool = True) -> None:
    """Reset ``.grad`` of each tensor: to ``None``, or to zeros in place (what ``zero_grad`` does)."""
    for p in params:
        if p._grad is None:
            continue
        if set_to_none:
            p._grad = None
        else:
            p._grad._grad_fn = None
            p._grad._data[...] = 0


def dispatching(name: str, fn):
    """The top-level ``flambeau.<name>`` for an op that is also a Tensor method: a Tensor subclass that
    overrides the method (vmap's batched tensors) gets its own version; everything else runs ``fn``."""
    def function(input, *args, **kwargs):
        if type(input) is not Tensor and isinstance(input, Tensor):
            return getattr(input, name)(*args, **kwargs)
        return fn(input, *args, **kwargs)
    function.__name__, function.__qualname__, function.__doc__, function.__wrapped__ = name, name, fn.__doc__, fn
    return function


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array.

    >>> import numpy as np, flambeau as torch
    >>> a = np.zeros(2, dtype=np.float32); t = torch.from_numpy(a); a[0] = 5; t
    tensor([5., 0.])
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    return _wrap(array)


def _wrap_dim(dim: int, ndim: int) -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def _c_name(npdtype) -> str:
    return {"float64": "double", "float32": "float", "float16": "half", "int64": "long", "int32": "int", "int16": "short",
            "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}[str(npdtype)]


def tensor_type_name(t: Tensor) -> str:
    return tensor_type_name_np(t._data)


def tensor_type_name_np(data: np.ndarray) -> str:
    """``'flambeau.FloatTensor [2, 3]'``: how PyTorch names a tensor in error messages."""
    shape = ", ".join(map(str, data.shape))
    return f"flambeau.{FROM_NP[data.dtype]._tensor_type} [{shape}]"


def short_node_name(name: str) -> str:
    """``'AddBackward0'`` -> ``'Add'``, as version-counter errors name nodes."""
    return re.sub(r"Backward\d*$", "", name)


from .autograd.engine import run_backward  # noqa: E402
from .autograd.function import AccumulateGrad, _Handle, _HookList  # noqa: E402  (function.py builds on the helpers above)
from .autograd.pitfalls import nonleaf_grad_warning  # noqa: E402
