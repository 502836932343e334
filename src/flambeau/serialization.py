"""``flambeau.save`` / ``flambeau.load``: tensors and containers of them in a zip of ``.npy`` arrays plus a JSON layout.

Nothing is pickled, so loading an untrusted file runs no code. A file in PyTorch's pickle-based format
(a zip holding ``data.pkl``, or a bare pickle) is refused with ``pickle.UnpicklingError``: a pickle can
call any function (``os.system`` included) while it loads.

The archive holds ``flambeau/layout.json`` (the object tree; a tensor appears as ``{"tensor": i, ...}``)
and ``flambeau/tensors/i.npy`` per distinct tensor (saved with ``allow_pickle=False``).

>>> import io, flambeau as torch
>>> buf = io.BytesIO(); torch.save({"w": torch.ones(2), "step": 3}, buf); _ = buf.seek(0)
>>> torch.load(buf)
{'w': tensor([1., 1.]), 'step': 3}
"""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile
from collections import OrderedDict

import numpy as np

from . import _dtype
from ._tensor import Tensor, _wrap
from .nn.parameter import Parameter

__all__ = ["save", "load"]

_LAYOUT = "flambeau/layout.json"
_FORMAT = "flambeau-npz-json/1"


def _encode(obj, arrays: list, seen: dict):
    if isinstance(obj, Tensor):
        if id(obj) not in seen:
            seen[id(obj)] = len(arrays)
            arrays.append(obj._data)
        return {"tensor": seen[id(obj)], "requires_grad": obj.requires_grad, "parameter": isinstance(obj, Parameter)}
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind == "O":
            raise TypeError("flambeau.save cannot store NumPy object arrays")
        arrays.append(obj)
        return {"ndarray": len(arrays) - 1}
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, _dtype.dtype):
        return {"dtype": str(obj).split(".")[-1]}
    if isinstance(obj, dict):
        return {"dict": [[_encode(k, arrays, seen), _encode(v, arrays, seen)] for k, v in obj.items()],
                "ordered": isinstance(obj, OrderedDict)}
    if isinstance(obj, list | tuple):
        return {"list" if isinstance(obj, list) else "tuple": [_encode(v, arrays, seen) for v in obj]}
    raise TypeError(f"flambeau.save can store tensors, NumPy arrays, numbers, strings, None, dtypes and dicts/lists/tuples of them; "
                    f"got {type(obj).__name__}")


def save(obj, f, pickle_module=None, pickle_protocol: int = 2, _use_new_zipfile_serialization: bool = True) -> None:
    """Write ``obj`` (a tensor, a state dict, an optimizer state dict, nested containers) to a path or binary file object.

    >>> import io, flambeau as torch
    >>> buf = io.BytesIO(); torch.save(torch.nn.Linear(2, 1).state_dict(), buf); buf.tell() > 0
    True
    """
    arrays: list = []
    layout = {"format": _FORMAT, "root": _encode(obj, arrays, {})}
    with _opened(f, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as z:
        z.writestr(_LAYOUT, json.dumps(layout))
        for i, a in enumerate(arrays):
            buf = io.BytesIO()
            np.save(buf, a, allow_pickle=False)
            z.writestr(f"flambeau/tensors/{i}.npy", buf.getvalue())


def _decode(node, z: zipfile.ZipFile, cache: dict):
    if node is None or isinstance(node, bool | int | float | str):
        return node
    if not isinstance(node, dict):
        raise pickle.UnpicklingError(f"flambeau.load: malformed layout entry {node!r}")
    if "tensor" in node:
        i = int(node["tensor"])
        if i not in cache:
            t = _wrap(_array(z, i))
            if node.get("parameter"):
                t = Parameter(t, requires_grad=bool(node.get("requires_grad")))
            elif node.get("requires_grad"):
                t.requires_grad_(True)
            cache[i] = t
        return cache[i]
    if "ndarray" in node:
        return _array(z, int(node["ndarray"]))
    if "dtype" in node:
        return getattr(_dtype, str(node["dtype"]))
    if "dict" in node:
        items = [(_hashable(_decode(k, z, cache)), _decode(v, z, cache)) for k, v in node["dict"]]
        return OrderedDict(items) if node.get("ordered") else dict(items)
    if "list" in node:
        return [_decode(v, z, cache) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, z, cache) for v in node["tuple"])
    raise pickle.UnpicklingError(f"flambeau.load: malformed layout entry {node!r}")


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


def _array(z: zipfile.ZipFile, i: int) -> np.ndarray:
    with z.open(f"flambeau/tensors/{i}.npy") as fh:
        return np.load(io.BytesIO(fh.read()), allow_pickle=False)


_REFUSED = ("flambeau.load refuses {what}: unpickling can execute arbitrary code (for example a __reduce__ that calls os.system), "
            "so flambeau never unpickles. Re-save the data with flambeau.save (or export the tensors from PyTorch as NumPy arrays).")


def load(f, map_location=None, pickle_module=None, *, weights_only: bool | None = None, mmap: bool | None = None, **pickle_load_args):
    """Read what :func:`save` wrote. Pickle-based files (PyTorch's format) are refused with ``pickle.UnpicklingError``.

    >>> import io, flambeau as torch
    >>> buf = io.BytesIO(); torch.save([torch.arange(3)], buf); _ = buf.seek(0); torch.load(buf)
    [tensor([0, 1, 2])]
    """
    with _opened(f, "rb") as fh:
        data = fh.read()
    if not zipfile.is_zipfile(io.BytesIO(data)):
        what = "a pickle file" if data[:1] == b"\x80" else "a file that is not a flambeau archive"
        raise pickle.UnpicklingError(_REFUSED.format(what=what))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = set(z.namelist())
        if _LAYOUT not in names:
            what = "PyTorch's pickle-based archive (data.pkl)" if any(n.endswith("data.pkl") for n in names) else "a zip without a layout"
            raise pickle.UnpicklingError(_REFUSED.format(what=what))
        layout = json.loads(z.read(_LAYOUT))
        if layout.get("format") != _FORMAT:
            raise pickle.UnpicklingError(f"flambeau.load: unknown archive format {layout.get('format')!r}")
        return _decode(layout["root"], z, {})


class _opened:
    """Open a path, or pass a file object through without closing it."""

    def __init__(self, f, mode: str) -> None:
        self.f, self.mode, self.own = f, mode, isinstance(f, str | os.PathLike)

    def __enter__(self):
        self.fh = open(self.f, self.mode) if self.own else self.f
        return self.fh

    def __exit__(self, *exc) -> None:
        if self.own:
            self.fh.close()
